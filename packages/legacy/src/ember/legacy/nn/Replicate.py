import ember

from .Module import Module


class Replicate(Module):
    """``nf`` copies of the input stacked along a new dimension ``dim`` (a zero-stride view, no copy); with
    ``ndim``, inputs with more than ``ndim`` dimensions are batches and the new dimension moves right by one."""

    _lua_index_fields = ("dim",)

    def __init__(self, nf, dim=0, ndim=None):
        super(Replicate, self).__init__()
        if dim < 0:
            raise ValueError("Replicate: can only replicate across non-negative dimensions, got {}".format(dim))
        self.nfeatures = nf
        self.dim = dim
        self.ndim = ndim

    def _from_lua(self, version):
        super(Replicate, self)._from_lua(version)
        self.__dict__.setdefault("dim", 0)
        self.__dict__.setdefault("ndim", None)

    def _rdim(self, input):
        rdim = self.dim + (1 if self.ndim is not None and input.dim() > self.ndim else 0)
        if rdim > input.dim():
            raise ValueError("Replicate: not enough input dimensions ({}) to replicate along dimension {}"
                             .format(input.dim(), rdim))
        return rdim

    def updateOutput(self, input):
        rdim = self._rdim(input)
        size = list(input.size())
        stride = list(input.stride())
        size.insert(rdim, self.nfeatures)
        stride.insert(rdim, 0)
        self.output = input.new().set_(input.storage(), input.storage_offset(), ember.Size(size), tuple(stride))
        return self.output

    def updateGradInput(self, input, gradOutput):
        rdim = self._rdim(input)
        self.gradInput = gradOutput.sum(rdim).view_as(input)
        return self.gradInput
