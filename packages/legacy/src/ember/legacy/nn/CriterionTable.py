from .Module import Module


class CriterionTable(Module):
    """Wraps a criterion as a module taking ``[input, target]``: the output is the loss and the gradient
    ``[gradient w.r.t. input]``."""

    def __init__(self, criterion):
        super(CriterionTable, self).__init__()
        self.criterion = criterion
        self.gradInput = [criterion.gradInput]

    def updateOutput(self, input):
        self.output = self.criterion.updateOutput(*input)
        return self.output

    def updateGradInput(self, input, gradOutput=None):
        self.gradInput = [self.criterion.updateGradInput(*input)]
        return self.gradInput
