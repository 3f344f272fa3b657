from .Module import Module


class Threshold(Module):
    """``y = x if x > threshold else value``; ``inplace=True`` writes into the input."""

    _lua_defaults = {"threshold": 0, "value": 0, "inplace": False}
    _lua_renames = {"val": "value"}

    def __init__(self, threshold=0, value=0, inplace=False):
        super(Threshold, self).__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace
        self._validateParameters()

    def _validateParameters(self):
        if self.inplace and self.value > self.threshold:
            raise RuntimeError("{}: in-place processing requires value ({}) not to exceed threshold ({})"
                               .format(type(self).__name__, self.value, self.threshold))

    def updateOutput(self, input):
        mask = input.le(self.threshold)
        if self.inplace:
            self.output = input.masked_fill_(mask, self.value)
        else:
            self.output = input.clone().masked_fill_(mask, self.value)
        return self.output

    def updateGradInput(self, input, gradOutput):
        # after an in-place forward the input holds the output: its kept elements are still > threshold
        mask = input.le(self.threshold)
        if self.inplace:
            self.gradInput = gradOutput.masked_fill_(mask, 0)
        else:
            self.gradInput = gradOutput.clone().masked_fill_(mask, 0)
        return self.gradInput
