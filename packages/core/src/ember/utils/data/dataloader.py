"""DataLoader: batches from a dataset, optionally produced by worker processes.

Workers are forked processes running single-threaded; each batch is collated straight into shared memory
and travels as descriptors of that memory, all of a batch's in one message over the worker's channel
(ember.multiprocessing.channel). Batch ``i`` goes to worker ``i % num_workers``, which answers in order, so
the main process reads the batches in order from one worker after another. Beyond 0.2: a worker killed by
a signal raises in the main process instead of hanging, ``timeout`` bounds the wait for a batch, workers get
distinct seeds derived from the main process's generator (reproducible under ``ember.manual_seed``), and
``worker_init_fn``.
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
from multiprocessing.connection import wait

import numpy as np

import ember
from ember import multiprocessing as _mp
from ember.multiprocessing.channel import channel_pair
from .sampler import BatchSampler, RandomSampler, SequentialSampler

_string_classes = (str, bytes)
# set in worker processes: collate allocates batches in shared memory there
_use_shared_memory = False
# how often the pin thread checks whether its iterator has shut down
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


def _worker_loop(dataset, channel, main_ends, collate_fn, seed, init_fn, worker_id):
    """Answers each list of indices received on ``channel`` with its batch (or the ExceptionWrapper of the
    error that stopped it), until the main process closes its end of the channel."""
    global _use_shared_memory
    _use_shared_memory = True
    for end in main_ends:  # inherited: closed, so that the main process's exit ends the channel
        end.close()
    # one thread per worker (OpenMP pools don't survive fork), set only where the main process uses more
    if ember.get_num_threads() != 1:
        ember.set_num_threads(1)
    ember.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    init_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception:
            init_error = ExceptionWrapper(sys.exc_info())  # the answer to every request
    try:
        while True:
            batch_indices = channel.recv()
            _send(channel, init_error or _load(dataset, collate_fn, batch_indices))
    except (EOFError, ConnectionError):  # the main process is done with this worker
        pass


def _load(dataset, collate_fn, batch_indices):
    try:
        return collate_fn([dataset[i] for i in batch_indices])
    except Exception:
        return ExceptionWrapper(sys.exc_info())


def _send(channel, batch):
    try:
        channel.send(batch)
    except ConnectionError:
        raise
    except Exception:  # the batch could not be pickled, and nothing of it was sent
        channel.send(ExceptionWrapper(sys.exc_info()))


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


def _pin_memory_loop(workers, out_queue, done_event):
    """0.2's pin thread: moves the workers' batches into pinned memory while the main thread trains. Puts
    ``(batch, None)`` for each batch, or ``(None, error)`` once receiving fails (a worker died)."""
    idx = 0
    while not done_event.is_set():
        try:
            batch = workers.receive(idx, _POLL_SECONDS)
        except queue.Empty:
            continue
        except Exception as e:
            out_queue.put((None, e))
            return
        if not isinstance(batch, ExceptionWrapper):
            try:
                batch = pin_memory_batch(batch)
            except Exception:
                batch = ExceptionWrapper(sys.exc_info())
        out_queue.put((batch, None))
        idx += 1


class _Workers(object):
    """A DataLoaderIter's worker processes and a channel to each. Batch ``idx`` is requested from worker
    ``idx % num_workers``, and each worker answers its requests in order."""

    def __init__(self, loader, base_seed):
        ctx = _mp.get_context("fork") if "fork" in _mp.get_all_start_methods() else _mp.get_context()
        self.channels = []
        self.processes = []
        for i in range(loader.num_workers):
            ours, theirs = channel_pair()
            self.channels.append(ours)
            p = ctx.Process(target=_worker_loop,
                            args=(loader.dataset, theirs, tuple(self.channels), loader.collate_fn, base_seed + i,
                                  loader.worker_init_fn, i))
            p.daemon = True  # a main process that dies takes its workers along
            p.start()
            theirs.close()  # left to the worker alone, so that the worker's exit ends the channel
            self.processes.append(p)
        self._process_of = {p.sentinel: p for p in self.processes}
        self._sentinels = list(self._process_of)

    def request(self, idx, batch_indices):
        try:
            self.channels[idx % len(self.channels)].send(batch_indices)
        except ConnectionError:  # a dead worker: receive() reports it
            pass

    def receive(self, idx, timeout):
        """Batch ``idx``, or the ExceptionWrapper its worker sent instead. Raises queue.Empty where it has
        not come within ``timeout`` seconds (None: no limit), RuntimeError where a worker has died."""
        channel = self.channels[idx % len(self.channels)]
        ready = wait([channel] + self._sentinels, timeout)
        if channel in ready:
            try:
                return channel.recv()
            except EOFError:
                raise self._death(self.processes[idx % len(self.channels)]) from None
        if ready:
            raise self._death(self._process_of[ready[0]])
        raise queue.Empty

    @staticmethod
    def _death(process):
        process.join(1.0)  # its channel can end a moment before its exit code is known
        code = process.exitcode
        if code is not None and code < 0:
            return RuntimeError("DataLoader worker (pid {}) is killed by signal: {}"
                                .format(process.pid, _signal_name(-code)))
        return RuntimeError("DataLoader worker (pid {}) exited unexpectedly with exit code {}"
                            .format(process.pid, code))

    def shutdown(self):
        # closing the channels stops the workers, and frees the batches sent but never received
        for c in self.channels:
            c.close()
        deadline = time.monotonic() + 5.0
        for p in self.processes:
            p.join(max(0.0, deadline - time.monotonic()))
        for p in self.processes:
            if p.is_alive():
                p.terminate()
                p.join(1.0)


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
        self.shutdown = False
        if self.num_workers > 0:
            self._start_workers(loader)

    def _start_workers(self, loader):
        self.workers = _Workers(loader, base_seed=int(ember.LongTensor(1).random_()[0]))
        self.batches_outstanding = 0
        self.send_idx = 0
        self.rcvd_idx = 0
        self.pin_thread = None
        done_event = threading.Event()
        if self.pin_memory:
            self.pinned = queue.Queue()
            self.pin_thread = threading.Thread(target=_pin_memory_loop, daemon=True,
                                               args=(self.workers, self.pinned, done_event))
            self.pin_thread.start()
        # shut the workers down even if this iterator is dropped mid-epoch or the interpreter exits
        self._finalizer = weakref.finalize(self, _shutdown, self.workers, done_event)
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
        if self.batches_outstanding == 0:
            self._shutdown_workers()
            raise StopIteration
        batch = self._get_batch()
        self.batches_outstanding -= 1
        self.rcvd_idx += 1
        self._put_indices()
        if isinstance(batch, ExceptionWrapper):
            self._shutdown_workers()
            raise self._reraise(batch)
        return batch  # the pin thread pinned it

    next = __next__  # Python 2 name kept by 0.2

    def _get_batch(self):
        timeout = self.timeout if self.timeout > 0 else None
        try:
            if self.pin_thread is None:
                return self.workers.receive(self.rcvd_idx, timeout)
            batch, error = self.pinned.get(timeout=timeout)
            if error is None:
                return batch
        except queue.Empty:
            error = RuntimeError("DataLoader timed out after {} seconds".format(self.timeout))
        except Exception as e:  # a worker died, or its batch could not be received
            error = e
        self._shutdown_workers()
        raise error

    def _put_indices(self):
        indices = next(self.sample_iter, None)
        if indices is None:
            return
        self.workers.request(self.send_idx, indices)
        self.batches_outstanding += 1
        self.send_idx += 1

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
            self._finalizer()

    def __del__(self):
        if self.num_workers > 0:
            self._shutdown_workers()


def _shutdown(workers, done_event):
    done_event.set()  # stops the pin thread, at its next poll or when reading a closed channel fails
    workers.shutdown()


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

