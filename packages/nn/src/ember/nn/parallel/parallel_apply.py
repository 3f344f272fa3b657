import threading

from ._devices import is_cpu


def parallel_apply(modules, inputs, kwargs_tup=None, devices=None):
    """Runs ``modules[i](*inputs[i], **kwargs_tup[i])`` for every i and returns the outputs in order; an
    exception raised by any of them is re-raised.

    Replicas on different GPUs run in threads (one per device, as in 0.2). CPU replicas run one after the
    other: every CPU kernel already uses all cores, and some reuse per-process workspaces."""
    if len(modules) != len(inputs):
        raise ValueError("parallel_apply: got {} modules but {} inputs".format(len(modules), len(inputs)))
    if kwargs_tup:
        if len(modules) != len(kwargs_tup):
            raise ValueError("parallel_apply: got {} modules but {} kwargs".format(len(modules), len(kwargs_tup)))
    else:
        kwargs_tup = ({},) * len(modules)
    if devices is not None:
        if len(modules) != len(devices):
            raise ValueError("parallel_apply: got {} modules but {} devices".format(len(modules), len(devices)))
    else:
        devices = [_device_of(inp) for inp in inputs]
    results = [None] * len(modules)

    def worker(i, module, input, kwargs, device):
        try:
            if not is_cpu(device):
                import ember.cuda
                ember.cuda.set_device(device)
            if not isinstance(input, (list, tuple)):
                input = (input,)
            results[i] = module(*input, **kwargs)
        except Exception as e:  # re-raised in the calling thread
            results[i] = e

    jobs = list(zip(range(len(modules)), modules, inputs, kwargs_tup, devices))
    gpus = {d for d in devices if not is_cpu(d)}
    if len(gpus) > 1:
        threads = [threading.Thread(target=worker, args=job) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for job in jobs:
            worker(*job)
    for output in results:
        if isinstance(output, Exception):
            raise output
    return results


def _device_of(obj):
    """The device of the first Variable or tensor in ``obj`` (nested in sequences and dicts); None if none."""
    if hasattr(obj, "get_device"):
        return obj.get_device()
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        for o in obj:
            d = _device_of(o)
            if d is not None:
                return d
    return None
