"""``ember.cuda``: CUDA tensors on CuPy. Without CuPy or a GPU, ``is_available()`` is False and every
call that needs a device raises a RuntimeError saying so. The CuPy-backed types and kernels are the
GPU issue's work; the hooks below are where the CPU code reaches them."""
from ember import _backend


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
