"""Upsampling kernels, forward and backward, on ember tensors (float and double), with PyTorch 0.2's rules:

- nearest: input (N, C, L), (N, C, H, W) or (N, C, D, H, W) (0.2 had the 4-D and 5-D forms; 3-D is an ember
  extra), one integer ``scale_factor`` for every spatial dim, or a ``size`` that is that integer multiple
  of the input size; output[i] = input[i // scale];
- bilinear (4-D) and trilinear (5-D) with 0.2's align-corners behaviour: output position j reads input
  position j * (in - 1) / (out - 1), interpolating linearly between its two neighbours; ``size`` is any
  output size, ``scale_factor`` a positive integer or a tuple of them (one per spatial dim).

The forward passes resample one spatial axis at a time, innermost first (THNN's order of arithmetic), on
the compiled axis kernels of ember/_C/upsampling.pyx; the backward passes run their adjoints in reverse.
Every kernel validates its arguments, then calls ``_impl(tensor)``: the one device dispatch point, which
gives ``_CPU`` or, for CUDA tensors, ember/kernels/cuda/upsampling.py (the same functions in CuPy), run
with the tensor's GPU current. Half tensors (CUDA only) interpolate with float32 weights and round once.
"""
import numbers

import numpy as np

from ember._C import upsampling as _k
from ember._threads import get_num_threads
from ember.kernels.pooling import _carray, _float_input, _ints, _prod, _size_arg
from ember.tensor import _fmt_size

from ._common import on_device
from .cuda import compute_dtype

__all__ = [
    "upsample_nearest_forward", "upsample_nearest_backward",
    "upsample_bilinear2d_forward", "upsample_bilinear2d_backward",
    "upsample_trilinear3d_forward", "upsample_trilinear3d_backward",
]


# ------------------------------------------------------------------------------------------- device dispatch
class _CPU(object):
    """Resampling of C-contiguous arrays (ember/_C/upsampling.pyx); shared with the padding kernels."""

    @staticmethod
    def remap(x, maps, run):
        """y[o, i, j, k] = x[o, md[i], mh[j], mw[k]] for x (O, D, H, W), maps (md, mh, mw); ``run`` is the
        range of output columns where mw steps by one."""
        md, mh, mw = maps
        y = np.empty((x.shape[0], md.size, mh.size, mw.size), x.dtype)
        _k.remap(x, md, mh, mw, run[0], run[1], y, get_num_threads())
        return y

    @staticmethod
    def remap_backward(g, maps, run, shape):
        """remap's adjoint, into a new array of ``shape`` (O, D, H, W)."""
        md, mh, mw = maps
        gx = np.empty(shape, g.dtype)
        _k.remap_backward(g, md, mh, mw, run[0], run[1], gx, get_num_threads())
        return gx

    @staticmethod
    def lerp(x, axis, table):
        """Linear interpolation along ``axis``: y[.., j, ..] = w0[j] x[.., i0[j], ..] + w1[j] x[.., i1[j], ..]."""
        i0, i1, w0, w1 = table
        x3, shape = _axis_view(x, axis)
        y = np.empty(shape[:axis] + (i0.size,) + shape[axis + 1:], x.dtype)
        _k.axis_lerp(x3, i0, i1, w0, w1, y.reshape(x3.shape[0], i0.size, x3.shape[2]), get_num_threads())
        return y

    @staticmethod
    def lerp_backward(g, axis, table, n):
        i0, i1, w0, w1 = table
        g3, shape = _axis_view(g, axis)
        gx = np.empty(shape[:axis] + (n,) + shape[axis + 1:], g.dtype)
        _k.axis_lerp_backward(g3, i0, i1, w0, w1, gx.reshape(g3.shape[0], n, g3.shape[2]), get_num_threads())
        return gx


def _impl(t):
    # the one device dispatch point (callers hold on_device(t) while they use it)
    if t.is_cuda:
        from .cuda import upsampling as gpu
        return gpu
    return _CPU


def _axis_view(a, axis):
    shape = a.shape
    return a.reshape(_prod(shape[:axis]), shape[axis], _prod(shape[axis + 1:])), shape


_ZERO_MAP = np.zeros(1, np.intp)


def _planes_shape(shape, nd):
    """A shape with ``nd`` trailing spatial dims as (planes, D, H, W)."""
    return (_prod(shape[:len(shape) - nd]),) + (1,) * (3 - nd) + tuple(shape[len(shape) - nd:])


def _planes(a, nd):
    return a.reshape(_planes_shape(a.shape, nd))


def _maps3(maps):
    """Per-dim index maps (outermost first) padded to (md, mh, mw)."""
    return (_ZERO_MAP,) * (3 - len(maps)) + tuple(maps)


# ------------------------------------------------------------------------------------------- arguments
_MODES = {1: "nearest", 2: "bilinear", 3: "trilinear"}


def _spatial(op, t, ranks):
    """The spatial sizes of an (N, C, *spatial) tensor whose dim() is one of ``ranks``."""
    a = t._a
    ndim = a.ndim if a.size else 0
    if ndim not in ranks:
        raise RuntimeError("{}: expected a {} input tensor, got one of size {}"
                           .format(op, " or ".join("{}D".format(r) for r in ranks), _fmt_size(t.size())))
    return a.shape[2:]


def _nearest_scale(op, spatial, size, scale_factor):
    """0.2's UpsamplingNearest rule: one integer scale for every dim, given or implied by ``size``."""
    if scale_factor is not None:
        if isinstance(scale_factor, bool) or not isinstance(scale_factor, numbers.Integral):
            raise ValueError("scale_factor must be a single Integer value for nearest neighbor sampling")
        if scale_factor < 1:
            raise ValueError("{}: scale_factor must be positive, got {}".format(op, scale_factor))
        return int(scale_factor)
    if size is None:
        raise ValueError("either size or scale_factor should be defined")
    size = _ints(op, "size", size, len(spatial))
    if any(o % i for o, i in zip(size, spatial)) or min(size) < 1:
        raise RuntimeError("output size specified in UpsamplingNearest ({}) has to be divisible by the input size, "
                           "but got: {}".format("x".join(map(str, size)), "x".join(map(str, spatial))))
    scales = {o // i for o, i in zip(size, spatial)}
    if len(scales) != 1:
        raise RuntimeError("input aspect ratio doesn't match the output ratio")
    return scales.pop()


def _linear_size(op, spatial, size, scale_factor):
    """0.2's rule for bilinear/trilinear: integer scale factors (one, or one per dim), or any size."""
    nd = len(spatial)
    if scale_factor is not None:
        sf = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
        if len(sf) != nd or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                                    for s in sf):
            raise ValueError("scale_factor must be a non-negative integer, or a tuple of non-negative integers for "
                             "bilinear and trilinear upsampling, but got: {}".format(scale_factor))
        return tuple(i * s for i, s in zip(spatial, sf))
    if size is None:
        raise ValueError("either size or scale_factor should be defined")
    size = _ints(op, "size", size, nd)
    if min(size) < 1:
        raise RuntimeError("{}: output size must be positive, got {}".format(op, list(size)))
    return size


def _backward_args(op, grad_output, input_size, ranks):
    """(class, input size) of a backward call: grad_output must have the input's rank, batch and channels."""
    cls = _float_input(op, grad_output, "grad_output")
    size = _size_arg(op, "input_size", input_size)
    gshape = tuple(grad_output._a.shape) if grad_output._a.size else ()
    if len(size) not in ranks or min(size) < 1:
        raise RuntimeError("{}: expected input_size of {} positive entries, got {}"
                           .format(op, " or ".join(map(str, ranks)), list(size)))
    if len(gshape) != len(size) or gshape[:2] != size[:2]:
        raise RuntimeError("{}: expected grad_output of size [{} x {} x ...] ({}D), got {}"
                           .format(op, size[0], size[1], len(size), _fmt_size(grad_output.size())))
    return cls, size


# ------------------------------------------------------------------------------------------- nearest
def _nearest_index(n_in, scale):
    return np.arange(n_in * scale, dtype=np.intp) // scale


def upsample_nearest_forward(input, size=None, scale_factor=None):
    """Nearest-neighbour upsampling of (N, C, L), (N, C, H, W) or (N, C, D, H, W) by an integer factor."""
    op = "upsample_nearest"
    cls = _float_input(op, input)
    spatial = _spatial(op, input, (3, 4, 5))
    scale = _nearest_scale(op, spatial, size, scale_factor)
    with on_device(input):
        x = _carray(input)
        if scale == 1:
            return cls._make(x.copy())
        maps = _maps3([_nearest_index(n, scale) for n in spatial])
        y = _impl(input).remap(_planes(x, len(spatial)), maps, (0, 0))
    return cls._make(y.reshape(x.shape[:2] + tuple(n * scale for n in spatial)))


def upsample_nearest_backward(grad_output, input_size):
    """Gradient of upsample_nearest for an input of ``input_size``: each input element collects the
    scale**dims output gradients it was copied to (the scale is grad_output's size over the input's)."""
    op = "upsample_nearest_backward"
    cls, size = _backward_args(op, grad_output, input_size, (3, 4, 5))
    gshape = grad_output._a.shape
    scale = gshape[2] // size[2]
    if any(o != i * scale for o, i in zip(gshape[2:], size[2:])):
        raise RuntimeError("{}: grad_output {} is not the input size {} times one integer scale"
                           .format(op, _fmt_size(gshape), _fmt_size(size)))
    with on_device(grad_output):
        g = _carray(grad_output)
        if scale == 1:
            return cls._make(g.copy())
        nd = len(size) - 2
        maps = _maps3([_nearest_index(n, scale) for n in size[2:]])
        gx = _impl(grad_output).remap_backward(_planes(g, nd), maps, (0, 0), _planes_shape(size, nd))
    return cls._make(gx.reshape(size))


# ------------------------------------------------------------------------------------------- bi/trilinear
def _linear_table(n_in, n_out, dtype):
    """Align-corners interpolation along one axis: source i0 + l1 with i0 = floor(j * (in-1)/(out-1)),
    its neighbour i1 (= i0 at the last input), weights (1 - l1, l1) -- THNN's arithmetic: the position
    in double (its accreal), the weights in the tensor's type."""
    ratio = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    src = ratio * np.arange(n_out, dtype=np.float64)
    i0 = src.astype(np.intp)
    np.minimum(i0, n_in - 1, out=i0)
    i1 = i0 + (i0 < n_in - 1)
    w1 = (src - i0).astype(dtype)
    w0 = (dtype.type(1) - w1).astype(dtype)
    return i0, i1, w0, w1


def _linear_forward(op, nd, input, size, scale_factor):
    cls = _float_input(op, input)
    spatial = _spatial(op, input, (nd + 2,))
    out = _linear_size(op, spatial, size, scale_factor)
    impl = _impl(input)
    with on_device(input):
        y = _carray(input)
        copied = False
        for axis in range(nd + 1, 1, -1):
            n_in, n_out = y.shape[axis], out[axis - 2]
            if n_in != n_out:
                y = impl.lerp(y, axis, _linear_table(n_in, n_out, compute_dtype(y.dtype)))
                copied = True
        return cls._make(y.astype(cls._dtype, copy=False) if copied else y.copy())


def _linear_backward(op, nd, grad_output, input_size):
    cls, size = _backward_args(op, grad_output, input_size, (nd + 2,))
    impl = _impl(grad_output)
    with on_device(grad_output):
        g = _carray(grad_output)
        copied = False
        for axis in range(2, nd + 2):
            n_in, n_out = size[axis], g.shape[axis]
            if n_in != n_out:
                g = impl.lerp_backward(g, axis, _linear_table(n_in, n_out, compute_dtype(g.dtype)), n_in)
                copied = True
        return cls._make(g.astype(cls._dtype, copy=False) if copied else g.copy())


def upsample_bilinear2d_forward(input, size=None, scale_factor=None):
    """Bilinear upsampling of (N, C, H, W) (align corners, as 0.2)."""
    return _linear_forward("upsample_bilinear2d", 2, input, size, scale_factor)


def upsample_bilinear2d_backward(grad_output, input_size):
    """Gradient of upsample_bilinear2d for an input of ``input_size`` (the output size is grad_output's)."""
    return _linear_backward("upsample_bilinear2d_backward", 2, grad_output, input_size)


def upsample_trilinear3d_forward(input, size=None, scale_factor=None):
    """Trilinear upsampling of (N, C, D, H, W) (align corners, as 0.2)."""
    return _linear_forward("upsample_trilinear3d", 3, input, size, scale_factor)


def upsample_trilinear3d_backward(grad_output, input_size):
    return _linear_backward("upsample_trilinear3d_backward", 3, grad_output, input_size)
