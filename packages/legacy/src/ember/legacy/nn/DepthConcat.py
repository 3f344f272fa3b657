from .Concat import Concat


class DepthConcat(Concat):
    """:class:`Concat` for outputs whose other dimensions differ (feature maps of different sizes): each is
    centred in a zero tensor of the largest size before concatenation along ``dimension``."""

    def _window(self, output, current, offset):
        """The part of ``output`` where ``current`` goes."""
        window = output.narrow(self.dimension, offset, current.size(self.dimension))
        for d in range(output.dim()):
            n = current.size(d)
            if d != self.dimension and output.size(d) != n:
                window = window.narrow(d, (output.size(d) - n) // 2, n)
        return window

    def updateOutput(self, input):
        outs = [m.updateOutput(input) for m in self.modules]
        size = list(outs[0].size())
        for o in outs[1:]:
            if o.dim() != len(size):
                raise ValueError("DepthConcat: outputs of {} and {} dimensions".format(len(size), o.dim()))
            for d in range(len(size)):
                size[d] = size[d] + o.size(d) if d == self.dimension else max(size[d], o.size(d))
        out = outs[0].new(*size).zero_()
        offset = 0
        for o in outs:
            self._window(out, o, offset).copy_(o)
            offset += o.size(self.dimension)
        self.output = out
        self.outputSize = out.size()
        return out

    def _backward(self, method, input, gradOutput, scale=None):
        offset = 0
        grad = None
        for m in self.modules:
            go = self._window(gradOutput, m.output, offset)
            args = (input, go) if scale is None else (input, go, scale)
            g = getattr(m, method)(*args)
            if method in ("updateGradInput", "backward"):
                grad = g.clone() if grad is None else grad.add_(g)
            offset += m.output.size(self.dimension)
        return grad
