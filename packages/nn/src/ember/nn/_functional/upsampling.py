"""Upsampling (PyTorch 0.2's F.upsample, F.upsample_nearest, F.upsample_bilinear).

Nearest and (bi/tri)linear upsampling are linear maps: they run on ember.kernels through the pooling
family's ``LinearMap`` Function, whose backward is the adjoint kernel and is differentiable again.
"""
import functools
import warnings

from ember import kernels as K

from .pooling import LinearMap

__all__ = ["upsample", "upsample_nearest", "upsample_bilinear"]

_LINEAR = {  # mode -> (input dim, forward kernel, backward kernel)
    "bilinear": (4, K.upsample_bilinear2d_forward, K.upsample_bilinear2d_backward),
    "trilinear": (5, K.upsample_trilinear3d_forward, K.upsample_trilinear3d_backward),
}


def upsample(input, size=None, scale_factor=None, mode="nearest"):
    """Upsample ``input`` to ``size`` or by ``scale_factor`` (an int, or for the linear modes a tuple of
    ints, one per spatial dim). Modes: 'nearest' (4-D or 5-D input, an integer scale; 3-D input is an ember
    extra), 'bilinear' (4-D) and 'trilinear' (5-D), both with 0.2's align-corners behaviour: the corner
    pixels of input and output coincide."""
    dim = input.dim()
    in_size = input.size()
    if mode == "nearest" and dim in (3, 4, 5):
        fwd = functools.partial(K.upsample_nearest_forward, size=size, scale_factor=scale_factor)
        return LinearMap.apply(input, fwd, lambda g: K.upsample_nearest_backward(g, in_size))
    linear = _LINEAR.get(mode)
    if linear is not None:
        need, forward, backward = linear
        if dim == need:
            fwd = functools.partial(forward, size=size, scale_factor=scale_factor)
            return LinearMap.apply(input, fwd, lambda g: backward(g, in_size))
        if dim in (4, 5):
            raise NotImplementedError("Got {}D input, but {} mode needs {}D input".format(dim, mode, need))
    raise NotImplementedError("Input Error: Only 4D and 5D input Tensors supported (got {}D) for the modes: "
                              "nearest | bilinear | trilinear (got {})".format(dim, mode))


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated in 0.2: upsample(input, size, scale_factor, mode='nearest')."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.upsample instead.")
    return upsample(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated in 0.2: upsample(input, size, scale_factor, mode='bilinear')."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.upsample instead.")
    return upsample(input, size, scale_factor, mode="bilinear")
