from .Module import Module


class HardTanh(Module):
    """``y = clamp(x, min_value, max_value)``; the gradient passes where ``min_value < x < max_value``."""

    _lua_defaults = {"min_val": -1, "max_val": 1, "inplace": False}

    def __init__(self, min_value=-1, max_value=1, inplace=False):
        super(HardTanh, self).__init__()
        if max_value <= min_value:
            raise ValueError("{}: max_value ({}) must be larger than min_value ({})"
                             .format(type(self).__name__, max_value, min_value))
        self.min_val = min_value
        self.max_val = max_value
        self.inplace = inplace

    def updateOutput(self, input):
        if self.inplace:
            self.output = input.clamp_(self.min_val, self.max_val)
        else:
            self.output = input.clamp(self.min_val, self.max_val)
        return self.output

    def updateGradInput(self, input, gradOutput):
        mask = input.le(self.min_val).add_(input.ge(self.max_val))
        if self.inplace:
            self.gradInput = gradOutput.masked_fill_(mask, 0)
        else:
            self.gradInput = gradOutput.clone().masked_fill_(mask, 0)
        return self.gradInput
