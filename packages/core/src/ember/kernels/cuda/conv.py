"""GPU convolutions: im2col + batched matrix products, col2im as strided slice-adds (CuPy array code).

The three primitives of ember/kernels/conv.py (forward, backward, channel_sum) on device arrays, for the
plans that file makes: a plain 3-D convolution (1-D and 2-D ones get leading spatial sizes of 1) from
``src`` (N, C, *I) to ``dst`` (N, O, *L) with a weight (O, C/G, *K). conv.py runs a transposed convolution
on the same primitives with src and dst swapped, so nothing here knows about transposition.

The column matrix of the whole batch is (G, C/G * K, N * L): one copy of a strided window view of the
zero-padded input, so every product is one matmul call over the groups:
    forward          y      = W @ col(x)
    backward weight  gW^T   = col(x) @ gy^T
    backward input   dcol   = W^T @ gy, then col2im: each kernel offset's columns added where they were read
A 1x1 convolution with stride 1 and no padding uses the input itself: y = W @ x and gx = W^T @ gy, as
(G, ...) @ (N, G, ...) products. The column matrix lives only for the call that builds it.
Float and double compute in their own type; half in float32, rounded once when stored.
"""
import itertools
import math

from . import compute_dtype

__all__ = ["Kernels"]


class _Geom(object):
    """A plan's geometry tuple (see ember/kernels/conv.py ``_plan``), by name."""
    __slots__ = ("n", "c", "o", "groups", "src", "dst", "kernel", "stride", "padding", "dilation")

    def __init__(self, geom):
        self.n, self.c, self.o, self.groups = geom[:4]
        (self.src, self.dst, self.kernel, self.stride, self.padding,
         self.dilation) = (tuple(geom[j:j + 3]) for j in range(4, 22, 3))

    @property
    def direct(self):
        """A 1x1 convolution with stride 1 and no padding (nor output cut short): x is its own column matrix."""
        return (self.src == self.dst and not any(self.padding)
                and all(k == 1 for k in self.kernel) and all(s == 1 for s in self.stride))

    @property
    def padded(self):
        return tuple(i + 2 * p for i, p in zip(self.src, self.padding))

    @property
    def interior(self):
        """The index of the unpadded input inside the padded one."""
        return (slice(None), slice(None)) + tuple(slice(p, p + i) for i, p in zip(self.src, self.padding))


class Kernels(object):
    """The convolution primitives on arrays of ``xp`` (CuPy, or ember's fake of it)."""

    def __init__(self, xp):
        self.xp = xp

    # ------------------------------------------------------------------------------- entry points
    def forward(self, plan, src, weight, bias, dst):
        """dst = conv(src, weight) + bias, all flat arrays."""
        g = _Geom(plan.geom)
        ct = compute_dtype(src.dtype)
        x = src.astype(ct, copy=False).reshape((g.n, g.c) + g.src)
        y = self._convolve(x, self._grouped_weight(weight, g, ct), g)
        self._store(dst.reshape(g.n, g.o, -1), y, bias)

    def backward(self, plan, gdst, src, weight, gsrc, gweight, gbias, gsrc_bias):
        """Input gradient (plus ``gsrc_bias`` per input channel) into ``gsrc``, weight gradient into
        ``gweight``, bias gradient into ``gbias``; each skipped when None. ``src`` is read only for gweight."""
        g = _Geom(plan.geom)
        ct = compute_dtype(gdst.dtype)
        gy = gdst.astype(ct, copy=False).reshape(g.n, g.o, -1)
        if gbias is not None:
            self.channel_sum(gy, g.n, g.o, gy.shape[2], gbias)
        if gweight is not None:
            x = src.astype(ct, copy=False).reshape((g.n, g.c) + g.src)
            gweight.reshape(g.groups, g.o // g.groups, -1)[...] = self._weight_grad(gy, x, g).transpose(0, 2, 1)
        if gsrc is not None:
            gx = self._input_grad(gy, self._grouped_weight(weight, g, ct), g)
            self._store(gsrc.reshape((g.n, g.c) + g.src), gx, gsrc_bias)

    def channel_sum(self, t, n, c, p, out):
        """out[c] = sum of t (N, C, P) over N and P (the bias gradient)."""
        out[...] = t.reshape(n, c, p).sum(axis=(0, 2), dtype=compute_dtype(t.dtype))

    # ------------------------------------------------------------------------------- products
    def _convolve(self, x, w, g):
        """conv(x, w) as (N, O, L) (a view of the product's result)."""
        xp = self.xp
        if g.direct:
            return xp.matmul(w, x.reshape(g.n, g.groups, g.c // g.groups, -1)).reshape(g.n, g.o, -1)
        y = xp.matmul(w, self._columns(x, g))  # (G, O/G, N * L)
        return y.reshape(g.groups, g.o // g.groups, g.n, -1).transpose(2, 0, 1, 3).reshape(g.n, g.o, -1)

    def _weight_grad(self, gy, x, g):
        """The weight gradient, transposed: (G, C/G * K, O/G)."""
        xp = self.xp
        og = g.o // g.groups
        # gW = gy @ col^T would have matmul copy the column matrix into its transpose: transpose gy instead
        gyt = xp.ascontiguousarray(gy.reshape(g.n, g.groups, og, -1).transpose(1, 0, 3, 2))
        return xp.matmul(self._columns(x, g), gyt.reshape(g.groups, -1, og))

    def _input_grad(self, gy, w, g):
        """The input gradient (N, C, *I) of gy (N, O, L)."""
        xp = self.xp
        wt = xp.ascontiguousarray(w.transpose(0, 2, 1))  # (G, C/G * K, O/G)
        og = g.o // g.groups
        if g.direct:
            return xp.matmul(wt, gy.reshape(g.n, g.groups, og, -1)).reshape((g.n, g.c) + g.src)
        gyg = xp.ascontiguousarray(gy.reshape(g.n, g.groups, og, -1).transpose(1, 2, 0, 3))
        return self._col2im(xp.matmul(wt, gyg.reshape(g.groups, og, -1)), g)

    # ------------------------------------------------------------------------------- im2col / col2im
    def _columns(self, x, g):
        """The column matrix (G, C/G * K, N * L) of x (N, C, *I)."""
        xp = self.xp
        cg = g.c // g.groups
        xpad = self._padded(x, g)
        sn, sc = xpad.strides[:2]
        sp = xpad.strides[2:]
        # window[grp, c, offset, n, position] = xpad[n, grp * cg + c, position * stride + offset * dilation]
        shape = (g.groups, cg) + g.kernel + (g.n,) + g.dst
        strides = ((cg * sc, sc) + tuple(d * s for d, s in zip(g.dilation, sp)) + (sn,)
                   + tuple(st * s for st, s in zip(g.stride, sp)))
        windows = xp.lib.stride_tricks.as_strided(xpad, shape, strides)
        return xp.ascontiguousarray(windows).reshape(g.groups, cg * math.prod(g.kernel), -1)

    def _padded(self, x, g):
        if not any(g.padding):
            return x
        xpad = self.xp.zeros((g.n, g.c) + g.padded, x.dtype)
        xpad[g.interior] = x
        return xpad

    def _col2im(self, dcol, g):
        """The adjoint of _columns: (G, C/G * K, N * L) -> (N, C, *I), one strided slice-add per kernel offset."""
        xp = self.xp
        cg = g.c // g.groups
        gpad = xp.zeros((g.n, g.groups, cg) + g.padded, dcol.dtype)
        cols = dcol.reshape((g.groups, cg) + g.kernel + (g.n,) + g.dst)
        everything = (slice(None),) * 3
        for offset in itertools.product(*(range(k) for k in g.kernel)):
            window = gpad[everything + tuple(slice(a * d, a * d + s * (o - 1) + 1, s) for a, d, s, o
                                             in zip(offset, g.dilation, g.stride, g.dst))]
            # within one offset no two columns land on the same element: a plain add is exact
            xp.add(window, cols[(slice(None), slice(None)) + offset].transpose(2, 0, 1, 3, 4, 5), out=window)
        return gpad.reshape((g.n, g.c) + g.padded)[g.interior]

    # ------------------------------------------------------------------------------- helpers
    def _grouped_weight(self, weight, g, ct):
        return weight.astype(ct, copy=False).reshape(g.groups, g.o // g.groups, -1)

    def _store(self, out, value, bias):
        """out (N, C, ...) = value, plus bias (C) per channel; rounds to out's type."""
        if bias is None:
            out[...] = value
        else:
            self.xp.add(value, bias.reshape((-1,) + (1,) * (out.ndim - 2)), out=out)
