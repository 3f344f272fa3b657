from ember import kernels

from .Criterion import Criterion


class SmoothL1Criterion(Criterion):
    """The mean (``sizeAverage``) or sum of ``0.5 d^2`` where ``|d| < 1``, else ``|d| - 0.5`` (``d = x - t``)."""

    def __init__(self, sizeAverage=True):
        super(SmoothL1Criterion, self).__init__()
        self.sizeAverage = sizeAverage
        self.output_tensor = None

    def _from_lua(self, version):
        super(SmoothL1Criterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)

    def updateOutput(self, input, target):
        self.output_tensor = kernels.smooth_l1_loss_forward(input, target, self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.smooth_l1_loss_backward(1, input, target, self.sizeAverage)
        return self.gradInput
