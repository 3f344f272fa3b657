"""Padding (PyTorch 0.2's F.pad): constant padding written here, reflection and replication through
ember.kernels.padding.

``pad`` lists (before, after) pairs starting from the last dim: (left, right[, top, bottom[, front, back]]).
0.2 pads 4-D inputs in every mode and 5-D inputs with 'replicate'; ember extras: 'constant' pads any
trailing dims of any input, and 'reflect'/'replicate' also pad the last dim of (C, W) / (N, C, W) inputs
and the last two dims of (C, H, W) inputs. Negative padding crops, as in THNN.
"""
import numbers

import ember.cuda
from ember import kernels
from ember.autograd import Function
from .activation import float_array, size_of

__all__ = ["pad"]


def _pad_arg(pad):
    if not isinstance(pad, (tuple, list)) or \
            not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in pad):
        raise TypeError("pad(): pad must be a tuple of ints, got {!r}".format(pad))
    if len(pad) % 2:
        raise ValueError("pad(): Padding length must be divisible by 2, got {} values".format(len(pad)))
    return tuple(int(p) for p in pad)


class ConstantPad(Function):
    """Pad the trailing dims with ``value`` (negative amounts crop); the gradient is the inverse crop/pad."""

    @staticmethod
    def forward(ctx, input, pad, value=0):
        a = input._a
        cls = type(input)
        nd = a.ndim if a.size else 0
        if len(pad) // 2 > nd:
            raise ValueError("pad(): Padding length too large: {} values for an input of size {}"
                             .format(len(pad), size_of(input)))
        shape = list(a.shape)
        src, dst = [slice(None)] * nd, [slice(None)] * nd
        for i in range(len(pad) // 2):
            d = nd - 1 - i
            before, after = pad[2 * i], pad[2 * i + 1]
            n = a.shape[d]
            shape[d] = n + before + after
            if shape[d] < 1:
                raise RuntimeError("pad(): input of size {} is too small for padding {}: dim {} would have size {}"
                                   .format(size_of(input), pad, d, shape[d]))
            lo, hi = max(-before, 0), n - max(-after, 0)
            src[d] = slice(lo, max(hi, lo))
            dst[d] = slice(max(before, 0), max(before, 0) + max(hi - lo, 0))
        with ember.cuda.device_of(input):  # the padded copy belongs beside the input
            out = cls._xp.full(tuple(shape), value, a.dtype)
            out[tuple(dst)] = a[tuple(src)]
        ctx.pad = pad
        return cls._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        return ConstantPad.apply(grad_output, tuple(-p for p in ctx.pad), 0), None, None


# (forward, backward) kernels by (mode, number of padded dims)
_EDGE_KERNELS = {
    ("reflect", 1): (kernels.reflection_pad1d_forward, kernels.reflection_pad1d_backward),
    ("reflect", 2): (kernels.reflection_pad2d_forward, kernels.reflection_pad2d_backward),
    ("replicate", 1): (kernels.replication_pad1d_forward, kernels.replication_pad1d_backward),
    ("replicate", 2): (kernels.replication_pad2d_forward, kernels.replication_pad2d_backward),
    ("replicate", 3): (kernels.replication_pad3d_forward, kernels.replication_pad3d_backward),
}


class EdgePad(Function):
    """Reflection or replication padding (``key`` picks the kernels); its gradient is EdgePadBackward."""

    @staticmethod
    def forward(ctx, input, pad, key):
        ctx.pad, ctx.key = pad, key
        ctx.input_size = input.size()
        return _EDGE_KERNELS[key][0](input, pad)

    @staticmethod
    def backward(ctx, grad_output):
        return EdgePadBackward.apply(grad_output, ctx.input_size, ctx.pad, ctx.key), None, None


class EdgePadBackward(Function):
    """The (linear) gradient of EdgePad; its own gradient is EdgePad again, so double backward works."""

    @staticmethod
    def forward(ctx, grad_output, input_size, pad, key):
        ctx.pad, ctx.key = pad, key
        return _EDGE_KERNELS[key][1](grad_output, input_size, pad)

    @staticmethod
    def backward(ctx, grad_grad):
        return EdgePad.apply(grad_grad, ctx.pad, ctx.key), None, None, None


def pad(input, pad, mode="constant", value=0):
    """Pad ``input``: ``pad`` = (left, right[, top, bottom[, front, back]]), ``mode`` 'constant' (with
    ``value``), 'reflect' or 'replicate'."""
    pad = _pad_arg(pad)
    if mode == "constant":
        return ConstantPad.apply(input, pad, value)
    if mode not in ("reflect", "replicate"):
        raise ValueError("pad(): mode must be 'constant', 'reflect' or 'replicate', got {!r}".format(mode))
    nd = input.dim()
    k = len(pad) // 2
    if nd == 4 and k != 2:
        raise ValueError("pad(): 4D tensors expect 4 values for padding, got {}".format(len(pad)))
    if nd == 5:
        if k != 3:
            raise ValueError("pad(): 5D tensors expect 6 values for padding, got {}".format(len(pad)))
        if mode == "reflect":
            raise NotImplementedError("pad(): reflect padding of 5D tensors is not implemented (use 'replicate' or "
                                      "'constant')")
    if (mode, k) not in _EDGE_KERNELS or nd not in (k + 1, k + 2):
        raise NotImplementedError("pad(): Only 4D and 5D padding is supported for now ({} padding with {} values "
                                  "of an input of size {})".format(mode, len(pad), size_of(input)))
    float_array(input.data, "pad")
    return EdgePad.apply(input, pad, (mode, k))
