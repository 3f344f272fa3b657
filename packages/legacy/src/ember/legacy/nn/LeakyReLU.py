from .Module import Module


class LeakyReLU(Module):
    """``y = x if x > 0 else negval * x``."""

    _lua_defaults = {"negval": 1 / 100, "inplace": False}

    def __init__(self, negval=1 / 100, inplace=False):
        super(LeakyReLU, self).__init__()
        self.negval = negval
        self.inplace = inplace

    def _scale(self, input, like):
        # 1 where x > 0, negval elsewhere: x * scale is exactly THNN's x or x * negval
        return input.gt(0).type_as(like).mul_(1 - self.negval).add_(self.negval)

    def updateOutput(self, input):
        scale = self._scale(input, input)
        self.output = input.mul_(scale) if self.inplace else input.mul(scale)
        return self.output

    def updateGradInput(self, input, gradOutput):
        # after an in-place forward the input holds the output, which has the input's sign (negval > 0)
        scale = self._scale(input, gradOutput)
        self.gradInput = gradOutput.mul_(scale) if self.inplace else gradOutput.mul(scale)
        return self.gradInput
