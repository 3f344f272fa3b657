import ember

from .Module import Module


class DotProduct(Module):
    """The dot product of a pair ``[x1, x2]`` of vectors (a size-1 result) or of each row pair of two batch
    matrices."""

    def __init__(self):
        super(DotProduct, self).__init__()
        self.gradInput = [ember.Tensor(), ember.Tensor()]

    def updateOutput(self, input):
        a, b = input
        if a.dim() == 1:
            a, b = a.contiguous().view(1, -1), b.contiguous().view(1, -1)
        self.output = a.mul(b).sum(1)
        return self.output

    def updateGradInput(self, input, gradOutput):
        a, b = input
        go = gradOutput.contiguous().view(-1, 1)
        if a.dim() == 1:
            go = go.view(-1)
        self.gradInput = [b.mul(go.expand_as(b)), a.mul(go.expand_as(a))]
        return self.gradInput
