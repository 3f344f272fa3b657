"""Convolutions (PyTorch 0.2's F.conv1d/2d/3d and F.conv_transpose1d/2d/3d) and their autograd Functions.

``ConvNd`` is 0.2's Function of that name: a plain (``transposed=False``) or transposed convolution of an
(N, C, *spatial) input, running the ember.kernels conv kernels. A plain backward pass computes every
gradient in one kernel call. When the backward pass is itself recorded (``create_graph=True``) the
gradients are written with Functions that are differentiable again:
- the input gradient of a convolution is a transposed convolution of grad_output with the same weight
  (and the other way round for a transposed convolution);
- the weight gradient is ``ConvNdWeightGrad(input, grad_output)``, bilinear in its two arguments, whose
  own backward is once more made of ``ConvNd`` calls;
so double (and higher) backward works through every argument.
"""
import operator

from ember import kernels as K
from ember.autograd import Function

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


def _ntuple(value, n, op, name):
    """0.2's _single/_pair/_triple: an int repeated ``n`` times, or a sequence of ``n`` ints."""
    if isinstance(value, (tuple, list)):
        if len(value) == n:
            return tuple(value)
    else:
        try:
            return (operator.index(value),) * n
        except TypeError:
            pass
    raise TypeError("{}: expected {} to be an int or a tuple of {} ints, got {!r}".format(op, name, n, value))


def _forward(input, weight, bias, args):
    stride, padding, dilation, transposed, output_padding, groups = args
    if transposed:
        return K.conv_transpose_forward(input, weight, bias, stride, padding, output_padding, dilation, groups)
    return K.conv_forward(input, weight, bias, stride, padding, dilation, groups)


def _input_grad(grad_output, weight, input_size, args):
    """The input gradient of ConvNd(args) as the opposite kind of convolution of ``grad_output`` with
    ``weight`` (Variables; the result is recorded when they are)."""
    stride, padding, dilation, transposed, output_padding, groups = args
    spatial = input_size[2:]
    if transposed:
        g = ConvNd.apply(grad_output, weight, None, stride, padding, dilation, False, (0,) * len(spatial), groups)
        # an output_padding of a stride or more adds rows that the convolution reads past: drop them
        for d, n in enumerate(spatial):
            if g.size(d + 2) != n:
                g = g.narrow(d + 2, 0, n)
        return g
    # the transposed convolution lands short of the input by the rows the forward's stride skipped
    out_spatial = grad_output.size()[2:]
    ksize = weight.size()[2:]
    extra = tuple(i - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
                  for i, o, s, p, d, k in zip(spatial, out_spatial, stride, padding, dilation, ksize))
    return ConvNd.apply(grad_output, weight, None, stride, padding, dilation, True, extra, groups)


def _bias_grad(grad_output):
    n, c = grad_output.size(0), grad_output.size(1)
    return grad_output.contiguous().view(n, c, -1).sum(2).sum(0)


class ConvNd(Function):
    """output = conv(input, weight) + bias, or its transposed form (see the module docstring)."""

    @staticmethod
    def forward(ctx, input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
        ctx.args = (stride, padding, dilation, transposed, output_padding, groups)
        ctx.save_for_backward(input, weight)
        return _forward(input, weight, bias, ctx.args)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_variables
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        args = ctx.args
        stride, padding, dilation, transposed, output_padding, groups = args
        if grad_output.volatile:  # a plain backward pass: one kernel call for every gradient
            mask = (need_input, need_weight, need_bias)
            if transposed:
                gi, gw, gb = K.conv_transpose_backward(grad_output.data, input.data, weight.data, stride, padding,
                                                       output_padding, dilation, groups, output_mask=mask)
            else:
                gi, gw, gb = K.conv_backward(grad_output.data, input.data, weight.data, stride, padding, dilation,
                                             groups, output_mask=mask)
        else:
            gi = _input_grad(grad_output, weight, input.size(), args) if need_input else None
            gw = ConvNdWeightGrad.apply(input, grad_output, weight.size(), args) if need_weight else None
            gb = _bias_grad(grad_output) if need_bias else None
        return gi, gw, gb, None, None, None, None, None, None


class ConvNdWeightGrad(Function):
    """The weight gradient of ConvNd(args) as a function of its input and grad_output. It is linear in
    each: <grad_weight, w> = <grad_output, ConvNd(input, w)>, which gives its own backward."""

    @staticmethod
    def forward(ctx, input, grad_output, weight_size, args):
        ctx.args = args
        ctx.save_for_backward(input, grad_output)
        stride, padding, dilation, transposed, output_padding, groups = args
        if transposed:
            return K.conv_transpose_backward_weight(grad_output, input, weight_size, stride, padding, output_padding,
                                                    dilation, groups)
        return K.conv_backward_weight(grad_output, input, weight_size, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, grad_grad_weight):
        input, grad_output = ctx.saved_variables
        need_input, need_grad_output = ctx.needs_input_grad[:2]
        args = ctx.args
        gi = _input_grad(grad_output, grad_grad_weight, input.size(), args) if need_input else None
        stride, padding, dilation, transposed, output_padding, groups = args
        ggo = None
        if need_grad_output:
            ggo = ConvNd.apply(input, grad_grad_weight, None, stride, padding, dilation, transposed, output_padding,
                               groups)
        return gi, ggo, None, None


# ------------------------------------------------------------------------------------------- functional forms
def _check_dim(input, k):
    if input.dim() != k + 2:
        raise ValueError("Expected {}D tensor as input, got {}D tensor instead.".format(k + 2, input.dim()))


def _conv(k, op, input, weight, bias, stride, padding, dilation, groups):
    _check_dim(input, k)
    return ConvNd.apply(input, weight, bias, _ntuple(stride, k, op, "stride"), _ntuple(padding, k, op, "padding"),
                        _ntuple(dilation, k, op, "dilation"), False, (0,) * k, groups)


def _conv_transpose(k, op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    _check_dim(input, k)
    return ConvNd.apply(input, weight, bias, _ntuple(stride, k, op, "stride"), _ntuple(padding, k, op, "padding"),
                        _ntuple(dilation, k, op, "dilation"), True,
                        _ntuple(output_padding, k, op, "output_padding"), groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of input (N, C_in, L) with weight (C_out, C_in/groups, kL) plus bias (C_out)."""
    return _conv(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C_in, H, W) with weight (C_out, C_in/groups, kH, kW) plus bias (C_out)."""
    return _conv(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of input (N, C_in, D, H, W) with weight (C_out, C_in/groups, kD, kH, kW) plus bias."""
    return _conv(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution of input (N, C_in, L) with weight (C_in, C_out/groups, kL) plus bias (C_out)."""
    return _conv_transpose(1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution of input (N, C_in, H, W) with weight (C_in, C_out/groups, kH, kW) plus bias."""
    return _conv_transpose(2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution of input (N, C_in, D, H, W) with weight (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose(3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups,
                           dilation)
