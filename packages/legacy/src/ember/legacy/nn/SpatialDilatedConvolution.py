from .SpatialConvolution import SpatialConvolution


class SpatialDilatedConvolution(SpatialConvolution):
    """:class:`SpatialConvolution` whose kernel taps are ``dilationW`` / ``dilationH`` pixels apart.

    The signature is 0.2's: after the padding come ``dilationH`` then ``dilationW`` (Lua's constructor takes
    ``dilationW`` first; pass them by name when porting Lua code)."""

    def __init__(self, nInputPlane, nOutputPlane, kW, kH, dW=1, dH=1, padW=0, padH=None, dilationH=1,
                 dilationW=None):
        super(SpatialDilatedConvolution, self).__init__(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
        self.dilationH = dilationH
        self.dilationW = dilationW if dilationW is not None else dilationH

    def _from_lua(self, version):
        super(SpatialDilatedConvolution, self)._from_lua(version)
        self.__dict__.setdefault("dilationW", 1)
        self.__dict__.setdefault("dilationH", 1)

    def _conv_args(self):
        return (self.dH, self.dW), (self.padH, self.padW), (self.dilationH, self.dilationW)

    def __repr__(self):
        s = "nn.SpatialDilatedConvolution({} -> {}, {}x{}".format(self.nInputPlane, self.nOutputPlane, self.kW,
                                                                  self.kH)
        if self.dW != 1 or self.dH != 1 or self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.dW, self.dH)
        if self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.padW, self.padH)
        s += ", {}, {})".format(self.dilationW, self.dilationH)
        if self.bias is None:
            s += " without bias"
        return s
