"""DataLoader: batches from a dataset, optionally produced by worker processes.

Workers are forked processes running single-threaded; each batch is collated straight into shared memory
and travels as a handle (ember.multiprocessing). Beyond 0.2: a worker killed by a signal raises in the main
process instead of hanging, ``timeout`` bounds the wait for a batch, workers get distinct seeds derived
from the main process's generator (reproducible under ``ember.manual_seed``), and ``worker_init_fn``.
"""
import collections.abc
import queue
import random
import signal
import sys
import threading
import time
import traceback
import weakref

import numpy as np

import ember
from ember import multiprocessing as _mp
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_string_classes = (str, bytes)
# set in worker processes: collate allocates batches in shared memory there
_use_shared_memory = False
# how often the main process checks its workers while waiting for a batch
_POLL_SECONDS = 0.1

numpy_type_map = {
    "float64": ember.DoubleTensor, "float32": ember.FloatTensor, "float16": ember.HalfTensor,
    "int64": ember.LongTensor, "int32": ember.IntTensor, "int16": ember.ShortTensor, "int8": ember.CharTensor,
    "uint8": ember.ByteTensor,
}


class ExceptionWrapper(object):
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, exc_info):
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))


def _worker_loop(dataset, index_queue, data_queue, collate_fn, seed, init_fn, worker_id):
    global _use_shared_memory
    _use_shared_memory = True
    ember.set_num_threads(1)  # one thread per worker: OpenMP pools don't survive fork
    # the queue's feeder thread and the fd-passing server answer the main process: let them get the GIL
    # promptly instead of after the default 5 ms slice of the loading thread
    sys.setswitchinterval(1e-4)
    ember.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception:
            data_queue.put((None, ExceptionWrapper(sys.exc_info())))
            return
    while True:
        r = index_queue.get()
        if r is None:
            break
        idx, batch_indices = r
        try:
            samples = collate_fn([dataset[i] for i in batch_indices])
        except Exception:
            data_queue.put((idx, ExceptionWrapper(sys.exc_info())))
        else:
            data_queue.put((idx, samples))
            del samples


def default_collate(batch):
    """Stack a list of samples into a batch: tensors, NumPy arrays and numbers become tensors; strings
    stay lists; dicts and sequences are collated per key / position."""
    elem = batch[0]
    if ember.is_tensor(elem):
        out = None
        if _use_shared_memory:
            numel = sum(x.numel() for x in batch)
            out = type(elem)(type(elem)._storage_cls._new_shared(numel))
        return ember.stack(batch, 0, out=out)
    elem_type = type(elem)
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if elem_type.__name__ == "ndarray":
            return default_collate([ember.from_numpy(b) for b in batch])
        if elem.shape == ():  # NumPy scalars
            py_type = float if elem.dtype.name.startswith("float") else int
            return numpy_type_map[elem.dtype.name](list(map(py_type, batch)))
    if isinstance(elem, bool) or isinstance(elem, int):
        return ember.LongTensor(batch)
    if isinstance(elem, float):
        return ember.DoubleTensor(batch)
    if isinstance(elem, _string_classes):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, collections.abc.Sequence):
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError("batch must contain tensors, numbers, dicts or lists; found {}".format(elem_type))


def pin_memory_batch(batch):
    if ember.is_tensor(batch):
        return batch.pin_memory()
    if isinstance(batch, _string_classes):
        return batch
    if isinstance(batch, collections.abc.Mapping):
        return {k: pin_memory_batch(sample) for k, sample in batch.items()}
    if isinstance(batch, collections.abc.Sequence):
        return [pin_memory_batch(sample) for sample in batch]
    return batch


def _pin_memory_loop(in_queue, out_queue, done_event):
    """0.2's pin thread: moves the workers' batches into pinned memory while the main thread trains."""
    while not done_event.is_set():
        try:
            r = in_queue.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            continue
        except Exception:  # the queue was closed at shutdown
            return
        idx, batch = r
        if not isinstance(batch, ExceptionWrapper):
            try:
                batch = pin_memory_batch(batch)
            except Exception:
                batch = ExceptionWrapper(sys.exc_info())
        out_queue.put((idx, batch))


class DataLoaderIter(object):
    """Iterates once over the DataLoader's batches (in order, whatever the workers' order)."""

    def __init__(self, loader):
        self.dataset = loader.dataset
        self.collate_fn = loader.collate_fn
        self.batch_sampler = loader.batch_sampler
        self.num_workers = loader.num_workers
        self.pin_memory = loader.pin_memory
        self.timeout = loader.timeout
        self.sample_iter = iter(self.batch_sampler)
        self.workers = []
        self.shutdown = False
        if self.num_workers > 0:
            self._start_workers(loader.worker_init_fn)

    def _start_workers(self, worker_init_fn):
        ctx = _mp.get_context("fork") if "fork" in _mp.get_all_start_methods() else _mp.get_context()
        self.index_queues = [ctx.SimpleQueue() for _ in range(self.num_workers)]
        self.data_queue = ctx.Queue()
        self.batches_outstanding = 0
        self.send_idx = 0
        self.rcvd_idx = 0
        self.reorder_dict = {}
        self.worker_queue_idx = 0
        base_seed = int(ember.LongTensor(1).random_()[0])
        self.workers = [
            ctx.Process(target=_worker_loop,
                        args=(self.dataset, self.index_queues[i], self.data_queue, self.collate_fn,
                              base_seed + i, worker_init_fn, i))
            for i in range(self.num_workers)]
        for w in self.workers:
            w.daemon = True  # a main process that dies takes its workers along
            w.start()
        # shut the workers down even if this iterator is dropped mid-epoch or the interpreter exits
        self.pin_thread = None
        done_event = threading.Event()
        if self.pin_memory:
            worker_queue, self.data_queue = self.data_queue, queue.Queue()
            self.pin_thread = threading.Thread(target=_pin_memory_loop, daemon=True,
                                               args=(worker_queue, self.data_queue, done_event))
            self.pin_thread.start()
        else:
            worker_queue = self.data_queue
        self._finalizer = weakref.finalize(self, _shutdown, self.workers, self.index_queues, worker_queue, done_event)
        for _ in range(2 * self.num_workers):  # prime the prefetch loop
            self._put_indices()

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        return self

    def __next__(self):
        if self.num_workers == 0:
            indices = next(self.sample_iter)  # StopIteration ends the epoch
            batch = self.collate_fn([self.dataset[i] for i in indices])
            return pin_memory_batch(batch) if self.pin_memory else batch
        if self.rcvd_idx in self.reorder_dict:
            return self._process_next_batch(self.reorder_dict.pop(self.rcvd_idx))
        if self.batches_outstanding == 0:
            self._shutdown_workers()
            raise StopIteration
        while True:
            idx, batch = self._get_batch()
            self.batches_outstanding -= 1
            if idx is None:  # worker_init_fn failed
                self._shutdown_workers()
                raise self._reraise(batch)
            if idx != self.rcvd_idx:
                self.reorder_dict[idx] = batch
                continue
            return self._process_next_batch(batch)

    next = __next__  # Python 2 name kept by 0.2

    def _get_batch(self):
        start = time.monotonic()
        while True:
            try:
                return self.data_queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                pass
            for w in self.workers:
                if not w.is_alive():
                    code = w.exitcode
                    self._shutdown_workers()
                    if code is not None and code < 0:
                        raise RuntimeError("DataLoader worker (pid {}) is killed by signal: {}"
                                           .format(w.pid, _signal_name(-code)))
                    raise RuntimeError("DataLoader worker (pid {}) exited unexpectedly with exit code {}"
                                       .format(w.pid, code))
            if self.timeout > 0 and time.monotonic() - start > self.timeout:
                self._shutdown_workers()
                raise RuntimeError("DataLoader timed out after {} seconds".format(self.timeout))

    def _put_indices(self):
        indices = next(self.sample_iter, None)
        if indices is None:
            return
        self.index_queues[self.worker_queue_idx].put((self.send_idx, indices))
        self.worker_queue_idx = (self.worker_queue_idx + 1) % self.num_workers
        self.batches_outstanding += 1
        self.send_idx += 1

    def _process_next_batch(self, batch):
        self.rcvd_idx += 1
        self._put_indices()
        if isinstance(batch, ExceptionWrapper):
            self._shutdown_workers()
            raise self._reraise(batch)
        return batch  # the pin thread pinned it

    @staticmethod
    def _reraise(wrapper):
        msg = "Traceback (most recent call last) in a DataLoader worker process:\n" + wrapper.exc_msg
        try:
            return wrapper.exc_type(msg)
        except Exception:  # exception types whose constructor wants other arguments
            return RuntimeError(msg)

    def __getstate__(self):
        raise NotImplementedError("DataLoaderIterator cannot be pickled")

    def _shutdown_workers(self):
        if not self.shutdown:
            self.shutdown = True
            if self.workers:
                self._finalizer()

    def __del__(self):
        if self.num_workers > 0:
            self._shutdown_workers()


def _shutdown(workers, index_queues, data_queue, done_event):
    done_event.set()  # stops the pin thread
    for q in index_queues:
        try:
            q.put(None)
        except Exception:
            pass
    deadline = time.monotonic() + 5.0
    for w in workers:
        w.join(max(0.0, deadline - time.monotonic()))
    for w in workers:
        if w.is_alive():
            w.terminate()
            w.join(1.0)
    # drop batches nobody will read, so their shared memory is released
    try:
        while True:
            data_queue.get_nowait()
    except Exception:
        pass
    data_queue.cancel_join_thread()
    data_queue.close()
    for q in index_queues:
        q.close()


def _signal_name(num):
    return signal.strsignal(num) or str(num)


class DataLoader(object):
    """Combines a dataset and a sampler, and iterates over batches of the dataset.

    Arguments as 0.2's (dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=default_collate, pin_memory=False, drop_last=False), plus the ember extras
    ``timeout`` (seconds to wait for a batch from the workers; 0 waits for ever) and ``worker_init_fn``
    (called with the worker id in each worker after seeding, before loading).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=default_collate, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        if batch_sampler is not None:
            if batch_size > 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler is mutually exclusive with shuffle")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers must be a non-negative int, got {!r}".format(num_workers))
        if timeout < 0:
            raise ValueError("timeout option should be non-negative, got {}".format(timeout))
        if batch_sampler is None:
            if sampler is None:
                sampler = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler

    def __iter__(self):
        return DataLoaderIter(self)

    def __len__(self):
        return len(self.batch_sampler)

