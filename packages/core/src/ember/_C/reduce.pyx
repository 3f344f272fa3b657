"""Reduction kernels: sums, sums of squares (of deviations: var) and products along a dim, in double as TH's
accreal (contiguous runs of sums add vectorized partials of 16 numbers first), max/min with first indices along a dim, mode along rows and histc.

Dim reductions take the input viewed as (outer, n, inner) with any strides (element strides, not bytes) and
reduce the middle axis; results are (outer, inner) C-contiguous arrays.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t, int32_t, int16_t, int8_t, uint8_t
from libc.stdlib cimport free, malloc

import numpy as np

ctypedef fused num_t:
    float
    double
    int64_t
    int32_t
    int16_t
    int8_t
    uint8_t

# work items smaller than this run on one thread (a parallel region costs a few microseconds)
cdef Py_ssize_t _GRAIN = 16384


cdef inline Py_ssize_t _cdiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return (a + b - 1) // b


cdef inline Py_ssize_t _inner_chunk(Py_ssize_t outer, Py_ssize_t inner, int nthreads) noexcept nogil:
    """Columns of the inner axis a work item takes: all of them, or with fewer outer rows than threads,
    a share (a multiple of 16, at least 64) so that every thread has work."""
    if outer >= nthreads:
        return inner
    return max(64, _cdiv(_cdiv(inner, nthreads), 16) * 16)


cdef extern from *:
    """
    /* Sum of a contiguous run: two 64-byte vectors of accumulators in the input's precision (two add
       chains: one alone waits on the add's latency), flushed into vectors of doubles every 8 additions a
       lane, so each partial in float adds only 16 numbers and long runs keep double accuracy; the lanes
       are added pairwise at the end. */
    #if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
    /* AVX-512 and AVX2 builds of the loops besides the baseline SSE2 one, picked at load time by the CPU */
    #define EMBER_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define EMBER_CLONES
    #endif
    typedef float ember_v16f __attribute__((vector_size(64)));
    typedef double ember_v8d __attribute__((vector_size(64)));
    /* the pairwise sum of a vector of doubles' lanes */
    static inline double ember_v8d_sum(ember_v8d t) {
        return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
    }
    EMBER_CLONES static double ember_sum_run_f(const float *p, Py_ssize_t m) {
        ember_v8d t0 = {0}, t1 = {0};
        const float *end = p + m;
        while (end - p >= 32) {
            ember_v16f a = {0}, b = {0}, x, y;
            Py_ssize_t blocks = (end - p) / 32;
            if (blocks > 8) blocks = 8;
            for (; blocks > 0; blocks--, p += 32) {
                memcpy(&x, p, 64);
                memcpy(&y, p + 16, 64);
                a += x;
                b += y;
            }
            a += b;
            t0 += __builtin_convertvector(__builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7), ember_v8d);
            t1 += __builtin_convertvector(__builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15), ember_v8d);
        }
        double total = ember_v8d_sum(t0 + t1);
        for (; p < end; p++) total += *p;
        return total;
    }
    EMBER_CLONES static double ember_sum_run_d(const double *p, Py_ssize_t m) {
        ember_v8d t = {0};
        const double *end = p + m;
        while (end - p >= 16) {
            ember_v8d a = {0}, b = {0}, x, y;
            Py_ssize_t blocks = (end - p) / 16;
            if (blocks > 8) blocks = 8;
            for (; blocks > 0; blocks--, p += 16) {
                memcpy(&x, p, 64);
                memcpy(&y, p + 8, 64);
                a += x;
                b += y;
            }
            t += a + b;
        }
        double total = ember_v8d_sum(t);
        for (; p < end; p++) total += *p;
        return total;
    }

    /* acc[j] += sum over i < n of row i (at p + i * si), j < w, for rows with contiguous elements. Four rows
       are added in T's precision before each double update, which quarters the traffic on acc. */
    #define EMBER_SUM_ROWS(NAME, T)                                                         \
    EMBER_CLONES static void NAME(const T *p, Py_ssize_t n, Py_ssize_t si, Py_ssize_t w, double *acc) {  \
        Py_ssize_t i = 0, j;                                                                \
        for (; i + 4 <= n; i += 4) {                                                        \
            const T *p0 = p + i * si, *p1 = p0 + si, *p2 = p1 + si, *p3 = p2 + si;          \
            for (j = 0; j < w; j++) acc[j] += (double)((p0[j] + p1[j]) + (p2[j] + p3[j]));  \
        }                                                                                   \
        for (; i < n; i++) {                                                                \
            const T *p0 = p + i * si;                                                       \
            for (j = 0; j < w; j++) acc[j] += p0[j];                                        \
        }                                                                                   \
    }
    EMBER_SUM_ROWS(ember_sum_rows_f, float)
    EMBER_SUM_ROWS(ember_sum_rows_d, double)

    /* Squared deviations from c, each taken and added in double: var's second pass, and with c = 0 the
       squares of a 2-norm (x - 0 is exact: TH's pow(fabs(x), 2) in double). A run keeps 16 partial sums
       (the loop is bound by memory bandwidth: explicit 8-lane vectors ran no faster); rows add into acc
       directly, with one c per column (c NULL: zeros). */
    #define EMBER_DEVSQ_RUN(NAME, T)                                                        \
    EMBER_CLONES static double NAME(const T *p, Py_ssize_t m, double c) {                   \
        double a[16] = {0};                                                                 \
        const T *end = p + m;                                                               \
        for (; end - p >= 16; p += 16)                                                      \
            for (int k = 0; k < 16; k++) {                                                  \
                double d = (double)p[k] - c;                                                \
                a[k] += d * d;                                                              \
            }                                                                               \
        for (int k = 0; k < 8; k++) a[k] += a[k + 8];                                       \
        double total = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));   \
        for (; p < end; p++) total += ((double)*p - c) * ((double)*p - c);                  \
        return total;                                                                       \
    }
    EMBER_DEVSQ_RUN(ember_devsq_run_f, float)
    EMBER_DEVSQ_RUN(ember_devsq_run_d, double)
    #define EMBER_DEVSQ_ROWS(NAME, T)                                                       \
    EMBER_CLONES static void NAME(const T *p, Py_ssize_t n, Py_ssize_t si, Py_ssize_t w, const double *c, \
                                  double *acc) {                                            \
        for (Py_ssize_t i = 0; i < n; i++) {                                                \
            const T *p0 = p + i * si;                                                       \
            if (c) for (Py_ssize_t j = 0; j < w; j++) {                                     \
                double d = (double)p0[j] - c[j];                                            \
                acc[j] += d * d;                                                            \
            }                                                                               \
            else for (Py_ssize_t j = 0; j < w; j++) acc[j] += (double)p0[j] * p0[j];        \
        }                                                                                   \
    }
    EMBER_DEVSQ_ROWS(ember_devsq_rows_f, float)
    EMBER_DEVSQ_ROWS(ember_devsq_rows_d, double)
    /* Products in double (TH's accreal), 16 partial products along a run. Blocks of 256 are converted to
       double first: the multiplies then vectorize (converting inside the product loop kept it scalar,
       at 1.7x the time). */
    #define EMBER_PROD_RUN(NAME, T)                                                         \
    EMBER_CLONES static double NAME(const T *p, Py_ssize_t m) {                             \
        double a[16], buf[256];                                                             \
        for (int k = 0; k < 16; k++) a[k] = 1;                                              \
        const T *end = p + m;                                                               \
        for (; end - p >= 256; p += 256) {                                                  \
            for (int k = 0; k < 256; k++) buf[k] = p[k];                                    \
            for (int j = 0; j < 256; j += 16)                                               \
                for (int k = 0; k < 16; k++) a[k] *= buf[j + k];                            \
        }                                                                                   \
        for (; end - p >= 16; p += 16)                                                      \
            for (int k = 0; k < 16; k++) a[k] *= p[k];                                      \
        for (int k = 0; k < 8; k++) a[k] *= a[k + 8];                                       \
        double total = ((a[0] * a[1]) * (a[2] * a[3])) * ((a[4] * a[5]) * (a[6] * a[7]));   \
        for (; p < end; p++) total *= *p;                                                   \
        return total;                                                                       \
    }
    EMBER_PROD_RUN(ember_prod_run_f, float)
    EMBER_PROD_RUN(ember_prod_run_d, double)
    #define EMBER_PROD_ROWS(NAME, T)                                                        \
    EMBER_CLONES static void NAME(const T *p, Py_ssize_t n, Py_ssize_t si, Py_ssize_t w, double *acc) {  \
        for (Py_ssize_t i = 0; i < n; i++) {                                                \
            const T *p0 = p + i * si;                                                       \
            for (Py_ssize_t j = 0; j < w; j++) acc[j] *= p0[j];                             \
        }                                                                                   \
    }
    EMBER_PROD_ROWS(ember_prod_rows_f, float)
    EMBER_PROD_ROWS(ember_prod_rows_d, double)
    /* accumulate_dim's run and rows kernels by mode (the values of Accumulation: 0 sums, 1 squares,
       2 products) */
    #define EMBER_ACC(S, T)                                                                 \
    static double ember_acc_run_##S(int mode, const T *p, Py_ssize_t m, double c) {          \
        return mode == 0 ? ember_sum_run_##S(p, m)                                          \
             : mode == 1 ? ember_devsq_run_##S(p, m, c) : ember_prod_run_##S(p, m);          \
    }                                                                                       \
    static void ember_acc_rows_##S(int mode, const T *p, Py_ssize_t n, Py_ssize_t si, Py_ssize_t w, \
                                   const double *c, double *acc) {                          \
        if (mode == 0) ember_sum_rows_##S(p, n, si, w, acc);                                \
        else if (mode == 1) ember_devsq_rows_##S(p, n, si, w, c, acc);                      \
        else ember_prod_rows_##S(p, n, si, w, acc);                                         \
    }
    EMBER_ACC(f, float)
    EMBER_ACC(d, double)
    /* Whether one of p[0..15] may come before t in topk's order (greater, or NaN; smaller, or any when t is
       NaN): one pass without branches, vectorised. A yes is checked value by value. */
    #define EMBER_ANY_BEYOND(S, T)                                                          \
    EMBER_CLONES static int ember_any_above_##S(const T *p, T t) {                                       \
        int m = 0;                                                                          \
        for (int j = 0; j < 16; j++) m |= (p[j] > t) | (p[j] != p[j]);                      \
        return m;                                                                           \
    }                                                                                       \
    EMBER_CLONES static int ember_any_below_##S(const T *p, T t) {                                       \
        int m = t != t;                                                                     \
        for (int j = 0; j < 16; j++) m |= p[j] < t;                                         \
        return m;                                                                           \
    }
    EMBER_ANY_BEYOND(f, float)
    EMBER_ANY_BEYOND(d, double)
    """
    int ember_any_above_f(const float* p, float t) nogil
    int ember_any_above_d(const double* p, double t) nogil
    int ember_any_below_f(const float* p, float t) nogil
    int ember_any_below_d(const double* p, double t) nogil
    double ember_acc_run_f(int mode, const float* p, Py_ssize_t m, double c) nogil
    double ember_acc_run_d(int mode, const double* p, Py_ssize_t m, double c) nogil
    void ember_acc_rows_f(int mode, const float* p, Py_ssize_t n, Py_ssize_t si, Py_ssize_t w, const double* c,
                          double* acc) nogil
    void ember_acc_rows_d(int mode, const double* p, Py_ssize_t n, Py_ssize_t si, Py_ssize_t w, const double* c,
                          double* acc) nogil


cdef extern from *:
    """
    #if defined(__SSE2__)
    #include <emmintrin.h>
    /* First index of the max (OP = max) or min of a contiguous run of m >= 4 * W elements, with SSE2 (GCC
       does not vectorize the scalar form: x > b ? x : b is no IEEE max): one pass for the extreme value that
       also flags NaNs, one early-exit pass for its first index. Returns -1 when the run holds a NaN; the
       caller's scalar scan then applies TH's NaN rule. W = lanes per vector. */
    #define EMBER_ARGEXT_RUN(NAME, T, V, W, SFX, OP)                                           \
    static Py_ssize_t NAME(const T *p, Py_ssize_t m) {                                         \
        const T *q = p, *end = p + m;                                                          \
        V b0 = _mm_loadu_##SFX(p), b1 = b0, b2 = b0, b3 = b0, nan = _mm_setzero_##SFX(), key;   \
        T lanes[W], best;                                                                      \
        int i, mask;                                                                           \
        for (; end - q >= 4 * W; q += 4 * W) {                                                 \
            V x0 = _mm_loadu_##SFX(q), x1 = _mm_loadu_##SFX(q + W);                              \
            V x2 = _mm_loadu_##SFX(q + 2 * W), x3 = _mm_loadu_##SFX(q + 3 * W);                  \
            b0 = _mm_##OP##_##SFX(b0, x0); b1 = _mm_##OP##_##SFX(b1, x1);                       \
            b2 = _mm_##OP##_##SFX(b2, x2); b3 = _mm_##OP##_##SFX(b3, x3);                       \
            nan = _mm_or_##SFX(nan, _mm_or_##SFX(_mm_cmpunord_##SFX(x0, x1),                      \
                                                 _mm_cmpunord_##SFX(x2, x3)));                   \
        }                                                                                      \
        if (_mm_movemask_##SFX(nan)) return -1;                                                \
        b0 = _mm_##OP##_##SFX(_mm_##OP##_##SFX(b0, b1), _mm_##OP##_##SFX(b2, b3));               \
        _mm_storeu_##SFX(lanes, b0);                                                           \
        best = lanes[0];                                                                       \
        for (i = 1; i < W; i++) best = EMBER_##OP(lanes[i], best);                             \
        for (; q < end; q++) {                                                                 \
            if (*q != *q) return -1;                                                           \
            best = EMBER_##OP(*q, best);                                                       \
        }                                                                                      \
        key = _mm_set1_##SFX(best);                                                            \
        for (q = p; end - q >= W; q += W) {                                                    \
            mask = _mm_movemask_##SFX(_mm_cmpeq_##SFX(_mm_loadu_##SFX(q), key));                \
            if (mask) {                                                                        \
                for (i = 0; !(mask & 1); i++) mask >>= 1;                                      \
                return (q - p) + i;                                                            \
            }                                                                                  \
        }                                                                                      \
        for (; *q != best; q++) {}                                                             \
        return q - p;                                                                          \
    }
    #define EMBER_max(x, b) ((x) > (b) ? (x) : (b))
    #define EMBER_min(x, b) ((x) < (b) ? (x) : (b))
    EMBER_ARGEXT_RUN(ember_argmax_run_f, float, __m128, 4, ps, max)
    EMBER_ARGEXT_RUN(ember_argmin_run_f, float, __m128, 4, ps, min)
    EMBER_ARGEXT_RUN(ember_argmax_run_d, double, __m128d, 2, pd, max)
    EMBER_ARGEXT_RUN(ember_argmin_run_d, double, __m128d, 2, pd, min)
    #else
    /* no SIMD path: -1 sends every run to the scalar scan */
    #define ember_argmax_run_f(p, m) ((Py_ssize_t)-1)
    #define ember_argmin_run_f(p, m) ((Py_ssize_t)-1)
    #define ember_argmax_run_d(p, m) ((Py_ssize_t)-1)
    #define ember_argmin_run_d(p, m) ((Py_ssize_t)-1)
    #endif
    """
    Py_ssize_t ember_argmax_run_f(const float* p, Py_ssize_t m) nogil
    Py_ssize_t ember_argmin_run_f(const float* p, Py_ssize_t m) nogil
    Py_ssize_t ember_argmax_run_d(const double* p, Py_ssize_t m) nogil
    Py_ssize_t ember_argmin_run_d(const double* p, Py_ssize_t m) nogil


cpdef enum Accumulation:
    # what accumulate_dim computes over the middle axis, in double: sums, sums of squared deviations from a
    # per-result shift (no shift: of squares), products
    SUM = 0
    SQUARES = 1
    PRODUCT = 2


cdef inline double _acc_run(const floating* p, Py_ssize_t m, Py_ssize_t s, int mode, double c) noexcept nogil:
    """The mode's accumulation of p[0], p[s], ... p[(m-1)*s] (c: the shift of SQUARES)."""
    cdef double total = 1 if mode == PRODUCT else 0
    cdef double d
    cdef Py_ssize_t k
    if s == 1:
        if floating is float:
            return ember_acc_run_f(mode, p, m, c)
        else:
            return ember_acc_run_d(mode, p, m, c)
    for k in range(m):
        d = p[k * s]
        if mode == SUM:
            total += d
        elif mode == SQUARES:
            total += (d - c) * (d - c)
        else:
            total *= d
    return total


cdef inline void _acc_rows(const floating* p, Py_ssize_t n, Py_ssize_t si, Py_ssize_t sj, Py_ssize_t w, int mode,
                           const double* c, double* acc) noexcept nogil:
    """acc[j] (started at 0, or 1 for PRODUCT) accumulates the mode over rows i < n of columns j < w."""
    cdef Py_ssize_t i, j
    cdef double d
    for j in range(w):
        acc[j] = 1 if mode == PRODUCT else 0
    if sj == 1:
        if floating is float:
            ember_acc_rows_f(mode, p, n, si, w, c, acc)
        else:
            ember_acc_rows_d(mode, p, n, si, w, c, acc)
        return
    for i in range(n):
        for j in range(w):
            d = p[i * si + j * sj]
            if mode == SUM:
                acc[j] += d
            elif mode == SQUARES:
                if c != NULL:
                    d = d - c[j]
                acc[j] += d * d
            else:
                acc[j] *= d


def accumulate_dim(const floating[:, :, :] src, double[:, ::1] acc, int mode, int nthreads,
                   const double[:, ::1] shift=None):
    """acc[o, j] = the sum (SUM), the sum of (src[o, i, j] - shift[o, j])^2 (SQUARES; no shift: of squares)
    or the product (PRODUCT) over i of src[o, i, j], each term and the accumulation in double."""
    cdef Py_ssize_t outer = src.shape[0], n = src.shape[1], inner = src.shape[2]
    cdef Py_ssize_t so = src.strides[0] // sizeof(floating)
    cdef Py_ssize_t si = src.strides[1] // sizeof(floating)
    cdef Py_ssize_t sj = src.strides[2] // sizeof(floating)
    cdef const floating* base = &src[0, 0, 0]
    cdef const double* cp = NULL
    cdef double[:, ::1] part
    cdef Py_ssize_t nchunks, chunk, w, o, c, i0, i1, j0
    cdef double s
    if mode not in (SUM, SQUARES, PRODUCT):
        raise ValueError("accumulate_dim: unknown mode {}".format(mode))
    if acc.shape[0] != outer or acc.shape[1] != inner:
        raise ValueError("accumulate_dim: acc must be ({}, {}), got ({}, {})"
                         .format(outer, inner, acc.shape[0], acc.shape[1]))
    if shift is not None:
        if mode != SQUARES or shift.shape[0] != outer or shift.shape[1] != inner:
            raise ValueError("accumulate_dim: a shift goes with SQUARES and has acc's shape")
        cp = &shift[0, 0]
    if outer * n * inner < _GRAIN:
        nthreads = 1
    if inner == 1:
        # reduce runs along the middle axis; split long runs so one row still uses every thread
        nchunks = 1
        if outer < nthreads:
            nchunks = max(1, min(nthreads * 4, n // _GRAIN))
        chunk = _cdiv(n, nchunks)
        part = np.empty((outer, nchunks), np.float64)
        for w in prange(outer * nchunks, nogil=True, num_threads=nthreads, schedule="static"):
            o = w // nchunks
            c = w % nchunks
            i0 = c * chunk
            i1 = min(i0 + chunk, n)
            part[o, c] = _acc_run(base + o * so + i0 * si, max(i1 - i0, 0), si, mode,
                                  cp[o] if cp != NULL else 0)
        for o in range(outer):
            s = part[o, 0]
            for c in range(1, nchunks):
                s = s * part[o, c] if mode == PRODUCT else s + part[o, c]
            acc[o, 0] = s
        return
    # accumulate whole rows of the inner axis: contiguous loads, vectorizable updates
    chunk = _inner_chunk(outer, inner, nthreads)
    nchunks = _cdiv(inner, chunk)
    for w in prange(outer * nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        o = w // nchunks
        j0 = (w % nchunks) * chunk
        _acc_rows(base + o * so + j0 * sj, n, si, sj, min(chunk, inner - j0), mode,
                  cp + o * inner + j0 if cp != NULL else NULL, &acc[o, j0])


cdef inline bint _isnan(num_t v) noexcept nogil:
    if num_t is float or num_t is double:
        return v != v
    else:
        return False


cdef inline bint _beats(num_t v, num_t b, bint want_max) noexcept nogil:
    # TH's rule: replace on strictly better, or when v is NaN and the best so far is not (NaN wins, first
    # NaN kept); ties keep the first index
    if want_max:
        return not (v <= b) and not _isnan(b)
    return not (v >= b) and not _isnan(b)


cdef inline Py_ssize_t _argext_run(const num_t* p, Py_ssize_t n, Py_ssize_t s, bint want_max) noexcept nogil:
    """Index of the max (min) of p[0], p[s], ... p[(n-1)*s] by TH's rule."""
    cdef Py_ssize_t i, bi = -1
    cdef num_t v, best
    if s == 1 and n >= 16:
        if num_t is float:
            bi = ember_argmax_run_f(p, n) if want_max else ember_argmin_run_f(p, n)
        elif num_t is double:
            bi = ember_argmax_run_d(p, n) if want_max else ember_argmin_run_d(p, n)
        if bi >= 0:
            return bi
    best = p[0]
    bi = 0
    for i in range(1, n):
        v = p[i * s]
        if _beats(v, best, want_max):
            best = v
            bi = i
            if _isnan(v):
                break
    return bi


def argext_dim(const num_t[:, :, :] src, num_t[:, ::1] vals, int64_t[:, ::1] idx, bint want_max, int nthreads):
    """vals[o, j], idx[o, j] = max (or min) over i of src[o, i, j] and its first index."""
    cdef Py_ssize_t outer = src.shape[0], n = src.shape[1], inner = src.shape[2]
    cdef Py_ssize_t so = src.strides[0] // sizeof(num_t)
    cdef Py_ssize_t si = src.strides[1] // sizeof(num_t)
    cdef Py_ssize_t sj = src.strides[2] // sizeof(num_t)
    cdef const num_t* base = &src[0, 0, 0]
    cdef const num_t* p
    cdef num_t* vp
    cdef int64_t* ip
    cdef num_t v
    cdef int64_t bi
    cdef Py_ssize_t nchunks, chunk, w, o, i, j, j0, j1
    if outer * n * inner < _GRAIN:
        nthreads = 1
    if inner == 1:
        for o in prange(outer, nogil=True, num_threads=nthreads, schedule="static"):
            p = base + o * so
            bi = _argext_run(p, n, si, want_max)
            vals[o, 0] = p[bi * si]
            idx[o, 0] = bi
        return
    chunk = _inner_chunk(outer, inner, nthreads)
    nchunks = _cdiv(inner, chunk)
    for w in prange(outer * nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        o = w // nchunks
        j0 = (w % nchunks) * chunk
        j1 = min(j0 + chunk, inner)
        vp = &vals[o, 0]
        ip = &idx[o, 0]
        p = base + o * so
        for j in range(j0, j1):
            vp[j] = p[j * sj]
            ip[j] = 0
        for i in range(1, n):
            p = base + o * so + i * si
            for j in range(j0, j1):
                v = p[j * sj]
                if _beats(v, vp[j], want_max):
                    vp[j] = v
                    ip[j] = i


def mode_rows(const num_t[:, :] src, const num_t[:, ::1] srt, num_t[::1] vals, int64_t[::1] idx, int nthreads):
    """Per row: the most frequent value (ties: the smallest, as the first longest run of the sorted row)
    and the last index where it occurs in ``src`` (srt holds each row of src sorted ascending)."""
    cdef Py_ssize_t rows = src.shape[0], n = src.shape[1]
    cdef Py_ssize_t r, i, run, best_run
    cdef int64_t bi
    cdef num_t best, cur
    if rows * n < _GRAIN:
        nthreads = 1
    for r in prange(rows, nogil=True, num_threads=nthreads, schedule="static"):
        best = srt[r, 0]
        best_run = 0
        run = 0
        for i in range(n):
            run = run + 1
            if i == n - 1 or srt[r, i] != srt[r, i + 1]:
                if run > best_run:
                    best_run = run
                    best = srt[r, i]
                run = 0
        bi = 0
        for i in range(n - 1, -1, -1):
            cur = src[r, i]
            if cur == best or (_isnan(cur) and _isnan(best)):
                bi = i
                break
        vals[r] = best
        idx[r] = bi


def histc(const floating[:] x, floating[::1] hist, double lo_, double hi_):
    """TH's histc: count x in [lo, hi] into len(hist) equal bins (the last bin is closed), in x's precision."""
    cdef floating lo = <floating>lo_, hi = <floating>hi_, v
    cdef Py_ssize_t nbins = hist.shape[0], n = x.shape[0], i, b
    with nogil:
        for i in range(n):
            v = x[i]
            if v >= lo and v <= hi:
                b = <Py_ssize_t>((v - lo) / (hi - lo) * nbins)
                if b > nbins - 1:
                    b = nbins - 1
                hist[b] += 1


def cumulate(const floating[:, :, :] src, floating[:, :, ::1] out, bint product, int nthreads):
    """out[o, i, j] = the sum (product) of src[o, 0..i, j], accumulated in double (TH's accreal). Along the
    last axis each row is one running total; otherwise a row of totals runs along the inner axis, added to
    a vector at a time."""
    cdef Py_ssize_t outer = src.shape[0], n = src.shape[1], inner = src.shape[2]
    cdef Py_ssize_t so = src.strides[0] // sizeof(floating)
    cdef Py_ssize_t si = src.strides[1] // sizeof(floating)
    cdef Py_ssize_t sj = src.strides[2] // sizeof(floating)
    cdef const floating* base = &src[0, 0, 0]
    cdef const floating* p
    cdef floating* q
    cdef double[:, ::1] acc
    cdef double* a
    cdef double t
    cdef Py_ssize_t chunk, nchunks, w, o, i, j, j0, j1
    if outer * n * inner < _GRAIN:
        nthreads = 1
    if inner == 1:
        for o in prange(outer, nogil=True, num_threads=nthreads, schedule="static"):
            p = base + o * so
            q = &out[o, 0, 0]
            t = 1 if product else 0
            for i in range(n):
                if product:
                    t = t * p[i * si]
                else:
                    t = t + p[i * si]
                q[i] = <floating>t
        return
    chunk = _inner_chunk(outer, inner, nthreads)
    nchunks = _cdiv(inner, chunk)
    acc = np.empty((outer, inner), np.float64)
    for w in prange(outer * nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        o = w // nchunks
        j0 = (w % nchunks) * chunk
        j1 = min(j0 + chunk, inner)
        a = &acc[o, 0]
        for j in range(j0, j1):
            a[j] = 1 if product else 0
        for i in range(n):
            p = base + o * so + i * si
            q = &out[o, i, 0]
            for j in range(j0, j1):
                if product:
                    a[j] = a[j] * p[j * sj]
                else:
                    a[j] = a[j] + p[j * sj]
                q[j] = <floating>a[j]


# ---------------------------------------------------------------------- topk

cdef inline bint _better(num_t a, num_t b, bint largest) noexcept nogil:
    """Whether a comes before b in topk's order: greater (smaller) first, NaN the greatest of all."""
    if num_t is float or num_t is double:
        if largest:
            return a > b or (a != a and b == b)
        return a < b or (b != b and a == a)
    else:
        return a > b if largest else a < b


cdef void _sort_pairs(num_t* v, int64_t* ix, Py_ssize_t n, num_t* tv, int64_t* ti, bint largest) noexcept nogil:
    """Sort the pairs (v, ix) stably into topk's order (pairs in index order come out with equal values in
    index order): insertion sort of runs of 16, then merges through tv/ti (room for n pairs)."""
    cdef Py_ssize_t i, j, w, lo, mid, hi, p, q, o
    cdef num_t x
    cdef int64_t xi
    cdef num_t* sv = v
    cdef int64_t* si = ix
    cdef num_t* dv = tv
    cdef int64_t* di = ti
    cdef num_t* swv
    cdef int64_t* swi
    for lo in range(0, n, 16):
        hi = min(lo + 16, n)
        for i in range(lo + 1, hi):
            x, xi = v[i], ix[i]
            j = i
            while j > lo and _better(x, v[j - 1], largest):
                v[j], ix[j] = v[j - 1], ix[j - 1]
                j -= 1
            v[j], ix[j] = x, xi
    w = 16
    while w < n:
        lo = 0
        while lo < n:
            mid, hi = min(lo + w, n), min(lo + 2 * w, n)
            p, q, o = lo, mid, lo
            while p < mid and q < hi:
                if _better(sv[q], sv[p], largest):
                    dv[o], di[o] = sv[q], si[q]
                    q += 1
                else:
                    dv[o], di[o] = sv[p], si[p]
                    p += 1
                o += 1
            while p < mid:
                dv[o], di[o] = sv[p], si[p]
                p += 1
                o += 1
            while q < hi:
                dv[o], di[o] = sv[q], si[q]
                q += 1
                o += 1
            lo += 2 * w
        swv, swi = sv, si
        sv, si = dv, di
        dv, di = swv, swi
        w *= 2
    if sv != v:
        for i in range(n):
            v[i], ix[i] = sv[i], si[i]


cdef num_t _kth_best(num_t* buf, int64_t* scratch, num_t* tv, int64_t* ti, Py_ssize_t n, Py_ssize_t k,
                     bint largest) noexcept nogil:
    """The k-th value of buf (reordered) in topk's order: quickselect with three-way partitions (many equal
    values stay linear); after 2 log2(n) rounds the rest is sorted."""
    cdef Py_ssize_t lo = 0, hi = n, lt, gt, i, budget = 2
    cdef num_t pivot, a, b, c, t
    i = n
    while i > 1:
        budget += 2
        i >>= 1
    while hi - lo > 1:
        if budget == 0:
            for i in range(lo, hi):
                scratch[i] = i
            _sort_pairs(buf + lo, scratch + lo, hi - lo, tv, ti, largest)
            return buf[k - 1]
        budget -= 1
        a, b, c = buf[lo], buf[lo + (hi - lo) // 2], buf[hi - 1]
        # the median of three in topk's order
        if _better(b, a, largest):
            a, b = b, a
        if _better(c, b, largest):
            b = c
            if _better(b, a, largest):
                b = a
        pivot = b
        # [lo, lt) before the pivot, [lt, gt) equal to it, [gt, hi) after it
        lt, i, gt = lo, lo, hi
        while i < gt:
            if _better(buf[i], pivot, largest):
                t = buf[i]
                buf[i] = buf[lt]
                buf[lt] = t
                lt += 1
                i += 1
            elif _better(pivot, buf[i], largest):
                gt -= 1
                t = buf[i]
                buf[i] = buf[gt]
                buf[gt] = t
            else:
                i += 1
        if k - 1 < lt:
            hi = lt
        elif k - 1 < gt:
            return pivot
        else:
            lo = gt
    return buf[k - 1]


cdef inline bint _any_better(const num_t* p, num_t t, bint largest) noexcept nogil:
    """Whether one of p[0..15] may come before t (a yes is checked value by value)."""
    cdef int j
    if num_t is float:
        return ember_any_above_f(p, t) if largest else ember_any_below_f(p, t)
    elif num_t is double:
        return ember_any_above_d(p, t) if largest else ember_any_below_d(p, t)
    else:
        for j in range(16):
            if _better(p[j], t, largest):
                return True
        return False


cdef Py_ssize_t _topk_small(const num_t[:, :] src, Py_ssize_t r, num_t* bv, int64_t* bi, Py_ssize_t k,
                            bint largest, Py_ssize_t budget) noexcept nogil:
    """The k first of row r in topk's order into (bv, bi), kept sorted while scanning: after the first few
    hundred values almost every one fails the comparison with the k-th so far (on a contiguous row, 16
    values at a time). Returns -1 when more than ``budget`` values had to go in (sorted input), leaving
    the row to the selection."""
    cdef Py_ssize_t n = src.shape[1], c = 0, i = 0, j, end
    cdef bint contiguous = src.strides[1] == sizeof(num_t)
    cdef const num_t* row = &src[r, 0]
    cdef num_t v
    while i < n:
        if c == k and contiguous and i + 16 <= n and not _any_better(row + i, bv[k - 1], largest):
            i += 16
            continue
        end = min(i + 16, n)
        while i < end:
            v = src[r, i]
            if c == k:
                if not _better(v, bv[k - 1], largest):
                    i += 1
                    continue
                budget -= 1
                if budget < 0:
                    return -1
                j = k - 1
            else:
                j = c
                c += 1
            # later indices go after equal values: only a strictly better value moves up
            while j > 0 and _better(v, bv[j - 1], largest):
                bv[j], bi[j] = bv[j - 1], bi[j - 1]
                j -= 1
            bv[j], bi[j] = v, i
            i += 1
    return k


def topk_rows(const num_t[:, :] src, num_t[:, ::1] vals, int64_t[:, ::1] idx, bint largest, bint sort,
              int nthreads):
    """The k = vals.shape[1] first elements of each row of src in topk's order (greatest or smallest
    first, NaN the greatest, equal values by index), in that order when ``sort``, else in index order.
    Of equal values at the boundary the first ones are taken. Small k keep a sorted buffer while
    scanning the row; larger ones (and rows that defeat the buffer) select the k-th value first."""
    cdef Py_ssize_t rows = src.shape[0], n = src.shape[1], k = vals.shape[1], r, i, c, ties, budget
    cdef num_t* buf
    cdef int64_t* scratch
    cdef num_t* tv
    cdef int64_t* ti
    cdef num_t kth, v
    cdef bint small = k <= 64 and 8 * k <= n
    if rows * n < _GRAIN:
        nthreads = 1
    budget = 4 * k * (1 + <Py_ssize_t>(n > 1024)) + 256
    for r in prange(rows, nogil=True, num_threads=nthreads, schedule="static"):
        buf = <num_t*>malloc(n * sizeof(num_t))
        scratch = <int64_t*>malloc(n * sizeof(int64_t))
        tv = <num_t*>malloc(n * sizeof(num_t))
        ti = <int64_t*>malloc(n * sizeof(int64_t))
        # the rows' own buffers while scanning: neighbouring rows of vals share cache lines across threads
        if k == n:  # a whole sort
            for i in range(n):
                vals[r, i], idx[r, i] = src[r, i], i
            if sort:
                _sort_pairs(&vals[r, 0], &idx[r, 0], k, tv, ti, largest)
        elif small and _topk_small(src, r, tv, ti, k, largest, budget) == k:
            if sort:
                for i in range(k):
                    vals[r, i], idx[r, i] = tv[i], ti[i]
            else:
                _sort_by_index(tv, ti, k, &vals[r, 0], &idx[r, 0])
        else:
            for i in range(n):
                buf[i] = src[r, i]
            kth = _kth_best(buf, scratch, tv, ti, n, k, largest)
            # those strictly before the k-th value, then as many of its equals as fit, in index order
            c = 0
            for i in range(n):
                if _better(src[r, i], kth, largest):
                    c = c + 1
            ties = k - c
            c = 0
            for i in range(n):
                v = src[r, i]
                if _better(v, kth, largest) or (ties > 0 and not _better(kth, v, largest)):
                    if not _better(v, kth, largest):
                        ties = ties - 1
                    vals[r, c] = v
                    idx[r, c] = i
                    c = c + 1
            if sort:
                _sort_pairs(&vals[r, 0], &idx[r, 0], k, tv, ti, largest)
        free(buf)
        free(scratch)
        free(tv)
        free(ti)


def kth_rows(const num_t[:, :] src, num_t[::1] vals, int64_t[::1] idx, Py_ssize_t k, int nthreads):
    """The k-th smallest value of each row of src (NaN the greatest) and the first index where it occurs
    (kthvalue, median): a three-way quickselect on a copy of the row."""
    cdef Py_ssize_t rows = src.shape[0], n = src.shape[1], r, i
    cdef num_t* buf
    cdef int64_t* scratch
    cdef num_t* tv
    cdef int64_t* ti
    cdef num_t kth, v
    if not 1 <= k <= n:
        raise ValueError("kth_rows: k must be in [1, {}], got {}".format(n, k))
    if vals.shape[0] != rows or idx.shape[0] != rows:
        raise ValueError("kth_rows: vals and idx need {} elements".format(rows))
    if rows * n < _GRAIN:
        nthreads = 1
    for r in prange(rows, nogil=True, num_threads=nthreads, schedule="static"):
        buf = <num_t*>malloc(n * sizeof(num_t))
        scratch = <int64_t*>malloc(n * sizeof(int64_t))
        tv = <num_t*>malloc(n * sizeof(num_t))
        ti = <int64_t*>malloc(n * sizeof(int64_t))
        for i in range(n):
            buf[i] = src[r, i]
        kth = _kth_best(buf, scratch, tv, ti, n, k, False)
        vals[r] = kth
        idx[r] = 0
        for i in range(n):
            v = src[r, i]
            if v == kth or (_isnan(v) and _isnan(kth)):
                idx[r] = i
                break
        free(buf)
        free(scratch)
        free(tv)
        free(ti)


cdef void _sort_by_index(const num_t* v, const int64_t* ix, Py_ssize_t k, num_t* ov, int64_t* oi) noexcept nogil:
    """(v, ix) into (ov, oi) in index order (k is small: insertion)."""
    cdef Py_ssize_t i, j
    for i in range(k):
        j = i
        while j > 0 and oi[j - 1] > ix[i]:
            ov[j], oi[j] = ov[j - 1], oi[j - 1]
            j -= 1
        ov[j], oi[j] = v[i], ix[i]
