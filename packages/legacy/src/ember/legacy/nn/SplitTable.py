from .Module import Module
from .utils import positive_dim


class SplitTable(Module):
    """The slices of the input along ``dimension`` as a list (views sharing its memory). With
    ``nInputDims``, inputs with one more dimension are batches and the dimension shifts by one."""

    _lua_index_fields = ("dimension",)

    def __init__(self, dimension, nInputDims=None):
        super(SplitTable, self).__init__()
        self.dimension = dimension
        self.nInputDims = nInputDims

    def _from_lua(self, version):
        super(SplitTable, self)._from_lua(version)
        self.__dict__.setdefault("nInputDims", None)

    def updateOutput(self, input):
        dim = positive_dim(self.dimension, self.nInputDims, input)
        self.output = [input.select(dim, i) for i in range(input.size(dim))]
        return self.output

    def updateGradInput(self, input, gradOutput):
        dim = positive_dim(self.dimension, self.nInputDims, input)
        grad = input.new().resize_as_(input)
        for i, g in enumerate(gradOutput):
            grad.select(dim, i).copy_(g)
        self.gradInput = grad
        return grad
