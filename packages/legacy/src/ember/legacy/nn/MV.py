import ember

from .Module import Module


class MV(Module):
    """The product of a pair ``[M, v]`` (matrix, vector), or of batches (3-D, 2-D); ``trans`` transposes
    the matrices first."""

    def __init__(self, trans=False):
        super(MV, self).__init__()
        self.trans = trans
        self.gradInput = [ember.Tensor(), ember.Tensor()]

    def _operands(self, input):
        if not isinstance(input, (list, tuple)) or len(input) != 2:
            raise ValueError("MV: input must be a pair [matrix, vector] or of batches of them")
        m, v = input
        if not ((m.dim() == 2 and v.dim() == 1) or (m.dim() == 3 and v.dim() == 2)):
            raise ValueError("MV: expected a 2-D matrix and a vector, or a 3-D batch of matrices and a 2-D batch "
                             "of vectors, got sizes {} and {}".format(list(m.size()), list(v.size())))
        if self.trans:
            m = m.transpose(m.dim() - 2, m.dim() - 1)
        if m.size(m.dim() - 1) != v.size(v.dim() - 1):
            raise ValueError("MV: matrix of size {} and vector of size {} do not match"
                             .format(list(m.size()), list(v.size())))
        return m, v

    def updateOutput(self, input):
        m, v = self._operands(input)
        if m.dim() == 2:
            self.output = m.mv(v)
        else:
            self.output = m.bmm(v.contiguous().view(v.size(0), v.size(1), 1)).view(m.size(0), m.size(1))
        return self.output

    def updateGradInput(self, input, gradOutput):
        m, v = self._operands(input)
        if m.dim() == 2:
            gm = gradOutput.contiguous().view(-1, 1).mm(v.contiguous().view(1, -1))   # d op(M)
            gv = m.t().mv(gradOutput)
        else:
            b = m.size(0)
            go = gradOutput.contiguous().view(b, -1, 1)
            gm = go.bmm(v.contiguous().view(b, 1, -1))
            gv = m.transpose(1, 2).bmm(go).view(b, -1)
        if self.trans:
            gm = gm.transpose(gm.dim() - 2, gm.dim() - 1).contiguous()
        self.gradInput = [gm, gv]
        return self.gradInput
