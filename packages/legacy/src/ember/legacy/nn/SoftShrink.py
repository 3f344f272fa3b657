from .Module import Module


class SoftShrink(Module):
    """``y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0``."""

    _lua_defaults = {"lambd": 0.5}
    _lua_renames = {"lambda": "lambd"}

    def __init__(self, lambd=0.5):
        super(SoftShrink, self).__init__()
        self.lambd = lambd

    def updateOutput(self, input):
        lam = self.lambd
        out = input.clone().zero_()
        pos, neg = input.gt(lam), input.lt(-lam)
        if pos.any():
            out.masked_scatter_(pos, input.masked_select(pos).add_(-lam))
        if neg.any():
            out.masked_scatter_(neg, input.masked_select(neg).add_(lam))
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        lam = self.lambd
        keep = input.gt(lam).add_(input.lt(-lam))
        self.gradInput = gradOutput.clone().masked_fill_(keep.eq(0), 0)
        return self.gradInput
