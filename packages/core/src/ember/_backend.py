"""The one place that picks the array module (NumPy or CuPy) for a storage's device.

Every op reaches its arrays through ``tensor._xp`` (a class attribute set here for CPU and by
``ember.cuda`` for GPU types), so adding the CuPy path never touches call sites.
"""
import numpy

try:  # CuPy is optional: ember-core[cuda]
    import cupy
    try:
        cuda_available = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device
        cuda_available = False
except ImportError:
    cupy = None
    cuda_available = False


def get_array_module(*objs):
    """NumPy, or CuPy if any argument is a CuPy array or a CUDA tensor/storage."""
    for o in objs:
        xp = getattr(o, "_xp", None)
        if xp is not None:
            if xp is not numpy:
                return xp
        elif cupy is not None and isinstance(o, cupy.ndarray):
            return cupy
    return numpy


def require_cuda(what):
    if not cuda_available:
        raise RuntimeError(
            "{}: CUDA is not available (ember.cuda.is_available() is False): "
            "install ember-core[cuda] (CuPy) on a machine with an NVIDIA GPU".format(what))
