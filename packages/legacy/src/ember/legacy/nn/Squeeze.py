from .Module import Module


class Squeeze(Module):
    """Removes size-1 dimensions (only ``dim`` when given). With ``numInputDims``, an input with one more
    dimension is a batch: ``dim`` shifts by one, and a batch of one keeps its batch dimension."""

    _lua_index_fields = ("dim",)

    def __init__(self, dim=None, numInputDims=None):
        super(Squeeze, self).__init__()
        self.dim = dim
        self.numInputDims = numInputDims

    def _from_lua(self, version):
        super(Squeeze, self)._from_lua(version)
        self.__dict__.setdefault("dim", None)
        self.__dict__.setdefault("numInputDims", None)

    def setNumInputDims(self, numInputDims):
        self.numInputDims = numInputDims
        return self

    def updateOutput(self, input):
        dim = self.dim
        keep_batch = False
        if self.numInputDims is not None and input.dim() == self.numInputDims + 1:
            if dim is not None:
                dim += 1
            elif input.size(0) == 1:
                keep_batch = True
        out = input.squeeze(dim) if dim is not None else input.squeeze()
        if keep_batch:
            out = out.view(1, *out.size())
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.contiguous().view_as(input)
        return self.gradInput
