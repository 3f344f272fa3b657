from ember import kernels

from .ClassNLLCriterion import class_target
from .Criterion import Criterion


class MultiLabelMarginCriterion(Criterion):
    """Multi-label hinge loss. Each target row lists the sample's (0-based) labels, ended by -1 (or by the
    row's end); the loss sums ``max(0, 1 - x[label] + x[d])`` over the labels and the other classes ``d``,
    divided by the number of classes (and by the batch size with ``sizeAverage``)."""

    def __init__(self, sizeAverage=True):
        super(MultiLabelMarginCriterion, self).__init__()
        self.sizeAverage = sizeAverage
        self.output_tensor = None

    def _from_lua(self, version):
        super(MultiLabelMarginCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)
        self.__dict__.pop("isTarget", None)  # THNN's buffer

    def updateOutput(self, input, target):
        self.output_tensor = kernels.multilabel_margin_loss_forward(input, class_target(target, input), self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.multilabel_margin_loss_backward(1, input, class_target(target, input), self.sizeAverage)
        return self.gradInput
