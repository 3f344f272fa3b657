from .Module import Module


class CDivTable(Module):
    """``input[0] / input[1]``, elementwise."""

    def __init__(self):
        super(CDivTable, self).__init__()
        self.gradInput = []

    def updateOutput(self, input):
        self.output = input[0].div(input[1])
        return self.output

    def updateGradInput(self, input, gradOutput):
        g1 = gradOutput.div(input[1])
        g2 = g1.div(input[1]).mul_(input[0]).neg_()
        self.gradInput = [g1, g2]
        return self.gradInput
