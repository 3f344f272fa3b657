from .Module import Module
from .utils import clear, positive_dim


class Max(Module):
    """The maximum over ``dimension`` (removed from the result unless the input is 1-D); the gradient goes
    to the position of each maximum."""

    _lua_index_fields = ("dimension",)
    _reduce = "max"

    def __init__(self, dimension=0, nInputDims=None):
        super(Max, self).__init__()
        self.dimension = dimension
        self.nInputDims = nInputDims
        self._indices = None

    def _from_lua(self, version):
        super(Max, self)._from_lua(version)
        self.__dict__.setdefault("nInputDims", None)
        self.__dict__.setdefault("_indices", None)

    def updateOutput(self, input):
        dim = positive_dim(self.dimension, self.nInputDims, input)
        values, self._indices = getattr(input, self._reduce)(dim, keepdim=True)
        self.output = values.select(dim, 0) if input.dim() > 1 else values
        return self.output

    def updateGradInput(self, input, gradOutput):
        dim = positive_dim(self.dimension, self.nInputDims, input)
        grad = gradOutput.contiguous().view(*self._indices.size()) if input.dim() > 1 else gradOutput
        self.gradInput = input.new().resize_as_(input).zero_().scatter_(dim, self._indices, grad)
        return self.gradInput

    def clearState(self):
        clear(self, "_indices", "_output")
        return super(Max, self).clearState()
