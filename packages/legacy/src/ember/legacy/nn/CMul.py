import math

import ember

from .Module import Module
from ._broadcast import param_grad, param_view


class CMul(Module):
    """``y = x * w`` (elementwise) with a learned weight of the given size (``CMul(1, 3, 1)``), broadcast
    over dimensions where it has size 1, or over a leading batch dimension when it has fewer dimensions
    than the input."""

    def __init__(self, *size):
        super(CMul, self).__init__()
        if len(size) == 1 and isinstance(size[0], (ember.Size, tuple, list)):
            size = tuple(size[0])
        self.size = ember.Size(size)
        self.weight = ember.Tensor(self.size)
        self.gradWeight = ember.Tensor(self.size)
        self.reset()

    def reset(self, stdv=None):
        stdv = stdv * math.sqrt(3) if stdv is not None else 1. / math.sqrt(self.weight.numel())
        self.weight.uniform_(-stdv, stdv)
        return self

    def updateOutput(self, input):
        x, w = param_view(input, self.weight, "CMul")
        self.output = x.mul(w).view_as(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        g, w = param_view(gradOutput, self.weight, "CMul")
        self.gradInput = g.mul(w).view_as(input)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        prod = input.contiguous().view_as(gradOutput).mul(gradOutput)
        self.gradWeight.add_(scale, param_grad(prod, self.gradWeight))
