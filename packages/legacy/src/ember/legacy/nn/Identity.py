from .Module import Module


class Identity(Module):
    """Passes its input (a tensor or a list) through; the gradient likewise."""

    def updateOutput(self, input):
        self.output = input
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput
        return self.gradInput
