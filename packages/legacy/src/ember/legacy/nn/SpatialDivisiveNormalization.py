import ember

from .Module import Module
from ._helpers import check_dims, check_normalization_kernel, local_sum, local_sum_backward
from .utils import clear


class SpatialDivisiveNormalization(Module):
    """Divides each pixel of ``nInputPlane x H x W`` images (or a batch) by the local standard deviation:
    the square root of the ``kernel``-weighted mean of squares over its neighbourhood and all planes
    (``kernel`` as in :class:`SpatialSubtractiveNormalization`), corrected near the borders by ``coef``;
    a deviation not above ``threshold`` is replaced by ``thresval`` (default ``threshold``)."""

    def __init__(self, nInputPlane=1, kernel=None, threshold=1e-4, thresval=None):
        super(SpatialDivisiveNormalization, self).__init__()
        self.nInputPlane = nInputPlane
        self.kernel = kernel if kernel is not None else ember.Tensor(9, 9).fill_(1)
        self.threshold = threshold
        self.thresval = thresval if thresval is not None else threshold
        check_normalization_kernel(self, self.kernel)
        self.kernel.div_(self.kernel.sum() * self.nInputPlane)
        self.coef = None

    def _border_coef(self, x):
        coef = getattr(self, "coef", None)
        h, w = x.size(2), x.size(3)
        if not (ember.is_tensor(coef) and type(coef) is type(x) and tuple(coef.size()) == (1, 1, h, w)):
            coef = self.coef = local_sum(x.new(1, x.size(1), h, w).fill_(1), self.kernel)
        return coef

    def updateOutput(self, input):
        check_dims(self, input, (3, 4))
        x = input.view(1, *input.size()) if input.dim() == 3 else input
        self.localstds = local_sum(x * x, self.kernel).sqrt_()
        self.adjustedstds = self.localstds.div(self._border_coef(x))
        self.thresholdedstds = self.adjustedstds.clone().masked_fill_(self.adjustedstds.le(self.threshold),
                                                                      self.thresval)
        self.output = x.div(self.thresholdedstds).view_as(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        check_dims(self, input, (3, 4))
        x = input.view(1, *input.size()) if input.dim() == 3 else input
        g = gradOutput.contiguous().view_as(x)
        thr = self.thresholdedstds
        # through x / thr: to x directly, and to the deviation (where it wasn't thresholded)
        direct = g.div(thr)
        to_std = direct.div(thr).mul_(x).neg_()
        to_std.masked_fill_(self.adjustedstds.le(self.threshold).expand_as(to_std), 0)
        # through sqrt(local_sum(x * x)) / coef
        to_sum = to_std.div_(self._border_coef(x)).mul_(0.5).div_(self.localstds)
        to_sum.masked_fill_(self.localstds.eq(0).expand_as(to_sum), 0)
        to_sq = local_sum_backward(to_sum.sum(1, keepdim=True), x.size(), self.kernel)
        self.gradInput = to_sq.mul_(x).mul_(2).add_(direct).view_as(input)
        return self.gradInput

    def clearState(self):
        clear(self, "coef", "_coef", "ones", "localstds", "adjustedstds", "thresholdedstds")
        return super(SpatialDivisiveNormalization, self).clearState()
