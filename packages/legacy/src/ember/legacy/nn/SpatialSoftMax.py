import ember.kernels as K

from .Module import Module
from ._helpers import check_dims


class SpatialSoftMax(Module):
    """Softmax over the feature planes at each pixel: over dim 0 of ``C x H x W`` (and of a vector), dim 1 of
    ``N x C x H x W`` (and of a matrix)."""

    @staticmethod
    def _dim(input):
        return 0 if input.dim() in (1, 3) else 1

    def updateOutput(self, input):
        check_dims(self, input, (1, 2, 3, 4))
        self.output = K.softmax_forward(input, self._dim(input))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.softmax_backward(gradOutput, self.output, self._dim(input))
        return self.gradInput
