import ember

from .Module import Module


class PairwiseDistance(Module):
    """``y = || x1 - x2 ||_p`` for a pair ``[x1, x2]`` of vectors (a size-1 result) or of batch matrices
    (one distance per row)."""

    def __init__(self, p):
        super(PairwiseDistance, self).__init__()
        if p % 1 != 0:
            raise ValueError("PairwiseDistance: only integer norms are supported, got {}".format(p))
        self.gradInput = [ember.Tensor(), ember.Tensor()]
        self.output = ember.Tensor(1)
        self.norm = p

    def updateOutput(self, input):
        a, b = input
        if a.dim() == 1:
            self.output = a.new(1).fill_(a.dist(b, self.norm))
        elif a.dim() == 2:
            self.output = (a - b).abs_().pow_(self.norm).sum(1).pow_(1. / self.norm)
        else:
            raise ValueError("PairwiseDistance: input must be vectors or matrices, got size {}"
                             .format(list(a.size())))
        return self.output

    def updateGradInput(self, input, gradOutput):
        a, b = input
        if a.dim() > 2:
            raise ValueError("PairwiseDistance: input must be vectors or matrices, got size {}"
                             .format(list(a.size())))
        g = a - b
        p = self.norm
        if p == 1:
            g.sign_()
        else:
            # d||d||_p / dd_k = d_k |d_k|^(p-2) / ||d||_p^(p-1); 1e-6 guards a zero distance (as nn)
            if p > 2:
                g.mul_(g.abs().pow_(p - 2))
            if a.dim() > 1:
                g.mul_(self.output.view(-1, 1).add(1e-6).pow_(-(p - 1)).expand_as(g))
            else:
                g.mul_((float(self.output[0]) + 1e-6) ** (-(p - 1)))
        if a.dim() == 1:
            g.mul_(float(gradOutput[0]))
        else:
            g.mul_(gradOutput.contiguous().view(-1, 1).expand_as(g))
        self.gradInput = [g, g.neg()]
        return self.gradInput
