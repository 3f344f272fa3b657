from .Module import Module


class Sigmoid(Module):

    def updateOutput(self, input):
        self.output = input.sigmoid()
        return self.output

    def updateGradInput(self, input, gradOutput):
        out = self.output
        self.gradInput = out.neg().add_(1).mul_(out).mul_(gradOutput)
        return self.gradInput
