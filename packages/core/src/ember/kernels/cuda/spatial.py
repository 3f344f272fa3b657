"""GPU paths of the spatial-transformer kernels: ``ember.kernels.spatial._CPU``'s methods; grid_sample as
CUDA kernels (``_raw``), the affine grid as one batched matrix product.

grid_sample takes every output point's four neighbours with THNN's SpatialGridSamplerBilinear arithmetic
(the CPU kernel's): one thread per output element forward; backward, one thread per grid point runs over
the channels, adding into the input's gradient (``atomicAdd``: neighbours are shared) and summing the
grid's. Half computes in float32 and rounds once.
"""
from ember import _backend

from . import widened
from ._raw import Kernel

# The point's neighbours nw, ne, sw, se as flat plane offsets (-1 outside) and its distances to them. A point
# with no neighbour inside (or NaN) moves to (-2, -2): all its neighbours are outside too, and its
# coordinates stay finite for the integer conversion.
_CORNERS = r"""
__device__ __forceinline__ void corners(const scalar_t* point, index_t ih, index_t iw, index_t* at,
                                        scalar_t* dist) {
    scalar_t ix = (point[0] + 1) / 2 * (scalar_t)(iw - 1), iy = (point[1] + 1) / 2 * (scalar_t)(ih - 1);
    if (!(ix >= -1 && ix <= (scalar_t)iw && iy >= -1 && iy <= (scalar_t)ih)) {
        ix = -2;
        iy = -2;
    }
    scalar_t x0 = floor(ix), y0 = floor(iy);
    dist[0] = x0 + 1 - ix;
    dist[1] = ix - x0;
    dist[2] = y0 + 1 - iy;
    dist[3] = iy - y0;
    index_t xs = (index_t)x0, ys = (index_t)y0;
    for (int k = 0; k < 4; ++k) {
        index_t x = xs + (k & 1), y = ys + (k >> 1);
        at[k] = (x >= 0 && x < iw && y >= 0 && y < ih) ? y * iw + x : -1;
    }
}
"""

_grid_sample = Kernel("grid_sample", _CORNERS + r"""
extern "C" __global__ void grid_sample(const scalar_t* x, const scalar_t* grid, scalar_t* y, index_t n, index_t C,
                                       index_t P, index_t ih, index_t iw) {
    EMBER_LOOP(i, n) {
        index_t p = i % P, b = i / P / C;
        index_t at[4];
        scalar_t d[4];
        corners(grid + (b * P + p) * 2, ih, iw, at, d);
        const scalar_t* plane = x + i / P * ih * iw;
        scalar_t v[4];
        for (int k = 0; k < 4; ++k)
            v[k] = at[k] >= 0 ? plane[at[k]] : (scalar_t)0;
        y[i] = v[0] * (d[0] * d[2]) + v[1] * (d[1] * d[2]) + v[2] * (d[0] * d[3]) + v[3] * (d[1] * d[3]);
    }
}
""")

_grid_sample_backward = Kernel("grid_sample_backward", _CORNERS + r"""
extern "C" __global__ void grid_sample_backward(const scalar_t* g, const scalar_t* x, const scalar_t* grid,
                                                scalar_t* gx, scalar_t* ggrid, index_t n, index_t C, index_t P,
                                                index_t ih, index_t iw) {
    EMBER_LOOP(i, n) {
        index_t p = i % P, b = i / P;
        index_t at[4];
        scalar_t d[4];
        corners(grid + i * 2, ih, iw, at, d);
        scalar_t w[4] = {d[0] * d[2], d[1] * d[2], d[0] * d[3], d[1] * d[3]};
        scalar_t sx = 0, sy = 0;
        for (index_t c = 0; c < C; ++c) {
            index_t plane = (b * C + c) * ih * iw;
            scalar_t go = g[(b * C + c) * P + p], v[4];
            for (int k = 0; k < 4; ++k) {
                v[k] = 0;
                if (at[k] >= 0) {
                    atomicAdd(gx + plane + at[k], w[k] * go);
                    v[k] = x[plane + at[k]];
                }
            }
            sx += -v[0] * d[2] * go + v[1] * d[2] * go - v[2] * d[3] * go + v[3] * d[3] * go;
            sy += -v[0] * d[0] * go - v[1] * d[1] * go + v[2] * d[0] * go + v[3] * d[1] * go;
        }
        ggrid[i * 2] = sx * (scalar_t)(iw - 1) / 2;
        ggrid[i * 2 + 1] = sy * (scalar_t)(ih - 1) / 2;
    }
}
""")


def _setup(x, grid):
    xp = _backend.get_array_module(x)
    return xp, xp.ascontiguousarray(widened(x)), xp.ascontiguousarray(widened(grid))


def grid_sample(x, grid):
    """x (N, C, IH, IW) sampled at grid (N, H, W, 2) -> (N, C, H, W)."""
    xp, planes, points = _setup(x, grid)
    n, c, ih, iw = x.shape
    y = xp.empty((n, c) + grid.shape[1:3], planes.dtype)
    _grid_sample(y.size, planes, points, y, y.size, c, grid.shape[1] * grid.shape[2], ih, iw, dtype=planes.dtype)
    return y.astype(x.dtype, copy=False)


def grid_sample_backward(g, x, grid):
    """(gradient of x, gradient of grid) for the output gradient g (N, C, H, W)."""
    xp, planes, points = _setup(x, grid)
    n, c, ih, iw = x.shape
    gx = xp.zeros(planes.shape, planes.dtype)
    ggrid = xp.empty(points.shape, planes.dtype)
    p = grid.shape[1] * grid.shape[2]
    _grid_sample_backward(n * p, xp.ascontiguousarray(g.astype(planes.dtype, copy=False)), planes, points, gx,
                          ggrid, n * p, c, p, ih, iw, dtype=planes.dtype)
    return gx.astype(x.dtype, copy=False), ggrid.astype(x.dtype, copy=False)


def affine_grid(theta, base):
    """[x, y, 1] rows of ``base`` (1, H*W, 3; a host array) times theta (N, 2, 3) transposed, in base's type."""
    xp = _backend.get_array_module(theta)
    return xp.matmul(xp.asarray(base), theta.astype(base.dtype, copy=False).transpose(0, 2, 1))


def affine_grid_backward(g, base):
    """affine_grid's adjoint: g (N, H*W, 2) transposed times ``base``, in base's type."""
    xp = _backend.get_array_module(g)
    return xp.matmul(g.astype(base.dtype, copy=False).transpose(0, 2, 1), xp.asarray(base))
