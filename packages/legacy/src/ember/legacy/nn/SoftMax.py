from ember import kernels

from .Module import Module


def _softmax_dim(input, name):
    """THNN's softmax dimension: 0 for 1-D and 3-D input (no batch), 1 for 2-D and 4-D (batch first)."""
    nd = input.dim()
    if nd not in (1, 2, 3, 4):
        raise ValueError("{}: expected a 1-D, 2-D, 3-D or 4-D input, got a {}-D one".format(name, nd))
    return 0 if nd in (1, 3) else 1


class SoftMax(Module):
    """Softmax over the feature dimension (see :func:`_softmax_dim`)."""

    def updateOutput(self, input):
        self.output = kernels.softmax_forward(input, _softmax_dim(input, "SoftMax"))
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = kernels.softmax_backward(gradOutput, self.output, _softmax_dim(input, "SoftMax"))
        return self.gradInput
