"""``ember.cuda``: CUDA tensors on CuPy. Without CuPy or a GPU, ``is_available()`` is False and every
call that needs a device raises a RuntimeError saying so. The CuPy-backed types and kernels are the
GPU issue's work; the hooks below are where the CPU code reaches them."""
import numpy as _np

from ember import _backend
from ember import storage as _storage
from ember import tensor as _tensor


def is_available():
    return _backend.cuda_available


def _lazy_init():
    _backend.require_cuda("ember.cuda")


def device_count():
    if not _backend.cuda_available:
        return 0
    return _backend.cupy.cuda.runtime.getDeviceCount()


def current_device():
    _lazy_init()
    return _backend.cupy.cuda.runtime.getDevice()


def set_device(device):
    if device >= 0:
        _lazy_init()
        _backend.cupy.cuda.runtime.setDevice(device)


def synchronize():
    _lazy_init()
    _backend.cupy.cuda.runtime.deviceSynchronize()


def manual_seed(seed):
    """Seeds the current GPU's generator; without CUDA, a no-op as in 0.2 (its call was deferred)."""
    if _backend.cuda_available:
        _backend.cupy.random.seed(int(seed))


def manual_seed_all(seed):
    if _backend.cuda_available:
        for d in range(device_count()):
            with _backend.cupy.cuda.Device(d):
                _backend.cupy.random.seed(int(seed))


def _not_available(what):
    _backend.require_cuda(what)
    raise NotImplementedError("{}: the CuPy tensor path is not built yet".format(what))


def _tensor_to_cuda(tensor, device=None, **kwargs):
    _not_available("{}.cuda()".format(tensor._typename))


def _convert_tensor(tensor, cls, **kwargs):
    _not_available("{}.type('{}')".format(tensor._typename, cls._typename))


def _copy_tensor(dst, src, **kwargs):
    _not_available("copy_() between {} and {}".format(dst._typename, src._typename))


def _pin_tensor(tensor):
    _not_available("{}.pin_memory()".format(tensor._typename))


def _pin_storage(storage):
    _not_available("{}.pin_memory()".format(storage._typename))


def _storage_to_cuda(storage, device=None, **kwargs):
    _not_available("{}.cuda()".format(storage._typename))


def _convert_storage(cls, arr):
    _not_available("conversion to {}".format(cls._typename))


def _copy_storage(dst, src, **kwargs):
    _not_available("copy_() between {} and {}".format(dst._typename, src._typename))


# ---------------------------------------------------------------------- CUDA types
# The classes exist without CUDA (type strings, isinstance checks, pickles naming them); constructing one
# then raises, as 0.2's lazy CUDA init did.

class _CudaTensorBase(_tensor._TensorBase):
    __slots__ = ()

    def __init__(self, *args, **kwargs):
        _lazy_init()
        _tensor._TensorBase.__init__(self, *args, **kwargs)


class _CudaStorageBase(_storage._StorageBase):
    __slots__ = ()
    is_cuda = True

    def __init__(self, *args, **kwargs):
        _lazy_init()
        _storage._StorageBase.__init__(self, *args, **kwargs)


def _make_types():
    specs = [("Double", _np.float64, True, True), ("Float", _np.float32, True, True),
             ("Half", _np.float16, True, True), ("Long", _np.int64, False, True), ("Int", _np.int32, False, True),
             ("Short", _np.int16, False, True), ("Char", _np.int8, False, False), ("Byte", _np.uint8, False, False)]
    out = {}
    for kind, dtype, floating, signed in specs:
        sname = kind + "Storage"
        scls = type(sname, (_CudaStorageBase,), {"__slots__": (), "_dtype": _np.dtype(dtype),
                                                  "_typename": "torch.cuda." + sname, "_xp": _backend.cupy,
                                                  "__module__": "ember.cuda"})
        _storage._typename_to_class["torch.cuda." + sname] = scls
        tname = kind + "Tensor"
        tcls = type(tname, (_CudaTensorBase,), {
            "__slots__": (), "__module__": "ember.cuda", "_dtype": _np.dtype(dtype),
            "_typename": "torch.cuda." + tname, "_storage_cls": scls, "_is_floating": floating,
            "_signed": signed, "_xp": _backend.cupy, "is_cuda": True,
            "_iinfo": None if floating else _np.iinfo(dtype)})
        _tensor._typename_to_class["torch.cuda." + tname] = tcls
        out[sname], out[tname] = scls, tcls
    for cls in out.values():
        if issubclass(cls, _tensor._TensorBase):
            cls._byte_cls = out["ByteTensor"]
    return out


globals().update(_make_types())
