"""ember.utils.data: datasets, samplers, default_collate and the DataLoader (with and without workers)."""
import gc
import os
import signal
import time

import numpy as np
import pytest

import ember
from ember import multiprocessing as mp
from ember.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, SequentialSampler,
                              SubsetRandomSampler, TensorDataset, WeightedRandomSampler)
from ember.utils.data.dataloader import default_collate


def _shm_entries():
    return {n for n in os.listdir("/dev/shm") if n.startswith("ember_")} if os.path.isdir("/dev/shm") else set()


def _data(n=10):
    x = ember.FloatTensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = ember.LongTensor(list(range(n)))
    return TensorDataset(x, y)


class Squares(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        return ember.FloatTensor([i * i]), i


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError("sample {} is broken".format(i))
        return ember.FloatTensor([i])


class Slow(Dataset):
    def __init__(self, delay):
        self.delay = delay

    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(self.delay)
        return ember.FloatTensor([i])


class SuicideOnThird(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return ember.FloatTensor([i])


class RandomItems(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return ember.rand(1)[0], float(np.random.rand())


class Numbers(Dataset):
    def __len__(self):
        return 600

    def __getitem__(self, i):
        return ember.FloatTensor([i])


def _running(pid):
    """Whether process ``pid`` exists and has not exited (an unreaped orphan is a zombie: 'Z')."""
    try:
        with open("/proc/{}/stat".format(pid)) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


# ---------------------------------------------------------------- datasets and samplers

def test_tensor_dataset():
    ds = _data(4)
    x, y = ds[2]
    assert x.tolist() == [6, 7, 8] and y == 2 and len(ds) == 4
    with pytest.raises(ValueError, match="same size"):
        TensorDataset(ember.FloatTensor(3, 2), ember.LongTensor(4))


def test_concat_dataset():
    c = ConcatDataset([_data(3), _data(4)])
    assert len(c) == 7 and c.cummulative_sizes == [3, 7]
    assert c[3][1] == 0 and c[6][1] == 3 and c[-1][1] == 3
    with pytest.raises(IndexError):
        c[7]
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])


def test_samplers():
    ds = list(range(10))
    assert list(SequentialSampler(ds)) == ds
    ember.manual_seed(3)
    a = list(RandomSampler(ds))
    ember.manual_seed(3)
    assert list(RandomSampler(ds)) == a and sorted(a) == ds
    sub = list(SubsetRandomSampler([5, 7, 9]))
    assert sorted(sub) == [5, 7, 9]
    w = WeightedRandomSampler([0, 0, 1, 3], 4000)
    counts = np.bincount(list(w), minlength=4)
    assert counts[0] == counts[1] == 0 and 0.65 < counts[3] / 4000.0 < 0.85 and len(w) == 4000
    b = BatchSampler(SequentialSampler(ds), 3, drop_last=False)
    assert list(b) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(b) == 4
    assert len(BatchSampler(SequentialSampler(ds), 3, drop_last=True)) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(ds, 0, False)


# ---------------------------------------------------------------- collate

def test_default_collate_types():
    t = default_collate([ember.FloatTensor([1, 2]), ember.FloatTensor([3, 4])])
    assert t.type() == "torch.FloatTensor" and t.tolist() == [[1, 2], [3, 4]]
    assert default_collate([1, 2]).type() == "torch.LongTensor"
    assert default_collate([1.5, 2.5]).type() == "torch.DoubleTensor"
    assert default_collate(["a", "b"]) == ["a", "b"]
    n = default_collate([np.zeros(2, np.int32), np.ones(2, np.int32)])
    assert n.type() == "torch.IntTensor" and n.tolist() == [[0, 0], [1, 1]]
    s = default_collate([np.float32(1), np.float32(2)])
    assert s.type() == "torch.FloatTensor" and s.tolist() == [1, 2]
    d = default_collate([{"x": 1, "y": ember.FloatTensor([1])}, {"x": 2, "y": ember.FloatTensor([2])}])
    assert d["x"].tolist() == [1, 2] and d["y"].tolist() == [[1], [2]]
    pairs = default_collate([(1, "a"), (2, "b")])
    assert pairs[0].tolist() == [1, 2] and pairs[1] == ("a", "b")  # 0.2 hands back zip's tuple
    with pytest.raises(TypeError, match="batch must contain tensors, numbers, dicts or lists"):
        default_collate([object(), object()])


# ---------------------------------------------------------------- DataLoader

def test_loader_single_process():
    loader = DataLoader(_data(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert batches[0][0].size() == (4, 3) and batches[2][1].tolist() == [8, 9]
    assert len(DataLoader(_data(10), batch_size=4, drop_last=True)) == 2
    ember.manual_seed(0)
    shuffled = [y for _, ys in DataLoader(_data(10), batch_size=3, shuffle=True) for y in ys.tolist()]
    assert sorted(shuffled) == list(range(10)) and shuffled != list(range(10))


def test_loader_argument_errors():
    ds = _data(4)
    with pytest.raises(ValueError, match="sampler is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False))
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(ds, timeout=-1)


def test_workers_give_same_batches_in_order_and_shared():
    before = _shm_entries()
    ref = list(DataLoader(Squares(), batch_size=3))
    got = list(DataLoader(Squares(), batch_size=3, num_workers=2))
    assert len(got) == len(ref) == 7
    for (a, ai), (b, bi) in zip(ref, got):
        assert a.tolist() == b.tolist() and ai.tolist() == bi.tolist()
        assert b.is_shared()
    gc.collect()
    assert mp.active_children() == []
    assert _shm_entries() == before


def test_worker_seeds_distinct_and_reproducible():
    def run():
        ember.manual_seed(123)
        return [(a.tolist(), b.tolist()) for a, b in DataLoader(RandomItems(), batch_size=2, num_workers=2)]
    first, second = run(), run()
    assert first == second
    values = [v for a, _ in first for v in a]
    assert len(set(values)) == len(values)  # workers don't repeat each other's numbers


def test_worker_init_fn_runs_in_each_worker(tmp_path):
    def init(worker_id):
        with open(os.path.join(str(tmp_path), "w{}".format(worker_id)), "w") as f:
            f.write(str(os.getpid()))
    list(DataLoader(Squares(), batch_size=5, num_workers=2, worker_init_fn=init))
    assert sorted(os.listdir(str(tmp_path))) == ["w0", "w1"]


def test_worker_exception_reraised_with_traceback():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as info:
        list(loader)
    assert "sample 5 is broken" in str(info.value) and "Traceback" in str(info.value)
    gc.collect()
    assert mp.active_children() == []


def test_killed_worker_raises_instead_of_hanging():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) is killed by signal: Killed"):
        list(DataLoader(SuicideOnThird(), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 20
    gc.collect()
    assert mp.active_children() == []


def test_timeout():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        list(DataLoader(Slow(3.0), batch_size=1, num_workers=1, timeout=0.5))
    gc.collect()
    assert mp.active_children() == []


def test_early_break_shuts_workers_down():
    before = _shm_entries()
    it = iter(DataLoader(Squares(), batch_size=1, num_workers=2))
    next(it)
    del it
    gc.collect()
    deadline = time.monotonic() + 10
    while mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mp.active_children() == []
    assert _shm_entries() == before


def test_worker_init_fn_error_reraised_with_traceback():
    def init(worker_id):
        if worker_id == 1:
            raise ValueError("no configuration for worker {}".format(worker_id))
    with pytest.raises(ValueError, match="no configuration for worker 1") as info:
        list(DataLoader(Squares(), batch_size=2, num_workers=2, worker_init_fn=init))
    assert "Traceback" in str(info.value) and "in init" in str(info.value)
    gc.collect()
    assert mp.active_children() == []


def test_unpicklable_batch_raises_instead_of_hanging():
    loader = DataLoader(Squares(), batch_size=2, num_workers=2, collate_fn=lambda samples: (lambda: samples))
    with pytest.raises(Exception, match="(?i)pickle"):
        list(loader)
    gc.collect()
    assert mp.active_children() == []


def test_batch_with_more_storages_than_one_message_carries():
    # collate_fn=list keeps each sample's own storage: 300 descriptors, past the 253 one sendmsg can carry
    batches = list(DataLoader(Numbers(), batch_size=300, num_workers=2, collate_fn=list))
    values = [t[0] for batch in batches for t in batch]
    assert values == list(range(600))
    assert all(t.is_shared() for batch in batches for t in batch)


def test_workers_under_file_system_strategy():
    before = _shm_entries()
    old = mp.get_sharing_strategy()
    mp.set_sharing_strategy("file_system")
    try:
        got = [(a.tolist(), b.tolist()) for a, b in DataLoader(Squares(), batch_size=3, num_workers=2)]
    finally:
        mp.set_sharing_strategy(old)
    assert got == [(a.tolist(), b.tolist()) for a, b in DataLoader(Squares(), batch_size=3)]
    gc.collect()
    assert _shm_entries() == before


def _iterate_then_get_killed(pids):
    it = iter(DataLoader(Squares(), batch_size=1, num_workers=2))
    next(it)
    pids.put([p.pid for p in mp.active_children()])
    os.kill(os.getpid(), signal.SIGKILL)


def test_workers_exit_when_the_main_process_is_killed():
    ctx = mp.get_context("fork")
    pids = ctx.SimpleQueue()
    main = ctx.Process(target=_iterate_then_get_killed, args=(pids,))
    main.start()
    workers = pids.get()
    main.join(20)
    assert len(workers) == 2 and main.exitcode == -signal.SIGKILL
    assert _wait_until(lambda: not any(_running(pid) for pid in workers), 10)


@pytest.mark.parametrize("dataset, timeout, error", [(SuicideOnThird(), 0, "is killed by signal: Killed"),
                                                     (Slow(1.0), 0.5, "timed out after 0.5 seconds")])
def test_pin_memory_workers_failure_raises(fake_cuda, dataset, timeout, error):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=error):
        list(DataLoader(dataset, batch_size=1, num_workers=2, pin_memory=True, timeout=timeout))
    assert time.monotonic() - start < 20
    gc.collect()
    assert mp.active_children() == []
