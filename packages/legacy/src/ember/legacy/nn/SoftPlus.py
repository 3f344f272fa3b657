from .Module import Module


class SoftPlus(Module):
    """``y = log(1 + exp(beta * x)) / beta``; linear where ``beta * x > threshold`` (20)."""

    _lua_defaults = {"beta": 1, "threshold": 20}

    def __init__(self, beta=1, threshold=20):
        super(SoftPlus, self).__init__()
        self.beta = beta
        self.threshold = threshold

    def updateOutput(self, input):
        bx = input.mul(self.beta)
        out = bx.exp().log1p_().div_(self.beta)
        linear = bx.gt(self.threshold)
        if linear.any():
            out.masked_scatter_(linear, input.masked_select(linear))
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        # from the output, as THNN: dy/dx = (z - 1) / z with z = exp(beta * y)
        by = self.output.mul(self.beta)
        z = by.exp()
        scale = z.add(-1).div_(z)
        scale.masked_fill_(by.gt(self.threshold), 1)
        self.gradInput = scale.mul_(gradOutput)
        return self.gradInput
