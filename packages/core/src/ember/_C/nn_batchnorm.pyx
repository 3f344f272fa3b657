"""Batch normalization kernels, THNN's BatchNormalization (PyTorch 0.2) formulas.

Arrays arrive C-contiguous as (N, C, S): S = 1 for (N, C) input, else the spatial size. Threads split
the channels:
- S == 1: a thread takes a block of adjacent channels and sweeps the N rows across it; every pass
  (sum, squared deviations, output) runs along contiguous row pieces and vectorises, and the block's
  data stays in L2 between passes.
- S > 1: a thread takes whole channels; each channel is N contiguous runs of S.
Statistics are two-pass (mean, then squared deviations) and accumulate in double, as TH's accreal did.
The C helpers are ``omp simd`` loops compiled for AVX-512, AVX2 and the x86-64 baseline.
"""
import numpy as np
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport sqrt

ctypedef Py_ssize_t intp

cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && defined(__linux__)
    #define EMBER_BN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define EMBER_BN_CLONES
    #endif
    #ifdef _OPENMP
    #define EMBER_BN_OMP(...) _Pragma(#__VA_ARGS__)
    #else
    #define EMBER_BN_OMP(...)
    #endif
    #define EMBER_BN_SIMD EMBER_BN_OMP(omp simd)
    #define EMBER_BN_RUN 1024

    /* sums over a run: T lanes within blocks of EMBER_BN_RUN elements, double across blocks */
    #define EMBER_BN_HELPERS(T, S)                                                                   \\
    EMBER_BN_CLONES static double ember_bn_sum_##S(const T *x, Py_ssize_t n) {                      \\
        double total = 0;                                                                           \\
        for (Py_ssize_t k = 0; k < n; k += EMBER_BN_RUN) {                                          \\
            Py_ssize_t stop = k + EMBER_BN_RUN < n ? k + EMBER_BN_RUN : n;                          \\
            T s = 0;                                                                                \\
            EMBER_BN_OMP(omp simd reduction(+:s))                                                      \\
            for (Py_ssize_t i = k; i < stop; i++) s += x[i];                                        \\
            total += s;                                                                             \\
        }                                                                                           \\
        return total;                                                                               \\
    }                                                                                               \\
    EMBER_BN_CLONES static double ember_bn_sqdev_##S(const T *x, T m, Py_ssize_t n) {               \\
        double total = 0;                                                                           \\
        for (Py_ssize_t k = 0; k < n; k += EMBER_BN_RUN) {                                          \\
            Py_ssize_t stop = k + EMBER_BN_RUN < n ? k + EMBER_BN_RUN : n;                          \\
            T s = 0;                                                                                \\
            EMBER_BN_OMP(omp simd reduction(+:s))                                                      \\
            for (Py_ssize_t i = k; i < stop; i++) { T d = x[i] - m; s += d * d; }                   \\
            total += s;                                                                             \\
        }                                                                                           \\
        return total;                                                                               \\
    }                                                                                               \\
    /* sum of go and of (x - m) * go */                                                             \\
    EMBER_BN_CLONES static void ember_bn_sumdot_##S(const T *go, const T *x, T m, double *sum,      \\
                                                    double *dot, Py_ssize_t n) {                    \\
        double ts = 0, td = 0;                                                                      \\
        for (Py_ssize_t k = 0; k < n; k += EMBER_BN_RUN) {                                          \\
            Py_ssize_t stop = k + EMBER_BN_RUN < n ? k + EMBER_BN_RUN : n;                          \\
            T s = 0, d = 0;                                                                         \\
            EMBER_BN_OMP(omp simd reduction(+:s,d))                                                    \\
            for (Py_ssize_t i = k; i < stop; i++) { s += go[i]; d += (x[i] - m) * go[i]; }          \\
            ts += s;                                                                                \\
            td += d;                                                                                \\
        }                                                                                           \\
        *sum += ts;                                                                                 \\
        *dot += td;                                                                                 \\
    }                                                                                               \\
    EMBER_BN_CLONES static void ember_bn_affine_##S(const T *x, T m, T a, T b, T *y, Py_ssize_t n) {\\
        EMBER_BN_SIMD for (Py_ssize_t i = 0; i < n; i++) y[i] = (x[i] - m) * a + b;                 \\
    }                                                                                               \\
    EMBER_BN_CLONES static void ember_bn_bwd_##S(const T *go, const T *x, T m, T gm, T k, T a,      \\
                                                 T *gi, Py_ssize_t n) {                             \\
        EMBER_BN_SIMD for (Py_ssize_t i = 0; i < n; i++) gi[i] = (go[i] - gm - (x[i] - m) * k) * a; \\
    }                                                                                               \\
    /* the same across a block of channels (one value per channel, accumulators in double) */       \\
    EMBER_BN_CLONES static void ember_bn_colsum_##S(const T *x, double *acc, Py_ssize_t n) {        \\
        EMBER_BN_SIMD for (Py_ssize_t i = 0; i < n; i++) acc[i] += x[i];                            \\
    }                                                                                               \\
    EMBER_BN_CLONES static void ember_bn_colsqdev_##S(const T *x, const T *m, double *acc,          \\
                                                      Py_ssize_t n) {                               \\
        EMBER_BN_SIMD for (Py_ssize_t i = 0; i < n; i++) { T d = x[i] - m[i]; acc[i] += d * d; }    \\
    }                                                                                               \\
    EMBER_BN_CLONES static void ember_bn_colsumdot_##S(const T *go, const T *x, const T *m,         \\
                                                       double *sum, double *dot, Py_ssize_t n) {    \\
        EMBER_BN_SIMD for (Py_ssize_t i = 0; i < n; i++) {                                          \\
            sum[i] += go[i];                                                                        \\
            dot[i] += (x[i] - m[i]) * go[i];                                                        \\
        }                                                                                           \\
    }                                                                                               \\
    EMBER_BN_CLONES static void ember_bn_colaffine_##S(const T *x, const T *m, const T *a,          \\
                                                       const T *b, T *y, Py_ssize_t n) {            \\
        EMBER_BN_SIMD for (Py_ssize_t i = 0; i < n; i++) y[i] = (x[i] - m[i]) * a[i] + b[i];        \\
    }                                                                                               \\
    EMBER_BN_CLONES static void ember_bn_colbwd_##S(const T *go, const T *x, const T *m,            \\
                                                    const T *gm, const T *k, const T *a, T *gi,     \\
                                                    Py_ssize_t n) {                                 \\
        EMBER_BN_SIMD for (Py_ssize_t i = 0; i < n; i++)                                            \\
            gi[i] = (go[i] - gm[i] - (x[i] - m[i]) * k[i]) * a[i];                                  \\
    }
    EMBER_BN_HELPERS(float, f)
    EMBER_BN_HELPERS(double, d)
    """
    double ember_bn_sum_f(const float *x, Py_ssize_t n) nogil
    double ember_bn_sum_d(const double *x, Py_ssize_t n) nogil
    double ember_bn_sqdev_f(const float *x, float m, Py_ssize_t n) nogil
    double ember_bn_sqdev_d(const double *x, double m, Py_ssize_t n) nogil
    void ember_bn_sumdot_f(const float *go, const float *x, float m, double *sum, double *dot, Py_ssize_t n) nogil
    void ember_bn_sumdot_d(const double *go, const double *x, double m, double *sum, double *dot,
                           Py_ssize_t n) nogil
    void ember_bn_affine_f(const float *x, float m, float a, float b, float *y, Py_ssize_t n) nogil
    void ember_bn_affine_d(const double *x, double m, double a, double b, double *y, Py_ssize_t n) nogil
    void ember_bn_bwd_f(const float *go, const float *x, float m, float gm, float k, float a, float *gi,
                        Py_ssize_t n) nogil
    void ember_bn_bwd_d(const double *go, const double *x, double m, double gm, double k, double a, double *gi,
                        Py_ssize_t n) nogil
    void ember_bn_colsum_f(const float *x, double *acc, Py_ssize_t n) nogil
    void ember_bn_colsum_d(const double *x, double *acc, Py_ssize_t n) nogil
    void ember_bn_colsqdev_f(const float *x, const float *m, double *acc, Py_ssize_t n) nogil
    void ember_bn_colsqdev_d(const double *x, const double *m, double *acc, Py_ssize_t n) nogil
    void ember_bn_colsumdot_f(const float *go, const float *x, const float *m, double *sum, double *dot,
                              Py_ssize_t n) nogil
    void ember_bn_colsumdot_d(const double *go, const double *x, const double *m, double *sum, double *dot,
                              Py_ssize_t n) nogil
    void ember_bn_colaffine_f(const float *x, const float *m, const float *a, const float *b, float *y,
                              Py_ssize_t n) nogil
    void ember_bn_colaffine_d(const double *x, const double *m, const double *a, const double *b, double *y,
                              Py_ssize_t n) nogil
    void ember_bn_colbwd_f(const float *go, const float *x, const float *m, const float *gm, const float *k,
                           const float *a, float *gi, Py_ssize_t n) nogil
    void ember_bn_colbwd_d(const double *go, const double *x, const double *m, const double *gm,
                           const double *k, const double *a, double *gi, Py_ssize_t n) nogil


# below this many elements the kernels run on one thread
DEF GRAIN = 32768
# channels per work item when S == 1: a block of N rows x BLOCK channels stays in L2 between passes
DEF BLOCK = 256


cdef inline int _threads(intp total, int nthreads) noexcept nogil:
    return 1 if total < GRAIN or nthreads < 1 else nthreads


cdef inline intp _cdiv(intp a, intp b) noexcept nogil:
    return (a + b - 1) // b


cdef intp _block(intp C, int nt):
    """Channels per work item for S == 1: BLOCK, or fewer (a multiple of 16) so every thread has work."""
    cdef intp b = BLOCK
    if C < b * nt:
        b = max(16, _cdiv(_cdiv(C, nt), 16) * 16)
    return b


# ---------------------------------------------------------------------- forward

cdef struct Vec:
    # an optional per-channel vector: data (NULL when absent) and stride in elements
    void *p
    intp s


cdef inline Vec _vec(floating[:] v):
    cdef Vec r
    r.p = NULL
    r.s = 0
    if v is not None and v.shape[0]:
        r.p = <void *>&v[0]
        r.s = v.strides[0] // sizeof(floating)
    return r


cdef inline floating _at(Vec v, intp c, floating dflt) noexcept nogil:
    return (<floating *>v.p)[c * v.s] if v.p != NULL else dflt


cdef void _finish_channel(intp c, double sqdev, intp count, floating *mean, floating *invstd, Vec rm, Vec rv,
                          bint training, double momentum, double eps, Vec w, Vec b, floating *scale,
                          floating *shift) noexcept nogil:
    """Per-channel scalars once the statistics are known: invstd, running averages (training, with the
    unbiased variance), and the output's scale and shift."""
    cdef double inv
    cdef floating one = 1, zero = 0
    if training:
        inv = 0 if (sqdev == 0 and eps == 0) else 1 / sqrt(sqdev / count + eps)
        invstd[c] = <floating>inv
        if rm.p != NULL:
            (<floating *>rm.p)[c * rm.s] = <floating>(momentum * mean[c] + (1 - momentum) * _at(rm, c, zero))
        if rv.p != NULL:
            (<floating *>rv.p)[c * rv.s] = <floating>(momentum * sqdev / (count - 1)
                                                      + (1 - momentum) * _at(rv, c, zero))
    else:
        mean[c] = _at(rm, c, zero)
        invstd[c] = <floating>(1 / sqrt(_at(rv, c, zero) + eps))
    scale[c] = invstd[c] * _at(w, c, one)
    shift[c] = _at(b, c, zero)


def forward(floating[:, :, ::1] x, floating[:, :, ::1] y, floating[:] weight, floating[:] bias,
            floating[:] running_mean, floating[:] running_var, floating[::1] save_mean,
            floating[::1] save_invstd, bint training, double momentum, double eps, int nthreads):
    """y = (x - mean) * invstd * weight + bias per channel. Training: batch statistics into save_mean /
    save_invstd and running averages updated in place (either may be None); else the running statistics
    (copied into save_mean / save_invstd)."""
    cdef intp N = x.shape[0], C = x.shape[1], S = x.shape[2], count = N * S
    cdef int nt = _threads(N * C * S, nthreads)
    cdef floating[::1] scale = np.empty(C, np.float32 if floating is float else np.float64)
    cdef floating[::1] shift = np.empty(C, np.float32 if floating is float else np.float64)
    cdef floating *px = &x[0, 0, 0]
    cdef floating *py = &y[0, 0, 0]
    cdef floating *pm = &save_mean[0]
    cdef floating *pi = &save_invstd[0]
    cdef floating *pa = &scale[0]
    cdef floating *pb = &shift[0]
    cdef double[:, ::1] acc
    cdef double *a
    cdef double s
    cdef intp blk, nblk, w, c0, m, n, j, c
    cdef Vec vw = _vec(weight), vb = _vec(bias), vrm = _vec(running_mean), vrv = _vec(running_var)
    if not training and (vrm.p == NULL or vrv.p == NULL):
        raise ValueError("batch norm forward: running statistics are required in evaluation mode")
    if S == 1:
        blk = _block(C, nt)
        nblk = _cdiv(C, blk)
        nt = <int>min(nt, nblk)
        acc = np.empty((nt, blk), np.float64)
        for w in prange(nblk, nogil=True, num_threads=nt, schedule="static"):
            c0 = w * blk
            m = min(blk, C - c0)
            a = &acc[threadid(), 0]
            if training:
                for j in range(m):
                    a[j] = 0
                for n in range(N):
                    _colsum(px + n * C + c0, a, m)
                for j in range(m):
                    pm[c0 + j] = <floating>(a[j] / count)
                    a[j] = 0
                for n in range(N):
                    _colsqdev(px + n * C + c0, pm + c0, a, m)
            for j in range(m):
                _finish_channel(c0 + j, a[j] if training else 0, count, pm, pi, vrm, vrv, training, momentum,
                                eps, vw, vb, pa, pb)
            for n in range(N):
                _colaffine(px + n * C + c0, pm + c0, pa + c0, pb + c0, py + n * C + c0, m)
        return
    if C < nt:
        nt = <int>C
    for c in prange(C, nogil=True, num_threads=nt, schedule="static"):
        s = 0
        if training:
            for n in range(N):
                s = s + _sum(px + (n * C + c) * S, S)
            pm[c] = <floating>(s / count)
            s = 0
            for n in range(N):
                s = s + _sqdev(px + (n * C + c) * S, pm[c], S)
        _finish_channel(c, s, count, pm, pi, vrm, vrv, training, momentum, eps, vw, vb, pa, pb)
        for n in range(N):
            _affine(px + (n * C + c) * S, pm[c], pa[c], pb[c], py + (n * C + c) * S, S)


# ---------------------------------------------------------------------- backward

def backward(floating[:, :, ::1] go, floating[:, :, ::1] x, floating[:] weight, floating[::1] mean,
             floating[::1] invstd, floating[:, :, ::1] gi, floating[::1] gw, floating[::1] gb, bint training,
             int nthreads):
    """Gradients of the forward above for the mean / invstd it used: gi (training: through the batch
    statistics; else go * invstd * weight), gw = sum((x - mean) * go) * invstd, gb = sum(go). Any of
    gi, gw, gb may be None (not wanted)."""
    cdef intp N = x.shape[0], C = x.shape[1], S = x.shape[2], count = N * S
    cdef int nt = _threads(N * C * S, nthreads)
    cdef floating[::1] gmean = np.empty(C, np.float32 if floating is float else np.float64)
    cdef floating[::1] k = np.empty(C, np.float32 if floating is float else np.float64)
    cdef floating[::1] scale = np.empty(C, np.float32 if floating is float else np.float64)
    cdef bint want_gi = gi is not None, want_gw = gw is not None, want_gb = gb is not None
    cdef floating *pgo = &go[0, 0, 0]
    cdef floating *px = &x[0, 0, 0]
    cdef floating *pgi = &gi[0, 0, 0] if want_gi else NULL
    cdef floating *pm = &mean[0]
    cdef floating *pgm = &gmean[0]
    cdef floating *pk = &k[0]
    cdef floating *pa = &scale[0]
    cdef floating *pgw = &gw[0] if want_gw else NULL
    cdef floating *pgb = &gb[0] if want_gb else NULL
    cdef floating *pinv = &invstd[0]
    cdef Vec vw = _vec(weight)
    cdef double[:, ::1] acc
    cdef double *a
    cdef double sm, dt
    cdef intp blk, nblk, w, c0, m, n, j, c, off
    if S == 1:
        blk = _block(C, nt)
        nblk = _cdiv(C, blk)
        nt = <int>min(nt, nblk)
        acc = np.empty((nt, 2 * blk), np.float64)
        for w in prange(nblk, nogil=True, num_threads=nt, schedule="static"):
            c0 = w * blk
            m = min(blk, C - c0)
            a = &acc[threadid(), 0]
            for j in range(2 * m):
                a[j] = 0
            for n in range(N):
                _colsumdot(pgo + n * C + c0, px + n * C + c0, pm + c0, a, a + m, m)
            for j in range(m):
                _finish_grad(c0 + j, a[j], a[m + j], count, vw, pinv, training, pgw, pgb, pgm, pk, pa)
            if want_gi:
                for n in range(N):
                    off = n * C + c0
                    _colbwd(pgo + off, px + off, pm + c0, pgm + c0, pk + c0, pa + c0, pgi + off, m)
        return
    if C < nt:
        nt = <int>C
    for c in prange(C, nogil=True, num_threads=nt, schedule="static"):
        sm = 0
        dt = 0
        for n in range(N):
            _sumdot(pgo + (n * C + c) * S, px + (n * C + c) * S, pm[c], &sm, &dt, S)
        _finish_grad(c, sm, dt, count, vw, pinv, training, pgw, pgb, pgm, pk, pa)
        if want_gi:
            for n in range(N):
                off = (n * C + c) * S
                _bwd(pgo + off, px + off, pm[c], pgm[c], pk[c], pa[c], pgi + off, S)


cdef void _finish_grad(intp c, double sum_go, double dot, intp count, Vec w, floating *invstd, bint training,
                       floating *gw, floating *gb, floating *gmean, floating *k, floating *scale) noexcept nogil:
    """Per-channel gradient scalars: grad_input = (go - gmean - (x - mean) * k) * scale."""
    cdef double inv = invstd[c]
    cdef floating one = 1
    if gw != NULL:
        gw[c] = <floating>(dot * inv)
    if gb != NULL:
        gb[c] = <floating>sum_go
    scale[c] = <floating>(inv * _at(w, c, one))
    if training:
        gmean[c] = <floating>(sum_go / count)
        k[c] = <floating>(dot * inv * inv / count)
    else:
        gmean[c] = 0
        k[c] = 0


# ---------------------------------------------------------------------- typed wrappers over the helpers

cdef inline double _sum(floating *x, intp n) noexcept nogil:
    if floating is float:
        return ember_bn_sum_f(x, n)
    else:
        return ember_bn_sum_d(x, n)


cdef inline double _sqdev(floating *x, floating m, intp n) noexcept nogil:
    if floating is float:
        return ember_bn_sqdev_f(x, m, n)
    else:
        return ember_bn_sqdev_d(x, m, n)


cdef inline void _sumdot(floating *go, floating *x, floating m, double *sum, double *dot, intp n) noexcept nogil:
    if floating is float:
        ember_bn_sumdot_f(go, x, m, sum, dot, n)
    else:
        ember_bn_sumdot_d(go, x, m, sum, dot, n)


cdef inline void _affine(floating *x, floating m, floating a, floating b, floating *y, intp n) noexcept nogil:
    if floating is float:
        ember_bn_affine_f(x, m, a, b, y, n)
    else:
        ember_bn_affine_d(x, m, a, b, y, n)


cdef inline void _bwd(floating *go, floating *x, floating m, floating gm, floating k, floating a, floating *gi,
                      intp n) noexcept nogil:
    if floating is float:
        ember_bn_bwd_f(go, x, m, gm, k, a, gi, n)
    else:
        ember_bn_bwd_d(go, x, m, gm, k, a, gi, n)


cdef inline void _colsum(floating *x, double *acc, intp n) noexcept nogil:
    if floating is float:
        ember_bn_colsum_f(x, acc, n)
    else:
        ember_bn_colsum_d(x, acc, n)


cdef inline void _colsqdev(floating *x, floating *m, double *acc, intp n) noexcept nogil:
    if floating is float:
        ember_bn_colsqdev_f(x, m, acc, n)
    else:
        ember_bn_colsqdev_d(x, m, acc, n)


cdef inline void _colsumdot(floating *go, floating *x, floating *m, double *sum, double *dot,
                            intp n) noexcept nogil:
    if floating is float:
        ember_bn_colsumdot_f(go, x, m, sum, dot, n)
    else:
        ember_bn_colsumdot_d(go, x, m, sum, dot, n)


cdef inline void _colaffine(floating *x, floating *m, floating *a, floating *b, floating *y,
                            intp n) noexcept nogil:
    if floating is float:
        ember_bn_colaffine_f(x, m, a, b, y, n)
    else:
        ember_bn_colaffine_d(x, m, a, b, y, n)


cdef inline void _colbwd(floating *go, floating *x, floating *m, floating *gm, floating *k, floating *a,
                         floating *gi, intp n) noexcept nogil:
    if floating is float:
        ember_bn_colbwd_f(go, x, m, gm, k, a, gi, n)
    else:
        ember_bn_colbwd_d(go, x, m, gm, k, a, gi, n)
