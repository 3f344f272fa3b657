from .Criterion import Criterion
from .utils import recursiveAdd, recursiveFill, recursiveResizeAs


class ParallelCriterion(Criterion):
    """The weighted sum of criteria, criterion ``i`` applied to ``input[i]`` and ``target[i]`` (the whole
    target for each with ``repeatTarget=True``)."""

    def __init__(self, repeatTarget=False):
        super(ParallelCriterion, self).__init__()
        self.criterions = []
        self.weights = []
        self.gradInput = []
        self.repeatTarget = repeatTarget

    def _from_lua(self, version):
        super(ParallelCriterion, self)._from_lua(version)
        d = self.__dict__
        d["repeatTarget"] = bool(d.get("repeatTarget", False))
        d["criterions"] = list(d.get("criterions") or [])
        d["weights"] = list(d.get("weights") or [])

    def add(self, criterion, weight=1):
        self.criterions.append(criterion)
        self.weights.append(weight)
        return self

    def updateOutput(self, input, target):
        self.output = 0
        for i, (c, w) in enumerate(zip(self.criterions, self.weights)):
            t = target if self.repeatTarget else target[i]
            self.output += w * c.updateOutput(input[i], t)
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput, _ = recursiveResizeAs(self.gradInput, input)
        recursiveFill(self.gradInput, 0)
        for i, (c, w) in enumerate(zip(self.criterions, self.weights)):
            t = target if self.repeatTarget else target[i]
            recursiveAdd(self.gradInput[i], w, c.updateGradInput(input[i], t))
        return self.gradInput

    def type(self, type=None, tensorCache=None):
        if type is not None:
            self.gradInput = []
        return super(ParallelCriterion, self).type(type, tensorCache)
