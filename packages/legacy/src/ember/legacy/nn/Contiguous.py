from .Module import Module


class Contiguous(Module):
    """Its input when contiguous, else a contiguous copy; the same for the gradient."""

    def updateOutput(self, input):
        self.output = input if input.is_contiguous() else input.contiguous()
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput if gradOutput.is_contiguous() else gradOutput.contiguous()
        return self.gradInput
