from .Module import Module


class HardShrink(Module):
    """``y = x if |x| > lambd else 0``."""

    _lua_defaults = {"lambd": 0.5}
    _lua_renames = {"lambda": "lambd"}

    def __init__(self, lambd=0.5):
        super(HardShrink, self).__init__()
        self.lambd = lambd

    def _dead(self, input):
        return input.le(self.lambd).mul_(input.ge(-self.lambd))

    def updateOutput(self, input):
        self.output = input.clone().masked_fill_(self._dead(input), 0)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.clone().masked_fill_(self._dead(input), 0)
        return self.gradInput
