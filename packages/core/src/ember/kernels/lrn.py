"""Local response normalisation across channels, Lua/THCUNN's SpatialCrossMapLRN.

    output, scale = cross_map_lrn_forward(input, size, alpha, beta, k)
    grad_input = cross_map_lrn_backward(grad_output, input, output, scale, size, alpha, beta)

Input is (C, H, W) or (N, C, H, W). With pre = (size - 1) // 2, channel c is normalised over the channels
c - pre ... c - pre + size - 1 (clipped to the input):
    scale[c] = k + alpha / size * sum(input[j] ** 2 for j in the window of c)
    output[c] = input[c] * scale[c] ** -beta
PyTorch 0.2 ran a Python port of this on the CPU whose window never dropped channel 0 and whose backward
was shifted by one channel; these kernels follow Lua nn and THCUNN (what 0.2 computed on the GPU).
NumPy is already fast here: ``size`` shifted whole-array adds per pass.
"""
import numbers

import numpy as np

from ._common import contiguous, float_input, on_device, same_device, same_type, size_str, xp_of

__all__ = ["cross_map_lrn_forward", "cross_map_lrn_backward"]


def cross_map_lrn_forward(input, size, alpha=1e-4, beta=0.75, k=1):
    """(output, scale); cross_map_lrn_backward takes both."""
    op = "cross_map_lrn_forward"
    _check_input(input, op)
    size = _size(size, op)
    alpha, beta, k = float(alpha), float(beta), float(k)
    if input.is_cuda:
        from .cuda import lrn as _gpu
        with on_device(input):
            output, scale = _gpu.cross_map_lrn_forward(xp_of(input), _as3d(input), size, alpha, beta, k)
        return _as_input(input, output), _as_input(input, scale)
    return _forward_cpu(input, _as3d(input), size, alpha, beta, k)


def cross_map_lrn_backward(grad_output, input, output, scale, size, alpha=1e-4, beta=0.75):
    """The gradient of the input, from the forward's input, output and scale."""
    op = "cross_map_lrn_backward"
    _check_input(input, op)
    size = _size(size, op)
    alpha, beta = float(alpha), float(beta)
    for t, name in ((grad_output, "grad_output"), (output, "output"), (scale, "scale")):
        same_type(t, input, op, name)
        same_device(t, input, op, name)
        if t._a.shape != input._a.shape:
            raise ValueError("{}(): {} has size {} but input has size {}"
                             .format(op, name, size_str(t), size_str(input)))
    tensors = (input, grad_output, output, scale)
    if input.is_cuda:
        from .cuda import lrn as _gpu
        with on_device(input):
            grad_input = _gpu.cross_map_lrn_backward(xp_of(input), *map(_as3d, tensors), size, alpha, beta)
        return _as_input(input, grad_input)
    return _backward_cpu(input, *map(_as3d, tensors), size, alpha, beta)


def _check_input(input, op):
    float_input(input, op)
    if input._a.ndim not in (3, 4):
        raise ValueError("{}(): expected a 3D (C x H x W) or 4D (N x C x H x W) input, got size {}"
                         .format(op, size_str(input)))


def _as3d(t):
    """The array of a checked input-sized tensor as a C-contiguous (N, C, H*W) array."""
    a = contiguous(t._a)
    return a.reshape(1 if a.ndim == 3 else a.shape[0], a.shape[-3], -1)


def _as_input(input, a):
    """A (N, C, H*W) result as a tensor of the input's type and size."""
    return type(input)._make(a.reshape(input._a.shape))


def _size(size, op):
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError("{}(): size must be a positive int, got {!r}".format(op, size))
    return int(size)


def _window_sum(a, size, before):
    """out[:, c] = sum of a[:, j] for j in c - before ... c - before + size - 1 (inside 0 ... C - 1)."""
    C = a.shape[1]
    padded = np.zeros((a.shape[0], C + size - 1, a.shape[2]), a.dtype)
    padded[:, before:before + C] = a
    out = padded[:, 0:C].copy()
    for o in range(1, size):
        np.add(out, padded[:, o:o + C], out=out)
    return out


# ---------------------------------------------------------------------- CPU (a GPU path joins above these)

def _forward_cpu(input, x, size, alpha, beta, k):
    scale = _window_sum(x * x, size, (size - 1) // 2)
    scale *= alpha / size
    scale += k
    output = np.power(scale, -beta, dtype=x.dtype)
    output *= x
    cls = type(input)
    shape = input._a.shape
    return cls._make(output.reshape(shape)), cls._make(scale.reshape(shape))


def _backward_cpu(input, x, go, out, scale, size, alpha, beta):
    ratio = go * out
    ratio /= scale
    # output j depends on input c when c is in j's window: j in c - (size - 1 - pre) ... c + pre
    accum = _window_sum(ratio, size, size - 1 - (size - 1) // 2)
    accum *= x
    accum *= 2 * alpha * beta / size
    grad_input = np.power(scale, -beta, dtype=x.dtype)
    grad_input *= go
    grad_input -= accum
    return type(input)._make(grad_input.reshape(input._a.shape))
