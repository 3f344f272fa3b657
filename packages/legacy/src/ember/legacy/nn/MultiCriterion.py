from .Criterion import Criterion
from .utils import recursiveAdd, recursiveFill, recursiveResizeAs


class MultiCriterion(Criterion):
    """The weighted sum of criteria applied to the same input and target (``add(criterion, weight=1)``)."""

    def __init__(self):
        super(MultiCriterion, self).__init__()
        self.criterions = []
        self.weights = []

    def _from_lua(self, version):
        super(MultiCriterion, self)._from_lua(version)
        w = self.__dict__.get("weights")
        self.weights = [] if w is None else [float(v) for v in w.tolist()] if hasattr(w, "tolist") else list(w)
        self.criterions = list(self.__dict__.get("criterions") or [])

    def _to_lua(self):
        import ember
        fields = super(MultiCriterion, self)._to_lua()
        fields["weights"] = ember.DoubleStorage(self.weights)
        return fields

    def add(self, criterion, weight=1):
        self.criterions.append(criterion)
        self.weights.append(weight)
        return self

    def updateOutput(self, input, target):
        self.output = 0
        for c, w in zip(self.criterions, self.weights):
            self.output += w * c.updateOutput(input, target)
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput, _ = recursiveResizeAs(self.gradInput, input)
        recursiveFill(self.gradInput, 0)
        for c, w in zip(self.criterions, self.weights):
            recursiveAdd(self.gradInput, w, c.updateGradInput(input, target))
        return self.gradInput

    def type(self, type=None, tensorCache=None):
        if type is not None:
            for c in self.criterions:
                c.type(type, tensorCache)
        return super(MultiCriterion, self).type(type, tensorCache)
