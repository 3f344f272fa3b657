from .Module import Module


class Narrow(Module):
    """``input.narrow(dimension, offset, length)`` copied; a negative ``dimension`` counts from the end, a
    negative ``offset`` from the end of the dimension, and a negative ``length`` leaves ``-length - 1``
    elements at the end (-1: up to the end)."""

    _lua_defaults = {"length": 1}
    _lua_index_fields = ("dimension", "index")

    def __init__(self, dimension, offset, length=1):
        super(Narrow, self).__init__()
        self.dimension = dimension
        self.index = offset
        self.length = length

    def _span(self, input):
        dim = self.dimension + input.dim() if self.dimension < 0 else self.dimension
        if not 0 <= dim < input.dim():
            raise ValueError("Narrow: dimension {} out of range for a {}-D input".format(self.dimension,
                                                                                       input.dim()))
        size = input.size(dim)
        offset = self.index + size if self.index < 0 else self.index
        length = size - offset + self.length + 1 if self.length < 0 else self.length
        if offset < 0 or length < 1 or offset + length > size:
            raise ValueError("Narrow: offset {} and length {} out of range for dimension {} of size {}"
                             .format(self.index, self.length, dim, size))
        return dim, offset, length

    def updateOutput(self, input):
        dim, offset, length = self._span(input)
        self.output = input.narrow(dim, offset, length).clone()
        return self.output

    def updateGradInput(self, input, gradOutput):
        dim, offset, length = self._span(input)
        self.gradInput = input.new().resize_as_(input).zero_()
        self.gradInput.narrow(dim, offset, length).copy_(gradOutput)
        return self.gradInput
