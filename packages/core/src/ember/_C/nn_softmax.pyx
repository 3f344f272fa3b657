"""Softmax and log-softmax kernels (forward and backward), and the fused cross entropy (log-softmax and
class NLL of (N, C) input in one pass, and its gradient).

Arrays arrive C-contiguous, viewed as (outer, n, inner): the softmax runs along the middle axis.
- inner == 1: each of the ``outer`` rows is a contiguous run of ``n``; threads split the rows.
- inner > 1: the middle axis is strided; threads take (outer, column block) pieces and work on whole
  blocks of columns at a time, so every load is contiguous and vectorises.
Every row or block is stabilised by subtracting its maximum. The passes are the C helpers below:
``omp simd`` loops around an exp written to vectorise (libm's does not), fused with the sum or the
gradient formula, and compiled for AVX-512, AVX2 and the x86-64 baseline (the loader picks one at run
time). Sums accumulate in SIMD lanes of the input's type over blocks of 1024 elements and in double
across blocks (TH accumulated in double).
"""
import numpy as np
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport log
from libc.stdint cimport int64_t

ctypedef Py_ssize_t intp

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && defined(__linux__)
    #define EMBER_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define EMBER_CLONES
    #endif
    #ifdef _OPENMP
    #define EMBER_OMP(...) _Pragma(#__VA_ARGS__)
    #else
    #define EMBER_OMP(...)
    #endif
    #define EMBER_SIMD EMBER_OMP(omp simd)

    /* exp for the softmax family, written so that loops over it vectorise: Cephes' range reduction
       x = n ln2 + r (|r| <= ln2/2, n rounded with the 1.5 * 2^k trick), a polynomial in r, and 2^n built
       in the exponent bits. Below ln(smallest normal) the result is 0 (no subnormals); arguments are
       at most ~0 here (x - max), so the upper clamp only keeps 2^n finite. */
    static inline float ember_expf(float x) {
        const float lo = -87.33654475f, hi = 88.0f;
        float xc = x < lo ? lo : x;
        float t, n, r, p, scale;
        int32_t nb, eb;
        xc = xc > hi ? hi : xc;
        t = xc * 1.44269504088896341f + 12582912.0f;
        n = t - 12582912.0f;
        memcpy(&nb, &t, 4);
        r = xc - n * 0.693359375f;
        r = r + n * 2.12194440e-4f;
        p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r * r + r + 1.0f;
        eb = (nb - 0x4B400000 + 127) << 23;
        eb &= -(int32_t)(x >= lo);  /* 0 below the range; a mask, not a branch, so loops vectorise */
        memcpy(&scale, &eb, 4);
        return p * scale;
    }

    static inline double ember_exp(double x) {
        const double lo = -708.3964185322641, hi = 709.0;
        double xc = x < lo ? lo : x;
        double t, n, r, p, scale;
        int64_t nb, eb;
        xc = xc > hi ? hi : xc;
        t = xc * 1.4426950408889634 + 6755399441055744.0;
        n = t - 6755399441055744.0;
        memcpy(&nb, &t, 8);
        r = xc - n * 6.93145751953125e-1;
        r = r - n * 1.42860682030941723212e-6;
        /* Taylor to degree 13: below half an ulp on |r| <= ln2/2 */
        p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        eb = (nb - 0x4338000000000000LL + 1023) << 52;
        eb &= -(int64_t)(x >= lo);
        memcpy(&scale, &eb, 8);
        return p * scale;
    }

    /* Reductions accumulate in T across SIMD lanes for blocks of EMBER_RUN elements and in double
       across blocks (a double accumulator fed from float lanes would not vectorise). */
    #define EMBER_RUN 1024
    #define EMBER_BLOCKED_SUM(T, EXPR)                                                               \\
        double total = 0;                                                                           \\
        for (Py_ssize_t k = 0; k < n; k += EMBER_RUN) {                                             \\
            Py_ssize_t stop = k + EMBER_RUN < n ? k + EMBER_RUN : n;                                \\
            T s = 0;                                                                                \\
            EMBER_OMP(omp simd reduction(+:s))                                                      \\
            for (Py_ssize_t i = k; i < stop; i++) { EXPR; }                                         \\
            total += s;                                                                             \\
        }                                                                                           \\
        return total;

    #define EMBER_SM_HELPERS(T, S, EXP)                                                              \\
    EMBER_CLONES static T ember_sm_max_##S(const T *x, Py_ssize_t n) {                              \\
        T m = x[0];                                                                                 \\
        EMBER_OMP(omp simd reduction(max:m))                                                        \\
        for (Py_ssize_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;                                 \\
        return m;                                                                                   \\
    }                                                                                               \\
    EMBER_CLONES static double ember_sm_sum_##S(const T *x, Py_ssize_t n) {                         \\
        EMBER_BLOCKED_SUM(T, s += x[i])                                                             \\
    }                                                                                               \\
    EMBER_CLONES static double ember_sm_dot_##S(const T *a, const T *b, Py_ssize_t n) {             \\
        EMBER_BLOCKED_SUM(T, s += a[i] * b[i])                                                      \\
    }                                                                                               \\
    /* y = exp(x - c), returning the sum of y; exp and sum in separate loops over each L1-sized       \\
       block (gcc vectorises the exp's selects for AVX2 only in a loop without a reduction) */      \\
    EMBER_CLONES static double ember_sm_expsum_##S(const T *x, T c, T *y, Py_ssize_t n) {           \\
        double total = 0;                                                                           \\
        for (Py_ssize_t k = 0; k < n; k += EMBER_RUN) {                                             \\
            Py_ssize_t stop = k + EMBER_RUN < n ? k + EMBER_RUN : n;                                \\
            T s = 0;                                                                                \\
            EMBER_SIMD for (Py_ssize_t i = k; i < stop; i++) y[i] = EXP(x[i] - c);                  \\
            EMBER_OMP(omp simd reduction(+:s))                                                      \\
            for (Py_ssize_t i = k; i < stop; i++) s += y[i];                                        \\
            total += s;                                                                             \\
        }                                                                                           \\
        return total;                                                                               \\
    }                                                                                               \\
    /* y = (x - c) - d (log-softmax: x - max - log(sum), rounded as TH did) */                       \\
    EMBER_CLONES static void ember_sm_shift_##S(const T *x, T c, T d, T *y, Py_ssize_t n) {         \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) y[i] = (x[i] - c) - d;                        \\
    }                                                                                               \\
    EMBER_CLONES static void ember_sm_scale_##S(T *y, T c, Py_ssize_t n) {                          \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) y[i] *= c;                                    \\
    }                                                                                               \\
    /* softmax backward: g = y * (go - d) */                                                        \\
    EMBER_CLONES static void ember_sm_bwd_##S(const T *go, const T *y, T d, T *g, Py_ssize_t n) {   \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) g[i] = y[i] * (go[i] - d);                    \\
    }                                                                                               \\
    /* log-softmax backward: g = go - exp(y) * s */                                                 \\
    EMBER_CLONES static void ember_lsm_bwd_##S(const T *go, const T *y, T s, T *g, Py_ssize_t n) {  \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) g[i] = go[i] - EXP(y[i]) * s;                 \\
    }                                                                                               \\
    /* cross-entropy backward: g = exp(y) * f */                                                    \\
    EMBER_CLONES static void ember_ce_bwd_##S(const T *y, T f, T *g, Py_ssize_t n) {                \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) g[i] = EXP(y[i]) * f;                         \\
    }                                                                                               \\
    /* the same passes across a block of columns: one value per column */                           \\
    EMBER_CLONES static void ember_col_max_##S(const T *x, T *m, Py_ssize_t n) {                    \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) m[i] = x[i] > m[i] ? x[i] : m[i];             \\
    }                                                                                               \\
    EMBER_CLONES static void ember_col_acc_##S(const T *x, double *s, Py_ssize_t n) {               \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) s[i] += x[i];                                 \\
    }                                                                                               \\
    EMBER_CLONES static void ember_col_accdot_##S(const T *a, const T *b, double *s, Py_ssize_t n) {\\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) s[i] += (double)(a[i] * b[i]);                \\
    }                                                                                               \\
    EMBER_CLONES static void ember_col_expacc_##S(const T *x, const T *c, T *y, double *s,          \\
                                                  Py_ssize_t n) {                                   \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) { T e = EXP(x[i] - c[i]); y[i] = e; s[i] += e; }\\
    }                                                                                               \\
    EMBER_CLONES static void ember_col_shift_##S(const T *x, const T *c, const double *d, T *y,     \\
                                                 Py_ssize_t n) {                                    \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) y[i] = (x[i] - c[i]) - (T)d[i];               \\
    }                                                                                               \\
    EMBER_CLONES static void ember_col_scale_##S(T *y, const T *c, Py_ssize_t n) {                  \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) y[i] *= c[i];                                 \\
    }                                                                                               \\
    EMBER_CLONES static void ember_col_sm_bwd_##S(const T *go, const T *y, const T *d, T *g,        \\
                                                   Py_ssize_t n) {                                  \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) g[i] = y[i] * (go[i] - d[i]);                 \\
    }                                                                                               \\
    EMBER_CLONES static void ember_col_lsm_bwd_##S(const T *go, const T *y, const T *s, T *g,       \\
                                                    Py_ssize_t n) {                                 \\
        EMBER_SIMD for (Py_ssize_t i = 0; i < n; i++) g[i] = go[i] - EXP(y[i]) * s[i];              \\
    }
    EMBER_SM_HELPERS(float, f, ember_expf)
    EMBER_SM_HELPERS(double, d, ember_exp)
    """
    float ember_sm_max_f(const float *x, Py_ssize_t n) nogil
    double ember_sm_max_d(const double *x, Py_ssize_t n) nogil
    double ember_sm_sum_f(const float *x, Py_ssize_t n) nogil
    double ember_sm_sum_d(const double *x, Py_ssize_t n) nogil
    double ember_sm_dot_f(const float *a, const float *b, Py_ssize_t n) nogil
    double ember_sm_dot_d(const double *a, const double *b, Py_ssize_t n) nogil
    double ember_sm_expsum_f(const float *x, float c, float *y, Py_ssize_t n) nogil
    double ember_sm_expsum_d(const double *x, double c, double *y, Py_ssize_t n) nogil
    void ember_sm_shift_f(const float *x, float c, float d, float *y, Py_ssize_t n) nogil
    void ember_sm_shift_d(const double *x, double c, double d, double *y, Py_ssize_t n) nogil
    void ember_sm_scale_f(float *y, float c, Py_ssize_t n) nogil
    void ember_sm_scale_d(double *y, double c, Py_ssize_t n) nogil
    void ember_sm_bwd_f(const float *go, const float *y, float d, float *g, Py_ssize_t n) nogil
    void ember_sm_bwd_d(const double *go, const double *y, double d, double *g, Py_ssize_t n) nogil
    void ember_lsm_bwd_f(const float *go, const float *y, float s, float *g, Py_ssize_t n) nogil
    void ember_lsm_bwd_d(const double *go, const double *y, double s, double *g, Py_ssize_t n) nogil
    void ember_ce_bwd_f(const float *y, float f, float *g, Py_ssize_t n) nogil
    void ember_ce_bwd_d(const double *y, double f, double *g, Py_ssize_t n) nogil
    void ember_col_max_f(const float *x, float *m, Py_ssize_t n) nogil
    void ember_col_max_d(const double *x, double *m, Py_ssize_t n) nogil
    void ember_col_acc_f(const float *x, double *s, Py_ssize_t n) nogil
    void ember_col_acc_d(const double *x, double *s, Py_ssize_t n) nogil
    void ember_col_accdot_f(const float *a, const float *b, double *s, Py_ssize_t n) nogil
    void ember_col_accdot_d(const double *a, const double *b, double *s, Py_ssize_t n) nogil
    void ember_col_expacc_f(const float *x, const float *c, float *y, double *s, Py_ssize_t n) nogil
    void ember_col_expacc_d(const double *x, const double *c, double *y, double *s, Py_ssize_t n) nogil
    void ember_col_shift_f(const float *x, const float *c, const double *d, float *y, Py_ssize_t n) nogil
    void ember_col_shift_d(const double *x, const double *c, const double *d, double *y, Py_ssize_t n) nogil
    void ember_col_scale_f(float *y, const float *c, Py_ssize_t n) nogil
    void ember_col_scale_d(double *y, const double *c, Py_ssize_t n) nogil
    void ember_col_sm_bwd_f(const float *go, const float *y, const float *d, float *g, Py_ssize_t n) nogil
    void ember_col_sm_bwd_d(const double *go, const double *y, const double *d, double *g, Py_ssize_t n) nogil
    void ember_col_lsm_bwd_f(const float *go, const float *y, const float *s, float *g, Py_ssize_t n) nogil
    void ember_col_lsm_bwd_d(const double *go, const double *y, const double *s, double *g,
                             Py_ssize_t n) nogil
    # for tests: the exp the kernels use
    float ember_expf(float x) nogil
    double ember_exp(double x) nogil


# ---------------------------------------------------------------------- typed wrappers over the helpers

cdef inline floating _max(floating *x, intp n) noexcept nogil:
    if floating is float:
        return ember_sm_max_f(x, n)
    else:
        return ember_sm_max_d(x, n)


cdef inline double _sum(floating *x, intp n) noexcept nogil:
    if floating is float:
        return ember_sm_sum_f(x, n)
    else:
        return ember_sm_sum_d(x, n)


cdef inline double _dot(floating *a, floating *b, intp n) noexcept nogil:
    if floating is float:
        return ember_sm_dot_f(a, b, n)
    else:
        return ember_sm_dot_d(a, b, n)


cdef inline void _shift(floating *x, floating c, floating d, floating *y, intp n) noexcept nogil:
    if floating is float:
        ember_sm_shift_f(x, c, d, y, n)
    else:
        ember_sm_shift_d(x, c, d, y, n)


cdef inline void _scale(floating *y, floating c, intp n) noexcept nogil:
    if floating is float:
        ember_sm_scale_f(y, c, n)
    else:
        ember_sm_scale_d(y, c, n)


cdef inline void _col_max(floating *x, floating *m, intp n) noexcept nogil:
    if floating is float:
        ember_col_max_f(x, m, n)
    else:
        ember_col_max_d(x, m, n)


cdef inline void _col_acc(floating *x, double *s, intp n) noexcept nogil:
    if floating is float:
        ember_col_acc_f(x, s, n)
    else:
        ember_col_acc_d(x, s, n)


cdef inline void _col_accdot(floating *a, floating *b, double *s, intp n) noexcept nogil:
    if floating is float:
        ember_col_accdot_f(a, b, s, n)
    else:
        ember_col_accdot_d(a, b, s, n)


cdef inline void _col_shift(floating *x, floating *c, double *d, floating *y, intp n) noexcept nogil:
    if floating is float:
        ember_col_shift_f(x, c, d, y, n)
    else:
        ember_col_shift_d(x, c, d, y, n)


cdef inline void _col_scale(floating *y, floating *c, intp n) noexcept nogil:
    if floating is float:
        ember_col_scale_f(y, c, n)
    else:
        ember_col_scale_d(y, c, n)


def exp(floating[::1] x, floating[::1] y):
    """y = exp(x) with the kernels' own exp (exposed for tests)."""
    cdef intp i
    if y.shape[0] != x.shape[0]:
        raise ValueError("exp: x and y differ in length")
    for i in range(x.shape[0]):
        if floating is float:
            y[i] = ember_expf(x[i])
        else:
            y[i] = ember_exp(x[i])


# ---------------------------------------------------------------------- work split

# below this many elements the kernels run on one thread (a parallel region costs a few microseconds)
DEF GRAIN = 32768
# columns per block when the softmax axis is strided: the block's scratch rows stay in L1
DEF COLS = 512


cdef inline int _threads(intp total, int nthreads) noexcept nogil:
    return 1 if total < GRAIN or nthreads < 1 else nthreads


cdef inline intp _cdiv(intp a, intp b) noexcept nogil:
    return (a + b - 1) // b


# ---------------------------------------------------------------------- forward

cdef void _row_fwd(floating *x, floating *y, intp n, bint logsm) noexcept nogil:
    cdef floating m = _max(x, n)
    cdef double s
    if floating is float:
        s = ember_sm_expsum_f(x, m, y, n)
    else:
        s = ember_sm_expsum_d(x, m, y, n)
    if logsm:
        _shift(x, m, <floating>log(s), y, n)
    else:
        _scale(y, <floating>(1.0 / s), n)


cdef void _block_fwd(floating *x, floating *y, intp n, intp inner, intp cols, bint logsm,
                     floating *c, double *s) noexcept nogil:
    """Softmax of ``cols`` columns (row stride ``inner``) along the ``n`` rows; ``c`` and ``s`` are
    scratch of ``cols`` elements."""
    cdef intp i, j
    for j in range(cols):
        c[j] = x[j]
        s[j] = 0
    for i in range(1, n):
        _col_max(x + i * inner, c, cols)
    for i in range(n):
        if floating is float:
            ember_col_expacc_f(x + i * inner, c, y + i * inner, s, cols)
        else:
            ember_col_expacc_d(x + i * inner, c, y + i * inner, s, cols)
    if logsm:
        for j in range(cols):
            s[j] = log(s[j])
        for i in range(n):
            _col_shift(x + i * inner, c, s, y + i * inner, cols)
    else:
        for j in range(cols):
            c[j] = <floating>(1.0 / s[j])
        for i in range(n):
            _col_scale(y + i * inner, c, cols)


def softmax_forward(floating[:, :, ::1] x, floating[:, :, ::1] y, bint logsm, int nthreads):
    """y = softmax(x) (``logsm``: log_softmax) along axis 1 of (outer, n, inner) arrays."""
    cdef intp outer = x.shape[0], n = x.shape[1], inner = x.shape[2]
    cdef intp r, w, o, j0, nblk, stride = n * inner
    cdef int nt = _threads(outer * stride, nthreads)
    cdef floating *px = &x[0, 0, 0]
    cdef floating *py = &y[0, 0, 0]
    cdef floating[:, ::1] cbuf
    cdef double[:, ::1] sbuf
    if y.shape[0] != outer or y.shape[1] != n or y.shape[2] != inner:
        raise ValueError("softmax_forward: output shape does not match the input")
    if inner == 1:
        if outer < nt:
            nt = <int>outer
        if nt == 1:  # no parallel region: its barriers' system calls cost a small input's whole time
            with nogil:
                for r in range(outer):
                    _row_fwd(px + r * n, py + r * n, n, logsm)
            return
        for r in prange(outer, nogil=True, num_threads=nt, schedule="static"):
            _row_fwd(px + r * n, py + r * n, n, logsm)
        return
    nblk = _cdiv(inner, COLS)
    if outer * nblk < nt:
        nt = <int>(outer * nblk)
    cbuf = np.empty((nt, COLS), np.float32 if floating is float else np.float64)
    sbuf = np.empty((nt, COLS), np.float64)
    for w in prange(outer * nblk, nogil=True, num_threads=nt, schedule="static"):
        o = w // nblk
        j0 = (w % nblk) * COLS
        _block_fwd(px + o * stride + j0, py + o * stride + j0, n, inner, min(COLS, inner - j0), logsm,
                   &cbuf[threadid(), 0], &sbuf[threadid(), 0])


# ---------------------------------------------------------------------- backward

cdef void _row_bwd(floating *go, floating *y, floating *g, intp n, bint logsm) noexcept nogil:
    cdef double s
    if logsm:
        s = _sum(go, n)
        if floating is float:
            ember_lsm_bwd_f(go, y, <float>s, g, n)
        else:
            ember_lsm_bwd_d(go, y, s, g, n)
    else:
        s = _dot(go, y, n)
        if floating is float:
            ember_sm_bwd_f(go, y, <float>s, g, n)
        else:
            ember_sm_bwd_d(go, y, s, g, n)


cdef void _block_bwd(floating *go, floating *y, floating *g, intp n, intp inner, intp cols, bint logsm,
                     floating *c, double *s) noexcept nogil:
    cdef intp i, j
    cdef intp off
    for j in range(cols):
        s[j] = 0
    for i in range(n):
        if logsm:
            _col_acc(go + i * inner, s, cols)
        else:
            _col_accdot(go + i * inner, y + i * inner, s, cols)
    for j in range(cols):
        c[j] = <floating>s[j]
    for i in range(n):
        off = i * inner
        if logsm:
            if floating is float:
                ember_col_lsm_bwd_f(go + off, y + off, c, g + off, cols)
            else:
                ember_col_lsm_bwd_d(go + off, y + off, c, g + off, cols)
        else:
            if floating is float:
                ember_col_sm_bwd_f(go + off, y + off, c, g + off, cols)
            else:
                ember_col_sm_bwd_d(go + off, y + off, c, g + off, cols)


def softmax_backward(floating[:, :, ::1] go, floating[:, :, ::1] y, floating[:, :, ::1] g, bint logsm,
                     int nthreads):
    """g = the gradient of softmax (``logsm``: log_softmax) with output ``y`` for upstream ``go``."""
    cdef intp outer = y.shape[0], n = y.shape[1], inner = y.shape[2]
    cdef intp r, w, o, j0, nblk, stride = n * inner
    cdef int nt = _threads(outer * stride, nthreads)
    cdef floating *pgo = &go[0, 0, 0]
    cdef floating *py = &y[0, 0, 0]
    cdef floating *pg = &g[0, 0, 0]
    cdef floating[:, ::1] cbuf
    cdef double[:, ::1] sbuf
    if (go.shape[0] != outer or go.shape[1] != n or go.shape[2] != inner
            or g.shape[0] != outer or g.shape[1] != n or g.shape[2] != inner):
        raise ValueError("softmax_backward: array shapes do not match")
    if inner == 1:
        if outer < nt:
            nt = <int>outer
        if nt == 1:
            with nogil:
                for r in range(outer):
                    _row_bwd(pgo + r * n, py + r * n, pg + r * n, n, logsm)
            return
        for r in prange(outer, nogil=True, num_threads=nt, schedule="static"):
            _row_bwd(pgo + r * n, py + r * n, pg + r * n, n, logsm)
        return
    nblk = _cdiv(inner, COLS)
    if outer * nblk < nt:
        nt = <int>(outer * nblk)
    cbuf = np.empty((nt, COLS), np.float32 if floating is float else np.float64)
    sbuf = np.empty((nt, COLS), np.float64)
    for w in prange(outer * nblk, nogil=True, num_threads=nt, schedule="static"):
        o = w // nblk
        j0 = (w % nblk) * COLS
        _block_bwd(pgo + o * stride + j0, py + o * stride + j0, pg + o * stride + j0, n, inner,
                   min(COLS, inner - j0), logsm, &cbuf[threadid(), 0], &sbuf[threadid(), 0])


# ---------------------------------------------------------------------- fused cross entropy

cdef void _ce_rows(floating[:, ::1] x, floating[:, ::1] logp, int64_t[::1] target, floating[:] weight,
                   int64_t ignore_index, intp r0, intp r1, double *out) noexcept nogil:
    """Rows r0 .. r1 - 1 of cross_entropy_forward: out = (their loss, their total weight)."""
    cdef intp n = x.shape[1], r
    cdef bint has_w = weight is not None
    cdef double loss = 0, total = 0, w
    cdef int64_t t
    for r in range(r0, r1):
        _row_fwd(&x[r, 0], &logp[r, 0], n, True)
        t = target[r]
        if t != ignore_index:
            w = weight[t] if has_w else 1.0
            loss += -w * logp[r, t]
            total += w
    out[0] = loss
    out[1] = total


def cross_entropy_forward(floating[:, ::1] x, floating[:, ::1] logp, int64_t[::1] target, floating[:] weight,
                          int64_t ignore_index, int nthreads):
    """logp = log_softmax(x) along rows, and the weighted NLL of ``target`` over them in the same pass.
    Targets must be checked beforehand. Returns (sum of -w[t] * logp[i, t], sum of w[t]) over the rows
    whose target is not ``ignore_index`` (several threads add their rows' partial sums in order)."""
    cdef intp rows = x.shape[0], n = x.shape[1], i
    cdef int nt = _threads(rows * n, nthreads)
    cdef double one[2]
    cdef double[:, ::1] part
    if logp.shape[0] != rows or logp.shape[1] != n or target.shape[0] != rows:
        raise ValueError("cross_entropy_forward: array shapes do not match")
    if rows < nt:
        nt = <int>rows
    if nt <= 1:
        _ce_rows(x, logp, target, weight, ignore_index, 0, rows, one)
        return one[0], one[1]
    part = np.empty((nt, 2), np.float64)
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        _ce_rows(x, logp, target, weight, ignore_index, i * rows // nt, (i + 1) * rows // nt, &part[i, 0])
    one[0] = one[1] = 0
    for i in range(nt):
        one[0] += part[i, 0]
        one[1] += part[i, 1]
    return one[0], one[1]


cdef void _ce_grad_row(floating[:, ::1] logp, int64_t[::1] target, floating[:] weight, int64_t ignore_index,
                       double scale, floating[:, ::1] g, intp r) noexcept nogil:
    cdef intp n = logp.shape[1], j
    cdef int64_t t = target[r]
    cdef floating f
    if t == ignore_index:
        for j in range(n):
            g[r, j] = 0
        return
    f = <floating>((weight[t] if weight is not None else 1.0) * scale)
    if floating is float:
        ember_ce_bwd_f(&logp[r, 0], f, &g[r, 0], n)
    else:
        ember_ce_bwd_d(&logp[r, 0], f, &g[r, 0], n)
    g[r, t] -= f


def cross_entropy_backward(floating[:, ::1] logp, int64_t[::1] target, floating[:] weight, int64_t ignore_index,
                           double scale, floating[:, ::1] g, int nthreads):
    """g = (softmax - onehot(target)) * w[t] * scale per row (zero rows for ignored targets), from the
    log-probabilities the forward returned."""
    cdef intp rows = logp.shape[0], n = logp.shape[1], r
    cdef int nt = _threads(rows * n, nthreads)
    if g.shape[0] != rows or g.shape[1] != n or target.shape[0] != rows:
        raise ValueError("cross_entropy_backward: array shapes do not match")
    if rows < nt:
        nt = <int>rows
    if nt <= 1:
        for r in range(rows):
            _ce_grad_row(logp, target, weight, ignore_index, scale, g, r)
        return
    for r in prange(rows, nogil=True, num_threads=nt, schedule="static"):
        _ce_grad_row(logp, target, weight, ignore_index, scale, g, r)
