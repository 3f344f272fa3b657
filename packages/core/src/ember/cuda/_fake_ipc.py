"""CUDA IPC for ember's fake CUDA: ``cuda.Memory`` (an allocation of its own, as cudaMalloc gives),
``cuda.UnownedMemory`` and the runtime's ``ipcGetMemHandle`` / ``ipcOpenMemHandle`` / ``ipcCloseMemHandle``.

The fake's device memory is host memory, so an allocation meant to be shared lives in a file under
/dev/shm, and its handle names that file: another process opens it by mapping the file. As with CUDA, a
handle comes only from the base of an allocation, a process cannot open its own handles, and an allocation
that its owner freed can no longer be opened.
"""
import mmap
import os
import tempfile
import weakref

import numpy as np

_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
_allocations = weakref.WeakValueDictionary()  # base address -> Memory, in the process that made it
_opened = {}  # address -> the mapping of another process's allocation, until ipcCloseMemHandle


def _map(path, size):
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


def _address(m):
    return np.frombuffer(m, np.uint8).__array_interface__["data"][0]


class Memory(object):
    """``cupy.cuda.Memory(size)``: device memory of its own (here: a shared file mapped in)."""

    def __init__(self, size):
        from ember.cuda import _fake
        self.size = int(size)
        self.device_id = _fake._current()
        fd, self._path = tempfile.mkstemp(prefix="ember-fake-cuda-", dir=_SHM_DIR)
        try:
            os.ftruncate(fd, max(self.size, 1))
        finally:
            os.close(fd)
        self._map = _map(self._path, max(self.size, 1))
        self._array = np.frombuffer(self._map, np.uint8)[:self.size]
        self.ptr = _address(self._map)
        _allocations[self.ptr] = self

    def __del__(self):
        try:
            os.unlink(self._path)  # freed: no process can open it any more (those that did keep their mapping)
        except (OSError, AttributeError):
            pass


class UnownedMemory(object):
    """``cupy.cuda.UnownedMemory(ptr, size, owner, device_id)``: memory this process did not allocate (here:
    an opened IPC mapping)."""

    def __init__(self, ptr, size, owner, device_id=None):
        from ember.cuda import _fake
        m = _opened.get(ptr)
        if m is None:
            raise _fake.CUDARuntimeError("fake CUDA: UnownedMemory only wraps memory opened by ipcOpenMemHandle")
        self.ptr, self.size, self.owner = ptr, int(size), owner
        self.device_id = _fake._current() if device_id is None else device_id
        self._array = np.frombuffer(m, np.uint8)[:self.size]  # keeps the mapping while arrays use it


def ipc_get_mem_handle(ptr):
    from ember.cuda import _fake
    mem = _allocations.get(int(ptr))
    if mem is None:
        raise _fake.CUDARuntimeError("cudaErrorInvalidValue: invalid argument (not the base of an allocation "
                                     "of its own)")
    return repr(("ember-fake-ipc", os.getpid(), mem._path, mem.size)).encode()


def ipc_open_mem_handle(handle, flags=1):
    from ember.cuda import _fake
    import ast
    tag, pid, path, size = ast.literal_eval(bytes(handle).decode())
    if tag != "ember-fake-ipc":
        raise _fake.CUDARuntimeError("cudaErrorInvalidResourceHandle: invalid resource handle")
    if pid == os.getpid():
        raise _fake.CUDARuntimeError("cudaErrorDeviceUninitialized: a process cannot open its own IPC handle")
    try:
        m = _map(path, max(size, 1))
    except OSError:
        raise _fake.CUDARuntimeError("cudaErrorInvalidResourceHandle: the allocation was freed") from None
    ptr = _address(m)
    _opened[ptr] = m
    return ptr


def ipc_close_mem_handle(ptr):
    from ember.cuda import _fake
    if _opened.pop(int(ptr), None) is None:
        raise _fake.CUDARuntimeError("cudaErrorInvalidValue: invalid argument (not an opened IPC handle)")
    # the mapping itself goes when the last array over it does
