"""Helpers shared by the op families: operand checks, 0.2 broadcasting, ``out=`` handling."""
import numbers
import warnings

import numpy as np

from ember.tensor import _TensorBase, _c_order, _fmt_size, _scalar_for, _typename_of, _wrap_dim  # noqa: F401
from ember.utils import backcompat

_ndarray = np.ndarray
_bc_warning = backcompat.broadcast_warning


def type_error(op, self, other, expected="a number or a {self}"):
    return TypeError("{op} received an invalid combination of arguments - got ({got}), but expected {exp} "
                     "(tensor types can't be mixed: convert one with .type() or .type_as())"
                     .format(op=op, got=_typename_of(other),
                             exp=expected.format(self=type(self)._typename)))


def operand(self, other, op):
    """The array (same tensor type) or C-typed scalar standing for ``other`` in a binary op."""
    if isinstance(other, _TensorBase):
        if type(other) is not type(self):
            raise type_error(op, self, other)
        return other._a
    if isinstance(other, numbers.Number) and not isinstance(other, complex):
        return _scalar_for(type(self), other, op)
    raise type_error(op, self, other)


def tensor_operand(self, other, op, name="other"):
    if not isinstance(other, _TensorBase) or type(other) is not type(self):
        raise TypeError("{} received an invalid combination of arguments - got ({}), but expected ({} {})"
                        .format(op, _typename_of(other), type(self)._typename, name))
    return other._a


def broadcast_error(a_shape, b_shape):
    # 0.2's text, counting dimensions from the left of the broadcast shape
    nd = max(len(a_shape), len(b_shape))
    sa = (1,) * (nd - len(a_shape)) + tuple(a_shape)
    sb = (1,) * (nd - len(b_shape)) + tuple(b_shape)
    for i in range(nd - 1, -1, -1):
        if sa[i] != sb[i] and sa[i] != 1 and sb[i] != 1:
            return RuntimeError("The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton "
                                "dimension {}. (sizes {} and {})".format(sa[i], sb[i], i, _fmt_size(a_shape),
                                                                         _fmt_size(b_shape)))
    return RuntimeError("sizes {} and {} are not broadcastable".format(_fmt_size(a_shape), _fmt_size(b_shape)))


def is_array(b):
    """``b`` is an array (host or device), not a number."""
    return isinstance(b, _ndarray) or (hasattr(b, "shape") and not isinstance(b, numbers.Number))


def fallback_operand(a, b, op):
    """0.2's deprecated pointwise fallback: non-broadcastable shapes with equal numel combine elementwise,
    taking the first operand's shape (with a warning)."""
    if is_array(b) and b.size == a.size and b.size:
        warnings.warn("{}: self and other not broadcastable, but have the same number of elements. "
                      "Falling back to deprecated pointwise behavior.".format(op), UserWarning, stacklevel=4)
        return b.reshape(a.shape) if b.flags.c_contiguous else xp_of(b).ascontiguousarray(b).reshape(a.shape)
    raise broadcast_error(a.shape, getattr(b, "shape", ()))


def apply_binary(ufunc, self, b, op):
    """``ufunc(self, b)`` with 0.2 broadcasting (and its equal-numel fallback); a new C-contiguous array."""
    a = self._a
    if type(self).is_cuda:
        return device_binary(ufunc, a, b, op)
    try:
        r = ufunc(a, b, order="C")
    except ValueError:
        return ufunc(a, fallback_operand(a, b, op), order="C")
    if _bc_warning.enabled:
        _warn_backcompat(a, b)
    return r


def device_binary(ufunc, a, b, op):
    """``ufunc(a, b)`` on device arrays (CuPy takes no ``order=``; its results are C-contiguous)."""
    try:
        r = ufunc(a, b)
    except ValueError:
        r = ufunc(a, fallback_operand(a, b, op))
    else:
        if _bc_warning.enabled:
            _warn_backcompat(a, b)
    return r if r.flags.c_contiguous else xp_of(r).ascontiguousarray(r)


def _warn_backcompat(a, b):
    if is_array(b) and a.shape != b.shape and a.size == b.size:
        warnings.warn("{} and {} do not have the same shape, but are broadcastable, and have the same number of "
                      "elements. Changing behavior in a backwards incompatible manner to broadcasting rather than "
                      "viewing as 1-dimensional.".format(_fmt_size(a.shape), _fmt_size(b.shape)), UserWarning,
                      stacklevel=4)


def apply_binary_(ufunc, self, b, op):
    """In place: ``self = ufunc(self, b)``; ``b`` broadcasts to self's shape."""
    a = self._a
    try:
        ufunc(a, b, out=a)
    except ValueError:
        if is_array(b) and b.size == a.size:
            ufunc(a, fallback_operand(a, b, op), out=a)
        else:
            if is_array(b) and len(b.shape) <= a.ndim:
                raise broadcast_error(a.shape, b.shape) from None
            raise RuntimeError("{}: in-place operation can't change the size of self {} to broadcast with {}"
                               .format(op, _fmt_size(a.shape), _fmt_size(getattr(b, "shape", ())))) from None
    return self


def new_result(cls, arr):
    """Wrap a freshly computed array as ``cls`` (C-contiguous, 0.2 layout)."""
    if not arr.flags.c_contiguous:
        arr = _c_order(arr, cls._xp)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return cls._make(arr)


def write_out(out, cls, arr, op):
    """Store ``arr`` in ``out`` (resized as needed) and return ``out``."""
    if type(out) is not cls:
        raise TypeError("{}(): expected out to be a {}, got {}".format(op, cls._typename, _typename_of(out)))
    shape = arr.shape if arr.ndim else (1,)
    o = out._a
    if o.shape != shape:  # an out of the right size keeps its layout, as 0.2's resize_ left it
        out.resize_(shape)
        o = out._a
    cls._xp.copyto(o, arr.reshape(shape), casting="unsafe")
    return out


def finish(cls, arr, out, op):
    """Return ``arr`` as a new tensor, or written into ``out`` when given."""
    if out is None:
        return new_result(cls, arr)
    return write_out(out, cls, arr, op)


def require_float(self, op):
    if not type(self)._is_floating:
        raise TypeError("{}(): not implemented for {} (floating-point tensor types only)"
                        .format(op, type(self)._typename))


def wrap_dim(dim, t, op):
    a = t._a
    return _wrap_dim(dim, a.ndim if a.size else 0, op)


# ---------------------------------------------------------------------- CUDA helpers

def xp_of(a):
    """The array module of array ``a``: NumPy, or CuPy for a device array."""
    if isinstance(a, _ndarray):
        return np
    from ember import _backend  # not at import: ember without CUDA never loads CuPy
    return _backend.cupy


def long_cls(cls):
    """The LongTensor class on ``cls``'s side (CPU or CUDA): the type of index results."""
    from ember.tensor import _typename_to_class
    return _typename_to_class["torch.cuda.LongTensor" if cls.is_cuda else "torch.LongTensor"]


def via_host(f, args, kwargs):
    """``f(*args, **kwargs)`` for an op without a CuPy path: on host copies of the CUDA tensors among the
    arguments, with tensor results moved back to the device (``out=`` is filled from the host result)."""
    device = [None]

    def down(x):
        if isinstance(x, _TensorBase) and x.is_cuda:
            if device[0] is None:
                device[0] = x.get_device()
            return x.cpu()
        if type(x) in (list, tuple):
            return type(x)(down(e) for e in x)
        return x

    def up(x):
        if isinstance(x, _TensorBase):
            return x.cuda(device[0])
        if type(x) in (list, tuple):
            return type(x)(up(e) for e in x)
        return x

    out = kwargs.pop("out", None)
    r = up(f(*down(args), **{k: down(v) for k, v in kwargs.items()}))
    if out is None:
        return r
    if isinstance(r, _TensorBase):
        return out.resize_as_(r).copy_(r)
    return tuple(o.resize_as_(x).copy_(x) if o is not None else x for o, x in zip(out, r))
