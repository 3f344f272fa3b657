from .Module import Module


class Power(Module):
    """``y = x ^ p``."""

    def __init__(self, p):
        super(Power, self).__init__()
        self.pow = p

    def updateOutput(self, input):
        self.output = input.pow(self.pow)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = input.pow(self.pow - 1).mul_(gradOutput).mul_(self.pow)
        return self.gradInput
