from .Module import Module


class Transpose(Module):
    """Swaps pairs of dimensions in turn: ``Transpose((0, 1), (1, 3))``; the output is a contiguous copy.
    With :meth:`setNumInputDims`, the dimensions count within the last ``numInputDims`` ones."""

    _lua_index_fields = ("permutations",)

    def __init__(self, *args):
        super(Transpose, self).__init__()
        self.permutations = [tuple(p) for p in args]
        self.numInputDims = None

    def _from_lua(self, version):
        super(Transpose, self)._from_lua(version)
        self.__dict__.setdefault("numInputDims", None)

    def setNumInputDims(self, numInputDims):
        self.numInputDims = numInputDims
        return self

    def _offset(self, t):
        return t.dim() - self.numInputDims if self.numInputDims is not None else 0

    def updateOutput(self, input):
        off = self._offset(input)
        for a, b in self.permutations:
            input = input.transpose(a + off, b + off)
        self.output = input.contiguous()
        return self.output

    def updateGradInput(self, input, gradOutput):
        off = self._offset(input)
        for a, b in reversed(self.permutations):
            gradOutput = gradOutput.transpose(a + off, b + off)
        self.gradInput = gradOutput.contiguous()
        return self.gradInput
