import ember

from .Module import Module
from .Sequential import Sequential
from .SpatialDivisiveNormalization import SpatialDivisiveNormalization
from .SpatialSubtractiveNormalization import SpatialSubtractiveNormalization
from ._helpers import check_normalization_kernel


class SpatialContrastiveNormalization(Module):
    """:class:`SpatialSubtractiveNormalization` followed by :class:`SpatialDivisiveNormalization`, with one
    ``kernel`` (default 9 x 9 ones), ``threshold`` and ``thresval``."""

    def __init__(self, nInputPlane=1, kernel=None, threshold=1e-4, thresval=1e-4):
        super(SpatialContrastiveNormalization, self).__init__()
        self.nInputPlane = nInputPlane
        self.kernel = kernel if kernel is not None else ember.Tensor(9, 9).fill_(1)
        self.threshold = threshold
        self.thresval = thresval
        check_normalization_kernel(self, self.kernel)
        self.normalizer = Sequential()
        self.normalizer.add(SpatialSubtractiveNormalization(nInputPlane, self.kernel))
        self.normalizer.add(SpatialDivisiveNormalization(nInputPlane, self.kernel, threshold, thresval))

    def updateOutput(self, input):
        self.output = self.normalizer.forward(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = self.normalizer.backward(input, gradOutput)
        return self.gradInput

    def clearState(self):
        self.normalizer.clearState()
        return super(SpatialContrastiveNormalization, self).clearState()
