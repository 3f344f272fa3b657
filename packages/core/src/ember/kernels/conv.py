"""Convolution kernels (1-D, 2-D, 3-D; plain and transposed), forward and backward, on ember tensors.

Non-differentiable building blocks for ember.nn's Conv*/ConvTranspose* functions and ember.legacy's
Temporal/Spatial/Volumetric(Full)Convolution. Shapes follow PyTorch 0.2:
    conv:            input (N, C, *spatial), weight (O, C/groups, *kernel)        -> (N, O, *out)
    conv transpose:  input (N, C, *spatial), weight (C, O/groups, *kernel)        -> (N, O, *out)
The spatial rank (1, 2 or 3) is the weight's dim() - 2. An input without the batch dimension
(C, *spatial) is accepted as a batch of one and gives an output without it (as THNN did).
stride / padding / dilation / output_padding are an int or a tuple with one entry per spatial dim.

A transposed convolution's forward is a convolution's backward-input and its backward-input is a
convolution's forward: both run on the same compiled kernels (ember/_C/conv.pyx) with the roles of
the two activations swapped.

Every kernel accepts ``out=`` (a tensor of the result's type, resized as needed) to write into a
preallocated result. Column buffers are cached per Python thread and dtype and reused across calls;
``release_workspaces()`` frees them (an ember extra).

CUDA tensors run the same plans on ember/kernels/cuda/conv.py (CuPy array code), on their own GPU; every
tensor of a call must be on it.
"""
import operator
import threading

import numpy as np

from ember._C import conv as _k
from ember.tensor import _TensorBase, _c_order, _fmt_size, _typename_of

from ._common import (float_input, get_num_threads, int_tuple, on_input_device, same_device, same_type, size_str,
                      xp_of)

__all__ = [
    "conv_forward", "conv_backward_input", "conv_backward_weight", "conv_backward_bias", "conv_backward",
    "conv_transpose_forward", "conv_transpose_backward_input", "conv_transpose_backward_weight",
    "conv_transpose_backward", "conv_output_size", "conv_transpose_output_size", "release_workspaces",
]

# below this much work (about 20 us on one core) a convolution runs on one thread
_PARALLEL_FLOPS = 1 << 21
# THNN's names for the spatial dims in its messages (kW; kH kW; kT kH kW)
_DIM_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("T", "H", "W")}


# ------------------------------------------------------------------------------------------- geometry
def conv_output_size(input_size, kernel_size, stride, padding, dilation):
    """Spatial output size of a convolution: (i + 2p - d(k-1) - 1) // s + 1 per dim."""
    return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1
                 for i, k, s, p, d in zip(input_size, kernel_size, stride, padding, dilation))


def conv_transpose_output_size(input_size, kernel_size, stride, padding, output_padding, dilation):
    """Spatial output size of a transposed convolution: (i - 1)s - 2p + d(k-1) + 1 + output_padding."""
    return tuple((i - 1) * s - 2 * p + d * (k - 1) + 1 + op
                 for i, k, s, p, op, d in zip(input_size, kernel_size, stride, padding, output_padding, dilation))


def _ints(op, name, value, k):
    vals = int_tuple(value, k)
    if vals is None:
        raise TypeError("{}(): expected {} to be an int or a tuple of {} ints, got {!r}".format(op, name, k, value))
    return vals


def _check_params(op, ksize, stride, padding, dilation, output_padding=None):
    names = _DIM_NAMES[len(ksize)]

    def listing(prefix, vals):
        return " ".join("{}{}: {}".format(prefix, n, v) for n, v in zip(names, vals))

    if min(ksize) <= 0:
        raise RuntimeError("{}(): kernel size should be greater than zero, but got {}".format(op, listing("k", ksize)))
    if min(stride) <= 0:
        raise RuntimeError("{}(): stride should be greater than zero, but got {}".format(op, listing("d", stride)))
    if min(dilation) <= 0:
        raise RuntimeError("{}(): dilation should be greater than zero, but got {}"
                           .format(op, listing("dilation", dilation)))
    if min(padding) < 0:
        raise RuntimeError("{}(): negative padding is not supported".format(op))
    if output_padding is not None:
        if min(output_padding) < 0:
            raise RuntimeError("{}(): negative output_padding is not supported".format(op))
        if any(a >= s and a >= d for a, s, d in zip(output_padding, stride, dilation)):
            raise RuntimeError("{}(): output padding must be smaller than either stride or dilation, but got {} {} {}"
                               .format(op, listing("adj", output_padding), listing("d", stride),
                                       listing("dilation", dilation)))


def _too_small(op, in_ch, in_sp, out_ch, out_sp):
    # THNN's text; its volumetric kernels print the sizes without spaces
    sep = "x" if len(in_sp) == 3 else " x "
    return RuntimeError("{}(): Given input size: ({}). Calculated output size: ({}). Output size is too small"
                        .format(op, sep.join(str(v) for v in (in_ch,) + tuple(in_sp)),
                                sep.join(str(v) for v in (out_ch,) + tuple(out_sp))))


def _dims_error(op, k, shape):
    return RuntimeError("{}(): {}D or {}D input tensor expected but got: {}"
                        .format(op, k + 1, k + 2, _fmt_size(shape)))


def _need_shape(op, name, shape, expected):
    """THNN's THNN_CHECK_DIM_SIZE text for the first dimension where ``shape`` is not ``expected``."""
    shape, expected = tuple(shape), tuple(expected)
    if shape == expected:
        return
    i = next((j for j in range(len(expected)) if j >= len(shape) or shape[j] != expected[j]), 0)
    raise RuntimeError("{op}(): Need {n} of dimension {d} and {n}.size[{i}] == {e} but got {n} to be of shape: {s}"
                       .format(op=op, n=name, d=len(expected), i=i, e=expected[i], s=_fmt_size(shape)))


class _Plan(object):
    """One convolution, described as the compiled kernel sees it (a plain convolution from ``src`` to
    ``dst``; for a transposed convolution src is its output and dst its input)."""
    __slots__ = ("geom", "batched", "image_threads", "nthreads")


def _plan(op, input_shape, weight_shape, stride, padding, dilation, groups, transposed=False, output_padding=0):
    k = len(weight_shape) - 2
    if k < 1 or k > 3:
        raise RuntimeError("{}(): expected a 3D, 4D or 5D weight ({} x {}/groups x *kernel_size), got {}"
                           .format(op, "in_channels" if transposed else "out_channels",
                                   "out_channels" if transposed else "in_channels", _fmt_size(weight_shape)))
    ksize = tuple(weight_shape[2:])
    stride = _ints(op, "stride", stride, k)
    padding = _ints(op, "padding", padding, k)
    dilation = _ints(op, "dilation", dilation, k)
    opad = _ints(op, "output_padding", output_padding, k) if transposed else None
    try:
        groups = operator.index(groups)
    except TypeError:
        raise TypeError("{}(): expected groups to be an int, got {}".format(op, _typename_of(groups))) from None
    if groups < 1:
        raise RuntimeError("{}(): groups must be a positive int, got {}".format(op, groups))
    _check_params(op, ksize, stride, padding, dilation, opad)

    nd = len(input_shape)
    if nd == k + 2:
        batched = True
        shape = tuple(input_shape)
    elif nd == k + 1:
        batched = False
        shape = (1,) + tuple(input_shape)
    else:
        raise _dims_error(op, k, input_shape)
    n, c, spatial = shape[0], shape[1], shape[2:]
    w0, w1 = weight_shape[0], weight_shape[1]
    if w0 % groups:
        raise RuntimeError("{}(): weight.size(0) ({}) must be divisible by groups ({})".format(op, w0, groups))
    if not transposed:
        if c != w1 * groups:
            raise RuntimeError("{}(): Given groups={}, weight{}, so expected input{} to have {} channels, but got {} "
                               "channels instead".format(op, groups, list(weight_shape), list(input_shape),
                                                         w1 * groups, c))
        out_sp = conv_output_size(spatial, ksize, stride, padding, dilation)
        out_ch = w0
        if min(out_sp) < 1:
            raise _too_small(op, c, spatial, out_ch, out_sp)
        src_sp, dst_sp, src_ch, dst_ch = spatial, out_sp, c, w0
        out_shape = (n, out_ch) + out_sp
    else:
        if c != w0:
            raise RuntimeError("{}(): Given transposed=1, weight{}, so expected input{} to have {} channels, "
                               "but got {} channels instead".format(op, list(weight_shape), list(input_shape), w0, c))
        out_sp = conv_transpose_output_size(spatial, ksize, stride, padding, opad, dilation)
        out_ch = w1 * groups
        if min(out_sp) < 1:
            raise _too_small(op, c, spatial, out_ch, out_sp)
        src_sp, dst_sp, src_ch, dst_ch = out_sp, spatial, out_ch, c
        out_shape = (n, out_ch) + out_sp

    pad3 = (1,) * (3 - k)
    zero3 = (0,) * (3 - k)
    p = _Plan()
    p.geom = ((n, src_ch, dst_ch, groups) + pad3 + tuple(src_sp) + pad3 + tuple(dst_sp) + pad3 + ksize
              + pad3 + stride + zero3 + padding + pad3 + dilation)
    p.batched = batched
    # images split over threads when there are enough of them (see ember/_C/conv.pyx); a small
    # convolution stays on one thread, where waking others would cost more than they save
    flops = 2 * n * src_ch * dst_ch // groups * _prod(ksize) * _prod(dst_sp)
    nthreads = get_num_threads() if flops >= _PARALLEL_FLOPS else 1
    p.nthreads = nthreads
    p.image_threads = nthreads if n >= nthreads else 1
    return p, out_shape


# ------------------------------------------------------------------------------------------- tensors
def _shape_of(op, name, value):
    """A tensor's shape, or a size given as a torch.Size / tuple / list of ints."""
    if isinstance(value, _TensorBase):
        return tuple(value.size())
    try:
        return tuple(operator.index(v) for v in value)
    except TypeError:
        raise TypeError("{}(): expected {} to be a tensor or a sequence of ints, got {}"
                        .format(op, name, _typename_of(value))) from None


def _checked(t, ref, op, name):
    """``t``, a tensor of ``ref``'s type on ``ref``'s device."""
    same_type(t, ref, op, name)
    same_device(t, ref, op, name)
    return t


def _flat(t):
    a = t._a
    if not a.flags.c_contiguous:
        a = _c_order(a, t._xp)
    return a.reshape(-1)


def _flat_or_none(t):
    return None if t is None else t._a.reshape(-1)


def _result(op, ref, shape, out):
    """A new C-contiguous tensor of ``ref``'s type and ``shape``, or ``out`` resized to it."""
    if out is None:
        cls = type(ref)
        return cls._make(cls._xp.empty(shape, cls._dtype))
    return _checked(out, ref, op, "out").resize_(shape)


# ------------------------------------------------------------------------------------------- workspaces
_tls = threading.local()


def _scratch(dtype, slot, n):
    """A cached flat buffer of at least ``n`` elements for this Python thread, dtype and slot."""
    bufs = getattr(_tls, "bufs", None)
    if bufs is None:
        bufs = _tls.bufs = {}
    key = (dtype, slot)
    buf = bufs.get(key)
    if buf is None or buf.size < n:
        buf = bufs[key] = np.empty(max(n, 1), dtype)
    return buf


def release_workspaces():
    """Free this thread's cached column buffers (an ember extra; they are rebuilt on the next call)."""
    _tls.bufs = {}


# ------------------------------------------------------------------------------------------- device dispatch
class _CPU(object):
    """The CPU implementation: im2col/col2im + gemm in ember/_C/conv.pyx."""

    @staticmethod
    def forward(plan, src, weight, bias, dst):
        g = plan.geom
        ws = _scratch(src.dtype, "col", _k.forward_workspace(g, plan.nthreads, src.itemsize))
        _k.forward(src, weight, bias, dst, ws, g, plan.nthreads)

    @staticmethod
    def backward(plan, gdst, src, weight, gsrc, gweight, gbias, gsrc_bias):
        g = plan.geom
        ws = _scratch(gdst.dtype, "col", plan.image_threads * _k.column_size(g))
        wpart = None
        if gweight is not None and plan.image_threads > 1:
            wpart = _scratch(gdst.dtype, "wpart", (plan.image_threads - 1) * gweight.size)
        _k.backward(gdst, src, weight, gsrc, gweight, gbias, gsrc_bias, ws, wpart, g, plan.image_threads,
                    plan.nthreads)

    @staticmethod
    def channel_sum(t, n, c, p, out):
        _k.channel_sum(t, out, n, c, p, get_num_threads() if t.size >= _PARALLEL_FLOPS // 8 else 1)


def _impl(t):
    # the one device dispatch point
    if t.is_cuda:
        from .cuda import conv as _gpu
        return _gpu.Kernels(xp_of(t))
    return _CPU


def _prod(vals):
    r = 1
    for v in vals:
        r *= v
    return r


# ------------------------------------------------------------------------------------------- convolution
@on_input_device
def conv_forward(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, out=None):
    """Convolution of ``input`` (N, C, *spatial) with ``weight`` (O, C/groups, *kernel) plus ``bias`` (O)."""
    op = "conv_forward"
    float_input(input, op, "input")
    _checked(weight, input, op, "weight")
    plan, out_shape = _plan(op, input._a.shape, weight._a.shape, stride, padding, dilation, groups)
    b = None
    if bias is not None:
        _checked(bias, input, op, "bias")
        _need_shape(op, "bias", bias._a.shape, (weight._a.shape[0],))
        b = _flat(bias)
    y = _result(op, input, out_shape if plan.batched else out_shape[1:], out)
    _impl(input).forward(plan, _flat(input), _flat(weight), b, y._a.reshape(-1))
    return y


def _grad_output(op, grad_output, plan, expected):
    _need_shape(op, "gradOutput", grad_output._a.shape, expected if plan.batched else expected[1:])
    return _flat(grad_output)


def _bias_grad(op, grad_output, gflat, shape, out=None):
    """Sum of the gradient (N, C, *spatial) over all dims but C."""
    n, c = shape[0], shape[1]
    gb = _result(op, grad_output, (c,), out)
    _impl(grad_output).channel_sum(gflat, n, c, _prod(shape[2:]), gb._a)
    return gb


# from this input width and this many input channels (the rows of that forward's gemm: fewer run it
# below its efficiency) the input gradient of a stride-1 float convolution runs as a forward convolution
# (the compiled forward then reads the zero-padded gradient: no column buffer, no col2im)
_GRAD_INPUT_AS_FORWARD_WIDTH = 24
_GRAD_INPUT_AS_FORWARD_CHANNELS = 16


def _grad_input_as_forward(plan, grad_output, weight, in_shape, w_shape, groups, out):
    """The input gradient of a stride-1 convolution as the forward convolution of ``grad_output`` with the
    weight transposed per group and flipped, padded by dilation * (k - 1) - padding; None for other cases
    (strides, padding beyond the kernel's reach, doubles, CUDA, narrow inputs, few input channels, depthwise)."""
    k = len(w_shape) - 2
    g = plan.geom  # its stride, padding and dilation, each as 3 values (the last k are the convolution's)
    if (grad_output.is_cuda or grad_output._a.dtype != np.float32 or in_shape[-1] < _GRAD_INPUT_AS_FORWARD_WIDTH
            or w_shape[1] * groups < _GRAD_INPUT_AS_FORWARD_CHANNELS or (w_shape[1] == 1 and groups > 1)
            or g[13:16] != (1, 1, 1)):
        return None
    ksize = tuple(w_shape[2:])
    d = g[22 - k:22]
    pad = tuple(dd * (kk - 1) - pp for kk, pp, dd in zip(ksize, g[19 - k:19], d))
    if min(pad) < 0:
        return None
    o, cg = w_shape[0], w_shape[1]
    w = weight._a.reshape((groups, o // groups, cg) + ksize).swapaxes(1, 2)[(Ellipsis,) + (slice(None, None, -1),) * k]
    flipped = type(weight)._make(np.ascontiguousarray(w).reshape((groups * cg, o // groups) + ksize))
    return conv_forward(grad_output, flipped, None, 1, pad, d, groups, out=out)


def _conv_backward(op, grad_output, input, weight, stride, padding, dilation, groups, need_input, need_weight,
                   need_bias, out_input=None, out_weight=None):
    # input / weight may be given as sizes where their values are not needed
    float_input(grad_output, op, "gradOutput")
    in_shape = _shape_of(op, "input", input)
    w_shape = _shape_of(op, "weight", weight)
    plan, out_shape = _plan(op, in_shape, w_shape, stride, padding, dilation, groups)
    gy = _grad_output(op, grad_output, plan, out_shape)
    gi = gw = gb = None
    if need_input:
        gi = _grad_input_as_forward(plan, grad_output, _checked(weight, grad_output, op, "weight"), in_shape, w_shape,
                                    groups, out_input)
        if gi is not None:
            need_input = False
    if need_input or need_weight:
        x = w = None
        if need_weight:
            x = _flat(_checked(input, grad_output, op, "input"))
            gw = _result(op, grad_output, w_shape, out_weight)
        if need_input:
            w = _flat(_checked(weight, grad_output, op, "weight"))
            gi = _result(op, grad_output, in_shape, out_input)
        if need_bias:
            gb = _result(op, grad_output, (out_shape[1],), None)
        # one pass over the images computes all the gradients asked for
        _impl(grad_output).backward(plan, gy, x, gy if w is None else w, _flat_or_none(gi) if need_input else None,
                                    _flat_or_none(gw), _flat_or_none(gb), None)
    elif need_bias:
        gb = _bias_grad(op, grad_output, gy, out_shape)
    return gi, gw, gb


@on_input_device
def conv_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1,
                  output_mask=(True, True, True)):
    """(grad_input, grad_weight, grad_bias) of conv_forward; entries are None where ``output_mask`` is False.

    ``input`` / ``weight`` may be sizes instead of tensors where only the other gradient is asked for."""
    need_input, need_weight, need_bias = output_mask
    return _conv_backward("conv_backward", grad_output, input, weight, stride, padding, dilation, groups,
                          need_input, need_weight, need_bias)


@on_input_device
def conv_backward_input(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1, out=None):
    """Gradient of conv_forward with respect to its input; ``input`` may be the input or its size."""
    return _conv_backward("conv_backward_input", grad_output, input, weight, stride, padding, dilation, groups,
                          True, False, False, out_input=out)[0]


@on_input_device
def conv_backward_weight(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1, out=None):
    """Gradient of conv_forward with respect to its weight; ``weight`` may be the weight or its size."""
    return _conv_backward("conv_backward_weight", grad_output, input, weight, stride, padding, dilation, groups,
                          False, True, False, out_weight=out)[1]


@on_input_device
def conv_backward_bias(grad_output, out=None):
    """Gradient with respect to the bias of a (transposed) convolution: ``grad_output`` (N, C, *spatial)
    summed over every dim but C."""
    op = "conv_backward_bias"
    float_input(grad_output, op, "gradOutput")
    shape = grad_output._a.shape
    if len(shape) < 3:
        raise RuntimeError("{}(): expected gradOutput of 3 to 5 dims (N x C x *spatial), got {}"
                           .format(op, size_str(grad_output)))
    return _bias_grad(op, grad_output, _flat(grad_output), shape, out)


# ------------------------------------------------------------------------------------------- transposed
@on_input_device
def conv_transpose_forward(input, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1,
                           out=None):
    """Transposed convolution of ``input`` (N, C, *spatial) with ``weight`` (C, O/groups, *kernel) plus ``bias`` (O)."""
    op = "conv_transpose_forward"
    float_input(input, op, "input")
    _checked(weight, input, op, "weight")
    plan, out_shape = _plan(op, input._a.shape, weight._a.shape, stride, padding, dilation, groups,
                            transposed=True, output_padding=output_padding)
    b = None
    if bias is not None:
        _checked(bias, input, op, "bias")
        _need_shape(op, "bias", bias._a.shape, (out_shape[1],))
        b = _flat(bias)
    y = _result(op, input, out_shape if plan.batched else out_shape[1:], out)
    # a convolution's backward-input, from the transposed convolution's input to its output
    _impl(input).backward(plan, _flat(input), None, _flat(weight), y._a.reshape(-1), None, None, b)
    return y


def _transpose_backward(op, grad_output, input, weight, stride, padding, output_padding, dilation, groups,
                        need_input, need_weight, need_bias, out_input=None, out_weight=None):
    float_input(grad_output, op, "gradOutput")
    in_shape = _shape_of(op, "input", input)
    w_shape = _shape_of(op, "weight", weight)
    plan, out_shape = _plan(op, in_shape, w_shape, stride, padding, dilation, groups,
                            transposed=True, output_padding=output_padding)
    go = _grad_output(op, grad_output, plan, out_shape)
    impl = _impl(grad_output)
    gi = gw = gb = None
    if need_input:
        # a convolution's forward, from the transposed convolution's output back to its input
        w = _flat(_checked(weight, grad_output, op, "weight"))
        gi = _result(op, grad_output, in_shape, out_input)
        impl.forward(plan, go, w, None, gi._a.reshape(-1))
    if need_weight:
        x = _flat(_checked(input, grad_output, op, "input"))
        gw = _result(op, grad_output, w_shape, out_weight)
        impl.backward(plan, x, go, x, None, gw._a.reshape(-1), None, None)
    if need_bias:
        gb = _bias_grad(op, grad_output, go, out_shape)
    return gi, gw, gb


@on_input_device
def conv_transpose_backward(grad_output, input, weight, stride=1, padding=0, output_padding=0, dilation=1, groups=1,
                            output_mask=(True, True, True)):
    """(grad_input, grad_weight, grad_bias) of conv_transpose_forward; None where ``output_mask`` is False."""
    need_input, need_weight, need_bias = output_mask
    return _transpose_backward("conv_transpose_backward", grad_output, input, weight, stride, padding,
                               output_padding, dilation, groups, need_input, need_weight, need_bias)


@on_input_device
def conv_transpose_backward_input(grad_output, input, weight, stride=1, padding=0, output_padding=0, dilation=1,
                                  groups=1, out=None):
    """Gradient of conv_transpose_forward with respect to its input (``input`` may be its size)."""
    return _transpose_backward("conv_transpose_backward_input", grad_output, input, weight, stride, padding,
                               output_padding, dilation, groups, True, False, False, out_input=out)[0]


@on_input_device
def conv_transpose_backward_weight(grad_output, input, weight, stride=1, padding=0, output_padding=0, dilation=1,
                                   groups=1, out=None):
    """Gradient of conv_transpose_forward with respect to its weight (``weight`` may be its size)."""
    return _transpose_backward("conv_transpose_backward_weight", grad_output, input, weight, stride, padding,
                               output_padding, dilation, groups, False, True, False, out_weight=out)[1]
