"""Softmax and log-softmax along ``dim`` on the GPU: the formulas of the CPU kernels as array reductions
(each slice shifted by its maximum, so large inputs do not overflow). Arrays arrive C-contiguous; results
are new C-contiguous arrays of the input's dtype.
"""
from . import widened


def softmax_forward(xp, x, dim, log):
    """softmax (``log``: log_softmax) of ``x`` along ``dim``."""
    z = widened(x)
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
    if log:
        grad = g - xp.exp(y) * g.sum(axis=dim, keepdims=True)
    else:
        grad = g - (g * y).sum(axis=dim, keepdims=True)
        grad *= y
    return grad.astype(output.dtype, copy=False)
