import math

import ember
import ember.kernels as K

from .Module import Module
from ._helpers import check_dims, ensure_grad


class TemporalConvolution(Module):
    """1-D convolution over time of a sequence of frames: input ``nInputFrame x inputFrameSize`` (or a batch,
    ``N x nInputFrame x inputFrameSize``), output ``nOutputFrame x outputFrameSize`` with
    ``nOutputFrame = (nInputFrame - kW) // dW + 1``. ``weight`` is ``outputFrameSize x (kW*inputFrameSize)``:
    row ``o`` holds the ``kW`` consecutive frames' weights one frame after the other."""

    def __init__(self, inputFrameSize, outputFrameSize, kW, dW=1):
        super(TemporalConvolution, self).__init__()
        self.inputFrameSize = inputFrameSize
        self.outputFrameSize = outputFrameSize
        self.kW = kW
        self.dW = dW
        self.weight = ember.Tensor(outputFrameSize, inputFrameSize * kW)
        self.bias = ember.Tensor(outputFrameSize)
        self.gradWeight = ember.Tensor(outputFrameSize, inputFrameSize * kW).zero_()
        self.gradBias = ember.Tensor(outputFrameSize).zero_()
        self.reset()

    def _from_lua(self, version):
        super(TemporalConvolution, self)._from_lua(version)
        self.__dict__.setdefault("dW", 1)
        self.__dict__.setdefault("bias", None)
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    def reset(self, stdv=None):
        if stdv is not None:
            stdv = stdv * math.sqrt(3)
        else:
            stdv = 1. / math.sqrt(self.kW * self.inputFrameSize)
        self.weight.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.uniform_(-stdv, stdv)
        return self

    # The kernels see a (N x) inputFrameSize x nInputFrame signal and an
    # outputFrameSize x inputFrameSize x kW weight: transposed views of Lua's layouts.
    def _signal(self, input):
        check_dims(self, input, (2, 3))
        if input.size(input.dim() - 1) != self.inputFrameSize:
            raise RuntimeError("nn.TemporalConvolution: invalid input frame size: expected {}, got {} (input of "
                               "size {})".format(self.inputFrameSize, input.size(input.dim() - 1),
                                                 list(input.size())))
        return input.transpose(input.dim() - 2, input.dim() - 1)

    def _weight3(self):
        return self.weight.view(self.outputFrameSize, self.kW, self.inputFrameSize).transpose(1, 2)

    def updateOutput(self, input):
        y = K.conv_forward(self._signal(input), self._weight3(), self.bias, self.dW)
        self.output = y.transpose(y.dim() - 2, y.dim() - 1).contiguous()
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        x = self._signal(input)
        n = gradOutput.dim()
        gi = K.conv_backward_input(gradOutput.transpose(n - 2, n - 1), x.size(), self._weight3(), self.dW)
        self.gradInput = gi.transpose(n - 2, n - 1).contiguous()
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, False)

    def backward(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, self.gradInput is not None)
        return self.gradInput

    def _backward(self, input, gradOutput, scale, need_input):
        x = self._signal(input)
        n = gradOutput.dim()
        has_bias = self.bias is not None
        gi, gw, gb = K.conv_backward(gradOutput.transpose(n - 2, n - 1), x, self._weight3(), self.dW,
                                     output_mask=(need_input, True, has_bias))
        if need_input:
            self.gradInput = gi.transpose(n - 2, n - 1).contiguous()
        # back to Lua's layout: outputFrameSize x kW x inputFrameSize
        self.gradWeight.view(self.outputFrameSize, self.kW, self.inputFrameSize).add_(scale, gw.transpose(1, 2))
        if has_bias:
            self.gradBias.add_(scale, gb)
