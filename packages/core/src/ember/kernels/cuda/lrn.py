"""Cross-map LRN on the GPU (THCUNN's SpatialCrossMapLRN, the formulas of ember/kernels/lrn.py). Arrays
are C-contiguous (N, C, H*W); the channel windows are ``size`` shifted whole-array adds.
"""
from . import widened


def cross_map_lrn_forward(xp, x, size, alpha, beta, k):
    """(output, scale) in x's dtype: scale = k + alpha / size * (window sum of x**2), output = x * scale**-beta."""
    xw = widened(x)
    scale = _window_sum(xp, xw * xw, size, (size - 1) // 2)
    scale *= alpha / size
    scale += k
    out = xp.power(scale, -beta)
    out *= xw
    return out.astype(x.dtype, copy=False), scale.astype(x.dtype, copy=False)


def cross_map_lrn_backward(xp, x, grad_output, output, scale, size, alpha, beta):
    """The input's gradient: g * scale**-beta - 2 * alpha * beta / size * x * (window sum of g * output / scale),
    the window transposed (output j depends on input c for j in c - (size - 1 - pre) ... c + pre)."""
    g = widened(grad_output)
    s = widened(scale)
    ratio = g * widened(output)
    ratio /= s
    accum = _window_sum(xp, ratio, size, size - 1 - (size - 1) // 2)
    accum *= widened(x)
    accum *= 2 * alpha * beta / size
    grad = xp.power(s, -beta)
    grad *= g
    grad -= accum
    return grad.astype(x.dtype, copy=False)


def _window_sum(xp, a, size, before):
    """out[:, c] = sum of a[:, j] for j in c - before ... c - before + size - 1 (inside 0 ... C - 1)."""
    C = a.shape[1]
    out = xp.zeros_like(a)
    for offset in range(-before, size - before):  # out[:, c] += a[:, c + offset] where both exist
        lo, hi = max(0, -offset), min(C, C - offset)
        if lo < hi:
            window = out[:, lo:hi]
            window += a[:, lo + offset:hi + offset]
    return out
