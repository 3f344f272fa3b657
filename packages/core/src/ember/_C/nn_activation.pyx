"""Activation kernels of ember.nn, CPU: forward and backward of leaky_relu, threshold, hardshrink/softshrink,
elu/selu, softplus, logsigmoid, glu and prelu on C-contiguous float/double arrays, THNN's formulas.

NumPy computes these in several passes with temporaries (softplus through logaddexp, a scalar libm loop:
13x PyTorch's time). Here each thread takes blocks of BLOCK elements that stay in L1: the transcendental
part runs through one of NumPy's own SIMD loops (exp, expm1, log1p) on a buffer, the rest is short C loops
compiled for AVX-512, AVX2 and the baseline (GCC's target_clones).
"""
cimport numpy as cnp
import numpy as np
from cython cimport floating
from cython.parallel cimport prange

cnp.import_array()

ctypedef cnp.npy_intp intp

include "_numpy_loops.pxi"

cdef enum:
    BLOCK = 2048  # elements a block: the input, the gradient, a buffer and the result stay in L1

cdef enum Op:
    LEAKY, LEAKY_GRAD, THRESHOLD, THRESHOLD_IN_PLACE, THRESHOLD_GRAD, ELU, ELU_GRAD, SOFTPLUS, SOFTPLUS_GRAD, LOGSIGMOID, \
        LOGSIGMOID_GRAD, HARDSHRINK, SOFTSHRINK, SHRINK_GRAD


cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define EMBER_ACT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define EMBER_ACT_CLONES
    #endif
    /* x: input, y: forward output, g: gradient of the output, t: the block's buffer (after NumPy's loop),
       r: result; p, q: the op's parameters, already in T. */
    #define EMBER_ACT_LOOPS(S, T) \\
    EMBER_ACT_CLONES static void ember_leaky_##S(const T *x, T *r, Py_ssize_t n, T s) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > 0 ? x[i] : x[i] * s; \\
    } \\
    EMBER_ACT_CLONES static void ember_leaky_grad_##S(const T *x, const T *g, T *r, Py_ssize_t n, T s) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > 0 ? g[i] : g[i] * s; \\
    } \\
    EMBER_ACT_CLONES static void ember_threshold_##S(const T *x, T *r, Py_ssize_t n, T th, T v) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > th ? x[i] : v; \\
    } \\
    /* TH's in-place threshold: x <= th ? v : x, so NaN passes */ \\
    EMBER_ACT_CLONES static void ember_threshold_in_place_##S(const T *x, T *r, Py_ssize_t n, T th, T v) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] <= th ? v : x[i]; \\
    } \\
    EMBER_ACT_CLONES static void ember_threshold_grad_##S(const T *x, const T *g, T *r, Py_ssize_t n, T th) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > th ? g[i] : 0; \\
    } \\
    /* THNN's shrinks: x beyond +-l is kept (hard) or moved l towards 0 (soft), the rest (NaN too) is 0 */ \\
    EMBER_ACT_CLONES static void ember_hardshrink_##S(const T *x, T *r, Py_ssize_t n, T l) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > l ? x[i] : (x[i] < -l ? x[i] : 0); \\
    } \\
    EMBER_ACT_CLONES static void ember_softshrink_##S(const T *x, T *r, Py_ssize_t n, T l) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > l ? x[i] - l : (x[i] < -l ? x[i] + l : 0); \\
    } \\
    EMBER_ACT_CLONES static void ember_shrink_grad_##S(const T *x, const T *g, T *r, Py_ssize_t n, T l) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > l || x[i] < -l ? g[i] : 0; \\
    } \\
    /* t = min(x, 0) (NaN stays), then (after expm1) r = x > 0 ? scale * x : t * (alpha * scale) */ \\
    EMBER_ACT_CLONES static void ember_nonpositive_##S(const T *x, T *t, Py_ssize_t n) { \\
        for (Py_ssize_t i = 0; i < n; i++) t[i] = x[i] > 0 ? 0 : x[i]; \\
    } \\
    EMBER_ACT_CLONES static void ember_elu_end_##S(const T *x, const T *t, T *r, Py_ssize_t n, T scale, T c) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] > 0 ? x[i] * scale : t[i] * c; \\
    } \\
    /* from the output: r = g * (y > 0 ? scale : y + alpha * scale) */ \\
    EMBER_ACT_CLONES static void ember_elu_grad_##S(const T *y, const T *g, T *r, Py_ssize_t n, T scale, T c) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = g[i] * (y[i] > 0 ? scale : y[i] + c); \\
    } \\
    /* t = -|x * b|; after exp and log1p, t = log1p(exp(-|bx|)), and max(bx, 0) + t = log(1 + exp(bx)) */ \\
    EMBER_ACT_CLONES static void ember_minus_abs_##S(const T *x, T *t, Py_ssize_t n, T b) { \\
        for (Py_ssize_t i = 0; i < n; i++) { T v = x[i] * b; t[i] = v < 0 ? v : -v; } \\
    } \\
    EMBER_ACT_CLONES static void ember_softplus_end_##S(const T *x, const T *t, T *r, Py_ssize_t n, T b, T th) { \\
        for (Py_ssize_t i = 0; i < n; i++) { \\
            T v = x[i] * b; \\
            r[i] = v > th ? x[i] : ((v > 0 ? v : 0) + t[i]) / b; \\
        } \\
    } \\
    /* t = -(x * b); after exp, the derivative sigmoid(bx) = 1 / (1 + t) (1 on the linear part) */ \\
    EMBER_ACT_CLONES static void ember_scaled_negate_##S(const T *x, T *t, Py_ssize_t n, T b) { \\
        for (Py_ssize_t i = 0; i < n; i++) t[i] = -(x[i] * b); \\
    } \\
    EMBER_ACT_CLONES static void ember_softplus_grad_end_##S(const T *x, const T *g, const T *t, T *r, \\
                                                              Py_ssize_t n, T b, T th) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] * b > th ? g[i] : g[i] * (1 / (1 + t[i])); \\
    } \\
    /* logsigmoid(x) = -(max(-x, 0) + log1p(exp(-|x|))); t arrives as log1p(exp(-|x|)) */ \\
    EMBER_ACT_CLONES static void ember_logsigmoid_end_##S(const T *x, const T *t, T *r, Py_ssize_t n) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = -((x[i] < 0 ? -x[i] : 0) + t[i]); \\
    } \\
    /* its derivative sigmoid(-x) = 1 / (1 + exp(x)); t arrives as exp(x) */ \\
    EMBER_ACT_CLONES static void ember_logsigmoid_grad_end_##S(const T *g, const T *t, T *r, Py_ssize_t n) { \\
        for (Py_ssize_t i = 0; i < n; i++) r[i] = g[i] * (1 / (1 + t[i])); \\
    }
    EMBER_ACT_LOOPS(f, float)
    EMBER_ACT_LOOPS(d, double)
    /* GLU, THNN's order of operations; t arrives as exp(-b), so sigmoid(b) = 1 / (1 + t):
       forward r = a * sigmoid(b); backward ra = sigmoid(b) * g, rb = (1 - z) * z * g * a with z = sigmoid(b) */
    #define EMBER_GLU_LOOPS(S, T) \
    EMBER_ACT_CLONES static void ember_glu_end_##S(const T *a, const T *t, T *r, Py_ssize_t n) { \
        for (Py_ssize_t i = 0; i < n; i++) r[i] = (1 / (1 + t[i])) * a[i]; \
    } \
    EMBER_ACT_CLONES static void ember_glu_grad_end_##S(const T *a, const T *g, const T *t, T *ra, T *rb, \
                                                         Py_ssize_t n) { \
        for (Py_ssize_t i = 0; i < n; i++) { \
            T z = 1 / (1 + t[i]); \
            ra[i] = z * g[i]; \
            rb[i] = (1 - z) * z * g[i] * a[i]; \
        } \
    }
    EMBER_GLU_LOOPS(f, float)
    EMBER_GLU_LOOPS(d, double)
    /* PReLU's weight gradient over a row of one channel: the sum of g * x where x <= 0, in double */
    #define EMBER_PRELU_WSUM(S, T) \
    EMBER_ACT_CLONES static double ember_prelu_wsum_##S(const T *x, const T *g, Py_ssize_t n) { \
        double total = 0; \
        _Pragma("omp simd reduction(+:total)") \
        for (Py_ssize_t i = 0; i < n; i++) total += x[i] > 0 ? 0.0 : (double)g[i] * x[i]; \
        return total; \
    }
    EMBER_PRELU_WSUM(f, float)
    EMBER_PRELU_WSUM(d, double)
    """
    void ember_leaky_f(const float *x, float *r, intp n, float s) noexcept nogil
    void ember_leaky_d(const double *x, double *r, intp n, double s) noexcept nogil
    void ember_leaky_grad_f(const float *x, const float *g, float *r, intp n, float s) noexcept nogil
    void ember_leaky_grad_d(const double *x, const double *g, double *r, intp n, double s) noexcept nogil
    void ember_threshold_f(const float *x, float *r, intp n, float th, float v) noexcept nogil
    void ember_threshold_d(const double *x, double *r, intp n, double th, double v) noexcept nogil
    void ember_threshold_in_place_f(const float *x, float *r, intp n, float th, float v) noexcept nogil
    void ember_threshold_in_place_d(const double *x, double *r, intp n, double th, double v) noexcept nogil
    void ember_threshold_grad_f(const float *x, const float *g, float *r, intp n, float th) noexcept nogil
    void ember_threshold_grad_d(const double *x, const double *g, double *r, intp n, double th) noexcept nogil
    void ember_hardshrink_f(const float *x, float *r, intp n, float l) noexcept nogil
    void ember_hardshrink_d(const double *x, double *r, intp n, double l) noexcept nogil
    void ember_softshrink_f(const float *x, float *r, intp n, float l) noexcept nogil
    void ember_softshrink_d(const double *x, double *r, intp n, double l) noexcept nogil
    void ember_shrink_grad_f(const float *x, const float *g, float *r, intp n, float l) noexcept nogil
    void ember_shrink_grad_d(const double *x, const double *g, double *r, intp n, double l) noexcept nogil
    void ember_nonpositive_f(const float *x, float *t, intp n) noexcept nogil
    void ember_nonpositive_d(const double *x, double *t, intp n) noexcept nogil
    void ember_elu_end_f(const float *x, const float *t, float *r, intp n, float scale, float c) noexcept nogil
    void ember_elu_end_d(const double *x, const double *t, double *r, intp n, double scale, double c) noexcept nogil
    void ember_elu_grad_f(const float *y, const float *g, float *r, intp n, float scale, float c) noexcept nogil
    void ember_elu_grad_d(const double *y, const double *g, double *r, intp n, double scale, double c) noexcept nogil
    void ember_minus_abs_f(const float *x, float *t, intp n, float b) noexcept nogil
    void ember_minus_abs_d(const double *x, double *t, intp n, double b) noexcept nogil
    void ember_softplus_end_f(const float *x, const float *t, float *r, intp n, float b, float th) noexcept nogil
    void ember_softplus_end_d(const double *x, const double *t, double *r, intp n, double b, double th) noexcept nogil
    void ember_scaled_negate_f(const float *x, float *t, intp n, float b) noexcept nogil
    void ember_scaled_negate_d(const double *x, double *t, intp n, double b) noexcept nogil
    void ember_softplus_grad_end_f(const float *x, const float *g, const float *t, float *r, intp n, float b,
                                   float th) noexcept nogil
    void ember_softplus_grad_end_d(const double *x, const double *g, const double *t, double *r, intp n, double b,
                                   double th) noexcept nogil
    void ember_logsigmoid_end_f(const float *x, const float *t, float *r, intp n) noexcept nogil
    void ember_logsigmoid_end_d(const double *x, const double *t, double *r, intp n) noexcept nogil
    void ember_logsigmoid_grad_end_f(const float *g, const float *t, float *r, intp n) noexcept nogil
    void ember_logsigmoid_grad_end_d(const double *g, const double *t, double *r, intp n) noexcept nogil
    void ember_glu_end_f(const float *a, const float *t, float *r, intp n) noexcept nogil
    void ember_glu_end_d(const double *a, const double *t, double *r, intp n) noexcept nogil
    void ember_glu_grad_end_f(const float *a, const float *g, const float *t, float *ra, float *rb,
                              intp n) noexcept nogil
    void ember_glu_grad_end_d(const double *a, const double *g, const double *t, double *ra, double *rb,
                              intp n) noexcept nogil
    double ember_prelu_wsum_f(const float *x, const float *g, intp n) noexcept nogil
    double ember_prelu_wsum_d(const double *x, const double *g, intp n) noexcept nogil


cdef struct Loops:
    loop_t exp, expm1, log1p
    void *exp_data
    void *expm1_data
    void *log1p_data


cdef Loops _loops_f, _loops_d
_numpy_loop(np.exp, np.float32, &_loops_f.exp, &_loops_f.exp_data)
_numpy_loop(np.expm1, np.float32, &_loops_f.expm1, &_loops_f.expm1_data)
_numpy_loop(np.log1p, np.float32, &_loops_f.log1p, &_loops_f.log1p_data)
_numpy_loop(np.exp, np.float64, &_loops_d.exp, &_loops_d.exp_data)
_numpy_loop(np.expm1, np.float64, &_loops_d.expm1, &_loops_d.expm1_data)
_numpy_loop(np.log1p, np.float64, &_loops_d.log1p, &_loops_d.log1p_data)


cdef void _block(Op op, const Loops *L, const floating *x, const floating *g, floating *r, intp m,
                 floating p, floating q) noexcept nogil:
    """One block of ``op`` (m <= BLOCK elements); x is the input (the output for ELU_GRAD)."""
    cdef floating t[BLOCK]
    cdef intp size = sizeof(floating)
    if op == LEAKY:
        ember_leaky_f(x, r, m, p) if floating is float else ember_leaky_d(x, r, m, p)
    elif op == LEAKY_GRAD:
        ember_leaky_grad_f(x, g, r, m, p) if floating is float else ember_leaky_grad_d(x, g, r, m, p)
    elif op == THRESHOLD:
        ember_threshold_f(x, r, m, p, q) if floating is float else ember_threshold_d(x, r, m, p, q)
    elif op == THRESHOLD_IN_PLACE:
        if floating is float:
            ember_threshold_in_place_f(x, r, m, p, q)
        else:
            ember_threshold_in_place_d(x, r, m, p, q)
    elif op == THRESHOLD_GRAD:
        ember_threshold_grad_f(x, g, r, m, p) if floating is float else ember_threshold_grad_d(x, g, r, m, p)
    elif op == HARDSHRINK:
        ember_hardshrink_f(x, r, m, p) if floating is float else ember_hardshrink_d(x, r, m, p)
    elif op == SOFTSHRINK:
        ember_softshrink_f(x, r, m, p) if floating is float else ember_softshrink_d(x, r, m, p)
    elif op == SHRINK_GRAD:
        ember_shrink_grad_f(x, g, r, m, p) if floating is float else ember_shrink_grad_d(x, g, r, m, p)
    elif op == ELU:
        ember_nonpositive_f(x, t, m) if floating is float else ember_nonpositive_d(x, t, m)
        _unary_loop(L.expm1, L.expm1_data, t, t, m, size)
        ember_elu_end_f(x, t, r, m, p, q) if floating is float else ember_elu_end_d(x, t, r, m, p, q)
    elif op == ELU_GRAD:
        ember_elu_grad_f(x, g, r, m, p, q) if floating is float else ember_elu_grad_d(x, g, r, m, p, q)
    elif op == SOFTPLUS or op == LOGSIGMOID:
        if floating is float:
            ember_minus_abs_f(x, t, m, p if op == SOFTPLUS else 1)
        else:
            ember_minus_abs_d(x, t, m, p if op == SOFTPLUS else 1)
        _unary_loop(L.exp, L.exp_data, t, t, m, size)
        _unary_loop(L.log1p, L.log1p_data, t, t, m, size)
        if op == SOFTPLUS:
            ember_softplus_end_f(x, t, r, m, p, q) if floating is float else ember_softplus_end_d(x, t, r, m, p, q)
        else:
            ember_logsigmoid_end_f(x, t, r, m) if floating is float else ember_logsigmoid_end_d(x, t, r, m)
    elif op == SOFTPLUS_GRAD:
        ember_scaled_negate_f(x, t, m, p) if floating is float else ember_scaled_negate_d(x, t, m, p)
        _unary_loop(L.exp, L.exp_data, t, t, m, size)
        if floating is float:
            ember_softplus_grad_end_f(x, g, t, r, m, p, q)
        else:
            ember_softplus_grad_end_d(x, g, t, r, m, p, q)
    else:  # LOGSIGMOID_GRAD
        _unary_loop(L.exp, L.exp_data, <void *>x, t, m, size)
        ember_logsigmoid_grad_end_f(g, t, r, m) if floating is float else ember_logsigmoid_grad_end_d(g, t, r, m)


cdef inline int _check_like(cnp.ndarray a, int t, intp n, str what) except -1:
    if not cnp.PyArray_IS_C_CONTIGUOUS(a) or cnp.PyArray_TYPE(a) != t or cnp.PyArray_SIZE(a) != n:
        raise ValueError("activation kernel: {} must be a C-contiguous array of the input's dtype and size"
                         .format(what))
    return 0


cdef object _run(Op op, cnp.ndarray x, cnp.ndarray g, cnp.ndarray out, double p, double q, int nthreads):
    cdef intp n = cnp.PyArray_SIZE(x), nblocks = (n + BLOCK - 1) // BLOCK, b, m
    cdef int t = cnp.PyArray_TYPE(x)
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *pg = NULL
    cdef void *po = cnp.PyArray_DATA(out)
    _check_like(x, t, n, "input")
    _check_like(out, t, n, "out")
    if g is not None:
        _check_like(g, t, n, "grad_output")
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError("activation kernel: expected float32 or float64 arrays, got {}".format(x.dtype))
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("activation kernel: out is read-only")
    if g is not None:
        pg = cnp.PyArray_DATA(g)
    if nblocks < nthreads:
        nthreads = <int>max(nblocks, 1)
    if nblocks == 1:  # no parallel region: entering one costs a small array's whole time
        if t == cnp.NPY_FLOAT32:
            _block[float](op, &_loops_f, <float *>px, <float *>pg, <float *>po, n, <float>p, <float>q)
        else:
            _block[double](op, &_loops_d, <double *>px, <double *>pg, <double *>po, n, p, q)
        return out
    if t == cnp.NPY_FLOAT32:
        for b in prange(nblocks, nogil=True, num_threads=nthreads, schedule="static"):
            m = min(<intp>BLOCK, n - b * BLOCK)
            _block[float](op, &_loops_f, <float *>px + b * BLOCK, (<float *>pg + b * BLOCK) if pg != NULL else NULL,
                          <float *>po + b * BLOCK, m, <float>p, <float>q)
    else:
        for b in prange(nblocks, nogil=True, num_threads=nthreads, schedule="static"):
            m = min(<intp>BLOCK, n - b * BLOCK)
            _block[double](op, &_loops_d, <double *>px + b * BLOCK,
                           (<double *>pg + b * BLOCK) if pg != NULL else NULL, <double *>po + b * BLOCK, m, p, q)
    return out


def leaky_relu(x, out, double slope, int nthreads):
    """out = x > 0 ? x : x * slope (out may be x)."""
    return _run(LEAKY, x, None, out, slope, 0, nthreads)


def leaky_relu_grad(x, g, out, double slope, int nthreads):
    """out = x > 0 ? g : g * slope."""
    return _run(LEAKY_GRAD, x, g, out, slope, 0, nthreads)


def threshold(x, out, double threshold, double value, int nthreads):
    """out = x > threshold ? x : value (out may be x)."""
    return _run(THRESHOLD, x, None, out, threshold, value, nthreads)


def threshold_in_place(x, out, double threshold, double value, int nthreads):
    """out = x <= threshold ? value : x: TH's in-place threshold, which NaN passes (out may be x)."""
    return _run(THRESHOLD_IN_PLACE, x, None, out, threshold, value, nthreads)


def threshold_grad(x, g, out, double threshold, int nthreads):
    """out = x > threshold ? g : 0."""
    return _run(THRESHOLD_GRAD, x, g, out, threshold, 0, nthreads)


def hardshrink(x, out, double lambd, int nthreads):
    """out = x > lambd or x < -lambd ? x : 0 (out may be x)."""
    return _run(HARDSHRINK, x, None, out, lambd, 0, nthreads)


def softshrink(x, out, double lambd, int nthreads):
    """out = x > lambd ? x - lambd : (x < -lambd ? x + lambd : 0) (out may be x)."""
    return _run(SOFTSHRINK, x, None, out, lambd, 0, nthreads)


def shrink_grad(x, g, out, double lambd, int nthreads):
    """out = x > lambd or x < -lambd ? g : 0 (both shrinks' backward)."""
    return _run(SHRINK_GRAD, x, g, out, lambd, 0, nthreads)


def elu(x, out, double alpha, double scale, int nthreads):
    """out = x > 0 ? scale * x : alpha * scale * expm1(x) (out may be x)."""
    return _run(ELU, x, None, out, scale, alpha * scale, nthreads)


def elu_grad(y, g, out, double alpha, double scale, int nthreads):
    """From the forward's output y: out = g * (y > 0 ? scale : y + alpha * scale)."""
    return _run(ELU_GRAD, y, g, out, scale, alpha * scale, nthreads)


def softplus(x, out, double beta, double threshold, int nthreads):
    """out = beta * x > threshold ? x : log(1 + exp(beta * x)) / beta, without overflow."""
    return _run(SOFTPLUS, x, None, out, beta, threshold, nthreads)


def softplus_grad(x, g, out, double beta, double threshold, int nthreads):
    """out = beta * x > threshold ? g : g * sigmoid(beta * x)."""
    return _run(SOFTPLUS_GRAD, x, g, out, beta, threshold, nthreads)


def logsigmoid(x, out, int nthreads):
    """out = log(sigmoid(x)) = -log(1 + exp(-x)), without overflow."""
    return _run(LOGSIGMOID, x, None, out, 0, 0, nthreads)


def logsigmoid_grad(x, g, out, int nthreads):
    """out = g * sigmoid(-x)."""
    return _run(LOGSIGMOID_GRAD, x, g, out, 0, 0, nthreads)


cdef void _glu_block(const Loops *L, const floating *a, const floating *b, const floating *g, floating *r,
                     floating *rb, intp m) noexcept nogil:
    """m <= BLOCK elements of GLU's halves a and b: the forward into r (g NULL), or the gradients of a and b
    into r and rb."""
    cdef floating t[BLOCK]
    if floating is float:
        ember_scaled_negate_f(b, t, m, 1)
    else:
        ember_scaled_negate_d(b, t, m, 1)
    _unary_loop(L.exp, L.exp_data, t, t, m, sizeof(floating))
    if g == NULL:
        ember_glu_end_f(a, t, r, m) if floating is float else ember_glu_end_d(a, t, r, m)
    elif floating is float:
        ember_glu_grad_end_f(a, g, t, r, rb, m)
    else:
        ember_glu_grad_end_d(a, g, t, r, rb, m)


cdef void _glu_item(const Loops *L, floating *x, floating *g, floating *out, intp n, intp per,
                    intp w) noexcept nogil:
    """Work item ``w``: block ``w % per`` of row ``w // per`` (its halves x[o, 0], x[o, 1] of n elements)."""
    cdef intp o = w // per, j = (w % per) * BLOCK
    cdef intp m = min(<intp>BLOCK, n - j)
    cdef floating *a = x + 2 * o * n + j
    if g == NULL:
        _glu_block(L, a, a + n, NULL, out + o * n + j, NULL, m)
    else:
        _glu_block(L, a, a + n, g + o * n + j, out + 2 * o * n + j, out + (2 * o + 1) * n + j, m)


cdef object _glu(object x, object g, object out, int nthreads):
    if type(x) is not np.ndarray or x.ndim != 3 or x.shape[1] != 2:
        raise ValueError("glu kernel: expected an input array of shape (outer, 2, L)")
    cdef int t = cnp.PyArray_TYPE(x)
    cdef intp outer = x.shape[0], L = x.shape[2]
    half = (outer, L)
    for a, what, shape in ((x, "input", x.shape), (out, "out", x.shape if g is not None else half)) + \
            (((g, "grad_output", half),) if g is not None else ()):
        if type(a) is not np.ndarray or not cnp.PyArray_IS_C_CONTIGUOUS(a) or cnp.PyArray_TYPE(a) != t or \
                a.shape != shape:
            raise ValueError("glu kernel: {} must be a C-contiguous array of the input's dtype and shape {}"
                             .format(what, shape))
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError("glu kernel: expected float32 or float64 arrays, got {}".format(x.dtype))
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("glu kernel: out is read-only")
    cdef intp per = (L + BLOCK - 1) // BLOCK, items = outer * per, w
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *pg = cnp.PyArray_DATA(g) if g is not None else NULL
    cdef void *po = cnp.PyArray_DATA(out)
    if items < nthreads:
        nthreads = <int>max(items, 1)
    if nthreads == 1:  # no parallel region (libgomp's barriers make system calls)
        for w in range(items):
            if t == cnp.NPY_FLOAT32:
                _glu_item[float](&_loops_f, <float *>px, <float *>pg, <float *>po, L, per, w)
            else:
                _glu_item[double](&_loops_d, <double *>px, <double *>pg, <double *>po, L, per, w)
    elif t == cnp.NPY_FLOAT32:
        for w in prange(items, nogil=True, num_threads=nthreads, schedule="static"):
            _glu_item[float](&_loops_f, <float *>px, <float *>pg, <float *>po, L, per, w)
    else:
        for w in prange(items, nogil=True, num_threads=nthreads, schedule="static"):
            _glu_item[double](&_loops_d, <double *>px, <double *>pg, <double *>po, L, per, w)
    return out


def glu(x, out, int nthreads):
    """GLU of x (outer, 2, L) into out (outer, L): out = x[:, 0] * sigmoid(x[:, 1])."""
    return _glu(x, None, out, nthreads)


def glu_grad(x, g, out, int nthreads):
    """The gradient of GLU into out (outer, 2, L) from x (outer, 2, L) and the output's gradient g (outer, L)."""
    return _glu(x, g, out, nthreads)


def prelu(const floating[:, :, ::1] x, const floating[::1] w, floating[:, :, ::1] out, int nthreads):
    """out[n, c, i] = x > 0 ? x : w[c] * x for x of shape (N, C, inner) and C weights."""
    cdef intp N = x.shape[0], C = x.shape[1], I = x.shape[2], j
    if w.shape[0] != C or out.shape[0] != N or out.shape[1] != C or out.shape[2] != I:
        raise ValueError("prelu kernel: expected {} weights and an out of the input's shape".format(C))
    if N * C * I < BLOCK or nthreads < 1:
        nthreads = 1
    for j in prange(N * C, nogil=True, num_threads=nthreads, schedule="static"):
        if floating is float:
            ember_leaky_f(&x[j // C, j % C, 0], &out[j // C, j % C, 0], I, w[j % C])
        else:
            ember_leaky_d(&x[j // C, j % C, 0], &out[j // C, j % C, 0], I, w[j % C])


def prelu_grad(const floating[:, :, ::1] x, const floating[:, :, ::1] g, const floating[::1] w, object gx,
               object gw, int nthreads):
    """The input gradient into gx (N, C, inner): g where x > 0, else w[c] * g; the weight gradient into gw (C
    doubles): the sum over images and positions of g * x where x <= 0. Either may be None."""
    cdef intp N = x.shape[0], C = x.shape[1], I = x.shape[2], j, c, n
    cdef floating[:, :, ::1] gxv
    cdef double[::1] gwv
    cdef double total
    if N * C * I < BLOCK or nthreads < 1:
        nthreads = 1
    if gx is not None:
        gxv = gx
        for j in prange(N * C, nogil=True, num_threads=nthreads, schedule="static"):
            if floating is float:
                ember_leaky_grad_f(&x[j // C, j % C, 0], &g[j // C, j % C, 0], &gxv[j // C, j % C, 0], I, w[j % C])
            else:
                ember_leaky_grad_d(&x[j // C, j % C, 0], &g[j // C, j % C, 0], &gxv[j // C, j % C, 0], I, w[j % C])
    if gw is not None:
        gwv = gw
        for c in prange(C, nogil=True, num_threads=nthreads if C > 1 else 1, schedule="static"):
            total = 0
            for n in range(N):
                if floating is float:
                    total = total + ember_prelu_wsum_f(&x[n, c, 0], &g[n, c, 0], I)
                else:
                    total = total + ember_prelu_wsum_d(&x[n, c, 0], &g[n, c, 0], I)
            gwv[c] = total
