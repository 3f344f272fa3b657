import ember.kernels as K

from .Module import Module


class SpatialAveragePooling(Module):
    """Average pooling over ``kW x kH`` windows with step ``dW`` / ``dH`` and zero padding ``padW`` /
    ``padH``. :meth:`ceil` rounds the output size up; :meth:`setCountExcludePad` divides by the number of
    input pixels in the window rather than the window size."""

    def __init__(self, kW, kH, dW=1, dH=1, padW=0, padH=0):
        super(SpatialAveragePooling, self).__init__()
        self.kW = kW
        self.kH = kH
        self.dW = dW
        self.dH = dH
        self.padW = padW
        self.padH = padH
        self.ceil_mode = False
        self.count_include_pad = True
        self.divide = True

    def _from_lua(self, version):
        super(SpatialAveragePooling, self)._from_lua(version)
        d = self.__dict__
        for name, value in (("padW", 0), ("padH", 0), ("ceil_mode", False), ("count_include_pad", True)):
            d.setdefault(name, value)
        # the first nn versions summed over the window; later models say divide = true (Lua's rule)
        d.setdefault("divide", False)

    def ceil(self):
        self.ceil_mode = True
        return self

    def floor(self):
        self.ceil_mode = False
        return self

    def setCountIncludePad(self):
        self.count_include_pad = True
        return self

    def setCountExcludePad(self):
        self.count_include_pad = False
        return self

    def _args(self):
        return (self.kH, self.kW), (self.dH, self.dW), (self.padH, self.padW), self.ceil_mode, self.count_include_pad

    def updateOutput(self, input):
        self.output = K.avg_pool2d_forward(input, *self._args())
        if not self.divide:
            self.output.mul_(self.kW * self.kH)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.avg_pool2d_backward(gradOutput, input.size(), *self._args())
        if not self.divide:
            self.gradInput.mul_(self.kW * self.kH)
        return self.gradInput

    def __repr__(self):
        s = "nn.SpatialAveragePooling({}x{}, {}, {}".format(self.kW, self.kH, self.dW, self.dH)
        if self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.padW, self.padH)
        return s + ")"
