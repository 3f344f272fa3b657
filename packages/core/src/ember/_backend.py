"""The one place that picks the array module (NumPy or CuPy) for a storage's device.

Every op reaches its arrays through ``tensor._xp`` (a class attribute set here for CPU and by
``ember.cuda`` for GPU types), so adding the CuPy path never touches call sites.

Fake CUDA (an ember extra for testing): with ``EMBER_FAKE_CUDA=1`` in the environment, or between
``use_fake_cuda(True)`` and ``use_fake_cuda(False)``, ``cupy`` here is ``ember.cuda._fake``, a NumPy
stand-in with CuPy's API and its restrictions (no implicit host conversion, device placement, …), so the
CUDA code paths run, and are tested, on a machine without a GPU.
"""
import os

import numpy

try:  # CuPy is optional: ember-core[cuda]
    import cupy as _real_cupy
    try:
        _real_available = _real_cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device
        _real_available = False
except ImportError:
    _real_cupy = None
    _real_available = False

cupy = _real_cupy
cupyx = None
cuda_available = _real_available
fake = False
gpu_used = False


def _load_cupyx():
    global cupyx
    if fake:
        from ember.cuda import _fake
        cupyx = _fake.cupyx
    elif _real_cupy is not None:
        try:
            import cupyx as _cx
            cupyx = _cx
        except ImportError:
            cupyx = None
    else:
        cupyx = None


def use_fake_cuda(enabled=True):
    """Switch the CUDA types between CuPy (or nothing) and the NumPy stand-in; returns the previous
    setting. Tensors made under one setting must not be used under the other."""
    global cupy, cuda_available, fake
    previous = fake
    if enabled:
        from ember.cuda import _fake
        cupy, cuda_available, fake = _fake, True, True
    else:
        cupy, cuda_available, fake = _real_cupy, _real_available, False
    _load_cupyx()
    import sys
    cuda_mod = sys.modules.get("ember.cuda")
    if cuda_mod is not None and hasattr(cuda_mod, "_retarget"):
        cuda_mod._retarget()
    return previous


def special():
    """cupyx.scipy.special (the device twins of scipy.special's ufuncs)."""
    if fake:
        return cupyx.scipy.special
    import cupyx.scipy.special as m
    return m


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


def is_device_array(arr):
    return cupy is not None and isinstance(arr, cupy.ndarray)


def asnumpy(arr):
    """A host array holding ``arr``'s values (``arr`` itself when it is already on the host)."""
    if type(arr) is numpy.ndarray:
        return arr
    return arr.get()


def require_cuda(what):
    """Every path that makes CUDA data passes here first: it also marks that GPUs are in use, so that CPU-only
    programs skip the device bookkeeping of autograd (``gpu_used``)."""
    global gpu_used
    if not cuda_available:
        raise RuntimeError(
            "{}: CUDA is not available (ember.cuda.is_available() is False): "
            "install ember-core[cuda] (CuPy) on a machine with an NVIDIA GPU".format(what))
    gpu_used = True


if os.environ.get("EMBER_FAKE_CUDA", "") not in ("", "0"):
    use_fake_cuda(True)
else:
    _load_cupyx()
