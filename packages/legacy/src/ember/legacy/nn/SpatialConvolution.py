import ember
import ember.kernels as K

from .Module import Module
from ._helpers import ParameterReset, ensure_grad, out_buffer
from .utils import clear


class SpatialConvolution(ParameterReset, Module):
    """2-D convolution of ``nInputPlane x H x W`` images (or a batch of them) with ``nOutputPlane`` kernels of
    ``kH x kW``, step ``dW`` / ``dH``, zero padding ``padW`` / ``padH``. ``weight`` is
    ``nOutputPlane x nInputPlane x kH x kW``, ``bias`` ``nOutputPlane`` (None after :meth:`noBias`)."""

    def __init__(self, nInputPlane, nOutputPlane, kW, kH, dW=1, dH=1, padW=0, padH=None):
        super(SpatialConvolution, self).__init__()
        self.nInputPlane = nInputPlane
        self.nOutputPlane = nOutputPlane
        self.kW = kW
        self.kH = kH
        self.dW = dW
        self.dH = dH
        self.padW = padW
        self.padH = padH if padH is not None else padW
        self.weight = ember.Tensor(*self._weight_size())
        self.bias = ember.Tensor(nOutputPlane)
        self.gradWeight = ember.Tensor(*self._weight_size()).zero_()
        self.gradBias = ember.Tensor(nOutputPlane).zero_()
        self.reset()

    def _weight_size(self):
        return (self.nOutputPlane, self.nInputPlane, self.kH, self.kW)

    def _from_lua(self, version):
        super(SpatialConvolution, self)._from_lua(version)
        d = self.__dict__
        # fields that older nn versions didn't have (their defaults then)
        d.setdefault("dW", 1)
        d.setdefault("dH", 1)
        pad = d.pop("padding", 0)
        d.setdefault("padW", pad)
        d.setdefault("padH", pad)
        d.setdefault("bias", None)
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    # the geometry as the kernels take it
    def _weight4(self):
        # older files (and SpatialConvolutionMM) keep the weight as nOutputPlane x (nInputPlane*kH*kW)
        w = self.weight
        return w if w.dim() == 4 else w.view(self.nOutputPlane, self.nInputPlane, self.kH, self.kW)

    def _conv_args(self):
        return (self.dH, self.dW), (self.padH, self.padW), 1

    def updateOutput(self, input):
        stride, padding, dilation = self._conv_args()
        self.output = K.conv_forward(input, self._weight4(), self.bias, stride, padding, dilation,
                                     out=out_buffer(self.output, input))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        stride, padding, dilation = self._conv_args()
        self.gradInput = K.conv_backward_input(gradOutput, input, self._weight4(), stride, padding, dilation,
                                               out=out_buffer(self.gradInput, input))
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, False)

    def backward(self, input, gradOutput, scale=1):
        # one pass over the images computes every gradient
        self._backward(input, gradOutput, scale, self.gradInput is not None)
        return self.gradInput

    def _backward(self, input, gradOutput, scale, need_input):
        stride, padding, dilation = self._conv_args()
        has_bias = self.bias is not None
        gi, gw, gb = K.conv_backward(gradOutput, input, self._weight4(), stride, padding, dilation,
                                     output_mask=(need_input, True, has_bias))
        if need_input:
            self.gradInput = gi
        self.gradWeight.add_(scale, gw.view_as(self.gradWeight))
        if has_bias:
            self.gradBias.add_(scale, gb)

    def clearState(self):
        clear(self, "finput", "fgradInput", "_input", "_gradOutput")
        return super(SpatialConvolution, self).clearState()

    def __repr__(self):
        s = "nn.{}({} -> {}, {}x{}".format(type(self).__name__, self.nInputPlane, self.nOutputPlane, self.kW,
                                            self.kH)
        if self.dW != 1 or self.dH != 1 or self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.dW, self.dH)
        if self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.padW, self.padH)
        s += ")"
        if self.bias is None:
            s += " without bias"
        return s
