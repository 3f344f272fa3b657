"""Linear layers (PyTorch 0.2's torch/nn/modules/linear.py)."""
import math

import ember
from .module import Module
from ..parameter import Parameter
from .. import functional as F

__all__ = ["Linear", "Bilinear"]


class Linear(Module):
    """y = x A^T + b. Input (N, in_features) (or more leading dims), output (N, out_features).

    Parameters: weight (out_features, in_features), bias (out_features), both initialised from
    U(-1/sqrt(in_features), 1/sqrt(in_features))."""

    def __init__(self, in_features, out_features, bias=True):
        super(Linear, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ember.Tensor(out_features, in_features))
        if bias:
            self.bias = Parameter(ember.Tensor(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1. / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input):
        try:
            return F.linear(input, self.weight, self.bias)
        except RuntimeError as e:
            if str(e).startswith("size mismatch"):  # name the layer in 0.2's error
                raise RuntimeError("{}: {}".format(repr(self), e)) from None
            raise

    def __repr__(self):
        return "{} ({} -> {})".format(type(self).__name__, self.in_features, self.out_features)


class Bilinear(Module):
    """y = x1^T A x2 + b. Inputs (N, in1_features) and (N, in2_features), output (N, out_features).

    Parameters: weight (out_features, in1_features, in2_features), bias (out_features), both initialised from
    U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""

    def __init__(self, in1_features, in2_features, out_features, bias=True):
        super(Bilinear, self).__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ember.Tensor(out_features, in1_features, in2_features))
        if bias:
            self.bias = Parameter(ember.Tensor(out_features))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1. / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def __repr__(self):
        return "{} (in1_features={}, in2_features={}, out_features={})".format(
            type(self).__name__, self.in1_features, self.in2_features, self.out_features)
