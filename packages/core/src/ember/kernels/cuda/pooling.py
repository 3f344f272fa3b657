"""The GPU side of ``ember.kernels.pooling``: functions with the names and arguments of its ``_CPU``
methods, on device arrays already checked and laid out there (C-contiguous, planes first, 1-D and 2-D
ops as (D, H, W) with unit leading dims), writing into the outputs they are given.

Every window op gathers its windows as one array (..., taps) and reduces over the taps:
- max and average pooling: a strided view (as_strided) of the input, padded where windows reach past it
  (-inf for max, zeros for average);
- adaptive pooling: each cell's window padded to the largest window size by repeating its last element
  (harmless to a max; masked out of a sum);
- fractional max pooling: windows at per-plane starts, gathered by index.
A max's position is the first maximum in the window's scan order, as the CPU kernel's, so the indices
agree with it (a window holding several NaNs gives the first one's index, the CPU kernel the last's).
Backward passes scatter-add (``add.at``) where windows overlap in general; average pooling writes its
shares through the window view when windows are disjoint, else adds one strided slice per kernel offset.
Geometry tables (index offsets, divisors) are computed on the host from the sizes alone and sent to each
device once (a network pools the same sizes at every step): no device value is read back, except for the
one check of user-given indices.
"""
import functools

import numpy as np

from ember import _backend

from . import compute_dtype

_NEG_INF = float("-inf")


def _xp(a):
    return _backend.get_array_module(a)


def _table(xp, make, *args):
    """``make(*args)``, a host geometry table or a tuple of them, as arrays on the current device; made once
    per device and arguments, so never to be written to."""
    return _device_tables(xp, xp.cuda.runtime.getDevice(), make, args)


@functools.lru_cache(maxsize=256)
def _device_tables(xp, device, make, args):
    tables = make(*args)
    return tuple(map(xp.asarray, tables)) if isinstance(tables, tuple) else xp.asarray(tables)


# ------------------------------------------------------------------------------------------- windows
def _extent(size, out, k, s, p, d=1):
    """Length of the padded axis: the left padding, the input, and whatever the last window reaches."""
    return max((out - 1) * s + (k - 1) * d + 1, p + size)


def _padded(xp, x, out, k, s, p, d, fill):
    """x (planes, D, H, W) with ``p`` elements of ``fill`` before each spatial axis and enough after it
    for every window; x itself when no window reaches outside it."""
    size = x.shape[1:]
    ext = tuple(_extent(*a) for a in zip(size, out, k, s, p, d))
    if ext == size:
        return x
    buf = xp.full(x.shape[:1] + ext, fill, x.dtype)
    buf[(slice(None),) + tuple(slice(pp, pp + n) for pp, n in zip(p, size))] = x
    return buf


def _window_view(xp, x, out, k, s, d):
    """(planes, OD, OH, OW, kd, kh, kw) view of the windows of a padded x: window o starts at o * s, its
    taps lie d apart."""
    st = x.strides[1:]
    shape = x.shape[:1] + tuple(out) + tuple(k)
    strides = x.strides[:1] + tuple(a * b for a, b in zip(st, s)) + tuple(a * b for a, b in zip(st, d))
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def _spread(d, h, w):
    """Per-axis host arrays shaped to broadcast to (len(d), len(h), len(w))."""
    return d[:, None, None], h[None, :, None], w[None, None, :]


def _grid(*axes):
    """The flat offsets d + h + w of every combination of the per-axis offsets (each already scaled by its
    axis' stride in the plane), as an array of shape (len(d), len(h), len(w))."""
    d, h, w = _spread(*axes)
    return d + h + w


def _plane_strides(size):
    _, H, W = size
    return H * W, W, 1


# ------------------------------------------------------------------------------------------- max pooling
def max_pool(x, y, ind, k, s, p, d):
    xp = _xp(x)
    size, out = x.shape[1:], y.shape[1:]
    padded = _padded(xp, x, out, k, s, p, d, _NEG_INF)
    taps = _window_view(xp, padded, out, k, s, d)
    taps = taps.reshape(taps.shape[:4] + (-1,))
    # max and argmax are exact in any precision: half stays half
    xp.max(taps, axis=-1, out=y)
    pick = taps.argmax(axis=-1)
    start, offset = _table(xp, _max_index_tables, size, out, k, s, p, d)
    xp.add(start, xp.take(offset, pick), out=ind)
    if padded is not x:
        # a window whose maximum is -inf may have picked a padding tap: the CPU kernel names its first
        # tap inside the input then (-1 for a window lying wholly in the padding)
        xp.copyto(ind, _table(xp, _first_taps, size, out, k, s, p, d), where=y == _NEG_INF)


def _max_index_tables(size, out, k, s, p, d):
    """(start, offset): the flat plane index of each window's origin (its first tap, padding counted) and
    of each tap relative to it, so that tap j of window o lies at start[o] + offset[j]."""
    strides = _plane_strides(size)
    start = _grid(*((np.arange(o) * ss - pp) * st for o, ss, pp, st in zip(out, s, p, strides)))
    offset = _grid(*(np.arange(kk) * dd * st for kk, dd, st in zip(k, d, strides)))
    return start, offset.reshape(-1)


def _first_taps(size, out, k, s, p, d):
    """The flat plane index of each window's first tap inside the input, -1 where it has none."""
    firsts, valid = [], []
    for n, o, kk, ss, pp, dd in zip(size, out, k, s, p, d):
        lo = np.arange(o) * ss - pp
        first = np.where(lo >= 0, lo, lo + (-lo + dd - 1) // dd * dd)
        firsts.append(first)
        valid.append(first < np.minimum(lo + (kk - 1) * dd + 1, n))
    vd, vh, vw = _spread(*valid)
    return np.where(vd & vh & vw, _grid(*(f * st for f, st in zip(firsts, _plane_strides(size)))), -1)


# ------------------------------------------------------------------------------------------- average pooling
def avg_pool(x, y, k, s, p, count_include_pad):
    xp = _xp(x)
    out = y.shape[1:]
    ones = (1, 1, 1)
    taps = _window_view(xp, _padded(xp, x, out, k, s, p, ones, 0), out, k, s, ones)
    acc = compute_dtype(x.dtype)
    sums = taps.sum(axis=(4, 5, 6), dtype=acc)
    xp.divide(sums, _table(xp, _divisors, x.shape[1:], out, k, s, p, count_include_pad, acc), out=y)


def avg_pool_backward(gy, gx, k, s, p, count_include_pad):
    xp = _xp(gy)
    size, out = gx.shape[1:], gy.shape[1:]
    acc = compute_dtype(gx.dtype)
    share = gy.astype(acc) / _table(xp, _divisors, size, out, k, s, p, count_include_pad, acc)
    ext = tuple(_extent(*a) for a in zip(size, out, k, s, p))
    buf = gx if ext == size and acc == gx.dtype else xp.empty(gx.shape[:1] + ext, acc)
    buf.fill(0)
    if all(ss >= kk for kk, ss in zip(k, s)):
        # disjoint windows (stride >= kernel): one write through the window view sets every share
        _window_view(xp, buf, out, k, s, (1, 1, 1))[...] = share[..., None, None, None]
    else:
        # each kernel offset adds one strided slice: the windows' taps at that offset
        for jd in range(k[0]):
            for jh in range(k[1]):
                for jw in range(k[2]):
                    buf[:, jd:jd + (out[0] - 1) * s[0] + 1:s[0], jh:jh + (out[1] - 1) * s[1] + 1:s[1],
                        jw:jw + (out[2] - 1) * s[2] + 1:s[2]] += share
    if buf is not gx:
        gx[...] = buf[(slice(None),) + tuple(slice(pp, pp + n) for pp, n in zip(p, size))]


def _divisors(size, out, k, s, p, count_include_pad, dtype):
    """THNN's divisor of each window: its part of [o*s - p, min(o*s - p + k, size + p)), the padding
    counted or not."""
    counts = []
    for n, o, kk, ss, pp in zip(size, out, k, s, p):
        lo = np.arange(o) * ss - pp
        hi = np.minimum(lo + kk, n + pp)
        counts.append(hi - lo if count_include_pad else np.minimum(hi, n) - np.maximum(lo, 0))
    d, h, w = _spread(*counts)
    return (d * h * w).astype(dtype)


# ------------------------------------------------------------------------------------------- adaptive pooling
def adaptive_pool(x, y, ind):
    xp = _xp(x)
    planes, H, W = x.shape
    acc = compute_dtype(x.dtype)
    taps, valid, counts = _table(xp, _adaptive_windows, (H, W), y.shape[1:], acc)
    windows = x.reshape(planes, H * W)[:, taps]
    flat_y = y.reshape(planes, -1)
    if ind is None:
        sums = xp.where(valid, windows, 0).sum(axis=-1, dtype=acc)
        xp.divide(sums, counts, out=flat_y)
        return
    # the padding repeats a window's last element, so the first maximum is a real one
    xp.max(windows, axis=-1, out=flat_y)
    pick = windows.argmax(axis=-1)
    xp.take(taps.reshape(-1), pick + xp.arange(0, taps.size, taps.shape[1]), out=ind.reshape(planes, -1))


def adaptive_avg_backward(gy, gx):
    xp = _xp(gy)
    planes, H, W = gx.shape
    acc = compute_dtype(gx.dtype)
    taps, valid, counts = _table(xp, _adaptive_windows, (H, W), gy.shape[1:], acc)
    share = gy.reshape(planes, -1).astype(acc) / counts
    buf = xp.zeros((planes, H * W), acc)
    xp.add.at(buf, (xp.arange(planes)[:, None, None], taps[None]), xp.where(valid, share[:, :, None], 0))
    gx[...] = buf.reshape(gx.shape)


def _adaptive_axis(n, out):
    """Per cell of one axis: its window [floor(o*n/out), ceil((o+1)*n/out)) as taps padded to the longest
    window by repeating the last one, the mask of the real taps, and the window's length."""
    lo = np.arange(out) * n // out
    hi = -(-(np.arange(out) + 1) * n // out)
    j = np.arange((hi - lo).max())
    taps = lo[:, None] + j
    return np.minimum(taps, hi[:, None] - 1), taps < hi[:, None], hi - lo


def _adaptive_windows(size, out, dtype):
    """(taps, valid, counts) of the cells of an (H, W) plane pooled to ``out``: the flat plane index of
    each cell's (padded) window taps (cells, taps), which taps are real, and each window's size (in
    ``dtype``)."""
    (th, vh, nh), (tw, vw, nw) = (_adaptive_axis(n, o) for n, o in zip(size, out))
    cells = out[0] * out[1]
    taps = (th[:, None, :, None] * size[1] + tw[None, :, None, :]).reshape(cells, -1)
    valid = (vh[:, None, :, None] & vw[None, :, None, :]).reshape(cells, -1)
    return taps, valid, (nh[:, None] * nw[None, :]).reshape(-1).astype(dtype)


# ------------------------------------------------------------------------------------------- fractional
def fractional_max_pool(x, seq_h, seq_w, kh, kw, y, ind):
    xp = _xp(x)
    planes, H, W = x.shape
    oh, ow = y.shape[1:]
    rows = seq_h[:, :, None] + xp.arange(kh)
    cols = seq_w[:, :, None] + xp.arange(kw)
    taps = (rows[:, :, None, :, None] * W + cols[:, None, :, None, :]).reshape(planes, oh, ow, kh * kw)
    windows = xp.take_along_axis(x.reshape(planes, -1), taps.reshape(planes, -1), 1).reshape(taps.shape)
    xp.max(windows, axis=-1, out=y)
    pick = windows.argmax(axis=-1)
    ind[...] = xp.take_along_axis(taps, pick[..., None], -1)[..., 0]


# ------------------------------------------------------------------------------------------- index scatter / gather
def _bad_planes(xp, ind, plane_size):
    """The number of planes (rows of ind) holding an index outside [0, plane_size): one check on the device,
    one value read back. Read as unsigned, a negative index is out of range too."""
    return int(xp.count_nonzero((ind.view(np.uint64) >= plane_size).any(axis=1)))


def _rows(xp, n):
    return xp.arange(n)[:, None]


def index_backward(g, ind, gx):
    """gx = 0; gx[p, ind[p, i]] += g[p, i]; the number of planes with an index out of range (gx is left
    unset then)."""
    xp = _xp(g)
    bad = _bad_planes(xp, ind, gx.shape[1])
    if bad:
        return bad
    acc = compute_dtype(gx.dtype)
    buf = gx if acc == gx.dtype else xp.empty(gx.shape, acc)
    buf.fill(0)
    # overlapping windows repeat indices: the scatter must accumulate
    xp.add.at(buf, (_rows(xp, len(ind)), ind), g.astype(acc, copy=False))
    if buf is not gx:
        gx[...] = buf
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
