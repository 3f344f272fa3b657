import ember

from .Container import Container


class Concat(Container):
    """Applies every module to the same input and concatenates their outputs along ``dimension``."""

    _lua_index_fields = ("dimension",)

    def __init__(self, dimension):
        super(Concat, self).__init__()
        self.dimension = dimension
        self.outputSize = None

    def _from_lua(self, version):
        super(Concat, self)._from_lua(version)
        self.outputSize = None

    def _dim(self, t):
        return self.dimension + t.dim() if self.dimension < 0 else self.dimension

    def updateOutput(self, input):
        outs = [m.updateOutput(input) for m in self.modules]
        self.output = ember.cat(outs, self._dim(outs[0]))
        self.outputSize = self.output.size()
        return self.output

    def _backward(self, method, input, gradOutput, scale=None):
        dim = self._dim(gradOutput)
        offset = 0
        grad = None
        for m in self.modules:
            n = m.output.size(dim)
            go = gradOutput.narrow(dim, offset, n)
            args = (input, go) if scale is None else (input, go, scale)
            g = getattr(m, method)(*args)
            if method in ("updateGradInput", "backward"):
                grad = g.clone() if grad is None else grad.add_(g)
            offset += n
        return grad

    def updateGradInput(self, input, gradOutput):
        self.gradInput = self._backward("updateGradInput", input, gradOutput)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward("accGradParameters", input, gradOutput, scale)

    def backward(self, input, gradOutput, scale=1):
        self.gradInput = self._backward("backward", input, gradOutput, scale)
        return self.gradInput

    def accUpdateGradParameters(self, input, gradOutput, lr):
        self._backward("accUpdateGradParameters", input, gradOutput, lr)
