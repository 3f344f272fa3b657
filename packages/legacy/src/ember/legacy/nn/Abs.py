from .Module import Module


class Abs(Module):

    def updateOutput(self, input):
        self.output = input.abs()
        return self.output

    def updateGradInput(self, input, gradOutput):
        # THNN's sign: +1 at 0
        sign = input.ge(0).type_as(gradOutput).mul_(2).add_(-1)
        self.gradInput = sign.mul_(gradOutput)
        return self.gradInput
