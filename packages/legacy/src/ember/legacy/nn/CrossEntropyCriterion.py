from .ClassNLLCriterion import ClassNLLCriterion, class_target
from .Criterion import Criterion
from .LogSoftMax import LogSoftMax


class CrossEntropyCriterion(Criterion):
    """:class:`LogSoftMax` followed by :class:`ClassNLLCriterion` (0-based class targets)."""

    def __init__(self, weights=None, sizeAverage=True):
        super(CrossEntropyCriterion, self).__init__()
        self.lsm = LogSoftMax()
        self.nll = ClassNLLCriterion(weights, sizeAverage)
        self.sizeAverage = sizeAverage

    def _squeezed(self, input, target):
        input = input.squeeze() if input.numel() > 1 else input.view(1)
        target = class_target(target, input)
        target = target.squeeze() if target.numel() > 1 else target.view(1)
        self.nll.sizeAverage = self.sizeAverage
        return input, target

    def updateOutput(self, input, target):
        x, t = self._squeezed(input, target)
        self.lsm.updateOutput(x)
        self.output = self.nll.updateOutput(self.lsm.output, t)
        return self.output

    def updateGradInput(self, input, target):
        x, t = self._squeezed(input, target)
        self.nll.updateGradInput(self.lsm.output, t)
        self.lsm.updateGradInput(x, self.nll.gradInput)
        self.gradInput = self.lsm.gradInput.view(input.size())
        return self.gradInput

    def _from_lua(self, version):
        super(CrossEntropyCriterion, self)._from_lua(version)
        self.__dict__.pop("oldSizeAverage", None)
        self.__dict__.setdefault("sizeAverage", self.nll.sizeAverage)
