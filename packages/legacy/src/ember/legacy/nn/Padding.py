from .Module import Module


class Padding(Module):
    """Inserts ``|pad|`` elements of ``value`` along ``dim``. With ``pad < 0`` they go before position
    ``index``, counted from the start; with ``pad > 0`` after the ``index``-th element counted from the end
    (index 0: before the start / after the end). With ``nInputDim``, inputs with more dimensions are batches
    and ``dim`` shifts by one."""

    _lua_index_fields = ("dim", "index")

    def __init__(self, dim, pad, value=0, index=0, nInputDim=None):
        super(Padding, self).__init__()
        self.dim = dim
        self.pad = pad
        self.value = value
        self.index = index
        self.nInputDim = nInputDim

    def _from_lua(self, version):
        super(Padding, self)._from_lua(version)
        d = self.__dict__
        d.setdefault("nInputDim", None)
        d.setdefault("value", 0)
        d.setdefault("index", 0)

    def _layout(self, input):
        dim = self.dim
        if self.nInputDim and input.dim() != self.nInputDim:
            dim += 1
        n = input.size(dim)
        pad = abs(self.pad)
        # the number of input elements before the padding
        before = n - self.index if self.pad > 0 else self.index
        if not 0 <= before <= n:
            raise ValueError("Padding: index {} out of range for dimension {} of size {}".format(self.index, dim,
                                                                                                n))
        return dim, n, pad, before

    def updateOutput(self, input):
        dim, n, pad, before = self._layout(input)
        size = list(input.size())
        size[dim] += pad
        out = input.new(*size).fill_(self.value)
        if before:
            out.narrow(dim, 0, before).copy_(input.narrow(dim, 0, before))
        if before < n:
            out.narrow(dim, before + pad, n - before).copy_(input.narrow(dim, before, n - before))
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        dim, n, pad, before = self._layout(input)
        grad = input.new().resize_as_(input)
        if before:
            grad.narrow(dim, 0, before).copy_(gradOutput.narrow(dim, 0, before))
        if before < n:
            grad.narrow(dim, before, n - before).copy_(gradOutput.narrow(dim, before + pad, n - before))
        self.gradInput = grad
        return grad
