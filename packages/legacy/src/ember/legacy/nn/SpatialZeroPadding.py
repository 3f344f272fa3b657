from .Module import Module
from ._helpers import check_dims


class SpatialZeroPadding(Module):
    """Pads the last two dims of ``C x H x W`` images (or a batch) with zeros: ``pad_l`` columns on the left,
    ``pad_r`` on the right, ``pad_t`` rows on top, ``pad_b`` at the bottom (each defaults to ``pad_l``).
    A negative pad crops."""

    def __init__(self, pad_l, pad_r=None, pad_t=None, pad_b=None):
        super(SpatialZeroPadding, self).__init__()
        self.pad_l = pad_l
        self.pad_r = pad_r if pad_r is not None else pad_l
        self.pad_t = pad_t if pad_t is not None else pad_l
        self.pad_b = pad_b if pad_b is not None else pad_l

    def _regions(self, input):
        """(the kept part of the input, where it goes in the output) as ((dim, start, length), ...) pairs."""
        check_dims(self, input, (3, 4))
        dh = input.dim() - 2
        h, w = input.size(dh), input.size(dh + 1)
        oh, ow = h + self.pad_t + self.pad_b, w + self.pad_l + self.pad_r
        if oh < 1 or ow < 1:
            raise RuntimeError("nn.SpatialZeroPadding: input of size {} is too small for padding (l={}, r={}, t={}, "
                               "b={})".format(list(input.size()), self.pad_l, self.pad_r, self.pad_t, self.pad_b))
        kh = h - max(-self.pad_t, 0) - max(-self.pad_b, 0)
        kw = w - max(-self.pad_l, 0) - max(-self.pad_r, 0)
        size = list(input.size())
        size[dh], size[dh + 1] = oh, ow
        src = ((dh, max(-self.pad_t, 0), kh), (dh + 1, max(-self.pad_l, 0), kw))
        dst = ((dh, max(self.pad_t, 0), kh), (dh + 1, max(self.pad_l, 0), kw))
        return size, src, dst

    @staticmethod
    def _part(t, region):
        for dim, start, length in region:
            t = t.narrow(dim, start, length)
        return t

    def updateOutput(self, input):
        size, src, dst = self._regions(input)
        self.output = input.new(*size).zero_()
        if src[0][2] > 0 and src[1][2] > 0:  # else everything was cropped away
            self._part(self.output, dst).copy_(self._part(input, src))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        size, src, dst = self._regions(input)
        if list(gradOutput.size()) != size:
            raise RuntimeError("nn.SpatialZeroPadding: gradOutput should be of size {}, got {}"
                               .format(size, list(gradOutput.size())))
        self.gradInput = input.new(input.size()).zero_()
        if src[0][2] > 0 and src[1][2] > 0:
            self._part(self.gradInput, src).copy_(self._part(gradOutput, dst))
        return self.gradInput

    def __repr__(self):
        return "nn.SpatialZeroPadding(l={}, r={}, t={}, b={})".format(self.pad_l, self.pad_r, self.pad_t, self.pad_b)
