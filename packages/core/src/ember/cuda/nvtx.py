"""``ember.cuda.nvtx``: NVIDIA Tools Extension markers for profilers (Nsight), through CuPy's NVTX binding.
Without a GPU (or on ember's fake CUDA) they do nothing."""
from ember import _backend


def _nvtx():
    if not _backend.cuda_available or _backend.fake:
        return None
    from cupy.cuda import nvtx
    return nvtx if getattr(nvtx, "available", True) else None


def range_push(msg):
    """Open a nested range named ``msg`` (closed by ``range_pop``)."""
    n = _nvtx()
    if n is not None:
        n.RangePush(msg)


def range_pop():
    """Close the innermost open range."""
    n = _nvtx()
    if n is not None:
        n.RangePop()


def mark(msg):
    """An instantaneous event named ``msg``."""
    n = _nvtx()
    if n is not None:
        n.Mark(msg)
