"""Pooling and unpooling kernels, forward and backward, on ember tensors (float and double; half on CUDA).

Non-differentiable building blocks for ember.nn's pooling Functions and ember.legacy's Temporal/Spatial/
Volumetric pooling modules, with THNN's (PyTorch 0.2's) semantics:
- max pooling 1-D/2-D/3-D (kernel, stride = kernel by default, padding, dilation, ceil_mode), returning
  the indices as a LongTensor: the flat offset of each maximum within its input plane (d*H*W + h*W + w),
  as PyTorch returns them; the backward scatters the output gradient through those indices;
- average pooling 1-D/2-D/3-D (ceil_mode, count_include_pad; 0.2's avg_pool3d has kernel and stride only,
  padding / ceil_mode / count_include_pad are ember extras there);
- adaptive max (with indices) and average pooling 1-D/2-D: output cell i covers
  [floor(i*in/out), ceil((i+1)*in/out));
- fractional max pooling 2-D (THNN's SpatialFractionalMaxPooling, random samples (N, C, 2): [..., 0] for
  the width, [..., 1] for the height);
- max unpooling 1-D/2-D/3-D (flat indices as above) and its backward.

Inputs carry an optional batch dimension: (C, *spatial) or (N, C, *spatial); outputs keep the same form.
Output sizes follow THNN: floor((in + 2p - d(k-1) - 1) / s) + 1, or ceil in ceil_mode, where the last
window must start inside the input or its left padding (PyTorch's rule; 0.2 applied that check only when
padding was nonzero and could otherwise produce a window lying wholly outside the input).

Every kernel validates its arguments, then calls ``_impl(tensor)``: the one device dispatch point, which
picks ``_CPU`` or its GPU twin ``ember.kernels.cuda.pooling`` (CUDA float, double and half tensors; the
kernel runs with the tensor's GPU current, and index tensors must live on that GPU too).
"""
import operator

import numpy as np

from ember import _backend
from ember import cuda as _cuda
from ember._C import pooling as _k
from ember._threads import get_num_threads
from ember.kernels._common import int_tuple, on_input_device, same_device
from ember.kernels.cuda import pooling as _gpu, widened
from ember.tensor import LongTensor, _TensorBase, _c_order, _fmt_size, _typename_of

__all__ = [
    "max_pool1d_forward", "max_pool1d_backward", "max_pool2d_forward", "max_pool2d_backward",
    "max_pool3d_forward", "max_pool3d_backward",
    "avg_pool1d_forward", "avg_pool1d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "avg_pool3d_forward", "avg_pool3d_backward",
    "adaptive_max_pool1d_forward", "adaptive_max_pool1d_backward",
    "adaptive_max_pool2d_forward", "adaptive_max_pool2d_backward",
    "adaptive_avg_pool1d_forward", "adaptive_avg_pool1d_backward",
    "adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward",
    "fractional_max_pool2d_forward", "fractional_max_pool2d_backward",
    "max_unpool1d_forward", "max_unpool1d_backward", "max_unpool2d_forward", "max_unpool2d_backward",
    "max_unpool3d_forward", "max_unpool3d_backward",
    "pool_output_size", "unpool_output_size",
]

_FLOAT_TYPES = ("torch.FloatTensor", "torch.DoubleTensor", "torch.cuda.FloatTensor", "torch.cuda.DoubleTensor",
                "torch.cuda.HalfTensor")
# THNN's names for the spatial dims in its messages
_DIM_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("T", "H", "W")}


# ------------------------------------------------------------------------------------------- arguments
# (shared with the upsampling, padding and spatial kernels)
def _float_input(op, t, name="input"):
    """The tensor's class, after checking that ``t`` is a float or double tensor."""
    if not isinstance(t, _TensorBase):
        raise TypeError("{}: expected {} to be a tensor, got {}".format(op, name, _typename_of(t)))
    cls = type(t)
    if cls._typename not in _FLOAT_TYPES:
        kinds = ("torch.cuda.FloatTensor, torch.cuda.DoubleTensor or torch.cuda.HalfTensor" if cls.is_cuda
                 else "torch.FloatTensor or torch.DoubleTensor")
        raise TypeError("{}: expected {} to be a {}, got {}".format(op, name, kinds, cls._typename))
    return cls


def _same_type(op, t, cls, name):
    if not isinstance(t, _TensorBase) or type(t) is not cls:
        raise TypeError("{}: expected {} to be a {} (the type of input), got {}"
                        .format(op, name, cls._typename, _typename_of(t)))


def _long_tensor(op, t, name="indices"):
    if not isinstance(t, _TensorBase) or type(t)._typename.replace(".cuda", "") != "torch.LongTensor":
        raise TypeError("{}: expected {} to be a torch.LongTensor, got {}".format(op, name, _typename_of(t)))
    return tuple(t._a.shape) if t._a.size else ()


def _carray(t):
    """The tensor's values as a C-contiguous array (its own memory when already contiguous)."""
    a = t._a
    return a if a.flags.c_contiguous else _c_order(a, t._xp)


def _ints(op, name, value, k):
    """``value`` as a tuple of ``k`` ints (an int is repeated)."""
    vals = int_tuple(value, k)
    if vals is None:
        raise TypeError("{}: expected {} to be an int or a tuple of {} ints, got {!r}".format(op, name, k, value))
    return vals


def _size_arg(op, name, value):
    """A size given as a torch.Size / tuple / list of ints."""
    try:
        return tuple(operator.index(v) for v in value)
    except TypeError:
        raise TypeError("{}: expected {} to be a sequence of ints, got {!r}".format(op, name, value)) from None


def _split_input(op, t, nd, what=""):
    """(leading dims, spatial dims) of a (C, *spatial) or (N, C, *spatial) tensor with ``nd`` spatial dims."""
    a = t._a
    ndim = a.ndim if a.size else 0
    if ndim not in (nd + 1, nd + 2):
        raise RuntimeError("{}: {}D or {}D {}input tensor expected but got: {}"
                           .format(op, nd + 1, nd + 2, what, _fmt_size(t.size())))
    return a.shape[:ndim - nd], a.shape[ndim - nd:]


def _prod(vals):
    r = 1
    for v in vals:
        r *= v
    return r


def _as3d(sizes, fill):
    """Spatial values of a 1-D or 2-D op laid out as the compiled kernels' (D, H, W)."""
    return (fill,) * (3 - len(sizes)) + tuple(sizes)


def _check_grad_shape(op, grad_output, expected):
    if tuple(grad_output._a.shape) != tuple(expected) or not grad_output._a.size:
        raise RuntimeError("{}: expected grad_output of size {}, got {}".format(op, _fmt_size(expected),
                                                                               _fmt_size(grad_output.size())))


def _input_size(op, input_size, nd):
    size = _size_arg(op, "input_size", input_size)
    if len(size) not in (nd + 1, nd + 2) or min(size) < 1:
        raise RuntimeError("{}: expected input_size to have {} or {} positive entries, got {}"
                           .format(op, nd + 1, nd + 2, list(size)))
    return size


# ------------------------------------------------------------------------------------------- geometry
def pool_output_size(input_size, kernel_size, stride, padding=0, dilation=1, ceil_mode=False):
    """Output size of max/avg pooling along one dimension (THNN's rule; see the module docstring)."""
    span = input_size + 2 * padding - dilation * (kernel_size - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= input_size + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


def unpool_output_size(input_size, kernel_size, stride=None, padding=0, output_size=None):
    """The spatial size of max unpooling of an (N, C, *spatial) input, PyTorch 0.2's rule (F.max_unpool*d):
    by default (in - 1) * stride + kernel - 2 * padding per dim; a given ``output_size`` (spatial, or with
    the two leading dims) must lie strictly within one stride of that."""
    nd = len(input_size) - 2
    op = "max_unpool{}d".format(nd)
    if nd not in (1, 2, 3):
        raise RuntimeError("{}: expected input_size (N, C, *spatial) with 1 to 3 spatial dims, got {}"
                           .format(op, list(input_size)))
    spatial = tuple(input_size[-nd:])
    k = _ints(op, "kernel_size", kernel_size, nd)
    s = k if stride is None else _ints(op, "stride", stride, nd)
    p = _ints(op, "padding", padding, nd)
    default = [(i - 1) * st + kk - 2 * pp for i, st, kk, pp in zip(spatial, s, k, p)]
    if output_size is None:
        return default
    output_size = list(_size_arg(op, "output_size", output_size))
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError("output_size should be a sequence containing {} or {} elements, but it has a length of "
                         "'{}'".format(nd, nd + 2, len(output_size)))
    for d in range(nd):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < output_size[d] < hi:
            raise ValueError('invalid output_size "{}" (dim {} must be between {} and {})'
                             .format(output_size, d, lo, hi))
    return output_size


def _listing(prefix, names, vals):
    return ", ".join("{}{} = {}".format(prefix, n, v) for n, v in zip(reversed(names), reversed(vals)))


def _pool_geometry(op, lead, spatial, kernel_size, stride, padding, dilation, ceil_mode):
    """Validated (out, k, s, p, d) of a max/avg pooling call."""
    nd = len(spatial)
    k = _ints(op, "kernel_size", kernel_size, nd)
    s = k if stride is None else _ints(op, "stride", stride, nd)
    p = _ints(op, "padding", padding, nd)
    d = _ints(op, "dilation", dilation, nd)
    names = _DIM_NAMES[nd]
    if min(k) <= 0:
        raise RuntimeError("{}: kernel size should be greater than zero, but got {}"
                           .format(op, _listing("k", names, k)))
    if min(s) <= 0:
        raise RuntimeError("{}: stride should be greater than zero, but got {}".format(op, _listing("d", names, s)))
    if min(d) <= 0:
        raise RuntimeError("{}: dilation should be greater than zero, but got {}"
                           .format(op, _listing("dilation", names, d)))
    if min(p) < 0 or any(kk // 2 < pp for kk, pp in zip(k, p)):
        raise RuntimeError("{}: pad should be smaller than half of kernel size, but got {}, {}"
                           .format(op, _listing("pad", names, p), _listing("k", names, k)))
    out = tuple(pool_output_size(i, kk, st, pp, dd, ceil_mode) for i, kk, st, pp, dd in zip(spatial, k, s, p, d))
    if min(out) < 1:
        raise _too_small(op, lead[-1], spatial, out)
    return out, k, s, p, d


def _too_small(op, channels, spatial, out):
    return RuntimeError("{}: Given input size: ({}). Calculated output size: ({}). Output size is too small"
                        .format(op, "x".join(str(v) for v in (channels,) + tuple(spatial)),
                                "x".join(str(v) for v in (channels,) + tuple(out))))


# ------------------------------------------------------------------------------------------- device dispatch
class _CPU(object):
    """The CPU implementation (ember/_C/pooling.pyx). Arrays are C-contiguous; planes first."""

    @staticmethod
    def max_pool(x, y, ind, k, s, p, d):
        _k.max_pool_forward(x, y, ind, k, s, p, d, get_num_threads())

    @staticmethod
    def avg_pool(x, y, k, s, p, count_include_pad):
        _k.avg_pool_forward(x, y, k, s, p, count_include_pad, get_num_threads())

    @staticmethod
    def avg_pool_backward(gy, gx, k, s, p, count_include_pad):
        _k.avg_pool_backward(gy, gx, k, s, p, count_include_pad, get_num_threads())

    @staticmethod
    def adaptive_pool(x, y, ind):
        _k.adaptive_pool_forward(x, y, ind if ind is not None else np.empty((0, 0, 0), np.int64),
                                 ind is not None, get_num_threads())

    @staticmethod
    def adaptive_avg_backward(gy, gx):
        _k.adaptive_avg_backward(gy, gx, get_num_threads())

    @staticmethod
    def fractional_max_pool(x, seq_h, seq_w, kh, kw, y, ind):
        _k.fractional_max_forward(x, seq_h, seq_w, kh, kw, y, ind, get_num_threads())

    @staticmethod
    def index_backward(g, ind, gx):
        """gx = 0; gx[p, ind[p, i]] += g[p, i]; the number of planes with an index out of range."""
        return _k.index_backward(g, ind, gx, get_num_threads())

    @staticmethod
    def index_scatter(x, ind, y):
        return _k.index_scatter(x, ind, y, get_num_threads())

    @staticmethod
    def index_gather(g, ind, gx):
        return _k.index_gather(g, ind, gx, get_num_threads())


def _impl(t):
    # the one device dispatch point (callers run under on_input_device)
    return _gpu if t.is_cuda else _CPU


def _empty(cls, shape, dtype=None):
    return cls._xp.empty(shape, cls._dtype if dtype is None else dtype)


def _index_class(cls):
    """The LongTensor type on ``cls``'s side (CPU or CUDA)."""
    return _cuda.LongTensor if cls.is_cuda else LongTensor


def _indices_with(op, indices, ref, name="indices"):
    """The size of ``indices``, a LongTensor on ``ref``'s device."""
    shape = _long_tensor(op, indices, name)
    same_device(indices, ref, op, name)
    return shape


# ------------------------------------------------------------------------------------------- max pooling
@on_input_device
def _max_pool_forward(nd, input, kernel_size, stride, padding, dilation, ceil_mode):
    op = "max_pool{}d".format(nd)
    cls = _float_input(op, input)
    lead, spatial = _split_input(op, input, nd)
    out, k, s, p, d = _pool_geometry(op, lead, spatial, kernel_size, stride, padding, dilation, ceil_mode)
    planes = _prod(lead)
    x = _carray(input).reshape((planes,) + _as3d(spatial, 1))
    y = _empty(cls, (planes,) + _as3d(out, 1))
    ind = _empty(cls, y.shape, np.int64)
    _impl(input).max_pool(x, y, ind, _as3d(k, 1), _as3d(s, 1), _as3d(p, 0), _as3d(d, 1))
    shape = tuple(lead) + out
    return cls._make(y.reshape(shape)), _index_class(cls)._make(ind.reshape(shape))


@on_input_device
def _index_backward(op, nd, grad_output, input_size, indices):
    """Gradient of a pooling that picked one input element per output (max, adaptive max, fractional)."""
    cls = _float_input(op, grad_output, "grad_output")
    size = _input_size(op, input_size, nd)
    ishape = _indices_with(op, indices, grad_output)
    gshape = tuple(grad_output._a.shape)
    if ishape != gshape or len(gshape) != len(size) or gshape[:-nd] != size[:-nd] \
            or not grad_output._a.size:
        raise RuntimeError("{}: expected grad_output and indices of the same size, with the leading dims of the "
                           "input {}, got {} and {}".format(op, _fmt_size(size), _fmt_size(grad_output.size()),
                                                            _fmt_size(indices.size())))
    planes = _prod(size[:-nd])
    g = _carray(grad_output).reshape(planes, -1)
    ind = _carray(indices).reshape(planes, -1)
    gx = _empty(cls, (planes, _prod(size[-nd:])))
    if _impl(grad_output).index_backward(g, ind, gx):
        raise _bad_index(op, ind, gx.shape[1])
    return cls._make(gx.reshape(size))


def _bad_index(op, ind, plane_size):
    bad = ind[(ind < 0) | (ind >= plane_size)]
    return RuntimeError("{}: invalid max index {} (each index must lie in [0, {}), the size of one plane)"
                        .format(op, int(bad[0]), plane_size))


def max_pool1d_forward(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling of (C, L) or (N, C, L); returns (output, indices)."""
    return _max_pool_forward(1, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_forward(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling of (C, H, W) or (N, C, H, W); returns (output, indices)."""
    return _max_pool_forward(2, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_forward(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling of (C, D, H, W) or (N, C, D, H, W); returns (output, indices)."""
    return _max_pool_forward(3, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d_backward(grad_output, input_size, indices):
    """Gradient of max_pool1d for the input, from the forward's indices."""
    return _index_backward("max_pool1d_backward", 1, grad_output, input_size, indices)


def max_pool2d_backward(grad_output, input_size, indices):
    """Gradient of max_pool2d for the input, from the forward's indices."""
    return _index_backward("max_pool2d_backward", 2, grad_output, input_size, indices)


def max_pool3d_backward(grad_output, input_size, indices):
    """Gradient of max_pool3d for the input, from the forward's indices."""
    return _index_backward("max_pool3d_backward", 3, grad_output, input_size, indices)


# ------------------------------------------------------------------------------------------- average pooling
@on_input_device
def _avg_pool_forward(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad):
    op = "avg_pool{}d".format(nd)
    cls = _float_input(op, input)
    lead, spatial = _split_input(op, input, nd)
    out, k, s, p, _ = _pool_geometry(op, lead, spatial, kernel_size, stride, padding, 1, ceil_mode)
    planes = _prod(lead)
    x = _carray(input).reshape((planes,) + _as3d(spatial, 1))
    y = _empty(cls, (planes,) + _as3d(out, 1))
    _impl(input).avg_pool(x, y, _as3d(k, 1), _as3d(s, 1), _as3d(p, 0), bool(count_include_pad))
    return cls._make(y.reshape(tuple(lead) + out))


@on_input_device
def _avg_pool_backward(nd, grad_output, input_size, kernel_size, stride, padding, ceil_mode, count_include_pad):
    op = "avg_pool{}d_backward".format(nd)
    cls = _float_input(op, grad_output, "grad_output")
    size = _input_size(op, input_size, nd)
    lead, spatial = size[:-nd], size[-nd:]
    out, k, s, p, _ = _pool_geometry(op, lead, spatial, kernel_size, stride, padding, 1, ceil_mode)
    _check_grad_shape(op, grad_output, tuple(lead) + out)
    planes = _prod(lead)
    gy = _carray(grad_output).reshape((planes,) + _as3d(out, 1))
    gx = _empty(cls, (planes,) + _as3d(spatial, 1))
    _impl(grad_output).avg_pool_backward(gy, gx, _as3d(k, 1), _as3d(s, 1), _as3d(p, 0), bool(count_include_pad))
    return cls._make(gx.reshape(size))


def avg_pool1d_forward(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling of (C, L) or (N, C, L)."""
    return _avg_pool_forward(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d_forward(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling of (C, H, W) or (N, C, H, W)."""
    return _avg_pool_forward(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool3d_forward(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Average pooling of (C, D, H, W) or (N, C, D, H, W). 0.2 has kernel_size and stride only; padding,
    ceil_mode and count_include_pad are ember extras (same meaning as in avg_pool2d)."""
    return _avg_pool_forward(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool1d_backward(grad_output, input_size, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    return _avg_pool_backward(1, grad_output, input_size, kernel_size, stride, padding, ceil_mode,
                              count_include_pad)


def avg_pool2d_backward(grad_output, input_size, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    return _avg_pool_backward(2, grad_output, input_size, kernel_size, stride, padding, ceil_mode,
                              count_include_pad)


def avg_pool3d_backward(grad_output, input_size, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    return _avg_pool_backward(3, grad_output, input_size, kernel_size, stride, padding, ceil_mode,
                              count_include_pad)


# ------------------------------------------------------------------------------------------- adaptive pooling
@on_input_device
def _adaptive_forward(nd, input, output_size, is_max):
    op = "adaptive_{}_pool{}d".format("max" if is_max else "avg", nd)
    cls = _float_input(op, input)
    lead, spatial = _split_input(op, input, nd)
    out = _ints(op, "output_size", output_size, nd)
    if min(out) < 1:
        raise RuntimeError("{}: output_size must be positive, got {}".format(op, output_size))
    planes = _prod(lead)
    x = _carray(input).reshape((planes,) + _as3d(spatial, 1)[1:])
    y = _empty(cls, (planes,) + _as3d(out, 1)[1:])
    ind = _empty(cls, y.shape, np.int64) if is_max else None
    _impl(input).adaptive_pool(x, y, ind)
    shape = tuple(lead) + out
    if is_max:
        return cls._make(y.reshape(shape)), _index_class(cls)._make(ind.reshape(shape))
    return cls._make(y.reshape(shape))


@on_input_device
def _adaptive_avg_backward(nd, grad_output, input_size):
    op = "adaptive_avg_pool{}d_backward".format(nd)
    cls = _float_input(op, grad_output, "grad_output")
    size = _input_size(op, input_size, nd)
    gshape = tuple(grad_output._a.shape)
    if len(gshape) != len(size) or gshape[:-nd] != size[:-nd] or not grad_output._a.size:
        raise RuntimeError("{}: expected grad_output with the leading dims of the input {}, got {}"
                           .format(op, _fmt_size(size), _fmt_size(grad_output.size())))
    planes = _prod(size[:-nd])
    gy = _carray(grad_output).reshape((planes,) + _as3d(gshape[-nd:], 1)[1:])
    gx = _empty(cls, (planes,) + _as3d(size[-nd:], 1)[1:])
    _impl(grad_output).adaptive_avg_backward(gy, gx)
    return cls._make(gx.reshape(size))


def adaptive_max_pool1d_forward(input, output_size):
    """Adaptive max pooling of (C, L) or (N, C, L) to ``output_size``; returns (output, indices)."""
    return _adaptive_forward(1, input, output_size, True)


def adaptive_max_pool2d_forward(input, output_size):
    """Adaptive max pooling of (C, H, W) or (N, C, H, W) to ``output_size`` (int or (oh, ow));
    returns (output, indices)."""
    return _adaptive_forward(2, input, output_size, True)


def adaptive_avg_pool1d_forward(input, output_size):
    return _adaptive_forward(1, input, output_size, False)


def adaptive_avg_pool2d_forward(input, output_size):
    return _adaptive_forward(2, input, output_size, False)


def adaptive_max_pool1d_backward(grad_output, input_size, indices):
    return _index_backward("adaptive_max_pool1d_backward", 1, grad_output, input_size, indices)


def adaptive_max_pool2d_backward(grad_output, input_size, indices):
    return _index_backward("adaptive_max_pool2d_backward", 2, grad_output, input_size, indices)


def adaptive_avg_pool1d_backward(grad_output, input_size):
    return _adaptive_avg_backward(1, grad_output, input_size)


def adaptive_avg_pool2d_backward(grad_output, input_size):
    return _adaptive_avg_backward(2, grad_output, input_size)


# ------------------------------------------------------------------------------------------- fractional
def _intervals(samples, in_size, out_size, pool):
    """THNN's window starts for each plane: int((i + u) * a) - int(u * a), a = (in - pool) / (out - 1),
    computed in the tensor's own precision (float for half, THCUNN's accumulate type), on the samples'
    device; the last window ends at the input's end."""
    xp = _backend.get_array_module(samples)
    samples = widened(samples)
    dt = samples.dtype.type
    seq = xp.empty((samples.shape[0], out_size), np.int64)
    if out_size > 1:
        alpha = dt(in_size - pool) / dt(out_size - 1)
        i = xp.arange(out_size - 1, dtype=samples.dtype)
        with np.errstate(invalid="ignore"):
            seq[:, :-1] = ((i[None, :] + samples[:, None]) * alpha).astype(np.int64) \
                - (samples * alpha).astype(np.int64)[:, None]
    seq[:, -1] = in_size - pool
    # exact arithmetic keeps every start in [0, in - pool] for any sample; rounding at huge sizes (and NaN
    # samples) must not send the kernel's reads outside the plane
    return xp.clip(seq, 0, in_size - pool, out=seq)


@on_input_device
def fractional_max_pool2d_forward(input, kernel_size, output_size=None, output_ratio=None, random_samples=None):
    """Fractional max pooling (Graham, 2014) of (C, H, W) or (N, C, H, W) with kh x kw windows, to
    ``output_size`` (oh, ow) or ``output_ratio`` times the input size. ``random_samples`` (N, C, 2) of
    input's type, values in [0, 1) (drawn uniformly when None; N = 1 for a 3-D input). Returns (output,
    indices)."""
    op = "fractional_max_pool2d"
    cls = _float_input(op, input)
    lead, (H, W) = _split_input(op, input, 2)
    kh, kw = _ints(op, "kernel_size", kernel_size, 2)
    if output_size is None:
        if output_ratio is None:
            raise ValueError("fractional_max_pool2d requires specifying either an output size, or a pooling ratio")
        rh, rw = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio, output_ratio)
        output_size = (int(H * rh), int(W * rw))
    oh, ow = _ints(op, "output_size", output_size, 2)
    if kh < 1 or kw < 1 or oh < 1 or ow < 1:
        raise RuntimeError("{}: kernel_size and output_size must be positive, got kernel_size ({}, {}) and "
                           "output_size ({}, {})".format(op, kh, kw, oh, ow))
    if oh + kh - 1 > H:
        raise RuntimeError("{}: poolSizeH ({}) too large relative to input height ({}) for output height ({})"
                           .format(op, kh, H, oh))
    if ow + kw - 1 > W:
        raise RuntimeError("{}: poolSizeW ({}) too large relative to input width ({}) for output width ({})"
                           .format(op, kw, W, ow))
    n, c = (1,) + tuple(lead) if len(lead) == 1 else lead
    if random_samples is None:
        random_samples = cls(n, c, 2).uniform_()
    else:
        _same_type(op, random_samples, cls, "random_samples")
        same_device(random_samples, input, op, "random_samples")
        if tuple(random_samples._a.shape) != (n, c, 2):
            raise RuntimeError("{}: expected random_samples of size {}, got {}"
                               .format(op, _fmt_size((n, c, 2)), _fmt_size(random_samples.size())))
    u = _carray(random_samples).reshape(n * c, 2)
    seq_w = _intervals(u[:, 0], W, ow, kw)
    seq_h = _intervals(u[:, 1], H, oh, kh)
    x = _carray(input).reshape(n * c, H, W)
    y = _empty(cls, (n * c, oh, ow))
    ind = _empty(cls, y.shape, np.int64)
    _impl(input).fractional_max_pool(x, seq_h, seq_w, kh, kw, y, ind)
    shape = tuple(lead) + (oh, ow)
    return cls._make(y.reshape(shape)), _index_class(cls)._make(ind.reshape(shape))


def fractional_max_pool2d_backward(grad_output, input_size, indices):
    return _index_backward("fractional_max_pool2d_backward", 2, grad_output, input_size, indices)


# ------------------------------------------------------------------------------------------- unpooling
@on_input_device
def _unpool_forward(nd, input, indices, output_size):
    op = "max_unpool{}d".format(nd)
    cls = _float_input(op, input)
    lead, spatial = _split_input(op, input, nd)
    if _indices_with(op, indices, input) != tuple(input._a.shape):
        raise RuntimeError("{}: expected indices of the input's size {}, got {}"
                           .format(op, _fmt_size(input.size()), _fmt_size(indices.size())))
    out = _ints(op, "output_size", output_size, nd)
    if min(out) < 1:
        raise RuntimeError("{}: output_size must be positive, got {}".format(op, list(out)))
    planes = _prod(lead)
    x = _carray(input).reshape(planes, -1)
    ind = _carray(indices).reshape(planes, -1)
    y = _empty(cls, (planes, _prod(out)))
    if _impl(input).index_scatter(x, ind, y):
        raise _bad_index(op, ind, y.shape[1])
    return cls._make(y.reshape(tuple(lead) + out))


@on_input_device
def _unpool_backward(nd, grad_output, indices):
    op = "max_unpool{}d_backward".format(nd)
    cls = _float_input(op, grad_output, "grad_output")
    gshape = tuple(grad_output._a.shape)
    ishape = _indices_with(op, indices, grad_output)
    if len(gshape) not in (nd + 1, nd + 2) or len(ishape) != len(gshape) or gshape[:-nd] != ishape[:-nd] \
            or not indices._a.size:
        raise RuntimeError("{}: expected grad_output and indices with the same leading dims ({}D or {}D), got {} "
                           "and {}".format(op, nd + 1, nd + 2, _fmt_size(grad_output.size()),
                                           _fmt_size(indices.size())))
    planes = _prod(gshape[:-nd])
    g = _carray(grad_output).reshape(planes, -1)
    ind = _carray(indices).reshape(planes, -1)
    gx = _empty(cls, ind.shape)
    if _impl(grad_output).index_gather(g, ind, gx):
        raise _bad_index(op, ind, g.shape[1])
    return cls._make(gx.reshape(ishape))


def max_unpool1d_forward(input, indices, output_size):
    """Max unpooling: (C, L) or (N, C, L) values placed at ``indices`` (flat within each output plane) of a
    zero output whose length is ``output_size`` (see unpool_output_size)."""
    return _unpool_forward(1, input, indices, output_size)


def max_unpool2d_forward(input, indices, output_size):
    """Max unpooling of (C, H, W) or (N, C, H, W) into planes of ``output_size`` (oh, ow)."""
    return _unpool_forward(2, input, indices, output_size)


def max_unpool3d_forward(input, indices, output_size):
    """Max unpooling of (C, D, H, W) or (N, C, D, H, W) into volumes of ``output_size`` (od, oh, ow)."""
    return _unpool_forward(3, input, indices, output_size)


def max_unpool1d_backward(grad_output, indices):
    """Gradient of max_unpool1d for its input: grad_output read at ``indices``."""
    return _unpool_backward(1, grad_output, indices)


def max_unpool2d_backward(grad_output, indices):
    return _unpool_backward(2, grad_output, indices)


def max_unpool3d_backward(grad_output, indices):
    return _unpool_backward(3, grad_output, indices)
