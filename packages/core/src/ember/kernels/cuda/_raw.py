"""CUDA C kernels (CuPy ``RawKernel``) for the GPU paths where array code moves too many bytes.

A ``Kernel`` is one ``extern "C" __global__`` function, written once in terms of ``scalar_t`` (float or
double: half data is widened first, as everywhere in ember's GPU code) and ``index_t`` (int, or long long
when an array has 2**31 elements or more). Each (scalar, index) variant is compiled on first use and kept
per device, under a name that says what it is (``ember_max_pool_f32_i32``), so profiles read well.

Kernels loop over their ``n`` work items with ``EMBER_LOOP`` (a grid-stride loop), and no thread reads what
another writes: on ember's fake CUDA the same source is compiled with g++ and run one emulated thread at a
time (``ember.cuda._fake_kernels``), which is how CI tests them; ``tests/core_tests/cuda/test_raw_kernels.py``
also compiles every variant with nvcc where one is installed.
"""
import functools

import numpy as np

from ember import _backend

__all__ = ["Kernel", "registered"]

BLOCK = 256
_MAX_BLOCKS = 65535
_INT32_LIMIT = 1 << 31

_C_TYPES = {np.dtype(np.float32): ("float", "f32"), np.dtype(np.float64): ("double", "f64"),
            np.dtype(np.int32): ("int", "i32"), np.dtype(np.int64): ("long long", "i64")}

_PRELUDE = r"""
typedef {scalar} scalar_t;
typedef {index} index_t;
#define EMBER_LOOP(i, n) \
    for (index_t i = (index_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (index_t)blockDim.x * gridDim.x)
#define {name} {full_name}
"""

_registry = {}


def registered():
    """Every kernel defined so far, by name."""
    return dict(_registry)


class Kernel(object):
    """One CUDA C kernel named ``name`` in ``source``; ``kernel(n, *args, dtype=...)`` launches it over ``n``
    work items. Python ints among ``args`` are passed as ``index_t``, floats as ``scalar_t``; arrays as
    they are (C-contiguous, of the types the kernel declares)."""

    def __init__(self, name, source):
        if name in _registry:
            raise ValueError("a kernel named {} is already defined".format(name))
        self.name, self.source = name, source
        _registry[name] = self

    def variant(self, scalar, index):
        """(full name, complete source) of the kernel for the given scalar and index dtypes."""
        (s, sname), (i, iname) = _C_TYPES[np.dtype(scalar)], _C_TYPES[np.dtype(index)]
        full = "ember_{}_{}_{}".format(self.name, sname, iname)
        return full, _PRELUDE.format(scalar=s, index=i, name=self.name, full_name=full) + self.source

    def __call__(self, n, *args, dtype):
        if n <= 0:
            return
        dtype = np.dtype(dtype)
        index = index_type(n, args)
        xp = _backend.cupy
        kernel = _compiled(xp, xp.cuda.runtime.getDevice(), self, dtype, np.dtype(index))
        blocks = min(-(-n // BLOCK), _MAX_BLOCKS)
        kernel((blocks,), (BLOCK,), _arguments(args, dtype.type, index))


def index_type(n, args):
    """int32 for the kernel's indices unless an array is too big for them, or the grid-stride loop's last
    step past ``n`` could overflow them: then int64."""
    if n >= _INT32_LIMIT - BLOCK * _MAX_BLOCKS:
        return np.int64
    for a in args:
        if type(a) is not int and getattr(a, "size", 0) >= _INT32_LIMIT:
            return np.int64
    return np.int32


def _arguments(args, scalar, index):
    """The launch arguments: Python ints as ``index``, floats as ``scalar``, the rest as they are."""
    out = []
    for a in args:
        t = type(a)
        if t is int:
            a = index(a)
        elif t is float:
            a = scalar(a)
        elif t is bool:
            raise TypeError("pass flags to kernels as numpy.int32, not bool")
        out.append(a)
    return tuple(out)


@functools.lru_cache(maxsize=None)
def _compiled(xp, device, kernel, scalar, index):
    name, code = kernel.variant(scalar, index)
    return xp.RawKernel(code, name)
