import ember

from .Module import Module


class MM(Module):
    """The product of a pair ``[A, B]`` of matrices, or batch matrix product of two 3-D tensors;
    ``transA``/``transB`` transpose the operands first."""

    def __init__(self, transA=False, transB=False):
        super(MM, self).__init__()
        self.transA = transA
        self.transB = transB
        self.gradInput = [ember.Tensor(), ember.Tensor()]

    def _operands(self, input):
        if not isinstance(input, (list, tuple)) or len(input) != 2:
            raise ValueError("MM: input must be a pair of matrices or of batches of matrices")
        a, b = input
        if a.dim() not in (2, 3) or b.dim() != a.dim():
            raise ValueError("MM: input tensors must both be 2-D or both 3-D, got sizes {} and {}"
                             .format(list(a.size()), list(b.size())))
        h, w = a.dim() - 2, a.dim() - 1
        if a.dim() == 3 and a.size(0) != b.size(0):
            raise ValueError("MM: inputs must contain the same number of matrices, got {} and {}"
                             .format(a.size(0), b.size(0)))
        opa = a.transpose(h, w) if self.transA else a
        opb = b.transpose(h, w) if self.transB else b
        if opa.size(w) != opb.size(h):
            raise ValueError("MM: matrix sizes do not match: {} and {}".format(list(opa.size()), list(opb.size())))
        return opa, opb, h, w

    def updateOutput(self, input):
        a, b, h, w = self._operands(input)
        self.output = a.mm(b) if a.dim() == 2 else a.bmm(b)
        return self.output

    def updateGradInput(self, input, gradOutput):
        a, b, h, w = self._operands(input)
        prod = (lambda x, y: x.mm(y)) if a.dim() == 2 else (lambda x, y: x.bmm(y))
        ga = prod(gradOutput, b.transpose(h, w))   # d op(A)
        gb = prod(a.transpose(h, w), gradOutput)   # d op(B)
        self.gradInput = [ga.transpose(h, w).contiguous() if self.transA else ga,
                          gb.transpose(h, w).contiguous() if self.transB else gb]
        return self.gradInput
