"""Elementwise activations of ember.nn on CPU arrays, forward and backward, THNN's formulas: leaky_relu,
threshold (relu), hardshrink/softshrink, elu/selu, softplus, logsigmoid, prelu (ember._C.nn_activation: one
pass over L1-sized blocks, NumPy's SIMD exp/expm1/log1p for the transcendental part).

These take and return NumPy arrays: ember.nn's autograd Functions call them when ``applies`` says their
arrays qualify (C-contiguous float/double NumPy arrays; one thread below ``MIN_SIZE`` elements) and keep
their own array code otherwise (CUDA, views, float16). ``out`` may be the input (in place).
"""
import numpy as np

from ember._C import nn_activation as _k

from ._common import get_num_threads

MIN_SIZE = 4096  # below this, waking threads and the block loop cost more than NumPy's passes
_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def applies(*arrays):
    """Whether the kernels take these arrays: NumPy, float or double, C-contiguous (any size: a call costs
    less than NumPy's several passes even on a few elements)."""
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype not in _TYPES or not a.flags.c_contiguous:
            return False
    return True


def _nthreads(x):
    """Threads for array ``x``: one below MIN_SIZE elements, where waking the others costs more."""
    return get_num_threads() if x.size >= MIN_SIZE else 1


def _out(x, out):
    return np.empty(x.shape, x.dtype) if out is None else out


def leaky_relu(x, slope, out=None):
    return _k.leaky_relu(x, _out(x, out), slope, _nthreads(x))


def leaky_relu_grad(x, grad, slope):
    return _k.leaky_relu_grad(x, grad, _out(x, None), slope, _nthreads(x))


def threshold(x, threshold, value, out=None):
    return _k.threshold(x, _out(x, out), threshold, value, _nthreads(x))


def threshold_in_place(x, threshold, value, out=None):
    """x <= threshold ? value : x (TH's in-place threshold: NaN passes)."""
    return _k.threshold_in_place(x, _out(x, out), threshold, value, _nthreads(x))


def threshold_grad(x, grad, threshold):
    """grad where x > threshold, else 0 (relu's backward may pass its output as x)."""
    return _k.threshold_grad(x, grad, _out(x, None), threshold, _nthreads(x))


def hardshrink(x, lambd):
    return _k.hardshrink(x, _out(x, None), lambd, _nthreads(x))


def softshrink(x, lambd):
    return _k.softshrink(x, _out(x, None), lambd, _nthreads(x))


def shrink_grad(x, grad, lambd):
    """grad where |x| > lambd, else 0 (hardshrink's and softshrink's backward)."""
    return _k.shrink_grad(x, grad, _out(x, None), lambd, _nthreads(x))


def elu(x, alpha, scale, out=None):
    return _k.elu(x, _out(x, out), alpha, scale, _nthreads(x))


def elu_grad(y, grad, alpha, scale):
    """From the forward's output ``y``."""
    return _k.elu_grad(y, grad, _out(y, None), alpha, scale, _nthreads(y))


def softplus(x, beta, threshold):
    return _k.softplus(x, _out(x, None), beta, threshold, _nthreads(x))


def softplus_grad(x, grad, beta, threshold):
    return _k.softplus_grad(x, grad, _out(x, None), beta, threshold, _nthreads(x))


def logsigmoid(x):
    return _k.logsigmoid(x, _out(x, None), _nthreads(x))


def logsigmoid_grad(x, grad):
    return _k.logsigmoid_grad(x, grad, _out(x, None), _nthreads(x))


def _channels(x, cdim):
    """``x`` as (images, channels, positions) around channel dim ``cdim`` (None: one channel)."""
    if cdim is None:
        return x.reshape(1, 1, -1)
    return x.reshape(int(np.prod(x.shape[:cdim], dtype=np.int64)), x.shape[cdim], -1)


def prelu(x, w, cdim):
    """x > 0 ? x : w[c] * x, with the weights ``w`` along dim ``cdim`` (None: one weight)."""
    out = np.empty(x.shape, x.dtype)
    _k.prelu(_channels(x, cdim), w.reshape(-1), _channels(out, cdim), _nthreads(x))
    return out


def prelu_grad(x, grad, w, cdim, need_input, need_weight):
    """(input gradient or None, weight gradient of w's shape in x's dtype or None)."""
    gx = np.empty(x.shape, x.dtype) if need_input else None
    gw = np.empty(w.size, np.float64) if need_weight else None
    _k.prelu_grad(_channels(x, cdim), _channels(grad, cdim), w.reshape(-1),
                  None if gx is None else _channels(gx, cdim), gw, _nthreads(x))
    return gx, None if gw is None else gw.astype(x.dtype).reshape(w.shape)


GLU_MIN_RUN = 256  # elements of a half run: shorter runs (glu over a tiny last dim) cost more per block


def _glu_layout(shape, dim):
    """(outer, L): the halves of a GLU input along ``dim`` are (outer, 2, L) in C order."""
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    return outer, shape[dim] // 2 * int(np.prod(shape[dim + 1:], dtype=np.int64))


def glu_applies(x, dim):
    return applies(x) and _glu_layout(x.shape, dim)[1] >= GLU_MIN_RUN


def glu(x, dim):
    """The first half of ``x`` along ``dim`` times the sigmoid of the second half."""
    outer, n = _glu_layout(x.shape, dim)
    shape = x.shape[:dim] + (x.shape[dim] // 2,) + x.shape[dim + 1:]
    out = np.empty(shape, x.dtype)
    _k.glu(x.reshape(outer, 2, n), out.reshape(outer, n), _nthreads(x))
    return out


def glu_grad(x, grad, dim):
    """GLU's input gradient (``x``'s shape) from the output's gradient ``grad`` (C-contiguous)."""
    outer, n = _glu_layout(x.shape, dim)
    out = np.empty(x.shape, x.dtype)
    _k.glu_grad(x.reshape(outer, 2, n), grad.reshape(outer, n), out.reshape(outer, 2, n), _nthreads(x))
    return out
