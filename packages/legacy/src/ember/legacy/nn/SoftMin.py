from ember import kernels

from .Module import Module
from .SoftMax import _softmax_dim


class SoftMin(Module):
    """softmax(-x) over the feature dimension."""

    def updateOutput(self, input):
        self.mininput = input.neg()
        self.output = kernels.softmax_forward(self.mininput, _softmax_dim(input, "SoftMin"))
        return self.output

    def updateGradInput(self, input, gradOutput):
        grad = kernels.softmax_backward(gradOutput, self.output, _softmax_dim(input, "SoftMin"))
        self.gradInput = grad.neg_()
        return self.gradInput

    def clearState(self):
        self.mininput = None
        return super(SoftMin, self).clearState()
