import math

import ember
import ember.kernels as K

from .Module import Module
from ._helpers import ensure_grad


class SpatialSubSampling(Module):
    """Sums over ``kW x kH`` windows (step ``dW`` / ``dH``) of each plane of ``nInputPlane x H x W`` images
    (or a batch), times a trainable per-plane ``weight``, plus a per-plane ``bias``."""

    def __init__(self, nInputPlane, kW, kH, dW=1, dH=1):
        super(SpatialSubSampling, self).__init__()
        self.nInputPlane = nInputPlane
        self.kW = kW
        self.kH = kH
        self.dW = dW
        self.dH = dH
        self.weight = ember.Tensor(nInputPlane)
        self.bias = ember.Tensor(nInputPlane)
        self.gradWeight = ember.zeros(nInputPlane)
        self.gradBias = ember.zeros(nInputPlane)
        self.reset()

    def _from_lua(self, version):
        super(SpatialSubSampling, self)._from_lua(version)
        w = self.__dict__.get("weight")
        if ember.is_tensor(w) and w.numel() > self.nInputPlane:
            # a model of an old nn fork stores a kernel per plane; THNN reads its first nInputPlane values
            self.weight = w.contiguous().view(-1)[:self.nInputPlane].clone()
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    def reset(self, stdv=None):
        if stdv is not None:
            stdv = stdv * math.sqrt(3)
        else:
            stdv = 1. / math.sqrt(self.kW * self.kH)
        self.weight.uniform_(-stdv, stdv)
        self.bias.uniform_(-stdv, stdv)
        return self

    # a convolution of each plane with a constant kernel (one group per plane)
    def _kernel(self):
        n = self.nInputPlane
        return self.weight.view(n, 1, 1, 1).expand(n, 1, self.kH, self.kW)

    def updateOutput(self, input):
        self.output = K.conv_forward(input, self._kernel(), self.bias, (self.dH, self.dW), 0, 1, self.nInputPlane)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.conv_backward_input(gradOutput, input, self._kernel(), (self.dH, self.dW), 0, 1,
                                               self.nInputPlane)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, False)

    def backward(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, self.gradInput is not None)
        return self.gradInput

    def _backward(self, input, gradOutput, scale, need_input):
        gi, gw, gb = K.conv_backward(gradOutput, input, self._kernel(), (self.dH, self.dW), 0, 1, self.nInputPlane,
                                     output_mask=(need_input, True, True))
        if need_input:
            self.gradInput = gi
        self.gradWeight.add_(scale, gw.view(self.nInputPlane, -1).sum(1))
        self.gradBias.add_(scale, gb)
