"""Loss kernels with THNN's formulas (PyTorch 0.2): class NLL (plain and spatial), multi-margin,
multi-label margin, and the pointwise criteria (MSE, L1, smooth L1, soft margin, BCE, BCE with logits,
KL divergence).

Forward kernels return raw sums (double); the Python layer divides for size_average. Backward
kernels write the gradient already multiplied by ``scale`` (grad_output times the averaging factor).
Callers check targets first with ``first_bad_target`` / ``first_outside``; the kernels then index
without checks.
"""
import numpy as np
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport exp, fabs, log, log1p
from libc.stdint cimport int64_t, uint8_t

ctypedef Py_ssize_t intp

# below this many elements a kernel runs on one thread
DEF GRAIN = 16384

# pointwise criteria (the `kind` argument of pointwise_forward / pointwise_backward)
MSE = 0
L1 = 1
SMOOTH_L1 = 2
SOFT_MARGIN = 3
BCE = 4
BCE_WITH_LOGITS = 5
KL_DIV = 6

DEF K_MSE = 0
DEF K_L1 = 1
DEF K_SMOOTH_L1 = 2
DEF K_SOFT_MARGIN = 3
DEF K_BCE = 4
DEF K_BCE_WITH_LOGITS = 5
DEF K_KL_DIV = 6
DEF BCE_EPS = 1e-12  # THNN's BCECriterion: log(x + 1e-12), log(1 - x + 1e-12)


cdef inline int _threads(intp work, int nthreads) noexcept nogil:
    return 1 if work < GRAIN or nthreads < 1 else nthreads


# ---------------------------------------------------------------------- target checks

def first_bad_target(int64_t[::1] t, int64_t n_classes, int64_t ignore_index):
    """Index of the first target outside [0, n_classes) that is not ``ignore_index``, or -1."""
    cdef intp i, bad = -1
    cdef int64_t v
    with nogil:
        for i in range(t.shape[0]):
            v = t[i]
            if (v < 0 or v >= n_classes) and v != ignore_index:
                bad = i
                break
    return bad


def first_outside(floating[::1] x, double lo, double hi):
    """Index of the first element not in [lo, hi] (NaN included), or -1."""
    cdef intp i, bad = -1
    with nogil:
        for i in range(x.shape[0]):
            if not (x[i] >= lo and x[i] <= hi):
                bad = i
                break
    return bad


# ---------------------------------------------------------------------- class NLL

def nll_forward(floating[:, :, :] x, int64_t[:, :] t, floating[:] w, int64_t ignore_index, int nthreads):
    """Over (N, C, S) input and (N, S) targets: (sum of -w[t] * x[n, t, s], sum of w[t]) for targets other
    than ``ignore_index``."""
    cdef intp N = x.shape[0], S = x.shape[2], n, s
    cdef bint has_w = w is not None
    cdef double loss = 0, total = 0, wt
    cdef int64_t c
    cdef int nt = _threads(N * S * 8, nthreads)
    for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
        for s in range(S):
            c = t[n, s]
            if c != ignore_index:
                wt = w[c] if has_w else 1.0
                total += wt
                loss += -wt * x[n, c, s]
    return loss, total


def nll_backward(floating[:, :, ::1] g, int64_t[:, :] t, floating[:] w, int64_t ignore_index, double scale,
                 int nthreads):
    """g (zero-filled) gets -w[t] * scale at each (n, t[n, s], s) whose target is not ignored."""
    cdef intp N = g.shape[0], S = g.shape[2], n, s
    cdef bint has_w = w is not None
    cdef int64_t c
    cdef int nt = _threads(N * S * 8, nthreads)
    for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
        for s in range(S):
            c = t[n, s]
            if c != ignore_index:
                g[n, c, s] = <floating>(-(w[c] if has_w else 1.0) * scale)


# ---------------------------------------------------------------------- multi-class margin

def multi_margin_forward(floating[:, :] x, int64_t[::1] t, int p, double margin, floating[:] w, int nthreads):
    """Sum over rows and classes d != t of max(0, margin - x[t] + x[d])^p, times w[t]."""
    cdef intp N = x.shape[0], C = x.shape[1], n, d
    cdef bint has_w = w is not None
    cdef double total = 0, z, h, xt
    cdef int64_t c
    cdef int nt = _threads(N * C, nthreads)
    for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
        c = t[n]
        xt = x[n, c]
        for d in range(C):
            if d != c:
                z = margin - xt + x[n, d]
                if z > 0:
                    h = z if p == 1 else z * z
                    if has_w:
                        h = h * w[c]
                    total += h
    return total


def multi_margin_backward(floating[:, :] x, int64_t[::1] t, int p, double margin, floating[:] w,
                          floating[:, ::1] g, double scale, int nthreads):
    """THNN's MultiMarginCriterion_updateGradInput, every term multiplied by ``scale``."""
    cdef intp N = x.shape[0], C = x.shape[1], n, d
    cdef bint has_w = w is not None
    cdef double z, h, xt, gt
    cdef int64_t c
    cdef int nt = _threads(N * C, nthreads)
    for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
        c = t[n]
        xt = x[n, c]
        gt = 0
        for d in range(C):
            if d == c:
                continue
            z = margin - xt + x[n, d]
            if z > 0:
                h = scale if p == 1 else 2 * scale * z
                if has_w:
                    h = h * w[c]
                gt = gt - h
                g[n, d] = <floating>h
            else:
                g[n, d] = 0
        g[n, c] = <floating>gt


# ---------------------------------------------------------------------- multi-label margin

cdef void _mark_targets(int64_t[:, :] t, intp n, intp C, uint8_t *is_t) noexcept nogil:
    """is_t[d] = 1 for the labels of row n (read up to the first -1)."""
    cdef intp j
    for j in range(C):
        is_t[j] = 0
    for j in range(C):
        if t[n, j] < 0:
            break
        is_t[t[n, j]] = 1


def multilabel_margin_forward(floating[:, :] x, int64_t[:, :] t, int nthreads):
    """Sum over rows, labels j (before the first -1) and non-labels d of max(0, 1 - x[t[j]] + x[d])."""
    cdef intp N = x.shape[0], C = x.shape[1], n, j, d
    cdef int nt = _threads(N * C * C, nthreads)
    cdef uint8_t[:, ::1] is_t = np.empty((max(nt, 1), C), np.uint8)
    cdef uint8_t *mark
    cdef double total = 0, z, xt
    cdef int64_t c
    for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
        mark = &is_t[threadid(), 0]
        _mark_targets(t, n, C, mark)
        for j in range(C):
            c = t[n, j]
            if c < 0:
                break
            xt = x[n, c]
            for d in range(C):
                if not mark[d]:
                    z = 1 - xt + x[n, d]
                    if z > 0:
                        total += z
    return total


def multilabel_margin_backward(floating[:, :] x, int64_t[:, :] t, floating[:, ::1] g, double scale,
                               int nthreads):
    """g (zero-filled) gets THNN's MultiLabelMarginCriterion gradient times ``scale``."""
    cdef intp N = x.shape[0], C = x.shape[1], n, j, d
    cdef int nt = _threads(N * C * C, nthreads)
    cdef uint8_t[:, ::1] is_t = np.empty((max(nt, 1), C), np.uint8)
    cdef uint8_t *mark
    cdef double xt
    cdef int64_t c
    for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
        mark = &is_t[threadid(), 0]
        _mark_targets(t, n, C, mark)
        for j in range(C):
            c = t[n, j]
            if c < 0:
                break
            xt = x[n, c]
            for d in range(C):
                if not mark[d] and 1 - xt + x[n, d] > 0:
                    g[n, c] -= <floating>scale
                    g[n, d] += <floating>scale


# ---------------------------------------------------------------------- pointwise criteria

cdef inline double _softplus(double z) noexcept nogil:
    """log(1 + exp(z)) without overflow."""
    return (z if z > 0 else 0) + log1p(exp(-fabs(z)))


cdef inline double _sigmoid(double z) noexcept nogil:
    cdef double e
    if z >= 0:
        return 1 / (1 + exp(-z))
    e = exp(z)
    return e / (1 + e)


cdef inline double _loss(int kind, double x, double t) noexcept nogil:
    cdef double d
    if kind == K_MSE:
        d = x - t
        return d * d
    if kind == K_L1:
        return fabs(x - t)
    if kind == K_SMOOTH_L1:
        d = fabs(x - t)
        return 0.5 * d * d if d < 1 else d - 0.5
    if kind == K_SOFT_MARGIN:
        return _softplus(-t * x)
    if kind == K_BCE:
        return -(log(x + BCE_EPS) * t + log(1 - x + BCE_EPS) * (1 - t))
    if kind == K_BCE_WITH_LOGITS:
        # max(x, 0) - x t + log(1 + exp(-|x|)), as 0.2's binary_cross_entropy_with_logits
        return (x if x > 0 else 0) - x * t + log1p(exp(-fabs(x)))
    # K_KL_DIV
    return t * (log(t) - x) if t > 0 else 0


cdef inline double _grad(int kind, double x, double t) noexcept nogil:
    """d loss / d x (THNN's updateGradInput formulas, before the norm)."""
    cdef double d
    if kind == K_MSE:
        return 2 * (x - t)
    if kind == K_L1:
        return 1 if x - t >= 0 else -1
    if kind == K_SMOOTH_L1:
        d = x - t
        return -1 if d < -1 else (1 if d > 1 else d)
    if kind == K_SOFT_MARGIN:
        return -t * _sigmoid(-t * x)
    if kind == K_BCE:
        return -(t - x) / ((1 - x + BCE_EPS) * (x + BCE_EPS))
    if kind == K_BCE_WITH_LOGITS:
        return _sigmoid(x) - t
    return -t if t > 0 else 0


def pointwise_forward(int kind, floating[::1] x, floating[::1] t, floating[::1] w, int nthreads):
    """Sum over elements of loss(x, t) (times w when given)."""
    cdef intp n = x.shape[0], i
    cdef bint has_w = w is not None
    cdef double total = 0
    cdef int nt = _threads(n, nthreads)
    if t.shape[0] != n or (has_w and w.shape[0] != n):
        raise ValueError("pointwise_forward: arrays differ in length")
    if kind < K_MSE or kind > K_KL_DIV:
        raise ValueError("pointwise_forward: unknown kind {}".format(kind))
    if has_w:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            total += _loss(kind, x[i], t[i]) * w[i]
    else:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            total += _loss(kind, x[i], t[i])
    return total


def pointwise_backward(int kind, floating[::1] x, floating[::1] t, floating[::1] w, floating[::1] g,
                       double scale, int nthreads):
    """g = scale * d loss(x, t) / dx (times w when given)."""
    cdef intp n = x.shape[0], i
    cdef bint has_w = w is not None
    cdef int nt = _threads(n, nthreads)
    if t.shape[0] != n or g.shape[0] != n or (has_w and w.shape[0] != n):
        raise ValueError("pointwise_backward: arrays differ in length")
    if kind < K_MSE or kind > K_KL_DIV:
        raise ValueError("pointwise_backward: unknown kind {}".format(kind))
    if has_w:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            g[i] = <floating>(scale * _grad(kind, x[i], t[i]) * w[i])
    else:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            g[i] = <floating>(scale * _grad(kind, x[i], t[i]))
