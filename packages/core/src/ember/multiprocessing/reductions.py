"""Pickling of storages and tensors for multiprocessing: shared-memory handles instead of data (CUDA IPC
handles for CUDA storages: ember.cuda)."""
import os
import weakref
from multiprocessing.reduction import DupFd, ForkingPickler

from ember import _shared_memory as _shm
from ember import storage as _storage
from ember import tensor as _tensor

# a storage received twice in one process maps to the same memory (keyed by the shared file's identity)
_received = weakref.WeakValueDictionary()


def rebuild_storage_fd(cls, dupfd, nbytes, offset, size):
    return view_of(storage_from_fd(cls, dupfd.detach(), nbytes), offset, size)


def storage_from_fd(cls, fd, nbytes):
    """The storage mapping the shared file open as ``fd`` (which this function takes ownership of)."""
    key = _file_key(fd)
    root = _received.get(key)
    if root is not None:
        os.close(fd)
    else:
        arr, handle = _shm.attach_fd(fd, nbytes, cls._dtype)
        root = cls._wrap(arr)
        root._shared = handle
        _received[key] = root
    return root


def rebuild_storage_filename(cls, name, nbytes, offset, size):
    key = ("name", name)
    root = _received.get(key)
    if root is None:
        arr, handle = _shm.attach_name(name, nbytes, cls._dtype)
        root = cls._wrap(arr)
        root._shared = handle
        _received[key] = root
    return view_of(root, offset, size)


def _file_key(fd):
    st = os.fstat(fd)
    return ("fd", st.st_dev, st.st_ino)


def view_of(root, offset, size):
    if offset == 0 and size == root.size():
        return root
    s = type(root)._wrap(root._a[offset:offset + size])
    s._shared = root._shared
    return s


def share(storage):
    """Move a CPU storage into shared memory (once); its SharedHandle and its offset in the shared file."""
    storage.share_memory_()
    h = storage._shared
    item = storage.element_size()
    offset = (storage.data_ptr() - h.ptr) // item if storage.size() else 0
    if offset == 0 and storage.size() * item == h.nbytes:
        # what comes back to this process maps onto this very storage
        _received.setdefault(_file_key(h.fd) if h.fd is not None else ("name", h.name), storage)
    return h, offset


def reduce_storage(storage):
    if storage.is_cuda:
        from ember import cuda
        return cuda._reduce_storage(storage)
    h, offset = share(storage)
    if h.fd is not None:
        return (rebuild_storage_fd, (type(storage), DupFd(h.fd), h.nbytes, offset, storage.size()))
    return (rebuild_storage_filename, (type(storage), h.name, h.nbytes, offset, storage.size()))


def rebuild_tensor(cls, storage, offset, size, stride):
    t = cls()
    if not size:
        return t
    return t.set_(storage, offset, size, stride)


def reduce_tensor(tensor):
    tensor.share_memory_()  # once: shared memory on the CPU, an allocation CUDA IPC can hand out on a GPU
    return (rebuild_tensor, (type(tensor), tensor.storage(), tensor.storage_offset(), tuple(tensor.size()),
                             tensor.stride()))


def init_reductions():
    classes = list(_tensor._typename_to_class.values())
    storages = list(_storage._typename_to_class.values())
    for cls in classes:
        ForkingPickler.register(cls, reduce_tensor)
    for cls in storages:
        ForkingPickler.register(cls, reduce_storage)
