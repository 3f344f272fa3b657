"""Writing Lua Torch7 ``.t7`` files (an ember extra): what ``torch.load`` in Lua and :func:`load_lua` read."""
import numbers
import os
import struct
import warnings

import numpy as np

import ember
from ember.serialization import atomic_write

from ._types import (TYPE_BOOLEAN, TYPE_FUNCTION, TYPE_NIL, TYPE_NUMBER, TYPE_STRING, TYPE_TABLE, TYPE_TORCH,
                     LuaFunction, TdsHash, TdsVec, TorchObject)

__all__ = ["T7Writer", "save_lua"]

_I32 = struct.Struct("<i")
_F64 = struct.Struct("<d")
_MAX_EXACT = 2 ** 53  # integers up to this size are exact as Lua numbers (doubles)
_ASCII_FORMAT = {"d": "%.17g", "f": "%.9g", "e": "%.9g"}  # THDiskFile's printf formats by element type


def save_lua(path_or_file, obj, format="binary", long_size=8):
    """Write ``obj`` as Lua Torch7's ``torch.save`` would (an ember extra; 0.2 could only read .t7 files).

    ``path_or_file`` is a path (written atomically: a temporary file in the same directory replaces it once
    complete) or a binary file object. ``format`` is ``'binary'`` or ``'ascii'``; ``long_size`` (4 or 8)
    is the size of a C long in binary files. What :class:`T7Writer` writes is described there."""
    if isinstance(path_or_file, (str, bytes, os.PathLike)):
        atomic_write(os.fsdecode(path_or_file), lambda f: T7Writer(f, format, long_size).write(obj))
    elif callable(getattr(path_or_file, "write", None)):
        T7Writer(path_or_file, format, long_size).write(obj)
    else:
        raise TypeError("save_lua: expected a path or a writable binary file object, got {}"
                        .format(type(path_or_file).__name__))


class T7Writer(object):
    """Writes objects to a file in Torch7's serialization format, numbering objects and writing each
    table, tensor, storage and function once (later occurrences are references), exactly as
    ``torch.DiskFile:writeObject`` does, so that Lua's ``torch.load`` and :func:`load_lua` read them back.

    Python values map to Lua ones: ``None`` -> nil, bool -> boolean, int and float -> number (ints beyond
    2**53 that a double can't hold raise ValueError), ``str`` (UTF-8) and ``bytes`` -> string, dict -> table,
    list and tuple -> array table with keys 1..n, ember tensors and storages -> ``torch.<Type>Tensor`` /
    ``torch.<Type>Storage`` (CUDA ones are written as their CPU types; tensors viewing one memory share
    one storage in the file), :class:`TdsHash` / :class:`TdsVec` -> ``tds.Hash`` / ``tds.Vec``,
    :class:`TorchObject` -> an object of its class with its version, :class:`LuaFunction` -> the function
    as it was read. An object of an ``ember.legacy.nn`` class is written as ``nn.<ClassName>`` with the
    version ``type(obj)._lua_version`` (default 1) and the fields ``obj._to_lua()`` returns (default its
    ``__dict__``). As in Lua, a field of an object that can't be written is skipped with a warning; any
    other value that can't be written raises TypeError."""

    def __init__(self, fileobj, format="binary", long_size=8):
        if format not in ("binary", "ascii"):
            raise ValueError("T7Writer: format must be 'binary' or 'ascii', got {!r}".format(format))
        if long_size not in (4, 8):
            raise ValueError("T7Writer: long_size must be 4 or 8, got {!r}".format(long_size))
        self.f = fileobj
        self.format = format
        self._sink = _AsciiSink(fileobj) if format == "ascii" else _BinarySink(fileobj, long_size)
        self._index = {}  # id(object) or storage key -> object index
        self._keep = []   # objects whose ids are in _index stay alive until the writer goes
        self._count = 0

    def write(self, obj):
        """Write one object (files may hold several, read back in order)."""
        try:
            self._write(obj)
        finally:
            self._sink.flush()

    def _write(self, obj):
        # iterative: each container gives an iterator over the children still to write
        stack = [iter((obj,))]
        while stack:
            for child in stack[-1]:
                children = self._emit(child)
                if children is not None:
                    stack.append(children)
                    break
            else:
                stack.pop()

    def _new_index(self, key, obj):
        """The next object index, recorded for ``key``; None when ``key`` was written already (then its
        reference is written)."""
        index = self._index.get(key)
        if index is not None:
            self._sink.int(index)
            return None
        self._count += 1
        self._index[key] = self._count
        self._keep.append(obj)
        self._sink.int(self._count)
        return self._count

    def _emit(self, obj):
        """Write ``obj``'s type code and everything up to its children; return an iterator over those."""
        sink = self._sink
        if obj is None:
            sink.int(TYPE_NIL)
        elif obj is True or obj is False or isinstance(obj, np.bool_):
            sink.int(TYPE_BOOLEAN)
            sink.int(1 if obj else 0)
        elif isinstance(obj, (int, float)) or isinstance(obj, numbers.Real):  # NumPy scalars too
            sink.int(TYPE_NUMBER)
            sink.double(_lua_number(obj))
        elif isinstance(obj, str):
            sink.int(TYPE_STRING)
            sink.string(obj.encode("utf-8", "surrogateescape"))
        elif isinstance(obj, (bytes, bytearray)):
            sink.int(TYPE_STRING)
            sink.string(bytes(obj))
        elif isinstance(obj, ember._TensorBase):
            return self._emit_tensor(obj)
        elif isinstance(obj, ember._StorageBase):
            self._emit_storage(obj)
        elif isinstance(obj, (TdsHash, TdsVec)):
            sink.int(TYPE_TORCH)
            if self._new_index(id(obj), obj) is not None:
                sink.class_header(0, "tds.Hash" if isinstance(obj, TdsHash) else "tds.Vec")
                sink.long(len(obj))
                return _pairs(obj) if isinstance(obj, dict) else iter(list(obj))
        elif isinstance(obj, dict):
            sink.int(TYPE_TABLE)
            if self._new_index(id(obj), obj) is not None:
                sink.int(len(obj))
                return _pairs(obj)
        elif isinstance(obj, (list, tuple)):
            sink.int(TYPE_TABLE)
            if self._new_index(id(obj), obj) is not None:
                sink.int(len(obj))
                return _array_pairs(obj)
        elif isinstance(obj, TorchObject):
            return self._emit_object(obj, obj._typename, obj._version, obj._obj)
        elif isinstance(obj, LuaFunction):
            return self._emit_function(obj)
        elif _is_legacy_nn(obj):
            fields = obj._to_lua() if hasattr(obj, "_to_lua") else vars(obj)
            return self._emit_object(obj, "nn." + type(obj).__name__, getattr(type(obj), "_lua_version", 1), fields)
        else:
            raise TypeError("save_lua: can't write an object of type {} (Lua Torch has no such value)"
                            .format(type(obj).__name__))
        return None

    def _emit_tensor(self, t):
        sink = self._sink
        sink.int(TYPE_TORCH)
        if self._new_index(id(t), t) is None:
            return None
        cpu = t.cpu() if t.is_cuda else t
        sink.class_header(1, cpu.type())
        if cpu.dim() == 0:  # an empty tensor has no storage in Lua
            sink.int(0)
            sink.longs(())
            sink.longs(())
            sink.long(1)
            return iter((None,))
        sink.int(cpu.dim())
        sink.longs(cpu.size())
        sink.longs(cpu.stride())
        sink.long(cpu.storage_offset() + 1)
        return iter((cpu.storage(),))

    def _emit_storage(self, s):
        sink = self._sink
        sink.int(TYPE_TORCH)
        if s.is_cuda:
            s = s.cpu()
        # storages are keyed by memory, not object: two tensors sharing memory may hold distinct wrappers
        key = (type(s), s.data_ptr(), s.size()) if s.size() else id(s)
        if self._new_index(key, s) is not None:
            sink.class_header(1, s.type())
            sink.long(s.size())
            sink.array(s._a)

    def _emit_object(self, obj, typename, version, fields):
        sink = self._sink
        sink.int(TYPE_TORCH)
        if self._new_index(id(obj), obj) is None:
            return None
        sink.class_header(version, typename)
        if isinstance(fields, (list, tuple)):  # e.g. an empty field table read with the list heuristic
            fields = dict(enumerate(fields, 1))
        writable = {}
        for k, v in fields.items():
            if _writable(k) and _writable(v):
                writable[k] = v
            else:
                warnings.warn("save_lua: cannot write object field <{}> of <{}> ({})"
                              .format(k, typename, type(v).__name__))
        # the fields go in a table of their own, a new object each time, as Lua writes them
        sink.int(TYPE_TABLE)
        self._count += 1
        sink.int(self._count)
        sink.int(len(writable))
        return _pairs(writable)

    def _emit_function(self, func):
        sink = self._sink
        sink.int(func.kind)
        if func.kind != TYPE_FUNCTION and self._new_index(id(func), func) is None:
            return None
        sink.string(bytes(func.dumped))
        return iter((func.upvalues,))


def _pairs(d):
    for k, v in d.items():
        yield k
        yield v


def _array_pairs(seq):
    for i, v in enumerate(seq, 1):
        yield i
        yield v


def _writable(v):
    return (v is None or isinstance(v, (bool, numbers.Real, str, bytes, bytearray, dict, list, tuple,
                                        ember._TensorBase, ember._StorageBase, TorchObject, LuaFunction, np.bool_))
            or _is_legacy_nn(v))


def _is_legacy_nn(obj):
    module = type(obj).__module__
    return module == "ember.legacy.nn" or module.startswith("ember.legacy.nn.")


def _lua_number(x):
    return _exact_float(int(x)) if isinstance(x, numbers.Integral) else float(x)


def _exact_float(i):
    if -_MAX_EXACT <= i <= _MAX_EXACT:
        return float(i)
    try:
        v = float(i)
    except OverflowError:
        v = None
    if v is None or int(v) != i:
        raise ValueError("save_lua: the integer {} can't be stored exactly as a Lua number (a double)".format(i))
    return v


# ---------------------------------------------------------------------------------------- sinks
class _BinarySink(object):
    """Little-endian binary primitives, buffered; large arrays go straight to the file."""

    def __init__(self, f, long_size):
        self.f = f
        self.buf = bytearray()
        self.long_code = "q" if long_size == 8 else "i"
        self.long_dtype = np.dtype("<i8" if long_size == 8 else "<i4")

    def int(self, v):
        self.buf += _I32.pack(v)

    def long(self, v):
        self.buf += struct.pack("<" + self.long_code, v)

    def longs(self, vs):
        self.buf += struct.pack("<{}{}".format(len(vs), self.long_code), *vs)

    def double(self, v):
        self.buf += _F64.pack(v)

    def string(self, b):
        self.buf += _I32.pack(len(b))
        self.buf += b

    def class_header(self, version, name):
        self.string(("V " + _version_text(version)).encode())
        self.string(name.encode())

    def array(self, arr):
        if arr.dtype == np.int64:
            arr = arr.astype(self.long_dtype, copy=False)
        else:
            arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        if arr.nbytes < 1 << 16:
            self.buf += arr.tobytes()
            return
        self.flush()
        self.f.write(memoryview(np.ascontiguousarray(arr)).cast("B"))

    def flush(self):
        if self.buf:
            self.f.write(bytes(self.buf))
            self.buf = bytearray()


class _AsciiSink(object):
    """Torch's ASCII format: each group of numbers on a line of its own, strings as raw bytes + newline."""

    def __init__(self, f):
        self.f = f
        self.parts = []

    def int(self, v):
        self.parts.append(b"%d\n" % v)

    long = int

    def longs(self, vs):
        if len(vs):
            self.parts.append(" ".join(str(int(v)) for v in vs).encode() + b"\n")

    def double(self, v):
        self.parts.append(("%.17g\n" % v).encode())

    def string(self, b):
        self.parts.append(b"%d\n" % len(b))
        if b:
            self.parts.append(b + b"\n")

    def class_header(self, version, name):
        self.string(("V " + _version_text(version)).encode())
        self.string(name.encode())

    def array(self, arr):
        if not arr.size:
            return
        if arr.itemsize == 1:  # char and byte storages are raw bytes
            self.parts.append(arr.tobytes() + b"\n")
        elif arr.dtype.kind == "f":
            fmt = _ASCII_FORMAT[arr.dtype.char if arr.dtype.char in _ASCII_FORMAT else "f"]
            self.parts.append(" ".join(map(fmt.__mod__, arr.tolist())).encode() + b"\n")
        else:
            self.parts.append(" ".join(map(str, arr.tolist())).encode() + b"\n")

    def flush(self):
        if self.parts:
            self.f.write(b"".join(self.parts))
            self.parts = []


def _version_text(v):
    return "%.14g" % v  # Lua's tostring of a number


