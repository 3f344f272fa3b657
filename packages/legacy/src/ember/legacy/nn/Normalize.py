import math

from .Module import Module
from .utils import clear


class Normalize(Module):
    """Each input vector (a row of a batch) divided by its ``p``-norm (``p = math.inf`` works);
    ``eps`` is added to the sum of powers (to the norm for p = inf)."""

    _lua_defaults = {"eps": 1e-10}

    def __init__(self, p, eps=1e-10):
        super(Normalize, self).__init__()
        if p <= 0:
            raise ValueError("Normalize: {}-norm not supported".format(p))
        self.p = p
        self.eps = eps

    def _flat(self, input):
        if input.dim() > 2:
            raise ValueError("Normalize: only 1-D inputs (or batches of them) are supported, got size {}"
                             .format(list(input.size())))
        return input.view(1, -1) if input.dim() == 1 else input

    def updateOutput(self, input):
        x = self._flat(input)
        if math.isinf(self.p):
            self.norm, self._indices = x.abs().max(1, keepdim=True)
            self.norm.add_(self.eps)
        else:
            powed = x.abs().pow(self.p) if self.p % 2 != 0 else x.pow(self.p)
            self.normp = powed.sum(1, keepdim=True).add_(self.eps)
            self.norm = self.normp.pow(1. / self.p)
        self.output = x.div(self.norm.expand_as(x)).view_as(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        x = self._flat(input)
        go = gradOutput.contiguous().view_as(x)
        n, d = x.size(0), x.size(1)
        if math.isinf(self.p):
            grad = go.mul(self.norm.expand(n, d))
            buffer = x.new().resize_as_(x).zero_()
            buffer.scatter_(1, self._indices, x.gather(1, self._indices).div_(self.norm))
            denom = self.norm.mul(self.norm)
        else:
            grad = go.mul(self.normp.expand(n, d))
            if self.p % 2 != 0:
                a = x.abs()
                if self.p < 2:
                    a.add_(self.eps)
                buffer = a.pow_(self.p - 2).mul_(x)
            elif self.p == 2:
                buffer = x.clone()
            else:
                buffer = x.pow(self.p - 2).mul_(x)
            denom = self.normp.mul(self.norm)
        cross = x.mul(go).sum(1, keepdim=True)
        grad.add_(-1, buffer.mul_(cross.expand_as(buffer)))
        grad.div_(denom.expand(n, d))
        self.gradInput = grad.view_as(input)
        return self.gradInput

    def __repr__(self):
        p = self.p
        return "nn.Normalize({})".format(int(p) if not math.isinf(p) and p % 1 == 0 else p)

    def type(self, type=None, tensorCache=None):
        if type is not None:
            self._indices = None
        return super(Normalize, self).type(type, tensorCache)

    def clearState(self):
        clear(self, "_output", "_indices", "_gradInput", "buffer", "norm", "normp", "cross", "buffer2")
        return super(Normalize, self).clearState()
