"""Reflection and replication padding kernels, forward and backward, on ember tensors (float and double).

THNN's SpatialReflectionPadding, SpatialReplicationPadding and VolumetricReplicationPadding (PyTorch 0.2),
plus the 1-D forms (ember extras: 0.2 reached them only through the 2-D kernels):
- reflection_pad1d (C, W) / (N, C, W), padding (left, right);
- reflection_pad2d (C, H, W) / (N, C, H, W), padding (left, right, top, bottom);
- replication_pad1d, replication_pad2d as above, replication_pad3d (C, D, H, W) / (N, C, D, H, W) with
  padding (left, right, top, bottom, front, back).
A negative padding crops, as THNN's index arithmetic allows. Reflection mirrors around the edge element
(padding must be smaller than the input along that dim); replication repeats it.

Padding is an index map per spatial axis: the forward gathers through the maps in one pass (copying each
row's unpadded centre as a block), the backward scatters back through them. The compiled kernels, their
CuPy twins and the device dispatch point are the upsampling module's (ember.kernels.upsampling._impl).
"""
import numpy as np

from ember.kernels.pooling import _carray, _float_input, _ints, _size_arg, _split_input
from ember.kernels.upsampling import _impl, _maps3, _planes, _planes_shape
from ember.tensor import _fmt_size

from ._common import on_device

__all__ = [
    "reflection_pad1d_forward", "reflection_pad1d_backward", "reflection_pad2d_forward", "reflection_pad2d_backward",
    "replication_pad1d_forward", "replication_pad1d_backward", "replication_pad2d_forward",
    "replication_pad2d_backward", "replication_pad3d_forward", "replication_pad3d_backward",
]

_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _index_map(n_in, before, after, reflect):
    """THNN's source index for each output position along one axis (negative padding crops)."""
    n_out = n_in + before + after
    j = np.arange(n_out, dtype=np.intp)
    if reflect:
        src = np.where(j < before, 2 * before - j, np.where(j < n_in + before, j, 2 * (n_in + before - 1) - j))
    else:
        src = np.clip(j, before, n_in + before - 1)
    return src - max(0, before) + max(0, -before)


def _plan(op, nd, spatial, padding, reflect):
    """(index maps padded to (md, mh, mw), the unit-step run of mw, output spatial size)."""
    pads = _ints(op, "padding", padding, 2 * nd)
    names = _NAMES[nd]
    maps = []
    for d in range(nd):  # padding lists the innermost dim first
        before, after = pads[2 * (nd - 1 - d)], pads[2 * (nd - 1 - d) + 1]
        if reflect and (before >= spatial[d] or after >= spatial[d]):
            raise RuntimeError("{}: Padding size should be less than the corresponding input dimension, but got: "
                               "padding ({}, {}) at dimension {} of input {}D spatial size {}"
                               .format(op, before, after, names[d], nd, list(spatial)))
        maps.append((before, after))
    out = tuple(n + b + a for n, (b, a) in zip(spatial, maps))
    if min(out) < 1:
        raise RuntimeError("{}: input ({}) is too small. Calculated output {}"
                           .format(op, ", ".join("{}: {}".format(n, s) for n, s in zip(names, spatial)),
                                   " ".join("{}: {}".format(n, s) for n, s in zip(names, out))))
    before, _ = maps[-1]
    run = (max(before, 0), min(out[-1], spatial[-1] + before))  # the copied centre of each row
    return _maps3([_index_map(n, b, a, reflect) for n, (b, a) in zip(spatial, maps)]), run, out


def _forward(op, nd, input, padding, reflect):
    cls = _float_input(op, input)
    lead, spatial = _split_input(op, input, nd, "(batch mode) ")
    maps, run, out = _plan(op, nd, spatial, padding, reflect)
    with on_device(input):
        y = _impl(input).remap(_planes(_carray(input), nd), maps, run)
    return cls._make(y.reshape(tuple(lead) + out))


def _backward(op, nd, grad_output, input_size, padding, reflect):
    cls = _float_input(op, grad_output, "grad_output")
    size = _size_arg(op, "input_size", input_size)
    if len(size) not in (nd + 1, nd + 2) or min(size) < 1:
        raise RuntimeError("{}: expected input_size of {} or {} positive entries, got {}"
                           .format(op, nd + 1, nd + 2, list(size)))
    maps, run, out = _plan(op, nd, size[-nd:], padding, reflect)
    expected = tuple(size[:-nd]) + out
    if tuple(grad_output._a.shape) != expected or not grad_output._a.size:
        raise RuntimeError("{}: expected grad_output of size {}, got {}".format(op, _fmt_size(expected),
                                                                               _fmt_size(grad_output.size())))
    with on_device(grad_output):
        g = _planes(_carray(grad_output), nd)
        gx = _impl(grad_output).remap_backward(g, maps, run, _planes_shape(size, nd))
    return cls._make(gx.reshape(size))


def reflection_pad1d_forward(input, padding):
    """Reflection padding of (C, W) or (N, C, W) by padding (left, right) (an int pads both sides)."""
    return _forward("reflection_pad1d", 1, input, padding, True)


def reflection_pad1d_backward(grad_output, input_size, padding):
    return _backward("reflection_pad1d_backward", 1, grad_output, input_size, padding, True)


def reflection_pad2d_forward(input, padding):
    """Reflection padding of (C, H, W) or (N, C, H, W) by padding (left, right, top, bottom)."""
    return _forward("reflection_pad2d", 2, input, padding, True)


def reflection_pad2d_backward(grad_output, input_size, padding):
    return _backward("reflection_pad2d_backward", 2, grad_output, input_size, padding, True)


def replication_pad1d_forward(input, padding):
    """Replication padding of (C, W) or (N, C, W) by padding (left, right)."""
    return _forward("replication_pad1d", 1, input, padding, False)


def replication_pad1d_backward(grad_output, input_size, padding):
    return _backward("replication_pad1d_backward", 1, grad_output, input_size, padding, False)


def replication_pad2d_forward(input, padding):
    """Replication padding of (C, H, W) or (N, C, H, W) by padding (left, right, top, bottom)."""
    return _forward("replication_pad2d", 2, input, padding, False)


def replication_pad2d_backward(grad_output, input_size, padding):
    return _backward("replication_pad2d_backward", 2, grad_output, input_size, padding, False)


def replication_pad3d_forward(input, padding):
    """Replication padding of (C, D, H, W) or (N, C, D, H, W) by padding (left, right, top, bottom, front, back)."""
    return _forward("replication_pad3d", 3, input, padding, False)


def replication_pad3d_backward(grad_output, input_size, padding):
    return _backward("replication_pad3d_backward", 3, grad_output, input_size, padding, False)
