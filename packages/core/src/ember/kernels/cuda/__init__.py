"""The GPU paths of ``ember.kernels``: one module per kernel family, named as the CPU file
(``ember/kernels/softmax.py`` sends CUDA tensors to ``ember/kernels/cuda/softmax.py``).

They take arrays already checked by the CPU-side entry points and return CuPy arrays, written in CuPy's
NumPy-compatible array API so that the same code runs on ember's fake CUDA (``EMBER_FAKE_CUDA=1``), where
CI tests it. The array module comes from the tensor (``type(t)._xp``), never from an import of cupy.
Half tensors compute in float32 and round once at the end, as THCUNN's accumulate types did.
"""
import numpy as _np


def widened(a):
    """``a`` in the type the GPU kernels compute in: float16 as float32 (a new array), others as they are."""
    return a.astype(_np.float32) if a.dtype == _np.float16 else a
