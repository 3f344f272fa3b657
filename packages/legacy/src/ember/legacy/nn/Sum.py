from .Module import Module
from .utils import positive_dim


class Sum(Module):
    """The sum (or with ``sizeAverage`` the mean) over ``dimension``; the dimension is removed unless
    ``squeeze=False`` (or when the input is 1-D). ``nInputDims`` marks inputs with one more dimension as
    batches."""

    _lua_index_fields = ("dimension",)

    def __init__(self, dimension=0, sizeAverage=False, nInputDims=None, squeeze=True):
        super(Sum, self).__init__()
        self.dimension = dimension
        self.sizeAverage = sizeAverage
        self.nInputDims = nInputDims
        self.squeeze = squeeze

    def _from_lua(self, version):
        super(Sum, self)._from_lua(version)
        d = self.__dict__
        d.setdefault("nInputDims", None)
        d.setdefault("sizeAverage", False)
        d.setdefault("squeeze", True)

    def updateOutput(self, input):
        dim = positive_dim(self.dimension, self.nInputDims, input)
        out = input.sum(dim, keepdim=True)
        if self.sizeAverage:
            out.div_(input.size(dim))
        if self.squeeze is not False and out.dim() > 1:
            out = out.select(dim, 0)
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        dim = positive_dim(self.dimension, self.nInputDims, input)
        size = list(input.size())
        size[dim] = 1
        grad = gradOutput.contiguous().view(*size).expand_as(input).clone()
        if self.sizeAverage:
            grad.div_(input.size(dim))
        self.gradInput = grad
        return grad
