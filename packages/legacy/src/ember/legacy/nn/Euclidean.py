import math

import ember

from .Module import Module


class Euclidean(Module):
    """``y_j = || x - w_j ||``: the distance of the input (inputSize, or batch x inputSize) to each of
    ``outputSize`` learned templates (the columns of the ``inputSize x outputSize`` weight)."""

    def __init__(self, inputSize, outputSize):
        super(Euclidean, self).__init__()
        self.weight = ember.Tensor(inputSize, outputSize)
        self.gradWeight = ember.Tensor(inputSize, outputSize)
        self.fastBackward = True
        self.reset()

    def reset(self, stdv=None):
        stdv = stdv * math.sqrt(3) if stdv is not None else 1. / math.sqrt(self.weight.size(0))
        self.weight.uniform_(-stdv, stdv)
        return self

    def _scale(self):
        """The per-coordinate weighting of the difference (None: none)."""
        return None

    def _diff(self, input):
        """(x - w) scaled, as batch x inputSize x outputSize (batch 1 for a vector)."""
        n_in, n_out = self.weight.size(0), self.weight.size(1)
        if input.dim() not in (1, 2) or input.size(input.dim() - 1) != n_in:
            raise ValueError("{}: expected an input of size {} or batch x {}, got {}"
                             .format(type(self).__name__, n_in, n_in, list(input.size())))
        x = input.contiguous().view(-1, n_in, 1)
        diff = x.expand(x.size(0), n_in, n_out).clone().sub_(self.weight.view(1, n_in, n_out).expand(
            x.size(0), n_in, n_out))
        c = self._scale()
        if c is not None:
            diff.mul_(c.view(1, n_in, n_out).expand_as(diff))
        return diff

    def updateOutput(self, input):
        self._repeat = self._diff(input)
        out = self._repeat.norm(2, 1)
        self.output = out.view(self.weight.size(1)) if input.dim() == 1 else out.view(-1, self.weight.size(1))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        if not getattr(self, "fastBackward", False):
            self.updateOutput(input)
        n_in, n_out = self.weight.size(0), self.weight.size(1)
        # dy_j/dx = c_j^2 (x - w_j) / y_j; 1e-7 keeps a zero distance from dividing by zero (as nn)
        div = gradOutput.contiguous().view(-1, 1, n_out).div(self.output.contiguous().view(-1, 1, n_out).add(1e-7))
        self._expand4 = div.expand_as(self._repeat)
        self._repeat2 = self._repeat.mul(self._expand4)
        c = self._scale()
        if c is not None:
            self._repeat2.mul_(c.view(1, n_in, n_out).expand_as(self._repeat2))
        self.gradInput = self._repeat2.sum(2).view_as(input)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        # uses the buffers of the preceding updateGradInput
        self.gradWeight.add_(-scale, self._repeat2.sum(0))

    def clearState(self):
        for name in ("_repeat", "_repeat2", "_expand4"):
            self.__dict__.pop(name, None)
        return super(Euclidean, self).clearState()

    def type(self, type=None, tensorCache=None):
        if type is not None:
            for name in ("_repeat", "_repeat2", "_expand4"):
                self.__dict__.pop(name, None)
        return super(Euclidean, self).type(type, tensorCache)
