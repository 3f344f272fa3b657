import ember

from .Module import Module
from ._helpers import check_dims, check_normalization_kernel, local_sum, local_sum_backward
from .utils import clear


class SpatialSubtractiveNormalization(Module):
    """Subtracts from each pixel of ``nInputPlane x H x W`` images (or a batch) the weighted mean of its
    neighbourhood over all planes: ``kernel`` (2-D, or 1-D applied along both axes; odd sizes; default
    9 x 9 ones) is normalised to sum to ``1 / nInputPlane`` and the mean is corrected near the borders by
    ``coef``, the same sum over an image of ones."""

    def __init__(self, nInputPlane=1, kernel=None):
        super(SpatialSubtractiveNormalization, self).__init__()
        self.nInputPlane = nInputPlane
        self.kernel = kernel if kernel is not None else ember.Tensor(9, 9).fill_(1)
        check_normalization_kernel(self, self.kernel)
        # in place, as in Lua (SpatialContrastiveNormalization shares the kernel)
        self.kernel.div_(self.kernel.sum() * self.nInputPlane)
        self.coef = None

    def _border_coef(self, x):
        """The border correction for ``x``'s image size (kept across calls of the same size)."""
        coef = getattr(self, "coef", None)
        h, w = x.size(2), x.size(3)
        if not (ember.is_tensor(coef) and type(coef) is type(x) and tuple(coef.size()) == (1, 1, h, w)):
            # a Lua model holds its own layout of coef: recomputed here
            coef = self.coef = local_sum(x.new(1, x.size(1), h, w).fill_(1), self.kernel)
        return coef

    def updateOutput(self, input):
        check_dims(self, input, (3, 4))
        x = input.view(1, *input.size()) if input.dim() == 3 else input
        self.adjustedsums = local_sum(x, self.kernel).div_(self._border_coef(x))
        self.output = (x - self.adjustedsums).view_as(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        check_dims(self, input, (3, 4))
        x = input.view(1, *input.size()) if input.dim() == 3 else input
        g = gradOutput.contiguous().view_as(x)
        through_mean = g.div(self._border_coef(x)).sum(1, keepdim=True).neg_()
        self.gradInput = local_sum_backward(through_mean, x.size(), self.kernel).add_(g).view_as(input)
        return self.gradInput

    def clearState(self):
        clear(self, "coef", "_coef", "ones", "localsums", "adjustedsums")
        return super(SpatialSubtractiveNormalization, self).clearState()
