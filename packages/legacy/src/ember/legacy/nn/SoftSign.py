from .Module import Module


class SoftSign(Module):
    """``y = x / (1 + |x|)``."""

    def updateOutput(self, input):
        self.output = input.div(input.abs().add_(1))
        return self.output

    def updateGradInput(self, input, gradOutput):
        d = input.abs().add_(1)
        self.gradInput = gradOutput.div(d.mul_(d))
        return self.gradInput
