from .Module import Module


class L1Penalty(Module):
    """The identity in the forward pass, recording the penalty ``l1weight * |x|_1`` (divided by the number
    of elements with ``sizeAverage``) in ``self.loss``; backward adds its gradient ``l1weight * sign(x)``
    to the incoming gradient (or returns it alone when ``provideOutput=False``)."""

    _lua_defaults = {"sizeAverage": False, "provideOutput": True}

    def __init__(self, l1weight, sizeAverage=False, provideOutput=True):
        super(L1Penalty, self).__init__()
        self.l1weight = l1weight
        self.sizeAverage = sizeAverage
        self.provideOutput = provideOutput

    def _weight(self, input):
        return self.l1weight / input.numel() if self.sizeAverage else self.l1weight

    def updateOutput(self, input):
        self.loss = self._weight(input) * input.norm(1)
        self.output = input
        return self.output

    def updateGradInput(self, input, gradOutput):
        grad = input.sign().mul_(self._weight(input))
        if self.provideOutput:
            grad.add_(gradOutput)
        self.gradInput = grad
        return grad
