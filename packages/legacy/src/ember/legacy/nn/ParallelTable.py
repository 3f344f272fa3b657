from .Container import Container


class ParallelTable(Container):
    """Applies module ``i`` to element ``i`` of a list input; the output is the list of their outputs."""

    def __init__(self):
        super(ParallelTable, self).__init__()
        self.output = []
        self.gradInput = []

    def _check(self, input):
        if len(input) > len(self.modules):
            raise ValueError("ParallelTable: an input list of {} elements for {} modules"
                             .format(len(input), len(self.modules)))

    def updateOutput(self, input):
        self._check(input)
        self.output = [m.updateOutput(x) for m, x in zip(self.modules, input)]
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = [m.updateGradInput(x, g) for m, x, g in zip(self.modules, input, gradOutput)]
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        for m, x, g in zip(self.modules, input, gradOutput):
            m.accGradParameters(x, g, scale)

    def backward(self, input, gradOutput, scale=1):
        self.gradInput = [m.backward(x, g, scale) for m, x, g in zip(self.modules, input, gradOutput)]
        return self.gradInput

    def accUpdateGradParameters(self, input, gradOutput, lr):
        for m, x, g in zip(self.modules, input, gradOutput):
            m.accUpdateGradParameters(x, g, lr)
