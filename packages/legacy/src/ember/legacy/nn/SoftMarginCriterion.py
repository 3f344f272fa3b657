from ember import kernels

from .Criterion import Criterion


class SoftMarginCriterion(Criterion):
    """The mean (``sizeAverage``) or sum of ``log(1 + exp(-t x))`` (targets +1 / -1)."""

    def __init__(self, sizeAverage=True):
        super(SoftMarginCriterion, self).__init__()
        self.sizeAverage = sizeAverage
        self.output_tensor = None

    def _from_lua(self, version):
        super(SoftMarginCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)

    def updateOutput(self, input, target):
        self.output_tensor = kernels.soft_margin_loss_forward(input, target, self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.soft_margin_loss_backward(1, input, target, self.sizeAverage)
        return self.gradInput
