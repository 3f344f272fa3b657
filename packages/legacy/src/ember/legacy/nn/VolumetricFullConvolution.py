import ember
import ember.kernels as K

from .Module import Module
from ._helpers import ParameterReset, TransposedConvGradients, ensure_grad, out_buffer
from .utils import clear


class VolumetricFullConvolution(ParameterReset, TransposedConvGradients, Module):
    """Transposed 3-D convolution (the adjoint of :class:`VolumetricConvolution`): each output dim is
    ``(in - 1) * d - 2 * pad + k + adj``. ``weight`` is ``nInputPlane x nOutputPlane x kT x kH x kW``.

    As in Lua, the input may be a list ``[input, target]``: the output then takes ``target``'s spatial size."""

    def __init__(self, nInputPlane, nOutputPlane, kT, kW, kH, dT=1, dW=1, dH=1, padT=0, padW=0, padH=0,
                 adjT=0, adjW=0, adjH=0):
        super(VolumetricFullConvolution, self).__init__()
        self.nInputPlane = nInputPlane
        self.nOutputPlane = nOutputPlane
        self.kT, self.kW, self.kH = kT, kW, kH
        self.dT, self.dW, self.dH = dT, dW, dH
        self.padT, self.padW, self.padH = padT, padW, padH
        self.adjT, self.adjW, self.adjH = adjT, adjW, adjH
        if adjT > dT - 1 or adjW > dW - 1 or adjH > dH - 1:
            raise ValueError("VolumetricFullConvolution: adjT, adjW and adjH must be smaller than dT - 1, dW - 1 "
                             "and dH - 1 respectively, got adj {}, {}, {} and steps {}, {}, {}"
                             .format(adjT, adjW, adjH, dT, dW, dH))
        size = (nInputPlane, nOutputPlane, kT, kH, kW)
        self.weight = ember.Tensor(*size)
        self.gradWeight = ember.Tensor(*size).zero_()
        self.bias = ember.Tensor(nOutputPlane)
        self.gradBias = ember.Tensor(nOutputPlane).zero_()
        self.reset()

    def _from_lua(self, version):
        super(VolumetricFullConvolution, self)._from_lua(version)
        d = self.__dict__
        for name in ("padT", "padW", "padH", "adjT", "adjW", "adjH"):
            d.setdefault(name, 0)
        d.setdefault("bias", None)
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    def _args(self, input):
        adj = (self.adjT, self.adjH, self.adjW)
        if isinstance(input, (list, tuple)):
            input, target = input[0], input[1]
            n = target.dim()
            sizes = (target.size(n - 3), target.size(n - 2), target.size(n - 1))
            adj = tuple((t + 2 * p - k) % d for t, p, k, d in zip(sizes, (self.padT, self.padH, self.padW),
                                                                 (self.kT, self.kH, self.kW),
                                                                 (self.dT, self.dH, self.dW)))
        return input, (self.dT, self.dH, self.dW), (self.padT, self.padH, self.padW), adj

    def updateOutput(self, input):
        x, stride, padding, adj = self._args(input)
        self.output = K.conv_transpose_forward(x, self.weight, self.bias, stride, padding, adj,
                                               out=out_buffer(self.output, x))
        return self.output

    def clearState(self):
        clear(self, "finput", "fgradInput", "ones", "_input", "_gradOutput")
        return super(VolumetricFullConvolution, self).clearState()

    def __repr__(self):
        s = "nn.VolumetricFullConvolution({} -> {}, {}x{}x{}".format(self.nInputPlane, self.nOutputPlane,
                                                                     self.kT, self.kW, self.kH)
        pads = self.padT != 0 or self.padW != 0 or self.padH != 0
        if self.dT != 1 or self.dW != 1 or self.dH != 1 or pads:
            s += ", {}, {}, {}".format(self.dT, self.dW, self.dH)
        if pads:
            s += ", {}, {}, {}".format(self.padT, self.padW, self.padH)
        if self.adjT != 0 or self.adjW != 0 or self.adjH != 0:
            s += ", {}, {}, {}".format(self.adjT, self.adjW, self.adjH)
        s += ")"
        if self.bias is None:
            s += " without bias"
        return s
