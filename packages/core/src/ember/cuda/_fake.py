"""A NumPy stand-in for the part of CuPy that ember uses (fake CUDA; see ``ember._backend``).

It keeps CuPy's API and, on purpose, the CuPy restrictions that would break ember on a real GPU:

- device arrays (``ndarray`` here) are not NumPy arrays: no ``__array__``, no buffer protocol (Cython
  kernels refuse them), no ``__array_interface__``; NumPy functions called on them go through
  ``__array_function__`` / ``__array_ufunc__`` as with CuPy, and NumPy names CuPy lacks are refused;
- NumPy ufunc methods (``np.add.reduce``, ``np.add.at``) on device arrays fail (CuPy's
  ``__array_ufunc__`` serves plain calls only); ``cupy.add.at`` and friends work;
- ufuncs take only ``out=``, ``dtype=``, ``casting=`` (CuPy rejects ``order=``);
- reductions and integer indexing give 0-d device arrays, never NumPy scalars;
- host arrays mixed with device arrays raise TypeError (``asarray``/``array``/``set`` move data);
- out-of-range integer-array indices wrap around (indexing, ``take``, ``take_along_axis``, ``put``) where
  NumPy raises IndexError: kernels must check index ranges themselves;
- ``flags`` has only ``c_contiguous``, ``f_contiguous`` and ``owndata``;
- every array lives on one of ``DEVICE_COUNT`` devices, and an operation refuses arrays that are not on
  the current device (CuPy without peer access), except ``copy()``, which copies to the current device.

``RawKernel`` compiles a kernel's CUDA source with g++ and runs it on the host (``_fake_kernels``); CUDA IPC
between processes goes through files under /dev/shm (``_fake_ipc``).

Streams and events keep CuPy's API and order nothing (the host runs everything at once); elapsed times
are host times. Pinned allocations are ordinary host memory, remembered so ``is_pinned`` can answer.
"""
import functools as _functools
import threading as _threading
import time as _time
import types as _types
import weakref as _weakref

import numpy as _np

from ember.cuda import _fake_ipc
from ember.cuda._fake_kernels import RawKernel  # noqa: F401  (CuPy's name)

DEVICE_COUNT = 2
_state = _threading.local()

# NumPy names that CuPy 14 does not have (read off cupy-cuda13x 14.2); the rest delegate to NumPy.
_MISSING = frozenset("""
asmatrix block bmat busday_count busday_offset busdaycalendar einsum_path errstate frompyfunc fromregex
geomspace getbufsize geterr geterrcall histogram_bin_edges info insert is_busday isnat matrix matvec memmap
nanpercentile nanquantile ndenumerate nditer nested_iters polyder polydiv polyint recarray record setbufsize
seterr seterrcall show_runtime spacing test unstack vecdot vecmat
""".split())

# The keywords CuPy 14 takes (read off cupy-cuda13x 14.2) for the NumPy-named functions ember calls; NumPy's
# take more (count_nonzero(keepdims=), ...) and CuPy raises TypeError for those.
_KEYWORDS = {name: frozenset(keywords.split()) for name, keywords in (line.split(":") for line in """
arange: start stop step dtype|argpartition: a kth axis|argsort: a axis kind|argwhere: a|ascontiguousarray: a dtype
broadcast_arrays: |broadcast_to: array shape|clip: a a_min a_max out|concatenate: tup axis out dtype casting
copyto: dst src casting where|count_nonzero: a axis|cross: a b axisa axisb axisc axis|cumprod: a axis dtype out
cumsum: a axis dtype out|diag: v k|diagonal: a offset axis1 axis2|diff: a n axis prepend append
empty: shape dtype order|empty_like: prototype dtype order subok shape|expand_dims: a axis
eye: N M k dtype order|flatnonzero: a|flip: a axis|full: shape fill_value dtype order|max: a axis out keepdims
may_share_memory: a b max_work|moveaxis: a source destination|ones: shape dtype order|partition: a kth axis
prod: a axis dtype out keepdims|searchsorted: a v side sorter|sort: a axis kind
stack: tup axis out dtype casting|take: a indices axis out|take_along_axis: a indices axis|tile: A reps
trace: a offset axis1 axis2 dtype out|tril: m k|triu: m k|where: condition x y|zeros: shape dtype order
zeros_like: a dtype order subok shape
""".replace("\n", "|").strip("|").split("|"))}


def _check_keywords(name, kwargs):
    allowed = _KEYWORDS.get(name)
    if allowed is not None and not allowed.issuperset(kwargs):
        raise TypeError("{}() got an unexpected keyword argument '{}'".format(name, min(set(kwargs) - allowed)))


def _current():
    return getattr(_state, "device", 0)


class CUDARuntimeError(RuntimeError):
    pass


def _check_device(d):
    if not 0 <= d < DEVICE_COUNT:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")


# ---------------------------------------------------------------------- memory

def _ptr(n):
    return n.__array_interface__["data"][0]


def _owner(n):
    while isinstance(n.base, _np.ndarray):
        n = n.base
    return n


class MemoryPointer(object):
    """A device pointer: (the allocation's host array, byte offset, device). CuPy's constructor
    ``MemoryPointer(mem, offset)`` takes a ``Memory`` or ``UnownedMemory`` (``_fake_ipc``)."""
    __slots__ = ("_owner", "_offset", "device_id")

    def __init__(self, owner, offset, device_id=None):
        if device_id is None:
            owner, device_id = owner._array, owner.device_id
        self._owner, self._offset, self.device_id = owner, offset, device_id

    @property
    def ptr(self):
        return _ptr(self._owner) + self._offset

    def __int__(self):
        return self.ptr

    def __add__(self, nbytes):
        return MemoryPointer(self._owner, self._offset + int(nbytes), self.device_id)

    def __sub__(self, nbytes):
        return self + (-int(nbytes))


class Flags(object):
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, c, f, own):
        self.c_contiguous, self.f_contiguous, self.owndata = c, f, own

    def __getitem__(self, name):
        return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                "OWNDATA": self.owndata}[name]


# ---------------------------------------------------------------------- arrays

def _wrap(n, dev, base=None):
    a = object.__new__(ndarray)
    a._n = n
    a._dev = dev
    a._base = base
    return a


def _base_of(r, srcs):
    """CuPy's ``base`` for a result ``r``: the (root) array of the first source whose memory it views."""
    owner = _owner(r)
    for s in srcs:
        if _owner(s._n) is owner:
            return s._base if s._base is not None else s
    return None


def _unwrap(x, dev):
    """The NumPy value behind ``x``; device arrays must be on ``dev`` (None: any device)."""
    t = type(x)
    if t is ndarray:
        if dev is not None and x._dev != dev:
            raise ValueError("Array device must be same as the current device: array device = {} while current "
                             "= {}".format(x._dev, dev))
        return x._n
    if isinstance(x, _np.ndarray):
        raise TypeError("Unsupported type {}".format(t))
    if t is list or t is tuple:
        return t(_unwrap(e, dev) for e in x)
    if t is slice:
        return slice(_unwrap(x.start, dev), _unwrap(x.stop, dev), _unwrap(x.step, dev))
    return x


def _result(r, dev, srcs=()):
    if isinstance(r, _np.ndarray):
        return _wrap(r, dev, _base_of(r, srcs) if srcs else None)
    if isinstance(r, _np.generic):
        return _wrap(_np.asarray(r), dev)  # CuPy gives 0-d arrays where NumPy gives scalars
    if type(r) is tuple or type(r) is list:
        return type(r)(_result(e, dev, srcs) for e in r)
    return r


def _sources(args, kwargs):
    out = []
    for a in list(args) + list(kwargs.values()):
        if type(a) is ndarray:
            out.append(a)
        elif type(a) in (list, tuple):
            out.extend(e for e in a if type(e) is ndarray)
    return out


def _call(fn, args, kwargs, check=True):
    dev = _current()
    d = dev if check else None
    srcs = _sources(args, kwargs)
    args = [_unwrap(a, d) for a in args]
    kwargs = {k: _unwrap(v, d) for k, v in kwargs.items()}
    return _result(fn(*args, **kwargs), dev, srcs)


# methods that only relabel memory (no kernel runs), or copy across devices as CuPy allows
_VIEWS = frozenset("view reshape transpose swapaxes squeeze ravel diagonal get item tolist tobytes".split())
_METHODS = frozenset("""
all any argmax argmin argpartition argsort astype choose clip compress conj conjugate cumprod cumsum diagonal dot
fill flatten item max mean min nonzero partition prod ptp put ravel repeat reshape round searchsorted sort
squeeze std sum swapaxes take tobytes tolist trace transpose var view
""".split())


class ndarray(object):
    __slots__ = ("_n", "_dev", "_base", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is None:
            if strides is not None:
                raise ValueError("memptr is required if strides is given.")
            self._n = _np.empty(shape, dtype, order=order)
            self._dev = _current()
            self._base = None
        else:
            owner = memptr._owner
            self._n = _np.ndarray(shape, dtype, buffer=owner.reshape(-1).view(_np.uint8), offset=memptr._offset,
                                  strides=strides, order=order)
            self._dev = memptr.device_id
            self._base = None  # as CuPy: an array made from a pointer has no base

    # --- attributes
    shape = property(lambda self: self._n.shape)
    dtype = property(lambda self: self._n.dtype)
    strides = property(lambda self: self._n.strides)
    ndim = property(lambda self: self._n.ndim)
    size = property(lambda self: self._n.size)
    itemsize = property(lambda self: self._n.itemsize)
    nbytes = property(lambda self: self._n.nbytes)
    T = property(lambda self: _wrap(self._n.T, self._dev, self._base if self._base is not None else self))

    @property
    def flags(self):
        f = self._n.flags
        return Flags(f.c_contiguous, f.f_contiguous, self._n.base is None)

    @property
    def base(self):
        return self._base

    @property
    def data(self):
        owner = _owner(self._n)
        return MemoryPointer(owner, _ptr(self._n) - _ptr(owner), self._dev)

    @property
    def device(self):
        return Device(self._dev)

    def __getattr__(self, name):
        if name not in _METHODS:
            raise AttributeError("'cupy.ndarray' object has no attribute '{}'".format(name))
        if name in ("take", "put"):  # with CuPy's wrap-around of out-of-range indices
            return _functools.partial(globals()[name], self)
        meth = getattr(self._n, name)
        dev = self._dev
        check = name not in _VIEWS

        def call(*args, **kwargs):
            if check and dev != _current():
                _unwrap(self, _current())
            args = [_unwrap(a, _current()) for a in args]
            kwargs = {k: _unwrap(v, _current()) for k, v in kwargs.items()}
            return _result(meth(*args, **kwargs), dev, (self,))
        return call

    # --- host transfers
    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            if not isinstance(out, _np.ndarray) or out.shape != self.shape or out.dtype != self.dtype:
                raise ValueError("Shape or dtype mismatch for out in get()")
            out[...] = self._n
            return out
        return _np.array(self._n, order=order)

    def set(self, arr, stream=None):
        if not isinstance(arr, _np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.shape != self.shape:
            raise ValueError("Shape mismatch. Old shape: {}, new shape: {}".format(self.shape, arr.shape))
        if arr.dtype != self.dtype:
            raise TypeError("{} array cannot be set to {} array".format(arr.dtype, self.dtype))
        if not self._n.flags.c_contiguous:
            raise RuntimeError("Cannot set to non-contiguous array")
        self._n[...] = arr

    def copy(self, order="C"):
        return _wrap(self._n.copy(order=order), _current())  # CuPy copies to the current device

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                        "NumPy array explicitly.")

    def __array_ufunc__(self, uf, method, *inputs, **kwargs):
        if method != "__call__":
            return NotImplemented
        if "out" in kwargs and type(kwargs["out"]) is tuple:
            kwargs["out"] = kwargs["out"][0]
        return getattr(_this, uf.__name__)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in _MISSING:
            return NotImplemented
        _check_keywords(func.__name__, kwargs)
        return _call(func, args, kwargs)

    def __reduce__(self):
        return (_rebuild, (self._n.copy(), self._dev))

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    # --- Python protocols
    def __len__(self):
        return len(self._n)

    def __iter__(self):
        if not self._n.ndim:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self._n.shape[0]))

    def __getitem__(self, key):
        advanced = _is_advanced(key)
        key = _unwrap(key, _current() if advanced else None)
        return _result(self._n[_wrapped_key(self._n.shape, key) if advanced else key], self._dev, (self,))

    def __setitem__(self, key, value):
        dev = _current()
        _unwrap(self, dev)
        advanced = _is_advanced(key)
        key = _unwrap(key, dev)
        self._n[_wrapped_key(self._n.shape, key) if advanced else key] = _unwrap(value, dev)

    def __bool__(self):
        return bool(self._n)

    def __int__(self):
        return int(self._n)

    def __float__(self):
        return float(self._n)

    def __index__(self):
        return self._n.__index__()

    def __complex__(self):
        return complex(self._n)

    def __repr__(self):
        return repr(self._n)

    def __str__(self):
        return str(self._n)

    def __neg__(self):
        return _this.negative(self)

    def __pos__(self):
        return _this.positive(self)

    def __abs__(self):
        return _this.absolute(self)

    def __invert__(self):
        return _this.invert(self)


def _is_advanced(key):
    if type(key) is not tuple:
        key = (key,)
    return any(type(k) in (ndarray, list) for k in key)


def _wrapped_key(shape, key):
    """``key`` with its integer-array components taken modulo their axis' size: CuPy wraps out-of-range
    indices around where NumPy raises."""
    parts = list(key) if type(key) is tuple else [key]
    if any(p is Ellipsis for p in parts):
        e = next(k for k, p in enumerate(parts) if p is Ellipsis)
        used = sum(1 if p is not None else 0 for p in parts if p is not Ellipsis and not _is_bool_array(p)) + \
            sum(p.ndim for p in parts if _is_bool_array(p))
        parts[e:e + 1] = [slice(None)] * (len(shape) - used)
    axis = 0
    for k, p in enumerate(parts):
        if p is None:
            continue
        if _is_bool_array(p):
            axis += p.ndim
            continue
        if type(p) is list:
            p = _np.asarray(p)
        if isinstance(p, _np.ndarray) and p.dtype.kind in "iu" and axis < len(shape) and shape[axis]:
            parts[k] = p % shape[axis]
        axis += 1
    return tuple(parts)


def _is_bool_array(p):
    return isinstance(p, _np.ndarray) and p.dtype == _np.bool_


def _rebuild(n, dev):
    return _wrap(n, dev)


def _binop(name, reflected=False, inplace=False):
    def op(self, other):
        if isinstance(other, _np.ndarray):
            raise TypeError("Unsupported type {}".format(type(other)))
        f = getattr(_this, name)
        if inplace:
            f(self, other, out=self)
            return self
        return f(other, self) if reflected else f(self, other)
    return op


for _name, _uf in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "true_divide"),
                   ("floordiv", "floor_divide"), ("mod", "remainder"), ("pow", "power"), ("and", "bitwise_and"),
                   ("or", "bitwise_or"), ("xor", "bitwise_xor"), ("lshift", "left_shift"),
                   ("rshift", "right_shift"), ("matmul", "matmul")]:
    setattr(ndarray, "__{}__".format(_name), _binop(_uf))
    setattr(ndarray, "__r{}__".format(_name), _binop(_uf, reflected=True))
    setattr(ndarray, "__i{}__".format(_name), _binop(_uf, inplace=True))
for _name, _uf in [("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                   ("ge", "greater_equal")]:
    setattr(ndarray, "__{}__".format(_name), _binop(_uf))
ndarray.__hash__ = None


class ufunc(object):
    """A NumPy ufunc with CuPy's keyword arguments (out, dtype, casting) and methods."""
    __slots__ = ("_uf", "__name__")

    def __init__(self, uf):
        self._uf = uf
        self.__name__ = uf.__name__

    def __call__(self, *args, **kwargs):
        extra = set(kwargs) - {"out", "dtype", "casting"}
        if extra:
            raise TypeError("Wrong arguments {}".format({k: kwargs[k] for k in extra}))
        for a in args:
            if type(a) is list:
                raise TypeError("Unsupported type {}".format(list))
        return _call(self._uf, args, kwargs)

    def __getattr__(self, name):
        if name in ("nin", "nout", "nargs", "types"):
            return getattr(self._uf, name)
        if name in ("reduce", "accumulate", "reduceat", "outer", "at"):
            meth = getattr(self._uf, name)
            return lambda *args, **kwargs: _call(meth, args, kwargs)
        raise AttributeError(name)


class _Namespace(object):
    """A CuPy submodule (linalg, fft, …) delegating to the NumPy one."""

    def __init__(self, np_mod):
        self._mod = np_mod

    def __getattr__(self, name):
        obj = getattr(self._mod, name)
        if callable(obj) and not isinstance(obj, type):
            fn = _function(obj)
            setattr(self, name, fn)
            return fn
        return obj


def _function(fn):
    name = getattr(fn, "__name__", "function")

    def call(*args, **kwargs):
        _check_keywords(name, kwargs)
        return _call(fn, args, kwargs)
    call.__name__ = name
    return call


def __getattr__(name):
    if name.startswith("__") or name in _MISSING:
        raise AttributeError("module 'cupy' has no attribute '{}'".format(name))
    obj = getattr(_np, name)
    if isinstance(obj, _np.ufunc):
        obj = ufunc(obj)
    elif callable(obj) and not isinstance(obj, type):
        obj = _function(obj)
    globals()[name] = obj
    return obj


_this = _types.SimpleNamespace()  # filled below: the module itself, for lookups of lazily made ufuncs


# ---------------------------------------------------------------------- host <-> device

def asarray(a, dtype=None, order=None):
    if type(a) is ndarray:
        if a._dev != _current():
            return array(a, dtype=dtype, order=order)
        if (dtype is None or _np.dtype(dtype) == a.dtype) and order in (None, "K", "A"):
            return a
        return _wrap(_np.asarray(a._n, dtype=dtype, order=order), a._dev)
    return _wrap(_np.array(a, dtype=dtype, order=order or "K", copy=True), _current())


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    src = obj._n if type(obj) is ndarray else obj
    return _wrap(_np.array(src, dtype=dtype, copy=True, order=order, ndmin=ndmin), _current())


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if type(a) is ndarray:
        return a.get(stream=stream, order=order, out=out)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    return _this_module if any(type(a) is ndarray for a in args) else _np


def _wrapped(indices, size):
    """Integer indices (a device array or a list) modulo ``size``, as CuPy's take/put treat them."""
    return indices % size if type(indices) is ndarray else _np.asarray(indices) % size


def take(a, indices, axis=None, out=None):
    """CuPy's take: out-of-range indices wrap around (NumPy raises)."""
    size = a.size if axis is None else a.shape[axis]
    return _call(_np.take, (a, _wrapped(indices, size) if size else indices), {"axis": axis, "out": out})


def take_along_axis(a, indices, axis):
    return _call(_np.take_along_axis, (a, _wrapped(indices, a.shape[axis]) if a.shape[axis] else indices, axis), {})


def put(a, ind, v, mode="wrap"):
    """CuPy's put: ``mode`` 'wrap' (its default) or 'clip'."""
    if mode not in ("wrap", "clip"):
        raise TypeError("clip mode must be either 'wrap' or 'clip'")
    ind = _wrapped(ind, a.size) if mode == "wrap" and a.size else ind
    dev = _current()
    _unwrap(a, dev)
    _np.put(a._n, _unwrap(ind, dev), _unwrap(v, dev), mode="clip" if mode == "clip" else "raise")


def where(condition, *xy):
    """CuPy's where(condition, x, y) calls ``condition.astype``: a Python bool or number is refused."""
    if xy and not hasattr(condition, "astype"):
        raise AttributeError("'{}' object has no attribute 'astype'".format(type(condition).__name__))
    return _call(_np.where, (condition,) + xy, {})


class _StrideTricks(object):
    @staticmethod
    def as_strided(x, shape=None, strides=None):  # CuPy builds it from a pointer: no base
        return _wrap(_np.lib.stride_tricks.as_strided(_unwrap(x, None), shape, strides), x._dev)


lib = _types.SimpleNamespace(stride_tricks=_StrideTricks)
linalg = _Namespace(_np.linalg)
fft = _Namespace(_np.fft)


# ---------------------------------------------------------------------- devices, streams, events

class Device(object):
    def __init__(self, device=None):
        self.id = _current() if device is None else int(device)
        self._prev = []

    def use(self):
        _check_device(self.id)
        _state.device = self.id

    def __enter__(self):
        _check_device(self.id)
        self._prev.append(_current())
        _state.device = self.id
        return self

    def __exit__(self, *exc):
        _state.device = self._prev.pop()

    def synchronize(self):
        pass

    @property
    def cublas_handle(self):
        return 0x10000 + self.id

    @property
    def compute_capability(self):
        return "90"

    @property
    def mem_info(self):
        return (1 << 33, 1 << 34)

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(("Device", self.id))

    def __repr__(self):
        return "<CUDA Device {}>".format(self.id)


_handles = iter(range(0x7f0000001000, 1 << 62, 0x100))


class Stream(object):
    null = None  # set below

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        self.ptr = 0 if null else next(_handles)
        self.device_id = _current()
        self.priority = 0 if priority is None else priority
        self._prev = []

    def __enter__(self):
        stack = _streams()
        self._prev.append(stack.get(_current()))
        stack[_current()] = self
        return self

    def __exit__(self, *exc):
        _streams()[_current()] = self._prev.pop()

    def use(self):
        _streams()[_current()] = self
        return self

    def record(self, event=None):
        if event is None:
            event = Event()
        event.record(self)
        return event

    def wait_event(self, event):
        pass

    def synchronize(self):
        pass

    @property
    def done(self):
        return True

    def __eq__(self, other):
        return isinstance(other, Stream) and other.ptr == self.ptr

    def __hash__(self):
        return hash(self.ptr)


def _streams():
    s = getattr(_state, "streams", None)
    if s is None:
        s = _state.streams = {}
    return s


Stream.null = Stream(null=True)


def get_current_stream(device_id=None):
    s = _streams().get(_current() if device_id is None else device_id)
    return Stream.null if s is None else s


class Event(object):
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        if interprocess and not disable_timing:
            raise CUDARuntimeError("cudaErrorInvalidValue: invalid argument")
        self.ptr = next(_handles)
        self._timing = not disable_timing
        self._time = None

    def record(self, stream=None):
        self._time = _time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self):
        return True


def get_elapsed_time(start_event, end_event):
    if not (start_event._timing and end_event._timing):
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    if start_event._time is None or end_event._time is None:
        raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    return (end_event._time - start_event._time) * 1000.0


_pinned = _weakref.WeakValueDictionary()  # data pointer -> pinned host array


class _Runtime(object):
    CUDARuntimeError = CUDARuntimeError
    memoryTypeUnregistered, memoryTypeHost, memoryTypeDevice = 0, 1, 2

    @staticmethod
    def getDeviceCount():
        return DEVICE_COUNT

    @staticmethod
    def getDevice():
        return _current()

    @staticmethod
    def setDevice(device):
        _check_device(device)
        _state.device = device

    @staticmethod
    def deviceSynchronize():
        pass

    @staticmethod
    def memGetInfo():
        return (1 << 33, 1 << 34)

    @staticmethod
    def ipcGetEventHandle(event):
        return int(event).to_bytes(8, "little") * 8

    @staticmethod
    def ipcOpenEventHandle(handle):
        if len(handle) != 64:
            raise CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
        return next(_handles)

    @staticmethod
    def eventRecord(event, stream):
        pass

    @staticmethod
    def eventSynchronize(event):
        pass

    @staticmethod
    def eventQuery(event):
        return 0  # the host ran everything already

    @staticmethod
    def pointerGetMemoryType(ptr):
        return 1 if ptr in _pinned else 0

    @staticmethod
    def deviceCanAccessPeer(device, peer):
        return 0

    ipcGetMemHandle = staticmethod(_fake_ipc.ipc_get_mem_handle)
    ipcOpenMemHandle = staticmethod(_fake_ipc.ipc_open_mem_handle)
    ipcCloseMemHandle = staticmethod(_fake_ipc.ipc_close_mem_handle)


runtime = _Runtime()


def alloc_pinned_memory(nbytes):
    buf = _np.empty(max(int(nbytes), 1), _np.uint8)
    _pinned[_ptr(buf)] = buf
    return buf


def _empty_pinned(shape, dtype=float, order="C"):
    a = _np.empty(shape, dtype, order=order)
    if a.size:
        _pinned[_ptr(a)] = a
    return a


cuda = _types.SimpleNamespace(
    Device=Device, Stream=Stream, Event=Event, runtime=runtime, MemoryPointer=MemoryPointer,
    Memory=_fake_ipc.Memory, UnownedMemory=_fake_ipc.UnownedMemory,
    get_current_stream=get_current_stream, get_elapsed_time=get_elapsed_time,
    alloc_pinned_memory=alloc_pinned_memory, get_device_id=_current, is_available=lambda: True)
def _scipy_special():
    import scipy.special
    return _Namespace(scipy.special)


cupyx = _types.SimpleNamespace(empty_pinned=_empty_pinned, scipy=_types.SimpleNamespace(special=_scipy_special()),
                               scatter_add=lambda a, slices, value: _this.add.at(a, slices, value))


class _This(object):
    def __getattr__(self, name):
        return globals()[name] if name in globals() else __getattr__(name)


_this = _This()
_this_module = __import__("sys").modules[__name__]
