import ember

from .Module import Module


class CosineDistance(Module):
    """The cosine similarity of a pair ``[x1, x2]`` of vectors (a size-1 result) or of each row pair of two
    batch matrices (sums of squares get 1e-12 added, as nn)."""

    def __init__(self):
        super(CosineDistance, self).__init__()
        self.gradInput = [ember.Tensor(), ember.Tensor()]

    @staticmethod
    def _rows(input):
        a, b = input[0].contiguous(), input[1].contiguous()
        if a.dim() == 1:
            a, b = a.view(1, -1), b.view(1, -1)
        return a, b

    def updateOutput(self, input):
        a, b = self._rows(input)
        self.w1 = a.mul(b).sum(1, keepdim=True)
        self.w22 = a.mul(a).sum(1, keepdim=True).add_(1e-12).reciprocal_()
        self.w32 = b.mul(b).sum(1, keepdim=True).add_(1e-12).reciprocal_()
        self.w = self.w22.mul(self.w32).sqrt_()
        self.output = self.w1.mul(self.w).select(1, 0)
        return self.output

    def updateGradInput(self, input, gradOutput):
        a, b = self._rows(input)
        w = self.w.expand_as(a)
        go = gradOutput.contiguous().view(-1, 1).expand_as(a)
        g1 = b.clone().addcmul_(-1, self.w1.mul(self.w22).expand_as(a), a).mul_(w).mul_(go)
        g2 = a.clone().addcmul_(-1, self.w1.mul(self.w32).expand_as(a), b).mul_(w).mul_(go)
        if input[0].dim() == 1:
            g1, g2 = g1.select(0, 0), g2.select(0, 0)
        self.gradInput = [g1, g2]
        return self.gradInput
