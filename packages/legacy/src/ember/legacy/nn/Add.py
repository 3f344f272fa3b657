import math

import ember

from .Module import Module


class Add(Module):
    """``y = x + b`` with a learned bias of ``inputSize`` elements (one number when ``scalar=True``); a
    batch of inputs adds it to every sample."""

    def __init__(self, inputSize, scalar=False):
        super(Add, self).__init__()
        size = 1 if scalar else inputSize
        self.scalar = scalar
        self.bias = ember.Tensor(size)
        self.gradBias = ember.Tensor(size)
        self.reset()

    def _from_lua(self, version):
        super(Add, self)._from_lua(version)
        self.__dict__.setdefault("scalar", False)

    def reset(self, stdv=None):
        stdv = stdv * math.sqrt(3) if stdv is not None else 1. / math.sqrt(self.bias.size(0))
        self.bias.uniform_(-stdv, stdv)
        return self

    def updateOutput(self, input):
        if self.scalar:
            self.output = input.add(self.bias[0])
        elif input.is_same_size(self.bias) or input.numel() == self.bias.numel():
            self.output = input.add(self.bias.view_as(input))
        else:
            out = input.contiguous().view(input.size(0), -1).add(self.bias.view(1, -1).expand(
                input.size(0), self.bias.numel()))
            self.output = out.view_as(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is not None:
            self.gradInput = gradOutput.clone()
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        if self.gradBias.numel() == 1:
            self.gradBias[0] = self.gradBias[0] + scale * gradOutput.sum()
        elif input.is_same_size(self.bias) or input.numel() == self.bias.numel():
            self.gradBias.add_(scale, gradOutput.contiguous().view_as(self.gradBias))
        else:
            g = gradOutput.contiguous().view(input.size(0), -1)
            self.gradBias.view(-1).add_(scale, g.sum(0))
