from .Criterion import Criterion


class MarginCriterion(Criterion):
    """Two-class hinge loss: the mean (``sizeAverage``) or sum of ``max(0, margin - x * y)`` for targets
    ``y`` of +1 / -1."""

    def __init__(self, margin=1, sizeAverage=True):
        super(MarginCriterion, self).__init__()
        self.margin = margin
        self.sizeAverage = sizeAverage

    def _from_lua(self, version):
        super(MarginCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)
        self.__dict__.setdefault("margin", 1)

    def _check(self, input, target):
        if input.numel() != target.numel():
            raise ValueError("MarginCriterion: input and target size mismatch ({} and {} elements)"
                             .format(input.numel(), target.numel()))
        return target.contiguous().view_as(input)

    def updateOutput(self, input, target):
        t = self._check(input, target)
        self.output = input.mul(t).neg_().add_(self.margin).clamp_(min=0).sum()
        if self.sizeAverage:
            self.output /= input.numel()
        return self.output

    def updateGradInput(self, input, target):
        t = self._check(input, target)
        active = input.mul(t).lt(self.margin).type_as(input)
        grad = t.neg().mul_(active)
        if self.sizeAverage:
            grad.div_(input.numel())
        self.gradInput = grad
        return grad
