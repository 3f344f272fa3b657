from .Module import Module


class TanhShrink(Module):
    """``y = x - tanh(x)``."""

    def updateOutput(self, input):
        self._tanh = input.tanh()
        self.output = input - self._tanh
        return self.output

    def updateGradInput(self, input, gradOutput):
        t = self._tanh
        self.gradInput = t.mul(t).mul_(gradOutput)
        return self.gradInput
