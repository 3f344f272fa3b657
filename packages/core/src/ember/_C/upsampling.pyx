"""Resampling kernels, CPU: index maps (padding, nearest upsampling), linear interpolation along one axis
(bilinear / trilinear upsampling) and the bilinear grid sampler (spatial transformer).

- remap gathers (planes, D, H, W) through one index map per axis in a single pass; its backward scatters
  back plane by plane (threads split the planes, so no two threads write the same plane).
- The linear kernels see arrays as (outer, n, inner) and interpolate the middle axis. Bi/trilinear
  upsampling runs them once per spatial axis, innermost first: that is the order of THNN's arithmetic
  (its bilinear formula interpolates along W, then H), so the passes reproduce its results. Threads take
  (outer, block of inner columns) pieces; each piece owns its output rows.
- The grid sampler first finds, per grid point, its four neighbours and distances (grid_corners); the
  forward and the input's gradient then run plane by plane, the grid's gradient row by row.
"""
cimport numpy as cnp
import numpy as np
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport floor
from libc.string cimport memcpy, memset

cnp.import_array()

ctypedef cnp.npy_intp intp

cdef enum:
    GRAIN = 32768  # below this much work a kernel runs on one thread
    COLS = 512     # inner columns per piece of work


cdef inline int _threads(intp work, intp pieces, int nthreads) noexcept nogil:
    if work < GRAIN or nthreads < 1:
        return 1
    return <int>pieces if pieces < nthreads else nthreads


# ---------------------------------------------------------------------- index maps (padding, nearest)

def remap(const floating[:, :, :, ::1] x, const intp[::1] md, const intp[::1] mh, const intp[::1] mw,
          intp run_lo, intp run_hi, floating[:, :, :, ::1] y, int nthreads):
    """y[o, i, j, k] = x[o, md[i], mh[j], mw[k]]. On output columns [run_lo, run_hi) mw must step by one
    (padding's unpadded centre): that run is copied as a block."""
    cdef intp O = y.shape[0], OD = y.shape[1], OH = y.shape[2], OW = y.shape[3]
    cdef intp r, o, i, j, k
    cdef int nt = _threads(O * OD * OH * OW, O * OD * OH, nthreads)
    cdef const floating *src
    cdef floating *dst
    if O == 0 or OD == 0 or OH == 0 or OW == 0:
        return
    for r in prange(O * OD * OH, nogil=True, num_threads=nt, schedule="static"):
        o = r // (OD * OH)
        i = (r // OH) % OD
        j = r % OH
        src = &x[o, md[i], mh[j], 0]
        dst = &y[o, i, j, 0]
        for k in range(run_lo):
            dst[k] = src[mw[k]]
        if run_hi > run_lo:
            memcpy(dst + run_lo, src + mw[run_lo], (run_hi - run_lo) * sizeof(floating))
        for k in range(run_hi, OW):
            dst[k] = src[mw[k]]


def remap_backward(const floating[:, :, :, ::1] gy, const intp[::1] md, const intp[::1] mh,
                   const intp[::1] mw, intp run_lo, intp run_hi, floating[:, :, :, ::1] gx, int nthreads):
    """remap's adjoint: gx = 0; gx[o, md[i], mh[j], mw[k]] += gy[o, i, j, k] (threads split the planes o)."""
    cdef intp O = gy.shape[0], OD = gy.shape[1], OH = gy.shape[2], OW = gy.shape[3]
    cdef intp plane = gx.shape[1] * gx.shape[2] * gx.shape[3], o, i, j, k
    cdef int nt = _threads(O * (OD * OH * OW + plane), O, nthreads)
    cdef const floating *src
    cdef floating *dst
    if O == 0 or plane == 0:
        return
    for o in prange(O, nogil=True, num_threads=nt, schedule="static"):
        memset(&gx[o, 0, 0, 0], 0, plane * sizeof(floating))
        for i in range(OD):
            for j in range(OH):
                src = &gy[o, i, j, 0]
                dst = &gx[o, md[i], mh[j], 0]
                for k in range(run_lo):
                    dst[mw[k]] += src[k]
                if run_hi > run_lo:
                    dst = dst + mw[run_lo] - run_lo
                    for k in range(run_lo, run_hi):
                        dst[k] += src[k]
                    dst = &gx[o, md[i], mh[j], 0]
                for k in range(run_hi, OW):
                    dst[mw[k]] += src[k]


# ---------------------------------------------------------------------- linear interpolation along one axis

def axis_lerp(const floating[:, :, ::1] x, const intp[::1] i0, const intp[::1] i1, const floating[::1] w0,
              const floating[::1] w1, floating[:, :, ::1] y, int nthreads):
    """y[o, j, k] = w0[j] * x[o, i0[j], k] + w1[j] * x[o, i1[j], k]."""
    cdef intp O = y.shape[0], m = y.shape[1], K = y.shape[2]
    cdef intp nb = (K + COLS - 1) // COLS, u, o, j, k, k0, cols
    cdef int nt = _threads(O * m * K, O * nb, nthreads)
    cdef const floating *a
    cdef const floating *b
    cdef floating *yp
    cdef floating l0, l1
    if O == 0 or m == 0 or K == 0:
        return
    if K == 1:
        for o in prange(O, nogil=True, num_threads=nt, schedule="static"):
            a = &x[o, 0, 0]
            yp = &y[o, 0, 0]
            for j in range(m):
                yp[j] = w0[j] * a[i0[j]] + w1[j] * a[i1[j]]
        return
    for u in prange(O * nb, nogil=True, num_threads=nt, schedule="static"):
        o = u // nb
        k0 = (u % nb) * COLS
        cols = min(COLS, K - k0)
        for j in range(m):
            a = &x[o, i0[j], k0]
            b = &x[o, i1[j], k0]
            yp = &y[o, j, k0]
            l0 = w0[j]
            l1 = w1[j]
            for k in range(cols):
                yp[k] = l0 * a[k] + l1 * b[k]


def axis_lerp_backward(const floating[:, :, ::1] gy, const intp[::1] i0, const intp[::1] i1,
                       const floating[::1] w0, const floating[::1] w1, floating[:, :, ::1] gx, int nthreads):
    """gx = 0; gx[o, i0[j], k] += w0[j] * gy[o, j, k]; gx[o, i1[j], k] += w1[j] * gy[o, j, k]."""
    cdef intp O = gy.shape[0], m = gy.shape[1], K = gy.shape[2], n = gx.shape[1]
    cdef intp nb = (K + COLS - 1) // COLS, u, o, j, k, k0, cols
    cdef int nt = _threads(O * (m + n) * K, O * nb, nthreads)
    cdef const floating *gp
    cdef floating *a
    cdef floating *b
    cdef floating l0, l1
    if O == 0 or n == 0 or K == 0:
        return
    if K == 1:
        for o in prange(O, nogil=True, num_threads=nt, schedule="static"):
            gp = &gy[o, 0, 0]
            a = &gx[o, 0, 0]
            memset(a, 0, n * sizeof(floating))
            for j in range(m):
                a[i0[j]] += w0[j] * gp[j]
                a[i1[j]] += w1[j] * gp[j]
        return
    for u in prange(O * nb, nogil=True, num_threads=nt, schedule="static"):
        o = u // nb
        k0 = (u % nb) * COLS
        cols = min(COLS, K - k0)
        for j in range(n):
            memset(&gx[o, j, k0], 0, cols * sizeof(floating))
        for j in range(m):
            gp = &gy[o, j, k0]
            a = &gx[o, i0[j], k0]
            b = &gx[o, i1[j], k0]
            l0 = w0[j]
            l1 = w1[j]
            for k in range(cols):
                a[k] += l0 * gp[k]
            for k in range(cols):
                b[k] += l1 * gp[k]


# ---------------------------------------------------------------------- bilinear grid sampler

cdef void _corners(floating gx, floating gy, intp IW, intp IH, intp *idx, floating *d) noexcept nogil:
    """For grid point (gx, gy) in [-1, 1] (-1 and 1 are the corner pixels' centres: align corners): the
    flat offsets of its four neighbours nw, ne, sw, se (-1 outside the input) and the distances
    d = (x0 + 1 - ix, ix - x0, y0 + 1 - iy, iy - y0) that make THNN's bilinear weights."""
    cdef floating ix = ((gx + 1) / 2) * (IW - 1)
    cdef floating iy = ((gy + 1) / 2) * (IH - 1)
    cdef intp x0, y0, c
    if not (ix >= -1 and ix <= IW and iy >= -1 and iy <= IH):  # no neighbour inside (or NaN)
        for c in range(4):
            idx[c] = -1
            d[c] = 0
        return
    x0 = <intp>floor(ix)
    y0 = <intp>floor(iy)
    d[0] = x0 + 1 - ix
    d[1] = ix - x0
    d[2] = y0 + 1 - iy
    d[3] = iy - y0
    idx[0] = y0 * IW + x0 if 0 <= x0 < IW and 0 <= y0 < IH else -1
    idx[1] = y0 * IW + x0 + 1 if 0 <= x0 + 1 < IW and 0 <= y0 < IH else -1
    idx[2] = (y0 + 1) * IW + x0 if 0 <= x0 < IW and 0 <= y0 + 1 < IH else -1
    idx[3] = (y0 + 1) * IW + x0 + 1 if 0 <= x0 + 1 < IW and 0 <= y0 + 1 < IH else -1


cdef inline floating _at(const floating *p, intp i) noexcept nogil:
    return p[i] if i >= 0 else 0


def grid_corners(const floating[:, :, :, ::1] grid, intp IH, intp IW, intp[:, ::1] idx, floating[:, ::1] dist,
                 int nthreads):
    """_corners for every point of grid (N, H, W, 2), into idx and dist (N*H*W, 4)."""
    cdef intp N = grid.shape[0], H = grid.shape[1], W = grid.shape[2], r, w, p
    cdef int nt = _threads(N * H * W * 16, N * H, nthreads)
    if N * H * W == 0:
        return
    for r in prange(N * H, nogil=True, num_threads=nt, schedule="static"):
        for w in range(W):
            p = r * W + w
            _corners(grid[r // H, r % H, w, 0], grid[r // H, r % H, w, 1], IW, IH, &idx[p, 0], &dist[p, 0])


def grid_sample_forward(const floating[:, :, ::1] x, const intp[:, ::1] idx, const floating[:, ::1] dist,
                        floating[:, :, ::1] y, int nthreads):
    """y[n, c, p] = x[n, c] interpolated at point p of image n: x (N, C, IH*IW), y (N, C, H*W), idx and
    dist from grid_corners (N*H*W, 4). Threads split the planes."""
    cdef intp N = x.shape[0], C = x.shape[1], P = y.shape[2], u, n, p, q
    cdef int nt = _threads(N * C * P * 4, N * C, nthreads)
    cdef const floating *xp
    cdef floating *yp
    cdef floating dx0, dx1, dy0, dy1
    if N * C * P == 0:
        return
    for u in prange(N * C, nogil=True, num_threads=nt, schedule="static"):
        n = u // C
        xp = &x[n, u % C, 0]
        yp = &y[n, u % C, 0]
        for p in range(P):
            q = n * P + p
            dx0 = dist[q, 0]
            dx1 = dist[q, 1]
            dy0 = dist[q, 2]
            dy1 = dist[q, 3]
            yp[p] = (_at(xp, idx[q, 0]) * (dx0 * dy0) + _at(xp, idx[q, 1]) * (dx1 * dy0)
                     + _at(xp, idx[q, 2]) * (dx0 * dy1) + _at(xp, idx[q, 3]) * (dx1 * dy1))


def grid_sample_backward(const floating[:, :, ::1] gy, const floating[:, :, ::1] x, const intp[:, ::1] idx,
                         const floating[:, ::1] dist, intp H, intp IW, floating[:, :, ::1] gx,
                         floating[:, :, ::1] ggrid, int nthreads):
    """gx (N, C, IH*IW): the input's gradient, scattered plane by plane; ggrid (N, H*W, 2): the grid's,
    accumulated over the channels one output row at a time (output rows H, input width IW)."""
    cdef intp N = x.shape[0], C = x.shape[1], IP = x.shape[2], P = gy.shape[2], W = P // H, IH = IP // IW
    cdef intp u, n, c, p, q, i, p0
    cdef int nt = _threads(N * C * (P * 4 + IP), N * C, nthreads)
    cdef int ntr = _threads(N * C * P * 8, N * H, nthreads)
    cdef const floating *xp
    cdef const floating *gp
    cdef floating *op
    cdef floating g, dx0, dx1, dy0, dy1, vnw, vne, vsw, vse
    if N * C * P == 0:
        return
    for u in prange(N * C, nogil=True, num_threads=nt, schedule="static"):
        n = u // C
        op = &gx[n, u % C, 0]
        gp = &gy[n, u % C, 0]
        memset(op, 0, IP * sizeof(floating))
        for p in range(P):
            q = n * P + p
            g = gp[p]
            dx0 = dist[q, 0]
            dx1 = dist[q, 1]
            dy0 = dist[q, 2]
            dy1 = dist[q, 3]
            i = idx[q, 0]
            if i >= 0:
                op[i] += dx0 * dy0 * g
            i = idx[q, 1]
            if i >= 0:
                op[i] += dx1 * dy0 * g
            i = idx[q, 2]
            if i >= 0:
                op[i] += dx0 * dy1 * g
            i = idx[q, 3]
            if i >= 0:
                op[i] += dx1 * dy1 * g
    for u in prange(N * H, nogil=True, num_threads=ntr, schedule="static"):
        n = u // H
        p0 = (u % H) * W
        for p in range(p0, p0 + W):
            ggrid[n, p, 0] = 0
            ggrid[n, p, 1] = 0
        for c in range(C):
            xp = &x[n, c, 0]
            gp = &gy[n, c, 0]
            for p in range(p0, p0 + W):
                q = n * P + p
                g = gp[p]
                vnw = _at(xp, idx[q, 0])
                vne = _at(xp, idx[q, 1])
                vsw = _at(xp, idx[q, 2])
                vse = _at(xp, idx[q, 3])
                # THNN's terms, in its order
                ggrid[n, p, 0] += (-vnw * dist[q, 2] * g + vne * dist[q, 2] * g
                                   - vsw * dist[q, 3] * g + vse * dist[q, 3] * g)
                ggrid[n, p, 1] += (-vnw * dist[q, 0] * g - vne * dist[q, 1] * g
                                   + vsw * dist[q, 0] * g + vse * dist[q, 1] * g)
        for p in range(p0, p0 + W):  # back from pixel units to the grid's [-1, 1]
            ggrid[n, p, 0] = ggrid[n, p, 0] * (IW - 1) / 2
            ggrid[n, p, 1] = ggrid[n, p, 1] * (IH - 1) / 2
