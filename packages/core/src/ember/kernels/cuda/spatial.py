"""GPU paths of the spatial-transformer kernels: ``ember.kernels.spatial._CPU``'s methods in CuPy.

grid_sample gathers every output point's four neighbours with THNN's SpatialGridSamplerBilinear arithmetic
(the CPU kernel's); the input's gradient scatter-adds back through them (``xp.add.at``), the grid's
sums over the channels. Half computes in float32 and rounds once.
"""
import numpy as np

from ember import _backend

from . import widened


def _corners(xp, grid, ih, iw):
    """For grid (N, P, 2) in [-1, 1]: the flat offsets (N, 4, P) of each point's neighbours nw, ne, sw, se in
    an (ih, iw) plane (0 where outside), whether each is inside (N, 4, P), and the distances dx0, dx1, dy0,
    dy1 (N, 1, P) whose products are the bilinear weights."""
    ix = (grid[..., 0] + 1) / 2 * (iw - 1)
    iy = (grid[..., 1] + 1) / 2 * (ih - 1)
    # a point with no neighbour inside (or NaN) moves to (-2, -2): all its neighbours are outside too, and
    # its coordinates stay finite for the integer conversion
    near = (ix >= -1) & (ix <= iw) & (iy >= -1) & (iy <= ih)
    ix = xp.where(near, ix, -2)
    iy = xp.where(near, iy, -2)
    x0, y0 = xp.floor(ix), xp.floor(iy)
    dist = [d[:, None, :] for d in (x0 + 1 - ix, ix - x0, y0 + 1 - iy, iy - y0)]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    xs, ys = (x0, x0 + 1, x0, x0 + 1), (y0, y0, y0 + 1, y0 + 1)
    inside = xp.stack([(x >= 0) & (x < iw) & (y >= 0) & (y < ih) for x, y in zip(xs, ys)], axis=1)
    offsets = xp.where(inside, xp.stack([y * iw + x for x, y in zip(xs, ys)], axis=1), 0)
    return offsets, inside, dist


def _neighbours(xp, x, offsets, inside):
    """The values (N, C, 4, P) of planes x (N, C, IP) at the neighbours, zero outside."""
    n, c, _ = x.shape
    v = xp.take_along_axis(x, offsets.reshape(n, 1, -1), axis=2).reshape(n, c, 4, -1)
    return xp.where(inside[:, None], v, 0)


def _setup(x, grid):
    """(xp, the planes (N, C, IP), their plane shape, the corners of grid's points), in the compute type."""
    xp = _backend.get_array_module(x)
    n, c, ih, iw = x.shape
    planes = widened(x).reshape(n, c, ih * iw)
    points = widened(grid).reshape(n, -1, 2)
    return xp, planes, (ih, iw), _corners(xp, points, ih, iw)


def grid_sample(x, grid):
    """x (N, C, IH, IW) sampled at grid (N, H, W, 2) -> (N, C, H, W)."""
    xp, planes, _, (offsets, inside, (dx0, dx1, dy0, dy1)) = _setup(x, grid)
    nw, ne, sw, se = xp.moveaxis(_neighbours(xp, planes, offsets, inside), 2, 0)
    y = nw * (dx0 * dy0) + ne * (dx1 * dy0) + sw * (dx0 * dy1) + se * (dx1 * dy1)
    return y.astype(x.dtype, copy=False).reshape(x.shape[:2] + grid.shape[1:3])


def grid_sample_backward(g, x, grid):
    """(gradient of x, gradient of grid) for the output gradient g (N, C, H, W)."""
    xp, planes, (ih, iw), (offsets, inside, (dx0, dx1, dy0, dy1)) = _setup(x, grid)
    n, c, _ = planes.shape
    g = g.astype(planes.dtype, copy=False).reshape(n, c, 1, -1)
    weights = xp.stack([dx0 * dy0, dx1 * dy0, dx0 * dy1, dx1 * dy1], axis=2)  # (N, 1, 4, P)
    gx = xp.zeros(planes.shape, planes.dtype)
    rows = (xp.arange(n)[:, None, None], xp.arange(c)[None, :, None], offsets.reshape(n, 1, -1))
    xp.add.at(gx, rows, xp.where(inside[:, None], weights * g, 0).reshape(n, c, -1))
    g = g[:, :, 0]
    nw, ne, sw, se = xp.moveaxis(_neighbours(xp, planes, offsets, inside), 2, 0)
    gx_grid = (-nw * dy0 * g + ne * dy0 * g - sw * dy1 * g + se * dy1 * g).sum(axis=1) * (iw - 1) / 2
    gy_grid = (-nw * dx0 * g - ne * dx1 * g + sw * dx0 * g + se * dx1 * g).sum(axis=1) * (ih - 1) / 2
    ggrid = xp.stack([gx_grid, gy_grid], axis=-1)
    return gx.astype(x.dtype, copy=False).reshape(x.shape), ggrid.astype(x.dtype, copy=False).reshape(grid.shape)


def affine_grid(theta, base):
    """[x, y, 1] rows of ``base`` (1, H*W, 3; a host array) times theta (N, 2, 3) transposed, in base's type."""
    xp = _backend.get_array_module(theta)
    return xp.matmul(xp.asarray(base), theta.astype(base.dtype, copy=False).transpose(0, 2, 1))


def affine_grid_backward(g, base):
    """affine_grid's adjoint: g (N, H*W, 2) transposed times ``base``, in base's type."""
    xp = _backend.get_array_module(g)
    return xp.matmul(g.astype(base.dtype, copy=False).transpose(0, 2, 1), xp.asarray(base))
