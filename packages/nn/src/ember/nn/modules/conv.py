"""Convolution layers (PyTorch 0.2's torch/nn/modules/conv.py): Conv1d/2d/3d and ConvTranspose1d/2d/3d."""
import math

import ember

from .module import Module
from ..parameter import Parameter
from .. import functional as F
from .._functional.conv import _ntuple

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


def layer_error(module, error):
    """``error`` (a RuntimeError or ValueError from a functional form or kernel) with the layer's name in
    front, so that a wrong input names the layer as well as the sizes."""
    return type(error)("{}: {}".format(type(module).__name__, error))


class _ConvNd(Module):
    _k = 0  # spatial dims

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias):
        super(_ConvNd, self).__init__()
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        name, k = type(self).__name__, self._k
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, k, name, "kernel_size")
        self.stride = _ntuple(stride, k, name, "stride")
        self.padding = _ntuple(padding, k, name, "padding")
        self.dilation = _ntuple(dilation, k, name, "dilation")
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, k, name, "output_padding")
        self.groups = groups
        if transposed:
            self.weight = Parameter(ember.Tensor(in_channels, out_channels // groups, *self.kernel_size))
        else:
            self.weight = Parameter(ember.Tensor(out_channels, in_channels // groups, *self.kernel_size))
        if bias:
            self.bias = Parameter(ember.Tensor(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # 0.2's rule: the fan-in counts every input channel, whatever the groups
        n = self.in_channels
        for k in self.kernel_size:
            n *= k
        stdv = 1. / math.sqrt(n)
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def __repr__(self):
        s = "{name}({in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        s += ")"
        return s.format(name=type(self).__name__, **self.__dict__)


class _Conv(_ConvNd):
    _functional = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True):
        super(_Conv, self).__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0,
                                    groups, bias)

    def forward(self, input):
        try:
            return type(self)._functional(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                                          self.groups)
        except (RuntimeError, ValueError) as e:
            raise layer_error(self, e) from None


class Conv1d(_Conv):
    """1-D convolution over an input (N, C_in, L): out(N_i, C_j) = bias(C_j) + sum_k weight(C_j, k) * input(N_i, k),
    with stride, zero padding on both sides, dilation and groups (each group of in_channels/groups input
    channels feeds out_channels/groups outputs). Weight (out_channels, in_channels/groups, kL), bias
    (out_channels); L_out = floor((L + 2 padding - dilation (kL - 1) - 1) / stride + 1)."""
    _k = 1
    _functional = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution over an input (N, C_in, H, W) (see Conv1d; every argument per dim or one int for
    both). Weight (out_channels, in_channels/groups, kH, kW)."""
    _k = 2
    _functional = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D convolution over an input (N, C_in, D, H, W) (see Conv1d). Weight (out_channels,
    in_channels/groups, kD, kH, kW)."""
    _k = 3
    _functional = staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    _functional = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1):
        super(_ConvTransposeNd, self).__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                                               True, output_padding, groups, bias)

    def forward(self, input, output_size=None):
        try:
            output_padding = self._output_padding(input, output_size)
            return type(self)._functional(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                          self.groups, self.dilation)
        except (RuntimeError, ValueError) as e:
            raise layer_error(self, e) from None

    def _output_padding(self, input, output_size):
        """0.2's rule: an ``output_size`` (spatial, or with the N and C dims) picks the output_padding that
        reaches it; it must lie within a stride of the smallest output size (which counts the dilation here;
        0.2's formula left it out, so a dilated layer could not reach its own default size)."""
        if output_size is None:
            return self.output_padding
        output_size = list(output_size)
        k = input.dim() - 2
        if len(output_size) == k + 2:
            output_size = output_size[2:]
        if len(output_size) != k:
            raise ValueError("output_size must have {} or {} elements (got {})".format(k, k + 2, len(output_size)))
        min_sizes = [(input.size(d + 2) - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(k)]
        max_sizes = [min_sizes[d] + self.stride[d] - 1 for d in range(k)]
        for size, min_size, max_size in zip(output_size, min_sizes, max_sizes):
            if size < min_size or size > max_size:
                raise ValueError("requested an output size of {}, but valid sizes range from {} to {} (for an input "
                                 "of {})".format(output_size, min_sizes, max_sizes, input.size()[2:]))
        return tuple(output_size[d] - min_sizes[d] for d in range(k))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input) over (N, C_in, L):
    L_out = (L - 1) stride - 2 padding + dilation (kL - 1) + 1 + output_padding. Weight (in_channels,
    out_channels/groups, kL). ``forward(input, output_size=None)``: an exact output size instead of
    output_padding."""
    _k = 1
    _functional = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) (see ConvTranspose1d). Weight (in_channels,
    out_channels/groups, kH, kW)."""
    _k = 2
    _functional = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W) (see ConvTranspose1d). Weight (in_channels,
    out_channels/groups, kD, kH, kW)."""
    _k = 3
    _functional = staticmethod(F.conv_transpose3d)
