import ember

from .Module import Module
from ._helpers import ParameterReset
from .utils import clear


class Linear(ParameterReset, Module):
    """``y = W x + b`` for a vector ``x`` (inputSize) or each row of a matrix (batch x inputSize)."""

    def __init__(self, inputSize, outputSize, bias=True):
        super(Linear, self).__init__()
        self.weight = ember.Tensor(outputSize, inputSize)
        self.gradWeight = ember.Tensor(outputSize, inputSize)
        self.bias = ember.Tensor(outputSize) if bias else None
        self.gradBias = ember.Tensor(outputSize) if bias else None
        self.reset()

    def _fan_in(self):
        return self.weight.size(1)

    def _check(self, input):
        if input.dim() not in (1, 2):
            raise ValueError("Linear: input must be a vector or a matrix, got size {}".format(list(input.size())))
        if input.size(input.dim() - 1) != self.weight.size(1):
            raise ValueError("Linear: size mismatch, input: {}, weight: {}"
                             .format("[" + " x ".join(map(str, input.size())) + "]",
                                     "[" + " x ".join(map(str, self.weight.size())) + "]"))

    def updateOutput(self, input):
        self._check(input)
        bias = getattr(self, "bias", None)
        if input.dim() == 1:
            out = bias.clone() if bias is not None else self.weight.new(self.weight.size(0)).zero_()
            out.addmv_(1, 1, self.weight, input)
        else:
            out = input.mm(self.weight.t())
            if bias is not None:
                out.add_(bias.view(1, -1).expand_as(out))
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        if input.dim() == 1:
            self.gradInput = self.weight.t().mv(gradOutput)
        else:
            self.gradInput = gradOutput.mm(self.weight)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        has_bias = getattr(self, "bias", None) is not None
        if input.dim() == 1:
            self.gradWeight.addr_(1, scale, gradOutput, input)
            if has_bias:
                self.gradBias.add_(scale, gradOutput)
        else:
            self.gradWeight.addmm_(1, scale, gradOutput.t(), input)
            if has_bias:
                self.gradBias.add_(scale, gradOutput.sum(0))

    def clearState(self):
        clear(self, "addBuffer")
        return super(Linear, self).clearState()

    def __repr__(self):
        return "nn.Linear({} -> {}){}".format(self.weight.size(1), self.weight.size(0),
                                              " without bias" if getattr(self, "bias", None) is None else "")
