import ember
from ember import kernels

from .Module import Module
from .utils import clear


class LookupTable(Module):
    """Row ``i`` of an ``nIndex x nOutput`` weight for each index ``i`` of the input (a vector, or a batch
    matrix of indices; any tensor type, as Lua's nn took). Indices are 0-based. ``paddingValue`` is an
    index whose rows get no gradient (-1: none); with ``maxNorm``, the rows referred to are renormalised
    in place (``normType``-norm at most maxNorm) before each forward pass."""

    def __init__(self, nIndex, nOutput, paddingValue=-1, maxNorm=None, normType=None):
        super(LookupTable, self).__init__()
        self.weight = ember.Tensor(nIndex, nOutput)
        self.gradWeight = ember.Tensor(nIndex, nOutput).zero_()
        self.paddingValue = paddingValue
        self.maxNorm = maxNorm
        self.normType = normType
        self.shouldScaleGradByFreq = False
        self._input = None
        self.reset()

    def _from_lua(self, version):
        super(LookupTable, self)._from_lua(version)
        d = self.__dict__
        # Lua: 0 means no padding index, others are 1-based
        d["paddingValue"] = d.get("paddingValue", 0) - 1 if d.get("paddingValue", 0) > 0 else -1
        d.setdefault("maxNorm", None)
        d.setdefault("normType", None)
        d.setdefault("shouldScaleGradByFreq", False)

    def _to_lua(self):
        fields = super(LookupTable, self)._to_lua()
        fields["paddingValue"] = self.paddingValue + 1 if self.paddingValue >= 0 else 0
        return fields

    def accUpdateOnly(self):
        self.gradWeight = None
        return self

    def setPadding(self, paddingValue):
        self.paddingValue = paddingValue
        return self

    def setMaxNorm(self, maxNorm):
        self.maxNorm = maxNorm
        return self

    def setNormType(self, normType):
        self.normType = normType
        return self

    def scaleGradByFreq(self):
        self.shouldScaleGradByFreq = True
        return self

    def reset(self, stdv=1):
        self.weight.normal_(0, stdv)
        return self

    def _indices(self, input):
        if input.dim() not in (1, 2):
            raise ValueError("LookupTable: input must be a vector or a matrix of indices, got size {}"
                             .format(list(input.size())))
        self._input = input if isinstance(input, ember.LongTensor) else input.long()
        return self._input

    def updateOutput(self, input):
        idx = self._indices(input)
        flat = idx.contiguous().view(-1)
        n = self.weight.size(0)
        if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= n):
            raise IndexError("LookupTable: indices must be in [0, {}), got values in [{}, {}]"
                             .format(n, int(flat.min()), int(flat.max())))
        if self.maxNorm is not None:
            kernels.embedding_renorm_(self.weight, flat, self.maxNorm, self.normType or 2)
        out = self.weight.index_select(0, flat)
        if input.dim() == 2:
            out = out.view(input.size(0), input.size(1), self.weight.size(1))
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        # the input holds indices: its gradient is zero (of the input's type and size)
        if self.gradInput is None or type(self.gradInput) is not type(input) \
                or not self.gradInput.is_same_size(input):
            self.gradInput = input.new().resize_as_(input).zero_()
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        idx = self._input if self._input is not None else self._indices(input)
        grad = kernels.embedding_backward(gradOutput.contiguous(), idx.contiguous(), self.weight.size(0),
                                          self.paddingValue if self.paddingValue >= 0 else None,
                                          self.shouldScaleGradByFreq)
        self.gradWeight.add_(scale, grad)

    def type(self, type=None, tensorCache=None):
        super(LookupTable, self).type(type, tensorCache)
        return self if type is not None else self._type

    def clearState(self):
        clear(self, "_count", "_input")
        self._input = None
        return super(LookupTable, self).clearState()

    def __repr__(self):
        return "nn.LookupTable({}, {})".format(self.weight.size(0), self.weight.size(1))
