"""The GPU paths of ``ember.kernels``: one module per kernel family, named as the CPU file
(``ember/kernels/softmax.py`` sends CUDA tensors to ``ember/kernels/cuda/softmax.py``).

They take arrays already checked by the CPU-side entry points and return CuPy arrays. Most are written in
CuPy's NumPy-compatible array API; where that would move too many bytes, in CUDA C kernels (``_raw``:
CuPy RawKernels), and convolutions go to cuDNN where it is installed (``cudnn``). All of it runs on
ember's fake CUDA (``EMBER_FAKE_CUDA=1``), where CI tests it: the CUDA C through g++, cuDNN not at all
(ember's own kernels run there). The array module comes from the tensor (``type(t)._xp``), never from an
import of cupy. Half tensors compute in float32 and round once at the end, as THCUNN's accumulate types did.
"""
import numpy as _np


def compute_dtype(dtype):
    """The type the kernels compute ``dtype`` data in: float32 for float16 (THCUNN's accumulate type), else
    ``dtype`` itself."""
    return _np.dtype(_np.float32) if dtype == _np.float16 else _np.dtype(dtype)


def widened(a):
    """``a`` in its compute type (see ``compute_dtype``): float16 as float32 (a new array), others as they are."""
    return a.astype(_np.float32) if a.dtype == _np.float16 else a
