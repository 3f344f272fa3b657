"""Upsampling layers (PyTorch 0.2's torch/nn/modules/upsampling.py)."""
import warnings

from .module import Module
from .. import functional as F
from .conv import layer_error

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Upsamples (N, C, H, W) or (N, C, D, H, W) input to ``size`` or by ``scale_factor`` (see
    F.upsample): mode 'nearest' (integer scales), 'bilinear' (4-D) or 'trilinear' (5-D), the linear modes
    aligning the corner pixels of input and output as 0.2 did."""

    def __init__(self, size=None, scale_factor=None, mode="nearest"):
        super(Upsample, self).__init__()
        self.size = size
        self.scale_factor = scale_factor
        self.mode = mode

    def forward(self, input):
        try:
            return F.upsample(input, self.size, self.scale_factor, self.mode)
        except (RuntimeError, ValueError) as e:
            raise layer_error(self, e) from None

    def __repr__(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + str(self.scale_factor)
        else:
            info = "size=" + str(self.size)
        info += ", mode=" + self.mode
        return type(self).__name__ + "(" + info + ")"


class UpsamplingNearest2d(Upsample):
    """Deprecated in 0.2: Upsample(size, scale_factor, mode='nearest')."""

    def __init__(self, size=None, scale_factor=None):
        super(UpsamplingNearest2d, self).__init__(size, scale_factor, mode="nearest")

    def forward(self, input):
        warnings.warn("nn.UpsamplingNearest2d is deprecated. Use nn.Upsample instead.")
        return super(UpsamplingNearest2d, self).forward(input)


class UpsamplingBilinear2d(Upsample):
    """Deprecated in 0.2: Upsample(size, scale_factor, mode='bilinear')."""

    def __init__(self, size=None, scale_factor=None):
        super(UpsamplingBilinear2d, self).__init__(size, scale_factor, mode="bilinear")

    def forward(self, input):
        warnings.warn("nn.UpsamplingBilinear2d is deprecated. Use nn.Upsample instead.")
        return super(UpsamplingBilinear2d, self).forward(input)
