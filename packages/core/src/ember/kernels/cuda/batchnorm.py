"""Batch normalization on the GPU: the CPU kernel's formulas (THNN's BatchNormalization) with the
per-channel statistics as reductions over the batch and spatial axes of a C-contiguous (N, C, S) array, and
the elementwise passes over the data fused into one CUDA kernel each (``_raw``): the normalization
y = (x - mean) * scale + shift, and the input gradient. Per-channel vectors (weight, bias, statistics) are
1-D arrays of C elements, or None.
"""
import numpy as np

from . import widened
from ._raw import Kernel

# element i of (N, C, S) belongs to channel (i / S) % C
_normalize = Kernel("batch_norm_normalize", r"""
extern "C" __global__ void batch_norm_normalize(const scalar_t* x, scalar_t* y, const scalar_t* mean,
                                                const scalar_t* scale, const scalar_t* shift, index_t n, index_t C,
                                                index_t S) {
    EMBER_LOOP(i, n) {
        index_t c = i / S % C;
        y[i] = (x[i] - mean[c]) * scale[c] + shift[c];
    }
}
""")

# training: (g - sum_g[c] / count - (x - mean[c]) * k[c]) * scale[c] with k = dot * invstd^2 / count;
# evaluation: g * scale[c] (the statistics are constants)
_input_grad = Kernel("batch_norm_input_grad", r"""
extern "C" __global__ void batch_norm_input_grad(const scalar_t* g, const scalar_t* x, scalar_t* gi,
                                                 const scalar_t* mean, const scalar_t* mean_g, const scalar_t* k,
                                                 const scalar_t* scale, index_t n, index_t C, index_t S,
                                                 int training) {
    EMBER_LOOP(i, n) {
        index_t c = i / S % C;
        gi[i] = training ? (g[i] - mean_g[c] - (x[i] - mean[c]) * k[c]) * scale[c] : g[i] * scale[c];
    }
}
""")

_NS = (0, 2)  # the axes a channel's statistics run over: batch and space


def batch_norm_forward(xp, x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd), in x's dtype. Training: the batch's mean and biased variance,
    and the running statistics updated in place (unbiased variance); else the running statistics."""
    xw = xp.ascontiguousarray(widened(x))
    if training:
        mean = xw.mean(axis=_NS)
        centered = xw - _spread(mean)
        count = x.shape[0] * x.shape[2]
        sqdev = (centered * centered).sum(axis=_NS)
        del centered
        invstd = _batch_invstd(xp, sqdev / count, eps)
        _update(running_mean, mean, momentum)
        _update(running_var, sqdev / (count - 1), momentum)
    else:
        mean = widened(running_mean)
        invstd = 1 / xp.sqrt(widened(running_var) + eps)
    shift = xp.zeros_like(mean) if bias is None else widened(bias)
    out = xp.empty_like(xw)
    _normalize(out.size, xw, out, _vector(xp, mean, out.dtype), _vector(xp, _scale(invstd, weight), out.dtype),
               _vector(xp, shift, out.dtype), out.size, x.shape[1], x.shape[2], dtype=out.dtype)
    # save_mean is a copy even when it is running_mean, which later forwards update
    return out.astype(x.dtype, copy=False), mean.astype(x.dtype), invstd.astype(x.dtype, copy=False)


def batch_norm_backward(xp, grad_output, x, weight, mean, invstd, var, eps, training, want_gi, want_gw,
                        want_gb):
    """(grad_input, grad_weight, grad_bias) for the mean / invstd the forward used (``invstd`` None: from
    the running ``var``); the unwanted ones are None. Training: grad_input = (g - mean(g) - (x - mean) *
    invstd**2 * mean((x - mean) * g)) * invstd * weight; else g * invstd * weight."""
    g = xp.ascontiguousarray(widened(grad_output))
    invstd = widened(invstd) if invstd is not None else 1 / xp.sqrt(widened(var) + eps)
    through_stats = training and want_gi
    sum_g = g.sum(axis=_NS) if want_gb or through_stats else None
    dot = None
    if want_gw or through_stats:
        dot = ((widened(x) - _spread(widened(mean))) * g).sum(axis=_NS)
    grad_input = None
    if want_gi:
        count = x.shape[0] * x.shape[2]
        ct = g.dtype
        gi = xp.empty(g.shape, ct)
        mean_g = sum_g / count if training else xp.zeros(x.shape[1], ct)
        k = dot * invstd * invstd / count if training else mean_g
        _input_grad(gi.size, g, xp.ascontiguousarray(widened(x)), gi, _vector(xp, widened(mean), ct),
                    _vector(xp, mean_g, ct), _vector(xp, k, ct), _vector(xp, _scale(invstd, weight), ct), gi.size,
                    x.shape[1], x.shape[2], np.int32(training), dtype=ct)
        grad_input = gi.astype(x.dtype, copy=False)
    grad_weight = (dot * invstd).astype(x.dtype, copy=False) if want_gw else None
    grad_bias = sum_g.astype(x.dtype, copy=False) if want_gb else None
    return grad_input, grad_weight, grad_bias


def _vector(xp, v, dtype):
    """A per-channel vector as a kernel reads it: C-contiguous, in the compute type."""
    return xp.ascontiguousarray(v.astype(dtype, copy=False))


def _spread(v):
    """A per-channel vector shaped to broadcast against (N, C, S)."""
    return v.reshape(1, -1, 1)


def _scale(invstd, weight):
    return invstd if weight is None else invstd * widened(weight)


def _batch_invstd(xp, var, eps):
    # a constant channel with eps == 0 gets 0, not inf, as in the CPU kernel
    v = var + eps
    if eps == 0:
        v = xp.where(v == 0, xp.inf, v)
    return 1 / xp.sqrt(v)


def _update(running, batch, momentum):
    """running = momentum * batch + (1 - momentum) * running, in place (None: nothing to update)."""
    if running is not None:
        running[...] = momentum * batch + (1 - momentum) * widened(running)
