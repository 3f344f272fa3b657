"""Dropout (PyTorch 0.2's F.dropout, F.dropout2d, F.dropout3d and F.alpha_dropout).

As in 0.2 every form defaults to ``training=False`` (a no-op copy) and draws its noise from ember's default
generator (``ember.manual_seed``). Dropout zeroes each element (dropout2d/3d: each channel of each sample)
with probability ``p`` and scales the kept ones by 1 / (1 - p); alpha dropout keeps SELU's mean and variance.
"""
from ember.autograd import Function
from .activation import float_array, size_of, times

__all__ = ["dropout", "alpha_dropout", "dropout2d", "dropout3d"]

# -lambda * alpha of SELU: the value dropped units take in alpha dropout
_ALPHA_PRIME = -1.7580993408473766


def _check_p(p):
    if not 0 <= p <= 1:
        raise ValueError("dropout probability has to be between 0 and 1, but got {}".format(p))


class Dropout(Function):
    """Multiply by a noise tensor of 0 and 1 / (1 - p); ``feature``: one draw per (sample, channel)."""

    @staticmethod
    def forward(ctx, input, p=0.5, train=False, inplace=False, feature=False):
        _check_p(p)
        a = float_array(input, "dropout")
        cls = type(input)
        xp = cls._xp
        ctx.noise = None
        if feature and a.ndim < 2:
            raise RuntimeError("dropout2d/dropout3d(): expected an input of at least 2 dimensions (N x C x ...), "
                               "got size {}".format(size_of(input)))
        if inplace:
            ctx.mark_dirty(input)
            output, out = input, a
        else:
            out = xp.empty(a.shape, a.dtype)
            output = cls._make(out)
        if p == 0 or not train or not a.size:
            if not inplace:
                out[...] = a
            return output
        shape = a.shape[:2] + (1,) * (a.ndim - 2) if feature else a.shape
        noise = input.new(*shape)
        if p == 1:
            noise.zero_()
        else:
            noise.bernoulli_(1 - p).div_(1 - p)
        ctx.noise = noise._a
        xp.multiply(a, ctx.noise, out=out)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.noise is None:
            return grad_output, None, None, None, None
        return times(grad_output, ctx.noise), None, None, None, None


class AlphaDropout(Function):
    """y = a * (x where kept, else alpha') + b, keeping zero mean and unit variance (Klambauer et al.)."""

    @staticmethod
    def forward(ctx, input, p):
        a = float_array(input, "alpha_dropout")
        cls = type(input)
        xp = cls._xp
        keep_prob = 1 - p
        if keep_prob == 0:  # everything dropped: the limit is a constant (0.2 divided by zero here)
            ctx.scale = xp.zeros((1,) * max(a.ndim, 1), a.dtype)
            return cls._make(xp.zeros(a.shape, a.dtype))
        scale = (keep_prob + _ALPHA_PRIME ** 2 * keep_prob * (1 - keep_prob)) ** -0.5
        shift = -scale * _ALPHA_PRIME * (1 - keep_prob)
        kept = input.new(input.size()).bernoulli_(keep_prob)._a if a.size else a.copy()
        kept *= scale  # the derivative: scale where kept, 0 where dropped
        ctx.scale = kept
        out = a * kept
        out += xp.where(kept == 0, a.dtype.type(_ALPHA_PRIME * scale + shift), a.dtype.type(shift))
        return cls._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        return times(grad_output, ctx.scale), None


def dropout(input, p=0.5, training=False, inplace=False):
    """Zero each element with probability ``p`` and scale the others by 1 / (1 - p) when ``training``."""
    return Dropout.apply(input, p, training, inplace, False)


def alpha_dropout(input, p=0.5, training=False):
    """Alpha dropout (for SELU networks) when ``training``; the input itself otherwise."""
    _check_p(p)
    if p == 0 or not training:
        return input
    return AlphaDropout.apply(input, p)


def dropout2d(input, p=0.5, training=False, inplace=False):
    """Zero whole channels (dim 1 of (N, C, H, W)) with probability ``p`` when ``training``."""
    return Dropout.apply(input, p, training, inplace, True)


def dropout3d(input, p=0.5, training=False, inplace=False):
    """Zero whole channels (dim 1 of (N, C, D, H, W)) with probability ``p`` when ``training``."""
    return Dropout.apply(input, p, training, inplace, True)
