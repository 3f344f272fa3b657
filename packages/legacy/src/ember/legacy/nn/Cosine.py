import math

import ember

from .Module import Module


class Cosine(Module):
    """``y_j = (w_j . x) / (|w_j| |x|)``: the cosine similarity of the input (inputSize, or batch x
    inputSize) with each row of the ``outputSize x inputSize`` weight (norms get 1e-12 added, as nn)."""

    def __init__(self, inputSize, outputSize):
        super(Cosine, self).__init__()
        self.weight = ember.Tensor(outputSize, inputSize)
        self.gradWeight = ember.Tensor(outputSize, inputSize)
        self.reset()

    def reset(self, stdv=None):
        stdv = stdv * math.sqrt(3) if stdv is not None else 1. / math.sqrt(self.weight.size(0))
        self.weight.uniform_(-stdv, stdv)
        return self

    def _batch(self, input):
        n_in = self.weight.size(1)
        if input.dim() not in (1, 2) or input.size(input.dim() - 1) != n_in:
            raise ValueError("Cosine: expected an input of size {} or batch x {}, got {}"
                             .format(n_in, n_in, list(input.size())))
        return input.contiguous().view(-1, n_in)

    def updateOutput(self, input):
        x = self._batch(input)
        self._weightNorm = self.weight.norm(2, 1, keepdim=True).add_(1e-12)   # outputSize x 1
        self._inputNorm = x.norm(2, 1, keepdim=True).add_(1e-12)              # batch x 1
        out = x.mm(self.weight.t())
        out.div_(self._weightNorm.view(1, -1).expand_as(out)).div_(self._inputNorm.expand_as(out))
        self.output = out.view(-1) if input.dim() == 1 else out
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        # dy_j/dx = w_j / (|w_j| |x|) - y_j x / |x|^2
        x = self._batch(input)
        go = gradOutput.contiguous().view(x.size(0), -1)
        out = self.output.contiguous().view_as(go)
        inorm = self._inputNorm.expand_as(x)
        g = x.div(inorm).mul_(go.mul(out).sum(1, keepdim=True).expand_as(x))
        g = go.div(self._weightNorm.view(1, -1).expand_as(go)).mm(self.weight).sub_(g).div_(inorm)
        self.gradInput = g.view_as(input)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        # dy_j/dw_j = x / (|w_j| |x|) - y_j w_j / |w_j|^2
        x = self._batch(input)
        go = gradOutput.contiguous().view(x.size(0), -1)
        out = self.output.contiguous().view_as(go)
        wnorm = self._weightNorm.expand_as(self.weight)
        g = self.weight.mul(go.mul(out).sum(0).view(-1, 1).div(self._weightNorm).expand_as(self.weight))
        g = go.t().mm(x.div(self._inputNorm.expand_as(x))).sub_(g).div_(wnorm)
        self.gradWeight.add_(scale, g)

    def type(self, type=None, tensorCache=None):
        if type is not None:
            self.__dict__.pop("_weightNorm", None)
            self.__dict__.pop("_inputNorm", None)
        return super(Cosine, self).type(type, tensorCache)
