import ember.kernels as K

from .Module import Module
from ._helpers import check_dims
from .utils import clear


class SpatialCrossMapLRN(Module):
    """Local response normalisation across feature planes (AlexNet's): with ``pre = (size - 1) // 2``,
    ``scale[c] = k + alpha / size * sum(input[j] ** 2)`` over planes ``j = c - pre ... c - pre + size - 1``,
    and ``output[c] = input[c] * scale[c] ** -beta``."""

    def __init__(self, size, alpha=0.0001, beta=0.75, k=1):
        super(SpatialCrossMapLRN, self).__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k
        self.scale = None

    def updateOutput(self, input):
        check_dims(self, input, (3, 4))
        self.output, self.scale = K.cross_map_lrn_forward(input, self.size, self.alpha, self.beta, self.k)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.cross_map_lrn_backward(gradOutput, input, self.output, self.scale, self.size, self.alpha,
                                                  self.beta)
        return self.gradInput

    def clearState(self):
        clear(self, "scale", "paddedRatio", "accumRatio")
        return super(SpatialCrossMapLRN, self).clearState()
