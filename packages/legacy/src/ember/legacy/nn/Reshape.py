import ember

from .Module import Module
from .utils import clear


class Reshape(Module):
    """The input reshaped to the given size (a copy only when it isn't contiguous). The first dimension is a
    batch dimension when ``batchMode`` (a last boolean argument) is True, or when it is None and the input
    doesn't have exactly the size's number of elements (or its first dimension is 1)."""

    def __init__(self, *args):
        super(Reshape, self).__init__()
        self.batchMode = None
        if args and isinstance(args[-1], bool):
            self.batchMode = args[-1]
            args = args[:-1]
        if len(args) == 1 and isinstance(args[0], (ember.Size, tuple, list)):
            args = tuple(args[0])
        self.size = ember.Size(args)
        self.nelement = 1
        for s in self.size:
            self.nelement *= s
        self._input = None
        self._gradOutput = None

    def _from_lua(self, version):
        super(Reshape, self)._from_lua(version)
        d = self.__dict__
        d.setdefault("batchMode", None)
        self.size = ember.Size([int(s) for s in self.size])
        d.pop("batchsize", None)  # Lua's buffer for the batch size

    def updateOutput(self, input):
        if not input.is_contiguous():
            input = input.contiguous()
        if self.batchMode is False or (self.batchMode is None and input.numel() == self.nelement
                                       and input.size(0) != 1):
            self.output = input.view(self.size)
        else:
            self.output = input.view(input.size(0), *self.size)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.contiguous().view_as(input)
        return self.gradInput

    def __repr__(self):
        return "nn.Reshape({})".format("x".join(map(str, self.size)))

    def clearState(self):
        clear(self, "_input", "_gradOutput")
        return super(Reshape, self).clearState()
