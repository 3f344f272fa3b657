import ember.kernels as K

from .Module import Module
from .SpatialMaxPooling import SpatialMaxPooling


class SpatialMaxUnpooling(Module):
    """The partial inverse of a :class:`SpatialMaxPooling` (whose kernel size must equal its step): each input
    value goes back to where the pooling module's last forward found its maximum, zeros elsewhere; the
    output has the size of that forward's input."""

    def __init__(self, poolingModule):
        super(SpatialMaxUnpooling, self).__init__()
        if not isinstance(poolingModule, SpatialMaxPooling):
            raise TypeError("SpatialMaxUnpooling: argument must be a nn.SpatialMaxPooling module, got {}"
                            .format(type(poolingModule).__name__))
        if poolingModule.kH != poolingModule.dH or poolingModule.kW != poolingModule.dW:
            raise ValueError("SpatialMaxUnpooling: the size of the pooling module's kernel must be equal to its "
                             "stride, got {}".format(repr(poolingModule)))
        self.pooling = poolingModule

    def _from_lua(self, version):
        super(SpatialMaxUnpooling, self)._from_lua(version)
        # a reference to the pooling module's indices (Lua's, 1-based): taken afresh on each forward
        self.__dict__.pop("indices", None)

    def _setParams(self):
        p = self.pooling
        ind = getattr(p, "indices", None)
        if ind is None or not ind.numel() or not hasattr(p, "iheight"):
            raise RuntimeError("SpatialMaxUnpooling: the pooling module {} must run forward first".format(repr(p)))
        self.indices = p.indices
        self.oheight = p.iheight
        self.owidth = p.iwidth

    def updateOutput(self, input):
        self._setParams()
        self.output = K.max_unpool2d_forward(input, self.indices, (self.oheight, self.owidth))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self._setParams()
        self.gradInput = K.max_unpool2d_backward(gradOutput, self.indices)
        return self.gradInput

    def __repr__(self):
        return "nn.SpatialMaxUnpooling associated to " + repr(self.pooling)
