"""Padding layers (PyTorch 0.2's torch/nn/modules/padding.py): ``padding`` is an int (all sides) or a
(left, right, top, bottom) tuple ((left, right, top, bottom, front, back) for ReplicationPad3d)."""
from .module import Module
from .. import functional as F

__all__ = ["ReflectionPad2d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad2d", "ConstantPad2d"]


def _ntuple(padding, n, layer):
    if isinstance(padding, int) and not isinstance(padding, bool):
        return (padding,) * n
    padding = tuple(padding)
    if len(padding) != n:
        raise ValueError("{}: padding must be an int or a tuple of {} ints, got {!r}".format(layer, n, padding))
    return padding


class _PadNd(Module):
    _n = 4
    _mode = "constant"

    def __init__(self, padding):
        super(_PadNd, self).__init__()
        self.padding = _ntuple(padding, self._n, type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def __repr__(self):
        return "{} {}".format(type(self).__name__, self.padding)


class ReflectionPad2d(_PadNd):
    """Pad (N, C, H, W) by reflecting the input at its borders."""
    _mode = "reflect"


class ReplicationPad2d(_PadNd):
    """Pad (N, C, H, W) by repeating the border values."""
    _mode = "replicate"


class ReplicationPad3d(_PadNd):
    """Pad (N, C, D, H, W) by repeating the border values."""
    _n = 6
    _mode = "replicate"


class ZeroPad2d(_PadNd):
    """Pad (N, C, H, W) with zeros."""


class ConstantPad2d(_PadNd):
    """Pad (N, C, H, W) with ``value``."""

    def __init__(self, padding, value):
        super(ConstantPad2d, self).__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)
