"""Argument checks and device helpers shared by the kernels. The checks read only types and shapes
(``t._a.shape``), so they serve CPU and GPU tensors alike; each kernel file sends CUDA tensors to its
GPU path in ``ember.kernels.cuda`` (CuPy array code, which also runs on ember's fake CUDA)."""
import functools
import numbers
import operator

import numpy as np

from ember import _backend
from ember import cuda as _cuda
from ember._threads import get_num_threads  # noqa: F401  (re-exported for the kernel files)
from ember.tensor import DoubleTensor, FloatTensor, LongTensor, _TensorBase, _c_order, _fmt_size, _typename_of

# the tensor types the kernels accept: THNN's (float, double) and THCUNN's (float, double, half)
CPU_FLOAT_TYPES = (FloatTensor, DoubleTensor)
CUDA_FLOAT_TYPES = (_cuda.FloatTensor, _cuda.DoubleTensor, _cuda.HalfTensor)
FLOAT_TYPES = CPU_FLOAT_TYPES + CUDA_FLOAT_TYPES
INDEX_TYPES = (LongTensor, _cuda.LongTensor)


def xp_of(t):
    """The array module of a tensor: NumPy for CPU tensors, CuPy (or the fake) for CUDA ones."""
    return type(t)._xp


def on_input_device(kernel):
    """Decorator: runs ``kernel`` with the GPU of its first tensor argument current (nothing changes for CPU
    tensors), so that its results are made there."""
    @functools.wraps(kernel)
    def run(*args, **kwargs):
        for a in args:
            if isinstance(a, _TensorBase):
                if not a.is_cuda:
                    break
                with on_device(a):
                    return kernel(*args, **kwargs)
        return kernel(*args, **kwargs)
    return run


def on_device(t):
    """Context making ``t``'s GPU current while a kernel runs (a no-op for CPU tensors): kernels are called
    from autograd Functions, outside the tensor methods' device guard."""
    return _cuda.device_of(t)


def size_str(t):
    """0.2's size text of a tensor: '[2 x 3]' ('[]' when empty)."""
    a = t._a
    return _fmt_size(a.shape if a.size else ())


def float_input(t, op, name="input"):
    if type(t) not in FLOAT_TYPES:
        if getattr(t, "is_cuda", False):
            raise TypeError("{}(): expected {} to be a torch.cuda.FloatTensor, torch.cuda.DoubleTensor or "
                            "torch.cuda.HalfTensor, got {}".format(op, name, _typename_of(t)))
        raise TypeError("{}(): expected {} to be a torch.FloatTensor or torch.DoubleTensor, got {}"
                        .format(op, name, _typename_of(t)))
    if not t._a.size:
        raise ValueError("{}(): expected a non-empty {}, got an empty tensor".format(op, name))


def same_type(t, ref, op, name):
    """``t`` must be a tensor of ``ref``'s type."""
    if type(t) is not type(ref):
        raise TypeError("{}(): expected {} to be a {} (the input's type), got {}"
                        .format(op, name, type(ref)._typename, _typename_of(t)))


def index_input(t, op, name):
    if type(t) not in INDEX_TYPES:
        raise TypeError("{}(): expected {} to be a torch.LongTensor, got {}".format(op, name, _typename_of(t)))


def same_device(t, ref, op, name):
    """``t`` (an index tensor, say) must live where ``ref`` does: both on the CPU or both on one GPU."""
    if t.is_cuda != ref.is_cuda or (t.is_cuda and t.get_device() != ref.get_device()):
        where = "GPU {}".format(ref.get_device()) if ref.is_cuda else "the CPU"
        raise TypeError("{}(): expected {} on {} (where the input is), got {}"
                        .format(op, name, where, _typename_of(t) + (" on GPU {}".format(t.get_device())
                                                                    if t.is_cuda else "")))


def per_class(w, ref, n, op, name="weight"):
    """The array of an optional per-class tensor (``n`` elements, ``ref``'s type), flattened; None stays None."""
    if w is None:
        return None
    same_type(w, ref, op, name)
    a = w._a
    if a.size != n:
        raise ValueError("{}(): {} should have {} elements (one per class/channel), got size {}"
                         .format(op, name, n, size_str(w)))
    return a.reshape(-1)


def scalar(grad_output, op):
    """The number a loss backward scales by: ``grad_output`` as a number, a one-element tensor or None (1)."""
    if grad_output is None:
        return 1.0
    if isinstance(grad_output, _TensorBase):
        if grad_output._a.size != 1:
            raise ValueError("{}(): grad_output of a loss must have one element, got size {}"
                             .format(op, size_str(grad_output)))
        return float(grad_output._a.reshape(-1)[0])
    if isinstance(grad_output, numbers.Real):
        return float(grad_output)
    raise TypeError("{}(): grad_output must be a number or a one-element tensor, got {}"
                    .format(op, _typename_of(grad_output)))


def int_tuple(value, k):
    """``value`` (an int, or a tuple / list of ints) as a tuple of ``k`` ints (an int or a 1-tuple repeated);
    None when it is not that."""
    if type(value) is int:
        return (value,) * k
    vals = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    try:
        vals = tuple([operator.index(v) for v in vals])
    except TypeError:
        return None
    if len(vals) == 1:
        vals = vals * k
    return vals if len(vals) == k else None


def contiguous(a):
    if a.flags.c_contiguous:
        return a
    return _c_order(a, np if isinstance(a, np.ndarray) else _backend.cupy)


def one(cls, value):
    """A size-(1,) tensor of ``cls`` holding ``value`` (THNN's criteria return their loss this way); on
    CUDA ``value`` may be a 0-d device array (it stays on the device)."""
    if cls._xp is np:
        a = np.empty(1, cls._dtype)
        a[0] = value
        return cls._make(a)
    return cls._make(cls._xp.asarray(value, dtype=cls._dtype).reshape(1))
