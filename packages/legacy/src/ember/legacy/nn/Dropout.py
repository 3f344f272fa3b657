from .Module import Module
from .utils import clear


class Dropout(Module):
    """Zeroes each element with probability ``p`` in training mode and scales the others by 1 / (1 - p);
    the identity in evaluation mode. (Modules read from Lua files with ``v2 = false`` use Lua's first
    variant: no scaling in training, a factor 1 - p in evaluation.)"""

    def __init__(self, p=0.5, inplace=False):
        super(Dropout, self).__init__()
        if not 0 <= p < 1:
            raise ValueError("Dropout: p must be in [0, 1), got {}".format(p))
        self.p = p
        self.inplace = inplace
        self.v2 = True
        self.noise = self.output.new()

    # files from before Lua's v2 flag ran the first variant
    _lua_defaults = {"v2": False, "inplace": False}

    def _from_lua(self, version):
        super(Dropout, self)._from_lua(version)
        if getattr(self, "noise", None) is None:
            self.noise = self.output.new()

    def updateOutput(self, input):
        out = input if self.inplace else input.clone()
        if self.p > 0:
            if self.train:
                if type(self.noise) is not type(input):
                    self.noise = input.new()
                self.noise.resize_as_(input).bernoulli_(1 - self.p)
                if self.v2:
                    self.noise.div_(1 - self.p)
                out.mul_(self.noise)
            elif not self.v2:
                out.mul_(1 - self.p)
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        grad = gradOutput if self.inplace else gradOutput.clone()
        if self.p > 0:
            if self.train:
                grad.mul_(self.noise)
            elif not self.v2:
                grad.mul_(1 - self.p)
        self.gradInput = grad
        return grad

    def setp(self, p):
        self.p = p

    def __repr__(self):
        return "nn.Dropout({:.4f})".format(self.p)

    def clearState(self):
        clear(self, "noise")
        return super(Dropout, self).clearState()
