"""ember.nn layers for the Lua modules ember.nn has no class for; :func:`ember.legacy.to_nn` builds them.

Imported only by ``to_nn`` (it needs ember-nn, which ember-legacy doesn't require)."""
import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable


class _Layer(nn.Module):
    """A layer without parameters or children: printed as ``Name ()`` like ember.nn's."""

    def __repr__(self):
        return type(self).__name__ + " ()"


class Identity(_Layer):
    def forward(self, input):
        return input


class Contiguous(_Layer):
    def forward(self, input):
        return input.contiguous()


class Square(_Layer):
    def forward(self, input):
        return input * input


class Sqrt(_Layer):
    # Lua's Sqrt keeps an eps that THNN never added
    def forward(self, input):
        return input.sqrt()


class LuaSoftMax(_Layer):
    """Lua's SoftMax / LogSoftMax / SoftMin / SpatialSoftMax: over dim 0 of a vector or a C x H x W image,
    dim 1 of a batch of them."""

    def __init__(self, function):
        super(LuaSoftMax, self).__init__()
        self.function = function

    def forward(self, input):
        return getattr(F, self.function)(input, 0 if input.dim() in (1, 3) else 1)

    def __repr__(self):
        return "LuaSoftMax ({})".format(self.function)


class Power(_Layer):
    def __init__(self, p):
        super(Power, self).__init__()
        self.p = p

    def forward(self, input):
        return input.pow(self.p)

    def __repr__(self):
        return "Power ({})".format(self.p)


class MulConstant(_Layer):
    def __init__(self, constant):
        super(MulConstant, self).__init__()
        self.constant = constant

    def forward(self, input):
        return input * self.constant

    def __repr__(self):
        return "MulConstant ({})".format(self.constant)


class AddConstant(_Layer):
    def __init__(self, constant):
        super(AddConstant, self).__init__()
        self.constant = constant

    def forward(self, input):
        return input + self.constant

    def __repr__(self):
        return "AddConstant ({})".format(self.constant)


class Abs(_Layer):
    def forward(self, input):
        return input.abs()


class Exp(_Layer):
    def forward(self, input):
        return input.exp()


class Log(_Layer):
    def forward(self, input):
        return input.log()


class LuaShape(_Layer):
    """Lua's View / Reshape: the output has the size the Lua module gives for the input (its own rules for
    ``-1`` entries and for telling a batch from a single sample)."""

    def __init__(self, module):
        super(LuaShape, self).__init__()
        self.lua = module

    def forward(self, input):
        data = input.data
        size = self.lua.updateOutput(data if data.is_contiguous() else data.contiguous()).size()
        self.lua.output = data.new()  # keep no reference to the data
        return input.contiguous().view(*size)

    def __repr__(self):
        return "LuaShape ({})".format(repr(self.lua))


class Concat(nn.Module):
    """Applies each child to the input and concatenates the results along ``dim``."""

    def __init__(self, dim, modules):
        super(Concat, self).__init__()
        self.dim = dim
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def forward(self, input):
        outs = [m(input) for m in self.children()]
        dim = self.dim + outs[0].dim() if self.dim < 0 else self.dim
        return ember.cat(outs, dim)


class TimeMajor(nn.Module):
    """Runs a 1-D layer (over N x C x L) on Lua's temporal layout: N x T x C sequences, or one T x C."""

    def __init__(self, layer):
        super(TimeMajor, self).__init__()
        self.layer = layer

    def forward(self, input):
        single = input.dim() == 2
        x = input.unsqueeze(0) if single else input
        y = self.layer(x.transpose(1, 2)).transpose(1, 2)
        return y.squeeze(0) if single else y


class SubSampling(nn.Module):
    """Lua's SpatialSubSampling: a trainable weight and bias per plane times the sum over each window."""

    def __init__(self, planes, kW, kH, dW, dH):
        super(SubSampling, self).__init__()
        self.kernel_size = (kH, kW)
        self.stride = (dH, dW)
        self.weight = nn.Parameter(ember.Tensor(planes))
        self.bias = nn.Parameter(ember.Tensor(planes))

    def forward(self, input):
        n = self.weight.size(0)
        weight = self.weight.view(n, 1, 1, 1).expand(n, 1, *self.kernel_size)
        return F.conv2d(input, weight, self.bias, self.stride, 0, 1, n)

    def __repr__(self):
        return "SubSampling ({}, kernel_size={}, stride={})".format(self.weight.size(0), self.kernel_size,
                                                                    self.stride)


class ConvolutionMap(nn.Module):
    """Lua's SpatialConvolutionMap: a convolution whose dense weight is masked to the connections of a table
    (the other entries stay zero: they get no gradient)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super(ConvolutionMap, self).__init__()
        self.stride = stride
        self.weight = nn.Parameter(ember.Tensor(out_channels, in_channels, *kernel_size).zero_())
        self.bias = nn.Parameter(ember.Tensor(out_channels))
        self.register_buffer("mask", ember.Tensor(out_channels, in_channels, *kernel_size).zero_())

    def forward(self, input):
        return F.conv2d(input, self.weight * Variable(self.mask), self.bias, self.stride)

    def __repr__(self):
        o, i, kh, kw = self.weight.size()
        return "ConvolutionMap ({}, {}, kernel_size=({}, {}), stride={}, connections={})".format(
            i, o, kh, kw, self.stride, int(self.mask.select(3, 0).select(2, 0).sum()))
