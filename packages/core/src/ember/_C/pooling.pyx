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
from libc.math cimport INFINITY, isnan
from libc.string cimport memset

cnp.import_array()

ctypedef cnp.npy_intp intp
ctypedef cnp.int64_t i64

# below this much work (elements touched) a kernel runs on one thread: a parallel region costs microseconds
cdef enum:
    GRAIN = 32768


cdef struct Geo:
    intp D, H, W, OD, OH, OW
    intp kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw


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


cdef inline intp _first_tap(intp start, intp step) noexcept nogil:
    """The first non-negative tap start + i*step (i >= 0)."""
    if start >= 0:
        return start
    return start + ((-start + step - 1) // step) * step


# ---------------------------------------------------------------------- max pooling

cdef void _max_plane(const floating *x, floating *y, i64 *ind, const Geo *g) noexcept nogil:
    cdef intp od, oh, ow, d, h, w, d0, d1, h0, h1, w0, w1, pos, best, o = 0
    cdef intp HW = g.H * g.W
    cdef floating v, m
    for od in range(g.OD):
        d0 = od * g.sd - g.pd
        d1 = min(d0 + (g.kd - 1) * g.dd + 1, g.D)
        d0 = _first_tap(d0, g.dd)
        for oh in range(g.OH):
            h0 = oh * g.sh - g.ph
            h1 = min(h0 + (g.kh - 1) * g.dh + 1, g.H)
            h0 = _first_tap(h0, g.dh)
            for ow in range(g.OW):
                w0 = ow * g.sw - g.pw
                w1 = min(w0 + (g.kw - 1) * g.dw + 1, g.W)
                w0 = _first_tap(w0, g.dw)
                m = -INFINITY
                best = -1
                if d0 < d1 and h0 < h1 and w0 < w1:
                    best = d0 * HW + h0 * g.W + w0
                    m = x[best]
                d = d0
                while d < d1:
                    h = h0
                    while h < h1:
                        pos = d * HW + h * g.W
                        w = w0
                        while w < w1:
                            v = x[pos + w]
                            if v > m or isnan(v):
                                m = v
                                best = pos + w
                            w = w + g.dw
                        h = h + g.dh
                    d = d + g.dd
                y[o] = m
                ind[o] = best
                o = o + 1


cdef void _max_plane_2x2(const floating *x, floating *y, i64 *ind, intp W, intp OH, intp OW) noexcept nogil:
    """The common case: 2x2 windows, stride 2, every window inside the plane."""
    cdef intp oh, ow, r0, r1, best
    cdef floating m, v
    for oh in range(OH):
        r0 = 2 * oh * W
        r1 = r0 + W
        for ow in range(OW):
            best = r0 + 2 * ow
            m = x[best]
            v = x[best + 1]
            if v > m or isnan(v):
                m = v
                best = r0 + 2 * ow + 1
            v = x[r1 + 2 * ow]
            if v > m or isnan(v):
                m = v
                best = r1 + 2 * ow
            v = x[r1 + 2 * ow + 1]
            if v > m or isnan(v):
                m = v
                best = r1 + 2 * ow + 1
            y[oh * OW + ow] = m
            ind[oh * OW + ow] = best


def max_pool_forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] y, i64[:, :, :, ::1] ind,
                     tuple k, tuple s, tuple p, tuple d, int nthreads):
    """y, ind = max over each window of x (planes, D, H, W) -> (planes, OD, OH, OW)."""
    cdef intp P = x.shape[0], n, isz = x.shape[1] * x.shape[2] * x.shape[3]
    cdef intp osz = y.shape[1] * y.shape[2] * y.shape[3]
    cdef Geo g = _geo((x.shape[1], x.shape[2], x.shape[3]), (y.shape[1], y.shape[2], y.shape[3]), k, s, p, d)
    cdef int nt = _threads(P * isz, P, nthreads)
    cdef bint fast = (g.D == 1 and g.kh == 2 and g.kw == 2 and g.sh == 2 and g.sw == 2 and g.ph == 0
                      and g.pw == 0 and g.dh == 1 and g.dw == 1 and 2 * g.OH <= g.H and 2 * g.OW <= g.W)
    if P == 0 or osz == 0:
        return
    for n in prange(P, nogil=True, num_threads=nt, schedule="static"):
        if fast:
            _max_plane_2x2(&x[n, 0, 0, 0], &y[n, 0, 0, 0], &ind[n, 0, 0, 0], g.W, g.OH, g.OW)
        else:
            _max_plane(&x[n, 0, 0, 0], &y[n, 0, 0, 0], &ind[n, 0, 0, 0], &g)


# ---------------------------------------------------------------------- index scatter / gather

def index_backward(const floating[:, ::1] g, const i64[:, ::1] ind, floating[:, ::1] gi, int nthreads):
    """gi = 0; gi[p, ind[p, i]] += g[p, i] (the backward of every max pooling). Returns the number of
    planes holding an index outside [0, gi.shape[1]) (those indices are skipped)."""
    cdef intp P = g.shape[0], n = g.shape[1], m = gi.shape[1], pl, i, j
    cdef int nt = _threads(P * (n + m), P, nthreads)
    cdef const floating *gp
    cdef const i64 *ip
    cdef floating *op
    cdef cnp.uint8_t[::1] bad = np.zeros(max(P, 1), np.uint8)
    if P == 0:
        return 0
    for pl in prange(P, nogil=True, num_threads=nt, schedule="static"):
        op = &gi[pl, 0]
        memset(op, 0, m * sizeof(floating))
        gp = &g[pl, 0]
        ip = &ind[pl, 0]
        for i in range(n):
            j = ip[i]
            if j < 0 or j >= m:
                bad[pl] = 1
            else:
                op[j] = op[j] + gp[i]
    return int(np.count_nonzero(bad))


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
