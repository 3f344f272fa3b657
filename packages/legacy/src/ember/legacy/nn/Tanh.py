from .Module import Module


class Tanh(Module):

    def updateOutput(self, input):
        self.output = input.tanh()
        return self.output

    def updateGradInput(self, input, gradOutput):
        out = self.output
        self.gradInput = out.mul(out).neg_().add_(1).mul_(gradOutput)
        return self.gradInput
