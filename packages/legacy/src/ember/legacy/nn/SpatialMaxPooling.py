import ember
import ember.kernels as K

from .Module import Module
from ._helpers import lua_fields_with_indices, lua_indices_or_empty


class SpatialMaxPooling(Module):
    """Max pooling over ``kW x kH`` windows with step ``dW`` / ``dH`` (default: the window size) and implicit
    ``-inf`` padding ``padW`` / ``padH``. :meth:`ceil` rounds the output size up instead of down.

    ``indices`` holds, after a forward, the 0-based flat position of each maximum within its input plane
    (``h * W + w``); :class:`SpatialMaxUnpooling` reads it."""

    def __init__(self, kW, kH, dW=None, dH=None, padW=0, padH=0):
        super(SpatialMaxPooling, self).__init__()
        self.kW = kW
        self.kH = kH
        self.dW = dW if dW is not None else kW
        self.dH = dH if dH is not None else kH
        self.padW = padW
        self.padH = padH
        self.ceil_mode = False
        self.indices = ember.LongTensor()

    def _from_lua(self, version):
        super(SpatialMaxPooling, self)._from_lua(version)
        d = self.__dict__
        for name, value in (("padW", 0), ("padH", 0), ("ceil_mode", False)):
            d.setdefault(name, value)
        lua_indices_or_empty(self)

    def _to_lua(self):
        return lua_fields_with_indices(super(SpatialMaxPooling, self)._to_lua())

    def ceil(self):
        self.ceil_mode = True
        return self

    def floor(self):
        self.ceil_mode = False
        return self

    def updateOutput(self, input):
        if ember.is_tensor(input) and input.dim() >= 2:
            # the input size, for SpatialMaxUnpooling
            self.iheight = input.size(input.dim() - 2)
            self.iwidth = input.size(input.dim() - 1)
        self.output, self.indices = K.max_pool2d_forward(input, (self.kH, self.kW), (self.dH, self.dW),
                                                         (self.padH, self.padW), 1, self.ceil_mode)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.max_pool2d_backward(gradOutput, input.size(), self.indices)
        return self.gradInput

    def clearState(self):
        self.indices = ember.LongTensor()
        return super(SpatialMaxPooling, self).clearState()

    def __repr__(self):
        s = "nn.{}({}x{}, {}, {}".format(type(self).__name__, self.kW, self.kH, self.dW, self.dH)
        if self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.padW, self.padH)
        return s + ")"
