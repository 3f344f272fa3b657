from .Module import Module
from .utils import clear


class RReLU(Module):
    """Randomized leaky ReLU (Xu et al., 2015): ``y = x`` for ``x > 0``, else ``a * x`` with ``a`` drawn
    uniformly from ``[lower, upper]`` per element in training, and ``(lower + upper) / 2`` in evaluation."""

    _lua_defaults = {"lower": 1. / 8, "upper": 1. / 3, "inplace": False}

    def __init__(self, lower=1. / 8, upper=1. / 3, inplace=False):
        super(RReLU, self).__init__()
        if not 0 <= lower <= upper:
            raise ValueError("RReLU: expected 0 <= lower <= upper, got lower={} and upper={}".format(lower, upper))
        self.lower = lower
        self.upper = upper
        self.inplace = inplace
        self.noise = self.output.new()

    def updateOutput(self, input):
        pos = input.gt(0)
        if self.train:
            noise = input.new().resize_as_(input).uniform_(self.lower, self.upper)
            noise.masked_fill_(pos, 1)
        else:
            noise = pos.type_as(input).mul_(1 - (self.lower + self.upper) / 2).add_((self.lower + self.upper) / 2)
        self.noise = noise
        self.output = input.mul_(noise) if self.inplace else input.mul(noise)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.mul_(self.noise) if self.inplace else gradOutput.mul(self.noise)
        return self.gradInput

    def __repr__(self):
        return "nn.RReLU ({:.4f}, {:.4f})".format(self.lower, self.upper)

    def clearState(self):
        clear(self, "noise")
        return super(RReLU, self).clearState()
