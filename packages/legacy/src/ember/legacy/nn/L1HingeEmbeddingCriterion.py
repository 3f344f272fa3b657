import ember

from .Criterion import Criterion


def _label(y):
    return float(y[0]) if ember.is_tensor(y) else y


class L1HingeEmbeddingCriterion(Criterion):
    """For a pair ``[x1, x2]`` and a label ``y`` (+1: similar, -1: dissimilar): the L1 distance ``d`` of the
    pair when ``y = 1``, ``max(0, margin - d)`` when ``y = -1``."""

    _lua_defaults = {"margin": 1}

    def __init__(self, margin=1):
        super(L1HingeEmbeddingCriterion, self).__init__()
        self.margin = margin
        self.gradInput = [ember.Tensor(), ember.Tensor()]

    def updateOutput(self, input, y):
        self.output = input[0].dist(input[1], 1)
        if _label(y) == -1:
            self.output = max(0, self.margin - self.output)
        return self.output

    def updateGradInput(self, input, y):
        diff = input[0] - input[1]
        dist = diff.norm(1)
        g = diff.sign_()
        if _label(y) == -1:
            if dist > self.margin:
                g.zero_()
            else:
                g.neg_()
        self.gradInput = [g, g.neg()]
        return self.gradInput
