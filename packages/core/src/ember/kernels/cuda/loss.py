"""The GPU paths of the loss kernels (``ember/kernels/loss.py``): THCUNN's criteria on the GPU.

The compute functions take the array module ``xp`` first and arrays already checked by the CPU-side
entry points. Forward functions return sums as 0-d device arrays (the caller averages and wraps them);
backward functions take ``scale`` (grad_output times the averaging factor: a number or a 0-d device
array, never read back) and return the gradient in the input's dtype. Half inputs compute in float32.

The class criteria (NLL, cross entropy) run as CUDA C kernels (``_raw``), one thread per target: each
also counts the targets outside [0, C) that are not ignore_index (they contribute nothing), and that
count is the one value the caller reads back to raise its error. The other criteria are array code;
their value checks (margin targets, BCE's probabilities) read back one reduction each.
"""
import numpy as np

from ember._C.nn_loss import BCE, BCE_WITH_LOGITS, KL_DIV, L1, MSE, SMOOTH_L1, SOFT_MARGIN

from . import compute_dtype, widened
from ._raw import Kernel
from .softmax import softmax_forward

_BCE_EPS = 1e-12  # THNN's BCECriterion: log(x + 1e-12)

# target i's class c and weight wt; ``valid`` unless c is ignore_index or outside [0, C) (then wt is 0,
# and an out-of-range c is counted in *bad)
_TARGET = r"""
        long long c = t[i];
        scalar_t wt = 0;
        int valid = 0;
        if (c != ignore) {
            if (c < 0 || c >= C) {
                if (count)
                    atomicAdd(bad, 1);
            } else {
                valid = 1;
                wt = has_weight ? w[c] : (scalar_t)1;
            }
        }
"""

# target i = (b, s) of x (N, C, S): terms[i] = -x[b, c, s] * w[c] and terms[n + i] = w[c], so that the loss
# and the total weight are their two sums
_nll_terms = Kernel("nll_terms", r"""
extern "C" __global__ void nll_terms(const scalar_t* x, const long long* t, const scalar_t* w, scalar_t* terms,
                                     int* bad, index_t n, index_t C, index_t S, long long ignore,
                                    int has_weight) {
    EMBER_LOOP(i, n) {
        int count = 1;""" + _TARGET + r"""
        index_t b = i / S, s = i - b * S;
        terms[i] = valid ? -x[(b * C + (index_t)c) * S + s] * wt : (scalar_t)0;
        terms[n + i] = wt;
    }
}
""")

# g (zeroed) at (b, c, s) = -w[c] * scale[0]
_nll_grad = Kernel("nll_grad", r"""
extern "C" __global__ void nll_grad(const long long* t, const scalar_t* w, const scalar_t* scale, scalar_t* g,
                                    int* bad, index_t n, index_t C, index_t S, long long ignore,
                                    int has_weight) {
    EMBER_LOOP(i, n) {
        int count = 1;""" + _TARGET + r"""
        if (valid) {
            index_t b = i / S, s = i - b * S;
            g[(b * C + (index_t)c) * S + s] = -wt * scale[0];
        }
    }
}
""")

# cross entropy's gradient over (N, C): (exp(logp) - [k == t[b]]) * w[t[b]] * scale[0]; rows of ignored
# targets are zero. One thread per element; only the row's first counts a bad target.
_ce_grad = Kernel("cross_entropy_grad", r"""
extern "C" __global__ void cross_entropy_grad(const scalar_t* logp, const long long* t, const scalar_t* w,
                                              const scalar_t* scale, scalar_t* g, int* bad, index_t n, index_t C,
                                              long long ignore, int has_weight) {
    EMBER_LOOP(j, n) {
        index_t i = j / C, k = j - i * C;
        int count = k == 0;""" + _TARGET + r"""
        g[j] = valid ? (exp(logp[j]) - (k == c ? (scalar_t)1 : (scalar_t)0)) * wt * scale[0] : (scalar_t)0;
    }
}
""")


def _scale_in(scale, dtype):
    """A 0-d device ``scale`` cast to ``dtype`` (a number needs nothing: it takes the array's dtype)."""
    return scale.astype(dtype) if hasattr(scale, "astype") else scale


# ---------------------------------------------------------------------- target checks

def first_bad_class(t, n_classes, ignore_index):
    """The first target outside [0, n_classes) that is not ``ignore_index``, or None."""
    bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
    if not bad.any():
        return None
    return int(t[bad][0])


def first_outside_unit(x):
    """The first value of ``x`` that is not in [0, 1] (NaN included), or None (BCE takes probabilities)."""
    bad = ~((x >= 0) & (x <= 1))
    if not bad.any():
        return None
    return float(x[bad][0])


def out_of_range(t, low, high):
    """The target to report as outside [low, high): the smallest when it is below ``low``, else the
    largest; None when every target lies inside (the CPU check's choice)."""
    if not ((t < low) | (t >= high)).any():
        return None
    smallest = int(t.min())
    return smallest if smallest < low else int(t.max())


# ---------------------------------------------------------------------- class NLL and cross entropy

def _divisor(total):
    """The total weight to divide by: 1 where it is 0 (THNN then leaves the sum undivided). Arithmetic
    rather than ``where``, so that a total given as a number works too."""
    return total + (total == 0)


def _class_args(xp, t, w, ignore_index, dtype):
    """(t, w, bad, ignore, has_weight): the kernels' arguments for targets ``t`` and class weights ``w``
    (None: a placeholder the kernel does not read), with a zeroed counter of bad targets."""
    has_weight = np.int32(w is not None)
    t = xp.ascontiguousarray(t).reshape(-1)
    w = xp.ascontiguousarray(widened(w)).astype(dtype, copy=False) if w is not None else xp.zeros(1, dtype)
    return t, w, xp.zeros(1, np.int32), np.int64(ignore_index), has_weight


def nll_forward(xp, x, t, w, ignore_index, size_average):
    """x (N, C, S), t (N, S): (loss, total weight, bad), the loss averaged by the total with size_average;
    ``bad`` counts the targets outside [0, C) that are not ignore_index (a device array of one int)."""
    x = xp.ascontiguousarray(widened(x))
    n, n_classes, spatial = t.size, x.shape[1], x.shape[2]
    t, w, bad, ignore, has_weight = _class_args(xp, t, w, ignore_index, x.dtype)
    terms = xp.empty(2 * n, x.dtype)
    _nll_terms(n, x, t, w, terms, bad, n, n_classes, spatial, ignore, has_weight, dtype=x.dtype)
    loss, total = terms.reshape(2, n).sum(axis=1)
    if size_average:
        loss = loss / _divisor(total)
    return loss, total, bad


def total_weight(xp, t, w, ignore_index, dtype):
    """The sum of w[t] over the targets that are not ``ignore_index`` (1 each without w)."""
    keep = t != ignore_index
    if w is None:
        return keep.astype(compute_dtype(dtype)).sum()
    return xp.where(keep, widened(w)[xp.where(keep, t, 0)], 0).astype(compute_dtype(dtype)).sum()


def _class_scale(scale, total, size_average):
    """``scale`` divided by the total weight with size_average; 0 when that total is 0 (as THNN)."""
    if not size_average:
        return scale
    return scale * (total != 0) / _divisor(total)


def nll_backward(xp, scale, shape, dtype, t, w, ignore_index, size_average, total):
    """(gradient, bad): the gradient of nll_forward for input (N, C, S) of ``dtype``, -w[t] * scale at
    (n, t[n, s], s); ``bad`` as nll_forward's."""
    cdt = compute_dtype(dtype)
    n_classes, spatial = shape[1], shape[2]
    t, w, bad, ignore, has_weight = _class_args(xp, t, w, ignore_index, cdt)
    scale = xp.asarray(_scale_in(_class_scale(scale, total, size_average), cdt), cdt).reshape(1)
    g = xp.zeros(shape, cdt)
    _nll_grad(t.size, t, w, scale, g, bad, t.size, n_classes, spatial, ignore, has_weight, dtype=cdt)
    return g.astype(dtype, copy=False), bad


def cross_entropy_forward(xp, x, t, w, ignore_index, size_average):
    """x (N, C), t (N,): (loss, total weight, log_softmax(x) along dim 1 in x's dtype, bad)."""
    logp = softmax_forward(xp, widened(x), 1, True)
    loss, total, bad = nll_forward(xp, logp[:, :, None], t[:, None], w, ignore_index, size_average)
    return loss, total, logp.astype(x.dtype, copy=False), bad


def cross_entropy_backward(xp, scale, logp, t, w, ignore_index, size_average, total):
    """((softmax - onehot(t)) * w[t] * scale per row, zero rows for ignored targets; bad)."""
    y = xp.ascontiguousarray(widened(logp))
    t, w, bad, ignore, has_weight = _class_args(xp, t, w, ignore_index, y.dtype)
    scale = xp.asarray(_scale_in(_class_scale(scale, total, size_average), y.dtype), y.dtype).reshape(1)
    g = xp.empty(y.shape, y.dtype)
    _ce_grad(y.size, y, t, w, scale, g, bad, y.size, y.shape[1], ignore, has_weight, dtype=y.dtype)
    return g.astype(logp.dtype, copy=False), bad


# ---------------------------------------------------------------------- pointwise criteria

def _softplus(xp, z):
    """log(1 + exp(z)) without overflow."""
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


def _sigmoid(xp, z):
    e = xp.exp(-xp.abs(z))  # never overflows
    return xp.where(z >= 0, 1, e) / (1 + e)


def _kl_div(xp, x, t):
    positive = t > 0
    return xp.where(positive, t * (xp.log(xp.where(positive, t, 1)) - x), 0)


def _smooth_l1(xp, d):
    a = xp.abs(d)
    return xp.where(a < 1, 0.5 * d * d, a - 0.5)


_LOSS = {
    MSE: lambda xp, x, t: xp.square(x - t),
    L1: lambda xp, x, t: xp.abs(x - t),
    SMOOTH_L1: lambda xp, x, t: _smooth_l1(xp, x - t),
    SOFT_MARGIN: lambda xp, x, t: _softplus(xp, -t * x),
    BCE: lambda xp, x, t: -(xp.log(x + _BCE_EPS) * t + xp.log(1 - x + _BCE_EPS) * (1 - t)),
    BCE_WITH_LOGITS: lambda xp, x, t: _softplus(xp, x) - x * t,
    KL_DIV: _kl_div,
}

# d loss / d x, THNN's updateGradInput formulas (L1 takes +1 where x == t)
_GRAD = {
    MSE: lambda xp, x, t: 2 * (x - t),
    L1: lambda xp, x, t: xp.where(x - t >= 0, 1, -1).astype(x.dtype),
    SMOOTH_L1: lambda xp, x, t: xp.clip(x - t, -1, 1),
    SOFT_MARGIN: lambda xp, x, t: -t * _sigmoid(xp, -t * x),
    BCE: lambda xp, x, t: (x - t) / ((1 - x + _BCE_EPS) * (x + _BCE_EPS)),
    BCE_WITH_LOGITS: lambda xp, x, t: _sigmoid(xp, x) - t,
    KL_DIV: lambda xp, x, t: xp.where(t > 0, -t, 0),
}


def pointwise_forward(xp, kind, x, t, w):
    """The sum over elements of loss(x, t) (times w when given); flat arrays of one length."""
    x = widened(x)
    loss = _LOSS[kind](xp, x, widened(t))
    if w is not None:
        loss = loss * widened(w)
    return loss.sum()


def pointwise_backward(xp, kind, scale, x, t, w):
    """scale * d loss(x, t) / dx (times w when given), in x's dtype."""
    xc = widened(x)
    g = _GRAD[kind](xp, xc, widened(t)) * _scale_in(scale, xc.dtype)
    if w is not None:
        g = g * widened(w)
    return g.astype(x.dtype)


# ---------------------------------------------------------------------- margin criteria

def _multi_margin_terms(xp, x, t, margin):
    """(z, onehot): z = margin - x[n, t[n]] + x[n, d] over (N, C), and the target mask."""
    onehot = xp.arange(x.shape[1])[None, :] == t[:, None]
    z = margin - xp.take_along_axis(x, t[:, None], axis=1) + x
    return z, onehot


def multi_margin_forward(xp, x, t, p, margin, w):
    """The sum over rows and classes d != t of max(0, margin - x[t] + x[d])^p * w[t]."""
    x = widened(x)
    z, onehot = _multi_margin_terms(xp, x, t, margin)
    h = xp.where(onehot, 0, xp.maximum(z, 0))
    if p == 2:
        h = h * h
    if w is not None:
        h = h * widened(w)[t][:, None]
    return h.sum()


def multi_margin_backward(xp, scale, x, t, p, margin, w):
    """THNN's MultiMarginCriterion gradient times ``scale``: each active class d gets h = scale (p = 1)
    or 2 z scale (p = 2), times w[t]; the target class gets minus their sum."""
    xc = widened(x)
    z, onehot = _multi_margin_terms(xp, xc, t, margin)
    active = (z > 0) & ~onehot
    h = (active.astype(xc.dtype) if p == 1 else xp.where(active, 2 * z, 0)) * _scale_in(scale, xc.dtype)
    if w is not None:
        h = h * widened(w)[t][:, None]
    return (h - onehot * h.sum(axis=1, keepdims=True)).astype(x.dtype)


def _multilabel_terms(xp, x, t):
    """(active, z, labels) over (N, J, C): z = 1 - x[n, t[n, j]] + x[n, d]; ``labels`` the one-hot of
    slot j's label where slot j holds one (it comes before the row's first -1); ``active`` where it
    does, class d is none of the row's labels and z > 0. A duplicate label counts once per slot, as in
    THNN."""
    n_classes = x.shape[1]
    classes = xp.arange(n_classes)
    ends = xp.where(t < 0, classes, n_classes).min(axis=1)
    valid = classes[None, :] < ends[:, None]
    c = xp.where(valid, t, 0)
    labels = (c[:, :, None] == classes) & valid[:, :, None]
    z = 1 - xp.take_along_axis(x, c, axis=1)[:, :, None] + x[:, None, :]
    active = (z > 0) & valid[:, :, None] & ~labels.any(axis=1)[:, None, :]
    return active, z, labels


def multilabel_margin_forward(xp, x, t):
    """The sum over rows, label slots j and non-label classes d of max(0, 1 - x[t[j]] + x[d])."""
    x = widened(x)
    active, z, _ = _multilabel_terms(xp, x, t)
    return xp.where(active, z, 0).sum()


def multilabel_margin_backward(xp, scale, x, t):
    """THNN's MultiLabelMarginCriterion gradient times ``scale``: for every active (slot, class) pair,
    +scale at the class and -scale at the slot's label."""
    xc = widened(x)
    active, _, labels = _multilabel_terms(xp, xc, t)
    pushed_down = active.sum(axis=1)
    pushed_up = (labels * active.sum(axis=2)[:, :, None]).sum(axis=1)
    return ((pushed_down - pushed_up).astype(xc.dtype) * _scale_in(scale, xc.dtype)).astype(x.dtype)
