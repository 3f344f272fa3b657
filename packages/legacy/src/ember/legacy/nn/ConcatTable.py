from .Container import Container


def _accumulate(acc, g):
    """``acc + g`` through nested lists (``acc`` None: a copy of ``g``)."""
    if isinstance(g, (list, tuple)):
        if acc is None:
            return [_accumulate(None, v) for v in g]
        if len(acc) != len(g):
            raise ValueError("ConcatTable: the modules' gradInputs have different lengths ({} and {})"
                             .format(len(acc), len(g)))
        return [_accumulate(a, v) for a, v in zip(acc, g)]
    return g.clone() if acc is None else acc.add_(g)


class ConcatTable(Container):
    """Applies every module to the same input; the output is the list of their outputs. The gradient with
    respect to the input is the sum of theirs (elementwise through lists when the input is a list)."""

    def __init__(self):
        super(ConcatTable, self).__init__()
        self.output = []

    def updateOutput(self, input):
        self.output = [m.updateOutput(input) for m in self.modules]
        return self.output

    def _backward(self, method, input, gradOutput, scale=1):
        grad = None
        for i, m in enumerate(self.modules):
            g = getattr(m, method)(input, gradOutput[i], scale) if method == "backward" \
                else getattr(m, method)(input, gradOutput[i])
            if isinstance(input, (list, tuple)) and not isinstance(g, (list, tuple)):
                raise TypeError("ConcatTable: module {} returned a tensor as the gradient of a list input".format(i))
            grad = _accumulate(grad, g)
        return grad

    def updateGradInput(self, input, gradOutput):
        self.gradInput = self._backward("updateGradInput", input, gradOutput)
        return self.gradInput

    def backward(self, input, gradOutput, scale=1):
        self.gradInput = self._backward("backward", input, gradOutput, scale)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        for i, m in enumerate(self.modules):
            m.accGradParameters(input, gradOutput[i], scale)

    def accUpdateGradParameters(self, input, gradOutput, lr):
        for i, m in enumerate(self.modules):
            m.accUpdateGradParameters(input, gradOutput[i], lr)
