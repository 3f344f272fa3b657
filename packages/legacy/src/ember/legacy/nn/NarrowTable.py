from .Module import Module
from .SelectTable import _zeros_like


class NarrowTable(Module):
    """The ``length`` elements of a list starting at ``offset`` (a negative length leaves ``-length - 1``
    elements at the end); the gradient is zero for the other elements."""

    _lua_index_fields = ("offset",)

    def __init__(self, offset, length=1):
        super(NarrowTable, self).__init__()
        self.offset = offset
        self.length = length
        self.output = []
        self.gradInput = []

    def _span(self, input):
        n = len(input)
        length = n - self.offset + self.length + 1 if self.length < 0 else self.length
        if self.offset < 0 or length < 0 or self.offset + length > n:
            raise IndexError("NarrowTable: offset {} and length {} out of range for an input list of {} elements"
                             .format(self.offset, self.length, n))
        return length

    def updateOutput(self, input):
        length = self._span(input)
        self.output = list(input[self.offset:self.offset + length])
        return self.output

    def updateGradInput(self, input, gradOutput):
        length = self._span(input)
        grads = []
        for i, x in enumerate(input):
            if self.offset <= i < self.offset + length:
                grads.append(gradOutput[i - self.offset])
            else:
                grads.append(_zeros_like(x))
        self.gradInput = grads
        return grads

    def type(self, type=None, tensorCache=None):
        if type is not None:
            self.output = []
            self.gradInput = []
        return super(NarrowTable, self).type(type, tensorCache)
