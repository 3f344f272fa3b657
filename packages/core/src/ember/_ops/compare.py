"""Comparisons: eq ne lt le gt ge return ByteTensors (0.2 has no bool tensors); their in-place forms
write 0/1 into self; ``equal`` compares sizes and values."""
import numbers

import numpy as np

from ember.tensor import _TensorBase, _fmt_size, _new, _typename_of
from . import both, tensor_method
from ._util import apply_binary, operand, write_out

_u8 = np.dtype(np.uint8)


def _make_compare(name, ufunc):
    def f(input, other, out=None):
        if not isinstance(input, _TensorBase):
            raise TypeError("{}(): expected a tensor as first argument, got {}".format(name, _typename_of(input)))
        r = apply_binary(ufunc, input, operand(input, other, name), name).view(_u8)
        if out is not None:
            if type(out) is not type(input)._byte_cls and type(out) is not type(input):
                raise TypeError("{}(): out must be a {} or a {}, got {}".format(
                    name, type(input)._byte_cls._typename, type(input)._typename, _typename_of(out)))
            return write_out(out, type(out), r.astype(type(out)._dtype), name)
        t = _new(type(input)._byte_cls)
        t._a = r
        t._s = None
        return t

    def f_(self, other):
        a = self._a
        b = operand(self, other, name + "_")
        r = apply_binary(ufunc, self, b, name + "_")
        if r.shape != a.shape:
            raise RuntimeError("{}_: in-place operation can't change the size of self {} to broadcast with {}"
                               .format(name, _fmt_size(a.shape), _fmt_size(r.shape)))
        a[...] = r
        return self

    def op(self, other):
        if not isinstance(other, (_TensorBase, numbers.Number)):
            return NotImplemented
        return f(self, other)

    f.__name__, f_.__name__, op.__name__ = name, name + "_", "__{}__".format(name)
    both(f)
    tensor_method(f_)
    tensor_method(op)
    return f, f_


eq, eq_ = _make_compare("eq", np.equal)
ne, ne_ = _make_compare("ne", np.not_equal)
lt, lt_ = _make_compare("lt", np.less)
le, le_ = _make_compare("le", np.less_equal)
gt, gt_ = _make_compare("gt", np.greater)
ge, ge_ = _make_compare("ge", np.greater_equal)


@both
def equal(input, other):
    """True when both tensors have the same size and elements."""
    if not isinstance(input, _TensorBase):
        raise TypeError("equal(): expected a tensor as first argument, got {}".format(_typename_of(input)))
    if not isinstance(other, _TensorBase) or type(other) is not type(input):
        raise TypeError("equal received an invalid combination of arguments - got ({}), but expected ({} other)"
                        .format(_typename_of(other), type(input)._typename))
    if input.size() != other.size():
        return False
    return bool((input._a == other._a).all())
