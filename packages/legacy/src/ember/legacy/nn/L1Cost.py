from .Criterion import Criterion


class L1Cost(Criterion):
    """``|x|_1`` of the input (the target is ignored); the gradient is ``sign(x)``."""

    def updateOutput(self, input, target=None):
        self.output = input.norm(1)
        return self.output

    def updateGradInput(self, input, target=None):
        self.gradInput = input.sign()
        return self.gradInput
