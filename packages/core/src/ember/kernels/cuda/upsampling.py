"""GPU paths of the upsampling and padding kernels: ``ember.kernels.upsampling._CPU``'s methods in CuPy.

Padding and nearest upsampling gather through one index map per spatial axis; bi/trilinear upsampling
interpolates along one axis at a time. The backward passes are the adjoint scatter-adds (``xp.add.at``,
which counts every duplicate index). Half gradients sum in float32 and round once; the linear passes
compute in their weights' type, which the caller makes float32 for Half.
"""
from ember import _backend

from . import compute_dtype


def _grid_index(xp, maps):
    """The (md, mh, mw) maps as device indices of (planes, D, H, W), broadcasting to the output's (D, H, W)."""
    md, mh, mw = (xp.asarray(m) for m in maps)
    return slice(None), md[:, None, None], mh[:, None], mw


def remap(x, maps, run):
    """y[o, i, j, k] = x[o, md[i], mh[j], mw[k]] as one gather (``run`` is a hint for the CPU kernel)."""
    return x[_grid_index(_backend.get_array_module(x), maps)]


def remap_backward(g, maps, run, shape):
    """remap's adjoint into a new array of ``shape`` (O, D, H, W)."""
    xp = _backend.get_array_module(g)
    gx = xp.zeros(shape, compute_dtype(g.dtype))
    xp.add.at(gx, _grid_index(xp, maps), g)
    return gx.astype(g.dtype, copy=False)


def _table(xp, table, axis, ndim):
    """(i0, i1, w0, w1) on the device, the weights shaped to broadcast along ``axis`` of an ndim array."""
    i0, i1, w0, w1 = (xp.asarray(a) for a in table)
    along = (-1,) + (1,) * (ndim - axis - 1)
    return i0, i1, w0.reshape(along), w1.reshape(along)


def lerp(x, axis, table):
    """y[.., j, ..] = w0[j] x[.., i0[j], ..] + w1[j] x[.., i1[j], ..], in the weights' type."""
    xp = _backend.get_array_module(x)
    i0, i1, w0, w1 = _table(xp, table, axis, x.ndim)
    x = x.astype(w0.dtype, copy=False)
    return w0 * xp.take(x, i0, axis) + w1 * xp.take(x, i1, axis)


def lerp_backward(g, axis, table, n):
    """lerp's adjoint: an array with ``n`` entries along ``axis``, in the weights' type."""
    xp = _backend.get_array_module(g)
    i0, i1, w0, w1 = _table(xp, table, axis, g.ndim)
    g = g.astype(w0.dtype, copy=False)
    gx = xp.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1:], w0.dtype)
    lead = (slice(None),) * axis
    xp.add.at(gx, lead + (i0,), w0 * g)
    xp.add.at(gx, lead + (i1,), w1 * g)
    return gx
