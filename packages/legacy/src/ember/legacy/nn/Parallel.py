import ember

from .Container import Container


class Parallel(Container):
    """Applies module ``i`` to slice ``i`` of the input along ``inputDimension`` and concatenates the outputs
    along ``outputDimension``."""

    _lua_index_fields = ("inputDimension", "outputDimension")

    def __init__(self, inputDimension, outputDimension):
        super(Parallel, self).__init__()
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.totalOutputSize = None

    def _from_lua(self, version):
        super(Parallel, self)._from_lua(version)
        self.totalOutputSize = None

    def _check(self, input):
        n = input.size(self.inputDimension)
        if n > len(self.modules):
            raise ValueError("Parallel: {} slices along dimension {} for {} modules"
                             .format(n, self.inputDimension, len(self.modules)))
        return n

    def updateOutput(self, input):
        n = self._check(input)
        outs = [self.modules[i].updateOutput(input.select(self.inputDimension, i)) for i in range(n)]
        self.output = ember.cat(outs, self.outputDimension)
        self.totalOutputSize = self.output.size()
        return self.output

    def _backward(self, method, input, gradOutput, scale=None):
        n = self._check(input)
        grad = input.new().resize_as_(input) if method in ("updateGradInput", "backward") else None
        offset = 0
        for i in range(n):
            m = self.modules[i]
            size = m.output.size(self.outputDimension)
            go = gradOutput.narrow(self.outputDimension, offset, size)
            x = input.select(self.inputDimension, i)
            g = getattr(m, method)(x, go) if scale is None else getattr(m, method)(x, go, scale)
            if grad is not None:
                grad.select(self.inputDimension, i).copy_(g)
            offset += size
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
