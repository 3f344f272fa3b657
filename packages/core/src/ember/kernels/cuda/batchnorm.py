"""Batch normalization on the GPU: the CPU kernel's formulas (THNN's BatchNormalization) with the
per-channel statistics as reductions over the batch and spatial axes of a C-contiguous (N, C, S) array.
Per-channel vectors (weight, bias, statistics) are 1-D arrays of C elements, or None.
"""
from . import widened

_NS = (0, 2)  # the axes a channel's statistics run over: batch and space


def batch_norm_forward(xp, x, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd), in x's dtype. Training: the batch's mean and biased variance,
    and the running statistics updated in place (unbiased variance); else the running statistics."""
    xw = widened(x)
    if training:
        mean = xw.mean(axis=_NS)
        centered = xw - _spread(mean)
        count = x.shape[0] * x.shape[2]
        sqdev = (centered * centered).sum(axis=_NS)
        invstd = _batch_invstd(xp, sqdev / count, eps)
        _update(running_mean, mean, momentum)
        _update(running_var, sqdev / (count - 1), momentum)
    else:
        mean = widened(running_mean)
        centered = xw - _spread(mean)
        invstd = 1 / xp.sqrt(widened(running_var) + eps)
    out = centered * _spread(_scale(invstd, weight))
    if bias is not None:
        out += _spread(widened(bias))
    # save_mean is a copy even when it is running_mean, which later forwards update
    return out.astype(x.dtype, copy=False), mean.astype(x.dtype), invstd.astype(x.dtype, copy=False)


def batch_norm_backward(xp, grad_output, x, weight, mean, invstd, var, eps, training, want_gi, want_gw,
                        want_gb):
    """(grad_input, grad_weight, grad_bias) for the mean / invstd the forward used (``invstd`` None: from
    the running ``var``); the unwanted ones are None. Training: grad_input = (g - mean(g) - (x - mean) *
    invstd**2 * mean((x - mean) * g)) * invstd * weight; else g * invstd * weight."""
    g = widened(grad_output)
    invstd = widened(invstd) if invstd is not None else 1 / xp.sqrt(widened(var) + eps)
    centered = widened(x) - _spread(widened(mean))
    through_stats = training and want_gi
    sum_g = g.sum(axis=_NS) if want_gb or through_stats else None
    dot = (centered * g).sum(axis=_NS) if want_gw or through_stats else None
    grad_input = None
    if want_gi:
        if training:
            count = x.shape[0] * x.shape[2]
            g = g - _spread(sum_g / count) - centered * _spread(dot * invstd * invstd / count)
        grad_input = (g * _spread(_scale(invstd, weight))).astype(x.dtype, copy=False)
    grad_weight = (dot * invstd).astype(x.dtype, copy=False) if want_gw else None
    grad_bias = sum_g.astype(x.dtype, copy=False) if want_gb else None
    return grad_input, grad_weight, grad_bias


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
