from .Module import Module


class Square(Module):

    def updateOutput(self, input):
        self.output = input.mul(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = input.mul(gradOutput).mul_(2)
        return self.gradInput
