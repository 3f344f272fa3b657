from .Module import Module


class GradientReversal(Module):
    """Identity forward; backward multiplies the gradient by ``-lambd`` (Ganin & Lempitsky, 2015)."""

    _lua_defaults = {"lambd": 1}
    _lua_renames = {"lambda": "lambd"}

    def __init__(self, lambd=1):
        super(GradientReversal, self).__init__()
        self.lambd = lambd

    def setLambda(self, lambd):
        self.lambd = lambd

    def updateOutput(self, input):
        self.output = input.clone()
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.mul(-self.lambd)
        return self.gradInput
