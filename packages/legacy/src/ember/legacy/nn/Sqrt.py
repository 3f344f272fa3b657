from .Module import Module


class Sqrt(Module):
    """``y = sqrt(x)``. ``eps`` is stored but, as in THNN (which Lua nn and PyTorch 0.2 both ran), not
    added in the forward pass."""

    def __init__(self, b=0, eps=0):
        super(Sqrt, self).__init__()
        # Lua's nn.Sqrt(b) took the epsilon as its first argument
        self.eps = eps or b

    def _from_lua(self, version):
        super(Sqrt, self)._from_lua(version)
        self.__dict__.setdefault("eps", 0)

    def updateOutput(self, input):
        self.output = input.sqrt()
        return self.output

    def updateGradInput(self, input, gradOutput):
        out = self.output
        grad = gradOutput.div(out).mul_(0.5)
        self.gradInput = grad.masked_fill_(out.eq(0), 0)
        return self.gradInput
