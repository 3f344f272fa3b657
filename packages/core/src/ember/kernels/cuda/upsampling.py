"""GPU paths of the upsampling and padding kernels: ``ember.kernels.upsampling._CPU``'s methods as CUDA
kernels (``_raw``), one thread per output element.

Padding and nearest upsampling gather through one index map per spatial axis; bi/trilinear upsampling
interpolates along one axis at a time with the CPU's table of neighbours and weights. The backward passes
are the adjoint scatter-adds (``atomicAdd``: a map may send many outputs to one input). The host tables go
to the device as one array per call. Half data computes in float32 and rounds once.
"""
import numpy as np

from ember import _backend

from . import widened
from ._raw import Kernel

# the input element that output element i of (planes, OD, OH, OW) reads, through the maps md, mh, mw
_SOURCE = r"""
__device__ __forceinline__ index_t source(index_t i, const long long* maps, index_t D, index_t H, index_t W,
                                          index_t OD, index_t OH, index_t OW) {
    index_t ow = i % OW, t = i / OW;
    index_t oh = t % OH;
    t /= OH;
    index_t od = t % OD, plane = t / OD;
    return ((plane * D + maps[od]) * H + maps[OD + oh]) * W + maps[OD + OH + ow];
}
"""

_remap = Kernel("remap", _SOURCE + r"""
extern "C" __global__ void remap(const scalar_t* x, scalar_t* y, const long long* maps, index_t n, index_t D,
                                 index_t H, index_t W, index_t OD, index_t OH, index_t OW) {
    EMBER_LOOP(i, n) {
        y[i] = x[source(i, maps, D, H, W, OD, OH, OW)];
    }
}
""")

_remap_backward = Kernel("remap_backward", _SOURCE + r"""
extern "C" __global__ void remap_backward(const scalar_t* g, scalar_t* gx, const long long* maps, index_t n,
                                          index_t D, index_t H, index_t W, index_t OD, index_t OH, index_t OW) {
    EMBER_LOOP(i, n) {
        atomicAdd(gx + source(i, maps, D, H, W, OD, OH, OW), g[i]);
    }
}
""")

# along one axis of x seen as (A, n_in, B): y[a, j, b] = w0[j] x[a, i0[j], b] + w1[j] x[a, i1[j], b]
_lerp = Kernel("lerp", r"""
extern "C" __global__ void lerp(const scalar_t* x, scalar_t* y, const long long* index, const scalar_t* weight,
                                index_t n, index_t n_in, index_t J, index_t B) {
    EMBER_LOOP(i, n) {
        index_t b = i % B, t = i / B;
        index_t j = t % J, a = t / J;
        const scalar_t* row = x + a * n_in * B + b;
        y[i] = weight[j] * row[index[j] * B] + weight[J + j] * row[index[J + j] * B];
    }
}
""")

_lerp_backward = Kernel("lerp_backward", r"""
extern "C" __global__ void lerp_backward(const scalar_t* g, scalar_t* gx, const long long* index,
                                         const scalar_t* weight, index_t n, index_t n_in, index_t J, index_t B) {
    EMBER_LOOP(i, n) {
        index_t b = i % B, t = i / B;
        index_t j = t % J, a = t / J;
        scalar_t* row = gx + a * n_in * B + b;
        atomicAdd(row + index[j] * B, weight[j] * g[i]);
        atomicAdd(row + index[J + j] * B, weight[J + j] * g[i]);
    }
}
""")


def _xp(a):
    return _backend.get_array_module(a)


def _source(a):
    """``a`` C-contiguous in its compute type."""
    return _xp(a).ascontiguousarray(widened(a))


def _maps(xp, maps):
    return xp.asarray(np.concatenate([np.asarray(m, np.int64) for m in maps]))


def remap(x, maps, run):
    """y[o, i, j, k] = x[o, md[i], mh[j], mw[k]] (``run`` is a hint for the CPU kernel)."""
    xp = _xp(x)
    out = tuple(m.size for m in maps)
    src = _source(x)
    y = xp.empty(x.shape[:1] + out, src.dtype)
    _remap(y.size, src, y, _maps(xp, maps), y.size, *(x.shape[1:] + out), dtype=src.dtype)
    return y.astype(x.dtype, copy=False)


def remap_backward(g, maps, run, shape):
    """remap's adjoint into a new array of ``shape`` (O, D, H, W)."""
    xp = _xp(g)
    src = _source(g)
    gx = xp.zeros(shape, src.dtype)
    _remap_backward(g.size, src, gx, _maps(xp, maps), g.size, *(tuple(shape[1:]) + g.shape[1:]), dtype=src.dtype)
    return gx.astype(g.dtype, copy=False)


def _table(xp, table):
    """(index, weight) on the device: i0 then i1, w0 then w1, the weights in their (compute) type."""
    i0, i1, w0, w1 = table
    return xp.asarray(np.concatenate([i0, i1]).astype(np.int64)), xp.asarray(np.concatenate([w0, w1]))


def _inner(shape, axis):
    """The number of elements after ``axis`` (its stride in elements)."""
    return int(np.prod(shape[axis + 1:], dtype=np.int64))


def lerp(x, axis, table):
    """y[.., j, ..] = w0[j] x[.., i0[j], ..] + w1[j] x[.., i1[j], ..], in the weights' type."""
    xp = _xp(x)
    index, weight = _table(xp, table)
    src = xp.ascontiguousarray(x.astype(weight.dtype, copy=False))
    J = table[0].size
    y = xp.empty(x.shape[:axis] + (J,) + x.shape[axis + 1:], weight.dtype)
    _lerp(y.size, src, y, index, weight, y.size, x.shape[axis], J, _inner(x.shape, axis), dtype=weight.dtype)
    return y


def lerp_backward(g, axis, table, n):
    """lerp's adjoint: an array with ``n`` entries along ``axis``, in the weights' type."""
    xp = _xp(g)
    index, weight = _table(xp, table)
    src = xp.ascontiguousarray(g.astype(weight.dtype, copy=False))
    gx = xp.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1:], weight.dtype)
    _lerp_backward(g.size, src, gx, index, weight, g.size, n, table[0].size, _inner(g.shape, axis),
                   dtype=weight.dtype)
    return gx

