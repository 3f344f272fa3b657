import math

import ember

from .Module import Module


class Mul(Module):
    """``y = w * x`` with a single learned factor ``w``."""

    def __init__(self):
        super(Mul, self).__init__()
        self.weight = ember.Tensor(1)
        self.gradWeight = ember.Tensor(1)
        self.reset()

    def reset(self, stdv=None):
        stdv = stdv * math.sqrt(3) if stdv is not None else 1. / math.sqrt(self.weight.size(0))
        self.weight.uniform_(-stdv, stdv)
        return self

    def updateOutput(self, input):
        self.output = input.mul(self.weight[0])
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is not None:
            self.gradInput = gradOutput.mul(self.weight[0])
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self.gradWeight[0] = self.gradWeight[0] + scale * input.contiguous().view(-1).dot(
            gradOutput.contiguous().view(-1))
