"""Softmax and log-softmax along ``dim`` on the GPU, with the formulas of the CPU kernels (each slice
shifted by its maximum, so large inputs do not overflow). Arrays arrive C-contiguous; results are new
C-contiguous arrays of the input's dtype.

Seen as (outer, D, inner) around ``dim``, each of the outer * inner slices is one thread's work in a CUDA
kernel (``_raw``): max, sum of exponentials and the result in three passes over its D elements, adjacent
threads reading adjacent memory when inner > 1. Long rows with few of them (the last dim of a language
model's output) leave too few threads for that, and go to array reductions instead.
"""
import math

import numpy as np

from . import widened
from ._raw import Kernel

_ARRAY_ROWS = 1024  # slices longer than this, with inner == 1 and fewer slices than ...
_ARRAY_MAX_SLICES = 16384  # ... this, use the array code

_SLICE = r"""
        index_t o = i / inner, in = i % inner;
        index_t base = o * D * inner + in;
"""

# the maximum lets NaN through (a NaN slice stays NaN), as the array reductions do
_forward = Kernel("softmax_forward", r"""
extern "C" __global__ void softmax_forward(const scalar_t* x, scalar_t* y, index_t n, index_t D, index_t inner,
                                           int log_) {
    EMBER_LOOP(i, n) {""" + _SLICE + r"""
        scalar_t m = x[base];
        for (index_t d = 1; d < D; ++d) {
            scalar_t v = x[base + d * inner];
            if (v > m || isnan(v))
                m = v;
        }
        scalar_t total = 0;
        for (index_t d = 0; d < D; ++d)
            total += exp(x[base + d * inner] - m);
        if (log_) {
            scalar_t shift = log(total);
            for (index_t d = 0; d < D; ++d)
                y[base + d * inner] = (x[base + d * inner] - m) - shift;
        } else {
            for (index_t d = 0; d < D; ++d)
                y[base + d * inner] = exp(x[base + d * inner] - m) / total;
        }
    }
}
""")

# softmax: y * (g - sum(g * y)); log_softmax: g - exp(y) * sum(g)
_backward = Kernel("softmax_backward", r"""
extern "C" __global__ void softmax_backward(const scalar_t* g, const scalar_t* y, scalar_t* gx, index_t n,
                                            index_t D, index_t inner, int log_) {
    EMBER_LOOP(i, n) {""" + _SLICE + r"""
        scalar_t total = 0;
        for (index_t d = 0; d < D; ++d)
            total += log_ ? g[base + d * inner] : g[base + d * inner] * y[base + d * inner];
        for (index_t d = 0; d < D; ++d) {
            index_t j = base + d * inner;
            gx[j] = log_ ? g[j] - exp(y[j]) * total : (g[j] - total) * y[j];
        }
    }
}
""")


def _split(shape, dim):
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])


def _by_slices(shape, dim):
    outer, D, inner = _split(shape, dim)
    return not (inner == 1 and D > _ARRAY_ROWS and outer < _ARRAY_MAX_SLICES)


def softmax_forward(xp, x, dim, log):
    """softmax (``log``: log_softmax) of ``x`` along ``dim``."""
    z = widened(x)
    if _by_slices(x.shape, dim):
        outer, D, inner = _split(x.shape, dim)
        z = xp.ascontiguousarray(z)
        y = xp.empty(z.shape, z.dtype)
        _forward(outer * inner, z, y, outer * inner, D, inner, np.int32(log), dtype=z.dtype)
        return y.astype(x.dtype, copy=False)
    z = z - z.max(axis=dim, keepdims=True)
    e = xp.exp(z)
    total = e.sum(axis=dim, keepdims=True)
    if log:
        z -= xp.log(total)
        return z.astype(x.dtype, copy=False)
    e /= total
    return e.astype(x.dtype, copy=False)


def softmax_backward(xp, grad_output, output, dim, log):
    """The input's gradient from the forward's ``output``: softmax: y * (g - sum(g * y)); log_softmax:
    g - exp(y) * sum(g), the sums along ``dim``."""
    g = widened(grad_output)
    y = widened(output)
    if _by_slices(output.shape, dim):
        outer, D, inner = _split(output.shape, dim)
        g, y = xp.ascontiguousarray(g), xp.ascontiguousarray(y)
        gx = xp.empty(y.shape, y.dtype)
        _backward(outer * inner, g, y, gx, outer * inner, D, inner, np.int32(log), dtype=y.dtype)
        return gx.astype(output.dtype, copy=False)
    if log:
        grad = g - xp.exp(y) * g.sum(axis=dim, keepdims=True)
    else:
        grad = g - (g * y).sum(axis=dim, keepdims=True)
        grad *= y
    return grad.astype(output.dtype, copy=False)
