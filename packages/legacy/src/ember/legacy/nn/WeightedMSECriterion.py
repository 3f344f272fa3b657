from ember import kernels

from .Criterion import Criterion


class WeightedMSECriterion(Criterion):
    """:class:`MSECriterion` against the target multiplied elementwise by ``weight`` (a sample's size; a
    batch applies it to every sample), as Lua's nn defines it."""

    def __init__(self, weight, sizeAverage=True):
        super(WeightedMSECriterion, self).__init__()
        self.weight = weight.clone()
        self.sizeAverage = sizeAverage
        self.buffer = None
        self.output_tensor = None

    def _from_lua(self, version):
        super(WeightedMSECriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)

    def _weighted(self, input, target):
        t = target.contiguous().view_as(input)
        if input.dim() - 1 == self.weight.dim():
            w = self.weight.contiguous().view(1, *self.weight.size()).expand_as(input)
        else:
            w = self.weight.contiguous().view_as(input)
        self.buffer = t.mul(w)
        return self.buffer

    def updateOutput(self, input, target):
        self.output_tensor = kernels.mse_loss_forward(input, self._weighted(input, target), self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.mse_loss_backward(1, input, self._weighted(input, target), self.sizeAverage)
        return self.gradInput
