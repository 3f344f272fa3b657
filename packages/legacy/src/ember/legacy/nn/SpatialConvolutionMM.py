from .SpatialConvolution import SpatialConvolution


class SpatialConvolutionMM(SpatialConvolution):
    """:class:`SpatialConvolution` as Lua's matrix-multiply variant stores it: ``weight`` and ``gradWeight`` are
    ``nOutputPlane x (nInputPlane*kH*kW)`` matrices. Models saved by older nn versions (without ``dW``, ``dH``,
    ``padW``, ``padH``) load with Lua's defaults 1, 1, 0, 0."""

    def _weight_size(self):
        return (self.nOutputPlane, self.nInputPlane * self.kH * self.kW)
