from .Module import Module


class Select(Module):
    """``input.select(dimension, index)`` copied; negative values count from the end."""

    _lua_index_fields = ("dimension", "index")

    def __init__(self, dimension, index):
        super(Select, self).__init__()
        self.dimension = dimension
        self.index = index

    def _at(self, input):
        dim = self.dimension + input.dim() if self.dimension < 0 else self.dimension
        if not 0 <= dim < input.dim():
            raise ValueError("Select: dimension {} out of range for a {}-D input".format(self.dimension,
                                                                                       input.dim()))
        index = self.index + input.size(dim) if self.index < 0 else self.index
        if not 0 <= index < input.size(dim):
            raise ValueError("Select: index {} out of range for dimension {} of size {}"
                             .format(self.index, dim, input.size(dim)))
        return dim, index

    def updateOutput(self, input):
        dim, index = self._at(input)
        self.output = input.select(dim, index).clone()
        return self.output

    def updateGradInput(self, input, gradOutput):
        dim, index = self._at(input)
        self.gradInput = input.new().resize_as_(input).zero_()
        self.gradInput.select(dim, index).copy_(gradOutput)
        return self.gradInput
