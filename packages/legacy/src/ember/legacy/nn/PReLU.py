import ember

from .Module import Module
from .utils import clear


class PReLU(Module):
    """``y = x if x > 0 else a * x`` with learned slopes ``a``: one shared (``nOutputPlane=0``) or one per
    channel (dimension 1 of a batch, 0 of a single sample)."""

    _lua_defaults = {"nOutputPlane": 0}

    def __init__(self, nOutputPlane=0):
        super(PReLU, self).__init__()
        self.nOutputPlane = nOutputPlane
        self.weight = ember.Tensor(nOutputPlane or 1).fill_(0.25)
        self.gradWeight = ember.Tensor(nOutputPlane or 1)

    def _slopes(self, input):
        """The weight viewed to broadcast against ``input``."""
        if self.nOutputPlane == 0:
            return self.weight.view(*([1] * input.dim())).expand_as(input)
        cdim = 1 if input.dim() > 1 else 0
        if input.size(cdim) != self.nOutputPlane:
            raise ValueError("PReLU: wrong number of input planes, expected {} but got {}"
                             .format(self.nOutputPlane, input.size(cdim)))
        shape = [1] * input.dim()
        shape[cdim] = self.nOutputPlane
        return self.weight.view(*shape).expand_as(input)

    def updateOutput(self, input):
        pos = input.gt(0).type_as(input)
        # x * (pos + (1 - pos) * a): exactly x where x > 0 and a * x elsewhere
        factor = pos.neg().add_(1).mul_(self._slopes(input)).add_(pos)
        self.output = input.mul(factor)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        pos = input.gt(0).type_as(input)
        factor = pos.neg().add_(1).mul_(self._slopes(input)).add_(pos)
        self.gradInput = gradOutput.mul(factor)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        contrib = input.le(0).type_as(input).mul_(input).mul_(gradOutput)
        if self.nOutputPlane == 0:
            self.gradWeight[0] = self.gradWeight[0] + scale * contrib.sum()
        else:
            cdim = 1 if input.dim() > 1 else 0
            per_channel = contrib.transpose(0, cdim).contiguous().view(self.nOutputPlane, -1).sum(1)
            self.gradWeight.add_(scale, per_channel.view_as(self.gradWeight))

    def clearState(self):
        clear(self, "gradWeightBuf", "gradWeightBuf2")
        return super(PReLU, self).clearState()
