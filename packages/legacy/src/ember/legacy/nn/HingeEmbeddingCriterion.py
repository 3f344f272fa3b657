from .Criterion import Criterion


def _as_tensor(y, like):
    if isinstance(y, (int, float)):
        return like.new(1).fill_(y)
    return y


class HingeEmbeddingCriterion(Criterion):
    """For targets ``y`` of +1 / -1: the mean (``sizeAverage``) or sum of ``x`` where ``y = 1`` and
    ``max(0, margin - x)`` where ``y = -1`` (``x`` usually a distance)."""

    def __init__(self, margin=1, sizeAverage=True):
        super(HingeEmbeddingCriterion, self).__init__()
        self.margin = margin
        self.sizeAverage = sizeAverage

    def _from_lua(self, version):
        super(HingeEmbeddingCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)

    def updateOutput(self, input, y):
        y = _as_tensor(y, input).view_as(input)
        pos = input.clone().masked_fill_(y.eq(-1), 0).sum()
        neg = input.neg().add_(self.margin).clamp_(min=0).masked_fill_(y.eq(1), 0).sum()
        self.output = pos + neg
        if self.sizeAverage is not False:
            self.output /= input.numel()
        return self.output

    def updateGradInput(self, input, y):
        y = _as_tensor(y, input).view_as(input)
        grad = y.clone().masked_fill_(y.eq(-1).mul_(input.gt(self.margin)), 0)
        if self.sizeAverage is not False:
            grad.mul_(1. / input.numel())
        self.gradInput = grad
        return grad
