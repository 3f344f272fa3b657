from .Module import Module


class CSubTable(Module):
    """``input[0] - input[1]``."""

    def __init__(self):
        super(CSubTable, self).__init__()
        self.gradInput = []

    def updateOutput(self, input):
        self.output = input[0] - input[1]
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = [gradOutput.clone(), gradOutput.neg()]
        return self.gradInput
