"""Spatial transformer functions (PyTorch 0.2's F.grid_sample and F.affine_grid) on ember.kernels.

affine_grid is linear in theta (``LinearMap``: differentiable any number of times). grid_sample's
backward runs its kernel once (as 0.2's GridSampler, it is not differentiable twice).
"""
from ember import kernels as K
from ember.autograd import Function, once_differentiable

from .pooling import LinearMap

__all__ = ["grid_sample", "affine_grid"]


class GridSampler(Function):

    @staticmethod
    def forward(ctx, input, grid):
        ctx.save_for_backward(input, grid)
        return K.grid_sample_forward(input, grid)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        input, grid = ctx.saved_tensors
        grad_input, grad_grid = K.grid_sample_backward(grad_output, input, grid)
        need_input, need_grid = ctx.needs_input_grad
        return (grad_input if need_input else None), (grad_grid if need_grid else None)


def grid_sample(input, grid, mode="bilinear"):
    """Sample ``input`` (N, C, H_in, W_in) bilinearly at the points of ``grid`` (N, H, W, 2) -> (N, C, H, W).
    grid[..., 0] is x (along the width), grid[..., 1] is y, both in [-1, 1] where -1 and 1 are the centres
    of the corner pixels; points outside the input read zeros. 'bilinear' is the only mode (as in 0.2)."""
    if mode != "bilinear":
        raise NotImplementedError("grid_sample: mode '{}' is not supported (only 'bilinear', as in 0.2)".format(mode))
    return GridSampler.apply(input, grid)


def affine_grid(theta, size):
    """The sampling grid (N, H, W, 2) of the affine maps ``theta`` (N, 2, 3) for an output of ``size``
    (N, C, H, W): each output pixel's normalised (x, y, 1) times theta transposed."""
    size = tuple(size)
    return LinearMap.apply(theta, lambda t: K.affine_grid_forward(t, size),
                           lambda g: K.affine_grid_backward(g, size))
