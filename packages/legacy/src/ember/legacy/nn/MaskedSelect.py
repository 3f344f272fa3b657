from .Module import Module


class MaskedSelect(Module):
    """``input[0].masked_select(input[1])`` for a pair ``[tensor, ByteTensor mask]``: a vector of the
    selected elements; the gradient of the mask is zero."""

    def updateOutput(self, input):
        t, mask = input
        self.output = t.masked_select(mask)
        return self.output

    def updateGradInput(self, input, gradOutput):
        t, mask = input
        grad = t.new().resize_as_(t).zero_()
        if gradOutput.numel():
            grad.masked_scatter_(mask, gradOutput.contiguous())
        self.gradInput = [grad, mask.new().resize_as_(mask).zero_()]
        return self.gradInput
