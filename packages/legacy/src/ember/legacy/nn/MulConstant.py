from .Module import Module


class MulConstant(Module):
    """``y = x * constant_scalar``."""

    _lua_defaults = {"inplace": False}

    def __init__(self, constant_scalar, inplace=False):
        super(MulConstant, self).__init__()
        self.constant_scalar = constant_scalar
        self.inplace = inplace

    def updateOutput(self, input):
        if self.inplace:
            self.output = input.mul_(self.constant_scalar)
        else:
            self.output = input.mul(self.constant_scalar)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.inplace:
            self.gradInput = gradOutput.mul_(self.constant_scalar)
            input.div_(self.constant_scalar)  # the input had been changed in place: restore it
        else:
            self.gradInput = gradOutput.mul(self.constant_scalar)
        return self.gradInput
