"""Convolution kernels: im2col / col2im feeding BLAS gemm, for 1-D, 2-D and 3-D convolutions.

Every convolution runs as a 3-D one (1-D and 2-D get leading spatial sizes of 1). Per image and group:
    forward          y_g  = W_g @ col(x)_g                     (col: C*K x L, K = kernel volume, L = output volume)
    backward input   col  = W_g^T @ gy_g, then col2im -> gx
    backward weight  gW_g += gy_g @ col(x)_g^T
A transposed convolution is the same three products with the roles of forward and backward-input
swapped (ember/kernels/conv.py does that), so nothing here knows about transposition.
Groups that read one input channel each (depthwise convolutions) with few outputs per group skip
im2col and gemm for direct loops over the planes (conv_depthwise.h; _depthwise_forward/_backward).

Threads: BLAS stays single-threaded for the whole call and all parallel work is OpenMP's (two
thread pools handing work back and forth wait on each other, badly so on a busy machine). The forward
splits into tiles (rows of one image's output, or several small images; see _tiling), each thread
running im2col and gemm on its own column buffer. The backward splits images over threads; weight
gradients go to per-thread partial buffers summed at the end. Work left over when there is too little
to share (images when the batch does not divide by the thread count) runs one image at a time with
im2col/col2im split over channels and each gemm split over its output columns.
1x1 convolutions with stride 1 and no padding use the input itself as the column matrix.

The forward tiles' float gemms run on ember's own kernel (sgemm.h) where the CPU has AVX2 or AVX-512;
every other gemm is scipy's BLAS (scipy.linalg.cython_blas). Both are called without the GIL. Buffers
come from the caller (ember/kernels/conv.py caches them), so a call allocates nothing large.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.limits cimport INT_MAX
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from posix.dlfcn cimport RTLD_LAZY, dlopen, dlsym
from scipy.linalg.cython_blas cimport dgemm, sgemm

ctypedef Py_ssize_t intp

cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define EMBER_CONV_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define EMBER_CONV_CLONES
    #endif
    /* The sum of n values, in double: each block of 256 is summed in 16 independent lanes of T (a
       loop the compiler vectorises without reassociating anything), each block's total in double. */
    #define EMBER_CONV_SUM(NAME, T) \
    EMBER_CONV_CLONES static double NAME(const T *x, Py_ssize_t n) { \
        double total = 0; \
        T lane[16]; \
        Py_ssize_t j = 0, k, l, len; \
        for (; j + 16 <= n; j += len) { \
            len = n - j < 256 ? (n - j) & ~(Py_ssize_t)15 : 256; \
            for (l = 0; l < 16; l++) lane[l] = x[j + l]; \
            for (k = 16; k < len; k += 16) \
                for (l = 0; l < 16; l++) lane[l] += x[j + k + l]; \
            for (l = 0; l < 16; l++) total += lane[l]; \
        } \
        for (; j < n; j++) total += x[j]; \
        return total; \
    }
    EMBER_CONV_SUM(ember_conv_sum_f, float)
    EMBER_CONV_SUM(ember_conv_sum_d, double)
    /* im2col's row pieces: on late layers (7-14 wide) a memcpy or memset call costs more than its copy,
       so short ones are plain loops. */
    #define EMBER_CONV_ROW_OPS(SUFFIX, T) \
    static inline void ember_conv_copy_##SUFFIX(T *d, const T *s, Py_ssize_t n) { \
        Py_ssize_t i; \
        if (n > 32) { memcpy(d, s, n * sizeof(T)); return; } \
        for (i = 0; i < n; i++) d[i] = s[i]; \
    } \
    static inline void ember_conv_zero_##SUFFIX(T *d, Py_ssize_t n) { \
        Py_ssize_t i; \
        if (n > 32) { memset(d, 0, n * sizeof(T)); return; } \
        for (i = 0; i < n; i++) d[i] = 0; \
    }
    EMBER_CONV_ROW_OPS(f, float)
    EMBER_CONV_ROW_OPS(d, double)
    /* A strided row piece (d[j] = s[j * stride]); stride 2, the common one, with a constant stride that
       the compiler turns into vector loads and shuffles instead of one load a value. */
    #define EMBER_CONV_STRIDED(SUFFIX, T) \
    EMBER_CONV_CLONES static void ember_conv_strided_##SUFFIX(T *d, const T *s, Py_ssize_t n, \
                                                              Py_ssize_t stride) { \
        Py_ssize_t j; \
        if (stride == 2) { \
            for (j = 0; j < n; j++) d[j] = s[2 * j]; \
        } else { \
            for (j = 0; j < n; j++) d[j] = s[j * stride]; \
        } \
    }
    EMBER_CONV_STRIDED(f, float)
    EMBER_CONV_STRIDED(d, double)
    """
    double ember_conv_sum_f(const float* x, intp n) noexcept nogil
    double ember_conv_sum_d(const double* x, intp n) noexcept nogil
    void ember_conv_copy_f(float* d, const float* s, intp n) noexcept nogil
    void ember_conv_copy_d(double* d, const double* s, intp n) noexcept nogil
    void ember_conv_zero_f(float* d, intp n) noexcept nogil
    void ember_conv_zero_d(double* d, intp n) noexcept nogil
    void ember_conv_strided_f(float* d, const float* s, intp n, intp stride) noexcept nogil
    void ember_conv_strided_d(double* d, const double* s, intp n, intp stride) noexcept nogil


# forward tiles: about this much column buffer each (a quarter of a core's L2 here), and at least this many
# columns for the gemm (fewer lose speed: see _tiling)
cdef enum:
    _TILE_BYTES = 256 * 1024
    _MIN_TILE_COLS = 384
    # stride-1 convolutions read the padded input when the rows lose little to their padding columns
    # (2/58 at 56 wide; 2/30 at 28), and the last panel may read a vector past the end: slack for it
    _PADDED_MIN_WIDTH = 24
    _PADDED_SLACK = 64
    _PADDED_CHUNK = 4    # images a thread, padded at a time
    # ember's gemm on products this deep or deeper (C/groups * kernel volume); shallower ones (first
    # layers: 25 for MNIST's 5x5 on one channel, 27 for 3x3 on RGB) run 1.5-3.5x faster on BLAS
    _SGEMM_MIN_DEPTH = 64
    # groups of one input channel take the direct loops (conv_depthwise.h) on rows at least this wide
    # (narrower ones lose to their per-row costs), in the forward up to this many output channels a group
    # (more share each input row among enough outputs for im2col + gemm to win); the backward, which
    # revisits an input plane once per output channel, only with one output channel a group and stride 1
    _DEPTHWISE_MIN_WIDTH = 32
    _DEPTHWISE_FORWARD_MAX = 4


cdef extern from "sgemm.h":
    enum: EMBER_SGEMM_WORK
    int ember_sgemm_level() noexcept nogil
    void ember_sgemm(int level, long m, long n, long k, const float* a, long lda, const float** brows,
                     const float* b, long ldb, int add, float* c, long ldc, float* work) noexcept nogil

cdef extern from "conv_depthwise.h":
    ctypedef struct DwGeo "ember_dw_geo":
        intp i[3]
        intp o[3]
        intp k[3]
        intp s[3]
        intp p[3]
        intp d[3]
    void ember_dw_forward_f(const float* x, const float* w, float bias, float* y, const DwGeo* g) noexcept nogil
    void ember_dw_forward_d(const double* x, const double* w, double bias, double* y, const DwGeo* g) noexcept nogil
    void ember_dw_backward_weight_f(const float* gy, const float* x, double* gw, const DwGeo* g) noexcept nogil
    void ember_dw_backward_weight_d(const double* gy, const double* x, double* gw, const DwGeo* g) noexcept nogil

# ember's own float gemm kernel for forward tiles (sgemm.h): 2 AVX-512, 1 AVX2, 0 BLAS
cdef int _best_sgemm = ember_sgemm_level()
cdef int _sgemm = _best_sgemm


def use_sgemm(int level):
    """Run forward tiles' float gemms on kernel ``level`` (2 AVX-512, 1 AVX2, 0 BLAS), at most the best
    this CPU has; returns the level now in use. For tests and benchmarks."""
    global _sgemm
    _sgemm = max(0, min(level, _best_sgemm))
    return _sgemm


def sgemm_levels():
    """The kernel levels this CPU runs (0 always: BLAS)."""
    return list(range(_best_sgemm + 1))


cdef struct Geom:
    intp N, C, O, G        # images, input channels, output channels, groups
    intp i[3]              # input spatial size (depth, height, width)
    intp o[3]              # output spatial size
    intp k[3]              # kernel size
    intp s[3]              # stride
    intp p[3]              # padding
    intp d[3]              # dilation
    intp ivol, ovol, kvol  # input plane, output plane and kernel volumes
    intp cols              # column-buffer elements per image (0 when direct or depthwise)
    bint direct            # the input is its own column matrix
    bint depthwise         # each group reads one input channel: direct loops (conv_depthwise.h)


cdef Geom _geom(tuple t, bint backward) except *:
    cdef Geom g
    cdef int j
    g.N = t[0]
    g.C = t[1]
    g.O = t[2]
    g.G = t[3]
    g.ivol = g.ovol = g.kvol = 1
    g.direct = True
    for j in range(3):
        g.i[j] = t[4 + j]
        g.o[j] = t[7 + j]
        g.k[j] = t[10 + j]
        g.s[j] = t[13 + j]
        g.p[j] = t[16 + j]
        g.d[j] = t[19 + j]
        g.ivol *= g.i[j]
        g.ovol *= g.o[j]
        g.kvol *= g.k[j]
        if g.k[j] != 1 or g.s[j] != 1 or g.p[j] != 0 or g.i[j] != g.o[j]:
            g.direct = False
    if backward:
        g.depthwise = g.C == g.G == g.O and g.s[0] == 1 and g.s[1] == 1 and g.s[2] == 1
    else:
        g.depthwise = g.C == g.G and g.O // g.G <= _DEPTHWISE_FORWARD_MAX
    g.depthwise = g.depthwise and g.o[2] >= _DEPTHWISE_MIN_WIDTH
    g.cols = 0 if g.direct or g.depthwise else g.C * g.kvol * g.ovol
    # BLAS takes int sizes
    if g.ovol > INT_MAX or g.ivol > INT_MAX or g.C * g.kvol > INT_MAX or g.O > INT_MAX:
        raise ValueError("convolution too large for BLAS: {} x {} column matrix".format(g.C * g.kvol, g.ovol))
    return g


def column_size(tuple geom):
    """Elements of one image's column buffer (0 for a 1x1 convolution that needs none)."""
    return _geom(geom, True).cols


# ---------------------------------------------------------------------------------------- BLAS threads
include "_blas_threads.pxi"
import scipy.linalg.cython_blas
# scipy's BLAS, which this module's gemms call
cdef BlasThreads _blas = _blas_thread_controls(scipy.linalg.cython_blas.__file__)
has_blas_thread_control = _blas.set != NULL


def blas_threads():
    """The BLAS thread count scipy's gemm uses now (-1 when unknown)."""
    return _blas.get() if _blas.get != NULL else -1


# ---------------------------------------------------------------------------------------- gemm
cdef inline void _gemm(char ta, char tb, int m, int n, int k, const floating* a, int lda,
                       const floating* b, int ldb, floating beta, floating* c, int ldc) noexcept nogil:
    # row-major c = op(a) @ op(b) + beta * c is the column-major c^T = op(b)^T @ op(a)^T
    cdef floating one = 1
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &one, <float*>b, &ldb, <float*>a, &lda, &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &one, <double*>b, &ldb, <double*>a, &lda, &beta, c, &ldc)


cdef void _gemm_split(char ta, char tb, int m, int n, int k, const floating* a, int lda,
                      const floating* b, int ldb, floating beta, floating* c, int ldc, int nthreads) noexcept nogil:
    """_gemm with the n output columns split over threads (in multiples of 16 columns)."""
    cdef int chunk, nchunks, t, j0
    if nthreads <= 1 or n < 32:
        _gemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc)
        return
    chunk = ((n + nthreads - 1) // nthreads + 15) // 16 * 16
    nchunks = (n + chunk - 1) // chunk
    for t in prange(nchunks, num_threads=nthreads, schedule="static"):
        j0 = t * chunk
        _gemm(ta, tb, m, min(chunk, n - j0), k, a, lda, (b + j0) if tb == c'N' else (b + j0 * ldb), ldb,
              beta, c + j0, ldc)


# ---------------------------------------------------------------------------------------- im2col / col2im
cdef inline void _wrange(intp off, intp s, intp iw, intp ow, intp* lo, intp* hi) noexcept nogil:
    # the output columns x with 0 <= x*s + off < iw
    cdef intp a = 0, b = 0
    if off < 0:
        a = (-off + s - 1) // s
    if iw - off > 0:
        b = (iw - off - 1) // s + 1
    if a > ow:
        a = ow
    if b > ow:
        b = ow
    if b < a:
        b = a
    lo[0] = a
    hi[0] = b


cdef inline void _copy(floating* d, const floating* s, intp n) noexcept nogil:
    if floating is float:
        ember_conv_copy_f(d, s, n)
    else:
        ember_conv_copy_d(d, s, n)


cdef inline void _zero(floating* d, intp n) noexcept nogil:
    if floating is float:
        ember_conv_zero_f(d, n)
    else:
        ember_conv_zero_d(d, n)


cdef void _im2col_channel(const floating* xc, floating* row, intp ld, intp r0, intp r1,
                          const Geom* g) noexcept nogil:
    """Output rows r0..r1 (of the depth*height grid, OW columns each) of the K column rows of one input
    channel's plane ``xc``; kernel offset j's row starts at ``row + j * ld``."""
    cdef intp kd, kh, kw, od, oh, z, y, lo, hi, off, r
    cdef intp IH = g.i[1], IW = g.i[2], OH = g.o[1], OW = g.o[2], sw = g.s[2]
    cdef const floating* src
    cdef floating* dst
    for kd in range(g.k[0]):
        for kh in range(g.k[1]):
            for kw in range(g.k[2]):
                off = kw * g.d[2] - g.p[2]
                _wrange(off, sw, IW, OW, &lo, &hi)
                dst = row
                row += ld
                for r in range(r0, r1):
                    od = r // OH
                    oh = r - od * OH
                    z = od * g.s[0] - g.p[0] + kd * g.d[0]
                    y = oh * g.s[1] - g.p[1] + kh * g.d[1]
                    if z < 0 or z >= g.i[0] or y < 0 or y >= IH or lo == hi:
                        _zero(dst, OW)
                    else:
                        src = xc + (z * IH + y) * IW + off
                        if lo > 0:
                            _zero(dst, lo)
                        if sw == 1:
                            _copy(dst + lo, src + lo, hi - lo)
                        elif floating is float:
                            ember_conv_strided_f(dst + lo, src + lo * sw, hi - lo, sw)
                        else:
                            ember_conv_strided_d(dst + lo, src + lo * sw, hi - lo, sw)
                        if hi < OW:
                            _zero(dst + hi, OW - hi)
                    dst += OW


cdef void _col2im_channel(const floating* row, floating* xc, const Geom* g) noexcept nogil:
    """Add the K rows of one channel back into its plane ``xc`` (the transpose of _im2col_channel)."""
    cdef intp kd, kh, kw, od, oh, ow, z, y, lo, hi, off
    cdef intp IH = g.i[1], IW = g.i[2], OW = g.o[2], sw = g.s[2]
    cdef floating* dst
    for kd in range(g.k[0]):
        for kh in range(g.k[1]):
            for kw in range(g.k[2]):
                off = kw * g.d[2] - g.p[2]
                _wrange(off, sw, IW, OW, &lo, &hi)
                for od in range(g.o[0]):
                    z = od * g.s[0] - g.p[0] + kd * g.d[0]
                    for oh in range(g.o[1]):
                        y = oh * g.s[1] - g.p[1] + kh * g.d[1]
                        if 0 <= z < g.i[0] and 0 <= y < IH:
                            dst = xc + (z * IH + y) * IW + off
                            if sw == 1:
                                for ow in range(lo, hi):
                                    dst[ow] += row[ow]
                            else:
                                for ow in range(lo, hi):
                                    dst[ow * sw] += row[ow]
                        row += OW


cdef void _im2col(const floating* x, floating* col, const Geom* g, int nthreads) noexcept nogil:
    cdef intp c
    if nthreads > 1 and g.C > 1:
        for c in prange(g.C, num_threads=nthreads, schedule="static"):
            _im2col_channel(x + c * g.ivol, col + c * g.kvol * g.ovol, g.ovol, 0, g.o[0] * g.o[1], g)
    else:
        for c in range(g.C):
            _im2col_channel(x + c * g.ivol, col + c * g.kvol * g.ovol, g.ovol, 0, g.o[0] * g.o[1], g)


cdef void _col2im(const floating* col, floating* x, const Geom* g, int nthreads) noexcept nogil:
    cdef intp c
    if nthreads > 1 and g.C > 1:
        for c in prange(g.C, num_threads=nthreads, schedule="static"):
            memset(x + c * g.ivol, 0, g.ivol * sizeof(floating))
            _col2im_channel(col + c * g.kvol * g.ovol, x + c * g.ivol, g)
    else:
        memset(x, 0, g.C * g.ivol * sizeof(floating))
        for c in range(g.C):
            _col2im_channel(col + c * g.kvol * g.ovol, x + c * g.ivol, g)


cdef inline void _fill_channels(floating* t, const floating* bias, intp C, intp P, intp ld) noexcept nogil:
    """Row c of t (P values, rows ld apart) filled with bias[c]: a gemm then adds onto it."""
    cdef intp c, j
    cdef floating b
    for c in range(C):
        b = bias[c]
        for j in range(P):
            t[c * ld + j] = b


cdef inline void _add_channel_bias(floating* t, const floating* bias, intp C, intp P) noexcept nogil:
    cdef intp c, j
    cdef floating b
    for c in range(C):
        b = bias[c]
        for j in range(P):
            t[c * P + j] += b


# ---------------------------------------------------------------------------------------- per image
cdef void _forward_image(const floating* x, const floating* w, const floating* bias, floating* y,
                         floating* col, const Geom* g, int nthreads) noexcept nogil:
    cdef intp grp
    cdef intp og = g.O // g.G, cgk = (g.C // g.G) * g.kvol
    cdef const floating* src = x
    cdef floating beta = 0
    if not g.direct:
        _im2col(x, col, g, nthreads)
        src = col
    if bias != NULL:
        # gemm adds onto the bias (with beta 0 it would clear the output first: a pass either way)
        _fill_channels(y, bias, g.O, g.ovol, g.ovol)
        beta = 1
    for grp in range(g.G):
        _gemm_split(c'N', c'N', og, g.ovol, cgk, w + grp * og * cgk, cgk, src + grp * cgk * g.ovol, g.ovol,
                    beta, y + grp * og * g.ovol, g.ovol, nthreads)


cdef inline double _sum(const floating* x, intp n) noexcept nogil:
    if floating is float:
        return ember_conv_sum_f(x, n)
    else:
        return ember_conv_sum_d(x, n)


cdef void _backward_image(const floating* gy, const floating* x, const floating* w, floating* gx,
                          floating* gw, double* gb, const floating* gx_bias, floating* col, const Geom* g,
                          int nthreads) noexcept nogil:
    """Weight gradient of one image added into ``gw``, bias gradient into ``gb``, input gradient
    written to ``gx`` (each skipped when NULL)."""
    cdef intp grp, o
    cdef intp og = g.O // g.G, cgk = (g.C // g.G) * g.kvol
    cdef const floating* src = x
    if gb != NULL:
        for o in range(g.O):
            gb[o] += _sum(gy + o * g.ovol, g.ovol)
    if gw != NULL:
        if not g.direct:
            _im2col(x, col, g, nthreads)
            src = col
        for grp in range(g.G):
            _gemm_split(c'N', c'T', og, cgk, g.ovol, gy + grp * og * g.ovol, g.ovol, src + grp * cgk * g.ovol,
                        g.ovol, 1, gw + grp * og * cgk, cgk, nthreads)
    if gx != NULL:
        # the column matrix is free again: the input gradient reuses it
        for grp in range(g.G):
            _gemm_split(c'T', c'N', cgk, g.ovol, og, w + grp * og * cgk, cgk, gy + grp * og * g.ovol, g.ovol,
                        0, (gx if g.direct else col) + grp * cgk * g.ovol, g.ovol, nthreads)
        if not g.direct:
            _col2im(col, gx, g, nthreads)
        if gx_bias != NULL:
            _add_channel_bias(gx, gx_bias, g.C, g.ivol)


# ---------------------------------------------------------------------------------------- forward tiles
cdef struct Tiling:
    intp images      # whole images per tile (1 when a tile is part of one image)
    intp rows        # output rows (of the depth*height grid) per tile
    intp per_image   # tiles per image (1 when a tile holds whole images)
    intp count       # tiles in the call (0: run image by image instead)
    intp scratch     # elements of one thread's workspace: the tile's column buffer, plus an output
                     # block when a tile spans several images
    bint own         # float gemms on ember's kernel (sgemm.h), else BLAS
    bint padded      # stride 1 on the float kernel: the gemm reads the zero-padded input (_forward_padded)
    intp Dp, Hp, Wp  # its volume's depth, height and width
    intp chunk       # images padded at a time (the padded copy is workspace, cached between calls)
    intp shared      # elements of workspace before the threads' own: the padded images


cdef Tiling _tiling(const Geom* g, int nthreads, intp elsize) noexcept nogil:
    """How the forward splits into tiles of about ``_TILE_BYTES`` of column buffer each.

    A whole image's column matrix (C*K x L) outgrows the core's cache on the early layers (7 MB for
    ResNet's 64-channel 56x56 ones), so im2col would write it to memory and gemm read it back: a tile
    of output rows keeps it in cache. Late layers have few output positions per image (49 at 7x7), too
    few columns for an efficient gemm (OpenBLAS's sgemm runs at 80% of its best speed there), so their
    tiles take several images, one gemm for all, and copy the result out per image."""
    cdef Tiling t
    cdef intp R = g.o[0] * g.o[1], OW = g.o[2], K = g.C * g.kvol
    cdef intp want = _TILE_BYTES // (K * elsize), per_thread, splits, cols
    t.images = t.rows = t.per_image = t.count = t.Dp = t.Hp = t.Wp = t.chunk = t.shared = 0
    t.padded = False
    t.own = elsize == 4 and _sgemm and (g.C // g.G) * g.kvol >= _SGEMM_MIN_DEPTH
    t.scratch = g.cols
    if g.direct or g.depthwise:
        return t
    if want < _MIN_TILE_COLS:
        want = _MIN_TILE_COLS
    if g.ovol >= _MIN_TILE_COLS:
        t.images = 1
        t.rows = max(1, want // OW)
        t.per_image = (R + t.rows - 1) // t.rows
        t.rows = (R + t.per_image - 1) // t.per_image    # even tiles
        t.count = g.N * t.per_image
        t.scratch = K * t.rows * OW + EMBER_SGEMM_WORK
    else:
        # each thread's share of images in as few tiles as keep near ``want`` columns, so that the
        # tile count shares out evenly
        per_thread = (g.N + nthreads - 1) // nthreads
        splits = max(1, per_thread * g.ovol // want)
        t.images = (per_thread + splits - 1) // splits
        t.rows = R
        t.per_image = 1
        t.count = (g.N + t.images - 1) // t.images
        cols = t.images * g.ovol
        t.scratch = K * cols + (g.O * cols if t.images > 1 else 0) + EMBER_SGEMM_WORK
    if t.count < nthreads:
        # too few tiles to share out: image by image, each gemm split over threads
        t.count = 0
        t.scratch = g.cols
    elif (t.own and t.images == 1 and g.s[0] == 1 and g.s[1] == 1 and g.s[2] == 1
          and OW >= _PADDED_MIN_WIDTH):
        t.padded = True
        t.Dp = g.i[0] + 2 * g.p[0]
        t.Hp = g.i[1] + 2 * g.p[1]
        t.Wp = g.i[2] + 2 * g.p[2]
        # rows of the padded grid (depth * Hp), up to the last output row: in 3-D a tile may cross depths,
        # computing the Hp - OH rows between them too (and dropping them)
        R = (g.o[0] - 1) * t.Hp + g.o[1]
        t.per_image = (R + t.rows - 1) // t.rows
        t.rows = (R + t.per_image - 1) // t.per_image
        t.count = g.N * t.per_image
        t.chunk = min(g.N, _PADDED_CHUNK * nthreads)
        t.shared = _even(t.chunk * g.C * t.Dp * t.Hp * t.Wp + _PADDED_SLACK)
        # the row-pointer table (two floats a pointer), the output rows at the padded width, the gemm's own
        t.scratch = _even(2 * K + g.O * t.rows * t.Wp + EMBER_SGEMM_WORK)
    return t


cdef inline intp _even(intp n) noexcept nogil:
    # workspace offsets stay 8-byte aligned (a thread's scratch starts with its row-pointer table)
    return n + (n & 1)


def forward_workspace(tuple geom, int nthreads, int elsize):
    """Elements of workspace ``forward`` needs with ``nthreads`` threads and ``elsize``-byte elements."""
    cdef Geom g = _geom(geom, False)
    cdef Tiling t = _tiling(&g, nthreads, elsize)
    return t.shared + t.scratch * (nthreads if t.count else 1)


cdef void _pad_plane(const float* x, float* xp, const Geom* g, const Tiling* t) noexcept nogil:
    """One input channel's volume into its zero-padded copy (Dp x Hp x Wp)."""
    cdef intp z, h, W = g.i[2], front = g.p[0], top = g.p[1], pw = g.p[2]
    cdef float* row
    for z in range(t.Dp):
        if z < front or z >= front + g.i[0]:
            memset(xp + z * t.Hp * t.Wp, 0, t.Hp * t.Wp * sizeof(float))
            continue
        for h in range(t.Hp):
            row = xp + (z * t.Hp + h) * t.Wp
            if h < top or h >= top + g.i[1]:
                memset(row, 0, t.Wp * sizeof(float))
            else:
                memset(row, 0, pw * sizeof(float))
                memcpy(row + pw, x + ((z - front) * g.i[1] + h - top) * W, W * sizeof(float))
                memset(row + pw + W, 0, pw * sizeof(float))


cdef void _forward_padded(const float* xpad, const float* w, const float* bias, float* y, float* ws,
                          const Geom* g, const Tiling* t, intp n0, intp tile) noexcept nogil:
    """A tile of output rows of a stride-1 convolution without im2col. On the padded input, the input
    values that kernel tap (c, kh, kw) meets along a row of outputs are consecutive, and across rows they
    continue after Wp - OW values that belong to no output: so the tile's gemm reads each tap's "column
    row" straight from the padded input (a table of row pointers), computing the rows at the padded
    width, and the copy-out keeps the OW real columns of each. In 3-D the rows are those of the padded grid
    (depth * Hp), the ones between two depths computed and dropped alike. ``xpad`` holds the padded
    images from ``n0`` on; ``tile`` counts from there."""
    cdef intp m = tile // t.per_image, n = n0 + m, r0 = (tile % t.per_image) * t.rows
    cdef intp r1 = min(r0 + t.rows, (g.o[0] - 1) * t.Hp + g.o[1]), cols = (r1 - r0 - 1) * t.Wp + g.o[2]
    cdef intp OW = g.o[2], K = g.C * g.kvol
    cdef intp og = g.O // g.G, cgk = (g.C // g.G) * g.kvol, grp, c, kd, kh, kw, q = 0, o, r, od, oh
    cdef const float** rows = <const float**>ws
    cdef float* out = ws + 2 * K
    cdef const float* plane
    for c in range(g.C):
        plane = xpad + ((m * g.C + c) * t.Dp * t.Hp + r0) * t.Wp
        for kd in range(g.k[0]):
            for kh in range(g.k[1]):
                for kw in range(g.k[2]):
                    rows[q] = plane + (kd * g.d[0] * t.Hp + kh * g.d[1]) * t.Wp + kw * g.d[2]
                    q += 1
    if bias != NULL:
        _fill_channels(out, bias, g.O, cols, cols)
    for grp in range(g.G):
        ember_sgemm(_sgemm, og, cols, cgk, w + grp * og * cgk, cgk, rows + grp * cgk, NULL, 0, bias != NULL,
                    out + grp * og * cols, cols, ws + t.scratch - EMBER_SGEMM_WORK)
    for o in range(g.O):
        for r in range(r0, r1):
            od = r // t.Hp
            oh = r - od * t.Hp
            if oh < g.o[1]:
                memcpy(y + (n * g.O + o) * g.ovol + (od * g.o[1] + oh) * OW, out + o * cols + (r - r0) * t.Wp,
                       OW * sizeof(float))


cdef void _forward_tile(const floating* x, const floating* w, const floating* bias, floating* y,
                        floating* ws, const Geom* g, const Tiling* t, intp tile) noexcept nogil:
    cdef intp n0 = (tile // t.per_image) * t.images, r0 = (tile % t.per_image) * t.rows
    cdef intp nb = min(t.images, g.N - n0), r1 = min(r0 + t.rows, g.o[0] * g.o[1])
    cdef intp cols = nb * (r1 - r0) * g.o[2], span = (r1 - r0) * g.o[2], grp, c, b, o
    cdef intp og = g.O // g.G, cgk = (g.C // g.G) * g.kvol, ldc
    cdef floating* out
    cdef floating beta = 0
    for b in range(nb):
        for c in range(g.C):
            _im2col_channel(x + ((n0 + b) * g.C + c) * g.ivol, ws + c * g.kvol * cols + b * span, cols, r0,
                            r1, g)
    if nb == 1:
        out = y + n0 * g.O * g.ovol + r0 * g.o[2]
        ldc = g.ovol
    else:
        out = ws + g.C * g.kvol * cols
        ldc = cols
    if bias != NULL:
        _fill_channels(out, bias, g.O, cols, ldc)
        beta = 1
    for grp in range(g.G):
        if floating is float and t.own:
            ember_sgemm(_sgemm, og, cols, cgk, w + grp * og * cgk, cgk, NULL, ws + grp * cgk * cols, cols,
                        beta != 0, out + grp * og * ldc, ldc, ws + t.scratch - EMBER_SGEMM_WORK)
        else:
            _gemm(c'N', c'N', og, cols, cgk, w + grp * og * cgk, cgk, ws + grp * cgk * cols, cols, beta,
                  out + grp * og * ldc, ldc)
    if nb > 1:
        for b in range(nb):
            for o in range(g.O):
                memcpy(y + ((n0 + b) * g.O + o) * g.ovol, out + o * ldc + b * g.ovol,
                       g.ovol * sizeof(floating))


# ---------------------------------------------------------------------------------------- depthwise
cdef DwGeo _dw_geo(const Geom* g) noexcept nogil:
    cdef DwGeo q
    cdef int j
    for j in range(3):
        q.i[j] = g.i[j]
        q.o[j] = g.o[j]
        q.k[j] = g.k[j]
        q.s[j] = g.s[j]
        q.p[j] = g.p[j]
        q.d[j] = g.d[j]
    return q


cdef inline void _dw_forward(const floating* x, const floating* w, floating bias, floating* y,
                             const DwGeo* q) noexcept nogil:
    if floating is float:
        ember_dw_forward_f(x, w, bias, y, q)
    else:
        ember_dw_forward_d(x, w, bias, y, q)


cdef void _depthwise_forward(const floating* x, const floating* w, const floating* bias, floating* y,
                             const Geom* g, int nthreads) noexcept nogil:
    """Each output plane (image n, channel o) from input channel o // (O / G) of image n."""
    cdef DwGeo q = _dw_geo(g)
    cdef intp j, o, m = g.O // g.G
    for j in prange(g.N * g.O, num_threads=nthreads, schedule="static"):
        o = j % g.O
        _dw_forward(x + ((j // g.O) * g.C + o // m) * g.ivol, w + o * g.kvol, bias[o] if bias != NULL else 0,
                    y + j * g.ovol, &q)


cdef int _depthwise_backward(const floating* gy, const floating* x, const floating* w, floating* gx,
                             floating* gw, floating* gb, const floating* gx_bias, const Geom* g,
                             int nthreads) except -1 nogil:
    """The gradients of a stride-1 convolution with one output channel a group and one input channel
    each (plane c of the output belongs to plane c of the input): the input's plane by plane, the weight's
    and the bias's channel by channel (every image, summed in double)."""
    cdef DwGeo q = _dw_geo(g), qt
    cdef intp j, c, n, t
    cdef floating* wf
    cdef double* acc
    cdef double total
    if gx != NULL:
        # a forward convolution of the output's gradient with the kernels flipped, padded by
        # dilation * (kernel - 1) - padding
        wf = <floating*>malloc(g.O * g.kvol * sizeof(floating))
        if wf == NULL:
            with gil:
                raise MemoryError()
        for j in range(g.O * g.kvol):
            wf[j] = w[(j // g.kvol) * g.kvol + g.kvol - 1 - j % g.kvol]
        qt = _dw_geo(g)
        for t in range(3):
            qt.i[t], qt.o[t] = g.o[t], g.i[t]
            qt.p[t] = g.d[t] * (g.k[t] - 1) - g.p[t]
        for j in prange(g.N * g.C, num_threads=nthreads, schedule="static"):
            c = j % g.C
            _dw_forward(gy + j * g.ovol, wf + c * g.kvol, gx_bias[c] if gx_bias != NULL else 0, gx + j * g.ivol,
                        &qt)
        free(wf)
    if gw != NULL:
        acc = <double*>calloc(g.O * g.kvol, sizeof(double))
        if acc == NULL:
            with gil:
                raise MemoryError()
        for c in prange(g.O, num_threads=nthreads, schedule="static"):
            for n in range(g.N):
                if floating is float:
                    ember_dw_backward_weight_f(gy + (n * g.O + c) * g.ovol, x + (n * g.C + c) * g.ivol,
                                               acc + c * g.kvol, &q)
                else:
                    ember_dw_backward_weight_d(gy + (n * g.O + c) * g.ovol, x + (n * g.C + c) * g.ivol,
                                               acc + c * g.kvol, &q)
        for j in range(g.O * g.kvol):
            gw[j] = <floating>acc[j]
        free(acc)
    if gb != NULL:
        for c in prange(g.O, num_threads=nthreads, schedule="static"):
            total = 0
            for n in range(g.N):
                total = total + _sum(gy + (n * g.O + c) * g.ovol, g.ovol)
            gb[c] = <floating>total
    return 0


# ---------------------------------------------------------------------------------------- entry points
def forward(floating[::1] x, floating[::1] w, object bias, floating[::1] y, floating[::1] ws,
            tuple geom, int nthreads):
    """y = conv(x, w) + bias; ws holds ``forward_workspace(geom, nthreads)`` elements."""
    cdef Geom g = _geom(geom, False)
    cdef Tiling t = _tiling(&g, nthreads, sizeof(floating))
    cdef floating[::1] bv
    cdef const floating* bp = NULL
    cdef intp n, npar, n0, nimg
    cdef int saved
    if bias is not None:
        bv = bias
        bp = &bv[0]
    if g.depthwise:
        _depthwise_forward(&x[0], &w[0], bp, &y[0], &g, nthreads)
        return
    saved = _blas_single(&_blas)
    if t.padded:
        if floating is float:
            for n0 in range(0, g.N, t.chunk):
                nimg = min(t.chunk, g.N - n0)
                for n in prange(nimg * g.C, nogil=True, num_threads=nthreads, schedule="static"):
                    _pad_plane(&x[0] + (n0 * g.C + n) * g.ivol, &ws[0] + n * t.Dp * t.Hp * t.Wp, &g, &t)
                memset(&ws[0] + nimg * g.C * t.Dp * t.Hp * t.Wp, 0, _PADDED_SLACK * sizeof(float))
                for n in prange(nimg * t.per_image, nogil=True, num_threads=nthreads, schedule="dynamic"):
                    _forward_padded(&ws[0], &w[0], bp, &y[0], &ws[0] + t.shared + threadid() * t.scratch, &g, &t,
                                    n0, n)
    elif t.count:
        # dynamic: on a busy machine the thread that gets the CPU takes more tiles
        for n in prange(t.count, nogil=True, num_threads=nthreads, schedule="dynamic"):
            _forward_tile(&x[0], &w[0], bp, &y[0], &ws[0] + threadid() * t.scratch, &g, &t, n)
    else:
        # direct (1x1) convolutions take whole images; too few tiles run image by image on all threads
        npar = (g.N // nthreads) * nthreads if g.direct and nthreads > 1 else 0
        for n in prange(npar, nogil=True, num_threads=nthreads, schedule="dynamic"):
            _forward_image(&x[0] + n * g.C * g.ivol, &w[0], bp, &y[0] + n * g.O * g.ovol, &ws[0], &g, 1)
        with nogil:
            for n in range(npar, g.N):
                _forward_image(&x[0] + n * g.C * g.ivol, &w[0], bp, &y[0] + n * g.O * g.ovol, &ws[0], &g,
                               nthreads)
    _blas_restore(&_blas, saved)


def backward(floating[::1] gy, object x, floating[::1] w, object gx, object gw, object gb, object gx_bias,
             floating[::1] ws, object wpart, tuple geom, int image_threads, int nthreads):
    """Input gradient into ``gx``, weight gradient into ``gw``, bias gradient (gy summed per channel)
    into ``gb``; any of them may be None.

    ``x`` is needed only for ``gw``; ``gx_bias`` (per input channel) is added to ``gx`` (the transposed
    convolution's bias). ``wpart`` holds ``image_threads - 1`` partial weight gradients."""
    cdef Geom g = _geom(geom, True)
    cdef floating[::1] xv, gxv, gwv, gbv, bv, pv
    cdef const floating* xp = NULL
    cdef floating* gxp = NULL
    cdef floating* gwp = NULL
    cdef floating* pp = NULL
    cdef floating* gbp = NULL
    cdef double* bacc = NULL
    cdef const floating* bp = NULL
    cdef intp n, j, t, wsize = g.O * (g.C // g.G) * g.kvol
    cdef intp npar = (g.N // image_threads) * image_threads if image_threads > 1 else 0
    cdef int saved
    if gw is not None:
        xv = x
        xp = &xv[0]
        gwv = gw
        gwp = &gwv[0]
    if gx is not None:
        gxv = gx
        gxp = &gxv[0]
        if gx_bias is not None:
            bv = gx_bias
            bp = &bv[0]
    if g.depthwise:
        if gb is not None:
            gbv = gb
            gbp = &gbv[0]
        _depthwise_backward(&gy[0], xp, &w[0], gxp, gwp, gbp, bp, &g, nthreads)
        return
    if gw is not None:
        memset(gwp, 0, wsize * sizeof(floating))
        if npar:
            pv = wpart
            pp = &pv[0]
            memset(pp, 0, (image_threads - 1) * wsize * sizeof(floating))
    if gb is not None:
        gbv = gb
        # per-thread sums in double
        bacc = <double*>calloc(image_threads * g.O, sizeof(double))
        if bacc == NULL:
            raise MemoryError()
    saved = _blas_single(&_blas)
    for n in prange(npar, nogil=True, num_threads=image_threads, schedule="dynamic"):
        t = threadid()
        _backward_image(&gy[0] + n * g.O * g.ovol,
                        (xp + n * g.C * g.ivol) if xp != NULL else NULL, &w[0],
                        (gxp + n * g.C * g.ivol) if gxp != NULL else NULL,
                        (gwp if t == 0 else pp + (t - 1) * wsize) if gwp != NULL else NULL,
                        (bacc + t * g.O) if bacc != NULL else NULL, bp, &ws[0] + t * g.cols, &g, 1)
    with nogil:
        if npar and gwp != NULL:
            for t in range(image_threads - 1):
                for j in range(wsize):
                    gwp[j] += pp[t * wsize + j]
        for n in range(npar, g.N):
            _backward_image(&gy[0] + n * g.O * g.ovol,
                            (xp + n * g.C * g.ivol) if xp != NULL else NULL, &w[0],
                            (gxp + n * g.C * g.ivol) if gxp != NULL else NULL, gwp, bacc, bp, &ws[0], &g,
                            nthreads)
    _blas_restore(&_blas, saved)
    if bacc != NULL:
        for j in range(g.O):
            for t in range(1, image_threads):
                bacc[j] += bacc[t * g.O + j]
            gbv[j] = <floating>bacc[j]
        free(bacc)


def channel_sum(floating[::1] t, floating[::1] out, intp N, intp C, intp P, int nthreads):
    """out[c] = sum of t (N, C, P) over N and P, accumulated in double (the bias gradient)."""
    cdef intp c, n
    cdef double acc
    for c in prange(C, nogil=True, num_threads=nthreads if C > 1 else 1, schedule="static"):
        acc = 0
        for n in range(N):
            if floating is float:
                acc = acc + ember_conv_sum_f(&t[0] + (n * C + c) * P, P)
            else:
                acc = acc + ember_conv_sum_d(&t[0] + (n * C + c) * P, P)
        out[c] = <floating>acc
