"""Storages: 1-D contiguous buffers of one dtype (a NumPy array on the CPU, a CuPy array on the GPU)."""
import numbers
import operator
import os

import numpy as np

from . import _shared_memory as _shm

_typename_to_class = {}


class _StorageBase(object):
    __slots__ = ("_a", "_shared", "_pinned", "__weakref__")
    is_cuda = False
    is_sparse = False
    _xp = np

    def __init__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("{} constructor doesn't accept any keyword arguments".format(self._typename))
        self._shared = False
        self._pinned = False
        dtype = self._dtype
        if not args:
            self._a = np.empty(0, dtype)
            return
        a0 = args[0]
        if isinstance(a0, _StorageBase) and len(args) <= 3:
            if type(a0) is not type(self):
                raise self._invalid_args(args)
            offset = int(args[1]) if len(args) > 1 else 0
            size = int(args[2]) if len(args) > 2 else a0.size() - offset
            if offset < 0 or size < 0 or offset + size > a0.size():
                raise RuntimeError("{}: view [{}, {}) is out of bounds for a storage of size {}"
                                   .format(self._typename, offset, offset + size, a0.size()))
            self._a = a0._a[offset:offset + size]
            self._shared = a0._shared
            return
        if len(args) == 1:
            if isinstance(a0, int) and not isinstance(a0, bool):
                if a0 < 0:
                    raise RuntimeError("{}: size must be non-negative, got {}".format(self._typename, a0))
                self._a = np.empty(a0, dtype)
                return
            if isinstance(a0, (list, tuple, range)):
                try:  # integer types: infer, then cast like C (wrapping), as tensor constructors do
                    arr = np.array(a0, dtype=dtype if dtype.kind == "f" else None)
                except (TypeError, ValueError, OverflowError):
                    arr = None
                if arr is None or arr.ndim > 1 or arr.dtype.kind not in "biuf":
                    raise TypeError("{}: Sequence data must be a flat sequence of numbers, got {!r}"
                                    .format(self._typename, a0))
                self._a = arr.astype(dtype).reshape(-1)
                return
        raise self._invalid_args(args)

    def _invalid_args(self, args):
        got = ", ".join(_typename_of(a) for a in args)
        name = self._typename
        return TypeError(
            "{} constructor received an invalid combination of arguments - got ({}), but expected one of:\n"
            " * no arguments\n * (int size)\n * (Sequence data)\n * ({} view_source)\n"
            " * ({} view_source, int offset)\n * ({} view_source, int offset, int size)\n"
            .format(name, got, name, name, name))

    @classmethod
    def _wrap(cls, arr):
        s = cls.__new__(cls)
        s._a = arr
        s._shared = False
        s._pinned = False
        return s

    # --- size and elements ---
    def size(self):
        return int(self._a.shape[0])

    def __len__(self):
        return int(self._a.shape[0])

    def element_size(self):
        return self._a.itemsize

    def data_ptr(self):
        return int(self._a.__array_interface__["data"][0]) if self._a.size else 0

    def _check_index(self, idx):
        try:
            i = operator.index(idx)
        except TypeError:
            raise TypeError("can't index a {} with {}".format(self._typename, type(idx).__name__)) from None
        n = self._a.shape[0]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("index {} out of range for storage of size {}".format(idx, n))
        return i

    def _scalar(self, value, op):
        """A Python number as the storage's C type: integer types truncate and wrap, as 0.2's casts did."""
        if not isinstance(value, numbers.Real):
            raise TypeError("{}.{}: expected a number, got {}".format(self._typename, op, _typename_of(value)))
        if self._dtype.kind not in "iu":
            return value
        v = int(value)
        info = np.iinfo(self._dtype)
        if info.min <= v <= info.max:
            return v
        return int(np.array(v & 0xFFFFFFFFFFFFFFFF, np.uint64).astype(self._dtype))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            start, stop, step = idx.indices(len(self))
            if step != 1:
                raise RuntimeError("{}: slices with a step are not supported, got step {}"
                                   .format(self._typename, step))
            return type(self)._wrap(self._a[start:stop])
        return self._a[self._check_index(idx)].item()

    def __setitem__(self, idx, value):
        value = self._scalar(value, "__setitem__")
        if isinstance(idx, slice):
            self._a[idx] = value
        else:
            self._a[self._check_index(idx)] = value

    def __iter__(self):
        return iter(self._a.tolist())

    def tolist(self):
        return self._a.tolist()

    def fill_(self, value):
        self._a.fill(self._scalar(value, "fill_"))
        return self

    def resize_(self, size):
        try:
            size = operator.index(size)
        except TypeError:
            raise TypeError("{}.resize_: expected an int size, got {}".format(self._typename, _typename_of(size))) \
                from None
        if size < 0:
            raise RuntimeError("{}.resize_: size must be non-negative, got {}".format(self._typename, size))
        old = self._a
        if size == old.shape[0]:
            return self
        new = self._alloc(size)
        n = min(size, old.shape[0])
        new[:n] = old[:n]
        self._a = new
        return self

    def _alloc(self, size):
        if self._shared:
            arr, self._shared = _shm.allocate(size, self._dtype)
            return arr
        return np.empty(size, self._dtype)

    def new(self):
        return type(self)()

    def clone(self):
        return type(self)._wrap(self._a.copy())

    def __copy__(self):
        return self.clone()

    def __deepcopy__(self, memo):
        memo = memo.setdefault("torch", {})
        key = self.data_ptr(), self.size()
        if key in memo:
            return memo[key]
        r = self.clone()
        memo[key] = r
        return r

    def __reduce__(self):
        return (type(self), (self.tolist(),))

    # --- memory placement ---
    def is_pinned(self):
        return self._pinned

    def pin_memory(self):
        if self.is_cuda:
            raise TypeError("cannot pin '{}' only CPU memory can be pinned".format(self._typename))
        from ember import cuda
        return cuda._pin_storage(self)

    def is_shared(self):
        return bool(self._shared)

    def share_memory_(self):
        """Move the data into shared memory (in place; ``_shared`` then holds the handle other processes
        receive); a no-op when already shared. Tensors viewing the old memory keep it, except the tensor
        whose ``share_memory_()`` called this."""
        if self._shared or self.is_cuda:
            return self
        new, handle = _shm.allocate(self._a.shape[0], self._dtype)
        new[...] = self._a
        self._a = new
        self._shared = handle
        return self

    @classmethod
    def _new_shared(cls, size):
        """A new storage of ``size`` elements allocated directly in shared memory."""
        arr, handle = _shm.allocate(size, cls._dtype)
        s = cls._wrap(arr)
        s._shared = handle
        return s

    # --- conversions ---
    def type(self, new_type=None, **kwargs):
        if new_type is None:
            return self._typename
        cls = _resolve_storage_type(new_type)
        if cls is type(self):
            return self
        return cls._from_array(self._a)

    @classmethod
    def _from_array(cls, arr):
        if cls.is_cuda or not isinstance(arr, np.ndarray):  # to or from a device
            from ember import cuda
            return cuda._convert_storage(cls, arr)
        return cls._wrap(np.asarray(arr).astype(cls._dtype))

    def cpu(self):
        return self if not self.is_cuda else self.type(self._typename.replace("cuda.", ""))

    def cuda(self, device=None, **kwargs):
        from ember import cuda
        return cuda._storage_to_cuda(self, device, **kwargs)

    def double(self):
        return self.type(_cast_name(self, "Double"))

    def float(self):
        return self.type(_cast_name(self, "Float"))

    def half(self):
        return self.type(_cast_name(self, "Half"))

    def long(self):
        return self.type(_cast_name(self, "Long"))

    def int(self):
        return self.type(_cast_name(self, "Int"))

    def short(self):
        return self.type(_cast_name(self, "Short"))

    def char(self):
        return self.type(_cast_name(self, "Char"))

    def byte(self):
        return self.type(_cast_name(self, "Byte"))

    # --- construction from raw memory ---
    @classmethod
    def from_buffer(cls, buffer, byte_order=None, count=-1, offset=0):
        itemsize = np.dtype(cls._dtype).itemsize
        if byte_order is None:
            if itemsize != 1:
                raise ValueError("{}.from_buffer: byte_order must be given ('native', 'little' or 'big')"
                                 .format(cls._typename))
            byte_order = "native"
        if byte_order not in ("native", "little", "big"):
            raise ValueError("{}.from_buffer: invalid byte_order '{}' (expected 'native', 'little' or 'big')"
                             .format(cls._typename, byte_order))
        nbytes = len(memoryview(buffer).cast("B"))
        if offset < 0 or offset > nbytes:
            raise ValueError("{}.from_buffer: offset {} out of range for a buffer of {} bytes"
                             .format(cls._typename, offset, nbytes))
        if count < 0:
            if (nbytes - offset) % itemsize:
                raise ValueError("{}.from_buffer: buffer size ({} bytes after offset) must be a multiple of "
                                 "element size ({})".format(cls._typename, nbytes - offset, itemsize))
            count = (nbytes - offset) // itemsize
        elif offset + count * itemsize > nbytes:
            raise ValueError("{}.from_buffer: buffer has only {} bytes after offset {}, {} needed"
                             .format(cls._typename, nbytes - offset, offset, count * itemsize))
        dt = np.dtype(cls._dtype)
        if byte_order != "native":
            dt = dt.newbyteorder("<" if byte_order == "little" else ">")
        arr = np.frombuffer(buffer, dtype=dt, count=count, offset=offset)
        return cls._wrap(arr.astype(cls._dtype))  # a copy, as 0.2 did

    @classmethod
    def from_file(cls, filename, shared=False, size=0):
        """Map a file into memory. shared=True writes changes back to the file (MAP_SHARED)."""
        itemsize = np.dtype(cls._dtype).itemsize
        filename = os.fspath(filename)
        exists = os.path.exists(filename)
        fsize = os.path.getsize(filename) if exists else 0
        if size <= 0:
            if not exists:
                raise RuntimeError("{}.from_file: '{}' does not exist and no size was given"
                                   .format(cls._typename, filename))
            size = fsize // itemsize
        nbytes = size * itemsize
        if fsize < nbytes:
            if not shared:
                raise RuntimeError("{}.from_file: '{}' has {} bytes, {} needed for {} elements"
                                   .format(cls._typename, filename, fsize, nbytes, size))
            with open(filename, "ab") as f:  # shared mappings grow the file, as TH did
                f.truncate(nbytes)
        if size == 0:
            return cls()
        arr = np.memmap(filename, dtype=cls._dtype, mode="r+" if shared else "c", shape=(size,))
        s = cls._wrap(arr)
        return s

    # --- printing ---
    def __repr__(self):
        from ember._tensor_str import _str_storage
        return _str_storage(self)

    __str__ = __repr__


def _copy_storage(self, source, **kwargs):  # kwargs: 0.2's `async` (a keyword in Python >= 3.7)
    if not isinstance(source, _StorageBase):
        raise TypeError("{}.copy_ expects a storage, got {}".format(self._typename, _typename_of(source)))
    if source.size() != self.size():
        raise RuntimeError("{}.copy_: size mismatch, destination has {} elements and source has {}"
                           .format(self._typename, self.size(), source.size()))
    if self.is_cuda or source.is_cuda:
        from ember import cuda
        cuda._copy_storage(self, source, **kwargs)
    else:
        np.copyto(self._a, source._a, casting="unsafe")
    return self


_StorageBase.copy_ = _copy_storage
_StorageBase.copy_.__name__ = "copy_"


def _typename_of(o):
    tn = getattr(type(o), "_typename", None)
    if tn is not None:
        return tn
    return type(o).__name__


def _cast_name(storage, kind):
    prefix = "torch.cuda." if storage.is_cuda else "torch."
    return prefix + kind + "Storage"


def _resolve_storage_type(t):
    if isinstance(t, str):
        name = t.replace("ember.", "torch.", 1) if t.startswith("ember.") else t
        cls = _typename_to_class.get(name)
        if cls is None:
            raise ValueError("invalid storage type: '{}'".format(t))
        return cls
    if isinstance(t, type) and issubclass(t, _StorageBase):
        return t
    raise ValueError("invalid storage type: {!r}".format(t))


def _make(name, dtype):
    cls = type(name, (_StorageBase,), {"__slots__": (), "_dtype": np.dtype(dtype),
                                       "_typename": "torch." + name, "__module__": "ember"})
    _typename_to_class["torch." + name] = cls
    return cls


DoubleStorage = _make("DoubleStorage", np.float64)
FloatStorage = _make("FloatStorage", np.float32)
HalfStorage = _make("HalfStorage", np.float16)
LongStorage = _make("LongStorage", np.int64)
IntStorage = _make("IntStorage", np.int32)
ShortStorage = _make("ShortStorage", np.int16)
CharStorage = _make("CharStorage", np.int8)
ByteStorage = _make("ByteStorage", np.uint8)
