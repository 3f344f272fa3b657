"""``ember.cuda``: CUDA tensors on CuPy, with PyTorch 0.2's ``torch.cuda`` API.

Without CuPy or a GPU, ``is_available()`` is False and every call that needs a device raises a
RuntimeError saying so; the CUDA classes still exist (type strings, isinstance checks, pickles naming
them). With ``EMBER_FAKE_CUDA=1`` (an ember extra for testing) the same code runs on
``ember.cuda._fake``, a NumPy stand-in for CuPy, on two pretend devices.

As in 0.2, a CUDA tensor's operations run on the device that holds it (whatever the current device is),
results stay there, operations mixing tensors of two devices raise, and only ``copy_`` (and ``cuda(d)``,
``comm.*``) move data between devices.
"""
import contextlib as _contextlib
import functools as _functools
import random as _pyrandom
import types as _types
import weakref as _weakref

import numpy as _np

from ember import _backend
from ember import storage as _storage
from ember import tensor as _tensor
from ember import _ops

_initial_seed = [None]


# ---------------------------------------------------------------------- devices

def is_available():
    return _backend.cuda_available


def _lazy_init(what="ember.cuda"):
    _backend.require_cuda(what)


def _cp():
    return _backend.cupy


def device_count():
    if not _backend.cuda_available:
        return 0
    return _cp().cuda.runtime.getDeviceCount()


def current_device():
    _lazy_init()
    return _cp().cuda.runtime.getDevice()


def _check_device(device, what):
    n = device_count()
    if not 0 <= device < n:
        raise RuntimeError("{}: invalid device ordinal {} ({} CUDA device{} available)"
                           .format(what, device, n, "" if n == 1 else "s"))


def set_device(device):
    if device >= 0:
        _lazy_init()
        _check_device(device, "set_device")
        _cp().cuda.runtime.setDevice(device)


def synchronize():
    _lazy_init()
    _cp().cuda.runtime.deviceSynchronize()
    _release_stream_uses()


_cudart = []


def cudart():
    """The CUDA runtime library as a ctypes handle (0.2's ``torch.cuda.cudart()``), e.g. for
    ``cudart().cudaProfilerStart()``: the one CuPy's wheel depends on, else the toolkit's or the system's."""
    _lazy_init("ember.cuda.cudart()")
    if not _cudart:
        import ctypes
        from ember.cuda import _libraries
        for path in _libraries.candidates("cudart"):
            try:
                _cudart.append(ctypes.CDLL(path))
                break
            except OSError:
                continue
        else:
            raise RuntimeError("ember.cuda.cudart(): no CUDA runtime library (libcudart.so) was found")
        _cudart[0].cudaGetErrorString.restype = ctypes.c_char_p
    return _cudart[0]


class device(object):
    """Context manager that makes ``idx`` the current device (a negative ``idx`` does nothing)."""

    _known = False  # an index from a tensor names a device that exists: no ordinal check

    def __init__(self, idx):
        self.idx = idx
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return self
        if not self._known:
            _lazy_init()
            _check_device(self.idx, "ember.cuda.device")
        rt = _cp().cuda.runtime
        self.prev_idx = rt.getDevice()
        if self.prev_idx != self.idx:
            rt.setDevice(self.idx)
        return self

    def __exit__(self, *args):
        if self.prev_idx != self.idx and self.prev_idx >= 0:
            _cp().cuda.runtime.setDevice(self.prev_idx)
        return False


class device_of(device):
    """Context manager making the device of ``obj`` (a CUDA tensor or storage) current; CPU objects: no-op."""

    _known = True

    def __init__(self, obj):
        super(device_of, self).__init__(obj.get_device() if obj.is_cuda else -1)


def current_blas_handle():
    _lazy_init()
    return _cp().cuda.Device().cublas_handle


# ---------------------------------------------------------------------- streams and events

class Stream(object):
    """A CUDA stream (a CuPy stream underneath, ``self._cs``)."""

    def __init__(self, device=-1, priority=0, _cupy_stream=None, **kwargs):
        _lazy_init()
        cp = _cp()
        if _cupy_stream is not None:
            self._cs = _cupy_stream
            self.device = kwargs.get("_device", cp.cuda.runtime.getDevice())
            return
        idx = cp.cuda.runtime.getDevice() if device is None or device < 0 else device
        with globals()["device"](idx):
            self._cs = cp.cuda.Stream(non_blocking=False, priority=priority or None)
        self.device = idx

    @property
    def cuda_stream(self):
        return self._cs.ptr

    @property
    def priority(self):
        return getattr(self._cs, "priority", 0)

    @staticmethod
    def priority_range():
        _lazy_init()
        rt = _cp().cuda.runtime
        r = rt.deviceGetStreamPriorityRange() if hasattr(rt, "deviceGetStreamPriorityRange") else (0, 0)
        return tuple(r)

    def wait_event(self, event):
        self._cs.wait_event(event._event())

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        if event is None:
            event = Event()
        event.record(self)
        return event

    def query(self):
        return bool(self._cs.done)

    def synchronize(self):
        self._cs.synchronize()

    def __eq__(self, o):
        return isinstance(o, Stream) and self.cuda_stream == o.cuda_stream and self.device == o.device

    def __hash__(self):
        return hash((self.cuda_stream, self.device))

    def __repr__(self):
        return "<torch.cuda.Stream device={} cuda_stream={:#x}>".format(self.device, self.cuda_stream)


def current_stream():
    _lazy_init()
    cp = _cp()
    return Stream(_cupy_stream=cp.cuda.get_current_stream(), _device=cp.cuda.runtime.getDevice())


@_contextlib.contextmanager
def stream(stream):
    """Context manager queueing the CUDA work inside it on ``stream`` (None: no-op)."""
    if stream is None:
        yield
        return
    with device(stream.device):
        with stream._cs:
            yield


class Event(object):
    """A CUDA event. Flags as 0.2: DEFAULT 0, BLOCKING_SYNC 1, DISABLE_TIMING 2, INTERPROCESS 4."""
    DEFAULT = 0x0
    BLOCKING_SYNC = 0x1
    DISABLE_TIMING = 0x2
    INTERPROCESS = 0x4

    def __init__(self, enable_timing=False, blocking=False, interprocess=False, _handle=None):
        self.enable_timing = enable_timing
        self.blocking = blocking
        self.interprocess = interprocess
        self._ce = None  # created on first record, as 0.2's lazy event
        if _handle is not None:  # another process's event, from its ipc_handle()
            _lazy_init("ember.cuda.Event(_handle=...)")
            handle = bytes(_handle)
            if len(handle) != 64:  # cudaIpcEventHandle_t: checked here, CUDA would read past a short one
                raise ValueError("Event(_handle=...): expected the 64-byte handle of Event.ipc_handle(), got {} "
                                 "bytes".format(len(handle)))
            self.interprocess, self.enable_timing = True, False
            self._ce = _OpenedEvent(_cp().cuda.runtime.ipcOpenEventHandle(handle))

    def _event(self):
        if self._ce is None:
            _lazy_init()
            self._ce = _cp().cuda.Event(block=self.blocking, disable_timing=not self.enable_timing,
                                        interprocess=self.interprocess)
        return self._ce

    def record(self, stream=None):
        if stream is None:
            stream = current_stream()
        self._event().record(stream._cs)

    def wait(self, stream=None):
        if stream is None:
            stream = current_stream()
        stream.wait_event(self)

    def query(self):
        return True if self._ce is None else bool(self._ce.done)

    def elapsed_time(self, end_event):
        """Milliseconds between this event's and ``end_event``'s records (both need enable_timing=True)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Event.elapsed_time: both events must be created with enable_timing=True")
        if self._ce is None or end_event._ce is None:
            raise RuntimeError("Event.elapsed_time: both events must be recorded first")
        end_event.synchronize()
        return _cp().cuda.get_elapsed_time(self._ce, end_event._ce)

    def synchronize(self):
        if self._ce is not None:
            self._ce.synchronize()

    def ipc_handle(self):
        if not self.interprocess:
            raise RuntimeError("Event.ipc_handle: the event must be created with interprocess=True")
        return _cp().cuda.runtime.ipcGetEventHandle(self._event().ptr)

    def __repr__(self):
        if self._ce is None:
            return "<torch.cuda.Event uninitialized>"
        return "<torch.cuda.Event {:#x}>".format(self._ce.ptr)


class _OpenedEvent(object):
    """An event opened from another process's IPC handle, with the part of CuPy's Event API that ember's
    Event and Stream use (CuPy's Event cannot wrap an existing event)."""

    def __init__(self, ptr):
        self.ptr = ptr

    def record(self, stream=None):
        _cp().cuda.runtime.eventRecord(self.ptr, stream.ptr if stream is not None else 0)

    def synchronize(self):
        _cp().cuda.runtime.eventSynchronize(self.ptr)

    @property
    def done(self):
        runtime = _cp().cuda.runtime
        try:
            return runtime.eventQuery(self.ptr) == 0  # the status: cudaErrorNotReady while pending
        except runtime.CUDARuntimeError:  # a CuPy that raises for a pending event instead
            return False


_stream_uses = []  # (event, array): allocations kept until their stream passes the event (record_stream)


def _release_stream_uses():
    _stream_uses[:] = [use for use in _stream_uses if not use[0].done]


# ---------------------------------------------------------------------- random

def manual_seed(seed):
    """Seeds the current GPU's generator; without CUDA, a no-op as in 0.2 (its call was deferred)."""
    _initial_seed[0] = int(seed)
    if _backend.cuda_available:
        _generator().set_state(_seed_state(seed))


def manual_seed_all(seed):
    _initial_seed[0] = int(seed)
    if _backend.cuda_available:
        for d in range(device_count()):
            _generator(d).set_state(_seed_state(seed))


def _generator(device=None):
    from ember.cuda import _random  # on first use: it loads the kernels package, which import ember need not
    return _random.generator(device)


def _seed_state(seed):
    return int(seed & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little") + bytes(8)


def seed():
    manual_seed(_pyrandom.getrandbits(63))


def seed_all():
    manual_seed_all(_pyrandom.getrandbits(63))


def initial_seed():
    _lazy_init()
    if _initial_seed[0] is None:
        seed()
    return _initial_seed[0]


def get_rng_state(device=-1):
    """The generator state of GPU ``device`` (-1: the current one) as a ByteTensor: ember's GPU generator is
    Philox, whose state is its seed and counter (16 bytes; 0.2's MTGP32 states were larger)."""
    _lazy_init("ember.cuda.get_rng_state()")
    state = _generator(_rng_device(device, "get_rng_state")).get_state()
    return _tensor.ByteTensor(list(state))


def set_rng_state(new_state, device=-1):
    """Restores a state from ``get_rng_state`` (a ByteTensor of 16 bytes)."""
    _lazy_init("ember.cuda.set_rng_state()")
    if not isinstance(new_state, _tensor.ByteTensor) or new_state.numel() != 16:
        raise RuntimeError("set_rng_state(): expected a torch.ByteTensor of 16 bytes from get_rng_state(), got {}"
                           .format(_tensor._typename_of(new_state) if not isinstance(new_state, _tensor.ByteTensor)
                                   else "one of {} bytes".format(new_state.numel())))
    _generator(_rng_device(device, "set_rng_state")).set_state(new_state.contiguous().numpy().tobytes())


def _rng_device(device, what):
    if device == -1:
        return None
    _check_device(device, what)
    return device


# ---------------------------------------------------------------------- host <-> device

def _async(kwargs, what):
    """0.2's ``async`` (a keyword from Python 3.7 on, so it comes through **kwargs), or ``non_blocking``."""
    flag = False
    for k, v in kwargs.items():
        if k in ("async", "non_blocking"):
            flag = flag or bool(v)
        elif k not in ("broadcast",):
            raise TypeError("{} got an unexpected keyword argument '{}'".format(what, k))
    return flag


def _dev(arr):
    return arr.data.device_id


def _to_device(host, non_blocking=False):
    """A device array (current device) holding the host array's values."""
    cp = _cp()
    host = _np.ascontiguousarray(host)
    d = cp.empty(host.shape, host.dtype)
    if host.size:
        d.set(host, stream=cp.cuda.get_current_stream() if non_blocking else None)
    return d


def _to_host(arr):
    return _backend.asnumpy(arr)


def _cuda_twin(cls):
    return _tensor._resolve_type(cls._typename.replace("torch.", "torch.cuda.", 1))


def _cpu_twin(cls):
    return _tensor._resolve_type(cls._typename.replace("torch.cuda.", "torch.", 1))


def _tensor_to_cuda(tensor, device=None, **kwargs):
    non_blocking = _async(kwargs, "cuda()")
    _lazy_init("{}.cuda()".format(tensor._typename))
    if device is not None:
        device = int(device)
        _check_device(device, "cuda()")
    if tensor.is_cuda:
        d = _dev(tensor._a)
        if device is None or device == d:
            return tensor
        with globals()["device"](device):
            return type(tensor)._make(tensor._a.copy())  # CuPy copies across devices into the current one
    cls = _cuda_twin(type(tensor))
    with globals()["device"](current_device() if device is None else device):
        return cls._make(_to_device(tensor._a, non_blocking and tensor.is_pinned()))


def _convert_tensor(tensor, cls, **kwargs):
    non_blocking = _async(kwargs, "type()")
    _lazy_init("{}.type('{}')".format(tensor._typename, cls._typename))
    if not tensor.is_cuda:  # host -> current device, cast on the host as 0.2
        return _tensor_to_cuda(tensor.type(_cpu_twin(cls)), non_blocking=non_blocking)
    if not cls.is_cuda:
        with device(_dev(tensor._a)):
            arr = tensor._a.astype(cls._dtype, order="C", copy=False)
            return cls._make(_np.ascontiguousarray(_to_host(arr)))
    with device(_dev(tensor._a)):
        return cls._make(tensor._a.astype(cls._dtype, order="C"))


def _source_for(dst, src, **kwargs):
    """``src`` for ``dst.copy_(src)`` on ``dst``'s side: moved between host and device, or between devices."""
    non_blocking = _async(kwargs, "copy_()")
    if dst.is_cuda:
        d = _dev(dst._a)
        if not src.is_cuda:
            host = src if src._a.flags.c_contiguous else src.contiguous()
            with device(d):
                return _cuda_twin(type(src))._make(_to_device(host._a, non_blocking and src.is_pinned()))
        if _dev(src._a) != d:
            with device(d):
                return type(src)._make(src._a.copy())  # CuPy copies across devices into the current one
        return src
    with device(_dev(src._a)):
        return _cpu_twin(type(src))._make(_np.ascontiguousarray(_to_host(src._a)))


def _pin_storage(storage):
    _lazy_init("{}.pin_memory()".format(storage._typename))
    if storage._pinned:
        return storage
    arr = _backend.cupyx.empty_pinned(storage._a.shape, storage._dtype)
    arr[...] = storage._a
    s = type(storage)._wrap(arr)
    s._pinned = True
    return s


def _pin_tensor(tensor):
    s = _pin_storage(tensor.storage())
    t = type(tensor)()
    if not tensor._a.size:
        t._s = s
        return t
    return t.set_(s, tensor.storage_offset(), tensor.size(), tensor.stride())


def _storage_to_cuda(storage, device=None, **kwargs):
    non_blocking = _async(kwargs, "cuda()")
    _lazy_init("{}.cuda()".format(storage._typename))
    if device is not None:
        _check_device(int(device), "cuda()")
    if storage.is_cuda:
        if device is None or device == storage.get_device():
            return storage
        with globals()["device"](device):
            return type(storage)._wrap(storage._a.copy())
    cls = _storage._typename_to_class[storage._typename.replace("torch.", "torch.cuda.", 1)]
    with globals()["device"](current_device() if device is None else device):
        return cls._wrap(_to_device(storage._a, non_blocking and storage._pinned))


def _convert_storage(cls, arr):
    _lazy_init("conversion to {}".format(cls._typename))
    if not _backend.is_device_array(arr):  # host -> current device
        return cls._wrap(_to_device(arr.astype(cls._dtype)))
    with device(_dev(arr)):
        if cls.is_cuda:
            return cls._wrap(arr.astype(cls._dtype))
        return cls._wrap(_to_host(arr).astype(cls._dtype))


def _copy_storage(dst, src, **kwargs):
    non_blocking = _async(kwargs, "copy_()")
    if dst.is_cuda:
        with device(dst.get_device()):
            if src.is_cuda:
                s = src._a if _dev(src._a) == dst.get_device() else src._a.copy()
            else:
                s = _to_device(src._a, non_blocking and src._pinned)
            _cp().copyto(dst._a, s, casting="unsafe")
        return dst
    with device(src.get_device()):
        _np.copyto(dst._a, _to_host(src._a), casting="unsafe")
    return dst


# ---------------------------------------------------------------------- sharing between processes (CUDA IPC)
# A CUDA storage sent to another process (ember.multiprocessing) goes as a CUDA IPC handle, and the receiver
# maps the same device memory, as in 0.2. CUDA hands out whole allocations, while CuPy's pool carves arrays
# out of larger ones: the first time a storage is sent, its data moves into an allocation of its own (the
# sending tensor is rebound to it; other tensors viewing the old memory keep it, as share_memory_() does on
# the CPU). The sender must keep the storage alive while others use it (the reference docs' warning).

class _IpcShared(object):
    """What ``storage._shared`` holds for an IPC-shared CUDA storage: its allocation's handle, size, device
    and address, and what keeps the allocation (or the mapping of another process's) alive."""
    __slots__ = ("handle", "nbytes", "device", "ptr", "memory")

    def __init__(self, handle, nbytes, device, ptr, memory):
        self.handle, self.nbytes, self.device, self.ptr, self.memory = handle, nbytes, device, ptr, memory


class _IpcMapping(object):
    """Another process's allocation opened here; closed when the last array using it goes."""

    def __init__(self, ptr, device_id):
        self.ptr, self.device_id = ptr, device_id

    def __del__(self):
        try:
            with device(self.device_id):
                _cp().cuda.runtime.ipcCloseMemHandle(self.ptr)
        except Exception:  # noqa: BLE001  (interpreter shutdown, or the context already gone)
            pass


_ipc_roots = _weakref.WeakValueDictionary()  # (device, handle) -> the storage holding that allocation here


def _ipc_share(storage):
    """(the storage's _IpcShared, its element offset in the allocation), moving it into an allocation of
    its own the first time."""
    shared = storage._shared
    if not shared:
        cp = _cp()
        dev = storage.get_device()
        with device(dev):
            a = storage._a
            mem = cp.cuda.Memory(max(a.nbytes, 1))
            moved = cp.ndarray(a.shape, a.dtype, cp.cuda.MemoryPointer(mem, 0))
            moved[...] = a
            storage._a = moved
            shared = storage._shared = _IpcShared(cp.cuda.runtime.ipcGetMemHandle(mem.ptr), mem.size, dev,
                                                  mem.ptr, mem)
        _ipc_roots[(dev, shared.handle)] = storage  # loaded back in this process: this very storage
    offset = (storage.data_ptr() - shared.ptr) // storage.element_size() if storage.size() else 0
    return shared, offset


def _rebuild_storage_ipc(cls, dev, handle, nbytes, offset, size):
    root = _ipc_roots.get((dev, handle))
    if root is None:
        _lazy_init("a CUDA storage received from another process")
        cp = _cp()
        with device(dev):
            ptr = cp.cuda.runtime.ipcOpenMemHandle(handle)
            mem = cp.cuda.UnownedMemory(ptr, nbytes, _IpcMapping(ptr, dev), dev)
            arr = cp.ndarray((nbytes // _np.dtype(cls._dtype).itemsize,), cls._dtype, cp.cuda.MemoryPointer(mem, 0))
        root = cls._wrap(arr)
        root._shared = _IpcShared(handle, nbytes, dev, ptr, mem)
        _ipc_roots[(dev, handle)] = root  # received twice: mapped once (CUDA opens a handle once per process)
    if offset == 0 and size == root.size():
        return root
    view = cls._wrap(root._a[offset:offset + size])
    view._shared = root._shared
    return view


def _reduce_storage(storage):
    shared, offset = _ipc_share(storage)
    return (_rebuild_storage_ipc, (type(storage), shared.device, shared.handle, shared.nbytes, offset,
                                   storage.size()))


# ---------------------------------------------------------------------- CUDA types
# The classes exist without CUDA (type strings, isinstance checks, pickles naming them); constructing one
# then raises, as 0.2's lazy CUDA init did.

class _CudaTensorBase(_tensor._TensorBase):
    __slots__ = ()

    def __init__(self, *args, **kwargs):
        _lazy_init(type(self)._typename)
        _tensor._TensorBase.__init__(self, *args, **kwargs)
        if type(self._a) is _np.ndarray:  # built on the host (from data): move it
            self._a = _to_device(self._a)

    def get_device(self):
        return _dev(self._a)

    def is_pinned(self):
        return False

    def record_stream(self, stream):
        """Mark this tensor's memory as used by the work queued so far on ``stream``: it is not handed to a
        new allocation before that work is done, even once the tensor is gone. (CuPy's pool, as 0.2's caching
        allocator, otherwise reuses freed memory at once for the stream that allocated it.)"""
        if not isinstance(stream, Stream):
            raise TypeError("record_stream(): expected a torch.cuda.Stream, got {}".format(type(stream).__name__))
        _release_stream_uses()
        done = _cp().cuda.Event(disable_timing=True)
        done.record(stream._cs)
        _stream_uses.append((done, self._a))  # the array holds its allocation

    def _view(self, arr):
        # a view made from a device pointer has no CuPy ``base``: name its storage now, while it is known
        t = object.__new__(type(self))
        t._a = arr
        t._s = self._s if self._s is not None else self.storage()
        return t


class _CudaStorageBase(_storage._StorageBase):
    __slots__ = ()
    is_cuda = True

    def __init__(self, *args, **kwargs):
        _lazy_init(type(self)._typename)
        if len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool) and not kwargs:
            if args[0] < 0:
                raise RuntimeError("{}: size must be non-negative, got {}".format(self._typename, args[0]))
            self._shared = self._pinned = False
            self._a = _cp().empty(args[0], self._dtype)
            return
        _storage._StorageBase.__init__(self, *args, **kwargs)
        if type(self._a) is _np.ndarray:
            self._a = _to_device(self._a)

    def get_device(self):
        return _dev(self._a)

    def data_ptr(self):
        return self._a.data.ptr if self._a.size else 0

    def _alloc(self, size):
        self._shared = False  # resized: no longer the allocation other processes opened
        with device(self.get_device()):
            return _cp().empty(size, self._dtype)

    def share_memory_(self):
        """Move the data into an allocation of its own (once), which CUDA IPC can hand to other processes."""
        _ipc_share(self)
        return self

    @classmethod
    def from_buffer(cls, *args, **kwargs):
        return _cpu_storage_cls(cls).from_buffer(*args, **kwargs).cuda()

    @classmethod
    def from_file(cls, *args, **kwargs):
        raise NotImplementedError("{}.from_file: map the file into a CPU storage and call .cuda()"
                                  .format(cls._typename))

    @classmethod
    def _new_shared(cls, size):
        return cls(size)


def _cpu_storage_cls(cls):
    return _storage._typename_to_class[cls._typename.replace("torch.cuda.", "torch.", 1)]


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


_types_by_name = _make_types()
globals().update(_types_by_name)


def _retarget():
    """Point the CUDA classes at the current array module (CuPy, or the fake after use_fake_cuda)."""
    for cls in _types_by_name.values():
        cls._xp = _backend.cupy


# ---------------------------------------------------------------------- device guard
# Every CUDA tensor method (and ember.* function taking a CUDA tensor first) runs with the tensor's
# device current, and refuses tensors of another device among its arguments.

_METADATA = frozenset("""
size dim ndimension numel nelement __len__ stride element_size storage_offset data_ptr is_contiguous is_same_size
is_set_to is_signed get_device is_pinned is_shared storage __hash__ __bool__ __nonzero__ __init__ _view
_invalid_args __iter__ __index__
""".split())
_CROSS_DEVICE_OK = frozenset(("copy_", "cuda", "type", "type_as", "cpu", "__reduce__", "__deepcopy__"))


def _other_device(args, kwargs, d):
    TB = _tensor._TensorBase
    for a in args:
        if isinstance(a, TB):
            if a.is_cuda and _dev(a._a) != d:
                return _dev(a._a)
        elif type(a) in (list, tuple):
            for b in a:
                if isinstance(b, TB) and b.is_cuda and _dev(b._a) != d:
                    return _dev(b._a)
    for a in kwargs.values():
        if isinstance(a, TB) and a.is_cuda and _dev(a._a) != d:
            return _dev(a._a)
    return None


def _run_on(d, name, f, args, kwargs, check=True):
    if check:
        other = _other_device(args, kwargs, d)
        if other is not None:
            raise RuntimeError("{}: arguments are located on different GPUs (GPU {} and GPU {}); move one with "
                               ".cuda(device) or copy_()".format(name, d, other))
    rt = _cp().cuda.runtime
    if rt.getDevice() == d:
        return f(*args, **kwargs)
    with _cp().cuda.Device(d):
        return f(*args, **kwargs)


def _guarded(name, f):
    check = name not in _CROSS_DEVICE_OK

    @_functools.wraps(f)
    def method(self, *args, **kwargs):
        return _run_on(_dev(self._a), name, f, (self,) + args, kwargs, check)
    return method


def _install_guards():
    for name, f in list(vars(_tensor._TensorBase).items()):
        if isinstance(f, _types.FunctionType) and name not in _METADATA and name not in vars(_CudaTensorBase):
            setattr(_CudaTensorBase, name, _guarded(name, f))


def _guard_call(f, args, kwargs):
    """ember.<f>(cuda_tensor, ...) or ember.<f>([cuda tensors], ...): run on the first tensor's device."""
    first = args[0]
    if type(first) in (list, tuple):
        first = first[0]
    return _run_on(_dev(first._a), f.__name__, f, args, kwargs)


_install_guards()
_ops._cuda_guard.append(_guard_call)

from . import comm, nccl, nvtx  # noqa: E402,F401
