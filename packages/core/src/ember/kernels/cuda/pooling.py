"""The GPU side of ``ember.kernels.pooling``: functions with the names and arguments of its ``_CPU``
methods, on device arrays already checked and laid out there (C-contiguous, planes first, 1-D and 2-D
ops as (D, H, W) with unit leading dims), writing into the outputs they are given.

Max, average, adaptive and fractional max pooling, their backward passes and the index scatter-add of every max-style
backward are CUDA kernels (``_raw``), one thread per output element (per input element for the average
backward passes, which gather the windows that cover them, so need no atomics). They follow the CPU kernel
(ember/_C/pooling.pyx) step for step: windows scan only their taps inside the input, a max starts at the
first such tap and moves on ``v > m || isnan(v)``, so values and indices agree with the CPU's, NaNs
included; adaptive averages sum in double, as there.

Fractional max pooling takes its windows' starts from per-plane sequences, with the same max rule.
"""
import numpy as np

from ember import _backend

from . import compute_dtype, widened
from ._raw import Kernel


def _xp(a):
    return _backend.get_array_module(a)


def _computed(xp, y):
    """An array to compute ``y`` in (``y`` itself unless it is half), and how to store it back."""
    if y.dtype == compute_dtype(y.dtype):
        return y, lambda: None
    buf = xp.empty(y.shape, compute_dtype(y.dtype))
    return buf, lambda: y.__setitem__(Ellipsis, buf)


def _geometry(size, out, k, s, p, d=None):
    return tuple(size) + tuple(out) + tuple(k) + tuple(s) + tuple(p) + (tuple(d) if d is not None else ())


# Window geometry of one output element i of (planes, OD, OH, OW): its plane and its first tap (d0, h0, w0)
# counted with the padding; shared by the kernels below.
_WINDOW = r"""
    index_t ow = i % OW, t = i / OW;
    index_t oh = t % OH;
    t /= OH;
    index_t od = t % OD, plane = t / OD;
    index_t d0 = od * sd - pd, h0 = oh * sh - ph, w0 = ow * sw - pw;
"""

_POOL_PARAMS = r"""index_t D, index_t H, index_t W, index_t OD, index_t OH, index_t OW, index_t kd, index_t kh,
    index_t kw, index_t sd, index_t sh, index_t sw, index_t pd, index_t ph, index_t pw"""


# ------------------------------------------------------------------------------------------- max pooling
_max_pool = Kernel("max_pool", r"""
__device__ __forceinline__ index_t first_tap(index_t start, index_t step) {
    return start >= 0 ? start : start + (-start + step - 1) / step * step;
}

extern "C" __global__ void max_pool(const scalar_t* x, scalar_t* y, long long* ind, index_t n, scalar_t neg_inf,
    """ + _POOL_PARAMS + r""", index_t dd, index_t dh, index_t dw) {
    EMBER_LOOP(i, n) {""" + _WINDOW + r"""
        index_t d1 = min(d0 + (kd - 1) * dd + 1, D), h1 = min(h0 + (kh - 1) * dh + 1, H);
        index_t w1 = min(w0 + (kw - 1) * dw + 1, W);
        d0 = first_tap(d0, dd);
        h0 = first_tap(h0, dh);
        w0 = first_tap(w0, dw);
        const scalar_t* xp = x + plane * D * H * W;
        scalar_t m = neg_inf;
        index_t best = -1;
        if (d0 < d1 && h0 < h1 && w0 < w1) {
            best = (d0 * H + h0) * W + w0;
            m = xp[best];
        }
        for (index_t d = d0; d < d1; d += dd)
            for (index_t h = h0; h < h1; h += dh) {
                index_t row = (d * H + h) * W;
                for (index_t w = w0; w < w1; w += dw) {
                    scalar_t v = xp[row + w];
                    if (v > m || isnan(v)) {
                        m = v;
                        best = row + w;
                    }
                }
            }
        y[i] = m;
        ind[i] = best;
    }
}
""")


def max_pool(x, y, ind, k, s, p, d):
    xp = _xp(x)
    ct = compute_dtype(x.dtype)
    out, store = _computed(xp, y)
    _max_pool(y.size, widened(x), out, ind, y.size, float("-inf"), *_geometry(x.shape[1:], y.shape[1:], k, s, p, d),
              dtype=ct)
    store()


# ------------------------------------------------------------------------------------------- average pooling
# THNN's divisor of a window: its part of [o*s - p, min(o*s - p + k, size + p)), the padding counted or not
_DIVISOR = r"""
__device__ __forceinline__ index_t window_count(index_t lo, index_t k, index_t n, index_t p, int include_pad) {
    index_t hi = min(lo + k, n + p);
    return include_pad ? hi - lo : min(hi, n) - max(lo, (index_t)0);
}
"""

_avg_pool = Kernel("avg_pool", _DIVISOR + r"""
extern "C" __global__ void avg_pool(const scalar_t* x, scalar_t* y, index_t n, int include_pad,
    """ + _POOL_PARAMS + r""") {
    EMBER_LOOP(i, n) {""" + _WINDOW + r"""
        index_t count = window_count(d0, kd, D, pd, include_pad) * window_count(h0, kh, H, ph, include_pad)
            * window_count(w0, kw, W, pw, include_pad);
        const scalar_t* xp = x + plane * D * H * W;
        scalar_t sum = 0;
        for (index_t d = max(d0, (index_t)0); d < min(d0 + kd, D); ++d)
            for (index_t h = max(h0, (index_t)0); h < min(h0 + kh, H); ++h)
                for (index_t w = max(w0, (index_t)0); w < min(w0 + kw, W); ++w)
                    sum += xp[(d * H + h) * W + w];
        y[i] = sum / (scalar_t)count;
    }
}
""")

# one thread per input element: the sum of the shares of the windows that cover it
_avg_pool_backward = Kernel("avg_pool_backward", _DIVISOR + r"""
__device__ __forceinline__ void covering(index_t x, index_t k, index_t s, index_t p, index_t out, index_t* lo,
                                         index_t* hi) {
    // windows o with o*s - p <= x < o*s - p + k
    index_t a = x + p - k + 1;
    *lo = a <= 0 ? 0 : (a + s - 1) / s;
    *hi = min((x + p) / s + 1, out);
}

extern "C" __global__ void avg_pool_backward(const scalar_t* gy, scalar_t* gx, index_t n, int include_pad,
    """ + _POOL_PARAMS + r""") {
    EMBER_LOOP(i, n) {
        index_t w = i % W, t = i / W;
        index_t h = t % H;
        t /= H;
        index_t d = t % D, plane = t / D;
        index_t od0, od1, oh0, oh1, ow0, ow1;
        covering(d, kd, sd, pd, OD, &od0, &od1);
        covering(h, kh, sh, ph, OH, &oh0, &oh1);
        covering(w, kw, sw, pw, OW, &ow0, &ow1);
        const scalar_t* g = gy + plane * OD * OH * OW;
        scalar_t sum = 0;
        for (index_t od = od0; od < od1; ++od) {
            index_t cd = window_count(od * sd - pd, kd, D, pd, include_pad);
            for (index_t oh = oh0; oh < oh1; ++oh) {
                index_t cdh = cd * window_count(oh * sh - ph, kh, H, ph, include_pad);
                for (index_t ow = ow0; ow < ow1; ++ow)
                    sum += g[(od * OH + oh) * OW + ow] / (scalar_t)(cdh * window_count(ow * sw - pw, kw, W, pw,
                                                                                      include_pad));
            }
        }
        gx[i] = sum;
    }
}
""")


def avg_pool(x, y, k, s, p, count_include_pad):
    xp = _xp(x)
    out, store = _computed(xp, y)
    _avg_pool(y.size, widened(x), out, y.size, np.int32(count_include_pad),
              *_geometry(x.shape[1:], y.shape[1:], k, s, p), dtype=out.dtype)
    store()


def avg_pool_backward(gy, gx, k, s, p, count_include_pad):
    xp = _xp(gy)
    out, store = _computed(xp, gx)
    _avg_pool_backward(gx.size, widened(gy), out, gx.size, np.int32(count_include_pad),
                       *_geometry(gx.shape[1:], gy.shape[1:], k, s, p), dtype=out.dtype)
    store()


# The max of rows [h0, h1) x columns [w0, w1) of a plane with rows of W, and its plane index: the first
# element, then each that is larger or NaN (the CPU kernel's rule); shared by adaptive and fractional pooling.
_WINDOW_MAX = r"""
__device__ __forceinline__ void window_max(const scalar_t* xp, index_t W, index_t h0, index_t h1, index_t w0,
                                           index_t w1, scalar_t* y, long long* ind) {
    index_t best = h0 * W + w0;
    scalar_t m = xp[best];
    for (index_t h = h0; h < h1; ++h)
        for (index_t w = w0; w < w1; ++w) {
            scalar_t v = xp[h * W + w];
            if (v > m || isnan(v)) {
                m = v;
                best = h * W + w;
            }
        }
    *y = m;
    *ind = best;
}
"""

# ------------------------------------------------------------------------------------------- adaptive pooling
# cell o of an axis of n inputs and `out` cells covers [floor(o*n/out), ceil((o+1)*n/out)); input i lies in
# the cells [floor(i*out/n), ceil((i+1)*out/n))
_ADAPTIVE = r"""
__device__ __forceinline__ index_t cell_start(index_t o, index_t out, index_t n) { return o * n / out; }
__device__ __forceinline__ index_t cell_end(index_t o, index_t out, index_t n) { return ((o + 1) * n + out - 1) / out; }
"""

# sums in double, as the CPU kernel does, whatever the data type
_adaptive_pool = Kernel("adaptive_pool", _ADAPTIVE + _WINDOW_MAX + r"""
extern "C" __global__ void adaptive_pool(const scalar_t* x, scalar_t* y, long long* ind, index_t n, index_t H,
                                         index_t W, index_t OH, index_t OW, int is_max) {
    EMBER_LOOP(i, n) {
        index_t ow = i % OW, t = i / OW;
        index_t oh = t % OH, plane = t / OH;
        index_t h0 = cell_start(oh, OH, H), h1 = cell_end(oh, OH, H);
        index_t w0 = cell_start(ow, OW, W), w1 = cell_end(ow, OW, W);
        const scalar_t* xp = x + plane * H * W;
        if (is_max) {
            window_max(xp, W, h0, h1, w0, w1, y + i, ind + i);
        } else {
            double acc = 0;
            for (index_t h = h0; h < h1; ++h)
                for (index_t w = w0; w < w1; ++w)
                    acc += xp[h * W + w];
            y[i] = (scalar_t)(acc / (double)((h1 - h0) * (w1 - w0)));
        }
    }
}
""")

# one thread per input element: the shares of the cells that cover it, in the CPU kernel's order
_adaptive_avg_backward = Kernel("adaptive_avg_backward", _ADAPTIVE + r"""
extern "C" __global__ void adaptive_avg_backward(const scalar_t* gy, scalar_t* gx, index_t n, index_t H, index_t W,
                                                 index_t OH, index_t OW) {
    EMBER_LOOP(i, n) {
        index_t w = i % W, t = i / W;
        index_t h = t % H, plane = t / H;
        const scalar_t* g = gy + plane * OH * OW;
        scalar_t sum = 0;
        for (index_t oh = cell_start(h, H, OH); oh < cell_end(h, H, OH); ++oh) {
            index_t rows = cell_end(oh, OH, H) - cell_start(oh, OH, H);
            for (index_t ow = cell_start(w, W, OW); ow < cell_end(w, W, OW); ++ow)
                sum += g[oh * OW + ow] / (scalar_t)(rows * (cell_end(ow, OW, W) - cell_start(ow, OW, W)));
        }
        gx[i] = sum;
    }
}
""")


def adaptive_pool(x, y, ind):
    xp = _xp(x)
    out, store = _computed(xp, y)
    indices = ind if ind is not None else xp.empty(1, np.int64)
    _adaptive_pool(y.size, widened(x), out, indices, y.size, *(x.shape[1:] + y.shape[1:]), np.int32(ind is not None),
                   dtype=out.dtype)
    store()


def adaptive_avg_backward(gy, gx):
    xp = _xp(gy)
    out, store = _computed(xp, gx)
    _adaptive_avg_backward(gx.size, widened(gy), out, gx.size, *(gx.shape[1:] + gy.shape[1:]), dtype=out.dtype)
    store()


# ------------------------------------------------------------------------------------------- fractional
_fractional_max_pool = Kernel("fractional_max_pool", _WINDOW_MAX + r"""
extern "C" __global__ void fractional_max_pool(const scalar_t* x, const long long* seq_h, const long long* seq_w,
                                               scalar_t* y, long long* ind, index_t n, index_t H, index_t W,
                                               index_t OH, index_t OW, index_t kh, index_t kw) {
    EMBER_LOOP(i, n) {
        index_t ow = i % OW, t = i / OW;
        index_t oh = t % OH, plane = t / OH;
        index_t h0 = seq_h[plane * OH + oh], w0 = seq_w[plane * OW + ow];
        window_max(x + plane * H * W, W, h0, h0 + kh, w0, w0 + kw, y + i, ind + i);
    }
}
""")


def fractional_max_pool(x, seq_h, seq_w, kh, kw, y, ind):
    """Max over the kh x kw window starting at (seq_h[p, i], seq_w[p, j]) of plane p of x (planes, H, W)."""
    xp = _xp(x)
    out, store = _computed(xp, y)
    _fractional_max_pool(y.size, widened(x), xp.ascontiguousarray(seq_h), xp.ascontiguousarray(seq_w), out, ind,
                         y.size, *(x.shape[1:] + y.shape[1:]), kh, kw, dtype=out.dtype)
    store()


# ------------------------------------------------------------------------------------------- index scatter / gather
def _bad_planes(xp, ind, plane_size):
    """The number of planes (rows of ind) holding an index outside [0, plane_size): one check on the device,
    one value read back. Read as unsigned, a negative index is out of range too."""
    return int(xp.count_nonzero((ind.view(np.uint64) >= plane_size).any(axis=1)))


def _rows(xp, n):
    return xp.arange(n)[:, None]


_index_add = Kernel("index_add", r"""
extern "C" __global__ void index_add(const scalar_t* g, const long long* ind, scalar_t* gx, index_t n,
                                     index_t per_plane, index_t plane_size, int* bad) {
    EMBER_LOOP(i, n) {
        long long j = ind[i];
        if (j < 0 || j >= plane_size)
            *bad = 1;
        else
            atomicAdd(gx + i / per_plane * plane_size + j, g[i]);
    }
}
""")


def index_backward(g, ind, gx):
    """gx = 0; gx[p, ind[p, i]] += g[p, i]; the number of planes with an index out of range (gx is left
    unset then)."""
    xp = _xp(g)
    out, store = _computed(xp, gx)
    out.fill(0)
    bad = xp.zeros(1, np.int32)
    # overlapping windows repeat indices: the scatter must accumulate
    _index_add(g.size, widened(g), ind, out, g.size, g.shape[1], gx.shape[1], bad, dtype=out.dtype)
    if int(bad[0]):
        return _bad_planes(xp, ind, gx.shape[1])
    store()
    return 0


def index_scatter(x, ind, y):
    """y = 0; y[p, ind[p, i]] = x[p, i]; the number of planes with an index out of range (y is left unset
    then). Of values sent to one index (one element picked by two overlapping windows) one is kept: which,
    the GPU leaves unspecified (the CPU kernel keeps the last)."""
    xp = _xp(x)
    bad = _bad_planes(xp, ind, y.shape[1])
    if not bad:
        y.fill(0)
        y[_rows(xp, len(ind)), ind] = x
    return bad


def index_gather(g, ind, gx):
    """gx[p, i] = g[p, ind[p, i]]; the number of planes with an index out of range (gx is left unset then)."""
    xp = _xp(g)
    bad = _bad_planes(xp, ind, g.shape[1])
    if not bad:
        gx[...] = xp.take_along_axis(g, ind, 1)
    return bad
