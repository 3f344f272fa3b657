"""Multithreaded elementwise kernels for large C-contiguous arrays (the pointwise family calls them only
above a size threshold; small arrays go straight to NumPy, whose per-call cost is lower).

Two kinds of kernel:
- ``Loop``: runs one of a ufunc's own inner loops (the SIMD loop NumPy itself dispatches to for that
  dtype) over ``nthreads`` slices of the arrays at once. NumPy's loops are vectorised with the widest
  instruction set of the machine, which a portable build of a plain C loop is not; NumPy runs them on
  one thread only. Floating-point exception flags raised in the loops are never turned into warnings.
- typed kernels for ops that NumPy does in several passes or with other semantics: ``clamp`` (TH's
  one-pass formula, a C loop compiled for several instruction sets), ``round`` (C rounding: halves away
  from zero), ``frac``, ``rsqrt``, ``sigmoid``, ``lgamma`` and ``remainder`` (the sign of the divisor) on
  fused float/double, which work on cache-sized blocks: one of NumPy's SIMD loops (trunc, floor, sqrt, exp
  or log), then a short loop the compiler vectorises; and ``int_div`` (C truncation) on fused integer types.

Every entry point checks dtypes, contiguity and sizes itself, so a wrong call raises instead of reading
out of bounds.
"""
from cython cimport floating
cimport numpy as cnp
import numpy as np
from cython.parallel cimport prange
from libc.string cimport memcpy, memset
from libc.math cimport fmodf


cdef extern from "math.h" nogil:
    # the reentrant form: lgamma writes the global signgam, from every thread at once
    double lgamma_r(double x, int *sign)
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cnp.import_array()

ctypedef cnp.npy_intp intp

include "_numpy_loops.pxi"

cdef enum:
    # Slices start on 64-byte boundaries (whole cache lines per thread) for every itemsize up to 8.
    ALIGN = 64
    # Elements per block of the blockwise kernels: their temporaries stay in the L1/L2 caches.
    BLOCK = 2048
    LGAMMA_BLOCK = 512  # three double buffers


cdef inline intp _slice(intp n, int nthreads, int i, intp *start) noexcept nogil:
    """Start and length of thread ``i``'s share of ``n`` elements."""
    cdef intp per = (n + nthreads - 1) // nthreads
    per = (per + ALIGN - 1) // ALIGN * ALIGN
    cdef intp s = per * i
    if s >= n:
        start[0] = n
        return 0
    start[0] = s
    return per if s + per <= n else n - s


cdef inline int _threads(intp n, int nthreads) noexcept nogil:
    """Threads worth starting for ``n`` elements: at most one per 64-byte line, at least one."""
    cdef intp most = (n + ALIGN - 1) // ALIGN
    if nthreads < 1 or most < 1:
        return 1
    return <int>(most if most < nthreads else nthreads)


cdef int _check(cnp.ndarray a, int typenum, intp n, str what) except -1:
    if not cnp.PyArray_IS_C_CONTIGUOUS(a):
        raise ValueError("elementwise kernel: {} must be C-contiguous".format(what))
    if cnp.PyArray_TYPE(a) != typenum:
        raise TypeError("elementwise kernel: {} has dtype {}, expected {}"
                        .format(what, a.dtype, cnp.PyArray_DescrFromType(typenum)))
    if cnp.PyArray_SIZE(a) != n and cnp.PyArray_SIZE(a) != 1:
        raise ValueError("elementwise kernel: {} has {} elements, expected {}"
                         .format(what, cnp.PyArray_SIZE(a), n))
    return 0


cdef int _check_out(cnp.ndarray out, int typenum, intp n) except -1:
    _check(out, typenum, n, "out")
    if cnp.PyArray_SIZE(out) != n:
        raise ValueError("elementwise kernel: out has {} elements, expected {}".format(cnp.PyArray_SIZE(out), n))
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("elementwise kernel: out is read-only")
    return 0


# ---------------------------------------------------------------------- NumPy's inner loops, in parallel

cdef enum:
    MAXDIMS = 32


ctypedef struct _Rows:
    # work of Loop.broadcast and copy_rows: collapsed dims innermost first, byte strides of the operands
    # (a, b, out; a copy reads a and writes out), base pointers, the loop (NULL: a copy of whole rows)
    int nd
    intp shape[MAXDIMS]
    intp st[3][MAXDIMS]
    char *p[3]
    intp item
    intp chunk
    intp nchunk
    loop_t f
    void *data


cdef int _collapse(_Rows *r, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out) except -1:
    """Fills r's dims from three arrays of one shape (of at most MAXDIMS dims): size-1 dims dropped, dims
    that every operand steps through contiguously merged, at least one dim."""
    cdef int d, j, k
    cdef bint merge
    cdef intp *st[3]
    st[0], st[1], st[2] = cnp.PyArray_STRIDES(a), cnp.PyArray_STRIDES(b), cnp.PyArray_STRIDES(out)
    r.nd = 0
    r.item = cnp.PyArray_ITEMSIZE(out)
    for d in range(cnp.PyArray_NDIM(out) - 1, -1, -1):  # innermost first
        if out.shape[d] == 1:
            continue
        j = r.nd - 1
        merge = j >= 0
        for k in range(3):
            merge = merge and st[k][d] == r.st[k][j] * r.shape[j]
        if merge:
            r.shape[j] *= out.shape[d]
            continue
        r.shape[r.nd] = out.shape[d]
        for k in range(3):
            r.st[k][r.nd] = st[k][d]
        r.nd += 1
    if r.nd == 0:  # one element
        r.nd = 1
        r.shape[0] = 1
        for k in range(3):
            r.st[k][0] = r.item
    r.p[0] = <char *>cnp.PyArray_DATA(a)
    r.p[1] = <char *>cnp.PyArray_DATA(b)
    r.p[2] = <char *>cnp.PyArray_DATA(out)
    return 0


cdef void _run_rows(_Rows *r, intp n, int nthreads) noexcept nogil:
    """Runs every row of r (n elements in all) on up to ``nthreads`` threads: many rows in contiguous ranges,
    one range a work item; few rows split into chunks so that every thread has work."""
    cdef intp total = n // r.shape[0], need, w, items
    cdef int nt = _threads(n, nthreads)
    r.nchunk = 1
    need = 4 * nt
    if total < need:
        r.nchunk = min((need + total - 1) // total, max(1, r.shape[0] // 1024))
    r.chunk = (r.shape[0] + r.nchunk - 1) // r.nchunk
    if r.nchunk == 1:
        items = min(total, <intp>need)
        if nt == 1:
            _rows_range(r, 0, total)
        else:
            for w in prange(items, num_threads=nt, schedule="static"):
                _rows_range(r, w * total // items, (w + 1) * total // items)
        return
    total = total * r.nchunk
    if nt == 1:
        for w in range(total):
            _rows_item(r, w)
    else:
        for w in prange(total, num_threads=nt, schedule="static"):
            _rows_item(r, w)


cdef void _rows_range(_Rows *r, intp row0, intp row1) noexcept nogil:
    """Whole rows row0 .. row1 - 1, the position of each row stepped from the last's (an odometer over
    dims 1..nd-1: short rows would spend more in divisions than in the row itself)."""
    cdef char *args[3]
    cdef char *call[3]
    cdef intp steps[3]
    cdef intp idx[MAXDIMS]
    cdef intp m = r.shape[0], row = row0, i
    cdef int k, d
    for k in range(3):
        args[k] = r.p[k]
        steps[k] = r.st[k][0]
    for d in range(1, r.nd):
        idx[d] = row % r.shape[d]
        row = row // r.shape[d]
        for k in range(3):
            args[k] += idx[d] * r.st[k][d]
    for i in range(row0, row1):
        if r.f == NULL:
            memcpy(args[2], args[0], m * r.item)
        else:
            call[0], call[1], call[2] = args[0], args[1], args[2]
            r.f(call, &m, steps, r.data)
        for d in range(1, r.nd):
            idx[d] += 1
            for k in range(3):
                args[k] += r.st[k][d]
            if idx[d] < r.shape[d]:
                break
            idx[d] = 0
            for k in range(3):
                args[k] -= r.st[k][d] * r.shape[d]


cdef void _rows_item(_Rows *r, intp w) noexcept nogil:
    """Work item ``w``: chunk ``w % nchunk`` of row ``w // nchunk`` (rows in C order over dims 1..nd-1)."""
    cdef char *args[3]
    cdef intp steps[3]
    cdef intp row = w // r.nchunk, j0 = (w % r.nchunk) * r.chunk, m, idx
    cdef int k, d
    m = r.shape[0] - j0
    if m > r.chunk:
        m = r.chunk
    if m <= 0:
        return
    for k in range(3):
        args[k] = r.p[k] + j0 * r.st[k][0]
        steps[k] = r.st[k][0]
    for d in range(1, r.nd):
        idx = row % r.shape[d]
        row = row // r.shape[d]
        for k in range(3):
            args[k] += idx * r.st[k][d]
    if r.f == NULL:
        memcpy(args[2], args[0], m * r.item)
    else:
        r.f(args, &m, steps, r.data)


cdef class Loop:
    """The inner loop of ``ufunc`` whose inputs and output all have ``dtype``."""
    cdef loop_t f
    cdef void *data
    cdef readonly int nin
    cdef readonly int typenum
    cdef readonly object ufunc

    def __init__(self, cnp.ufunc ufunc, dtype):
        if ufunc.nout != 1 or ufunc.nin not in (1, 2):
            raise ValueError("Loop: {} must have one or two inputs and one output".format(ufunc.__name__))
        _numpy_loop(ufunc, dtype, &self.f, &self.data)
        self.nin = ufunc.nin
        self.typenum = np.dtype(dtype).num
        self.ufunc = ufunc

    def unary(self, cnp.ndarray x, cnp.ndarray out, int nthreads):
        """``out = ufunc(x)``."""
        if self.nin != 1:
            raise TypeError("Loop.unary: {} takes two inputs".format(self.ufunc.__name__))
        return self._apply(x, None, out, nthreads)

    def binary(self, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, int nthreads):
        """``out = ufunc(a, b)``; an input with one element is broadcast."""
        if self.nin != 2:
            raise TypeError("Loop.binary: {} takes one input".format(self.ufunc.__name__))
        return self._apply(a, b, out, nthreads)

    cdef object _apply(self, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, int nthreads):
        cdef intp n = cnp.PyArray_SIZE(out)
        cdef char *pa
        cdef char *pb = NULL
        cdef char *po
        cdef intp sa, sb = 0, so, item
        cdef int nt, i
        _check_out(out, self.typenum, n)
        _check(a, self.typenum, n, "input")
        item = cnp.PyArray_ITEMSIZE(out)
        pa = <char *>cnp.PyArray_DATA(a)
        po = <char *>cnp.PyArray_DATA(out)
        sa = item if cnp.PyArray_SIZE(a) == n else 0
        so = item
        if b is not None:
            _check(b, self.typenum, n, "other")
            pb = <char *>cnp.PyArray_DATA(b)
            sb = item if cnp.PyArray_SIZE(b) == n else 0
        nt = _threads(n, nthreads)
        if nt == 1:
            with nogil:
                _run(self.f, self.data, self.nin, pa, pb, po, 0, n, sa, sb, so)
            return out
        for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
            _run_slice(self.f, self.data, self.nin, pa, pb, po, n, nt, i, sa, sb, so)
        return out


    def broadcast(self, cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, int nthreads):
        """``out = ufunc(a, b)`` where ``a`` and ``b`` have ``out``'s shape with any strides (zero along
        broadcast dims: ``np.broadcast_to`` views) and ``out`` is C-contiguous. Dims that are contiguous
        together merge; the rest split into rows of the innermost dim, spread over the threads. Returns
        False, writing nothing, when an input's innermost dim is neither contiguous nor broadcast (NumPy
        orders such loops better)."""
        cdef _Rows rows
        cdef intp n = cnp.PyArray_SIZE(out)
        cdef cnp.ndarray x
        cdef int k
        if self.nin != 2:
            raise TypeError("Loop.broadcast: {} takes one input".format(self.ufunc.__name__))
        _check_out(out, self.typenum, n)
        for x in (a, b):
            if cnp.PyArray_TYPE(x) != self.typenum or (<object>x).shape != (<object>out).shape:
                raise ValueError("Loop.broadcast: inputs must be {} arrays of shape {}, got {} {}"
                                 .format(out.dtype, (<object>out).shape, x.dtype, (<object>x).shape))
        if cnp.PyArray_NDIM(out) > MAXDIMS:
            return False
        if n == 0:
            return True
        _collapse(&rows, a, b, out)
        for k in range(2):
            if rows.st[k][0] != rows.item and rows.st[k][0] != 0:
                return False
        rows.f = self.f
        rows.data = self.data
        with nogil:
            _run_rows(&rows, n, nthreads)
        return True


cdef inline void _run_slice(loop_t f, void *data, int nin, char *pa, char *pb, char *po, intp n, int nt, int i,
                            intp sa, intp sb, intp so) noexcept nogil:
    cdef intp start
    cdef intp m = _slice(n, nt, i, &start)
    if m:
        _run(f, data, nin, pa, pb, po, start, m, sa, sb, so)


cdef inline void _run(loop_t f, void *data, int nin, char *pa, char *pb, char *po, intp start, intp m,
                      intp sa, intp sb, intp so) noexcept nogil:
    cdef char *args[3]
    cdef intp steps[3]
    cdef intp dims[1]
    dims[0] = m
    args[0] = pa + start * sa
    steps[0] = sa
    if nin == 2:
        args[1] = pb + start * sb
        args[2] = po + start * so
        steps[1] = sb
        steps[2] = so
    else:
        args[1] = po + start * so
        steps[1] = so
    f(args, dims, steps, data)


# ---------------------------------------------------------------------- typed kernels

cdef intp _prep(cnp.ndarray x, cnp.ndarray out, bint floating) except -1:
    """Checks shared by the typed kernels; returns the element count."""
    cdef int t = cnp.PyArray_TYPE(out)
    cdef intp n = cnp.PyArray_SIZE(out)
    if floating and t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError("elementwise kernel: expected float32 or float64 arrays, got {}".format(out.dtype))
    _check_out(out, t, n)
    _check(x, t, n, "input")
    if cnp.PyArray_SIZE(x) != n:
        raise ValueError("elementwise kernel: input has {} elements, expected {}".format(cnp.PyArray_SIZE(x), n))
    return n


cdef extern from *:
    """
    /* One pass of TH's clamp, compiled for AVX-512, AVX2 and the baseline; the loader picks the widest
       the machine has (GCC's target_clones, on glibc). On data in cache that is about twice as fast as
       the baseline build. Elsewhere it is a plain loop. */
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    /* No fused multiply-adds: TH rounds every product (x - d * t, x + v * a * b), and a result must not
       depend on which build of the loop the machine picks. No trapping math: the flags these loops raise
       are never read, and GCC vectorizes trunc() only without them. */
    #define EMBER_CLONES __attribute__((target_clones("avx512f", "avx2", "default"), \\
                                        optimize("fp-contract=off", "no-trapping-math")))
    #else
    #define EMBER_CLONES
    #endif
    #define EMBER_CLAMP(NAME, T) \\
        EMBER_CLONES static void NAME(const T *x, T *r, Py_ssize_t n, T lo, T hi) { \\
            for (Py_ssize_t i = 0; i < n; i++) { \\
                T v = x[i]; \\
                r[i] = v < lo ? lo : (v > hi ? hi : v); \\
            } \\
        }
    EMBER_CLAMP(ember_clamp_float, float)
    EMBER_CLAMP(ember_clamp_double, double)

    /* TH's sign of floats, (x > 0) - (x < 0): sign(NaN) is 0. */
    #define EMBER_SIGN(NAME, T) \\
        EMBER_CLONES static void NAME(const T *x, T *r, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) r[i] = (T)(x[i] > 0) - (T)(x[i] < 0); \\
        }
    EMBER_SIGN(ember_sign_float, float)
    EMBER_SIGN(ember_sign_double, double)

    /* The loops around the NumPy loop of the blockwise kernels (see _block), cloned as clamp: a baseline
       build runs their divisions four floats at a time, and sigmoid spent 60% of its time in them. In:
       x (the input), t (the NumPy loop's result, or its input for the "before" ones), d (divisor), m. */
    #define EMBER_BLOCK_LOOPS(S, T) \\
        EMBER_CLONES static void ember_negate_##S(const T *x, T *t, Py_ssize_t m) { \\
            for (Py_ssize_t i = 0; i < m; i++) t[i] = -x[i]; \\
        } \\
        EMBER_CLONES static void ember_sigmoid_end_##S(const T *t, T *r, Py_ssize_t m) { \\
            for (Py_ssize_t i = 0; i < m; i++) r[i] = 1 / (1 + t[i]); \\
        } \\
        EMBER_CLONES static void ember_reciprocal_##S(const T *t, T *r, Py_ssize_t m) { \\
            for (Py_ssize_t i = 0; i < m; i++) r[i] = 1 / t[i]; \\
        } \\
        EMBER_CLONES static void ember_frac_end_##S(const T *x, const T *t, T *r, Py_ssize_t m) { \\
            for (Py_ssize_t i = 0; i < m; i++) r[i] = x[i] - t[i]; \\
        } \\
        /* t: trunc(x); x - t is exact; subtracting a step of 0 keeps the sign of a zero (C rounding) */ \\
        EMBER_CLONES static void ember_round_end_##S(const T *x, const T *t, T *r, Py_ssize_t m) { \\
            for (Py_ssize_t i = 0; i < m; i++) { \\
                T v = x[i] - t[i]; \\
                r[i] = t[i] - ((T)(v <= -0.5) - (T)(v >= 0.5)); \\
            } \\
        } \\
        EMBER_CLONES static void ember_quotient_##S(const T *x, const T *d, int scalar, T *t, Py_ssize_t m) { \\
            if (scalar) for (Py_ssize_t i = 0; i < m; i++) t[i] = x[i] / d[0]; \\
            else for (Py_ssize_t i = 0; i < m; i++) t[i] = x[i] / d[i]; \\
        } \\
        EMBER_CLONES static void ember_remainder_end_##S(const T *x, const T *d, int scalar, const T *t, T *r, \\
                                                        Py_ssize_t m) { \\
            if (scalar) for (Py_ssize_t i = 0; i < m; i++) r[i] = x[i] - d[0] * t[i]; \\
            else for (Py_ssize_t i = 0; i < m; i++) r[i] = x[i] - d[i] * t[i]; \\
        }
    EMBER_BLOCK_LOOPS(f, float)
    EMBER_BLOCK_LOOPS(d, double)

    /* TH's float sigmoid, 1 / (1 + exp(-x)), in one pass with an exp of its own (NumPy's SIMD exp takes a
       pass of its own, and the negation and the division two more): t = -x clamped to [-87, 89] (below,
       exp(t) < 2^-125 vanishes next to 1; above, it overflows to inf as expf's does, and the result is
       0), t = k ln2 + f with |f| <= ln2 / 2 (k rounded by the 1.5 * 2^23 trick; ln2 split Cody-Waite
       style, so k * ln2_hi is exact), e^f by its Taylor series to degree 7 (truncation below 1e-8), times
       2^(k-1) built in the exponent bits, times 2. Within 2 ulp of the correctly rounded sigmoid for
       |x| < 88; NaN passes through. */
    EMBER_CLONES static void ember_sigmoid_f(const float *x, float *r, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) {
            float t = -x[i];
            t = t < -87.0f ? -87.0f : t;
            t = t > 89.0f ? 89.0f : t;
            float k = (t * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
            float f = (t - k * 0.693359375f) - k * -2.12194440e-4f;
            float p = 1.0f / 5040;
            p = p * f + 1.0f / 720;
            p = p * f + 1.0f / 120;
            p = p * f + 1.0f / 24;
            p = p * f + 1.0f / 6;
            p = p * f + 0.5f;
            p = p * f + 1.0f;
            p = p * f + 1.0f;
            int32_t bits = ((int32_t)k + 126) << 23;
            float scale;
            memcpy(&scale, &bits, sizeof scale);
            float s = 1.0f / (1.0f + (p * scale) * 2.0f);
            r[i] = x[i] != x[i] ? x[i] : s;
        }
    }

    /* dst[i * di + j] = src[i + j * sj] for i < ni, j < nj (strides in elements; src runs along i), 16 x 16
       blocks at a time through a small buffer: each block reads 16 whole source lines and writes 16 whole
       destination lines once. (Reusing source lines across a block's rows instead loses them to L1 set
       conflicts when sj is a multiple of 4 KB, as a transposed 1024-wide float matrix's is: 3x slower.) */
    #define EMBER_TILE_COPY(S, T) \\
        EMBER_CLONES static void ember_tile_copy_##S(const T *src, T *dst, Py_ssize_t sj, Py_ssize_t di, \\
                                                     Py_ssize_t ni, Py_ssize_t nj) { \\
            T tmp[16][16]; \\
            for (Py_ssize_t i0 = 0; i0 < ni; i0 += 16) \\
                for (Py_ssize_t j0 = 0; j0 < nj; j0 += 16) { \\
                    Py_ssize_t mi = i0 + 16 < ni ? 16 : ni - i0, mj = j0 + 16 < nj ? 16 : nj - j0; \\
                    for (Py_ssize_t j = 0; j < mj; j++) { \\
                        const T *s = src + i0 + (j0 + j) * sj; \\
                        if (mi == 16) for (int i = 0; i < 16; i++) tmp[j][i] = s[i]; \\
                        else for (Py_ssize_t i = 0; i < mi; i++) tmp[j][i] = s[i]; \\
                    } \\
                    for (Py_ssize_t i = 0; i < mi; i++) { \\
                        T *d = dst + (i0 + i) * di + j0; \\
                        if (mj == 16) for (int j = 0; j < 16; j++) d[j] = tmp[j][i]; \\
                        else for (Py_ssize_t j = 0; j < mj; j++) d[j] = tmp[j][i]; \\
                    } \\
                } \\
        }
    /* a[i] = m[i] ? v : a[i], without a branch (NumPy's masked copy branches on every element: a random
       mask mispredicts half of them, 40x slower). */
    #define EMBER_MASKED_FILL(S, T) \\
        EMBER_CLONES static void ember_masked_fill_##S(T *a, const uint8_t *m, T v, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) a[i] = m[i] ? v : a[i]; \\
        }
    /* TH's addcmul, addcdiv, lerp and add(value, other), left to right as TH wrote them: x + v * a * b,
       x + v * a / b, x + w * (b - x), x + v * b. One pass where NumPy takes two or three, each with a
       temporary. r may be x. */
    #define EMBER_TERNARY(S, T) \\
        EMBER_CLONES static void ember_addcmul_##S(const T *x, const T *a, const T *b, T v, T *r, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] + v * a[i] * b[i]; \\
        } \\
        EMBER_CLONES static void ember_addcdiv_##S(const T *x, const T *a, const T *b, T v, T *r, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] + v * a[i] / b[i]; \\
        } \\
        EMBER_CLONES static void ember_lerp_##S(const T *x, const T *b, T v, T *r, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] + v * (b[i] - x[i]); \\
        } \\
        EMBER_CLONES static void ember_axpy_##S(const T *x, const T *b, T v, T *r, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) r[i] = x[i] + v * b[i]; \\
        }
    EMBER_TERNARY(f, float)
    EMBER_TERNARY(d, double)
    enum { EMBER_ADDCMUL, EMBER_ADDCDIV, EMBER_LERP, EMBER_AXPY };
    #define EMBER_TERNARY_OP(S, T) \\
        static void ember_ternary_##S(int op, const T *x, const T *a, const T *b, T v, T *r, Py_ssize_t n) { \\
            if (op == EMBER_ADDCMUL) ember_addcmul_##S(x, a, b, v, r, n); \\
            else if (op == EMBER_ADDCDIV) ember_addcdiv_##S(x, a, b, v, r, n); \\
            else if (op == EMBER_LERP) ember_lerp_##S(x, b, v, r, n); \\
            else ember_axpy_##S(x, b, v, r, n); \\
        }
    EMBER_TERNARY_OP(f, float)
    EMBER_TERNARY_OP(d, double)

    /* C's fmodf (the sign of the dividend; exact) by way of double. While |x / d| < 2^29 the quotient
       rounded to double truncates to the true one: it is off by at most 2^-25, and a quotient that is not
       an integer is at least 2^-24 from one (x - k d is a multiple of ulp(d) once |x| >= |d|). Then q * d
       is exact (29 + 24 bits), and so is x - q * d (Sterbenz). The sign is x's, a zero's included.
       T = fmod(X, D) (macros: GCC inlines no plain function into the clones, whose options differ). */
    #define EMBER_FMOD_VIA_DOUBLE(T, X, D) do { \\
            double x_ = (X), d_ = (D); \\
            (T) = (float)copysign(x_ - trunc(x_ / d_) * d_, x_); \\
        } while (0)
    EMBER_CLONES static void ember_fmod_fast_f(const float *x, const float *d, int scalar, float *t, Py_ssize_t m) {
        if (scalar) {
            double dd = d[0];
            for (Py_ssize_t i = 0; i < m; i++) EMBER_FMOD_VIA_DOUBLE(t[i], x[i], dd);
        } else {
            for (Py_ssize_t i = 0; i < m; i++) EMBER_FMOD_VIA_DOUBLE(t[i], x[i], d[i]);
        }
    }
    /* Whether the formula holds for x and d: a small enough quotient, d finite and not 0 (NaNs: no). */
    #define EMBER_FMOD_FAST_FOR(X, D) ((fabs((double)(X)) < 0x1p29 * fabs((double)(D))) \\
                                       & (fabs((double)(D)) <= 0x1.fffffffffffffp1023))
    static int ember_fmod_fast_for(double x, double d) { return EMBER_FMOD_FAST_FOR(x, d); }
    EMBER_CLONES static int ember_fmod_all_fast_f(const float *x, const float *d, int scalar, Py_ssize_t m) {
        int fast = 1;
        if (scalar) {
            double dd = d[0];
            for (Py_ssize_t i = 0; i < m; i++) fast &= EMBER_FMOD_FAST_FOR(x[i], dd);
        } else {
            for (Py_ssize_t i = 0; i < m; i++) fast &= EMBER_FMOD_FAST_FOR(x[i], d[i]);
        }
        return fast;
    }
    #define EMBER_FILL(S, T) \\
        EMBER_CLONES static void ember_fill_##S(T *a, T v, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) a[i] = v; \\
        }
    EMBER_FILL(2, uint16_t)
    EMBER_FILL(4, uint32_t)
    EMBER_FILL(8, uint64_t)
    /* C conversions between the common tensor types (what TH's type() did): d[i] = (D)s[i]. The vector
       forms give what the scalar cast gives on this hardware, out-of-range floats included (the
       "integer indefinite" value). */
    #define EMBER_CONVERT(NAME, S, D) \\
        EMBER_CLONES static void NAME(const S *s, D *d, Py_ssize_t n) { \\
            for (Py_ssize_t i = 0; i < n; i++) d[i] = (D)s[i]; \\
        }
    EMBER_CONVERT(ember_convert_f4_f8, float, double)
    EMBER_CONVERT(ember_convert_f8_f4, double, float)
    EMBER_CONVERT(ember_convert_f4_i8, float, int64_t)
    EMBER_CONVERT(ember_convert_f8_i8, double, int64_t)
    EMBER_CONVERT(ember_convert_f4_i4, float, int32_t)
    EMBER_CONVERT(ember_convert_f8_i4, double, int32_t)
    EMBER_CONVERT(ember_convert_i8_f4, int64_t, float)
    EMBER_CONVERT(ember_convert_i8_f8, int64_t, double)
    EMBER_CONVERT(ember_convert_i4_f4, int32_t, float)
    EMBER_CONVERT(ember_convert_i4_f8, int32_t, double)
    EMBER_CONVERT(ember_convert_u1_f4, uint8_t, float)
    EMBER_CONVERT(ember_convert_u1_f8, uint8_t, double)
    EMBER_CONVERT(ember_convert_u1_i8, uint8_t, int64_t)
    EMBER_CONVERT(ember_convert_i4_i8, int32_t, int64_t)
    EMBER_MASKED_FILL(1, uint8_t)
    EMBER_MASKED_FILL(2, uint16_t)
    EMBER_MASKED_FILL(4, uint32_t)
    EMBER_MASKED_FILL(8, uint64_t)
    EMBER_TILE_COPY(1, uint8_t)
    EMBER_TILE_COPY(2, uint16_t)
    EMBER_TILE_COPY(4, uint32_t)
    EMBER_TILE_COPY(8, uint64_t)
    /* lgamma of floats, in double: for x >= 0.5 Stirling's series at w = x + k >= 10 (k shifts, their
       product p), lgamma(x) = S(w) - log(p); below, the reflection lgamma(x) = log(pi / |sin(pi x)|) -
       lgamma(1 - x). Two logs an element (NumPy's SIMD loop on the block, between these two passes):
       ember_lgamma_prep writes w and q (1 / p, or p / |sin(pi x)| reflected), ember_lgamma_end the
       result from log(w) and log(q). Within an ulp of the correctly rounded value (glibc's lgammaf: 4);
       near its zeros (x close to 1, 2, -2.46 ...) the error is ~1e-15 absolute. */
    EMBER_CLONES static void ember_lgamma_prep(const float *x, double *w, double *q, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) {
            double v = x[i], z = v < 0.5 ? 1 - v : v, p = 1;
            for (int k = 0; k < 10; k++) {
                int c = z < 10;
                p *= c ? z : 1;
                z += c ? 1 : 0;
            }
            /* sin(pi r), r = v - round(v) in [-0.5, 0.5]: Taylor terms through r^21 (error < 1e-17) */
            double r = v - floor(v + 0.5), r2 = r * r;
            double s = 5.392664662608129e-10;
            s = s * r2 - 2.2948428997269873e-08;
            s = s * r2 + 7.952054001475513e-07;
            s = s * r2 - 2.1915353447830217e-05;
            s = s * r2 + 0.00046630280576761255;
            s = s * r2 - 0.0073704309457143504;
            s = s * r2 + 0.08214588661112823;
            s = s * r2 - 0.5992645293207921;
            s = s * r2 + 2.5501640398773455;
            s = s * r2 - 5.16771278004997;
            s = s * r2 + 3.141592653589793;
            s *= r;
            w[i] = z;
            q[i] = v < 0.5 ? p / fabs(s) : 1 / p;
        }
    }
    EMBER_CLONES static void ember_lgamma_end(const float *x, const double *w, const double *lw, const double *lq,
                                              float *r, Py_ssize_t n) {
        for (Py_ssize_t i = 0; i < n; i++) {
            double z = w[i], iz = 1 / z, iz2 = iz * iz, v = x[i];
            double series = iz * (1 / 12.0 + iz2 * (-1 / 360.0 + iz2 * (1 / 1260.0 + iz2 * (-1 / 1680.0
                                                                                    + iz2 * (1 / 1188.0)))));
            double S = (z - 0.5) * lw[i] - z + 0.91893853320467274178 + series;  /* + log(2 pi) / 2 */
            double res = v < 0.5 ? 1.14472988584940017414 + lq[i] - S : S + lq[i];  /* log(pi) */
            res = v == 1 || v == 2 ? 0 : res;
            r[i] = (float)(v == INFINITY || v == -INFINITY ? INFINITY : res);
        }
    }
    """
    void ember_lgamma_prep(const float *x, double *w, double *q, intp n) noexcept nogil
    void ember_lgamma_end(const float *x, const double *w, const double *lw, const double *lq, float *r,
                          intp n) noexcept nogil
    void ember_clamp_float(const float *x, float *r, intp n, float lo, float hi) noexcept nogil
    void ember_clamp_double(const double *x, double *r, intp n, double lo, double hi) noexcept nogil
    void ember_masked_fill_1(uint8_t *a, const uint8_t *m, uint8_t v, intp n) noexcept nogil
    void ember_fill_2(uint16_t *a, uint16_t v, intp n) noexcept nogil
    void ember_convert_f4_f8(const float *s, double *d, intp n) noexcept nogil
    void ember_convert_f8_f4(const double *s, float *d, intp n) noexcept nogil
    void ember_convert_f4_i8(const float *s, int64_t *d, intp n) noexcept nogil
    void ember_convert_f8_i8(const double *s, int64_t *d, intp n) noexcept nogil
    void ember_convert_f4_i4(const float *s, int32_t *d, intp n) noexcept nogil
    void ember_convert_f8_i4(const double *s, int32_t *d, intp n) noexcept nogil
    void ember_convert_i8_f4(const int64_t *s, float *d, intp n) noexcept nogil
    void ember_convert_i8_f8(const int64_t *s, double *d, intp n) noexcept nogil
    void ember_convert_i4_f4(const int32_t *s, float *d, intp n) noexcept nogil
    void ember_convert_i4_f8(const int32_t *s, double *d, intp n) noexcept nogil
    void ember_convert_u1_f4(const uint8_t *s, float *d, intp n) noexcept nogil
    void ember_convert_u1_f8(const uint8_t *s, double *d, intp n) noexcept nogil
    void ember_convert_u1_i8(const uint8_t *s, int64_t *d, intp n) noexcept nogil
    void ember_convert_i4_i8(const int32_t *s, int64_t *d, intp n) noexcept nogil
    void ember_fill_4(uint32_t *a, uint32_t v, intp n) noexcept nogil
    void ember_fill_8(uint64_t *a, uint64_t v, intp n) noexcept nogil
    void ember_masked_fill_2(uint16_t *a, const uint8_t *m, uint16_t v, intp n) noexcept nogil
    void ember_masked_fill_4(uint32_t *a, const uint8_t *m, uint32_t v, intp n) noexcept nogil
    void ember_masked_fill_8(uint64_t *a, const uint8_t *m, uint64_t v, intp n) noexcept nogil
    void ember_tile_copy_1(const uint8_t *src, uint8_t *dst, intp sj, intp di, intp ni, intp nj) noexcept nogil
    void ember_tile_copy_2(const uint16_t *src, uint16_t *dst, intp sj, intp di, intp ni, intp nj) noexcept nogil
    void ember_tile_copy_4(const uint32_t *src, uint32_t *dst, intp sj, intp di, intp ni, intp nj) noexcept nogil
    void ember_tile_copy_8(const uint64_t *src, uint64_t *dst, intp sj, intp di, intp ni, intp nj) noexcept nogil
    void ember_sign_float(const float *x, float *r, intp n) noexcept nogil
    void ember_sign_double(const double *x, double *r, intp n) noexcept nogil
    enum:
        EMBER_ADDCMUL, EMBER_ADDCDIV, EMBER_LERP, EMBER_AXPY
    void ember_ternary_f(int op, const float *x, const float *a, const float *b, float v, float *r,
                         intp n) noexcept nogil
    void ember_ternary_d(int op, const double *x, const double *a, const double *b, double v, double *r,
                         intp n) noexcept nogil
    void ember_fmod_fast_f(const float *x, const float *d, int scalar, float *t, intp m) noexcept nogil
    int ember_fmod_all_fast_f(const float *x, const float *d, int scalar, intp m) noexcept nogil
    int ember_fmod_fast_for(double x, double d) noexcept nogil
    void ember_negate_f(const float *x, float *t, intp m) noexcept nogil
    void ember_negate_d(const double *x, double *t, intp m) noexcept nogil
    void ember_sigmoid_end_f(const float *t, float *r, intp m) noexcept nogil
    void ember_sigmoid_f(const float *x, float *r, intp n) noexcept nogil
    void ember_sigmoid_end_d(const double *t, double *r, intp m) noexcept nogil
    void ember_reciprocal_f(const float *t, float *r, intp m) noexcept nogil
    void ember_reciprocal_d(const double *t, double *r, intp m) noexcept nogil
    void ember_frac_end_f(const float *x, const float *t, float *r, intp m) noexcept nogil
    void ember_frac_end_d(const double *x, const double *t, double *r, intp m) noexcept nogil
    void ember_round_end_f(const float *x, const float *t, float *r, intp m) noexcept nogil
    void ember_round_end_d(const double *x, const double *t, double *r, intp m) noexcept nogil
    void ember_quotient_f(const float *x, const float *d, int scalar, float *t, intp m) noexcept nogil
    void ember_quotient_d(const double *x, const double *d, int scalar, double *t, intp m) noexcept nogil
    void ember_remainder_end_f(const float *x, const float *d, int scalar, const float *t, float *r,
                               intp m) noexcept nogil
    void ember_remainder_end_d(const double *x, const double *d, int scalar, const double *t, double *r,
                               intp m) noexcept nogil


def clamp(cnp.ndarray x, cnp.ndarray out, double lo, double hi, int nthreads):
    """TH's clamp: ``x < lo ? lo : (x > hi ? hi : x)``. NaN passes through; a missing bound is -inf or
    inf, and a NaN bound, never true in a comparison, does nothing, as in TH."""
    cdef intp n = _prep(x, out, True)
    cdef int nt = _threads(n, nthreads)
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *po = cnp.PyArray_DATA(out)
    cdef float lo_f = <float>lo, hi_f = <float>hi
    cdef bint single = cnp.PyArray_TYPE(out) == cnp.NPY_FLOAT32
    cdef intp start, m
    cdef int i
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        if single:
            ember_clamp_float(<float *>px + start, <float *>po + start, m, lo_f, hi_f)
        else:
            ember_clamp_double(<double *>px + start, <double *>po + start, m, lo, hi)
    return out


def sign(cnp.ndarray x, cnp.ndarray out, int nthreads):
    """TH's sign of floats, ``(x > 0) - (x < 0)`` (0 for NaN), in one pass (NumPy takes three)."""
    cdef intp n = _prep(x, out, True)
    cdef int nt = _threads(n, nthreads)
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *po = cnp.PyArray_DATA(out)
    cdef bint single = cnp.PyArray_TYPE(out) == cnp.NPY_FLOAT32
    cdef intp start, m
    cdef int i
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        if single:
            ember_sign_float(<float *>px + start, <float *>po + start, m)
        else:
            ember_sign_double(<double *>px + start, <double *>po + start, m)
    return out


def addcmul(cnp.ndarray x, cnp.ndarray a, cnp.ndarray b, double value, cnp.ndarray out, int nthreads):
    """TH's ``x + value * a * b``."""
    return _ternary(EMBER_ADDCMUL, x, a, b, value, out, nthreads)


def addcdiv(cnp.ndarray x, cnp.ndarray a, cnp.ndarray b, double value, cnp.ndarray out, int nthreads):
    """TH's ``x + value * a / b``."""
    return _ternary(EMBER_ADDCDIV, x, a, b, value, out, nthreads)


def lerp(cnp.ndarray x, cnp.ndarray end, double weight, cnp.ndarray out, int nthreads):
    """TH's ``x + weight * (end - x)``."""
    return _ternary(EMBER_LERP, x, end, end, weight, out, nthreads)


def axpy(cnp.ndarray x, cnp.ndarray b, double value, cnp.ndarray out, int nthreads):
    """TH's ``x + value * b`` (add and sub with a value)."""
    return _ternary(EMBER_AXPY, x, b, b, value, out, nthreads)


cdef object _ternary(int op, cnp.ndarray x, cnp.ndarray a, cnp.ndarray b, double value, cnp.ndarray out,
                     int nthreads):
    """One pass of EMBER_ADDCMUL, ADDCDIV, LERP or AXPY (the last two read ``b`` only) over C-contiguous
    float/double arrays of one size; ``out`` may be ``x``."""
    cdef intp n = _prep(x, out, True), start, m
    cdef int nt = _threads(n, nthreads), i
    cdef int t = cnp.PyArray_TYPE(out)
    for operand, name in ((a, "tensor1"), (b, "tensor2")):
        _check(operand, t, n, name)
        if cnp.PyArray_SIZE(operand) != n:
            raise ValueError("elementwise kernel: {} has {} elements, expected {}"
                             .format(name, cnp.PyArray_SIZE(operand), n))
    cdef char *px = <char *>cnp.PyArray_DATA(x)
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    cdef char *po = <char *>cnp.PyArray_DATA(out)
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        if t == cnp.NPY_FLOAT32:
            ember_ternary_f(op, <float *>px + start, <float *>pa + start, <float *>pb + start, <float>value,
                            <float *>po + start, m)
        else:
            ember_ternary_d(op, <double *>px + start, <double *>pa + start, <double *>pb + start, value,
                            <double *>po + start, m)
    return out


# Blockwise kernels: each thread takes blocks of BLOCK elements, runs one of NumPy's SIMD loops (trunc,
# floor, sqrt, exp) from the block into a buffer on its stack (so that in-place calls work) and finishes
# with a plain loop the compiler vectorises. Everything stays in the L1/L2 caches.
cdef enum:
    ROUND, FRAC, RSQRT, SIGMOID, REMAINDER

_HELPERS = {  # the NumPy loop each blockwise op starts from, by dtype
    op: {cnp.NPY_FLOAT32: Loop(ufunc, np.float32), cnp.NPY_FLOAT64: Loop(ufunc, np.float64)}
    for op, ufunc in ((ROUND, np.trunc), (FRAC, np.trunc), (RSQRT, np.sqrt), (SIGMOID, np.exp),
                      (REMAINDER, np.floor))
}


def round_(cnp.ndarray x, cnp.ndarray out, int nthreads):
    """C's round(): halves away from zero (NumPy's rint rounds them to even); keeps the sign of zero."""
    return _blocked(ROUND, x, None, out, nthreads)


def frac(cnp.ndarray x, cnp.ndarray out, int nthreads):
    """``x - trunc(x)``."""
    return _blocked(FRAC, x, None, out, nthreads)


def rsqrt(cnp.ndarray x, cnp.ndarray out, int nthreads):
    """``1 / sqrt(x)``."""
    return _blocked(RSQRT, x, None, out, nthreads)


def sigmoid(cnp.ndarray x, cnp.ndarray out, int nthreads):
    """``1 / (1 + exp(-x))``: floats in one pass (ember_sigmoid_f), doubles blockwise with NumPy's exp."""
    cdef intp n, start, m
    cdef int nt, i
    cdef float *px
    cdef float *po
    if cnp.PyArray_TYPE(out) != cnp.NPY_FLOAT32:
        return _blocked(SIGMOID, x, None, out, nthreads)
    n = _prep(x, out, True)
    nt = _threads(n, nthreads)
    px = <float *>cnp.PyArray_DATA(x)
    po = <float *>cnp.PyArray_DATA(out)
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        ember_sigmoid_f(px + start, po + start, m)
    return out


cdef loop_t _log_d
cdef void *_log_d_data
_numpy_loop(np.log, np.float64, &_log_d, &_log_d_data)


def lgamma(cnp.ndarray x, cnp.ndarray out, int nthreads):
    """TH's lgamma: of floats through a formula in double (ember_lgamma_prep / _end, NumPy's SIMD log
    between them), of doubles C's ``lgamma``; ``out`` may be ``x``."""
    cdef intp n = _prep(x, out, True), nblocks = (n + LGAMMA_BLOCK - 1) // LGAMMA_BLOCK, b, start, m
    cdef int nt = _threads(n, nthreads), i
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *po = cnp.PyArray_DATA(out)
    if cnp.PyArray_TYPE(out) == cnp.NPY_FLOAT32:
        if nblocks < nt:
            nt = <int>nblocks
        if nt <= 1:  # no parallel region for a small tensor (libgomp's barriers make system calls)
            for b in range(nblocks):
                _lgamma_block(<float *>px, <float *>po, b * LGAMMA_BLOCK, n)
        else:
            for b in prange(nblocks, nogil=True, num_threads=nt, schedule="static"):
                _lgamma_block(<float *>px, <float *>po, b * LGAMMA_BLOCK, n)
        return out
    if nt == 1:
        _lgamma_d(<double *>px, <double *>po, n)
        return out
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        _lgamma_d(<double *>px + start, <double *>po + start, m)
    return out


cdef void _lgamma_block(const float *x, float *r, intp start, intp n) noexcept nogil:
    cdef double w[LGAMMA_BLOCK]
    cdef double lw[LGAMMA_BLOCK]
    cdef double q[LGAMMA_BLOCK]
    cdef intp m = LGAMMA_BLOCK if start + LGAMMA_BLOCK <= n else n - start
    ember_lgamma_prep(x + start, w, q, m)
    _run(_log_d, _log_d_data, 1, <char *>w, NULL, <char *>lw, 0, m, sizeof(double), 0, sizeof(double))
    _run(_log_d, _log_d_data, 1, <char *>q, NULL, <char *>q, 0, m, sizeof(double), 0, sizeof(double))
    ember_lgamma_end(x + start, w, lw, q, r + start, m)


cdef void _lgamma_d(const double *x, double *r, intp n) noexcept nogil:
    cdef int sign
    cdef intp i
    for i in range(n):
        r[i] = lgamma_r(x[i], &sign)


def remainder(cnp.ndarray x, cnp.ndarray d, cnp.ndarray out, int nthreads):
    """TH's floating remainder, the sign of the divisor: ``x - d * floor(x / d)`` (NaN where d is 0);
    ``d`` has one element or as many as ``x``."""
    return _blocked(REMAINDER, x, d, out, nthreads)


def fmod(cnp.ndarray x, cnp.ndarray d, cnp.ndarray out, int nthreads):
    """C's ``fmodf`` of float32 arrays (exact; the sign of the dividend); ``d`` has one element or as many
    as ``x``. Blocks go through a formula in double (see ember_fmod_via_double), and through fmodf where
    it does not hold; ``out`` may be ``x``."""
    cdef intp n = _prep(x, out, True)
    cdef intp nblocks = (n + BLOCK - 1) // BLOCK, blk
    cdef int nt = _threads(n, nthreads)
    if cnp.PyArray_TYPE(out) != cnp.NPY_FLOAT32:
        raise TypeError("elementwise kernel: fmod takes float32 arrays, got {}".format(out.dtype))
    _check(d, cnp.NPY_FLOAT32, n, "divisor")
    cdef float *px = <float *>cnp.PyArray_DATA(x)
    cdef float *pd = <float *>cnp.PyArray_DATA(d)
    cdef float *po = <float *>cnp.PyArray_DATA(out)
    cdef bint scalar = cnp.PyArray_SIZE(d) == 1 and n != 1
    if nblocks < nt:
        nt = <int>nblocks
    for blk in prange(nblocks, nogil=True, num_threads=nt, schedule="static"):
        _fmod_block(px, pd, scalar, po, blk * BLOCK, n)
    return out


cdef void _fmod_block(float *x, float *d, bint scalar, float *r, intp start, intp n) noexcept nogil:
    cdef float tmp[BLOCK]
    cdef intp m = BLOCK if start + BLOCK <= n else n - start, i
    cdef float *xs = x + start
    cdef float *ds = d if scalar else d + start
    cdef float dv
    ember_fmod_fast_f(xs, ds, scalar, tmp, m)
    if not ember_fmod_all_fast_f(xs, ds, scalar, m):
        for i in range(m):
            dv = ds[0] if scalar else ds[i]
            if not ember_fmod_fast_for(xs[i], dv):
                tmp[i] = fmodf(xs[i], dv)
    memcpy(r + start, tmp, m * sizeof(float))


cdef object _blocked(int op, cnp.ndarray x, cnp.ndarray d, cnp.ndarray out, int nthreads):
    """``d``: the divisor of REMAINDER."""
    cdef intp n = _prep(x, out, True)
    cdef int t = cnp.PyArray_TYPE(out)
    cdef Loop helper = _HELPERS[op][t]
    cdef loop_t f = helper.f
    cdef void *data = helper.data
    cdef void *px = cnp.PyArray_DATA(x)
    cdef void *po = cnp.PyArray_DATA(out)
    cdef void *pd = NULL
    cdef bint scalar = False
    cdef intp nblocks = (n + BLOCK - 1) // BLOCK, blk
    cdef int nt = _threads(n, nthreads)
    if d is not None:
        _check(d, t, n, "divisor")
        pd = cnp.PyArray_DATA(d)
        scalar = cnp.PyArray_SIZE(d) == 1 and n != 1
    if nblocks < nt:
        nt = <int>nblocks
    if t == cnp.NPY_FLOAT32:
        for blk in prange(nblocks, nogil=True, num_threads=nt, schedule="static"):
            _block[float](op, f, data, <float *>px, <float *>pd, <float *>po, blk * BLOCK, n, scalar)
    else:
        for blk in prange(nblocks, nogil=True, num_threads=nt, schedule="static"):
            _block[double](op, f, data, <double *>px, <double *>pd, <double *>po, blk * BLOCK, n, scalar)
    return out


cdef void _block(int op, loop_t f, void *data, floating *x, floating *d, floating *r, intp start, intp n,
                 bint scalar) noexcept nogil:
    cdef floating tmp[BLOCK]
    cdef intp m = BLOCK if start + BLOCK <= n else n - start
    cdef intp size = sizeof(floating)
    cdef floating *xs = x + start
    cdef floating *rs = r + start
    cdef floating *ds = d if scalar else d + start
    if op == SIGMOID:
        if floating is float:
            ember_negate_f(xs, tmp, m)
        else:
            ember_negate_d(xs, tmp, m)
        _run(f, data, 1, <char *>tmp, NULL, <char *>tmp, 0, m, size, 0, size)
        if floating is float:
            ember_sigmoid_end_f(tmp, rs, m)
        else:
            ember_sigmoid_end_d(tmp, rs, m)
    elif op == REMAINDER:
        if floating is float:
            ember_quotient_f(xs, ds, scalar, tmp, m)
        else:
            ember_quotient_d(xs, ds, scalar, tmp, m)
        _run(f, data, 1, <char *>tmp, NULL, <char *>tmp, 0, m, size, 0, size)
        if floating is float:
            ember_remainder_end_f(xs, ds, scalar, tmp, rs, m)
        else:
            ember_remainder_end_d(xs, ds, scalar, tmp, rs, m)
    else:
        _run(f, data, 1, <char *>xs, NULL, <char *>tmp, 0, m, size, 0, size)
        if op == ROUND:
            if floating is float:
                ember_round_end_f(xs, tmp, rs, m)
            else:
                ember_round_end_d(xs, tmp, rs, m)
        elif op == FRAC:
            if floating is float:
                ember_frac_end_f(xs, tmp, rs, m)
            else:
                ember_frac_end_d(xs, tmp, rs, m)
        elif floating is float:  # RSQRT
            ember_reciprocal_f(tmp, rs, m)
        else:
            ember_reciprocal_d(tmp, rs, m)


ctypedef fused cint:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t


def int_div(cnp.ndarray x, cnp.ndarray d, cnp.ndarray out, int nthreads):
    """C integer division (truncation toward zero) of same-typed integer arrays; ``d`` has one element
    or as many as ``x``. Returns False, writing nothing, when a divisor is zero."""
    cdef intp n = _prep(x, out, False)
    cdef int nt = _threads(n, nthreads)
    cdef int t = cnp.PyArray_TYPE(out)
    _check(d, t, n, "divisor")
    if t == cnp.NPY_INT64:
        return _int_div[int64_t](x, d, out, nt)
    if t == cnp.NPY_INT32:
        return _int_div[int32_t](x, d, out, nt)
    if t == cnp.NPY_INT16:
        return _int_div[int16_t](x, d, out, nt)
    if t == cnp.NPY_INT8:
        return _int_div[int8_t](x, d, out, nt)
    if t == cnp.NPY_UINT8:
        return _int_div[uint8_t](x, d, out, nt)
    raise TypeError("int_div: expected an int8, int16, int32, int64 or uint8 array, got {}".format(out.dtype))


cdef bint _int_div(const cint[::1] x, const cint[::1] d, cint[::1] r, int nt) noexcept nogil:
    cdef intp i, n = x.shape[0], m = d.shape[0], zeros = 0
    cdef cint b
    for i in prange(m, num_threads=nt, schedule="static"):
        if d[i] == 0:
            zeros += 1
    if zeros:
        return False
    if m == 1 and n != 1:
        b = d[0]
        if b == -1:
            _negate(x, r, nt)
        else:
            for i in prange(n, num_threads=nt, schedule="static"):
                r[i] = x[i] / b
        return True
    for i in prange(n, num_threads=nt, schedule="static"):
        b = d[i]
        # x / -1 traps on the most negative value; negation wraps instead (-fwrapv), as TH's result did
        r[i] = -x[i] if b == -1 else x[i] / b
    return True


cdef void _negate(const cint[::1] x, cint[::1] r, int nt) noexcept nogil:
    cdef intp i
    for i in prange(x.shape[0], num_threads=nt, schedule="static"):
        r[i] = -x[i]


# ---------------------------------------------------------------------- strided copies

cdef enum:
    TILE = 32  # row blocks of transpose_copy's work items are multiples of this


def transpose_copy(cnp.ndarray src, cnp.ndarray out, int nthreads):
    """out (C-contiguous, src's shape and dtype) = src, for a src whose elements lie along another axis than
    the last (a transposed or permuted view): NumPy's copy walks src across cache lines, this one in
    16 x 16 blocks between src's unit-stride axis and the last (ember_tile_copy). Returns False, copying
    nothing, when src is not such a view (the caller then copies otherwise)."""
    cdef int nd = cnp.PyArray_NDIM(src), ax, a = -1, b
    cdef intp item = cnp.PyArray_ITEMSIZE(src), count = 1, w, o, rem, k
    cdef intp shape[32]
    cdef intp sst[32]
    cdef intp dst_[32]
    cdef char* ps = <char*>cnp.PyArray_DATA(src)
    cdef char* po = <char*>cnp.PyArray_DATA(out)
    cdef char* s0
    cdef char* d0
    cdef intp nrows, rows_per, r0
    if (nd < 2 or nd > 32 or cnp.PyArray_TYPE(out) != cnp.PyArray_TYPE(src) or not cnp.PyArray_IS_C_CONTIGUOUS(out)
            or cnp.PyArray_SIZE(out) != cnp.PyArray_SIZE(src) or item not in (1, 2, 4, 8)):
        return False
    for ax in range(nd):
        if cnp.PyArray_DIM(out, ax) != cnp.PyArray_DIM(src, ax):
            return False
        shape[ax] = cnp.PyArray_DIM(src, ax)
        sst[ax] = cnp.PyArray_STRIDE(src, ax)
        if sst[ax] < 0 or sst[ax] % item:
            return False
        sst[ax] //= item
        if sst[ax] == 1 and shape[ax] > 1:
            a = ax
    b = nd - 1
    # a short unit-stride axis pays off only when NumPy's walk along the last axis would take a cache line
    # per element (its small-stride loops beat short tiles)
    if a < 0 or a == b or shape[b] < 2 or shape[a] < 2 or (shape[a] < 8 and sst[b] * item < 64):
        return False
    dst_[nd - 1] = 1
    for ax in range(nd - 2, -1, -1):
        dst_[ax] = dst_[ax + 1] * shape[ax + 1]
    for ax in range(nd):
        if ax != a and ax != b:
            count *= shape[ax]
    # work items: the other axes' positions, times row blocks of axis a when they are too few to share out
    rows_per = shape[a]
    if count < 4 * nthreads:
        rows_per = max(TILE, (shape[a] * count + 4 * nthreads - 1) // (4 * nthreads) // TILE * TILE)
    nrows = (shape[a] + rows_per - 1) // rows_per
    if count * shape[a] * shape[b] < 65536:
        nthreads = 1
    for w in prange(count * nrows, nogil=True, num_threads=nthreads, schedule="static"):
        o = w // nrows
        r0 = (w % nrows) * rows_per
        s0 = ps
        d0 = po
        rem = o
        for ax in range(nd - 1, -1, -1):
            if ax != a and ax != b:
                k = rem % shape[ax]
                rem = rem // shape[ax]
                s0 = s0 + k * sst[ax] * item
                d0 = d0 + k * dst_[ax] * item
        s0 = s0 + r0 * sst[a] * item
        d0 = d0 + r0 * dst_[a] * item
        k = min(rows_per, shape[a] - r0)
        if item == 1:
            ember_tile_copy_1(<uint8_t*>s0, <uint8_t*>d0, sst[b], dst_[a], k, shape[b])
        elif item == 2:
            ember_tile_copy_2(<uint16_t*>s0, <uint16_t*>d0, sst[b], dst_[a], k, shape[b])
        elif item == 4:
            ember_tile_copy_4(<uint32_t*>s0, <uint32_t*>d0, sst[b], dst_[a], k, shape[b])
        else:
            ember_tile_copy_8(<uint64_t*>s0, <uint64_t*>d0, sst[b], dst_[a], k, shape[b])
    return True


def copy_rows(cnp.ndarray src, cnp.ndarray dst, int nthreads):
    """dst[...] = src (one shape, one dtype, any strides) on every thread, where both step through their
    innermost dim contiguously once contiguous dims merge: whole rows are memcpy'd (a narrowed, chunked
    or concatenated layout). Returns False, copying nothing, otherwise, or when they overlap."""
    cdef _Rows rows
    cdef intp n = cnp.PyArray_SIZE(dst)
    if (cnp.PyArray_TYPE(src) != cnp.PyArray_TYPE(dst) or (<object>src).shape != (<object>dst).shape
            or cnp.PyArray_NDIM(dst) > MAXDIMS or not cnp.PyArray_ISWRITEABLE(dst)
            or np.may_share_memory(src, dst)):
        return False
    if n == 0:
        return True
    _collapse(&rows, src, src, dst)
    if rows.st[0][0] != rows.item or rows.st[2][0] != rows.item:
        return False
    rows.f = NULL
    with nogil:
        _run_rows(&rows, n, nthreads)
    return True


def fill(cnp.ndarray a, cnp.ndarray value, int nthreads):
    """Every element of the C-contiguous ``a`` = value[0] (of a's dtype), on every thread. Returns False,
    writing nothing, for other arrays."""
    cdef intp n = cnp.PyArray_SIZE(a), item = cnp.PyArray_ITEMSIZE(a), start, m
    cdef int nt = _threads(n, nthreads), i
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pv = <char*>cnp.PyArray_DATA(value)
    cdef bint zero = True
    if (not cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_ISWRITEABLE(a) or cnp.PyArray_SIZE(value) != 1
            or cnp.PyArray_TYPE(value) != cnp.PyArray_TYPE(a) or item not in (1, 2, 4, 8)):
        return False
    for i in range(item):
        zero = zero and pv[i] == 0
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        if zero:
            memset(pa + start * item, 0, m * item)
        else:
            _fill_slice(pa + start * item, pv, item, m)
    return True


cdef void _fill_slice(char *p, const char *v, intp item, intp m) noexcept nogil:
    cdef uint16_t v2
    cdef uint32_t v4
    cdef uint64_t v8
    if item == 1:
        memset(p, v[0], m)
    elif item == 2:
        memcpy(&v2, v, 2)
        ember_fill_2(<uint16_t*>p, v2, m)
    elif item == 4:
        memcpy(&v4, v, 4)
        ember_fill_4(<uint32_t*>p, v4, m)
    else:
        memcpy(&v8, v, 8)
        ember_fill_8(<uint64_t*>p, v8, m)


ctypedef void (*convert_t)(const void *, void *, intp) noexcept nogil

# (source dtype char, destination dtype char) -> conversion loop
cdef dict _CONVERSIONS = {
    ("f", "d"): <intp>&ember_convert_f4_f8, ("d", "f"): <intp>&ember_convert_f8_f4,
    ("f", "l"): <intp>&ember_convert_f4_i8, ("d", "l"): <intp>&ember_convert_f8_i8,
    ("f", "i"): <intp>&ember_convert_f4_i4, ("d", "i"): <intp>&ember_convert_f8_i4,
    ("l", "f"): <intp>&ember_convert_i8_f4, ("l", "d"): <intp>&ember_convert_i8_f8,
    ("i", "f"): <intp>&ember_convert_i4_f4, ("i", "d"): <intp>&ember_convert_i4_f8,
    ("B", "f"): <intp>&ember_convert_u1_f4, ("B", "d"): <intp>&ember_convert_u1_f8,
    ("B", "l"): <intp>&ember_convert_u1_i8, ("i", "l"): <intp>&ember_convert_i4_i8,
}


def convert(cnp.ndarray src, cnp.ndarray dst, int nthreads):
    """dst = src converted as a C cast, for C-contiguous arrays of one size and a pair of types in
    _CONVERSIONS (float/double/int64/int32/uint8), on every thread. Returns False, writing nothing,
    otherwise."""
    cdef intp n = cnp.PyArray_SIZE(src), start, m
    cdef int nt = _threads(n, nthreads), i
    cdef intp si = cnp.PyArray_ITEMSIZE(src), di = cnp.PyArray_ITEMSIZE(dst)
    cdef char *ps = <char *>cnp.PyArray_DATA(src)
    cdef char *pd = <char *>cnp.PyArray_DATA(dst)
    f = _CONVERSIONS.get((src.dtype.char, dst.dtype.char))
    if (f is None or cnp.PyArray_SIZE(dst) != n or not cnp.PyArray_IS_C_CONTIGUOUS(src)
            or not cnp.PyArray_IS_C_CONTIGUOUS(dst) or not cnp.PyArray_ISWRITEABLE(dst)
            or not src.dtype.isnative or not dst.dtype.isnative):
        return False
    cdef convert_t fn = <convert_t><intp>f
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        fn(ps + start * si, pd + start * di, m)
    return True


def masked_fill(cnp.ndarray a, cnp.ndarray mask, cnp.ndarray value, int nthreads):
    """a[mask] = value[0] in place, for a C-contiguous ``a`` and a C-contiguous 0/1 byte (or bool) mask of
    as many elements; ``value`` has a's dtype. Returns False, writing nothing, otherwise."""
    cdef intp n = cnp.PyArray_SIZE(a), item = cnp.PyArray_ITEMSIZE(a), start, m
    cdef int nt = _threads(n, nthreads), i
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef const uint8_t* pm = <const uint8_t*>cnp.PyArray_DATA(mask)
    cdef uint8_t v1
    cdef uint16_t v2
    cdef uint32_t v4
    cdef uint64_t v8
    cdef void* pv = cnp.PyArray_DATA(value)
    if (not cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_IS_C_CONTIGUOUS(mask) or cnp.PyArray_SIZE(mask) != n
            or cnp.PyArray_ITEMSIZE(mask) != 1 or cnp.PyArray_TYPE(value) != cnp.PyArray_TYPE(a)
            or cnp.PyArray_SIZE(value) != 1 or item not in (1, 2, 4, 8) or not cnp.PyArray_ISWRITEABLE(a)):
        return False
    # the value's bytes, as a word of its size
    if item == 1:
        memcpy(&v1, pv, 1)
    elif item == 2:
        memcpy(&v2, pv, 2)
    elif item == 4:
        memcpy(&v4, pv, 4)
    else:
        memcpy(&v8, pv, 8)
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        m = _slice(n, nt, i, &start)
        if item == 1:
            ember_masked_fill_1(<uint8_t*>pa + start, pm + start, v1, m)
        elif item == 2:
            ember_masked_fill_2(<uint16_t*>pa + start, pm + start, v2, m)
        elif item == 4:
            ember_masked_fill_4(<uint32_t*>pa + start, pm + start, v4, m)
        else:
            ember_masked_fill_8(<uint64_t*>pa + start, pm + start, v8, m)
    return True
