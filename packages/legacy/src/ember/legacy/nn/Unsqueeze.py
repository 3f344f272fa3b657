from .Module import Module


class Unsqueeze(Module):
    """Inserts a size-1 dimension at ``dim`` (counted within the last ``numInputDims`` dimensions when
    given, so that batches work)."""

    _lua_index_fields = ("pos",)

    def __init__(self, dim, numInputDims=None):
        super(Unsqueeze, self).__init__()
        if dim < 0:
            raise ValueError("Unsqueeze: dim must be non-negative, got {}".format(dim))
        self.pos = dim
        self.numInputDims = numInputDims

    def _from_lua(self, version):
        super(Unsqueeze, self)._from_lua(version)
        self.__dict__.setdefault("numInputDims", None)

    def setNumInputDims(self, numInputDims):
        self.numInputDims = numInputDims
        return self

    def updateOutput(self, input):
        size = list(input.size())
        n = self.numInputDims if self.numInputDims is not None else input.dim()
        offset = len(size) - n
        if offset < 0:
            raise ValueError("Unsqueeze: numInputDims ({}) exceeds the input's {} dimensions"
                             .format(n, input.dim()))
        if offset + self.pos > len(size):
            raise ValueError("Unsqueeze: dimension {} out of range for a {}-D input".format(offset + self.pos,
                                                                                          input.dim()))
        size.insert(offset + self.pos, 1)
        self.output = input.contiguous().view(*size)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.contiguous().view_as(input)
        return self.gradInput

    def __repr__(self):
        return "nn.Unsqueeze(dim {})".format(self.pos)
