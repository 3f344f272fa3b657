import ember

from .Euclidean import Euclidean


class WeightedEuclidean(Euclidean):
    """``y_j = || c_j * (x - w_j) ||``: :class:`Euclidean` with a learned diagonal scaling ``diagCov``
    per template (a second parameter, initialised to 1)."""

    def __init__(self, inputSize, outputSize):
        self.diagCov = ember.Tensor(inputSize, outputSize)
        self.gradDiagCov = ember.Tensor(inputSize, outputSize)
        super(WeightedEuclidean, self).__init__(inputSize, outputSize)

    def reset(self, stdv=None):
        super(WeightedEuclidean, self).reset(stdv)
        self.diagCov.fill_(1)
        return self

    def _scale(self):
        return self.diagCov

    def parameters(self):
        return [self.weight, self.diagCov], [self.gradWeight, self.gradDiagCov]

    def accGradParameters(self, input, gradOutput, scale=1):
        super(WeightedEuclidean, self).accGradParameters(input, gradOutput, scale)
        # dy_j/dc_j = c_j (x - w_j)^2 / y_j
        n_in, n_out = self.weight.size(0), self.weight.size(1)
        c = self.diagCov.view(1, n_in, n_out).expand_as(self._repeat)
        d = self._repeat.div(c)
        g = d.mul_(d).mul_(c).mul_(self._expand4)
        self.gradDiagCov.add_(scale, g.sum(0))

    def accUpdateGradParameters(self, input, gradOutput, lr):
        gradWeight, gradDiagCov = self.gradWeight, self.gradDiagCov
        self.gradWeight, self.gradDiagCov = self.weight, self.diagCov
        try:
            self.accGradParameters(input, gradOutput, -lr)
        finally:
            self.gradWeight, self.gradDiagCov = gradWeight, gradDiagCov
