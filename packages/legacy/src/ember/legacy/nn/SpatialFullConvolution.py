import ember
import ember.kernels as K

from .Module import Module
from ._helpers import ParameterReset, TransposedConvGradients, ensure_grad, out_buffer
from .utils import clear


class SpatialFullConvolution(ParameterReset, TransposedConvGradients, Module):
    """Transposed 2-D convolution ("full" convolution, the adjoint of :class:`SpatialConvolution`): each
    output is ``(in - 1) * d - 2 * pad + k + adj`` wide/high. ``weight`` is
    ``nInputPlane x nOutputPlane x kH x kW``.

    The input may be a list ``[input, target]``: the output then takes the spatial size of ``target`` (the
    ``adj`` values are computed from it) and ``gradInput`` is ``[gradInput, zeros like target]``, as in Lua."""

    def __init__(self, nInputPlane, nOutputPlane, kW, kH, dW=1, dH=1, padW=0, padH=None, adjW=0, adjH=0):
        super(SpatialFullConvolution, self).__init__()
        self.nInputPlane = nInputPlane
        self.nOutputPlane = nOutputPlane
        self.kW = kW
        self.kH = kH
        self.dW = dW
        self.dH = dH
        self.padW = padW
        self.padH = padH if padH is not None else padW
        self.adjW = adjW
        self.adjH = adjH
        if self.adjW > self.dW - 1 or self.adjH > self.dH - 1:
            raise ValueError("SpatialFullConvolution: adjW and adjH must be smaller than dW - 1 and dH - 1 "
                             "respectively, got adjW={}, adjH={}, dW={}, dH={}".format(adjW, adjH, dW, dH))
        self.weight = ember.Tensor(nInputPlane, nOutputPlane, kH, kW)
        self.gradWeight = ember.Tensor(nInputPlane, nOutputPlane, kH, kW).zero_()
        self.bias = ember.Tensor(nOutputPlane)
        self.gradBias = ember.Tensor(nOutputPlane).zero_()
        self.reset()

    def _from_lua(self, version):
        super(SpatialFullConvolution, self)._from_lua(version)
        d = self.__dict__
        for name, value in (("adjW", 0), ("adjH", 0), ("padW", 0), ("padH", 0), ("bias", None)):
            d.setdefault(name, value)
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    def _args(self, input):
        """(input tensor, stride, padding, output padding) for a tensor or an [input, target] list."""
        adj = (self.adjH, self.adjW)
        if isinstance(input, (list, tuple)):
            input, target = input[0], input[1]
            tH, tW = target.size(target.dim() - 2), target.size(target.dim() - 1)
            adj = ((tH + 2 * self.padH - self.kH) % self.dH, (tW + 2 * self.padW - self.kW) % self.dW)
        return input, (self.dH, self.dW), (self.padH, self.padW), adj

    def updateOutput(self, input):
        x, stride, padding, adj = self._args(input)
        self.output = K.conv_transpose_forward(x, self.weight, self.bias, stride, padding, adj,
                                               out=out_buffer(self.output, x))
        return self.output

    def clearState(self):
        clear(self, "finput", "fgradInput", "ones", "_input", "_gradOutput")
        return super(SpatialFullConvolution, self).clearState()

    def __repr__(self):
        s = "nn.SpatialFullConvolution({} -> {}, {}x{}".format(self.nInputPlane, self.nOutputPlane, self.kW,
                                                               self.kH)
        if self.dW != 1 or self.dH != 1 or self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.dW, self.dH)
        if self.padW != 0 or self.padH != 0:
            s += ", {}, {}".format(self.padW, self.padH)
        if self.adjW != 0 or self.adjH != 0:
            s += ", {}, {}".format(self.adjW, self.adjH)
        s += ")"
        if self.bias is None:
            s += " without bias"
        return s
