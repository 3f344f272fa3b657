import ember
import ember.kernels as K

from .Module import Module
from ._helpers import lua_fields_with_indices, lua_indices_or_empty


class SpatialAdaptiveMaxPooling(Module):
    """Max pooling to a fixed ``H x W`` output whatever the input size: output cell ``i`` covers input rows
    ``floor(i * iH / H)`` to ``ceil((i + 1) * iH / H) - 1`` (columns likewise)."""

    def __init__(self, w, h):
        super(SpatialAdaptiveMaxPooling, self).__init__()
        self.W = w
        self.H = h
        self.indices = ember.LongTensor()

    def _from_lua(self, version):
        super(SpatialAdaptiveMaxPooling, self)._from_lua(version)
        lua_indices_or_empty(self)

    def _to_lua(self):
        return lua_fields_with_indices(super(SpatialAdaptiveMaxPooling, self)._to_lua())

    def updateOutput(self, input):
        self.output, self.indices = K.adaptive_max_pool2d_forward(input, (self.H, self.W))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.adaptive_max_pool2d_backward(gradOutput, input.size(), self.indices)
        return self.gradInput

    def clearState(self):
        self.indices = ember.LongTensor()
        return super(SpatialAdaptiveMaxPooling, self).clearState()
