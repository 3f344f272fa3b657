"""ember.multiprocessing: tensors and storages through queues share memory; strategies."""
import os

import pytest

import ember
from ember import multiprocessing as mp
from ember.multiprocessing.channel import channel_pair


def _shm_entries():
    return {n for n in os.listdir("/dev/shm") if n.startswith("ember_")} if os.path.isdir("/dev/shm") else set()


def _add_one(q, done):
    t = q.get()
    t.add_(1)
    done.set()


def _echo(q, r, done):
    r.put(q.get())
    done.wait(10)


def _storage_child(q, done):
    s = q.get()
    s[0] = 42
    done.set()


def _add_one_to_each(channel):
    tensors = channel.recv()
    for t in tensors:
        t.add_(1)
    channel.send("done")


@pytest.fixture(params=sorted(mp.get_all_sharing_strategies()))
def strategy(request):
    old = mp.get_sharing_strategy()
    mp.set_sharing_strategy(request.param)
    yield request.param
    mp.set_sharing_strategy(old)


def test_strategies_api():
    assert mp.get_sharing_strategy() == "file_descriptor"
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
    with pytest.raises(ValueError, match="unknown strategy"):
        mp.set_sharing_strategy("carrier_pigeon")
    assert hasattr(mp, "Process") and hasattr(mp, "Queue") and hasattr(mp, "Pool")


def test_inplace_change_in_child_is_seen_by_parent(strategy):
    before = _shm_entries()
    ctx = mp.get_context("fork")
    q, done = ctx.Queue(), ctx.Event()
    t = ember.FloatTensor([1, 2, 3]).view(3, 1)
    p = ctx.Process(target=_add_one, args=(q, done))
    p.start()
    q.put(t)  # moves t's storage into shared memory, then sends a handle
    assert done.wait(20)
    p.join(20)
    assert t.view(-1).tolist() == [2, 3, 4]  # the child's in-place update reached the parent's tensor
    assert t.is_shared()
    view = t[1:]  # views of a shared tensor travel without a copy
    p = ctx.Process(target=_add_one, args=(q, done))
    done.clear()
    p.start()
    q.put(view)
    assert done.wait(20)
    p.join(20)
    assert t.view(-1).tolist() == [2, 4, 5]
    del t, view
    import gc
    gc.collect()
    assert _shm_entries() == before


def test_shared_tensor_not_copied_again_and_round_trip_is_same_memory():
    ctx = mp.get_context("fork")
    q, r, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    t = ember.DoubleTensor(1000).fill_(1).share_memory_()
    ptr = t.data_ptr()
    p = ctx.Process(target=_echo, args=(q, r, done))
    p.start()
    q.put(t)
    back = r.get(timeout=20)
    done.set()
    p.join(20)
    assert t.data_ptr() == ptr  # already shared: not moved again
    assert back.data_ptr() == t.data_ptr() and back.tolist() == t.tolist()


def test_storage_through_queue(strategy):
    ctx = mp.get_context("fork")
    q, done = ctx.Queue(), ctx.Event()
    s = ember.IntStorage([1, 2, 3])
    p = ctx.Process(target=_storage_child, args=(q, done))
    p.start()
    q.put(s)
    assert done.wait(20)
    p.join(20)
    assert s.tolist() == [42, 2, 3] and s.is_shared()


def _square(t):
    return t * t


def test_pool_map_with_tensors():
    with mp.get_context("fork").Pool(2) as pool:
        out = pool.map(_square, [ember.FloatTensor([i]) for i in range(4)])
    assert [o.tolist() for o in out] == [[0], [1], [4], [9]]


def test_channel_shares_the_storages_of_a_message(strategy):
    before = _shm_entries()
    ours, theirs = channel_pair()
    base = ember.FloatTensor(4).fill_(10).share_memory_()
    # more storages than the 253 descriptors one sendmsg can carry, plus two views of one storage
    tensors = [ember.FloatTensor([i]) for i in range(300)] + [base[:2], base[2:]]
    p = mp.get_context("fork").Process(target=_add_one_to_each, args=(theirs,))
    p.start()
    theirs.close()
    ours.send(tensors)
    assert ours.recv() == "done"
    p.join(20)
    assert [t[0] for t in tensors[:300]] == [i + 1 for i in range(300)]
    assert base.tolist() == [11, 11, 11, 11] and base.is_shared()
    ours.close()
    del tensors, base
    import gc
    gc.collect()
    assert _shm_entries() == before


def test_channel_recv_after_the_other_end_closed():
    ours, theirs = channel_pair()
    theirs.send([1, 2])
    theirs.close()
    assert ours.recv() == [1, 2]
    with pytest.raises(EOFError):
        ours.recv()
