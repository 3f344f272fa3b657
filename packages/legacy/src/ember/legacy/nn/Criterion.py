import copy

import ember

from ._lua import LuaFields
from .utils import recursiveType


class Criterion(LuaFields):
    """Base class of Lua-style criteria: ``loss = c.forward(input, target)``, then
    ``gradInput = c.backward(input, target)``."""

    def __init__(self):
        self.gradInput = ember.Tensor()
        self.output = 0
        self._type = self.gradInput.type()

    def __repr__(self):
        return "nn." + type(self).__name__

    def _from_lua(self, version):
        super(Criterion, self)._from_lua(version)
        if "_type" not in self.__dict__:
            g = self.__dict__.get("gradInput")
            self._type = g.type() if ember.is_tensor(g) else ember.Tensor().type()

    def updateOutput(self, input, target):
        raise NotImplementedError

    def forward(self, input, target):
        return self.updateOutput(input, target)

    def backward(self, input, target):
        return self.updateGradInput(input, target)

    def updateGradInput(self, input, target):
        raise NotImplementedError

    def clone(self):
        return copy.deepcopy(self)

    def type(self, type=None, tensorCache=None):
        """Without arguments, the criterion's tensor type name; otherwise convert its floating-point tensor
        fields (weights, buffers) to ``type`` and return the criterion."""
        if type is None:
            return self._type
        if not isinstance(type, str):
            type = type._typename if hasattr(type, "_typename") else str(type)
        if tensorCache is None:
            tensorCache = {}
        for key, param in list(self.__dict__.items()):
            setattr(self, key, recursiveType(param, type, tensorCache))
        self._type = type
        return self

    def float(self):
        return self.type("torch.FloatTensor")

    def double(self):
        return self.type("torch.DoubleTensor")

    def cuda(self):
        return self.type("torch.cuda.FloatTensor")

    def __call__(self, input, target):
        """Lua's ``c(input, target)``: forward then backward; returns ``(loss, gradInput)``."""
        return self.forward(input, target), self.backward(input, target)
