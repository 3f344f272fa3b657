from ember import kernels

from .Criterion import Criterion


class DistKLDivCriterion(Criterion):
    """The mean (``sizeAverage``) or sum of ``t (log t - x)`` over ``t > 0``: the KL divergence of the
    target distribution from the input, given as log-probabilities."""

    def __init__(self, sizeAverage=True):
        super(DistKLDivCriterion, self).__init__()
        self.sizeAverage = sizeAverage
        self.output_tensor = None

    def _from_lua(self, version):
        super(DistKLDivCriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)

    def updateOutput(self, input, target):
        self.output_tensor = kernels.kl_div_forward(input, target, self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.kl_div_backward(1, input, target, self.sizeAverage)
        return self.gradInput
