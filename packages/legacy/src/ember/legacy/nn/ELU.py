from .Module import Module


class ELU(Module):
    """``y = x if x > 0 else alpha * (exp(x) - 1)`` (Clevert et al., 2015)."""

    _lua_defaults = {"alpha": 1., "inplace": False}

    def __init__(self, alpha=1., inplace=False):
        super(ELU, self).__init__()
        self.alpha = alpha
        self.inplace = inplace

    def updateOutput(self, input):
        neg = input.le(0)
        out = input if self.inplace else input.clone()
        if neg.any():
            out.masked_scatter_(neg, input.masked_select(neg).exp_().add_(-1).mul_(self.alpha))
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        # from the output, as THNN: dy/dx = 1 where y > 0, else y + alpha
        out = self.output
        scale = out.clone().add_(self.alpha)
        scale.masked_fill_(out.gt(0), 1)
        self.gradInput = gradOutput.mul_(scale) if self.inplace else gradOutput.mul(scale)
        return self.gradInput
