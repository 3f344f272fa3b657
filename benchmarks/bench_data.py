"""DataLoader and ember.multiprocessing figures (issue 8): workers' throughput on a CPU-bound transform,
and passing a 100 MB tensor through a Queue (already shared: a handle only; first send: one move into
shared memory) beside a plain NumPy array through multiprocessing.Queue.

usage: python benchmarks/bench_data.py [--quick]
"""
import multiprocessing
import sys
import time

import numpy as np

import ember
from ember import multiprocessing as emp
from ember.utils.data import DataLoader, Dataset


class CpuBound(Dataset):
    """Each item costs a few ms of pure CPU work (as a decode + augmentation would)."""

    def __init__(self, n, work):
        self.n = n
        self.work = work

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = np.random.RandomState(i).standard_normal((64, 64))
        for _ in range(self.work):
            x = np.tanh(x @ x.T * 1e-3)
        return ember.from_numpy(x.astype(np.float32)), i


def items_per_second(num_workers, n, work):
    loader = DataLoader(CpuBound(n, work), batch_size=8, num_workers=num_workers)
    t0 = time.perf_counter()
    count = sum(len(y) for _, y in loader)
    return count / (time.perf_counter() - t0)


def best_items_per_second(worker_counts, n, work, repeat):
    """The best of ``repeat`` runs for each worker count, the runs interleaved so that a change in the
    machine's load touches every count alike."""
    best = dict.fromkeys(worker_counts, 0.0)
    for _ in range(repeat):
        for w in worker_counts:
            best[w] = max(best[w], items_per_second(w, n, work))
    return [best[w] for w in worker_counts]


def _receiver(q, done):
    while True:
        item = q.get()
        if item is None:
            break
        done.put(1)


def queue_transfer(make_item, queue_ctx, repeat):
    q, done = queue_ctx.Queue(), queue_ctx.Queue()
    p = queue_ctx.Process(target=_receiver, args=(q, done))
    p.start()
    times = []
    for _ in range(repeat):
        item = make_item()
        t0 = time.perf_counter()
        q.put(item)
        done.get()
        times.append(time.perf_counter() - t0)
    q.put(None)
    p.join()
    return min(times)


def main(quick):
    n, work = (64, 150) if quick else (192, 150)
    repeat = 3 if quick else 7
    default_threads = ember.get_num_threads()
    # the main process at one thread (the speed-up comes from the workers alone), then as users leave it
    for threads in (1, default_threads):
        ember.set_num_threads(threads)
        ips0, ips2 = best_items_per_second((0, 2), n, work, repeat)
        print("DataLoader, {} CPU-bound items, main process at {} thread(s): {:.0f} items/s with 0 workers, "
              "{:.0f} with 2 ({:.2f}x; best of {} interleaved runs)"
              .format(n, threads, ips0, ips2, ips2 / ips0, repeat))

    ctx = emp.get_context("fork")
    nelem = 100 * 2 ** 20 // 4
    shared = ember.FloatTensor(nelem).fill_(1).share_memory_()
    repeat = 3 if quick else 5
    t_shared = queue_transfer(lambda: shared, ctx, repeat)
    t_first = queue_transfer(lambda: ember.FloatTensor(nelem).fill_(1), ctx, repeat)
    plain = multiprocessing.get_context("fork")
    arr = np.ones(nelem, np.float32)
    t_numpy = queue_transfer(lambda: arr, plain, repeat)
    print("100 MB through a Queue: already-shared tensor {:.2f} ms (target < 10 ms); first send of a new "
          "tensor {:.1f} ms; NumPy array through multiprocessing.Queue {:.1f} ms"
          .format(t_shared * 1e3, t_first * 1e3, t_numpy * 1e3))


if __name__ == "__main__":
    main("--quick" in sys.argv)
