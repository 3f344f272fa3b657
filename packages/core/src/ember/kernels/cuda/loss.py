"""The GPU paths of the loss kernels (``ember/kernels/loss.py``): THCUNN's criteria as CuPy array code.

The compute functions take the array module ``xp`` first and arrays already checked by the CPU-side
entry points. Forward functions return sums as 0-d device arrays (the caller averages and wraps them);
backward functions take ``scale`` (grad_output times the averaging factor: a number or a 0-d device
array, never read back) and return the gradient in the input's dtype. Half inputs compute in float32.
Only the value checks (targets in range, BCE's probabilities) read back to the host: one reduction
and one read each.
"""
from ember._C.nn_loss import BCE, BCE_WITH_LOGITS, KL_DIV, L1, MSE, SMOOTH_L1, SOFT_MARGIN

from . import compute_dtype, widened

_BCE_EPS = 1e-12  # THNN's BCECriterion: log(x + 1e-12)


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

def _target_weights(xp, t, w, ignore_index, dtype):
    """(classes, weights): ``t`` with ignored targets sent to class 0, and w[t] per target (0 where
    ignored)."""
    keep = t != ignore_index
    c = xp.where(keep, t, 0)
    if w is None:
        return c, keep.astype(dtype)
    return c, xp.where(keep, widened(w)[c], 0).astype(dtype)


def _divisor(total):
    """The total weight to divide by: 1 where it is 0 (THNN then leaves the sum undivided). Arithmetic
    rather than ``where``, so that a total given as a number works too."""
    return total + (total == 0)


def nll_forward(xp, x, t, w, ignore_index, size_average):
    """x (N, C, S), t (N, S): (loss, total weight), the loss averaged by the total with size_average."""
    x = widened(x)
    c, wt = _target_weights(xp, t, w, ignore_index, x.dtype)
    picked = xp.take_along_axis(x, c[:, None, :], axis=1)[:, 0, :]
    loss = -(xp.where(t != ignore_index, picked, 0) * wt).sum()  # an ignored target may point at -inf
    total = wt.sum()
    if size_average:
        loss = loss / _divisor(total)
    return loss, total


def total_weight(xp, t, w, ignore_index, dtype):
    """The sum of w[t] over the targets that are not ``ignore_index``."""
    return _target_weights(xp, t, w, ignore_index, compute_dtype(dtype))[1].sum()


def _class_scale(scale, total, size_average):
    """``scale`` divided by the total weight with size_average; 0 when that total is 0 (as THNN)."""
    if not size_average:
        return scale
    return scale * (total != 0) / _divisor(total)


def nll_backward(xp, scale, shape, dtype, t, w, ignore_index, size_average, total):
    """The gradient of nll_forward for input (N, C, S) of ``dtype``: -w[t] * scale at (n, t[n, s], s)."""
    cdt = compute_dtype(dtype)
    c, wt = _target_weights(xp, t, w, ignore_index, cdt)
    scale = _scale_in(_class_scale(scale, total, size_average), cdt)
    onehot = xp.arange(shape[1])[None, :, None] == c[:, None, :]
    return (onehot * (wt * -scale)[:, None, :]).astype(dtype)


def cross_entropy_forward(xp, x, t, w, ignore_index, size_average):
    """x (N, C), t (N,): (loss, total weight, log_softmax(x) along dim 1 in x's dtype)."""
    xc = widened(x)
    shifted = xc - xc.max(axis=1, keepdims=True)
    logp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    loss, total = nll_forward(xp, logp[:, :, None], t[:, None], w, ignore_index, size_average)
    return loss, total, logp.astype(x.dtype)


def cross_entropy_backward(xp, scale, logp, t, w, ignore_index, size_average, total):
    """(softmax - onehot(t)) * w[t] * scale per row (zero rows for ignored targets)."""
    y = widened(logp)
    c, wt = _target_weights(xp, t, w, ignore_index, y.dtype)
    scale = _scale_in(_class_scale(scale, total, size_average), y.dtype)
    onehot = xp.arange(y.shape[1])[None, :] == c[:, None]
    return ((xp.exp(y) - onehot) * (wt * scale)[:, None]).astype(logp.dtype)


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
