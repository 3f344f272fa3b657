"""Joining and splitting: cat, stack (new tensors) and split, chunk, unbind (views, as in 0.2)."""
import operator

import numpy as np

from ember.tensor import _THREADED_BYTES, _TensorBase, _copy_into, _fmt_size, _typename_of, _wrap_dim
from . import both, tensor_method, torch_function
from ._util import write_out


def _tensors(seq, op, name):
    """``seq`` as a list of tensors of one type, or a TypeError naming the first offender."""
    if isinstance(seq, _TensorBase):
        raise TypeError("{}(): argument '{}' must be a sequence of tensors, got a single {} "
                        "(wrap it in a list or tuple)".format(op, name, seq._typename))
    try:
        items = list(seq)
    except TypeError:
        raise TypeError("{}(): argument '{}' must be a sequence of tensors, got {}"
                        .format(op, name, _typename_of(seq))) from None
    if not items:
        return items, None
    first = items[0]
    if not isinstance(first, _TensorBase):
        raise TypeError("{}(): expected a sequence of tensors, but element 0 is {}".format(op, _typename_of(first)))
    cls = type(first)
    for i, t in enumerate(items):
        if type(t) is not cls:
            if not isinstance(t, _TensorBase):
                raise TypeError("{}(): expected a sequence of tensors, but element {} is {}"
                                .format(op, i, _typename_of(t)))
            raise TypeError("{}(): expected all tensors to be of type {} (element 0), but element {} is {}"
                            .format(op, cls._typename, i, t._typename))
    return items, cls


def _result(cls, arr, out, op):
    if out is None:
        return cls._make(arr)
    return write_out(out, cls, arr, op)


@torch_function
def cat(seq, dim=0, out=None):
    """Concatenate tensors of one type along ``dim``; their sizes must match in every other dim.
    Empty tensors in ``seq`` are skipped, as in 0.2."""
    items, cls = _tensors(seq, "cat", "seq")
    if cls is None:
        raise ValueError("cat(): expected a non-empty sequence of tensors")
    arrays = []
    nbytes = 0
    for t in items:
        a = t._a
        if a.size:
            arrays.append(a)
            nbytes += a.nbytes
    if not arrays:
        return _result(cls, cls._xp.empty(0, cls._dtype), out, "cat")
    ref = arrays[0]
    d = dim if type(dim) is int and 0 <= dim < ref.ndim else _wrap_dim(dim, ref.ndim, "cat")
    if len(arrays) == 1:
        return _result(cls, ref.copy(), out, "cat")
    if cls.is_cuda or nbytes < _THREADED_BYTES:
        try:
            return _result(cls, cls._xp.concatenate(arrays, axis=d), out, "cat")
        except ValueError:  # sizes that differ outside dim: 0.2's message
            _cat_length(arrays, d)
            raise
    length = _cat_length(arrays, d)
    # each input into its slice of the result (row-contiguous slices copy on every thread)
    r = np.empty(ref.shape[:d] + (length,) + ref.shape[d + 1:], cls._dtype)
    at = 0
    for a in arrays:
        _copy_into(r[(slice(None),) * d + (slice(at, at + a.shape[d]),)], a)
        at += a.shape[d]
    return _result(cls, r, out, "cat")


def _cat_length(arrays, d):
    """The length of cat's result along ``d``, after checking that the sizes match in every other dim."""
    ref = arrays[0]
    nd = ref.ndim
    before, after = ref.shape[:d], ref.shape[d + 1:]
    length = 0
    for a in arrays:
        shape = a.shape
        if len(shape) != nd or shape[:d] != before or shape[d + 1:] != after:
            raise RuntimeError("cat(): inconsistent tensor sizes: tensors must have the same size in every dimension "
                               "but {} (the one concatenated), got {} and {}"
                               .format(d, _fmt_size(ref.shape), _fmt_size(a.shape)))
        length += shape[d]
    return length


@torch_function
def stack(sequence, dim=0, out=None):
    """Join tensors of one type and one size along a new dimension ``dim`` (0 <= dim <= their dim())."""
    items, cls = _tensors(sequence, "stack", "sequence")
    if cls is None:
        raise ValueError("stack expects a non-empty sequence of tensors")
    ref = items[0]._a
    for i, t in enumerate(items):
        a = t._a
        if a.shape != ref.shape and (a.size or ref.size):
            raise RuntimeError("stack(): expected all tensors to have the same size, got {} (element 0) and {} "
                               "(element {})".format(_size_of(ref), _size_of(a), i))
    if not ref.size:
        return _result(cls, cls._xp.empty(0, cls._dtype), out, "stack")
    d = _wrap_dim(dim, ref.ndim + 1, "stack")
    return _result(cls, cls._xp.stack([t._a for t in items], axis=d), out, "stack")


def _size_of(a):
    return _fmt_size(a.shape) if a.size else "[]"


def _dim_length(tensor, dim, op):
    if not isinstance(tensor, _TensorBase):
        raise TypeError("{}(): expected a tensor, got {}".format(op, _typename_of(tensor)))
    a = tensor._a
    if not a.size:
        raise RuntimeError("{}(): cannot split an empty tensor (it has no dimensions)".format(op))
    d = _wrap_dim(dim, a.ndim, op)
    return a, d, a.shape[d]


def _positive(value, name, op):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError("{}(): {} must be an int, got {}".format(op, name, _typename_of(value))) from None
    if value <= 0:
        raise RuntimeError("{}(): {} must be a positive int, got {}".format(op, name, value))
    return value


def _split(tensor, split_size, dim, op):
    a, d, n = _dim_length(tensor, dim, op)
    lead = (slice(None),) * d
    view = tensor._view
    return tuple(view(a[lead + (slice(i, i + split_size),)]) for i in range(0, n, split_size))


@both
def split(tensor, split_size, dim=0):
    """Views of ``tensor`` along ``dim``, each ``split_size`` long (the last one shorter if need be)."""
    return _split(tensor, _positive(split_size, "split_size", "split"), dim, "split")


@torch_function
def chunk(tensor, chunks, dim=0):
    """``tensor`` split into at most ``chunks`` views along ``dim``, each ceil(size / chunks) long
    (so fewer chunks come back when the size does not fill them, as in 0.2)."""
    chunks = _positive(chunks, "chunks", "chunk")
    _, _, n = _dim_length(tensor, dim, "chunk")
    return _split(tensor, -(-n // chunks), dim, "chunk")


@tensor_method(name="chunk")
def _chunk_method(self, n_chunks, dim=0):
    """Tensor.chunk(n_chunks, dim=0): see ember.chunk."""
    return chunk(self, n_chunks, dim)


@torch_function
def unbind(tensor, dim=0):
    """The slices of ``tensor`` along ``dim`` (``select(dim, i)`` for each i): views of one dim less,
    or Python numbers for a 1-D tensor, as in 0.2."""
    a, d, n = _dim_length(tensor, dim, "unbind")
    if a.ndim == 1:
        return tuple(a.tolist())
    lead = (slice(None),) * d
    view = tensor._view
    return tuple(view(a[lead + (i,)]) for i in range(n))


# ---------------------------------------------------------------------- view ops as torch functions
# (the methods live in tensor.py; 0.2 also exported these four as torch.* with out=, which copies)

def _view_function(name):
    method = getattr(_TensorBase, name)

    def f(input, *args, **kwargs):
        out = kwargs.pop("out", None)
        r = method(input, *args, **kwargs)
        if out is None:
            return r
        return write_out(out, type(input), r._a, name)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = "torch.{0}(input, ...): the same as ``input.{0}(...)``; ``out=`` receives a copy.".format(name)
    torch_function(f, name)
    return f


squeeze = _view_function("squeeze")
unsqueeze = _view_function("unsqueeze")
t = _view_function("t")
transpose = _view_function("transpose")
