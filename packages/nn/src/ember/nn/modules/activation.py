"""Activation modules (PyTorch 0.2's torch/nn/modules/activation.py), with 0.2's reprs."""
import warnings

import ember
from .module import Module
from ..parameter import Parameter
from .. import functional as F
from .._functional.activation import size_of

__all__ = ["Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Tanh", "ELU", "SELU", "GLU", "Hardshrink",
           "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink", "PReLU", "Softsign", "Tanhshrink", "Softmin",
           "Softmax", "Softmax2d", "LogSoftmax"]


def _inplace(flag):
    return ", inplace" if flag else ""


class Threshold(Module):
    """y = x if x > threshold else value."""

    def __init__(self, threshold, value, inplace=False):
        super(Threshold, self).__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def __repr__(self):
        return "{} ({}, {}{})".format(type(self).__name__, self.threshold, self.value, _inplace(self.inplace))


class ReLU(Threshold):
    """y = max(0, x)."""

    def __init__(self, inplace=False):
        super(ReLU, self).__init__(0, 0, inplace)

    def __repr__(self):
        return "{} ({})".format(type(self).__name__, "inplace" if self.inplace else "")


class RReLU(Module):
    """Randomized leaky ReLU: slopes drawn from U(lower, upper) in training, (lower + upper) / 2 in evaluation."""

    def __init__(self, lower=1. / 8, upper=1. / 3, inplace=False):
        super(RReLU, self).__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def __repr__(self):
        return "{} ({}, {}{})".format(type(self).__name__, self.lower, self.upper, _inplace(self.inplace))


class Hardtanh(Module):
    """y = x clamped to [min_val, max_val] (``min_value``/``max_value``: 0.2's deprecated names)."""

    def __init__(self, min_val=-1, max_val=1, inplace=False, min_value=None, max_value=None):
        super(Hardtanh, self).__init__()
        if min_value is not None:
            warnings.warn("keyword argument min_value is deprecated and renamed to min_val")
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument max_value is deprecated and renamed to max_val")
            max_val = max_value
        if not max_val > min_val:
            raise ValueError("Hardtanh: max_val must be greater than min_val, got min_val={} and max_val={}"
                             .format(min_val, max_val))
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def __repr__(self):
        return "{} (min_val={}, max_val={}{})".format(type(self).__name__, self.min_val, self.max_val,
                                                      _inplace(self.inplace))


class ReLU6(Hardtanh):
    """y = min(max(0, x), 6)."""

    def __init__(self, inplace=False):
        super(ReLU6, self).__init__(0, 6, inplace)

    def __repr__(self):
        return "{} ({})".format(type(self).__name__, "inplace" if self.inplace else "")


class _Parameterless(Module):
    """An activation without arguments: repr ``Name ()``."""

    def __repr__(self):
        return type(self).__name__ + " ()"


class Sigmoid(_Parameterless):
    def forward(self, input):
        return input.sigmoid()


class Tanh(_Parameterless):
    def forward(self, input):
        return input.tanh()


class ELU(Module):
    """y = x if x > 0 else alpha * (exp(x) - 1)."""

    def __init__(self, alpha=1., inplace=False):
        super(ELU, self).__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def __repr__(self):
        return "{} (alpha={}{})".format(type(self).__name__, self.alpha, _inplace(self.inplace))


class SELU(Module):
    """Scaled ELU with 0.2's constants (alpha = 1.6733, scale = 1.0507)."""

    def __init__(self, inplace=False):
        super(SELU, self).__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def __repr__(self):
        return type(self).__name__ + (" (inplace)" if self.inplace else "")


class GLU(Module):
    """Gated linear unit along ``dim``: first half * sigmoid(second half)."""

    def __init__(self, dim=-1):
        super(GLU, self).__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def __repr__(self):
        return "{} (dim={})".format(type(self).__name__, self.dim)


class Hardshrink(Module):
    """y = x if |x| > lambd else 0."""

    def __init__(self, lambd=0.5):
        super(Hardshrink, self).__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def __repr__(self):
        return "{} ({})".format(type(self).__name__, self.lambd)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=1e-2, inplace=False):
        super(LeakyReLU, self).__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def __repr__(self):
        return "{} ({}{})".format(type(self).__name__, self.negative_slope, _inplace(self.inplace))


class LogSigmoid(_Parameterless):
    def forward(self, input):
        return F.logsigmoid(input)


class Softplus(Module):
    """y = log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."""

    def __init__(self, beta=1, threshold=20):
        super(Softplus, self).__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def __repr__(self):
        return "{} (beta={}, threshold={})".format(type(self).__name__, self.beta, self.threshold)


class Softshrink(Module):
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""

    def __init__(self, lambd=0.5):
        super(Softshrink, self).__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def __repr__(self):
        return "{} ({})".format(type(self).__name__, self.lambd)


class PReLU(Module):
    """y = x if x > 0 else a * x with learnable ``a``: one shared value, or one per channel (input dim 1)."""

    def __init__(self, num_parameters=1, init=0.25):
        super(PReLU, self).__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(ember.Tensor(num_parameters).fill_(init))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def __repr__(self):
        return "{} ({})".format(type(self).__name__, self.num_parameters)


class Softsign(_Parameterless):
    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(_Parameterless):
    def forward(self, input):
        return F.tanhshrink(input)


class _SoftmaxBase(Module):
    """The softmax modules take no arguments in 0.2 (implicit dim); ``dim=`` is an ember extra."""
    dim = None  # what modules pickled by 0.2 (which have no ``dim``) use

    def __init__(self, dim=None):
        super(_SoftmaxBase, self).__init__()
        self.dim = dim

    def __repr__(self):
        return type(self).__name__ + (" ()" if self.dim is None else " (dim={})".format(self.dim))


class Softmin(_SoftmaxBase):
    def forward(self, input):
        return F.softmin(input, self.dim)


class Softmax(_SoftmaxBase):
    """Softmax over dim 1 of a 2-D input (0.2 requires 2-D unless ``dim`` is given)."""

    def forward(self, input):
        if self.dim is None and input.dim() != 2:
            raise RuntimeError("Softmax requires a 2D tensor as input, got input of size {}"
                               .format(size_of(input)))
        return F.softmax(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels (dim 1) of a 4-D input."""

    def forward(self, input):
        if input.dim() != 4:
            raise RuntimeError("Softmax2d requires a 4D tensor as input, got input of size {}".format(size_of(input)))
        return F.softmax(input)

    def __repr__(self):
        return type(self).__name__ + " ()"


class LogSoftmax(_SoftmaxBase):
    def forward(self, input):
        return F.log_softmax(input, self.dim)
