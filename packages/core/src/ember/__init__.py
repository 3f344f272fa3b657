__path__ = __import__("pkgutil").extend_path(__path__, __name__)

__doc__ = """ember: the PyTorch 0.2 API on NumPy + Cython (CPU) and CuPy (GPU).

``import ember as torch`` runs code written for PyTorch 0.2. The satellites ember.nn, ember.optim
and ember.legacy are separate distributions; once installed they are reachable as attributes of
``ember`` (imported lazily on first use, as 0.2's ``import torch`` made torch.nn available).
"""
import importlib as _importlib
import os as _os
import sys as _sys

# OpenMP threads that spin after a parallel region steal the cores from BLAS and from each other on small
# machines (a 2-core LeNet step went from 10 ms to 300 ms under load); sleeping waiters cost microseconds.
# Read by libgomp when ember._C first loads it; a value the user set wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _C  # noqa: F401,E402  (fails with build instructions when the extensions are missing)
from ._size import Size
from ._threads import get_num_threads, set_num_threads
from .storage import (ByteStorage, CharStorage, DoubleStorage, FloatStorage, HalfStorage, IntStorage,
                      LongStorage, ShortStorage, _StorageBase)
from .tensor import (ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
                     ShortTensor, _TensorBase, _default, _resolve_type, _class_for_dtype)
from ._ops import TORCH_FUNCTIONS as _TORCH_FUNCTIONS
from ._ops import (pointwise as _pointwise, compare as _compare, reduction as _reduction,  # noqa: F401
                   indexing as _indexing, blas as _blas, lapack as _lapack, random as _random,
                   factory as _factory, shape as _shape)  # importing registers each op family
from . import _tensor_str  # noqa: F401  (registers set_printoptions)
from .utils import backcompat as _backcompat  # noqa: F401
from .serialization import save, load

__version__ = "0.2.0+ember.0.1.0"  # the PyTorch API level, then ember-core's own version

Tensor = FloatTensor
Storage = FloatStorage

_tensor_classes = {DoubleTensor, FloatTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor}
_storage_classes = {DoubleStorage, FloatStorage, HalfStorage, LongStorage, IntStorage, ShortStorage, CharStorage,
                    ByteStorage}


def typename(o):
    """The 0.2 type name: ``'torch.FloatTensor'`` for tensors and storages, else the qualified class name."""
    tn = getattr(type(o), "_typename", None)
    if tn is not None:
        return tn
    module = type(o).__module__
    name = type(o).__name__
    return name if module in ("builtins", "__builtin__") else module + "." + name


def is_tensor(obj):
    return isinstance(obj, _TensorBase)


def is_storage(obj):
    return isinstance(obj, _StorageBase)


def numel(input):
    return input.numel()


def set_default_tensor_type(t):
    """Make ``t`` (a type name such as ``'torch.DoubleTensor'`` or ``'torch.cuda.FloatTensor'``) the type of
    ``ember.Tensor`` and of what the factories and random functions make (on the current GPU for a CUDA
    type)."""
    global Tensor, Storage
    cls = _resolve_type(t)
    if cls.is_cuda:
        from ember import _backend
        _backend.require_cuda("set_default_tensor_type('{}')".format(t))
    _default["tensor"] = cls
    Tensor = cls
    Storage = cls._storage_cls


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray`` (writes through either are seen by both)."""
    import numpy as _np
    if not isinstance(ndarray, _np.ndarray):
        raise TypeError("from_numpy expects an np.ndarray but got {}".format(type(ndarray).__name__))
    cls = _class_for_dtype(ndarray.dtype)
    if ndarray.dtype.byteorder not in ("=", "|") and ndarray.dtype.byteorder != _native_order():
        raise ValueError("from_numpy: the array's byte order is not native; use arr.astype(arr.dtype.newbyteorder('='))")
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("from_numpy: arrays with negative strides are not supported (got strides {})"
                         .format(ndarray.strides))
    if any(s % ndarray.itemsize for s in ndarray.strides):
        raise ValueError("from_numpy: strides must be multiples of the element size (got {})".format(ndarray.strides))
    arr = ndarray.reshape(1) if ndarray.ndim == 0 else ndarray
    return cls._make(arr)


def _native_order():
    return "<" if _sys.byteorder == "little" else ">"


# ---------------------------------------------------------------------------- satellites
_SATELLITES = {"nn": "ember-nn", "optim": "ember-optim", "legacy": "ember-legacy"}
_LAZY_CORE = ("autograd", "cuda", "backends", "utils", "multiprocessing", "kernels", "serialization")


def _missing_satellite(name):
    # a ModuleNotFoundError (an ImportError): the module is absent, and pytest.importorskip skips on it
    return ModuleNotFoundError("ember.{0} is not installed: it is provided by the `{1}` distribution "
                       "(pip install {1})".format(name, _SATELLITES[name]), name="ember." + name)


def __getattr__(name):
    if name in _SATELLITES:
        try:
            return _importlib.import_module("ember." + name)
        except ModuleNotFoundError as e:
            if e.name == "ember." + name:
                raise _missing_satellite(name) from None
            raise
    if name in _LAZY_CORE:
        return _importlib.import_module("ember." + name)
    if name == "has_cudnn":  # 0.2's build flag: here, whether cuDNN loads (asked only when read)
        return _importlib.import_module("ember.backends.cudnn").version() is not None
    raise AttributeError("module 'ember' has no attribute '{}'".format(name))


class _MissingSatelliteFinder(object):
    """Last on sys.meta_path: turns ``import ember.nn`` without ember-nn into an ImportError naming the
    distribution to install."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname.startswith("ember.") and fullname.count(".") == 1:
            sub = fullname.split(".", 1)[1]
            if sub in _SATELLITES:
                raise _missing_satellite(sub)
        return None


if not any(type(f).__name__ == "_MissingSatelliteFinder" for f in _sys.meta_path):
    _sys.meta_path.append(_MissingSatelliteFinder())

from . import cuda  # noqa: E402,F401  (as 0.2's `import torch` did; forked workers then need not import it)
from . import autograd  # noqa: E402,F401  (as 0.2's `import torch` did; also registers the Variable ops)

# every registered torch.* function (last: after this, names such as `range` are ember's in this module)
for _name, _fn in _TORCH_FUNCTIONS.items():
    globals().setdefault(_name, _fn)
del _name, _fn

# `from ember import *` as 0.2's torch.__all__: its Python helpers, the tensor and storage types, and every
# public torch._C name (the functions, Size, has_cudnn...). Ember extras stay out of the star import.
__all__ = (["typename", "is_tensor", "is_storage", "set_default_tensor_type", "save", "load", "from_numpy",
            "numel", "get_num_threads", "set_num_threads", "Size", "has_cudnn"]
           + sorted(c.__name__ for c in _tensor_classes | _storage_classes)
           + sorted(n for n, f in _TORCH_FUNCTIONS.items() if "ember extra" not in (f.__doc__ or "").lower()))
