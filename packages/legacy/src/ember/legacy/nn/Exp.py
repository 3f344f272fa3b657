from .Module import Module


class Exp(Module):

    def updateOutput(self, input):
        self.output = input.exp()
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = self.output.mul(gradOutput)
        return self.gradInput
