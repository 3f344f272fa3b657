"""Spatial-transformer kernels (PyTorch 0.2's F.grid_sample and F.affine_grid), forward and backward, on
ember tensors (float and double).

- grid_sample: input (N, C, IH, IW) sampled at grid (N, H, W, 2) -> (N, C, H, W). grid[..., 0] is x (the
  width axis), grid[..., 1] is y, both in [-1, 1] where -1 and 1 are the centres of the corner pixels
  (0.2's align-corners convention); bilinear interpolation; points outside read zeros (padding 'zeros').
  THNN's SpatialGridSamplerBilinear arithmetic.
- affine_grid: theta (N, 2, 3) and size (N, C, H, W) -> grid (N, H, W, 2) = [x, y, 1] @ theta^T over the
  base grid of linspace(-1, 1) points (a single point sits at -1, as 0.2's code had it).

Every kernel validates its arguments, then calls ``_impl(tensor)``: the one device dispatch point, which
gives ``_CPU`` or, for CUDA tensors, ember/kernels/cuda/spatial.py (the same functions in CuPy), run with
the tensor's GPU current. Half tensors (CUDA only) compute in float32.
"""
import numpy as np

from ember._C import upsampling as _k
from ember._threads import get_num_threads
from ember.kernels.pooling import _carray, _float_input, _same_type, _size_arg
from ember.tensor import _fmt_size

from ._common import on_device, same_device
from .cuda import compute_dtype

__all__ = ["grid_sample_forward", "grid_sample_backward", "affine_grid_forward", "affine_grid_backward"]


# ------------------------------------------------------------------------------------------- device dispatch
class _CPU(object):
    """grid sampling in ember/_C/upsampling.pyx; the affine grid is one batched matrix product."""

    @staticmethod
    def _corners(grid, ih, iw):
        """Per grid point: the flat offsets of its four neighbours (-1 outside) and its distances to them."""
        n = grid.shape[0] * grid.shape[1] * grid.shape[2]
        idx = np.empty((n, 4), np.intp)
        dist = np.empty((n, 4), grid.dtype)
        _k.grid_corners(grid, ih, iw, idx, dist, get_num_threads())
        return idx, dist

    @staticmethod
    def grid_sample(x, grid):
        n, c, ih, iw = x.shape
        _, h, w, _ = grid.shape
        idx, dist = _CPU._corners(grid, ih, iw)
        y = np.empty((n, c, h * w), x.dtype)
        _k.grid_sample_forward(x.reshape(n, c, ih * iw), idx, dist, y, get_num_threads())
        return y.reshape(n, c, h, w)

    @staticmethod
    def grid_sample_backward(g, x, grid):
        n, c, ih, iw = x.shape
        _, h, w, _ = grid.shape
        idx, dist = _CPU._corners(grid, ih, iw)
        gx = np.empty((n, c, ih * iw), x.dtype)
        ggrid = np.empty((n, h * w, 2), x.dtype)
        _k.grid_sample_backward(g.reshape(n, c, h * w), x.reshape(n, c, ih * iw), idx, dist, h, iw, gx, ggrid,
                                get_num_threads())
        return gx.reshape(x.shape), ggrid.reshape(grid.shape)

    @staticmethod
    def affine_grid(theta, base):
        return np.matmul(base, theta.transpose(0, 2, 1))

    @staticmethod
    def affine_grid_backward(g, base):
        return np.matmul(g.transpose(0, 2, 1), base)


def _impl(t):
    # the one device dispatch point (callers hold on_device(t) while they use it)
    if t.is_cuda:
        from .cuda import spatial as gpu
        return gpu
    return _CPU


# ------------------------------------------------------------------------------------------- grid_sample
def _grid_args(op, input, grid):
    cls = _float_input(op, input)
    _same_type(op, grid, cls, "grid")
    same_device(grid, input, op, "grid")
    shape = tuple(input._a.shape) if input._a.size else ()
    gshape = tuple(grid._a.shape) if grid._a.size else ()
    if len(shape) != 4:
        raise RuntimeError("{}: expected 4D input (N, C, H, W), got {}".format(op, _fmt_size(input.size())))
    if len(gshape) != 4 or gshape[3] != 2 or gshape[0] != shape[0]:
        raise RuntimeError("{}: expected grid of size [{} x H x W x 2] for input {}, got {}"
                           .format(op, shape[0], _fmt_size(shape), _fmt_size(grid.size())))
    return cls, shape, gshape


def grid_sample_forward(input, grid):
    """Bilinear sampling of input (N, C, IH, IW) at grid (N, H, W, 2) -> (N, C, H, W)."""
    op = "grid_sample"
    cls, _, _ = _grid_args(op, input, grid)
    with on_device(input):
        return cls._make(_impl(input).grid_sample(_carray(input), _carray(grid)))


def grid_sample_backward(grad_output, input, grid):
    """Gradients of grid_sample for the input and the grid: (grad_input, grad_grid)."""
    op = "grid_sample_backward"
    cls, shape, (n, h, w, _) = _grid_args(op, input, grid)
    _same_type(op, grad_output, cls, "grad_output")
    same_device(grad_output, input, op, "grad_output")
    expected = (n, shape[1], h, w)
    if tuple(grad_output._a.shape) != expected:
        raise RuntimeError("{}: expected grad_output of size {}, got {}".format(op, _fmt_size(expected),
                                                                               _fmt_size(grad_output.size())))
    with on_device(input):
        gx, ggrid = _impl(input).grid_sample_backward(_carray(grad_output), _carray(input), _carray(grid))
    return cls._make(gx), cls._make(ggrid)


# ------------------------------------------------------------------------------------------- affine_grid
def _base_grid(h, w, dtype):
    """(1, H*W, 3) rows [x, y, 1] over linspace(-1, 1) (one point: -1), a host array of ``dtype``, float32
    for Half."""
    dtype = compute_dtype(dtype)
    xs = np.linspace(-1, 1, w) if w > 1 else np.array([-1.0])
    ys = np.linspace(-1, 1, h) if h > 1 else np.array([-1.0])
    base = np.empty((h, w, 3), dtype)
    base[:, :, 0] = xs[None, :]
    base[:, :, 1] = ys[:, None]
    base[:, :, 2] = 1
    return base.reshape(1, h * w, 3)


def _size4(op, size):
    size = _size_arg(op, "size", size)
    if len(size) != 4 or min(size) < 1:
        raise RuntimeError("{}: expected size (N, C, H, W) of 4 positive ints, got {}".format(op, list(size)))
    return size


def affine_grid_forward(theta, size):
    """The sampling grid (N, H, W, 2) of the affine maps theta (N, 2, 3) for an output of ``size``."""
    op = "affine_grid"
    cls = _float_input(op, theta, "theta")
    n, _, h, w = _size4(op, size)
    if tuple(theta._a.shape) != (n, 2, 3):
        raise RuntimeError("{}: expected theta of size {} for size {}, got {}"
                           .format(op, _fmt_size((n, 2, 3)), list(size), _fmt_size(theta.size())))
    with on_device(theta):
        grid = _impl(theta).affine_grid(_carray(theta), _base_grid(h, w, cls._dtype))
        return cls._make(cls._xp.ascontiguousarray(grid, cls._dtype).reshape(n, h, w, 2))


def affine_grid_backward(grad_grid, size):
    """Gradient of affine_grid for theta: (N, 2, 3)."""
    op = "affine_grid_backward"
    cls = _float_input(op, grad_grid, "grad_grid")
    n, _, h, w = _size4(op, size)
    if tuple(grad_grid._a.shape) != (n, h, w, 2):
        raise RuntimeError("{}: expected grad_grid of size {}, got {}".format(op, _fmt_size((n, h, w, 2)),
                                                                             _fmt_size(grad_grid.size())))
    with on_device(grad_grid):
        g = _carray(grad_grid).reshape(n, h * w, 2)
        gtheta = _impl(grad_grid).affine_grid_backward(g, _base_grid(h, w, cls._dtype))
        return cls._make(cls._xp.ascontiguousarray(gtheta, cls._dtype))
