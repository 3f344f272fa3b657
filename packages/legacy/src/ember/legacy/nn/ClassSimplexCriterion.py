import math

import ember
from ember import kernels

from .ClassNLLCriterion import class_target
from .MSECriterion import MSECriterion


def _regular_simplex(n):
    """(n + 1) x n: the vertices of a regular simplex centred at the origin, each of norm 1."""
    a = ember.DoubleTensor(n + 1, n).zero_()
    for k in range(n):
        if k == 0:
            a[k][k] = 1
        else:
            a[k][k] = math.sqrt(1 - a[k].narrow(0, 0, k).norm() ** 2)
        c = (a[k][k] ** 2 - 1 - 1. / n) / a[k][k]
        a.narrow(0, k + 1, n - k).select(1, k).fill_(c)
    return a


class ClassSimplexCriterion(MSECriterion):
    """MSE between the input (N x nClasses) and the embedding of each (0-based) target class: the vertices of
    a regular simplex, padded with a zero column to nClasses dimensions (Sermanet et al., arXiv:1506.08230)."""

    def __init__(self, nClasses):
        super(ClassSimplexCriterion, self).__init__()
        if not isinstance(nClasses, int) or nClasses < 2:
            raise ValueError("ClassSimplexCriterion: nClasses must be an integer > 1, got {!r}".format(nClasses))
        self.nClasses = nClasses
        simplex = _regular_simplex(nClasses - 1)
        pad = ember.DoubleTensor(simplex.size(0), nClasses - simplex.size(1)).zero_()
        self.simplex = ember.cat([simplex, pad], 1).type(ember.Tensor().type())
        self._target = None

    def _embed(self, input, target):
        simplex = self.simplex if type(self.simplex) is type(input) else self.simplex.type(input.type())
        if isinstance(target, (int, float)):
            self._target = simplex[int(target)].clone()
        else:
            t = class_target(target, input)
            if t.dim() != 1:
                raise ValueError("ClassSimplexCriterion: expected a 1-D target, got size {}".format(list(t.size())))
            self._target = simplex.index_select(0, t)
        if self._target.numel() != input.numel():
            raise ValueError("ClassSimplexCriterion: input of size {} for {} targets of {} classes"
                             .format(list(input.size()), self._target.size(0) if self._target.dim() > 1 else 1,
                                     self.nClasses))
        return self._target.view_as(input)

    def updateOutput(self, input, target):
        self.output_tensor = kernels.mse_loss_forward(input, self._embed(input, target), self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.mse_loss_backward(1, input, self._target.view_as(input), self.sizeAverage)
        return self.gradInput

    def getPredictions(self, input):
        if input.dim() == 1:
            input = input.view(1, -1)
        return input.mm(self.simplex.type(input.type()).t())

    def getTopPrediction(self, input):
        prod = self.getPredictions(input)
        return prod.max(prod.dim() - 1)[1].view(-1)
