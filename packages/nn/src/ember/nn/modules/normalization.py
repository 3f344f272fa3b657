from .module import Module
from .._functional.normalization import CrossMapLRN2d as _CrossMapLRN2dFn

__all__ = ["CrossMapLRN2d"]


class CrossMapLRN2d(Module):
    """Local response normalization across channels of a 4D (N x C x H x W) input: channel c is divided by
    (k + alpha / size * sum of the squares of the ``size`` channels around c) ** beta.

    The window is Lua nn's and THCUNN's (0.2's GPU result); 0.2's CPU path, a Python port, kept channel 0
    in every window and had a backward shifted by one channel (see ember.kernels.lrn)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super(CrossMapLRN2d, self).__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return _CrossMapLRN2dFn.apply(input, self.size, self.alpha, self.beta, self.k)

    def __repr__(self):
        # 0.2's format, size left out (sic)
        return (self.__class__.__name__ + " (" + ", alpha=" + str(self.alpha) + ", beta=" + str(self.beta)
                + ", k=" + str(self.k) + ")")
