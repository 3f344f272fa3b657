import ember.kernels as K

from .Module import Module


class SpatialReflectionPadding(Module):
    """Pads the last two dims of ``C x H x W`` images (or a batch) with their mirror image around the edge
    pixels: ``pad_l`` columns on the left, ``pad_r`` on the right, ``pad_t`` rows on top, ``pad_b`` at the
    bottom (each defaults to ``pad_l``; each must be smaller than the input along its dim)."""

    _kernels = (K.reflection_pad2d_forward, K.reflection_pad2d_backward)

    def __init__(self, pad_l, pad_r=None, pad_t=None, pad_b=None):
        super(SpatialReflectionPadding, self).__init__()
        self.pad_l = pad_l
        self.pad_r = pad_r if pad_r is not None else pad_l
        self.pad_t = pad_t if pad_t is not None else pad_l
        self.pad_b = pad_b if pad_b is not None else pad_l

    def _pads(self):
        return (self.pad_l, self.pad_r, self.pad_t, self.pad_b)

    def updateOutput(self, input):
        self.output = type(self)._kernels[0](input, self._pads())
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = type(self)._kernels[1](gradOutput, input.size(), self._pads())
        return self.gradInput

    def __repr__(self):
        return "nn.{}(l={}, r={}, t={}, b={})".format(type(self).__name__, self.pad_l, self.pad_r, self.pad_t,
                                                      self.pad_b)
