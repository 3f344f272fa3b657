"""One thread count for every pool: OpenMP in ember's Cython kernels, NumPy's and SciPy's BLAS."""
import os

from ember._C import openmp as _omp


def _default_threads():
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


_state = {"n": _default_threads(), "limiter": None}


def get_num_threads():
    return _state["n"]


def set_num_threads(n):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("set_num_threads expects a positive int, got {!r}".format(n))
    _state["n"] = n
    _omp.set_num_threads(n)
    from threadpoolctl import threadpool_limits
    old = _state["limiter"]
    if old is not None:
        old.restore_original_limits()
    _state["limiter"] = threadpool_limits(limits=n)  # held until the next call
    if n == 1:
        _stop_blas_pools()


def _stop_blas_pools():
    """End OpenBLAS's worker threads: with one thread it computes in the caller, and in a forked child (a
    DataLoader worker) setting the count starts a fresh pool whose idle threads spin for ~0.2 s of CPU."""
    from threadpoolctl import ThreadpoolController
    for lib in ThreadpoolController().select(internal_api="openblas").lib_controllers:
        shutdown = getattr(getattr(lib, "dynlib", None), "blas_thread_shutdown_", None)
        if shutdown is not None:
            shutdown()
