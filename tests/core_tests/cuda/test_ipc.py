"""Sharing CUDA tensors between processes (the reference docs' multiprocessing notes: spawn or forkserver;
CUDA IPC handles, the same device memory in both processes). On the fake CUDA the device memory is host
memory in /dev/shm files; on a GPU (marker ``gpu``) it is cudaIpc* through CuPy."""
import gc
import os

import numpy as np
import pytest

import ember
import ember.cuda
from ember import _backend
from ember import multiprocessing as mp
from ember.multiprocessing.reductions import ForkingPickler


def _child(q, r, done):
    t = q.get(timeout=60)
    t.add_(1)  # in place: the parent sees it
    mine = ember.cuda.FloatTensor([7, 8, 9])
    r.put((t.get_device(), t.is_cuda, t.cpu().contiguous().view(-1).tolist(), mine))
    done.wait(60)  # the sender keeps its allocation alive while the other process uses it


@pytest.fixture
def spawn_on_this_device(device_mode, monkeypatch):
    """A spawn context whose children see the same CUDA (the fake one when the test runs on the fake)."""
    if device_mode == "fake":
        monkeypatch.setenv("EMBER_FAKE_CUDA", "1")
    else:
        monkeypatch.delenv("EMBER_FAKE_CUDA", raising=False)
    return mp.get_context("spawn")


def test_cuda_tensor_through_a_queue_is_the_same_device_memory(spawn_on_this_device):
    ctx = spawn_on_this_device
    q, r, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    t = ember.cuda.FloatTensor([1, 2, 3, 4, 5, 6]).view(2, 3).share_memory_()
    p = ctx.Process(target=_child, args=(q, r, done))
    p.start()
    try:
        q.put(t[:, 1:])  # a view of a shared tensor: the child gets the same elements of the same memory
        device, is_cuda, seen, theirs = r.get(timeout=60)
        assert (device, is_cuda, seen) == (0, True, [3, 4, 6, 7])
        assert t.view(-1).cpu().tolist() == [1, 3, 4, 4, 6, 7]  # the child's in-place add reached us
        assert type(theirs) is ember.cuda.FloatTensor and theirs.cpu().tolist() == [7, 8, 9]
        theirs.mul_(2)  # and the memory the child allocated is ours to use while it lives
        assert theirs.cpu().tolist() == [14, 16, 18]
        assert t.is_shared()
    finally:
        done.set()
        p.join(60)
    assert p.exitcode == 0


def test_sending_moves_a_tensor_into_shareable_memory_once(device_mode):
    """As share_memory_() on the CPU: the tensor sent (or shared) views the moved memory, other views of the
    old memory keep it; a tensor already shared is not moved again."""
    t = ember.cuda.FloatTensor([1, 2, 3, 4])
    other = t[1:]
    ForkingPickler.dumps(t)
    assert t.is_shared()
    t.add_(1)
    assert t.cpu().tolist() == [2, 3, 4, 5] and other.cpu().tolist() == [2, 3, 4]
    ptr = t.data_ptr()
    t.share_memory_()
    assert t.data_ptr() == ptr


def test_pickled_in_the_same_process_is_the_same_storage(device_mode):
    t = ember.cuda.DoubleTensor(10).fill_(1)
    s = t.storage()
    back = ForkingPickler.loads(ForkingPickler.dumps(t))
    assert back.storage() is s or back.data_ptr() == t.data_ptr()
    back.add_(1)
    assert t.cpu().tolist() == [2.0] * 10
    ptr = t.data_ptr()
    again = ForkingPickler.loads(ForkingPickler.dumps(t[3:]))  # shared once: not moved again
    assert t.data_ptr() == ptr and again.data_ptr() == ptr + 3 * 8


def test_resized_storage_leaves_the_shared_allocation(device_mode):
    s = ember.cuda.FloatStorage([1, 2, 3])
    ForkingPickler.dumps(s)
    assert s.is_shared()
    s.resize_(5)
    assert not s.is_shared() and s.tolist()[:3] == [1, 2, 3]


def test_fake_ipc_follows_cudas_rules(fake_cuda):
    cp = _backend.cupy
    mem = cp.cuda.Memory(64)
    handle = cp.cuda.runtime.ipcGetMemHandle(mem.ptr)
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="own IPC handle"):
        cp.cuda.runtime.ipcOpenMemHandle(handle)
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="base of an allocation"):
        cp.cuda.runtime.ipcGetMemHandle(mem.ptr + 8)
    with pytest.raises(cp.cuda.runtime.CUDARuntimeError, match="base of an allocation"):
        cp.cuda.runtime.ipcGetMemHandle(cp.zeros(4).data.ptr)  # pool memory: not an allocation of its own
    path = mem._path
    del mem
    gc.collect()
    assert not os.path.exists(path)  # freed: nothing left in /dev/shm


def _event_child(q, r):
    handle, t = q.get(timeout=60)
    e = ember.cuda.Event(_handle=handle)
    e.wait()  # the current stream waits for the parent's work before reading t
    e.synchronize()
    r.put((e.query(), e.interprocess, t.cpu().tolist()))


def test_an_event_opened_in_another_process(spawn_on_this_device):
    ctx = spawn_on_this_device
    q, r = ctx.Queue(), ctx.Queue()
    p = ctx.Process(target=_event_child, args=(q, r))
    p.start()
    t = ember.cuda.FloatTensor([1, 2, 3]).share_memory_()
    e = ember.cuda.Event(interprocess=True)
    t.mul_(10)
    e.record()
    q.put((e.ipc_handle(), t))
    assert r.get(timeout=60) == (True, True, [10.0, 20.0, 30.0])
    p.join(60)
    assert p.exitcode == 0


def test_event_from_a_handle(device_mode):
    e = ember.cuda.Event(interprocess=True)
    e.record()
    opened = ember.cuda.Event(_handle=e.ipc_handle()) if device_mode == "fake" else None
    if opened is not None:  # on a GPU a process cannot open its own event: the spawn test covers it there
        opened.record()
        opened.wait()
        opened.synchronize()
        assert opened.query() and opened.interprocess and not opened.enable_timing
        assert repr(opened).startswith("<torch.cuda.Event 0x")
    with pytest.raises(ValueError, match="expected the 64-byte handle of Event.ipc_handle\\(\\), got 12 bytes"):
        ember.cuda.Event(_handle=b"not a handle")
