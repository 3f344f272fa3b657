from .MulConstant import MulConstant
from .Power import Power
from .Sequential import Sequential
from .SpatialAveragePooling import SpatialAveragePooling
from .Sqrt import Sqrt
from .Square import Square


class SpatialLPPooling(Sequential):
    """The ``pnorm``-norm of each ``kW x kH`` window (step ``dW`` / ``dH``, default the window size):
    ``(sum x ** p) ** (1 / p)``, built as Lua does from ``Square`` (or ``Power(p)``), a
    ``SpatialAveragePooling`` times ``kW * kH`` and ``Sqrt`` (or ``Power(1 / p)``). Nothing is trained: the
    parameter methods do nothing. Models of older nn versions, which pooled with a ``SpatialSubSampling``,
    load and run as saved."""

    def __init__(self, nInputPlane, pnorm, kW, kH, dW=None, dH=None):
        super(SpatialLPPooling, self).__init__()
        self.nInputPlane = nInputPlane
        self.kW = kW
        self.kH = kH
        self.dW = dW if dW is not None else kW
        self.dH = dH if dH is not None else kH
        self.add(Square() if pnorm == 2 else Power(pnorm))
        self.add(SpatialAveragePooling(kW, kH, self.dW, self.dH))
        self.add(MulConstant(kW * kH))
        self.add(Sqrt() if pnorm == 2 else Power(1. / pnorm))

    # the pooling has no trainable parameters (Lua's overrides)
    def reset(self, stdv=None):
        pass

    def accGradParameters(self, input, gradOutput, scale=1):
        pass

    def accUpdateGradParameters(self, input, gradOutput, lr):
        pass

    def zeroGradParameters(self):
        pass

    def updateParameters(self, learningRate):
        pass

    def __repr__(self):
        return "nn.SpatialLPPooling" + super(SpatialLPPooling, self).__repr__()[len("nn.Sequential"):]
