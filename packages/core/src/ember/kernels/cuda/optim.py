"""The fused optimizer updates of ``ember.kernels.optim`` on the GPU: 0.2's SGD and Adam arithmetic (the
order of ``_C/optim.pyx``) as in-place array ops on flat C-contiguous arrays of the parameter and its
state. Half arrays are updated through float32 working copies, rounded back once at the end.
"""
from . import widened


def _write_back(arrays, work):
    """Round the float32 working copies back into the half arrays they stand for (others are their own)."""
    for a, w in zip(arrays, work):
        if w is not a:
            a[...] = w


def sgd_step(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first):
    """d = g (+= wd * p, in place as 0.2); buf = first ? d : m * buf + (1 - dampening) * d;
    d = nesterov ? d + m * buf : buf; p -= lr * d. ``buf`` is None without momentum."""
    arrays = (p, g) if buf is None else (p, g, buf)
    work = [widened(a) for a in arrays]
    wp, wg = work[0], work[1]
    if weight_decay != 0:
        wg += weight_decay * wp
    d = wg
    if momentum != 0:
        wb = work[2]
        if first:
            wb[...] = wg
        else:
            wb *= momentum
            wb += (1 - dampening) * wg
        d = wg + momentum * wb if nesterov else wb
    wp -= lr * d
    _write_back(arrays, work)


def adam_step(xp, p, g, exp_avg, exp_avg_sq, beta1, beta2, eps, step_size, weight_decay):
    """g' = g + wd * p; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g' g'; p -= step_size * m / (sqrt(v) + eps)."""
    arrays = (p, exp_avg, exp_avg_sq)
    work = [widened(a) for a in arrays]
    wp, m, v = work
    wg = widened(g)
    if weight_decay != 0:
        wg = wg + weight_decay * wp
    m *= beta1
    m += (1 - beta1) * wg
    v *= beta2
    v += (1 - beta2) * wg * wg
    denom = xp.sqrt(v)
    denom += eps
    wp -= step_size * (m / denom)
    _write_back(arrays, work)
