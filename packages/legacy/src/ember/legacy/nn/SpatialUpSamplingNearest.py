import numbers

import ember.kernels as K

from .Module import Module
from ._helpers import check_dims


class SpatialUpSamplingNearest(Module):
    """Nearest-neighbour upsampling of ``C x H x W`` images (or a batch) by the integer factor ``scale``:
    ``output[c][i][j] = input[c][i // scale][j // scale]``."""

    def __init__(self, scale):
        super(SpatialUpSamplingNearest, self).__init__()
        if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or scale < 1:
            raise ValueError("nn.SpatialUpSamplingNearest: scale must be a positive integer, got {!r}".format(scale))
        self.scale_factor = int(scale)

    def updateOutput(self, input):
        check_dims(self, input, (3, 4))
        # the kernel takes N x C x H x W
        x = input.view(1, *input.size()) if input.dim() == 3 else input
        y = K.upsample_nearest_forward(x, scale_factor=self.scale_factor)
        self.output = y[0] if input.dim() == 3 else y
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        check_dims(self, input, (3, 4))
        if input.dim() == 3:
            g = K.upsample_nearest_backward(gradOutput.view(1, *gradOutput.size()), (1,) + tuple(input.size()))
            self.gradInput = g[0]
        else:
            self.gradInput = K.upsample_nearest_backward(gradOutput, input.size())
        return self.gradInput
