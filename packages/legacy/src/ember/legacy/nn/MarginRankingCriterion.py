from .Criterion import Criterion


class MarginRankingCriterion(Criterion):
    """For a pair ``[x1, x2]`` and targets ``y`` (+1: x1 should rank higher, -1: lower), the mean
    (``sizeAverage``) or sum of ``max(0, -y (x1 - x2) + margin)``. ``y`` may be a number for a pair of
    one-element tensors."""

    def __init__(self, margin=1, sizeAverage=True):
        super(MarginRankingCriterion, self).__init__()
        self.margin = margin
        self.sizeAverage = sizeAverage
        self.gradInput = [self.gradInput.new(1), self.gradInput.new(1)]

    def _from_lua(self, version):
        super(MarginRankingCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)

    def updateOutput(self, input, y):
        a, b = input
        if isinstance(y, (int, float)):
            self.output = max(0, -y * (float(a[0]) - float(b[0])) + self.margin)
            return self.output
        self._output = (a - b).mul_(-1).mul_(y).add_(self.margin).clamp_(min=0)
        self.output = self._output.sum()
        if self.sizeAverage:
            self.output /= y.size(0)
        return self.output

    def updateGradInput(self, input, y):
        a, b = input
        if isinstance(y, (int, float)):
            dist = -y * (float(a[0]) - float(b[0])) + self.margin
            g = 0 if dist < 0 else -y
            self.gradInput = [a.new(1).fill_(g), b.new(1).fill_(-g)]
            return self.gradInput
        dist = (a - b).mul_(-1).mul_(y).add_(self.margin)
        mask = dist.ge(0).type_as(a)
        g1 = mask.mul(y).neg_()
        g2 = mask.mul(y)
        if self.sizeAverage:
            g1.div_(y.size(0))
            g2.div_(y.size(0))
        self.gradInput = [g1, g2]
        return self.gradInput
