from .Module import Module


class LogSigmoid(Module):
    """``y = log(1 / (1 + exp(-x)))``."""

    def updateOutput(self, input):
        # log(sigmoid(x)) = -(max(-x, 0) + log(exp(-max) + exp(-x - max))): no overflow for any x
        m = input.neg().clamp_(min=0)
        self._z = m.neg().exp_().add_(input.neg().sub_(m).exp_())
        self.output = self._z.log().add_(m).neg_()
        return self.output

    def updateGradInput(self, input, gradOutput):
        # dy/dx = 1 - sigmoid(x) = exp(-x) / (1 + exp(-x)), computed without overflow
        s = input.neg().sigmoid_()
        self.gradInput = s.mul_(gradOutput)
        return self.gradInput
