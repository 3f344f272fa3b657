import math

import ember

from .Module import Module
from .utils import clear


class Bilinear(Module):
    """``y_k = x1^T W_k x2 + b_k`` for a pair of matrices ``[x1 (batch x inputSize1), x2 (batch x
    inputSize2)]``."""

    def __init__(self, inputSize1, inputSize2, outputSize, bias=True):
        super(Bilinear, self).__init__()
        for n, v in (("inputSize1", inputSize1), ("inputSize2", inputSize2), ("outputSize", outputSize)):
            if not isinstance(v, int) or v <= 0:
                raise ValueError("Bilinear: {} should be a positive integer, got {!r}".format(n, v))
        self.weight = ember.Tensor(outputSize, inputSize1, inputSize2)
        self.gradWeight = ember.Tensor(outputSize, inputSize1, inputSize2)
        self.bias = ember.Tensor(outputSize) if bias else None
        self.gradBias = ember.Tensor(outputSize) if bias else None
        self.gradInput = [ember.Tensor(), ember.Tensor()]
        self.reset()

    def reset(self, stdv=None):
        if stdv is not None:
            if stdv <= 0:
                raise ValueError("Bilinear: standard deviation should be positive, got {}".format(stdv))
            stdv = stdv * math.sqrt(3)
        else:
            stdv = 1. / math.sqrt(self.weight.size(1))
        self.weight.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.uniform_(-stdv, stdv)
        return self

    def _check(self, input, gradOutput=None):
        if not isinstance(input, (list, tuple)) or len(input) != 2:
            raise ValueError("Bilinear: input should be a list of two tensors")
        a, b = input
        if a.dim() != 2 or b.dim() != 2:
            raise ValueError("Bilinear: input tensors should be two-dimensional, got sizes {} and {}"
                             .format(list(a.size()), list(b.size())))
        if a.size(0) != b.size(0):
            raise ValueError("Bilinear: input tensors should have the same number of rows, got {} and {}"
                             .format(a.size(0), b.size(0)))
        if a.size(1) != self.weight.size(1) or b.size(1) != self.weight.size(2):
            raise ValueError("Bilinear: inputs of sizes {} and {} don't match the weight's size {}"
                             .format(list(a.size()), list(b.size()), list(self.weight.size())))
        if gradOutput is not None and (gradOutput.size(0) != a.size(0) or gradOutput.size(1) != self.weight.size(0)):
            raise ValueError("Bilinear: gradOutput of size {} doesn't match the output size {}"
                             .format(list(gradOutput.size()), [a.size(0), self.weight.size(0)]))

    def updateOutput(self, input):
        self._check(input)
        a, b = input
        out = a.new(a.size(0), self.weight.size(0))
        for k in range(self.weight.size(0)):
            # sum_j (x1 W_k)_j * x2_j, row by row
            out.select(1, k).copy_(a.mm(self.weight[k]).mul_(b).sum(1))
        if getattr(self, "bias", None) is not None:
            out.add_(self.bias.view(1, -1).expand_as(out))
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self._check(input, gradOutput)
        a, b = input
        ga = a.new().resize_as_(a).zero_()
        gb = b.new().resize_as_(b).zero_()
        for k in range(self.weight.size(0)):
            g = gradOutput.narrow(1, k, 1)
            ga.add_(b.mm(self.weight[k].t()).mul_(g.expand_as(a)))
            gb.add_(a.mm(self.weight[k]).mul_(g.expand_as(b)))
        self.gradInput = [ga, gb]
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._check(input, gradOutput)
        a, b = input
        for k in range(self.weight.size(0)):
            scaled = a.mul(gradOutput.narrow(1, k, 1).expand_as(a))
            self.gradWeight[k].addmm_(1, scale, scaled.t(), b)
        if getattr(self, "bias", None) is not None:
            self.gradBias.add_(scale, gradOutput.sum(0))

    def clearState(self):
        clear(self, "buff1", "buff2")
        return super(Bilinear, self).clearState()

    def __repr__(self):
        return "nn.Bilinear({}x{} -> {}){}".format(self.weight.size(1), self.weight.size(2), self.weight.size(0),
                                                   " without bias" if getattr(self, "bias", None) is None else "")
