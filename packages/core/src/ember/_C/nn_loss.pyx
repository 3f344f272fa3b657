"""Loss kernels with THNN's formulas (PyTorch 0.2): class NLL (plain and spatial), multi-margin,
multi-label margin, and the pointwise criteria (MSE, L1, smooth L1, soft margin, BCE, BCE with logits,
KL divergence).

Forward kernels return raw sums (double); the Python layer divides for size_average. Backward
kernels write the gradient already multiplied by ``scale`` (grad_output times the averaging factor).
Callers check targets first with ``first_bad_target`` / ``first_outside``; the kernels then index
without checks.
"""
import numpy as np
cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport fabs, log
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


cnp.import_array()

include "_numpy_loops.pxi"

# NumPy's double exp, log1p and log loops (SIMD where the machine has it): the soft-margin and
# BCE-with-logits terms log(1 + exp(-|z|)), their gradients' sigmoids and BCE's logarithms run through them
# a block at a time instead of libm's scalar calls
cdef loop_t _exp_d, _log1p_d, _log_d
cdef void *_exp_d_data
cdef void *_log1p_d_data
cdef void *_log_d_data
_numpy_loop(np.exp, np.float64, &_exp_d, &_exp_d_data)
_numpy_loop(np.log1p, np.float64, &_log1p_d, &_log1p_d_data)
_numpy_loop(np.log, np.float64, &_log_d, &_log_d_data)
DEF LOSS_BLOCK = 1024


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

cdef void _nll_rows(floating[:, :, :] x, int64_t[:, :] t, floating[:] w, int64_t ignore_index, intp n0, intp n1,
                    double *out) noexcept nogil:
    """out = (sum of -w[t] * x[n, t, s], sum of w[t]) over rows n0 .. n1 - 1."""
    cdef intp S = x.shape[2], n, s
    cdef bint has_w = w is not None
    cdef double loss = 0, total = 0, wt
    cdef int64_t c
    for n in range(n0, n1):
        for s in range(S):
            c = t[n, s]
            if c != ignore_index:
                wt = w[c] if has_w else 1.0
                total += wt
                loss += -wt * x[n, c, s]
    out[0] = loss
    out[1] = total


def nll_forward(floating[:, :, :] x, int64_t[:, :] t, floating[:] w, int64_t ignore_index, int nthreads):
    """Over (N, C, S) input and (N, S) targets: (sum of -w[t] * x[n, t, s], sum of w[t]) for targets other
    than ``ignore_index``. One thread runs without a parallel region (libgomp's barriers make system calls:
    ~0.7 us, a small batch's whole time); several add their rows' partial sums in order."""
    cdef intp N = x.shape[0], S = x.shape[2], i
    cdef int nt = _threads(N * S * 8, nthreads)
    cdef double one[2]
    cdef double[:, ::1] part
    if nt == 1 or N < 2:
        _nll_rows(x, t, w, ignore_index, 0, N, one)
        return one[0], one[1]
    if N < nt:
        nt = <int>N
    part = np.empty((nt, 2), np.float64)
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        _nll_rows(x, t, w, ignore_index, i * N // nt, (i + 1) * N // nt, &part[i, 0])
    one[0] = one[1] = 0
    for i in range(nt):
        one[0] += part[i, 0]
        one[1] += part[i, 1]
    return one[0], one[1]


cdef void _nll_grad_rows(floating[:, :, ::1] g, int64_t[:, :] t, floating[:] w, int64_t ignore_index, double scale,
                         intp n0, intp n1) noexcept nogil:
    cdef intp S = g.shape[2], n, s
    cdef bint has_w = w is not None
    cdef int64_t c
    for n in range(n0, n1):
        for s in range(S):
            c = t[n, s]
            if c != ignore_index:
                g[n, c, s] = <floating>(-(w[c] if has_w else 1.0) * scale)


def nll_backward(floating[:, :, ::1] g, int64_t[:, :] t, floating[:] w, int64_t ignore_index, double scale,
                 int nthreads):
    """g (zero-filled) gets -w[t] * scale at each (n, t[n, s], s) whose target is not ignored."""
    cdef intp N = g.shape[0], S = g.shape[2], n
    cdef int nt = _threads(N * S * 8, nthreads)
    if nt == 1:
        _nll_grad_rows(g, t, w, ignore_index, scale, 0, N)
        return
    for n in prange(N, nogil=True, num_threads=nt, schedule="static"):
        _nll_grad_rows(g, t, w, ignore_index, scale, n, n + 1)


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

cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define EMBER_LOSS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define EMBER_LOSS_CLONES
    #endif
    /* MSE, L1 and smooth L1 without weights, the common case, as loops the compiler vectorises (the
       generic per-element switch runs 4-7x slower): the sums in the vector's double lanes (OpenMP's simd
       reduction), then their total; differences in double as the generic path. K: 0 MSE, 1 L1, 2 smooth L1
       (the kinds below). */
    #define EMBER_LOSS_TERM_0(d, f) ((void)(f), (d) * (d))
    #define EMBER_LOSS_TERM_1(d, f) (f)
    /* smooth L1, 0.5 f^2 below 1 and f - 0.5 above, as c (f - c / 2) with c = min(f, 1): the same roundings,
       and a select the compiler vectorises where the branch mispredicted on half of random data (NaN: c = 1) */
    static inline double ember_smooth_l1_term(double f) {
        double c = f < 1.0 ? f : 1.0;
        return c * (f - 0.5 * c);
    }
    #define EMBER_LOSS_TERM_2(d, f) ember_smooth_l1_term(f)
    #define EMBER_LOSS_SUM(S, T, K) \
    EMBER_LOSS_CLONES static double ember_loss_sum##K##_##S(const T *x, const T *t, Py_ssize_t n) { \
        double total = 0; \
        _Pragma("omp simd reduction(+:total)") \
        for (Py_ssize_t i = 0; i < n; i++) { \
            double d = (double)x[i] - t[i], f = d < 0 ? -d : d; \
            total += EMBER_LOSS_TERM_##K(d, f); \
        } \
        return total; \
    }
    #define EMBER_LOSS_LOOPS(S, T) \
    EMBER_LOSS_SUM(S, T, 0) \
    EMBER_LOSS_SUM(S, T, 1) \
    EMBER_LOSS_SUM(S, T, 2) \
    static double ember_loss_sum_##S(int k, const T *x, const T *t, Py_ssize_t n) { \
        return k == 0 ? ember_loss_sum0_##S(x, t, n) : k == 1 ? ember_loss_sum1_##S(x, t, n) \
                                                             : ember_loss_sum2_##S(x, t, n); \
    } \
    EMBER_LOSS_CLONES static void ember_loss_grad_##S(int k, const T *x, const T *t, T *g, double scale, \
                                                      Py_ssize_t n) { \
        for (Py_ssize_t i = 0; i < n; i++) { \
            double d = (double)x[i] - t[i]; \
            g[i] = (T)(scale * (k == 0 ? 2 * d : k == 1 ? (d >= 0 ? 1 : -1) : (d < -1 ? -1 : (d > 1 ? 1 : d)))); \
        } \
    }
    EMBER_LOSS_LOOPS(f, float)
    EMBER_LOSS_LOOPS(d, double)
    /* The soft-margin (soft) or BCE-with-logits gradients from e = exp(-|z|): sigmoid(z) = (z >= 0 ? 1 : e)
       / (1 + e), a select the compiler vectorises, then -t sigmoid(-t x) or sigmoid(x) - t, times scale
       (and w unless NULL), in double as _grad. */
    #define EMBER_SIGMOID_GRAD(S, T) \
    EMBER_LOSS_CLONES static void ember_sigmoid_grad_##S(int soft, const T *x, const T *t, const T *w, \
                                                         const double *e, T *g, double scale, Py_ssize_t n) { \
        for (Py_ssize_t i = 0; i < n; i++) { \
            double z = soft ? -(double)t[i] * x[i] : (double)x[i]; \
            double sig = (z >= 0 ? 1.0 : e[i]) / (1.0 + e[i]); \
            double d = soft ? -(double)t[i] * sig : sig - t[i]; \
            g[i] = (T)(w ? scale * d * w[i] : scale * d); \
        } \
    }
    EMBER_SIGMOID_GRAD(f, float)
    EMBER_SIGMOID_GRAD(d, double)
    /* The sum of the soft-margin (kind 3), BCE (4) or BCE-with-logits (5) terms (times w unless NULL) from
       their logarithms: u = log(1 + exp(-|z|)), or for BCE u = log(x + eps) and v = log(1 - x + eps). The
       max(z, 0) is a select (a branch mispredicted on half of random data), and the sum runs in the vector's
       lanes (OpenMP's simd reduction, as the MSE sums), one loop per kind: a scalar chain of dependent
       additions took 3x the time. */
    #define EMBER_SOFT_MARGIN_TERM (z = -(double)t[i] * x[i], (z > 0 ? z : 0) + u[i])
    #define EMBER_BCE_TERM (-(u[i] * t[i] + v[i] * (1 - (double)t[i])))
    #define EMBER_LOGITS_TERM (z = x[i], ((z > 0 ? z : 0) - z * t[i]) + u[i])
    #define EMBER_BLOCK_LOOP(TERM) do { \
            if (w) { \
                _Pragma("omp simd reduction(+:total) private(z)") \
                for (Py_ssize_t i = 0; i < n; i++) total += TERM * w[i]; \
            } else { \
                _Pragma("omp simd reduction(+:total) private(z)") \
                for (Py_ssize_t i = 0; i < n; i++) total += TERM; \
            } \
        } while (0)
    #define EMBER_BLOCK_SUM(S, T) \
    EMBER_LOSS_CLONES static double ember_block_sum_##S(int kind, const T *x, const T *t, const T *w, \
                                                        const double *u, const double *v, Py_ssize_t n) { \
        double total = 0, z = 0; \
        if (kind == 3) EMBER_BLOCK_LOOP(EMBER_SOFT_MARGIN_TERM); \
        else if (kind == 4) EMBER_BLOCK_LOOP(EMBER_BCE_TERM); \
        else EMBER_BLOCK_LOOP(EMBER_LOGITS_TERM); \
        return total; \
    }
    EMBER_BLOCK_SUM(f, float)
    EMBER_BLOCK_SUM(d, double)
    """
    double ember_block_sum_f(int kind, const float *x, const float *t, const float *w, const double *u,
                             const double *v, intp n) noexcept nogil
    double ember_block_sum_d(int kind, const double *x, const double *t, const double *w, const double *u,
                             const double *v, intp n) noexcept nogil
    void ember_sigmoid_grad_f(int soft, const float *x, const float *t, const float *w, const double *e, float *g,
                              double scale, intp n) noexcept nogil
    void ember_sigmoid_grad_d(int soft, const double *x, const double *t, const double *w, const double *e,
                              double *g, double scale, intp n) noexcept nogil
    double ember_loss_sum_f(int k, const float *x, const float *t, intp n) noexcept nogil
    double ember_loss_sum_d(int k, const double *x, const double *t, intp n) noexcept nogil
    void ember_loss_grad_f(int k, const float *x, const float *t, float *g, double scale, intp n) noexcept nogil
    void ember_loss_grad_d(int k, const double *x, const double *t, double *g, double scale, intp n) noexcept nogil


cdef double _loss_sum(int kind, const floating[::1] x, const floating[::1] t, int nt) except? -1:
    """The unweighted sum of MSE, L1 or smooth L1 over ``nt`` slices, each a vectorised loop."""
    cdef intp n = x.shape[0], per = (n + nt - 1) // nt, j
    cdef double[::1] part
    cdef double total = 0
    if nt == 1:  # small losses: no partial sums to allocate
        if floating is float:
            return ember_loss_sum_f(kind, &x[0], &t[0], n)
        else:
            return ember_loss_sum_d(kind, &x[0], &t[0], n)
    part = np.zeros(nt, np.float64)
    for j in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        if j * per < n:
            if floating is float:
                part[j] = ember_loss_sum_f(kind, &x[0] + j * per, &t[0] + j * per, min(per, n - j * per))
            else:
                part[j] = ember_loss_sum_d(kind, &x[0] + j * per, &t[0] + j * per, min(per, n - j * per))
    for j in range(nt):
        total += part[j]
    return total


cdef void _loss_grad(int kind, const floating[::1] x, const floating[::1] t, floating[::1] g, double scale,
                     int nt) noexcept nogil:
    cdef intp n = x.shape[0], per = (n + nt - 1) // nt, j
    for j in prange(nt, num_threads=nt, schedule="static", chunksize=1):
        if j * per < n:
            if floating is float:
                ember_loss_grad_f(kind, &x[0] + j * per, &t[0] + j * per, &g[0] + j * per, scale,
                                  min(per, n - j * per))
            else:
                ember_loss_grad_d(kind, &x[0] + j * per, &t[0] + j * per, &g[0] + j * per, scale,
                                  min(per, n - j * per))


cdef inline double _loss(int kind, double x, double t) noexcept nogil:
    """One term of MSE, L1, smooth L1 or KL divergence (the others go a block at a time: _block_terms)."""
    cdef double d
    if kind == K_MSE:
        d = x - t
        return d * d
    if kind == K_L1:
        return fabs(x - t)
    if kind == K_SMOOTH_L1:
        d = fabs(x - t)
        return 0.5 * d * d if d < 1 else d - 0.5
    # K_KL_DIV
    return t * (log(t) - x) if t > 0 else 0


cdef inline double _grad(int kind, double x, double t) noexcept nogil:
    """d loss / d x (THNN's updateGradInput formulas, before the norm); soft margin and BCE with logits go a
    block at a time (_sigmoid_grads)."""
    cdef double d
    if kind == K_MSE:
        return 2 * (x - t)
    if kind == K_L1:
        return 1 if x - t >= 0 else -1
    if kind == K_SMOOTH_L1:
        d = x - t
        return -1 if d < -1 else (1 if d > 1 else d)
    if kind == K_BCE:
        return -(t - x) / ((1 - x + BCE_EPS) * (x + BCE_EPS))
    return -t if t > 0 else 0


cdef double _block_terms(int kind, const floating* x, const floating* t, const floating* w, intp start,
                        intp stop) noexcept nogil:
    """The sum over [start, stop) of _loss's soft-margin, BCE-with-logits or BCE terms (times w when given),
    in double as _loss: their logarithms (log(1 + exp(-|z|)); BCE's log(x + eps) and log(1 - x + eps)) for
    the block by NumPy's loops, the rest in ember_block_sum."""
    cdef double u[LOSS_BLOCK]
    cdef double v[LOSS_BLOCK]
    cdef double z, xi
    cdef intp i, m = stop - start
    if kind == K_BCE:
        for i in range(m):
            xi = x[start + i]
            u[i] = xi + BCE_EPS
            v[i] = 1 - xi + BCE_EPS
        _unary_loop(_log_d, _log_d_data, u, u, m, sizeof(double))
        _unary_loop(_log_d, _log_d_data, v, v, m, sizeof(double))
    else:
        for i in range(m):
            z = -<double>t[start + i] * x[start + i] if kind == K_SOFT_MARGIN else <double>x[start + i]
            u[i] = -fabs(z)
        _unary_loop(_exp_d, _exp_d_data, u, u, m, sizeof(double))
        _unary_loop(_log1p_d, _log1p_d_data, u, u, m, sizeof(double))
    if floating is float:
        return ember_block_sum_f(kind, x + start, t + start, w + start if w != NULL else NULL, u, v, m)
    else:
        return ember_block_sum_d(kind, x + start, t + start, w + start if w != NULL else NULL, u, v, m)


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
    if not has_w and kind <= K_SMOOTH_L1 and n:
        return _loss_sum(kind, x, t, nt)
    if (kind == K_SOFT_MARGIN or kind == K_BCE_WITH_LOGITS or kind == K_BCE) and n:
        for i in prange((n + LOSS_BLOCK - 1) // LOSS_BLOCK, nogil=True, num_threads=nt, schedule="static"):
            total += _block_terms(kind, &x[0], &t[0], &w[0] if has_w else NULL, i * LOSS_BLOCK,
                                  min(n, (i + 1) * LOSS_BLOCK))
        return total
    if has_w:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            total += _loss(kind, x[i], t[i]) * w[i]
    else:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            total += _loss(kind, x[i], t[i])
    return total


cdef void _sigmoid_grads(int kind, const floating* x, const floating* t, const floating* w, floating* g,
                         double scale, intp start, intp stop) noexcept nogil:
    """_grad's soft-margin or BCE-with-logits gradients over [start, stop), times scale (and w): their
    sigmoid's exp(-|z|) for the block by NumPy's loop, the rest in ember_sigmoid_grad, in double as _grad."""
    cdef double u[LOSS_BLOCK]
    cdef double z
    cdef intp i, m = stop - start
    for i in range(m):
        z = -<double>t[start + i] * x[start + i] if kind == K_SOFT_MARGIN else <double>x[start + i]
        u[i] = -fabs(z)
    _unary_loop(_exp_d, _exp_d_data, u, u, m, sizeof(double))
    if floating is float:
        ember_sigmoid_grad_f(kind == K_SOFT_MARGIN, x + start, t + start, w + start if w != NULL else NULL, u,
                             g + start, scale, m)
    else:
        ember_sigmoid_grad_d(kind == K_SOFT_MARGIN, x + start, t + start, w + start if w != NULL else NULL, u,
                             g + start, scale, m)


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
    if not has_w and kind <= K_SMOOTH_L1 and n:
        _loss_grad(kind, x, t, g, scale, nt)
    elif (kind == K_SOFT_MARGIN or kind == K_BCE_WITH_LOGITS) and n:
        for i in prange((n + LOSS_BLOCK - 1) // LOSS_BLOCK, nogil=True, num_threads=nt, schedule="static"):
            _sigmoid_grads(kind, &x[0], &t[0], &w[0] if has_w else NULL, &g[0], scale, i * LOSS_BLOCK,
                           min(n, (i + 1) * LOSS_BLOCK))
    elif has_w:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            g[i] = <floating>(scale * _grad(kind, x[i], t[i]) * w[i])
    else:
        for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
            g[i] = <floating>(scale * _grad(kind, x[i], t[i]))
