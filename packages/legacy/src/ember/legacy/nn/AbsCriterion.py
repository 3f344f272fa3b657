from ember import kernels

from .Criterion import Criterion


class AbsCriterion(Criterion):
    """The mean (``sizeAverage``) or sum of ``|x - t|``."""

    def __init__(self, sizeAverage=True):
        super(AbsCriterion, self).__init__()
        self.sizeAverage = sizeAverage
        self.output_tensor = None

    def _from_lua(self, version):
        super(AbsCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)

    def updateOutput(self, input, target):
        self.output_tensor = kernels.l1_loss_forward(input, target, self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.l1_loss_backward(1, input, target, self.sizeAverage)
        return self.gradInput
