"""Reading Lua Torch7 ``.t7`` files (``torch.save`` / ``DiskFile:writeObject``), binary and ASCII."""
import importlib
import io
import mmap
import re
import struct
import sys

import numpy as np

import ember

from ._types import (LEGACY_TYPE_RECUR_FUNCTION, TYPE_BOOLEAN, TYPE_FUNCTION, TYPE_NIL, TYPE_NUMBER,
                     TYPE_RECUR_FUNCTION, TYPE_STRING, TYPE_TABLE, TYPE_TORCH, LuaFunction, T7ReaderException,
                     TdsHash, TdsVec, TorchObject, hashable_uniq_dict)

__all__ = ["T7Reader", "load_lua"]

_PENDING = object()  # a container was opened and waits for its children
_MISSING = object()

# (ember tensor class, ember storage class, element dtype in the file); Long's depends on long_size
_ELEMENT = {
    "Double": ("DoubleTensor", "DoubleStorage", "<f8"),
    "Float": ("FloatTensor", "FloatStorage", "<f4"),
    "Half": ("HalfTensor", "HalfStorage", "<f2"),
    "Long": ("LongTensor", "LongStorage", None),
    "Int": ("IntTensor", "IntStorage", "<i4"),
    "Short": ("ShortTensor", "ShortStorage", "<i2"),
    "Char": ("CharTensor", "CharStorage", "i1"),
    "Byte": ("ByteTensor", "ByteStorage", "u1"),
}
_TENSORS = {}   # Lua class name -> ember tensor class
_STORAGES = {}  # Lua class name -> (ember storage class, file dtype or None for longs)
for _kind, (_t, _s, _dt) in _ELEMENT.items():
    # cutorch's names load to the CPU types; its float types are plain torch.CudaTensor/CudaStorage
    for _prefix in ("torch.", "torch.Cuda"):
        _TENSORS[_prefix + _kind + "Tensor"] = getattr(ember, _t)
        _STORAGES[_prefix + _kind + "Storage"] = (getattr(ember, _s), _dt)
_TENSORS["torch.CudaTensor"] = ember.FloatTensor
_STORAGES["torch.CudaStorage"] = (ember.FloatStorage, "<f4")
del _kind, _t, _s, _dt, _prefix

# nngraph's classes hold graph structure only: they load as TorchObjects without unknown_classes=True
_DATA_CLASSES = frozenset(["nngraph.Node", "nngraph.JustTable", "nngraph.JustElement", "graph.Graph",
                           "graph.Node", "graph.Edge", "graph.AnnotatedNode", "nn.gModule"])

_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_ASCII_SPACE = rb"[ \t\n\r\v\f]*"
_ASCII_INT = re.compile(_ASCII_SPACE + rb"([-+]?[0-9]+)(?=[ \t\n\r\v\f]|\Z)")
_ASCII_REAL = re.compile(_ASCII_SPACE + rb"([-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
                         rb"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?))")


def load_lua(filename, **kwargs):
    """Load the object stored in the Lua Torch7 file ``filename`` (a path; an open binary file also works).

    Keyword arguments are :class:`T7Reader`'s: ``list_heuristic=True``, ``int_heuristic=True``,
    ``unknown_classes=False``, ``long_size=None`` and the ember extra ``format`` (``'binary'``, ``'ascii'``,
    or ``None`` to detect it; 0.2 read binary files only). Corrupt or hostile files raise
    :class:`T7ReaderException`."""
    if hasattr(filename, "read"):
        reader = T7Reader(filename, **kwargs)
        try:
            return reader.read()
        finally:
            reader._release()
    with open(filename, "rb") as f:
        reader = T7Reader(f, **kwargs)
        try:
            return reader.read()
        finally:
            reader._release()


class T7Reader(object):
    """Reads objects from a Lua Torch7 file, as PyTorch 0.2's ``torch.utils.serialization.T7Reader``.

    * ``list_heuristic``: a table whose keys are exactly 1..n becomes a list (an empty table becomes
      ``[]``, as in 0.2). Tables that contain a reference to themselves stay dicts so that the cycle is
      kept, and so do tables used as keys (lists can't be keys).
    * ``int_heuristic``: numbers with an integral value become ints.
    * ``unknown_classes``: an object of a ``torch.class`` ember has no class for loads as a
      :class:`TorchObject` instead of raising.
    * ``long_size``: the size of a C long in the file, 4 or 8; ``None`` means 8 (Linux and macOS x86_64).
    * ``format`` (ember extra): ``'binary'``, ``'ascii'`` (``torch.save(f, obj, 'ascii')``) or ``None`` to
      tell them apart by the first byte.

    What loads: nil, numbers, strings (``str`` when UTF-8, else ``bytes``), booleans, tables (as
    :class:`hashable_uniq_dict` or lists; shared references and cycles are kept), tensors and storages of
    every type including cutorch's ``torch.Cuda*`` names (loaded to the CPU; tensors viewing one storage
    share memory), ``tds.Hash`` / ``tds.Vec`` (as :class:`TdsHash` / :class:`TdsVec`), Lua functions (as
    inert :class:`LuaFunction` objects, never run), nngraph's objects (as :class:`TorchObject`) and nn
    modules and criteria.

    An nn class ``nn.Name`` loads as ``ember.legacy.nn.Name`` when that class exists (otherwise it is an
    unknown class): the object is made with ``cls.__new__(cls)``, its ``__dict__`` is updated with the
    fields of the Lua table, and then, when the class defines it, the hook ``obj._from_lua(version)`` is
    called with the class version the file recorded (0 for files older than Torch's versioning). The hook
    fills the defaults of fields that old module versions lacked and turns 1-based indices 0-based.

    Every length in the file is checked against the bytes left before anything is allocated, nesting is
    limited to ``max_depth`` levels, and all failures are :class:`T7ReaderException`."""

    max_depth = 10000

    def __init__(self, fileobj, list_heuristic=True, int_heuristic=True, unknown_classes=False,
                 long_size=None, format=None):
        if long_size not in (None, 4, 8):
            raise ValueError("T7Reader: long_size must be None, 4 or 8, got {!r}".format(long_size))
        if format not in (None, "binary", "ascii"):
            raise ValueError("T7Reader: format must be 'binary', 'ascii' or None, got {!r}".format(format))
        self.f = fileobj
        self.memo = {}
        self.list_heuristic = list_heuristic
        self.int_heuristic = int_heuristic
        self.unknown_classes = unknown_classes
        self.long_size = long_size
        self._open_tables = {}  # index -> frame of the tables being read, to notice cycles
        self._nn = _MISSING     # the ember.legacy.nn module, looked up on first use
        buf, pos, self._origin = _buffer_of(fileobj)
        if format is None:
            format = "ascii" if buf[pos:pos + 1].isdigit() else "binary"
        self.format = format
        if format == "ascii":
            self._src = _AsciiSource(buf, pos)
        else:
            self._src = _BinarySource(buf, pos, long_size or 8)

    # ------------------------------------------------------------------ 0.2's primitive readers
    def read_boolean(self):
        return self._src.int() == 1

    def read_int(self):
        return self._src.int()

    def read_long(self):
        return self._src.long()

    def read_long_array(self, n):
        return list(self._src.longs(n))

    def read_float(self):
        return self._src.float()

    def read_double(self):
        return self._src.double()

    def read_string(self):
        src = self._src
        return _decode(src.raw(src.int()))

    def read_number(self):
        x = self._src.double()
        return int(x) if self.int_heuristic and x.is_integer() else x

    # ------------------------------------------------------------------ objects
    def read(self):
        """Read the next object (its type code first)."""
        return self._run(self._src.int())

    def read_table(self):
        """Read a table whose type code was already read."""
        return self._run(TYPE_TABLE)

    def read_object(self):
        """Read a torch object (tensor, storage, class instance) whose type code was already read."""
        return self._run(TYPE_TORCH)

    def read_function(self):
        """Read a serialized function whose type code (TYPE_RECUR_FUNCTION) was already read."""
        return self._run(TYPE_RECUR_FUNCTION)

    def _run(self, typeidx):
        try:
            return self._drive(typeidx)
        finally:
            self._open_tables.clear()
            self._sync()

    def _drive(self, typeidx):
        # iterative, not recursive: deep nesting costs list entries, not Python frames
        stack = []
        src = self._src
        value = self._open(typeidx, stack)
        while True:
            while value is not _PENDING:
                if not stack:
                    return value
                value = stack[-1].add(self, value)
                if value is not _PENDING:
                    stack.pop()
            if len(stack) > self.max_depth:
                raise T7ReaderException("objects nested deeper than {} levels at byte {} (corrupt or hostile "
                                        "file?)".format(self.max_depth, src.pos))
            value = self._open(src.int(), stack)

    def _open(self, typeidx, stack):
        """Read one value after its type code: return it, or push a frame for its children and return
        _PENDING."""
        src = self._src
        if typeidx == TYPE_NUMBER:
            x = src.double()
            return int(x) if self.int_heuristic and x.is_integer() else x
        if typeidx == TYPE_STRING:
            return _decode(src.raw(src.int()))
        if typeidx == TYPE_TABLE or typeidx == TYPE_TORCH:
            index = src.int()
            obj = self.memo.get(index, _MISSING)
            if obj is not _MISSING:
                frame = self._open_tables.get(index)
                if frame is not None:
                    frame.cyclic = True
                return obj
            if typeidx == TYPE_TABLE:
                return self._open_table(index, stack)
            return self._open_torch(index, stack)
        if typeidx == TYPE_BOOLEAN:
            return src.int() == 1
        if typeidx == TYPE_NIL:
            return None
        if typeidx in (TYPE_RECUR_FUNCTION, LEGACY_TYPE_RECUR_FUNCTION, TYPE_FUNCTION):
            index = None
            if typeidx != TYPE_FUNCTION:  # only the plain function type has no object index
                index = src.int()
                obj = self.memo.get(index, _MISSING)
                if obj is not _MISSING:
                    return obj
            size = src.int()
            func = LuaFunction(size, src.raw(size), None, typeidx)
            if index is not None:
                self.memo[index] = func  # before the upvalues: a recursive function is its own upvalue
            stack.append(_FunctionFrame(func))
            return _PENDING
        raise T7ReaderException("unknown type id {} at byte {}. The file may be corrupted."
                                .format(typeidx, src.pos - src.int_width))

    def _open_table(self, index, stack):
        src = self._src
        size = src.int()
        src.need(size, 8, "a table of {n} entries")
        as_map = bool(stack) and stack[-1].map_child
        if size == 0:
            t = hashable_uniq_dict() if as_map or not self.list_heuristic else []
            self.memo[index] = t
            return t
        frame = _TableFrame(hashable_uniq_dict(), size, index, as_map)
        self.memo[index] = frame.table
        self._open_tables[index] = frame
        stack.append(frame)
        return _PENDING

    def _close_table(self, frame):
        del self._open_tables[frame.index]
        t = frame.table
        if self.list_heuristic and not frame.as_map and not frame.cyclic and _is_list(t):
            t = [t[i] for i in range(1, len(t) + 1)]
            self.memo[frame.index] = t
        return t

    def _open_torch(self, index, stack):
        src = self._src
        version = self.read_string()
        if not isinstance(version, str):
            raise T7ReaderException("torch object at byte {}: class name is not text (corrupt file?)"
                                    .format(src.pos))
        number = 1 if version == "V 1" else _version_number(version)
        if number is None:  # written before Torch versioned its classes: the string is the class name
            name, number = version, 0
        else:
            name = self.read_string()
            if not isinstance(name, str):
                raise T7ReaderException("torch object at byte {}: class name is not text (corrupt file?)"
                                        .format(src.pos))
        cls = _TENSORS.get(name)
        if cls is not None:
            return self._open_tensor(cls, name, index, stack)
        entry = _STORAGES.get(name)
        if entry is not None:
            storage = self._read_storage(name, *entry)
            self.memo[index] = storage
            return storage
        if name == "tds.Hash" or name == "tds.Vec":
            return self._open_tds(name, index, stack)
        cls = self._nn_class(name)
        if cls is not None:
            obj = cls.__new__(cls)
        elif name in _DATA_CLASSES or self.unknown_classes:
            obj = TorchObject(name, None, number)
        else:
            raise T7ReaderException("don't know how to deserialize Lua class {}. If you want to ignore this error "
                                    "and load this object as a dict, specify unknown_classes=True in reader's "
                                    "constructor".format(name))
        self.memo[index] = obj  # before its fields: they may refer back to it
        stack.append(_ObjectFrame(obj, name, number))
        return _PENDING

    def _open_tensor(self, cls, name, index, stack):
        src = self._src
        ndim = src.int()
        src.need(ndim, 2 * src.long_width, "a " + name + " with {n} dimensions")
        size = src.longs(ndim)
        stride = src.longs(ndim)
        offset = src.long() - 1  # Lua's offsets are 1-based
        stack.append(_TensorFrame(cls, name, index, size, stride, offset, src.pos))
        return _PENDING

    def _read_storage(self, name, cls, dtype):
        src = self._src
        n = src.long()
        if dtype is None:
            dtype = "<i4" if src.long_width == 4 else "<i8"
        arr = src.array(np.dtype(dtype), n, name)
        return cls._wrap(arr.astype(cls._dtype, copy=False))

    def _open_tds(self, name, index, stack):
        src = self._src
        n = src.long()
        if name == "tds.Hash":
            src.need(n, 8, "a tds.Hash of {n} entries")
            obj = TdsHash()
        else:
            src.need(n, 4, "a tds.Vec of {n} elements")
            obj = TdsVec()
        self.memo[index] = obj
        if n == 0:
            return obj
        stack.append(_TdsFrame(obj, n))
        return _PENDING

    def _nn_class(self, name):
        if not name.startswith("nn."):
            return None
        nn = self._nn
        if nn is _MISSING:
            nn = self._nn = _legacy_nn()
        attr = name[3:]
        if nn is None or not attr.isidentifier() or attr.startswith("_"):
            return None
        cls = getattr(nn, attr, None)
        # only legacy.nn's own classes: a file must not instantiate whatever that module imported
        if isinstance(cls, type) and (cls.__module__ + ".").startswith("ember.legacy.nn."):
            return cls
        return None

    # ------------------------------------------------------------------ file position
    def _sync(self):
        """Leave the file positioned after what was read, so that reads can follow each other."""
        if self._origin is not None:
            try:
                self.f.seek(self._origin + self._src.pos)
            except (OSError, ValueError):
                pass

    def _release(self):
        buf = self._src.buf
        if isinstance(buf, mmap.mmap):
            try:
                buf.close()
            except BufferError:  # a view is still exported (an exception's traceback): let GC close it
                pass


# ---------------------------------------------------------------------------------------- frames
class _TableFrame(object):
    __slots__ = ("table", "left", "key", "map_child", "index", "as_map", "cyclic")

    def __init__(self, table, left, index, as_map):
        self.table = table
        self.left = left
        self.index = index
        self.as_map = as_map
        self.map_child = True  # the next child is a key
        self.cyclic = False

    def add(self, reader, value):
        if self.map_child:
            if value is None:
                raise T7ReaderException("table {} has a nil key (corrupt file?)".format(self.index))
            self.key = value
            self.map_child = False
            return _PENDING
        try:
            self.table[self.key] = value
        except TypeError:
            raise T7ReaderException("table {} has a key of type {} that Python can't hash (a table read as a "
                                    "list before it was used as a key; pass list_heuristic=False)"
                                    .format(self.index, type(self.key).__name__)) from None
        self.left -= 1
        if self.left:
            self.map_child = True
            return _PENDING
        return reader._close_table(self)


class _ObjectFrame(object):
    """A torch.class instance waiting for its fields table."""
    __slots__ = ("obj", "name", "version")
    map_child = True  # the fields stay a dict even when they look like a list

    def __init__(self, obj, name, version):
        self.obj = obj
        self.name = name
        self.version = version

    def add(self, reader, fields):
        if not isinstance(fields, dict):
            raise T7ReaderException("object of class {} is followed by a {} instead of its table of fields "
                                    "(corrupt file, or a class that writes itself in its own format)"
                                    .format(self.name, type(fields).__name__))
        obj = self.obj
        if isinstance(obj, TorchObject):
            obj._obj = fields
            return obj
        obj.__dict__.update(fields)
        hook = getattr(obj, "_from_lua", None)
        if hook is not None:
            try:
                hook(self.version)
            except Exception as e:
                raise T7ReaderException("{} (version {}): {}: {}".format(self.name, self.version,
                                                                          type(e).__name__, e)) from e
        return obj


class _TensorFrame(object):
    """A tensor whose header was read, waiting for its storage."""
    __slots__ = ("cls", "name", "index", "size", "stride", "offset", "at")
    map_child = False

    def __init__(self, cls, name, index, size, stride, offset, at):
        self.cls = cls
        self.name = name
        self.index = index
        self.size = size
        self.stride = stride
        self.offset = offset
        self.at = at

    def add(self, reader, storage):
        cls = self.cls
        size, stride, offset = self.size, self.stride, self.offset
        if storage is None or not size:
            t = cls()
        elif type(storage) is not cls._storage_cls:
            raise T7ReaderException("{} at byte {}: its storage is a {}, expected a {}".format(
                self.name, self.at, ember.typename(storage), cls._storage_cls._typename))
        else:
            if min(size) < 0 or min(stride) < 0 or offset < 0:
                raise T7ReaderException("{} at byte {}: negative size {}, stride {} or offset {} (corrupt file?)"
                                        .format(self.name, self.at, list(size), list(stride), offset + 1))
            extent = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else offset
            if extent > storage.size():
                raise T7ReaderException("{} at byte {}: size {}, stride {} and offset {} need {} elements but its "
                                        "storage has {} (corrupt file?)".format(
                                            self.name, self.at, list(size), list(stride), offset + 1, extent,
                                            storage.size()))
            t = _view(cls, storage, offset, size, stride, self)
        reader.memo[self.index] = t
        return t


class _FunctionFrame(object):
    __slots__ = ("func",)
    map_child = False

    def __init__(self, func):
        self.func = func

    def add(self, reader, upvalues):
        self.func.upvalues = upvalues
        return self.func


class _TdsFrame(object):
    __slots__ = ("obj", "left", "key", "map_child")

    def __init__(self, obj, n):
        self.obj = obj
        self.left = n
        self.map_child = isinstance(obj, dict)  # a hash alternates key, value; a vec has values only

    def add(self, reader, value):
        obj = self.obj
        if isinstance(obj, list):
            obj.append(value)
        elif self.map_child:
            self.key = value
            self.map_child = False
            return _PENDING
        else:
            try:
                obj[self.key] = value
            except TypeError:
                raise T7ReaderException("tds.Hash has a key of type {} that Python can't hash"
                                        .format(type(self.key).__name__)) from None
            self.map_child = True
        self.left -= 1
        return _PENDING if self.left else obj


# ---------------------------------------------------------------------------------------- sources
class _BinarySource(object):
    """Little-endian binary primitives over a byte buffer."""
    __slots__ = ("buf", "pos", "end", "long_width", "_long")
    int_width = 4

    def __init__(self, buf, pos, long_width):
        self.buf = buf
        self.pos = pos
        self.end = len(buf)
        self.long_width = long_width
        self._long = _I64 if long_width == 8 else _I32

    def _eof(self, what, n):
        return T7ReaderException("unexpected end of file at byte {}: {} needs {} bytes, {} left (truncated file?)"
                                 .format(self.pos, what, n, self.end - self.pos))

    def need(self, n, per_item, what):
        """Check that ``n`` items of at least ``per_item`` bytes each fit in what is left (``what``: a
        description with ``{n}`` in it)."""
        if n < 0:
            raise T7ReaderException("negative length {} for {} at byte {} (corrupt file?)"
                                    .format(n, what.format(n=n), self.pos))
        if n * per_item > self.end - self.pos:
            raise self._eof(what.format(n=n), n * per_item)

    def int(self):
        try:
            v = _I32.unpack_from(self.buf, self.pos)[0]
        except struct.error:
            raise self._eof("an int", 4) from None
        self.pos += 4
        return v

    def long(self):
        try:
            v = self._long.unpack_from(self.buf, self.pos)[0]
        except struct.error:
            raise self._eof("a long", self.long_width) from None
        self.pos += self.long_width
        return v

    def longs(self, n):
        if not n:
            return ()
        try:
            v = struct.unpack_from(("<%dq" if self.long_width == 8 else "<%di") % n, self.buf, self.pos)
        except struct.error:
            raise self._eof("{} longs".format(n), n * self.long_width) from None
        self.pos += n * self.long_width
        return v

    def double(self):
        try:
            v = _F64.unpack_from(self.buf, self.pos)[0]
        except struct.error:
            raise self._eof("a double", 8) from None
        self.pos += 8
        return v

    def float(self):
        try:
            v = _F32.unpack_from(self.buf, self.pos)[0]
        except struct.error:
            raise self._eof("a float", 4) from None
        self.pos += 4
        return v

    def raw(self, n):
        pos = self.pos
        if n < 0:
            raise T7ReaderException("negative string length {} at byte {} (corrupt file?)".format(n, pos))
        if n > self.end - pos:
            raise self._eof("a string", n)
        self.pos = pos + n
        return bytes(self.buf[pos:pos + n])

    def array(self, dtype, n, what):
        if n < 0:
            raise T7ReaderException("{} at byte {} has negative size {} (corrupt file?)".format(what, self.pos, n))
        nbytes = n * dtype.itemsize
        if nbytes > self.end - self.pos:
            raise self._eof("a {} of {} elements".format(what, n), nbytes)
        arr = np.frombuffer(self.buf, dtype, n, self.pos).copy()
        self.pos += nbytes
        return arr


class _AsciiSource(object):
    """The primitives of Torch's ASCII format: numbers printed one group a line, raw bytes for strings."""
    __slots__ = ("buf", "pos", "end")
    int_width = 0
    long_width = 1  # the fewest bytes a long takes, for length checks

    def __init__(self, buf, pos):
        self.buf = buf
        self.pos = pos
        self.end = len(buf)

    def need(self, n, per_item, what):
        if n < 0:
            raise T7ReaderException("negative length {} for {} at byte {} (corrupt file?)"
                                    .format(n, what.format(n=n), self.pos))
        if n > self.end - self.pos:  # each item takes at least one character
            raise T7ReaderException("unexpected end of file at byte {}: {} can't fit in the {} bytes left "
                                    "(truncated file?)".format(self.pos, what.format(n=n), self.end - self.pos))

    def _token(self, pattern, what):
        m = pattern.match(self.buf, self.pos)
        if m is None:
            raise T7ReaderException("expected {} at byte {} of the ASCII file, found {!r}"
                                    .format(what, self.pos, bytes(self.buf[self.pos:self.pos + 20])))
        pos = m.end()
        if self.buf[pos:pos + 1] == b"\n":  # Torch ends each group of numbers with a newline
            pos += 1
        self.pos = pos
        return m.group(1)

    def int(self):
        return int(self._token(_ASCII_INT, "an integer"))

    long = int

    def longs(self, n):
        at = self.pos
        toks = self._tokens(n, "long")
        try:
            return tuple(int(x) for x in toks)
        except ValueError:
            raise T7ReaderException("expected {} integers at byte {} of the ASCII file".format(n, at)) from None

    def double(self):
        return float(self._token(_ASCII_REAL, "a number").split(b"(")[0])

    float = double

    def raw(self, n):
        pos = self.pos
        if n < 0:
            raise T7ReaderException("negative string length {} at byte {} (corrupt file?)".format(n, pos))
        if n > self.end - pos:
            raise T7ReaderException("unexpected end of file at byte {}: a string needs {} bytes, {} left "
                                    "(truncated file?)".format(pos, n, self.end - pos))
        data = bytes(self.buf[pos:pos + n])
        pos += n
        if n and self.buf[pos:pos + 1] == b"\n":
            pos += 1
        self.pos = pos
        return data

    def _tokens(self, n, what):
        """``n`` numbers: Torch writes them space-separated on one line."""
        self.need(n, 1, "{n} " + what + " values")
        toks = []
        buf, pos, end = self.buf, self.pos, self.end
        while len(toks) < n and pos < end:
            eol = buf.find(b"\n", pos)
            if eol < 0:
                eol = end
            toks.extend(bytes(buf[pos:eol]).split())
            pos = eol + 1
        if len(toks) != n:
            raise T7ReaderException("expected {} {} values at byte {} of the ASCII file, found {}"
                                    .format(n, what, self.pos, len(toks)))
        self.pos = min(pos, end)
        return toks

    def array(self, dtype, n, what):
        if dtype.itemsize == 1:  # char and byte storages are raw bytes
            return np.frombuffer(self.raw(n), dtype).copy()
        if n == 0:
            return np.empty(0, dtype)
        at = self.pos
        toks = self._tokens(n, what)
        try:
            if dtype.kind == "f":
                return np.array([t.split(b"(")[0] for t in toks]).astype(np.float64).astype(dtype)
            return np.array(toks).astype(np.int64).astype(dtype)
        except (ValueError, OverflowError):
            raise T7ReaderException("{} at byte {} of the ASCII file: values are not numbers".format(what, at)) \
                from None


# ---------------------------------------------------------------------------------------- helpers
_nn_absent = []  # holds True once importing ember.legacy.nn failed: a failed import is slow to repeat


def _legacy_nn():
    """The ember.legacy.nn module, or None while it is not installed."""
    mod = sys.modules.get("ember.legacy.nn", _MISSING)
    if mod is not _MISSING:
        return mod  # None when a test or a user blocked it
    if _nn_absent:
        return None
    try:
        return importlib.import_module("ember.legacy.nn")
    except ImportError as e:
        if e.name != "ember.legacy.nn":
            raise
        _nn_absent.append(True)
        return None


def _view(cls, storage, offset, size, stride, frame):
    """A ``cls`` tensor viewing ``storage`` (bounds already checked)."""
    if not all(size):  # no elements: 0.2's empty tensor
        return cls().set_(storage, offset, size, stride)
    base = storage._a
    item = base.itemsize
    try:
        arr = np.ndarray(size, base.dtype, buffer=base, offset=offset * item, strides=[s * item for s in stride])
    except (ValueError, OverflowError, TypeError) as e:
        raise T7ReaderException("{} at byte {}: can't view its storage with size {} and stride {}: {}"
                                .format(frame.name, frame.at, list(size), list(stride), e)) from None
    t = cls._make(arr)
    t._s = storage
    return t


def _buffer_of(f):
    """(buffer, start position, file offset of buffer[0] or None): the file mapped when possible, else read."""
    if isinstance(f, io.TextIOBase):
        raise TypeError("T7Reader: the file must be opened in binary mode ('rb'), got a text file")
    try:
        pos = f.tell()
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), pos, 0
    except (AttributeError, OSError, ValueError):  # not a real file, an empty one, a pipe
        pass
    try:
        origin = f.tell() if f.seekable() else None
    except (AttributeError, OSError, ValueError):
        origin = None
    data = f.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("T7Reader: expected a binary file object, read() returned {}".format(type(data).__name__))
    return data, 0, origin


def _decode(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b


def _version_number(s):
    """The number in a class-version string 'V n', or None when ``s`` is not one (Lua's tonumber)."""
    if not s.startswith("V "):
        return None
    try:
        v = float(s[2:])
    except ValueError:
        return None
    return int(v) if v.is_integer() else v


def _is_list(t):
    """Whether the table's keys are exactly 1..n."""
    n = len(t)
    for k in t:
        tk = type(k)
        if tk is int:
            if not 1 <= k <= n:
                return False
        elif tk is float:
            if not (k.is_integer() and 1 <= k <= n):
                return False
        else:
            return False
    return True
