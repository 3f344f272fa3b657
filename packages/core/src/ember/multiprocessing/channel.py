"""Channels: connections that carry a pickle and the descriptors of its shared storages in one message.

A Queue passes each storage's descriptor through multiprocessing's resource sharer: one socket connection
per storage, served by a thread of the sending process. A Channel is one end of a Unix socket pair; each
message is one ``sendmsg`` carrying the pickle with every descriptor attached (SCM_RIGHTS), and the
receiving process maps the storages straight from those descriptors. Storages shared under the
``file_system`` strategy travel as a descriptor of their file as well, so the sender need not keep them
alive until they are received.
"""
import io
import os
import pickle
import socket
import struct
from multiprocessing.reduction import ForkingPickler

from ember.storage import _StorageBase
from .reductions import share, storage_from_fd, view_of

_HEADER = struct.Struct("=QI")  # pickle bytes, descriptors
_MAX_FDS = 253  # SCM_MAX_FD: the most descriptors one sendmsg may carry on Linux


def channel_pair():
    """Two connected Channels (the ends of a Unix stream socket pair)."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return Channel(a), Channel(b)


class Channel(object):
    """One end of a channel_pair: ``send(obj)`` on one end, ``recv()`` on the other, either way (one
    sending and one receiving thread at a time)."""

    def __init__(self, sock):
        self._sock = sock

    def fileno(self):
        return self._sock.fileno()

    def close(self):
        self._sock.close()

    def send(self, obj):
        """Send ``obj``; its CPU storages move into shared memory (once) and travel as descriptors. The
        object is pickled before anything is sent, so a pickling error leaves the channel usable."""
        buf = io.BytesIO()
        buf.write(bytes(_HEADER.size))
        pickler = _Pickler(buf)
        try:
            pickler.dump(obj)
            with buf.getbuffer() as message:
                _HEADER.pack_into(message, 0, len(message) - _HEADER.size, len(pickler.fds))
                self._send_message(message, pickler.fds)
        finally:
            for fd in pickler.opened:
                os.close(fd)

    def _send_message(self, message, fds):
        sent = socket.send_fds(self._sock, [message], fds[:_MAX_FDS]) if fds else 0
        if sent < len(message):
            self._sock.sendall(message[sent:])
        for start in range(_MAX_FDS, len(fds), _MAX_FDS):  # descriptors past SCM_MAX_FD: one-byte messages
            socket.send_fds(self._sock, [b"\0"], fds[start:start + _MAX_FDS])

    def recv(self):
        """The next object sent from the other end; EOFError once that end is closed."""
        try:
            return self._recv()
        except ConnectionResetError:  # closed with messages of ours unread
            raise EOFError("the other end of the channel is closed") from None

    def _recv(self):
        head, fds = self._recv_with_fds(_HEADER.size)
        roots = {}
        try:
            size, nfds = _HEADER.unpack(head + self._recv_exact(_HEADER.size - len(head)))
            payload = self._recv_exact(size)
            while len(fds) < nfds:
                fds += self._recv_with_fds(1)[1]
            return _Unpickler(io.BytesIO(payload), fds, roots).load()
        finally:
            for i, fd in enumerate(fds):
                if i not in roots:
                    os.close(fd)

    def _recv_with_fds(self, nbytes):
        data, fds, flags, _ = socket.recv_fds(self._sock, nbytes, _MAX_FDS)
        if flags & socket.MSG_CTRUNC:
            for fd in fds:
                os.close(fd)
            raise RuntimeError("a message arrived without all its file descriptors: this process has reached "
                               "its open-file limit (`ulimit -n`); each shared storage it holds keeps one open")
        if not data:
            raise EOFError("the other end of the channel is closed")
        return data, fds

    def _recv_exact(self, nbytes):
        chunks = []
        while nbytes:
            chunk = self._sock.recv(nbytes)
            if not chunk:
                raise EOFError("the other end of the channel closed in the middle of a message")
            chunks.append(chunk)
            nbytes -= len(chunk)
        return b"".join(chunks)


class _Pickler(ForkingPickler):
    """Pickles each shared CPU storage as a persistent id: its class, the index of its file's descriptor
    among those sent with the message, and where it lies in that file."""

    def __init__(self, file):
        super().__init__(file)
        self.fds = []
        self.opened = []  # descriptors opened for named files, to close once sent
        self._fd_index = {}  # SharedHandle -> index in fds

    def persistent_id(self, obj):
        if not isinstance(obj, _StorageBase) or obj.is_cuda:
            return None
        handle, offset = share(obj)
        index = self._fd_index.get(handle)
        if index is None:
            index = self._fd_index[handle] = len(self.fds)
            self.fds.append(self._descriptor(handle))
        return type(obj), index, handle.nbytes, offset, obj.size()

    def _descriptor(self, handle):
        if handle.fd is not None:
            return handle.fd
        fd = os.open(handle.name, os.O_RDWR)
        self.opened.append(fd)
        return fd


class _Unpickler(pickle.Unpickler):
    """Rebuilds the storages of a _Pickler's pickle from the descriptors received with it."""

    def __init__(self, file, fds, roots):
        super().__init__(file)
        self.fds = fds
        self.roots = roots  # index in fds -> the storage that owns that descriptor now

    def persistent_load(self, pid):
        cls, index, nbytes, offset, size = pid
        root = self.roots.get(index)
        if root is None:
            root = self.roots[index] = storage_from_fd(cls, self.fds[index], nbytes)
        return view_of(root, offset, size)
