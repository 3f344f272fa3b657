"""Pooling and unpooling kernels (forward and backward), CPU.

Arrays arrive C-contiguous with all planes (N*C of them) in the first axis: pooling inputs as
``(planes, D, H, W)`` -- 1-D and 2-D pooling pass D = H = 1 or D = 1, so one loop nest serves every
rank -- and flat planes ``(planes, n)`` where only the index matters. Threads split the planes; each
plane is written by one thread, so the scatters of the backward passes need no atomics.

Indices follow THNN: the flat offset of the chosen element within its input plane (d*H*W + h*W + w).
The maximum keeps the first of equal values and propagates NaN (PyTorch's rule).
"""
cimport numpy as cnp
import numpy as np
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport isnan
from libc.string cimport memset

cnp.import_array()

ctypedef cnp.npy_intp intp
ctypedef cnp.int64_t i64

# below this much work (elements touched) a kernel runs on one thread: a parallel region costs microseconds
cdef enum:
    GRAIN = 32768


cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define EMBER_POOL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define EMBER_POOL_CLONES
    #endif
    typedef struct {
        Py_ssize_t D, H, W, OD, OH, OW;
        Py_ssize_t kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw;
    } ember_pool_geo;

    /* The first tap start + i*step (i >= 0) that is not negative. */
    static inline Py_ssize_t ember_first_tap(Py_ssize_t start, Py_ssize_t step) {
        return start >= 0 ? start : start + ((-start + step - 1) / step) * step;
    }

    /* One window tap of a row of max-pooling outputs: y[ow], ind[ow] take row[ow*sw + off] (input
       offset base + ow*sw + off) when it is greater or NaN. Inlined with a constant stride where it is 1 or 2, so
       the loads are plain vector loads and shuffles rather than gathers. */
    #define EMBER_MAX_TAP(NAME, T) \
    static inline __attribute__((always_inline)) void NAME( \
            const T *restrict row, T *restrict y, int64_t *restrict ind, Py_ssize_t lo, Py_ssize_t hi, \
            const Py_ssize_t sw, Py_ssize_t off, Py_ssize_t base) { \
        Py_ssize_t ow; \
        for (ow = lo; ow < hi; ow++) { \
            T v = row[ow * sw + off], m = y[ow]; \
            int take = (v > m) | (v != v); \
            y[ow] = take ? v : m; \
            ind[ow] = take ? base + ow * sw + off : ind[ow]; \
        } \
    }

    /* Max pooling of one plane, an output row at a time: each window tap (d, h, kw) updates the whole
       row of outputs it reaches, a loop over ow that the compiler vectorises with selects (a window at
       a time branches on every comparison, and random data mispredicts half of them: 3-4x slower).
       Taps run in the window's order and only a greater value or a NaN takes over, so ties keep the
       first maximum and NaN propagates, as THNN. */
    #define EMBER_MAX_PLANE(NAME, TAP, T) \
    EMBER_MAX_TAP(TAP, T) \
    EMBER_POOL_CLONES static void NAME(const T *x, T *y, int64_t *ind, const ember_pool_geo *g) { \
        Py_ssize_t od, oh, ow, d, h, kw, d0, d1, h0, h1, lo, hi, off, HW = g->H * g->W; \
        for (od = 0; od < g->OD; od++) { \
            d1 = od * g->sd - g->pd + (g->kd - 1) * g->dd + 1; \
            if (d1 > g->D) d1 = g->D; \
            d0 = ember_first_tap(od * g->sd - g->pd, g->dd); \
            for (oh = 0; oh < g->OH; oh++, y += g->OW, ind += g->OW) { \
                h1 = oh * g->sh - g->ph + (g->kh - 1) * g->dh + 1; \
                if (h1 > g->H) h1 = g->H; \
                h0 = ember_first_tap(oh * g->sh - g->ph, g->dh); \
                for (ow = 0; ow < g->OW; ow++) { \
                    Py_ssize_t w0 = ember_first_tap(ow * g->sw - g->pw, g->dw); \
                    Py_ssize_t w1 = ow * g->sw - g->pw + (g->kw - 1) * g->dw + 1; \
                    if (d0 < d1 && h0 < h1 && w0 < w1 && w0 < g->W) { \
                        ind[ow] = d0 * HW + h0 * g->W + w0; \
                        y[ow] = x[ind[ow]]; \
                    } else { \
                        ind[ow] = -1; \
                        y[ow] = -INFINITY; \
                    } \
                } \
                for (d = d0; d < d1; d += g->dd) \
                    for (h = h0; h < h1; h += g->dh) \
                        for (kw = 0; kw < g->kw; kw++) { \
                            /* the outputs whose tap w = ow*sw + off lies in [0, W) */ \
                            off = kw * g->dw - g->pw; \
                            lo = off >= 0 ? 0 : (-off + g->sw - 1) / g->sw; \
                            hi = g->W - off > 0 ? (g->W - off - 1) / g->sw + 1 : 0; \
                            if (hi > g->OW) hi = g->OW; \
                            Py_ssize_t base = d * HW + h * g->W; \
                            if (g->sw == 1) TAP(x + base, y, ind, lo, hi, 1, off, base); \
                            else if (g->sw == 2) TAP(x + base, y, ind, lo, hi, 2, off, base); \
                            else TAP(x + base, y, ind, lo, hi, g->sw, off, base); \
                        } \
            } \
        } \
    }
    EMBER_MAX_PLANE(ember_max_plane_f, ember_max_tap_f, float)
    EMBER_MAX_PLANE(ember_max_plane_d, ember_max_tap_d, double)
    """
    ctypedef struct Geo "ember_pool_geo":
        intp D, H, W, OD, OH, OW
        intp kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw
    void ember_max_plane_f(const float *x, float *y, i64 *ind, const Geo *g) noexcept nogil
    void ember_max_plane_d(const double *x, double *y, i64 *ind, const Geo *g) noexcept nogil


cdef inline int _threads(intp work, intp planes, int nthreads) noexcept nogil:
    if work < GRAIN or nthreads < 1:
        return 1
    return <int>planes if planes < nthreads else nthreads


cdef Geo _geo(tuple insize, tuple outsize, tuple k, tuple s, tuple p, tuple d):
    cdef Geo g
    g.D, g.H, g.W = insize
    g.OD, g.OH, g.OW = outsize
    g.kd, g.kh, g.kw = k
    g.sd, g.sh, g.sw = s
    g.pd, g.ph, g.pw = p
    g.dd, g.dh, g.dw = d
    return g


# ---------------------------------------------------------------------- max pooling

cdef inline void _max_plane(const floating *x, floating *y, i64 *ind, const Geo *g) noexcept nogil:
    if floating is float:
        ember_max_plane_f(x, y, ind, g)
    else:
        ember_max_plane_d(x, y, ind, g)


def max_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] y, i64[:, :, :, ::1] ind,
                     tuple k, tuple s, tuple p, tuple d, int nthreads):
    """y, ind = max over each window of x (planes, D, H, W) -> (planes, OD, OH, OW)."""
    cdef intp P = x.shape[0], n, isz = x.shape[1] * x.shape[2] * x.shape[3]
    cdef intp osz = y.shape[1] * y.shape[2] * y.shape[3]
    cdef Geo g = _geo((x.shape[1], x.shape[2], x.shape[3]), (y.shape[1], y.shape[2], y.shape[3]), k, s, p, d)
    cdef int nt = _threads(P * isz, P, nthreads)
    if P == 0 or osz == 0:
        return
    if nt == 1:  # no parallel region: libgomp's barriers make system calls (~0.7 us a region)
        for n in range(P):
            _max_plane(&x[n, 0, 0, 0], &y[n, 0, 0, 0], &ind[n, 0, 0, 0], &g)
        return
    for n in prange(P, nogil=True, num_threads=nt, schedule="static"):
        _max_plane(&x[n, 0, 0, 0], &y[n, 0, 0, 0], &ind[n, 0, 0, 0], &g)


# ---------------------------------------------------------------------- index scatter / gather

def index_backward(const floating[:, ::1] g, const i64[:, ::1] ind, floating[:, ::1] gi, int nthreads):
    """gi = 0; gi[p, ind[p, i]] += g[p, i] (the backward of every max pooling). Returns the number of
    planes holding an index outside [0, gi.shape[1]) (those indices are skipped)."""
    cdef intp P = g.shape[0], n = g.shape[1], m = gi.shape[1], pl
    cdef int nt = _threads(P * (n + m), P, nthreads)
    cdef cnp.uint8_t[::1] bad = np.zeros(max(P, 1), np.uint8)
    if P == 0:
        return 0
    if nt == 1:
        for pl in range(P):
            bad[pl] = _index_add_plane(&g[pl, 0], &ind[pl, 0], &gi[pl, 0], n, m)
    else:
        for pl in prange(P, nogil=True, num_threads=nt, schedule="static"):
            bad[pl] = _index_add_plane(&g[pl, 0], &ind[pl, 0], &gi[pl, 0], n, m)
    return int(np.count_nonzero(bad))


cdef cnp.uint8_t _index_add_plane(const floating *gp, const i64 *ip, floating *op, intp n, intp m) noexcept nogil:
    """op = 0; op[ip[i]] += gp[i]; returns 1 when an index is outside [0, m) (it is skipped)."""
    cdef intp i, j
    cdef cnp.uint8_t bad = 0
    memset(op, 0, m * sizeof(floating))
    for i in range(n):
        j = ip[i]
        if j < 0 or j >= m:
            bad = 1
        else:
            op[j] = op[j] + gp[i]
    return bad


def index_scatter(const floating[:, ::1] src, const i64[:, ::1] ind, floating[:, ::1] out, int nthreads):
    """out = 0; out[p, ind[p, i]] = src[p, i] (max unpooling). Returns the number of planes holding an
    index outside [0, out.shape[1]) (those indices are skipped)."""
    cdef intp P = src.shape[0], n = src.shape[1], m = out.shape[1], pl, i, j
    cdef int nt = _threads(P * (n + m), P, nthreads)
    cdef const floating *sp
    cdef const i64 *ip
    cdef floating *op
    cdef cnp.uint8_t[::1] bad = np.zeros(max(P, 1), np.uint8)
    if P == 0:
        return 0
    for pl in prange(P, nogil=True, num_threads=nt, schedule="static"):
        op = &out[pl, 0]
        memset(op, 0, m * sizeof(floating))
        sp = &src[pl, 0]
        ip = &ind[pl, 0]
        for i in range(n):
            j = ip[i]
            if j < 0 or j >= m:
                bad[pl] = 1
            else:
                op[j] = sp[i]
    return int(np.count_nonzero(bad))


def index_gather(const floating[:, ::1] src, const i64[:, ::1] ind, floating[:, ::1] out, int nthreads):
    """out[p, i] = src[p, ind[p, i]] (max unpooling's backward); an index outside [0, src.shape[1])
    gives 0. Returns the number of planes holding such an index."""
    cdef intp P = out.shape[0], n = out.shape[1], m = src.shape[1], pl, i, j
    cdef int nt = _threads(P * n, P, nthreads)
    cdef const floating *sp
    cdef const i64 *ip
    cdef floating *op
    cdef cnp.uint8_t[::1] bad = np.zeros(max(P, 1), np.uint8)
    if P == 0:
        return 0
    for pl in prange(P, nogil=True, num_threads=nt, schedule="static"):
        op = &out[pl, 0]
        sp = &src[pl, 0]
        ip = &ind[pl, 0]
        for i in range(n):
            j = ip[i]
            if j < 0 or j >= m:
                bad[pl] = 1
                op[i] = 0
            else:
                op[i] = sp[j]
    return int(np.count_nonzero(bad))


# ---------------------------------------------------------------------- average pooling

cdef inline void _avg_window(intp o, intp s, intp p, intp k, intp size, bint include_pad,
                             intp *lo, intp *hi, intp *count) noexcept nogil:
    """THNN's window: [o*s - p, min(o*s - p + k, size + p)) counts padding; clipped to [0, size)."""
    cdef intp a = o * s - p
    cdef intp b = min(a + k, size + p)
    cdef intp full = b - a
    a = max(a, 0)
    b = min(b, size)
    lo[0] = a
    hi[0] = b
    count[0] = full if include_pad else b - a


cdef void _avg_plane(const floating *x, floating *y, const Geo *g, bint include_pad) noexcept nogil:
    cdef intp od, oh, ow, d, h, w, d0, d1, h0, h1, w0, w1, cd, ch, cw, o = 0
    cdef intp HW = g.H * g.W
    cdef double acc
    for od in range(g.OD):
        _avg_window(od, g.sd, g.pd, g.kd, g.D, include_pad, &d0, &d1, &cd)
        for oh in range(g.OH):
            _avg_window(oh, g.sh, g.ph, g.kh, g.H, include_pad, &h0, &h1, &ch)
            for ow in range(g.OW):
                _avg_window(ow, g.sw, g.pw, g.kw, g.W, include_pad, &w0, &w1, &cw)
                acc = 0
                for d in range(d0, d1):
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            acc = acc + x[d * HW + h * g.W + w]
                y[o] = <floating>(acc / (cd * ch * cw)) if cd * ch * cw > 0 else 0
                o = o + 1


cdef void _avg_plane_backward(const floating *gy, floating *gx, const Geo *g, bint include_pad) noexcept nogil:
    cdef intp od, oh, ow, d, h, w, d0, d1, h0, h1, w0, w1, cd, ch, cw, o = 0
    cdef intp HW = g.H * g.W
    cdef floating v
    memset(gx, 0, g.D * HW * sizeof(floating))
    for od in range(g.OD):
        _avg_window(od, g.sd, g.pd, g.kd, g.D, include_pad, &d0, &d1, &cd)
        for oh in range(g.OH):
            _avg_window(oh, g.sh, g.ph, g.kh, g.H, include_pad, &h0, &h1, &ch)
            for ow in range(g.OW):
                _avg_window(ow, g.sw, g.pw, g.kw, g.W, include_pad, &w0, &w1, &cw)
                if cd * ch * cw > 0:
                    v = gy[o] / (cd * ch * cw)
                    for d in range(d0, d1):
                        for h in range(h0, h1):
                            for w in range(w0, w1):
                                gx[d * HW + h * g.W + w] += v
                o = o + 1


def avg_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] y, tuple k, tuple s, tuple p,
                     bint include_pad, int nthreads):
    """y = mean over each window of x (planes, D, H, W) -> (planes, OD, OH, OW)."""
    cdef intp P = x.shape[0], n, isz = x.shape[1] * x.shape[2] * x.shape[3]
    cdef Geo g = _geo((x.shape[1], x.shape[2], x.shape[3]), (y.shape[1], y.shape[2], y.shape[3]), k, s, p, (1, 1, 1))
    cdef int nt = _threads(P * isz, P, nthreads)
    if P == 0:
        return
    if nt == 1:
        for n in range(P):
            _avg_plane(&x[n, 0, 0, 0], &y[n, 0, 0, 0], &g, include_pad)
        return
    for n in prange(P, nogil=True, num_threads=nt, schedule="static"):
        _avg_plane(&x[n, 0, 0, 0], &y[n, 0, 0, 0], &g, include_pad)


def avg_pool_backward(const floating[:, :, :, ::1] gy, floating[:, :, :, ::1] gx, tuple k, tuple s, tuple p,
                      bint include_pad, int nthreads):
    """gx = the gradient of avg_pool_forward for output gradient gy."""
    cdef intp P = gx.shape[0], n, isz = gx.shape[1] * gx.shape[2] * gx.shape[3]
    cdef Geo g = _geo((gx.shape[1], gx.shape[2], gx.shape[3]), (gy.shape[1], gy.shape[2], gy.shape[3]),
                      k, s, p, (1, 1, 1))
    cdef int nt = _threads(P * isz, P, nthreads)
    if P == 0:
        return
    if nt == 1:
        for n in range(P):
            _avg_plane_backward(&gy[n, 0, 0, 0], &gx[n, 0, 0, 0], &g, include_pad)
        return
    for n in prange(P, nogil=True, num_threads=nt, schedule="static"):
        _avg_plane_backward(&gy[n, 0, 0, 0], &gx[n, 0, 0, 0], &g, include_pad)


# ---------------------------------------------------------------------- adaptive pooling

cdef inline intp _astart(intp o, intp osz, intp isz) noexcept nogil:
    return (o * isz) // osz


cdef inline intp _aend(intp o, intp osz, intp isz) noexcept nogil:
    return ((o + 1) * isz + osz - 1) // osz


cdef void _adaptive_plane(const floating *x, floating *y, i64 *ind, intp H, intp W, intp OH, intp OW,
                          bint is_max) noexcept nogil:
    cdef intp oh, ow, h, w, h0, h1, w0, w1, best, o = 0
    cdef floating v, m
    cdef double acc
    for oh in range(OH):
        h0 = _astart(oh, OH, H)
        h1 = _aend(oh, OH, H)
        for ow in range(OW):
            w0 = _astart(ow, OW, W)
            w1 = _aend(ow, OW, W)
            if is_max:
                best = h0 * W + w0
                m = x[best]
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        v = x[h * W + w]
                        if v > m or isnan(v):
                            m = v
                            best = h * W + w
                y[o] = m
                ind[o] = best
            else:
                acc = 0
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        acc = acc + x[h * W + w]
                y[o] = <floating>(acc / ((h1 - h0) * (w1 - w0)))
            o = o + 1


def adaptive_pool_forward(const floating[:, :, ::1] x, floating[:, :, ::1] y, i64[:, :, ::1] ind, bint is_max,
                          int nthreads):
    """Adaptive max (with indices into ``ind``) or average pooling of x (planes, H, W) -> (planes, OH, OW):
    output cell i covers [floor(i*in/out), ceil((i+1)*in/out))."""
    cdef intp P = x.shape[0], n, H = x.shape[1], W = x.shape[2], OH = y.shape[1], OW = y.shape[2]
    cdef int nt = _threads(P * H * W, P, nthreads)
    cdef i64 *ip = NULL
    if P == 0:
        return
    for n in prange(P, nogil=True, num_threads=nt, schedule="static"):
        _adaptive_plane(&x[n, 0, 0], &y[n, 0, 0], &ind[n, 0, 0] if is_max else ip, H, W, OH, OW, is_max)


def adaptive_avg_backward(const floating[:, :, ::1] gy, floating[:, :, ::1] gx, int nthreads):
    cdef intp P = gx.shape[0], n, H = gx.shape[1], W = gx.shape[2], OH = gy.shape[1], OW = gy.shape[2]
    cdef intp oh, ow, h, w, h0, h1, w0, w1
    cdef int nt = _threads(P * H * W, P, nthreads)
    cdef floating v
    cdef floating *gxp
    if P == 0:
        return
    for n in prange(P, nogil=True, num_threads=nt, schedule="static"):
        gxp = &gx[n, 0, 0]
        memset(gxp, 0, H * W * sizeof(floating))
        for oh in range(OH):
            h0 = _astart(oh, OH, H)
            h1 = _aend(oh, OH, H)
            for ow in range(OW):
                w0 = _astart(ow, OW, W)
                w1 = _aend(ow, OW, W)
                v = gy[n, oh, ow] / ((h1 - h0) * (w1 - w0))
                for h in range(h0, h1):
                    for w in range(w0, w1):
                        gxp[h * W + w] += v


# ---------------------------------------------------------------------- fractional max pooling

def fractional_max_forward(const floating[:, :, ::1] x, const i64[:, ::1] seq_h, const i64[:, ::1] seq_w,
                           intp kh, intp kw, floating[:, :, ::1] y, i64[:, :, ::1] ind, int nthreads):
    """Max over the kh x kw window starting at (seq_h[p, i], seq_w[p, j]) of plane p of x (planes, H, W)."""
    cdef intp P = x.shape[0], n, W = x.shape[2], OH = y.shape[1], OW = y.shape[2]
    cdef intp oh, ow, h, w, h0, w0, best
    cdef int nt = _threads(P * OH * OW * kh * kw, P, nthreads)
    cdef floating v, m
    cdef const floating *xp
    if P == 0:
        return
    for n in prange(P, nogil=True, num_threads=nt, schedule="static"):
        xp = &x[n, 0, 0]
        for oh in range(OH):
            h0 = seq_h[n, oh]
            for ow in range(OW):
                w0 = seq_w[n, ow]
                best = h0 * W + w0
                m = xp[best]
                for h in range(h0, h0 + kh):
                    for w in range(w0, w0 + kw):
                        v = xp[h * W + w]
                        if v > m or isnan(v):
                            m = v
                            best = h * W + w
                y[n, oh, ow] = m
                ind[n, oh, ow] = best
