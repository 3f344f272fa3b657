"""Argument checks shared by the kernels. They read only types and shapes (``t._a.shape``), so they
serve CPU and GPU tensors alike."""
import numbers

import numpy as np

from ember._threads import get_num_threads  # noqa: F401  (re-exported for the kernel files)
from ember.tensor import DoubleTensor, FloatTensor, LongTensor, _TensorBase, _fmt_size, _typename_of

# the tensor types the kernels accept; the CUDA twins join here with the GPU path
FLOAT_TYPES = (FloatTensor, DoubleTensor)
INDEX_TYPES = (LongTensor,)


def size_str(t):
    """0.2's size text of a tensor: '[2 x 3]' ('[]' when empty)."""
    a = t._a
    return _fmt_size(a.shape if a.size else ())


def float_input(t, op, name="input"):
    if type(t) not in FLOAT_TYPES:
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


def contiguous(a):
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def one(cls, value):
    """A size-(1,) tensor of ``cls`` holding ``value`` (THNN's criteria return their loss this way)."""
    return cls._make(np.array([value], cls._dtype))
