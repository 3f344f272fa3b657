import ember

from .Module import Module


class Index(Module):
    """``input[0].index_select(dimension, input[1])`` for a pair ``[tensor, LongTensor of indices]``; the
    gradient of the indices is zero."""

    _lua_index_fields = ("dimension",)

    def __init__(self, dimension):
        super(Index, self).__init__()
        self.dimension = dimension
        self.gradInput = [self.gradInput, ember.LongTensor()]

    def updateOutput(self, input):
        t, index = input
        self.output = t.index_select(self.dimension, index)
        return self.output

    def updateGradInput(self, input, gradOutput):
        t, index = input
        grad = t.new().resize_as_(t).zero_()
        grad.index_add_(self.dimension, index, gradOutput.contiguous())
        self.gradInput = [grad, index.new().resize_as_(index).zero_()]
        return self.gradInput
