"""Dropout layers (PyTorch 0.2's torch/nn/modules/dropout.py): active in training mode only."""
from .module import Module
from .. import functional as F

__all__ = ["Dropout", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutBase(Module):
    def __init__(self, p=0.5, inplace=False):
        super(_DropoutBase, self).__init__()
        if not 0 <= p <= 1:
            raise ValueError("dropout probability has to be between 0 and 1, but got {}".format(p))
        self.p = p
        self.inplace = inplace


class Dropout(_DropoutBase):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) during training."""

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def __repr__(self):
        return "{} (p = {}{})".format(type(self).__name__, self.p, ", inplace" if self.inplace else "")


class Dropout2d(_DropoutBase):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` during training."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)

    def __repr__(self):
        return "{} (p={}{})".format(type(self).__name__, self.p, ", inplace" if self.inplace else "")


class Dropout3d(_DropoutBase):
    """Zero whole channels of (N, C, D, H, W) inputs with probability ``p`` during training."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)

    def __repr__(self):
        return "{} (p={}{})".format(type(self).__name__, self.p, ", inplace" if self.inplace else "")


class AlphaDropout(_DropoutBase):
    """Alpha dropout for SELU networks: keeps zero mean and unit variance (training only)."""

    def __init__(self, p=0.5):
        super(AlphaDropout, self).__init__(p)

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)

    def __repr__(self):
        return "{} (p = {})".format(type(self).__name__, self.p)
