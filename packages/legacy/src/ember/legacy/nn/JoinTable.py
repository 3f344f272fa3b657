import ember

from .Module import Module
from .utils import positive_dim


class JoinTable(Module):
    """The tensors of a list concatenated along ``dimension`` (negative: from the end). With
    ``nInputDims``, inputs with one more dimension are batches and the dimension shifts by one."""

    _lua_index_fields = ("dimension",)

    def __init__(self, dimension, nInputDims=None):
        super(JoinTable, self).__init__()
        self.dimension = dimension
        self.nInputDims = nInputDims
        self.gradInput = []

    def _from_lua(self, version):
        super(JoinTable, self)._from_lua(version)
        self.__dict__.setdefault("nInputDims", None)
        self.__dict__.pop("size", None)  # Lua's buffer

    def updateOutput(self, input):
        dim = positive_dim(self.dimension, self.nInputDims, input[0])
        self.output = ember.cat(list(input), dim)
        return self.output

    def updateGradInput(self, input, gradOutput):
        dim = positive_dim(self.dimension, self.nInputDims, input[0])
        grads = []
        offset = 0
        for t in input:
            n = t.size(dim)
            grads.append(gradOutput.narrow(dim, offset, n).clone())
            offset += n
        self.gradInput = grads
        return grads
