import math

import ember

from .Module import Module
from ._broadcast import param_grad, param_view


class CAdd(Module):
    """``y = x + b`` with a learned bias of the given size (``CAdd(1, 3, 1)``), broadcast over dimensions
    where it has size 1, or over a leading batch dimension when it has fewer dimensions than the input."""

    def __init__(self, *size):
        super(CAdd, self).__init__()
        if len(size) == 1 and isinstance(size[0], (ember.Size, tuple, list)):
            size = tuple(size[0])
        self.size = ember.Size(size)
        self.bias = ember.Tensor(self.size)
        self.gradBias = ember.Tensor(self.size)
        self.reset()

    def reset(self, stdv=None):
        stdv = stdv * math.sqrt(3) if stdv is not None else 1. / math.sqrt(self.bias.numel())
        self.bias.uniform_(-stdv, stdv)
        return self

    def updateOutput(self, input):
        x, b = param_view(input, self.bias, "CAdd")
        self.output = x.add(b).view_as(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is not None:
            self.gradInput = gradOutput.clone()
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self.gradBias.add_(scale, param_grad(gradOutput.contiguous(), self.gradBias))
