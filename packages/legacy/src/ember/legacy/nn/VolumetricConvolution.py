import ember
import ember.kernels as K

from .Module import Module
from ._helpers import ParameterReset, ensure_grad, out_buffer
from .utils import clear


class VolumetricConvolution(ParameterReset, Module):
    """3-D convolution of ``nInputPlane x T x H x W`` volumes (or a batch of them) with kernels of
    ``kT x kH x kW``, steps ``dT``, ``dW``, ``dH`` and zero padding ``padT``, ``padW``, ``padH``. ``weight`` is
    ``nOutputPlane x nInputPlane x kT x kH x kW``."""

    def __init__(self, nInputPlane, nOutputPlane, kT, kW, kH, dT=1, dW=1, dH=1, padT=0, padW=None, padH=None):
        super(VolumetricConvolution, self).__init__()
        self.nInputPlane = nInputPlane
        self.nOutputPlane = nOutputPlane
        self.kT = kT
        self.kW = kW
        self.kH = kH
        self.dT = dT
        self.dW = dW
        self.dH = dH
        self.padT = padT
        self.padW = padW if padW is not None else padT
        self.padH = padH if padH is not None else self.padW
        size = (nOutputPlane, nInputPlane, kT, kH, kW)
        self.weight = ember.Tensor(*size)
        self.bias = ember.Tensor(nOutputPlane)
        self.gradWeight = ember.Tensor(*size).zero_()
        self.gradBias = ember.Tensor(nOutputPlane).zero_()
        self.reset()

    def _from_lua(self, version):
        super(VolumetricConvolution, self)._from_lua(version)
        d = self.__dict__
        for name, value in (("padT", 0), ("padW", 0), ("padH", 0), ("bias", None)):
            d.setdefault(name, value)
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    def _weight5(self):
        w = self.weight
        if w.dim() == 5:
            return w
        return w.view(self.nOutputPlane, self.nInputPlane, self.kT, self.kH, self.kW)

    def _geometry(self):
        return (self.dT, self.dH, self.dW), (self.padT, self.padH, self.padW)

    def updateOutput(self, input):
        stride, padding = self._geometry()
        self.output = K.conv_forward(input, self._weight5(), self.bias, stride, padding,
                                     out=out_buffer(self.output, input))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        stride, padding = self._geometry()
        self.gradInput = K.conv_backward_input(gradOutput, input, self._weight5(), stride, padding,
                                               out=out_buffer(self.gradInput, input))
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, False)

    def backward(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, self.gradInput is not None)
        return self.gradInput

    def _backward(self, input, gradOutput, scale, need_input):
        stride, padding = self._geometry()
        has_bias = self.bias is not None
        gi, gw, gb = K.conv_backward(gradOutput, input, self._weight5(), stride, padding,
                                     output_mask=(need_input, True, has_bias))
        if need_input:
            self.gradInput = gi
        self.gradWeight.add_(scale, gw.view_as(self.gradWeight))
        if has_bias:
            self.gradBias.add_(scale, gb)

    def clearState(self):
        clear(self, "finput", "fgradInput", "_input", "_gradOutput")
        return super(VolumetricConvolution, self).clearState()

    def __repr__(self):
        s = "nn.VolumetricConvolution({} -> {}, {}x{}x{}".format(self.nInputPlane, self.nOutputPlane, self.kT,
                                                                 self.kW, self.kH)
        pads = self.padT != 0 or self.padW != 0 or self.padH != 0
        if self.dT != 1 or self.dW != 1 or self.dH != 1 or pads:
            s += ", {}, {}, {}".format(self.dT, self.dW, self.dH)
        if pads:
            s += ", {}, {}, {}".format(self.padT, self.padW, self.padH)
        s += ")"
        if self.bias is None:
            s += " without bias"
        return s
