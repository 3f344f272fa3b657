from ember import kernels

from .ClassNLLCriterion import class_target
from .Criterion import Criterion


class MultiMarginCriterion(Criterion):
    """Multi-class hinge loss: per sample, the sum over classes ``d != t`` of
    ``weights[t] * max(0, margin - x[t] + x[d])^p`` divided by the number of classes (``p`` = 1 or 2,
    0-based class targets), averaged over the batch with ``sizeAverage``."""

    def __init__(self, p=1, weights=None, margin=1, sizeAverage=True):
        super(MultiMarginCriterion, self).__init__()
        if p not in (1, 2):
            raise ValueError("MultiMarginCriterion: only p = 1 and p = 2 are supported, got {}".format(p))
        if weights is not None and weights.dim() != 1:
            raise ValueError("MultiMarginCriterion: weights must be a 1-D tensor, got size {}"
                             .format(list(weights.size())))
        self.p = p
        self.margin = margin
        self.weights = weights
        self.sizeAverage = sizeAverage
        self.output_tensor = None

    def _from_lua(self, version):
        super(MultiMarginCriterion, self)._from_lua(version)
        d = self.__dict__
        d.setdefault("weights", None)
        d.setdefault("margin", 1)
        d.setdefault("sizeAverage", True)

    def updateOutput(self, input, target):
        self.output_tensor = kernels.multi_margin_loss_forward(input, class_target(target, input), self.p, self.margin,
                                                               self.weights, self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.multi_margin_loss_backward(1, input, class_target(target, input), self.p, self.margin,
                                                            self.weights, self.sizeAverage)
        return self.gradInput
