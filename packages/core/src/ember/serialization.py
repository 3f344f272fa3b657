"""``ember.save`` / ``ember.load``: PyTorch 0.2's file format, readable by PyTorch itself.

A file written by ``save`` is 0.2's legacy stream: five pickles (magic number, protocol version, sys_info,
the object with storages replaced by persistent ids, the sorted storage keys) followed by each root storage's
raw data (an 8-byte element count, then the elements). Storages and the tensor rebuild function are pickled
under PyTorch's names (``torch.FloatStorage``, ``torch._utils._rebuild_tensor``), so PyTorch loads ember files
and ember loads 0.2 files; ``load`` also reads the zip format of PyTorch >= 1.6.

ember extras: ``load(..., weights_only=True)`` unpickles only tensors, storages and plain containers; saving
to a path is atomic (a temporary file in the same directory, fsync, rename).
"""
import _compat_pickle
import collections
import io
import operator
import os
import pickle
import stat
import struct
import sys
import types
import zipfile

import numpy as np

from ._size import Size
from .storage import (ByteStorage, CharStorage, DoubleStorage, FloatStorage, HalfStorage, IntStorage,
                      LongStorage, ShortStorage, _StorageBase, _typename_to_class)
from .tensor import (ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor,
                     ShortTensor, _TensorBase, _tensor_class_for_storage, _typename_of)

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
LONG_SIZE = struct.Struct("=l").size  # '=' means standard sizes, so 4 everywhere: what 0.2 wrote
INT_SIZE = struct.Struct("=i").size
SHORT_SIZE = struct.Struct("=h").size

_CPU_STORAGES = (DoubleStorage, FloatStorage, HalfStorage, LongStorage, IntStorage, ShortStorage, CharStorage,
                 ByteStorage)
_CPU_TENSORS = (DoubleTensor, FloatTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor)
_NATIVE_LITTLE = sys.byteorder == "little"


# ---------------------------------------------------------------------------------------------- rebuild
def _rebuild_tensor(storage, storage_offset, size, stride):
    """0.2's rebuild (pickled as ``torch._utils._rebuild_tensor``): size () means an empty tensor."""
    return _build_tensor(storage, storage_offset, size, stride, scalar_if_0d=False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    """PyTorch >= 0.4's rebuild: size () is a scalar, which 0.2 holds as size (1,). requires_grad and
    hooks belong to autograd and are dropped for tensors."""
    return _build_tensor(storage, storage_offset, size, stride, scalar_if_0d=True)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """``torch._utils._rebuild_parameter``: an ember.nn Parameter when ember.nn is loaded, else the data."""
    nn = sys.modules.get("ember.nn")
    param = getattr(nn, "Parameter", None)
    return data if param is None else param(data, requires_grad)


def _rebuild_from_type_v2(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: PyTorch's wrapper around a rebuild for tensor subclasses;
    ember reads the plain-tensor case."""
    ret = func(*args)
    if new_type is not _TensorBase or state:
        raise pickle.UnpicklingError("ember.load: tensor subclasses are not supported (got {} with state {!r})"
                                     .format(getattr(new_type, "__name__", new_type), state))
    return ret


def _index_tuple(seq, what):
    try:
        return tuple(operator.index(v) for v in seq)
    except TypeError:
        raise pickle.UnpicklingError("ember.load: tensor {} must be a sequence of ints, got {!r} (corrupt file?)"
                                     .format(what, seq)) from None


def _build_tensor(storage, offset, size, stride, scalar_if_0d):
    if not isinstance(storage, _StorageBase):
        raise pickle.UnpicklingError("ember.load: a tensor's storage must be a storage, got {} (corrupt file?)"
                                     .format(_typename_of(storage)))
    size = _index_tuple(size, "size")
    stride = _index_tuple(stride, "stride")
    offset = _index_tuple((offset,), "offset")[0]
    if len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
        raise RuntimeError("ember.load: invalid tensor metadata: offset {}, size {}, stride {} (corrupt file?)"
                           .format(offset, list(size), list(stride)))
    cls = _tensor_class_for_storage(type(storage))
    if not size and scalar_if_0d:
        size, stride = (1,), (1,)
    if not size or 0 in size:  # 0.2 has no zero-size dims: any of them makes an empty tensor
        return cls().set_(storage, 0, (0,), (1,))
    extent = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if extent > storage.size():
        raise RuntimeError("ember.load: a tensor of size {} with stride {} at offset {} needs {} elements but its "
                           "storage has {} (corrupt file?)"
                           .format(list(size), list(stride), offset, extent, storage.size()))
    return cls().set_(storage, offset, size, stride)


# ------------------------------------------------------------------------------------------------ save
def save(obj, f, pickle_module=pickle, pickle_protocol=2):
    """Save ``obj`` to ``f`` (a path or a writable binary file object) in PyTorch 0.2's format.

    Saving to a path is atomic: the data goes to a temporary file in the same directory, which replaces
    ``f`` only once it is complete and synced, so a crash mid-save leaves any previous file intact."""
    if type(pickle_protocol) is not int or not 1 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError("ember.save: pickle_protocol must be an int from 1 to {} (persistent ids need a binary "
                         "protocol), got {!r}".format(pickle.HIGHEST_PROTOCOL, pickle_protocol))
    if isinstance(f, (str, bytes, os.PathLike)):
        _save_to_path(obj, os.fsdecode(f), pickle_module, pickle_protocol)
    elif callable(getattr(f, "write", None)):
        if isinstance(f, io.TextIOBase):
            raise TypeError("ember.save: the file object must be opened in binary mode ('wb'), got a text file")
        _save(obj, f, pickle_module, pickle_protocol)
    else:
        raise TypeError("ember.save: f must be a path or a writable binary file object, got {}"
                        .format(type(f).__name__))


def _save_to_path(obj, path, pickle_module, protocol):
    atomic_write(path, lambda fh: _save(obj, fh, pickle_module, protocol))


def atomic_write(path, write):
    """Call ``write(binary_file)`` so that ``path`` ends up either with the old content or the complete
    new one: a temporary file in the same folder, fsync, rename (ember.legacy's save_lua uses it too)."""
    path = os.path.realpath(path)  # replace a symlink's target, not the link
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):  # /dev/null, a FIFO: can't be replaced
        with open(path, "wb") as fh:
            write(fh)
        return
    directory, base = os.path.split(path)
    fd, tmp = _create_temp(directory, base)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))  # overwriting keeps the old file's permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _create_temp(directory, base):
    # os.open with mode 0o666 lets the umask decide the permissions, as open(path, 'wb') would
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(directory, ".{}.{}.tmp".format(base, os.urandom(6).hex()))
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except FileNotFoundError:
            raise FileNotFoundError("ember.save: directory '{}' does not exist".format(directory)) from None
    raise FileExistsError("ember.save: could not create a temporary file in '{}'".format(directory))


def _fsync_dir(directory):
    """Make the rename durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _save(obj, f, pickle_module, protocol):
    roots = {}  # (id of the owning array, dtype) -> (key, root array)
    modules_seen = set()
    nn = sys.modules.get("ember.nn")  # a class can only be an nn.Module subclass once ember.nn is imported
    module_cls = getattr(nn, "Module", None)

    def persistent_id(o):
        if isinstance(o, _StorageBase):
            return _storage_id(o, roots)
        if module_cls is not None and isinstance(o, type) and issubclass(o, module_cls) \
                and o not in modules_seen:
            modules_seen.add(o)
            return ("module", o) + _source_of(o)
        return None

    sys_info = dict(protocol_version=PROTOCOL_VERSION, little_endian=_NATIVE_LITTLE,
                    type_sizes=dict(short=SHORT_SIZE, int=INT_SIZE, long=LONG_SIZE))
    pickle_module.dump(MAGIC_NUMBER, f, protocol=protocol)
    pickle_module.dump(PROTOCOL_VERSION, f, protocol=protocol)
    pickle_module.dump(sys_info, f, protocol=protocol)
    pickler = _pickler_class(pickle_module)(f, protocol=protocol)
    pickler.persistent_id = persistent_id
    pickler.dump(obj)

    by_key = dict(roots.values())
    keys = sorted(by_key)
    pickle_module.dump(keys, f, protocol=protocol)
    for key in keys:
        _write_storage(f, by_key[key])


def _source_of(cls):
    import inspect
    try:
        return inspect.getsourcefile(cls), inspect.getsource(cls)
    except Exception:  # saving the source is optional, as in 0.2
        import warnings
        warnings.warn("Couldn't retrieve source code for container of type {}. It won't be checked for "
                      "correctness upon loading.".format(cls.__name__))
        return None, None


def _storage_id(storage, roots):
    """The persistent id of a storage: 0.2's ('storage', type, root_key, location, root_size, view)."""
    if storage.is_cuda:
        cpu_cls = _typename_to_class[storage._typename.replace("torch.cuda.", "torch.")]
        location = "cuda:{}".format(storage._a.device.id)
        root, offset, owner = _device_root_of(storage._a)
        ident = (id(owner), root.dtype.str)
    else:
        cpu_cls = type(storage)
        location = "cpu"
        root, offset, owner = _root_of(storage._a)
        ident = (id(owner), root.dtype.str)
    entry = roots.get(ident)
    if entry is None:
        entry = roots[ident] = (str(len(roots)), root)
    key, root = entry
    size = storage.size()
    root_size = int(root.shape[0])
    view = None if offset == 0 and size == root_size else ("{}.{}.{}".format(key, offset, size), offset, size)
    return ("storage", cpu_cls, key, location, root_size, view)


def _root_of(a):
    """(root array, offset of ``a`` in it, owner): the whole allocation a storage's memory lies in, so storages
    and tensors viewing one buffer are written once and stay shared when loaded."""
    owner = a
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if owner is not a and (owner.flags.c_contiguous or owner.flags.f_contiguous) \
            and owner.nbytes % a.itemsize == 0:
        flat = owner.reshape(-1, order="A")  # a view, in memory order
        if flat.dtype != a.dtype:
            flat = flat.view(a.dtype)
        start = a.__array_interface__["data"][0] - flat.__array_interface__["data"][0] if a.size else 0
        if start % a.itemsize == 0 and 0 <= start and start + a.nbytes <= flat.nbytes:
            return flat, start // a.itemsize, owner
    return a, 0, a


def _device_root_of(a):
    """_root_of for a device array: CuPy's ``base`` is the array owning the allocation."""
    owner = a.base
    if owner is not None and owner.flags.c_contiguous and owner.nbytes % a.itemsize == 0:
        flat = owner.reshape(-1)
        if flat.dtype != a.dtype:
            flat = flat.view(a.dtype)
        start = a.data.ptr - flat.data.ptr if a.size else 0
        if start % a.itemsize == 0 and 0 <= start and start + a.nbytes <= flat.nbytes:
            return flat, start // a.itemsize, owner
    return a, 0, a


def _write_storage(f, arr):
    """0.2's ``_write_file``: the element count as 8 little-endian bytes, then the elements."""
    if not isinstance(arr, np.ndarray):  # a CuPy array
        arr = arr.get()
    f.write(struct.pack("<q", arr.shape[0]))
    if arr.size == 0:
        return
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and not _NATIVE_LITTLE):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    view = memoryview(np.ascontiguousarray(arr)).cast("B")
    while view:
        n = f.write(view)
        if n is None or n >= len(view):
            break
        view = view[n:]  # a raw file object may write only part


def _tensor_reduce(t):
    """Pickle a tensor as ``_rebuild_tensor(storage, offset, size, stride)``; an empty tensor as size (0,),
    which 0.2 and later PyTorch both read as empty."""
    a = t._a
    if not a.size:
        return _rebuild_tensor, (t.storage(), 0, (0,), (1,))
    storage = t.storage()
    offset = t.storage_offset()
    size = tuple(a.shape)
    stride = t.stride()
    extent = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if offset < 0 or min(stride) < 0 or extent > storage.size():  # memory not inside its storage: copy
        t = t.clone()
        storage, offset, stride = t.storage(), 0, t.stride()
    return _rebuild_tensor, (storage, offset, size, stride)


# Objects written under PyTorch's names so that PyTorch (0.2 and later) reads ember's files.
_TORCH_NAMES = {cls: ("torch", cls.__name__) for cls in _CPU_STORAGES + _CPU_TENSORS}
_TORCH_NAMES[Size] = ("torch", "Size")
_TORCH_NAMES[_rebuild_tensor] = ("torch._utils", "_rebuild_tensor")


def _pickler_class(pickle_module):
    # The C pickler insists that a global's name resolves to the same object, so the renaming needs the
    # pure-Python one; another pickle_module's Pickler renames too when it is pickle._Pickler-based.
    base = pickle._Pickler if pickle_module is pickle else pickle_module.Pickler
    cached = _pickler_cache.get(base)
    if cached is None:
        cached = _pickler_cache[base] = _make_pickler(base)
    return cached


_pickler_cache = {}


def _make_pickler(base):
    class _EmberPickler(base):
        def reducer_override(self, obj):
            if isinstance(obj, _TensorBase):
                return _tensor_reduce(obj)
            return NotImplemented

        def save_global(self, obj, name=None):
            try:
                alias = _TORCH_NAMES.get(obj)
            except TypeError:  # unhashable
                alias = None
            if alias is None:
                return base.save_global(self, obj, name)
            module, name = alias
            if self.proto >= 4:
                self.save(module)
                self.save(name)
                self.write(pickle.STACK_GLOBAL)
            else:
                self.write(pickle.GLOBAL + "{}\n{}\n".format(module, name).encode("ascii"))
            self.memoize(obj)

    dispatch = getattr(base, "dispatch", None)
    if isinstance(dispatch, dict):  # the pure-Python pickler saves functions through this table
        table = dict(dispatch)
        table[types.FunctionType] = _EmberPickler.save_global
        _EmberPickler.dispatch = table
    return _EmberPickler


# ------------------------------------------------------------------------------------------------ load
def load(f, map_location=None, pickle_module=pickle, weights_only=False, **pickle_load_args):
    """Load an object saved with ``ember.save``, PyTorch 0.2's ``torch.save`` or a later PyTorch's
    (legacy or zip format).

    map_location: None (storages go where they were saved), a string ('cpu'), a dict mapping saved
    locations to new ones ({'cuda:0': 'cpu'}), or a function (storage, location) -> storage (None means
    the default). weights_only=True (an ember extra) refuses every global except tensors, storages,
    torch.Size and plain containers. Other keyword arguments go to the unpickler (encoding='latin1' for
    Python 2 files)."""
    restore = _restore_location_fn(map_location)
    if weights_only and pickle_module is not pickle:
        raise ValueError("ember.load: weights_only=True uses its own restricted unpickler and can't be combined "
                         "with pickle_module={!r}".format(getattr(pickle_module, "__name__", pickle_module)))
    unpickler_cls = _unpickler_class(pickle_module, weights_only)
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(os.fspath(f), "rb") as fh:
            return _load(fh, restore, unpickler_cls, pickle_load_args)
    if not callable(getattr(f, "read", None)):
        raise TypeError("ember.load: f must be a path or a readable binary file object, got {}"
                        .format(type(f).__name__))
    if isinstance(f, io.TextIOBase):
        raise TypeError("ember.load: the file object must be opened in binary mode ('rb'), got a text file")
    return _load(f, restore, unpickler_cls, pickle_load_args)


def _seekable(f):
    try:
        if not f.seekable():
            return False
    except AttributeError:
        pass
    try:
        f.tell()
        return True
    except (AttributeError, OSError, ValueError):
        return False


def _load(f, restore, unpickler_cls, load_args):
    if not _seekable(f):  # sizes get checked against the file's length, and zip needs seeking
        f = io.BytesIO(f.read())
    start = f.tell()
    end = f.seek(0, io.SEEK_END)
    f.seek(start)
    head = f.read(512)
    f.seek(start)
    if not head:
        raise RuntimeError("ember.load: the file is empty")
    if head.startswith(b"PK\x03\x04"):
        return _load_zip(f, end - start, restore, unpickler_cls, load_args)
    if head[257:262] == b"ustar":
        raise RuntimeError("ember.load: this is the tar format of PyTorch before 0.1.10, which ember does not "
                           "read; load it with an old PyTorch and save it again")
    return _load_legacy(f, end - start, restore, unpickler_cls, load_args)


def _load_legacy(f, available, restore, unpickler_cls, load_args):
    roots = {}  # root key -> storage that gets the data (after map_location)
    loaded_types = {}  # root key -> storage class named in the file
    views = {}
    budget = [available]

    def persistent_load(saved_id):
        if not isinstance(saved_id, tuple) or not saved_id:
            raise pickle.UnpicklingError("ember.load: invalid persistent id {!r} (corrupt file?)".format(saved_id))
        typename = _ascii(saved_id[0])
        if typename == "module" and len(saved_id) == 4:
            return saved_id[1]  # the class, already resolved by find_class
        if typename != "storage" or len(saved_id) != 6:
            raise pickle.UnpicklingError("ember.load: unknown persistent id {!r}".format(saved_id[:1]))
        cls, root_key, location, size, view = saved_id[1:]
        cls = _check_storage_type(cls)
        if root_key not in roots:
            size = _check_count(size, "storage size")
            budget[0] -= 8 + size * cls._dtype.itemsize
            if budget[0] < 0:
                raise RuntimeError("ember.load: the file is truncated or corrupt: its storages need more bytes "
                                   "than the {} the file holds".format(available))
            roots[root_key] = _restored(restore, cls(size), location)
            loaded_types[root_key] = cls
        storage = roots[root_key]
        if view is None:
            return storage
        try:
            view_key, offset, view_size = view
        except (TypeError, ValueError):
            raise pickle.UnpicklingError("ember.load: invalid storage view {!r} (corrupt file?)".format(view))
        if view_key not in views:
            offset = _check_count(offset, "view offset")
            view_size = _check_count(view_size, "view size")
            if offset + view_size > storage.size():
                raise RuntimeError("ember.load: a storage view [{}, {}) exceeds its storage of size {} (corrupt "
                                   "file?)".format(offset, offset + view_size, storage.size()))
            views[view_key] = storage[offset:offset + view_size]
        return views[view_key]

    def load_header(what):
        try:
            return unpickler_cls(f, **load_args).load()
        except EOFError:
            raise RuntimeError("ember.load: the file ends inside its {} (truncated file?)".format(what)) from None
        except _CORRUPT as e:
            if _ours(e):
                raise
            raise RuntimeError("ember.load: invalid {} ({}); not a torch.save file, or a corrupt one"
                               .format(what, e)) from None

    magic = load_header("magic number")
    if magic != MAGIC_NUMBER:
        raise RuntimeError("ember.load: Invalid magic number; corrupt file? (not a file written by torch.save "
                           "or ember.save)")
    protocol = load_header("protocol version")
    if protocol != PROTOCOL_VERSION:
        raise RuntimeError("ember.load: Invalid protocol version: {}".format(protocol))
    sys_info = load_header("sys_info")
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True

    unpickler = unpickler_cls(f, **load_args)
    unpickler.persistent_load = persistent_load
    result = _unpickle(unpickler)
    keys = load_header("storage key list")
    if not isinstance(keys, list):
        raise RuntimeError("ember.load: invalid storage key list (corrupt file?)")
    order = "<" if little else ">"
    for key in keys:
        storage = roots.get(key)
        if storage is None:
            raise RuntimeError("ember.load: storage key {!r} is not used by the pickled object (corrupt file?)"
                               .format(key))
        _read_storage(f, storage, loaded_types[key], order)
    return result


def _read_storage(f, storage, cls, order):
    raw = f.read(8)
    if len(raw) != 8:
        raise RuntimeError("ember.load: the file ends before a storage's data (truncated file?)")
    count = struct.unpack(order + "q", raw)[0]
    if count != storage.size():
        raise RuntimeError("ember.load: storage has wrong size: expected {} got {} (corrupt file?)"
                           .format(storage.size(), count))
    direct = type(storage) is cls and isinstance(storage._a, np.ndarray) and storage._a.flags.c_contiguous \
        and storage._a.flags.writeable
    arr = storage._a if direct else np.empty(count, cls._dtype)
    _read_into(f, memoryview(arr).cast("B"), "a storage's data")
    if count and arr.dtype.itemsize > 1 and (order == "<") != _NATIVE_LITTLE:
        arr.byteswap(inplace=True)
    if not direct:  # map_location returned another type or device: convert as copy_ does
        storage.copy_(cls._wrap(arr))


def _read_into(f, view, what):
    readinto = getattr(f, "readinto", None)
    got = 0
    n = len(view)
    while got < n:
        if readinto is not None:
            k = readinto(view[got:])
        else:
            chunk = f.read(n - got)
            k = len(chunk)
            view[got:got + k] = chunk
        if not k:
            raise RuntimeError("ember.load: the file ends inside {} ({} of {} bytes; truncated file?)"
                               .format(what, got, n))
        got += k


# What zipfile raises on damaged archives.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError,
               OverflowError, struct.error)


def _load_zip(f, available, restore, unpickler_cls, load_args):
    try:
        zf = zipfile.ZipFile(f)
    except _ZIP_ERRORS as e:
        raise RuntimeError("ember.load: corrupt zip archive: {}".format(e)) from None
    with zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pkl:
            if any(n.endswith("constants.pkl") for n in names):
                raise RuntimeError("ember.load: this is a TorchScript archive (torch.jit.save), not a torch.save "
                                   "file")
            raise RuntimeError("ember.load: the zip archive has no '<name>/data.pkl': not a torch.save file")
        prefix = pkl[0][:-len("data.pkl")]
        order = "<"
        if prefix + "byteorder" in names:
            try:
                order = ">" if zf.read(prefix + "byteorder").strip() == b"big" else "<"
            except _ZIP_ERRORS as e:
                raise RuntimeError("ember.load: corrupt record '{}byteorder': {}".format(prefix, e)) from None
        raw = {}  # record key -> uint8 array
        typed = {}  # (key, storage class) -> storage

        def record(key):
            arr = raw.get(key)
            if arr is None:
                name = prefix + "data/" + key
                try:
                    info = zf.getinfo(name)
                except KeyError:
                    raise RuntimeError("ember.load: the archive has no record '{}' (corrupt file?)"
                                       .format(name)) from None
                # bound the allocation: stored records lie inside the file, deflate expands at most ~1032x
                limit = available if info.compress_type == zipfile.ZIP_STORED else 1032 * info.compress_size
                if info.file_size > limit:
                    raise RuntimeError("ember.load: record '{}' claims {} bytes, more than the file can hold "
                                       "(corrupt file?)".format(name, info.file_size))
                arr = np.empty(info.file_size, np.uint8)
                try:
                    with zf.open(info) as member:
                        _read_into(member, memoryview(arr), "record '{}'".format(name))
                except _ZIP_ERRORS as e:
                    raise RuntimeError("ember.load: corrupt record '{}': {}".format(name, e)) from None
                raw[key] = arr
            return arr

        def persistent_load(saved_id):
            if not isinstance(saved_id, tuple) or len(saved_id) != 5 or _ascii(saved_id[0]) != "storage":
                raise pickle.UnpicklingError("ember.load: unknown persistent id {!r} (corrupt file?)"
                                             .format(saved_id))
            cls, key, location, numel = saved_id[1:]
            cls = _check_storage_type(cls)
            key = _ascii(key)
            numel = _check_count(numel, "storage size")
            storage = typed.get((key, cls))
            if storage is None:
                data = record(key)
                itemsize = cls._dtype.itemsize
                if data.nbytes != numel * itemsize:
                    raise RuntimeError("ember.load: record '{}data/{}' has {} bytes, {} expected for {} elements "
                                       "of {} (corrupt file?)".format(prefix, key, data.nbytes, numel * itemsize,
                                                                      numel, cls._typename))
                arr = data.view(cls._dtype)  # storages of one record share its memory, as in PyTorch
                if itemsize > 1 and (order == "<") != _NATIVE_LITTLE:
                    arr = arr.byteswap()
                storage = typed[(key, cls)] = _restored(restore, cls._wrap(arr), location)
            return storage

        try:
            pickle_file = zf.open(pkl[0])
        except _ZIP_ERRORS as e:
            raise RuntimeError("ember.load: corrupt record '{}': {}".format(pkl[0], e)) from None
        with pickle_file:
            unpickler = unpickler_cls(pickle_file, **load_args)
            unpickler.persistent_load = persistent_load
            return _unpickle(unpickler)


# What unpickling corrupt bytes raises (beyond EOFError); the cause stays chained, since an object's own
# reconstruction failing raises these too.
_CORRUPT = (pickle.UnpicklingError, ValueError, KeyError, IndexError, TypeError, AttributeError, struct.error,
            OverflowError, MemoryError, zipfile.BadZipFile)


def _ours(e):
    return isinstance(e, pickle.UnpicklingError) and str(e).startswith(("ember.load", "weights_only"))


def _unpickle(unpickler):
    try:
        return unpickler.load()
    except EOFError:
        raise RuntimeError("ember.load: the file ends inside the pickled object (truncated file?)") from None
    except UnicodeDecodeError as e:
        raise pickle.UnpicklingError("ember.load: can't decode a pickled string ({}); a file written by Python 2 "
                                     "may need encoding='latin1'".format(e)) from e
    except _CORRUPT as e:
        if _ours(e):
            raise
        raise pickle.UnpicklingError("ember.load: unpickling failed (corrupt file?): {}: {}"
                                     .format(type(e).__name__, e)) from e


def _ascii(s):
    return s.decode("ascii") if isinstance(s, bytes) else s


def _check_storage_type(cls):
    if isinstance(cls, type) and issubclass(cls, _StorageBase):
        return cls
    raise pickle.UnpicklingError("ember.load: expected a storage type in a persistent id, got {!r} (corrupt file?)"
                                 .format(cls))


def _check_count(n, what):
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise pickle.UnpicklingError("ember.load: invalid {} {!r} (corrupt file?)".format(what, n))
    return n


# ---------------------------------------------------------------------------------------- locations
def _restored(restore, storage, location):
    location = _ascii(location)
    if not isinstance(location, str):
        raise pickle.UnpicklingError("ember.load: invalid storage location {!r} (corrupt file?)".format(location))
    result = restore(storage, location)
    if not isinstance(result, _StorageBase) or result.size() != storage.size():
        raise RuntimeError("ember.load: map_location must give a storage of the same size ({} elements), got {}"
                           .format(storage.size(), _typename_of(result)))
    return result


def default_restore_location(storage, location):
    if location == "cpu":
        return storage
    if location.startswith("cuda"):
        from . import cuda
        if not cuda.is_available():
            raise RuntimeError(
                "ember.load: the file holds storages on '{}' but CUDA is not available; load them on the CPU "
                "with map_location='cpu' or map_location=lambda storage, loc: storage".format(location))
        device = location[5:]
        return storage.cuda(max(int(device), 0) if device else 0)
    raise RuntimeError("don't know how to restore data location of {} (tagged with {})"
                       .format(storage._typename, location))


def _restore_location_fn(map_location):
    if map_location is None:
        return default_restore_location
    if isinstance(map_location, dict):
        return lambda storage, location: default_restore_location(storage, map_location.get(location, location))
    if isinstance(map_location, str):
        return lambda storage, location: default_restore_location(storage, map_location)
    if callable(map_location):
        def restore(storage, location):
            result = map_location(storage, location)
            return default_restore_location(storage, location) if result is None else result
        return restore
    raise TypeError("ember.load: map_location must be None, a string, a dict or a function (storage, location) "
                    "-> storage, got {}".format(type(map_location).__name__))


# ---------------------------------------------------------------------------------------- unpickling
def _torch_storage_names():
    names = {("torch", cls.__name__): cls for cls in _CPU_STORAGES}
    names[("torch", "BoolStorage")] = ByteStorage  # 0.2 holds booleans as bytes
    names[("torch", "UntypedStorage")] = ByteStorage
    names[("torch.storage", "UntypedStorage")] = ByteStorage
    names.update({("ember", cls.__name__): cls for cls in _CPU_STORAGES})
    return names


# Globals that weights_only=True admits (and the torch names every load maps to ember's objects).
_SAFE_GLOBALS = _torch_storage_names()
_SAFE_GLOBALS.update({
    ("torch", "Size"): Size, ("ember", "Size"): Size, ("ember._size", "Size"): Size,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch._tensor", "Tensor"): _TensorBase, ("torch", "Tensor"): _TensorBase,
    ("ember.serialization", "_rebuild_tensor"): _rebuild_tensor,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray, ("builtins", "slice"): slice,
    ("_codecs", "encode"): __import__("_codecs").encode,  # how protocol 2 pickles bytes
})


def _unpickler_class(pickle_module, weights_only):
    key = (pickle_module.Unpickler, weights_only)
    cls = _unpickler_cache.get(key)
    if cls is None:
        cls = _unpickler_cache[key] = _make_unpickler(pickle_module.Unpickler, weights_only)
    return cls


_unpickler_cache = {}


def _make_unpickler(base, weights_only):
    class _EmberUnpickler(base):
        def find_class(self, module, name):
            if (module, name) in _compat_pickle.NAME_MAPPING:  # Python 2 names
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            module = _compat_pickle.IMPORT_MAPPING.get(module, module)
            obj = _SAFE_GLOBALS.get((module, name))
            if obj is not None:
                return obj
            if weights_only:
                raise pickle.UnpicklingError("weights_only load refused global '{}.{}'".format(module, name))
            return _find_mapped(base, self, module, name)

    return _EmberUnpickler


_RENAMED_PACKAGES = (("torchvision", "embervision"), ("torch", "ember"))


def _find_mapped(base, unpickler, module, name):
    """``torch.*`` (and ``torchvision.*``) globals resolve to ember's objects of the same path."""
    for theirs, ours in _RENAMED_PACKAGES:
        if module == theirs or module.startswith(theirs + "."):
            mapped = ours + module[len(theirs):]
            try:
                return base.find_class(unpickler, mapped, name)
            except (ImportError, AttributeError) as e:
                raise pickle.UnpicklingError("ember.load: the file needs '{}.{}', and ember has no '{}.{}' ({})"
                                             .format(module, name, mapped, name, e)) from None
    try:
        return base.find_class(unpickler, module, name)
    except (ImportError, AttributeError) as e:
        raise pickle.UnpicklingError("ember.load: the file needs '{}.{}', which can't be imported ({})"
                                     .format(module, name, e)) from None
