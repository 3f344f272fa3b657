"""GPU convolutions: cuDNN where it is at hand (``cudnn``, through ctypes), else im2col + batched matrix
products (cuBLAS through CuPy's matmul), im2col and col2im as CUDA kernels.

The three primitives of ember/kernels/conv.py (forward, backward, channel_sum) on device arrays, for the
plans that file makes: a plain 3-D convolution (1-D and 2-D ones get leading spatial sizes of 1) from
``src`` (N, C, *I) to ``dst`` (N, O, *L) with a weight (O, C/G, *K). conv.py runs a transposed convolution
on the same primitives with src and dst swapped, so nothing here knows about transposition.

The column matrix of the whole batch is (G, C/G * K, N * L), written by one kernel straight from the
unpadded input (taps in the padding read as zero), so every product is one matmul call over the groups:
    forward          y      = W @ col(x)
    backward weight  gW^T   = col(x) @ gy^T
    backward input   dcol   = W^T @ gy, then col2im: one thread per input element sums the columns that
                     read it (a gather: no atomics, the same sum order on every run)
A 1x1 convolution with stride 1 and no padding uses the input itself: y = W @ x and gx = W^T @ gy, as
(G, ...) @ (N, G, ...) products. The column matrix lives only for the call that builds it.
Float and double compute in their own type; half in float32, rounded once when stored.
"""
import math

from . import compute_dtype, cudnn
from ._raw import Kernel

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



class Kernels(object):
    """The convolution primitives on arrays of ``xp`` (CuPy, or ember's fake of it)."""

    def __init__(self, xp):
        self.xp = xp

    # ------------------------------------------------------------------------------- entry points
    def forward(self, plan, src, weight, bias, dst):
        """dst = conv(src, weight) + bias, all flat arrays."""
        if cudnn.usable(src.dtype):
            # the bias first, the convolution added to it: one rounding, as below
            if bias is not None:
                self._fill_per_channel(dst, bias, plan.geom[0], plan.geom[2])
            if cudnn.forward(plan.geom, src, weight, dst, accumulate=bias is not None):
                return
        g = _Geom(plan.geom)
        ct = compute_dtype(src.dtype)
        x = src.astype(ct, copy=False).reshape((g.n, g.c) + g.src)
        y = self._convolve(x, self._grouped_weight(weight, g, ct), g)
        self._store(dst.reshape(g.n, g.o, -1), y, bias)

    def backward(self, plan, gdst, src, weight, gsrc, gweight, gbias, gsrc_bias):
        """Input gradient (plus ``gsrc_bias`` per input channel) into ``gsrc``, weight gradient into
        ``gweight``, bias gradient into ``gbias``; each skipped when None. ``src`` is read only for gweight."""
        g = _Geom(plan.geom)
        if cudnn.usable(gdst.dtype):
            if gweight is not None and cudnn.backward_filter(plan.geom, src, gdst, gweight):
                gweight = None
            if gsrc is not None:
                if gsrc_bias is not None:
                    self._fill_per_channel(gsrc, gsrc_bias, g.n, g.c)
                if cudnn.backward_data(plan.geom, weight, gdst, gsrc, accumulate=gsrc_bias is not None):
                    gsrc = None
        if gsrc is None and gweight is None and gbias is None:
            return
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
        cols = self.xp.empty((g.c * math.prod(g.kernel), g.n * math.prod(g.dst)), x.dtype)
        _im2col(cols.size, self.xp.ascontiguousarray(x), cols, cols.size, g.n, g.c, *_geometry(g), dtype=x.dtype)
        return cols.reshape(g.groups, -1, cols.shape[1])

    def _col2im(self, dcol, g):
        """The adjoint of _columns: (G, C/G * K, N * L) -> (N, C, *I)."""
        gx = self.xp.empty((g.n, g.c) + g.src, dcol.dtype)
        _col2im(gx.size, self.xp.ascontiguousarray(dcol), gx, gx.size, g.n, g.c, *_geometry(g), dtype=dcol.dtype)
        return gx

    # ------------------------------------------------------------------------------- helpers
    def _grouped_weight(self, weight, g, ct):
        return weight.astype(ct, copy=False).reshape(g.groups, g.o // g.groups, -1)

    def _fill_per_channel(self, flat, bias, n, c):
        """flat (N, C, ...) = bias (C) on every channel."""
        flat.reshape(n, c, -1)[...] = bias.reshape(-1, 1)

    def _store(self, out, value, bias):
        """out (N, C, ...) = value, plus bias (C) per channel; rounds to out's type."""
        if bias is None:
            out[...] = value
        else:
            self.xp.add(value, bias.reshape((-1,) + (1,) * (out.ndim - 2)), out=out)


def _geometry(g):
    return g.src + g.dst + g.kernel + g.stride + g.padding + g.dilation


_GEOMETRY = r"""index_t N, index_t C, index_t D, index_t H, index_t W, index_t OD, index_t OH, index_t OW, index_t kd,
    index_t kh, index_t kw, index_t sd, index_t sh, index_t sw, index_t pd, index_t ph, index_t pw, index_t dd,
    index_t dh, index_t dw"""

# col[c, jd, jh, jw, n, od, oh, ow] = x[n, c, od*sd - pd + jd*dd, oh*sh - ph + jh*dh, ow*sw - pw + jw*dw]
_im2col = Kernel("im2col", r"""
extern "C" __global__ void im2col(const scalar_t* x, scalar_t* col, index_t total, """ + _GEOMETRY + r""") {
    EMBER_LOOP(i, total) {
        index_t ow = i % OW, t = i / OW;
        index_t oh = t % OH;
        t /= OH;
        index_t od = t % OD;
        t /= OD;
        index_t n = t % N;
        t /= N;
        index_t jw = t % kw;
        t /= kw;
        index_t jh = t % kh;
        t /= kh;
        index_t jd = t % kd, c = t / kd;
        index_t d = od * sd - pd + jd * dd, h = oh * sh - ph + jh * dh, w = ow * sw - pw + jw * dw;
        col[i] = (d >= 0 && d < D && h >= 0 && h < H && w >= 0 && w < W)
            ? x[(((n * C + c) * D + d) * H + h) * W + w] : (scalar_t)0;
    }
}
""")

# gx[n, c, d, h, w] = the sum of the columns that im2col filled from it
_col2im = Kernel("col2im", r"""
extern "C" __global__ void col2im(const scalar_t* col, scalar_t* gx, index_t total, """ + _GEOMETRY + r""") {
    index_t L = OD * OH * OW;
    EMBER_LOOP(i, total) {
        index_t w = i % W, t = i / W;
        index_t h = t % H;
        t /= H;
        index_t d = t % D;
        t /= D;
        index_t c = t % C, n = t / C;
        scalar_t sum = 0;
        for (index_t jd = 0; jd < kd; ++jd) {
            index_t ad = d + pd - jd * dd;
            if (ad < 0 || ad % sd) continue;
            index_t od = ad / sd;
            if (od >= OD) continue;
            for (index_t jh = 0; jh < kh; ++jh) {
                index_t ah = h + ph - jh * dh;
                if (ah < 0 || ah % sh) continue;
                index_t oh = ah / sh;
                if (oh >= OH) continue;
                for (index_t jw = 0; jw < kw; ++jw) {
                    index_t aw = w + pw - jw * dw;
                    if (aw < 0 || aw % sw) continue;
                    index_t ow = aw / sw;
                    if (ow >= OW) continue;
                    index_t row = ((c * kd + jd) * kh + jh) * kw + jw;
                    sum += col[(row * N + n) * L + (od * OH + oh) * OW + ow];
                }
            }
        }
        gx[i] = sum;
    }
}
""")
