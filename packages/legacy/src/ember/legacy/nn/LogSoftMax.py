from ember import kernels

from .Module import Module
from .SoftMax import _softmax_dim


class LogSoftMax(Module):
    """log(softmax(x)) over the feature dimension, computed stably."""

    def updateOutput(self, input):
        self.output = kernels.log_softmax_forward(input, _softmax_dim(input, "LogSoftMax"))
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = kernels.log_softmax_backward(gradOutput, self.output, _softmax_dim(input, "LogSoftMax"))
        return self.gradInput
