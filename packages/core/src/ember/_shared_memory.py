"""Shared-memory buffers for storages, under 0.2's two sharing strategies.

- ``file_descriptor`` (default on Linux): an anonymous memory file (``memfd_create``; an unlinked file in
  /dev/shm where memfd is missing). Nothing is ever left in /dev/shm; other processes receive a duplicate
  of the descriptor through multiprocessing's fd passing.
- ``file_system``: a named file in /dev/shm, opened by name in the receiving process and unlinked when the
  creating process's mapping is collected (as in 0.2 a receiver must open it while the sender holds it).
"""
import itertools
import mmap
import os
import secrets
import sys
import weakref

import numpy as np

_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
_counter = itertools.count()
if sys.platform.startswith("linux"):
    _strategies = {"file_descriptor", "file_system"}
    _strategy = ["file_descriptor"]
else:
    _strategies = {"file_system"}
    _strategy = ["file_system"]


def get_all_sharing_strategies():
    return set(_strategies)


def get_sharing_strategy():
    return _strategy[0]


def set_sharing_strategy(new_strategy):
    if new_strategy not in _strategies:
        raise ValueError("set_sharing_strategy: unknown strategy '{}' (available: {})"
                         .format(new_strategy, ", ".join(sorted(_strategies))))
    _strategy[0] = new_strategy


class SharedHandle(object):
    """What identifies a shared buffer across processes: an open descriptor or a /dev/shm name."""
    __slots__ = ("fd", "name", "nbytes", "ptr", "__weakref__")

    def __init__(self, fd, name, nbytes, ptr=0):
        self.fd = fd
        self.name = name
        self.nbytes = nbytes
        self.ptr = ptr  # address of the mapping's first byte in this process

    def __bool__(self):
        return True

    def __repr__(self):
        return "<SharedHandle fd={} name={} nbytes={}>".format(self.fd, self.name, self.nbytes)


def _new_fd(nbytes):
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("ember_shm", os.MFD_CLOEXEC)
    else:  # pragma: no cover - non-Linux
        path = _new_name()
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(path)
    os.ftruncate(fd, nbytes)
    return fd


def _new_name():
    if _SHM_DIR is None:  # pragma: no cover
        raise RuntimeError("the file_system sharing strategy needs /dev/shm")
    return os.path.join(_SHM_DIR, "ember_{}_{}_{}".format(os.getpid(), next(_counter), secrets.token_hex(4)))


def _map(fd, nbytes):
    return mmap.mmap(fd, max(nbytes, 1), flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)


def allocate(count, dtype):
    """A new array of ``count`` elements in shared memory, and its SharedHandle."""
    dtype = np.dtype(dtype)
    nbytes = count * dtype.itemsize
    if _strategy[0] == "file_descriptor":
        fd = _new_fd(max(nbytes, 1))
        mm = _map(fd, nbytes)
        handle = SharedHandle(fd, None, nbytes)
        weakref.finalize(mm, _close, fd)
    else:
        name = _new_name()
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, max(nbytes, 1))
            mm = _map(fd, nbytes)
        finally:
            os.close(fd)
        handle = SharedHandle(None, name, nbytes)
        weakref.finalize(mm, _unlink, name)
    return _array(mm, dtype, count, handle)


def _array(mm, dtype, count, handle):
    arr = np.frombuffer(mm, dtype=dtype, count=count)
    handle.ptr = arr.__array_interface__["data"][0]
    return arr, handle


def attach_fd(fd, nbytes, dtype):
    """Map a received descriptor (this process owns ``fd`` from now on)."""
    mm = _map(fd, nbytes)
    weakref.finalize(mm, _close, fd)
    dtype = np.dtype(dtype)
    return _array(mm, dtype, nbytes // dtype.itemsize, SharedHandle(fd, None, nbytes))


def attach_name(name, nbytes, dtype):
    try:
        fd = os.open(name, os.O_RDWR)
    except FileNotFoundError:
        raise RuntimeError("shared memory file '{}' is gone: with the file_system strategy the sending process "
                           "must keep the tensor alive until it is received".format(name)) from None
    try:
        mm = _map(fd, nbytes)
    finally:
        os.close(fd)
    dtype = np.dtype(dtype)
    return _array(mm, dtype, nbytes // dtype.itemsize, SharedHandle(None, name, nbytes))


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _unlink(name):
    try:
        os.unlink(name)
    except OSError:
        pass
