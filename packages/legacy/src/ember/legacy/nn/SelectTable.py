import ember

from .Module import Module


def _zeros_like(x):
    if isinstance(x, (list, tuple)):
        return [_zeros_like(v) for v in x]
    return x.new().resize_as_(x).zero_()


def _copy(x):
    if isinstance(x, (list, tuple)):
        return [_copy(v) for v in x]
    return x.clone()


class SelectTable(Module):
    """Element ``index`` of a list (negative: from the end); the gradient is zero for the other elements."""

    _lua_index_fields = ("index",)

    def __init__(self, index):
        super(SelectTable, self).__init__()
        self.index = index
        self.gradInput = []

    def _at(self, input):
        n = len(input)
        index = self.index + n if self.index < 0 else self.index
        if not 0 <= index < n:
            raise IndexError("SelectTable: index {} does not exist in an input list of {} elements"
                             .format(self.index, n))
        return index

    def updateOutput(self, input):
        self.output = input[self._at(input)]
        return self.output

    def updateGradInput(self, input, gradOutput):
        index = self._at(input)
        grads = [_zeros_like(x) if i != index else None for i, x in enumerate(input)]
        grads[index] = _copy(gradOutput)
        self.gradInput = grads
        return grads

    def type(self, type=None, tensorCache=None):
        if type is not None:
            self.gradInput = []
            if not ember.is_tensor(self.output):
                self.output = []
        return super(SelectTable, self).type(type, tensorCache)

    def __repr__(self):
        return "nn.SelectTable({})".format(self.index)
