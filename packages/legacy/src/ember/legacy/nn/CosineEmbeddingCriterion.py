import ember

from .Criterion import Criterion


class CosineEmbeddingCriterion(Criterion):
    """For pairs of rows ``[x1, x2]`` (N x D) and targets ``y`` (+1 / -1): ``1 - cos(x1, x2)`` where
    ``y = 1`` and ``max(0, cos(x1, x2) - margin)`` where ``y = -1``, averaged over the batch
    (``sizeAverage``) or summed (sums of squares get 1e-12 added, as nn)."""

    def __init__(self, margin=0, sizeAverage=True):
        super(CosineEmbeddingCriterion, self).__init__()
        self.margin = margin
        self.sizeAverage = sizeAverage
        self.gradInput = [ember.Tensor(), ember.Tensor()]

    def _from_lua(self, version):
        super(CosineEmbeddingCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)
        self.__dict__.pop("_idx", None)

    @staticmethod
    def _rows(input, y):
        a, b = input[0], input[1]
        if a.dim() == 1:
            a, b = a.view(1, -1), b.view(1, -1)
        if ember.is_tensor(y):
            y = y.contiguous().view(-1)
        else:
            y = a.new(1).fill_(y)
        return a, b, y

    def updateOutput(self, input, y):
        a, b, y = self._rows(input, y)
        self.w1 = a.mul(b).sum(1, keepdim=True)
        self.w22 = a.mul(a).sum(1, keepdim=True).add_(1e-12).reciprocal_()
        self.w32 = b.mul(b).sum(1, keepdim=True).add_(1e-12).reciprocal_()
        self.w = self.w22.mul(self.w32).sqrt_()
        cos = self.w1.mul(self.w).select(1, 0)
        neg, pos = y.eq(-1), y.eq(1)
        out = cos.clone()
        if neg.any():
            out.masked_scatter_(neg, cos.masked_select(neg).add_(-self.margin).clamp_(min=0))
        if pos.any():
            out.masked_scatter_(pos, cos.masked_select(pos).neg_().add_(1))
        self._outputs = out
        self.output = out.sum()
        if self.sizeAverage:
            self.output /= y.size(0)
        return self.output

    def updateGradInput(self, input, y):
        a, b, y = self._rows(input, y)
        w = self.w.expand_as(a)
        g1 = b.clone().addcmul_(-1, self.w1.mul(self.w22).expand_as(a), a).mul_(w)
        g2 = a.clone().addcmul_(-1, self.w1.mul(self.w32).expand_as(a), b).mul_(w)
        dead = self._outputs.le(0).view(-1, 1).expand_as(g1)
        g1.masked_fill_(dead, 0)
        g2.masked_fill_(dead, 0)
        flip = y.eq(1).type_as(g1).mul_(-2).add_(1).view(-1, 1).expand_as(g1)
        g1.mul_(flip)
        g2.mul_(flip)
        if self.sizeAverage:
            g1.div_(y.size(0))
            g2.div_(y.size(0))
        if input[0].dim() == 1:
            g1, g2 = g1.view(-1), g2.view(-1)
        self.gradInput = [g1, g2]
        return self.gradInput
