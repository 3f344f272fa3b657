"""PixelShuffle (PyTorch 0.2's torch/nn/modules/pixelshuffle.py)."""
from .module import Module
from .. import functional as F

__all__ = ["PixelShuffle"]


class PixelShuffle(Module):
    """Rearrange (N, C * r^2, H, W) into (N, C, H * r, W * r) (sub-pixel convolution, Shi et al. 2016)."""

    def __init__(self, upscale_factor):
        super(PixelShuffle, self).__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def __repr__(self):
        return "{} (upscale_factor={})".format(type(self).__name__, self.upscale_factor)
