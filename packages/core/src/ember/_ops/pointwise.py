"""Pointwise math: arithmetic, unary functions, clamp, lerp, addcmul/addcdiv, bitwise ops and the
Python operators, with PyTorch 0.2's semantics: integer division truncates toward zero (C), ``%`` and
``remainder`` take the divisor's sign and ``fmod`` the dividend's, ``round`` rounds halves away from
zero, ``sign(nan)`` is 0, and ``clamp`` is TH's ``x < min ? min : (x > max ? max : x)``. Integer
division (and fmod/remainder) by zero raises ZeroDivisionError where 0.2's TH died of SIGFPE.

Speed: small tensors take one NumPy call. From a size per op on (where the threads win on two cores),
C-contiguous same-shape or tensor-and-number cases run in ``ember._C.elementwise`` on every thread:
NumPy's own SIMD inner loops split across threads, or one-pass typed kernels.
"""
import math
import numbers
import warnings

import numpy as np

from ember._C import elementwise as _k
from ember._threads import get_num_threads as _nthreads
from ember.tensor import (_TensorBase, _broadcastable, _c_order, _fmt_size, _new, _scalar_for, _typename_of,
                          ByteTensor, CharTensor, DoubleTensor, FloatTensor, IntTensor, LongTensor, ShortTensor)
from ember.utils import backcompat
from . import both, tensor_method
from ._util import (apply_binary, apply_binary_, device_binary, fallback_operand, finish, is_array, operand,
                    require_float, tensor_operand, type_error, write_out, _warn_backcompat)

_ndarray = np.ndarray
_np_add, _np_sub, _np_mul = np.add, np.subtract, np.multiply
_bc_warning = backcompat.broadcast_warning
_FLOATS = (FloatTensor, DoubleTensor)
_INTS = (LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor)

# Element counts from which the threaded kernels beat a single NumPy call on 2 cores, with OpenMP waiters
# sleeping (ember sets OMP_WAIT_POLICY=PASSIVE): waking the second thread costs tens of microseconds.
_CHEAP = 1 << 17  # memory-bound: + - * /, abs, neg, floor ...
_MATH = 1 << 14   # transcendental: exp, log, sin, pow ...
_TYPED = 1 << 15  # one-pass kernels for what NumPy does in several passes: clamp, round, sigmoid ...

# 0.2 returned inf/nan for x/0, log(0), overflow ... silently, as ember's kernels do; NumPy would warn.
warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) encountered",
                        RuntimeWarning, r"ember\._ops\.")


# Kernel tables: {tensor class: kernel(x, out, nthreads)} for unary ops, kernel(a, b, out, nthreads) for
# binary ones (``a`` or ``b`` may have one element); a class missing from the table always uses NumPy.

def _binary_loops(ufunc, classes=_FLOATS):
    """NumPy's inner loop of ``ufunc`` for each class's dtype, run on every thread."""
    return {cls: _k.Loop(ufunc, cls._dtype).binary for cls in classes}


def _unary_loops(ufunc, classes=_FLOATS):
    return {cls: _k.Loop(ufunc, cls._dtype).unary for cls in classes}


def _typed(kernel):
    return {cls: kernel for cls in _FLOATS}


def _scipy_special(name):
    """A scipy.special ufunc, imported on first use: scipy.special alone costs ~0.2 s of ``import ember``."""
    import scipy.special
    return getattr(scipy.special, name)


def _not_tensor(op, x):
    return TypeError("{}(): expected a tensor as first argument, got {}".format(op, _typename_of(x)))


def _dest(cls, a, out, op, b=None, shape=None):
    """The array a kernel writes ``op``'s result into: a new one, or ``out``'s memory (resized to ``shape``,
    by default ``a``'s) unless it overlaps an input other than exactly; None means: go through a temporary."""
    if shape is None:
        shape = a.shape
    if out is None:
        return np.empty(shape, cls._dtype)
    if type(out) is not cls:
        raise TypeError("{}(): expected out to be a {}, got {}".format(op, cls._typename, _typename_of(out)))
    o = out._a
    if o.shape != shape:
        out.resize_(shape)
        o = out._a
    if not o.flags.c_contiguous:  # an out of the right size keeps its layout (0.2); the kernels write C order
        return None
    if o is not a and np.may_share_memory(o, a):
        return None
    if b is not None and b.size > 1 and o is not b and np.may_share_memory(o, b):
        return None
    return o


def _kernel_operand(cls, a, b):
    """``b`` (array or C-typed number) as a kernel operand: a C-contiguous array of ``a``'s shape or a
    one-element array; None when only NumPy's broadcasting can combine them."""
    if type(b) is _ndarray:
        return b if b.shape == a.shape and b.flags.c_contiguous else None
    return np.array((b,), cls._dtype)


def _binary(ufunc, kernels, threshold, input, b, out, op):
    """``ufunc(input, b)`` with 0.2 broadcasting, as a new tensor or written into ``out``."""
    cls = type(input)
    a = input._a
    k = kernels.get(cls)
    if k is not None:
        if a.size >= threshold and a.flags.c_contiguous:
            kb = _kernel_operand(cls, a, b)
            if kb is not None:
                r = _dest(cls, a, out, op, kb)
                if r is not None:
                    k(a, kb, r, _nthreads())
                    return out if out is not None else cls._make(r)
        # a.size * b.size bounds the broadcast result's size: small operands skip the shape arithmetic. Views
        # of one shape (an expand_as, a narrow) go the same way: NumPy would run them on one thread
        if type(b) is _ndarray and a.size * b.size >= threshold and (
                b.shape != a.shape or not (a.flags.c_contiguous and b.flags.c_contiguous)):
            r = _broadcast(k, threshold, cls, a, b, out, op)
            if r is not None:
                return r
    if cls.is_cuda:
        r = device_binary(ufunc, a, b, op)
    else:
        try:
            r = ufunc(a, b, order="C")
        except ValueError:
            r = ufunc(a, fallback_operand(a, b, op), order="C")
        else:
            if type(b) is _ndarray and b.shape != a.shape and _bc_warning.enabled:
                _warn_backcompat(a, b)
    if out is None:
        t = _new(cls)
        t._a = r
        t._s = None
        return t
    return write_out(out, cls, r, op)


def _broadcast(kernel, threshold, cls, a, b, out, op):
    """``_binary`` of arrays that broadcast or are not both C-contiguous, on every thread (``Loop.broadcast``):
    the result, or None when this path does not apply (then NumPy computes it)."""
    loop = getattr(kernel, "__self__", None)
    if type(loop) is not _k.Loop or b.dtype != a.dtype:
        return None
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:  # 0.2's equal-numel fallback, or an error: NumPy's path sorts it out
        return None
    if math.prod(shape) < threshold:
        return None
    r = _dest(cls, a, out, op, b, shape)
    if r is None or not loop.broadcast(np.broadcast_to(a, shape), np.broadcast_to(b, shape), r, _nthreads()):
        return None
    if _bc_warning.enabled:
        _warn_backcompat(a, b)
    return out if out is not None else cls._make(r)


def _binary_(ufunc, kernels, threshold, self, b, op):
    """In place: ``self = ufunc(self, b)``."""
    a = self._a
    if a.size >= threshold and a.flags.c_contiguous:
        cls = type(self)
        k = kernels.get(cls)
        if k is not None:
            kb = _kernel_operand(cls, a, b)
            if kb is not None and (kb.size == 1 or kb is a or not np.may_share_memory(a, kb)):
                k(a, kb, a, _nthreads())
                return self
            loop = getattr(k, "__self__", None)
            if (type(loop) is _k.Loop and type(b) is _ndarray and b.dtype == a.dtype
                    and _broadcastable(b.shape, a.shape) and not np.may_share_memory(a, b)
                    and loop.broadcast(a, np.broadcast_to(b, a.shape), a, _nthreads())):
                if _bc_warning.enabled:
                    _warn_backcompat(a, b)
                return self
    return apply_binary_(ufunc, self, b, op)


# ---------------------------------------------------------------------- integer-aware division

def _check_divisor(b, op):
    if b == 0 if isinstance(b, numbers.Number) else (b == 0).any():
        raise ZeroDivisionError("{}(): integer division by zero".format(op))


def _int_div(a, b, op="div"):
    """C division of integers: truncation toward zero (NumPy's // floors)."""
    _check_divisor(b, op)
    q = np.floor_divide(a, b)
    return q + ((q < 0) & (q * b != a))  # a negative inexact quotient was floored: step back to zero


def _int_fmod(a, b, op="fmod"):
    _check_divisor(b, op)
    return np.fmod(a, b)


def _int_remainder(a, b, op="remainder"):
    _check_divisor(b, op)
    return np.remainder(a, b)


def _float_remainder(a, b, out=None, order="C"):
    # TH: a - b * floor(a / b) (the sign of the divisor; NaN for b == 0)
    if type(a) is not _ndarray:  # device arrays: CuPy takes no order=
        q = np.floor(np.true_divide(a, b))
        q *= b
        return np.subtract(a, q, out=out)
    q = np.floor(np.true_divide(a, b, order=order))
    q *= b
    return np.subtract(a, q, out=out, order=order)


def _int_kernel_div(cls, a, b, out, op):
    """Integer division through the threaded kernel when the shapes allow; None otherwise."""
    if a.size < _TYPED or not a.flags.c_contiguous or cls._xp is not np:
        return None
    kb = _kernel_operand(cls, a, b)
    if kb is None:
        return None
    r = _dest(cls, a, out, op, kb)
    if r is None:
        return None
    if not _k.int_div(a, kb, r, _nthreads()):
        raise ZeroDivisionError("{}(): integer division by zero".format(op))
    return r


# ---------------------------------------------------------------------- arithmetic

_ADD = _binary_loops(_np_add, _FLOATS + _INTS)
_SUB = _binary_loops(_np_sub, _FLOATS + _INTS)
_MUL = _binary_loops(_np_mul, _FLOATS + _INTS)
_DIV, _FMOD = _binary_loops(np.true_divide), _binary_loops(np.fmod)
_FMOD[FloatTensor] = _k.fmod  # exact, by way of double: libm's fmodf loops over the exponent difference
_POW, _ATAN2 = _binary_loops(np.power), _binary_loops(np.arctan2)
_REMAINDER = _typed(_k.remainder)


def _alias(op, name, **given):
    """The argument passed under one of 0.2's alternative keyword names (``mul(other=t)``)."""
    present = [(k, v) for k, v in given.items() if v is not None]
    if len(present) != 1:
        raise TypeError("{}() missing required argument '{}'".format(op, name) if not present else
                        "{}() got several values for '{}': {}".format(op, name, ", ".join(k for k, _ in present)))
    return present[0][1]


def _binary_value_other(self, value, other, op):
    """0.2's (value) | (value=1, other) overloads of add/sub: the array or number to combine."""
    if other is None:
        return operand(self, value, op)
    b = tensor_operand(self, other, op)
    v = _scalar_for(type(self), value, op)
    return b if v == 1 else b * type(self)._dtype.type(v)


def _axpy(self, value, other, out, op, sign=1):
    """TH's ``self + value * other`` (sub: ``- value``) in one threaded pass into ``out`` (self: in place)
    for float tensors of one shape, or None when that does not apply."""
    if other is None or type(self) not in _FLOATS or self._a.size < _CHEAP:
        return None
    return _fused(_k.axpy, self, (tensor_operand(self, other, op),),
                  sign * float(_scalar_for(type(self), value, op)), out, op)


@both
def add(input, value=1, other=None, out=None):
    if not isinstance(input, _TensorBase):
        raise _not_tensor("add", input)
    r = _axpy(input, value, other, out, "add")
    if r is not None:
        return r
    return _binary(_np_add, _ADD, _CHEAP, input, _binary_value_other(input, value, other, "add"), out, "add")


@tensor_method
def add_(self, value=1, other=None):
    if _axpy(self, value, other, self, "add_") is not None:
        return self
    return _binary_(_np_add, _ADD, _CHEAP, self, _binary_value_other(self, value, other, "add_"), "add_")


@tensor_method
def sub(self, value=1, other=None, out=None):
    r = _axpy(self, value, other, out, "sub", -1)
    if r is not None:
        return r
    return _binary(_np_sub, _SUB, _CHEAP, self, _binary_value_other(self, value, other, "sub"), out, "sub")


@tensor_method
def sub_(self, value=1, other=None):
    if _axpy(self, value, other, self, "sub_", -1) is not None:
        return self
    return _binary_(_np_sub, _SUB, _CHEAP, self, _binary_value_other(self, value, other, "sub_"), "sub_")


@both
def mul(input, value=None, out=None, other=None):
    if not isinstance(input, _TensorBase):
        raise _not_tensor("mul", input)
    if value is None or other is not None:
        value = _alias("mul", "value", value=value, other=other)
    return _binary(_np_mul, _MUL, _CHEAP, input, operand(input, value, "mul"), out, "mul")


@tensor_method
def mul_(self, value=None, other=None):
    if value is None or other is not None:
        value = _alias("mul_", "value", value=value, other=other)
    return _binary_(_np_mul, _MUL, _CHEAP, self, operand(self, value, "mul_"), "mul_")


@both
def div(input, value=None, out=None, other=None):
    if not isinstance(input, _TensorBase):
        raise _not_tensor("div", input)
    if value is None or other is not None:
        value = _alias("div", "value", value=value, other=other)
    cls = type(input)
    b = operand(input, value, "div")
    if cls._is_floating:
        return _binary(np.true_divide, _DIV, _CHEAP, input, b, out, "div")
    r = _int_kernel_div(cls, input._a, b, out, "div")
    if r is not None:
        return out if out is not None else cls._make(r)
    return finish(cls, _int_binary(_int_div, input, b, "div"), out, "div")


@tensor_method
def div_(self, value=None, other=None):
    if value is None or other is not None:
        value = _alias("div_", "value", value=value, other=other)
    cls = type(self)
    b = operand(self, value, "div_")
    if cls._is_floating:
        return _binary_(np.true_divide, _DIV, _CHEAP, self, b, "div_")
    if _int_kernel_div(cls, self._a, b, self, "div_") is not None:
        return self
    return _int_inplace(_int_div, self, b, "div_")


def _match(a, b, op):
    """``b`` ready to combine with array ``a``: as is when broadcastable, else 0.2's equal-numel fallback."""
    if is_array(b) and a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            return fallback_operand(a, b, op)
    return b


def _int_binary(fn, self, b, op):
    a = self._a
    return fn(a, _match(a, b, op), op)


def _int_inplace(fn, self, b, op):
    a = self._a
    r = _int_binary(fn, self, b, op)
    if r.shape != a.shape:
        raise RuntimeError("{}: in-place operation can't change the size of self {} to broadcast with {}"
                           .format(op, _fmt_size(a.shape), _fmt_size(b.shape)))
    a[...] = r
    return self


def _make_divlike(name, float_fn, kernels, threshold, int_fn):
    def f(input, divisor=None, out=None, value=None, other=None):
        if not isinstance(input, _TensorBase):
            raise _not_tensor(name, input)
        if divisor is None or value is not None or other is not None:
            divisor = _alias(name, "divisor", divisor=divisor, value=value, other=other)
        cls = type(input)
        b = operand(input, divisor, name)
        if cls._is_floating:
            return _binary(float_fn, kernels, threshold, input, b, out, name)
        return finish(cls, _int_binary(int_fn, input, b, name), out, name)

    def f_(self, divisor=None, value=None, other=None):
        if divisor is None or value is not None or other is not None:
            divisor = _alias(name + "_", "divisor", divisor=divisor, value=value, other=other)
        cls = type(self)
        b = operand(self, divisor, name + "_")
        if cls._is_floating:
            return _binary_(float_fn, kernels, threshold, self, b, name + "_")
        return _int_inplace(int_fn, self, b, name + "_")

    f.__name__, f_.__name__ = name, name + "_"
    f.__qualname__, f_.__qualname__ = name, name + "_"
    both(f)
    tensor_method(f_)
    return f, f_


fmod, fmod_ = _make_divlike("fmod", np.fmod, _FMOD, _MATH, _int_fmod)
remainder, remainder_ = _make_divlike("remainder", _float_remainder, _REMAINDER, _TYPED, _int_remainder)


def _exponent(self, exponent, op):
    cls = type(self)
    if isinstance(exponent, _TensorBase):
        e = tensor_operand(self, exponent, op, "exponent")
        if not cls._is_floating and (e < 0).any():
            raise RuntimeError("{}(): integers to negative integer powers are not allowed".format(op))
        return e
    e = _scalar_for(cls, exponent, op)
    if not cls._is_floating and e < 0:
        raise RuntimeError("{}(): integers to negative integer powers are not allowed (exponent {})".format(op, e))
    return e


@both
def pow(input, exponent=None, out=None, base=None):
    """``pow(input, exponent)``, or ``pow(base:float, input)`` / ``input.pow(base=b)``: ``base ** input``."""
    if not isinstance(input, _TensorBase):  # pow(base, input)
        return _rpow(input, exponent, out)
    if base is not None:
        if exponent is not None:
            raise TypeError("pow() got both an exponent and a base")
        return _rpow(base, input, out)
    if exponent is None:
        raise TypeError("pow() missing required argument 'exponent'")
    e = _exponent(input, exponent, "pow")
    if isinstance(exponent, _TensorBase) or not _special_pow(type(input), e):
        return _binary(np.power, _POW, _MATH, input, e, out, "pow")
    if e == 1:
        return finish(type(input), input._a.copy(), out, "pow")
    if e == 0.5:
        return sqrt(input, out=out)
    if e == -0.5:
        return rsqrt(input, out=out)
    if e == -1:
        return reciprocal(input, out=out)
    if e == 2:
        return mul(input, input, out=out)
    r = mul(input, input)
    if e == 3:
        mul_(r, input)  # in place: one result array, as TH's one pass
    else:  # -2
        reciprocal_(r)
    return r if out is None else finish(type(input), r._a, out, "pow")


@tensor_method
def pow_(self, exponent):
    e = _exponent(self, exponent, "pow_")
    if isinstance(exponent, _TensorBase) or not _special_pow(type(self), e):
        return _binary_(np.power, _POW, _MATH, self, e, "pow_")
    if e == 0.5:
        return sqrt_(self)
    if e == -0.5:
        return rsqrt_(self)
    if e == -1:
        return reciprocal_(self)
    if e == 3:
        return mul_(self, mul(self, self))  # x * (x * x): products commute exactly
    if e != 1:
        mul_(self, self)
    if e == -2:
        reciprocal_(self)
    return self


def _special_pow(cls, e):
    """Whether TH's pow special-cases exponent ``e`` for ``cls``: 1, 2 and 3 for every type (products),
    0.5, -0.5, -1 and -2 for floating types (sqrt, rsqrt, reciprocals). 0.2 computed those so, and so does
    later PyTorch: sqrt(-0) is -0 where pow(-0, 0.5) is +0, x*x*x may round otherwise than pow(x, 3), and
    each runs several times faster than pow()."""
    return e in (1, 2, 3) or (cls._is_floating and e in (0.5, -0.5, -1, -2))


def _rpow(base, t, out=None):
    if not isinstance(t, _TensorBase):
        raise TypeError("pow(): expected a tensor argument, got {} and {}".format(_typename_of(base), _typename_of(t)))
    cls = type(t)
    b = _scalar_for(cls, base, "pow")
    a = t._a
    if not cls._is_floating and (a < 0).any():
        raise RuntimeError("pow(): integers to negative integer powers are not allowed")
    k = _POW.get(cls)
    if k is not None and a.size >= _MATH and a.flags.c_contiguous:
        r = _dest(cls, a, out, "pow")
        if r is not None:
            k(np.array((b,), cls._dtype), a, r, _nthreads())
            return out if out is not None else cls._make(r)
    xp = cls._xp
    return finish(cls, xp.power(xp.asarray(b, dtype=cls._dtype), a), out, "pow")


@both
def atan2(input, other, out=None):
    if not isinstance(input, _TensorBase):
        raise _not_tensor("atan2", input)
    require_float(input, "atan2")
    return _binary(np.arctan2, _ATAN2, _MATH, input, tensor_operand(input, other, "atan2"), out, "atan2")


@tensor_method
def atan2_(self, other):
    require_float(self, "atan2_")
    return _binary_(np.arctan2, _ATAN2, _MATH, self, tensor_operand(self, other, "atan2_"), "atan2_")


def _fused(kernel, self, operands, value, out, op):
    """``kernel(self, *operands, value, r, nthreads)`` (addcmul, addcdiv, lerp, axpy: one threaded pass)
    into ``out`` (self: in place) or a new tensor; None when the kernels do not take these arrays."""
    r = _fused_dest(type(self), self._a, operands, out, op)
    if r is None:
        return None
    kernel(self._a, *operands, float(value), r, _nthreads())
    return out if out is not None else type(self)._make(r)


def _fused_dest(cls, x, operands, out, op):
    """The array the one-pass kernels write into, or None when NumPy computes the op: they take
    C-contiguous float arrays of one shape, above the size threshold; an ``out`` that overlaps an operand
    other than exactly goes through NumPy."""
    if cls not in _FLOATS or x.size < _CHEAP or not x.flags.c_contiguous:
        return None
    for t in operands:
        if type(t) is not _ndarray or t.dtype != x.dtype or t.shape != x.shape or not t.flags.c_contiguous:
            return None
    r = _dest(cls, x, out, op)
    if r is None:
        return None
    for t in operands:
        if t is not r and np.may_share_memory(r, t):
            return None
    return r


def _lerp_args(self, end, weight, op):
    if not isinstance(self, _TensorBase):
        raise _not_tensor(op, self)
    require_float(self, op)
    return tensor_operand(self, end, op, "end"), _scalar_for(type(self), weight, op)


def _lerp_step(self, end, w, op):
    """TH's lerp is ``start + weight * (end - start)``: this is the second term."""
    d = apply_binary(_np_sub, end, self._a, op)
    d *= w
    return d


@both
def lerp(input, end, weight, out=None):
    e, w = _lerp_args(input, end, weight, "lerp")
    r = _fused(_k.lerp, input, (e,), w, out, "lerp")
    if r is not None:
        return r
    return finish(type(input), apply_binary(_np_add, input, _lerp_step(input, end, w, "lerp"), "lerp"), out,
                  "lerp")


@tensor_method
def lerp_(self, end, weight):
    e, w = _lerp_args(self, end, weight, "lerp_")
    if _fused(_k.lerp, self, (e,), w, self, "lerp_") is not None:
        return self
    return apply_binary_(_np_add, self, _lerp_step(self, end, w, "lerp_"), "lerp_")


def _addc_args(self, value, tensor1, tensor2, op):
    if not isinstance(self, _TensorBase):
        raise _not_tensor(op, self)
    if tensor2 is None:  # (tensor1, tensor2) with value defaulted
        value, tensor1, tensor2 = 1, value, tensor1
    t1 = tensor_operand(self, tensor1, op, "tensor1")
    t2 = tensor_operand(self, tensor2, op, "tensor2")
    return _scalar_for(type(self), value, op), t1, t2


def _product(v, t1, t2):
    """TH's ``value * tensor1 * tensor2``, left to right, the value in the tensors' type."""
    return t1 * t2 if v == 1 else (t1 * t1.dtype.type(v)) * t2


@both
def addcmul(input, value=1, tensor1=None, tensor2=None, out=None):
    v, t1, t2 = _addc_args(input, value, tensor1, tensor2, "addcmul")
    r = _fused(_k.addcmul, input, (t1, t2), v, out, "addcmul")
    if r is not None:
        return r
    prod = _product(v, t1, _match(t1, t2, "addcmul"))
    return finish(type(input), apply_binary(_np_add, input, prod, "addcmul"), out, "addcmul")


@tensor_method
def addcmul_(self, value=1, tensor1=None, tensor2=None):
    v, t1, t2 = _addc_args(self, value, tensor1, tensor2, "addcmul_")
    if _fused(_k.addcmul, self, (t1, t2), v, self, "addcmul_") is not None:
        return self
    prod = _product(v, t1, _match(t1, t2, "addcmul_"))
    return apply_binary_(_np_add, self, prod, "addcmul_")


def _quotient(self, v, t1, t2, op):
    """TH's ``value * tensor1 / tensor2``, left to right: integers divide as C does, after the product
    (computed in 64 bits for the narrow types, which C promotes to int)."""
    cls = type(self)
    t2 = _match(t1, t2, op)
    if cls._is_floating:
        return (t1 if v == 1 else t1 * t1.dtype.type(v)) / t2
    wide = np.dtype(np.int64) if cls._dtype.itemsize < 4 else cls._dtype
    num = t1.astype(wide)
    if v != 1:
        num *= v
    return _int_div(num, t2.astype(wide, copy=False), op).astype(cls._dtype, copy=False)


@both
def addcdiv(input, value=1, tensor1=None, tensor2=None, out=None):
    v, t1, t2 = _addc_args(input, value, tensor1, tensor2, "addcdiv")
    r = _fused(_k.addcdiv, input, (t1, t2), v, out, "addcdiv")
    if r is not None:
        return r
    return finish(type(input), apply_binary(_np_add, input, _quotient(input, v, t1, t2, "addcdiv"), "addcdiv"),
                  out, "addcdiv")


@tensor_method
def addcdiv_(self, value=1, tensor1=None, tensor2=None):
    v, t1, t2 = _addc_args(self, value, tensor1, tensor2, "addcdiv_")
    if _fused(_k.addcdiv, self, (t1, t2), v, self, "addcdiv_") is not None:
        return self
    return apply_binary_(_np_add, self, _quotient(self, v, t1, t2, "addcdiv_"), "addcdiv_")


# ---------------------------------------------------------------------- unary functions

def _round_half_away(x, out=None):
    # C's round(): halves away from zero (NumPy's rint rounds them to even)
    t = np.trunc(x)
    step = np.abs(np.subtract(x, t)) >= 0.5
    return np.add(t, np.copysign(step, x, dtype=x.dtype), out=out)


def _frac(x, out=None):
    return np.subtract(x, np.trunc(x), out=out)


def _rsqrt(x, out=None):
    r = np.sqrt(x, out=out)
    return np.reciprocal(r, out=r)


def _sign(x, out=None):
    if x.dtype.kind == "f":  # TH: (x > 0) - (x < 0), so sign(nan) is 0
        return np.subtract(x > 0, x < 0, out=out, dtype=x.dtype)
    return np.sign(x, out=out)


def _keep_dtype(name):
    """The scipy.special ufunc ``name``, keeping the input's dtype (it has no float16 loop); on device arrays,
    CuPy's twin from cupyx.scipy.special."""
    host = []  # the SciPy ufunc, once imported

    def g(x, out=None):
        if type(x) is not _ndarray:
            from ember import _backend
            dev = getattr(_backend.special(), name)
            if x.dtype == np.float16:
                r = dev(x.astype(np.float32)).astype(np.float16)
                if out is None:
                    return r
                out[...] = r
                return out
            return dev(x) if out is None else dev(x, out=out)
        if not host:
            host.append(_scipy_special(name))
        fn = host[0]
        if out is None and x.dtype == np.float16:
            return fn(x).astype(np.float16)
        return fn(x, out=out)
    return g


_gammaln = _keep_dtype("gammaln")


def _lgamma(x, out=None):
    """The lgamma kernel at every size: floats through a formula in double (within an ulp of the correctly
    rounded value, where 0.2's glibc lgammaf is within 4), doubles C's lgamma (0.2's), float16 through
    float32; device arrays: cupyx's gammaln."""
    if type(x) is not _ndarray:
        return _gammaln(x, out)
    src = x if x.dtype != np.float16 else x.astype(np.float32)
    src = src if src.flags.c_contiguous else np.ascontiguousarray(src)
    r = np.empty(src.shape, src.dtype)
    _k.lgamma(src, r, 1 if r.size < _LGAMMA_THREADED else _nthreads())
    r = r if x.dtype != np.float16 else r.astype(np.float16)
    if out is None:
        return r
    np.copyto(out, r)
    return out


_LGAMMA_THREADED = 1 << 11  # 3-20 ns an element: threads pay off early


_UNARY = (  # name, NumPy form f(x, out=None), floating types only, {class: threaded kernel}, threshold
    ("abs", np.absolute, False, _unary_loops(np.absolute, _FLOATS + _INTS), _CHEAP),
    ("neg", np.negative, False, _unary_loops(np.negative, _FLOATS + _INTS), _CHEAP),
    ("sign", _sign, False, _typed(_k.sign), _TYPED),
    ("ceil", np.ceil, True, _unary_loops(np.ceil), _CHEAP),
    ("floor", np.floor, True, _unary_loops(np.floor), _CHEAP),
    ("trunc", np.trunc, True, _unary_loops(np.trunc), _CHEAP),
    ("reciprocal", np.reciprocal, True, _unary_loops(np.reciprocal), _CHEAP),
    ("round", _round_half_away, True, _typed(_k.round_), _TYPED),
    ("frac", _frac, True, _typed(_k.frac), _TYPED),
    ("rsqrt", _rsqrt, True, _typed(_k.rsqrt), _TYPED),
    ("sigmoid", _keep_dtype("expit"), True, _typed(_k.sigmoid), _TYPED),
    ("lgamma", _lgamma, True, _typed(_k.lgamma), _TYPED),
    ("exp", np.exp, True, _unary_loops(np.exp), _MATH),
    ("log", np.log, True, _unary_loops(np.log), _MATH),
    ("log1p", np.log1p, True, _unary_loops(np.log1p), _MATH),
    ("sqrt", np.sqrt, True, _unary_loops(np.sqrt), _MATH),
    ("sin", np.sin, True, _unary_loops(np.sin), _MATH),
    ("cos", np.cos, True, _unary_loops(np.cos), _MATH),
    ("tan", np.tan, True, _unary_loops(np.tan), _MATH),
    ("asin", np.arcsin, True, _unary_loops(np.arcsin), _MATH),
    ("acos", np.arccos, True, _unary_loops(np.arccos), _MATH),
    ("atan", np.arctan, True, _unary_loops(np.arctan), _MATH),
    ("sinh", np.sinh, True, _unary_loops(np.sinh), _MATH),
    ("cosh", np.cosh, True, _unary_loops(np.cosh), _MATH),
    ("tanh", np.tanh, True, _unary_loops(np.tanh), _MATH),
)


def _make_unary(name, fn, floating_only, kernels, threshold):
    multipass = threshold == _TYPED  # the typed kernels, whose NumPy forms take several passes

    def f(input, out=None):
        try:
            a = input._a
        except AttributeError:
            raise _not_tensor(name, input) from None
        cls = type(input)
        if floating_only and not cls._is_floating:
            require_float(input, name)
        if a.size >= threshold:
            k = kernels.get(cls)
            if k is not None and a.flags.c_contiguous:
                r = _dest(cls, a, out, name)
                if r is not None:
                    k(a, r, _nthreads())
                    return out if out is not None else cls._make(r)
            elif k is not None and multipass and out is None and type(a) is _ndarray:
                # a view: a C-ordered copy, then the kernel in place on it (the NumPy form's passes over a
                # view cost 6x that: sigmoid of a narrowed half, as in glu)
                r = _c_order(a, np)
                k(r, r, _nthreads())
                return cls._make(r)
        r = fn(a)
        if out is None:
            t = _new(cls)
            t._a = r if r.flags.c_contiguous else cls._xp.ascontiguousarray(r)
            t._s = None
            return t
        return write_out(out, cls, r, name)

    def f_(self):
        cls = type(self)
        if floating_only and not cls._is_floating:
            require_float(self, name + "_")
        a = self._a
        if a.size >= threshold:
            k = kernels.get(cls)
            if k is not None and a.flags.c_contiguous:
                k(a, a, _nthreads())
                return self
        fn(a, out=a)
        return self

    f.__name__, f_.__name__ = name, name + "_"
    f.__qualname__, f_.__qualname__ = name, name + "_"
    both(f)
    tensor_method(f_)
    globals()[name], globals()[name + "_"] = f, f_


for _spec in _UNARY:
    _make_unary(*_spec)
del _spec


# ---------------------------------------------------------------------- clamp

def _clamp_bounds(self, min, max, op):
    if not isinstance(self, _TensorBase):
        raise _not_tensor(op, self)
    if min is None and max is None:
        raise TypeError("{}() received an invalid combination of arguments - got no bounds, but expected one of:\n"
                        " * (float min, float max)\n * (*, float min)\n * (*, float max)\n".format(op))
    cls = type(self)
    if cls._is_floating and type(min) is float and type(max) is float:
        return min, max
    lo = None if min is None else _scalar_for(cls, min, op)
    hi = None if max is None else _scalar_for(cls, max, op)
    return lo, hi


def _clamp_array(a, lo, hi, out=None):
    if lo is not None and lo != lo:  # a NaN bound is never true in TH's comparisons: it does nothing
        lo = None
    if hi is not None and hi != hi:
        hi = None
    if lo is None and hi is None:
        if out is None:
            return a.copy()
        np.copyto(out, a)
        return out
    if hi is None:
        return np.maximum(a, lo, out=out)
    if lo is None:
        return np.minimum(a, hi, out=out)
    if lo <= hi:  # then TH's formula is max-then-min (NaN passes through both)
        r = np.maximum(a, lo, out=out)
        return np.minimum(r, hi, out=r)
    below = a < lo  # TH with min > max: min below min, max elsewhere
    r = np.minimum(a, hi, out=out)
    r[below] = lo
    return r


def _clamp_kernel(a, r, lo, hi):
    _k.clamp(a, r, -math.inf if lo is None else lo, math.inf if hi is None else hi, _nthreads())


@both
def clamp(input, min=None, max=None, out=None):
    lo, hi = _clamp_bounds(input, min, max, "clamp")
    cls = type(input)
    a = input._a
    if a.size >= _TYPED and cls in _FLOATS and a.flags.c_contiguous:
        r = _dest(cls, a, out, "clamp")
        if r is not None:
            _clamp_kernel(a, r, lo, hi)
            return out if out is not None else cls._make(r)
    return finish(cls, _clamp_array(a, lo, hi), out, "clamp")


@tensor_method
def clamp_(self, min=None, max=None):
    lo, hi = _clamp_bounds(self, min, max, "clamp_")
    a = self._a
    if a.size >= _TYPED and type(self) in _FLOATS and a.flags.c_contiguous:
        _clamp_kernel(a, a, lo, hi)
    else:
        _clamp_array(a, lo, hi, out=a)
    return self


# ---------------------------------------------------------------------- bitwise (integer types)

def _make_bitwise(name, ufunc):
    shift = ufunc in (np.left_shift, np.right_shift)

    def op(self, other):
        cls = type(self)
        if not isinstance(other, (_TensorBase, numbers.Number)):
            return NotImplemented
        if cls._is_floating:
            if not shift:
                raise RuntimeError("{}: bitwise operations are only supported on integer tensors, got {}"
                                   .format(name, cls._typename))
            # TH shifts floats by multiplying or dividing by a power of two
            b = operand(self, other, name)
            scale = np.power(cls._dtype.type(2.0), b)
            return finish(cls, apply_binary(np.multiply if ufunc is np.left_shift else np.true_divide,
                                            self, scale, name), None, name)
        return finish(cls, apply_binary(ufunc, self, operand(self, other, name), name), None, name)

    def iop(self, other):
        cls = type(self)
        if not isinstance(other, (_TensorBase, numbers.Number)):
            return NotImplemented
        if cls._is_floating:
            r = op(self, other)._a
            if r.shape != self._a.shape:
                raise RuntimeError("{}: in-place operation can't change the size of self".format(name))
            self._a[...] = r
            return self
        return apply_binary_(ufunc, self, operand(self, other, name), name)

    op.__name__ = "__{}__".format(name)
    iop.__name__ = "__i{}__".format(name)
    tensor_method(op)
    tensor_method(iop)


for _n, _u in (("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
               ("lshift", np.left_shift), ("rshift", np.right_shift)):
    _make_bitwise(_n, _u)
del _n, _u


# ---------------------------------------------------------------------- Python operators

def _fast_binary(ufunc, kernels, name):
    """The operator form of add/mul/sub: a same-type tensor or a number, with the shortest path for
    small tensors (one NumPy call)."""
    def op(self, other):
        cls = type(self)
        a = self._a
        if type(other) is cls:
            b = other._a
            if a.size >= _CHEAP or cls.is_cuda:
                return _binary(ufunc, kernels, _CHEAP, self, b, None, name)
            try:
                r = ufunc(a, b, order="C")
            except ValueError:
                r = ufunc(a, fallback_operand(a, b, name), order="C")
            else:
                if b.shape != a.shape and _bc_warning.enabled:
                    _warn_backcompat(a, b)
        elif isinstance(other, numbers.Number):
            v = other if type(other) is float and cls._is_floating else _scalar_for(cls, other, name)
            if a.size >= _CHEAP or cls.is_cuda:
                return _binary(ufunc, kernels, _CHEAP, self, v, None, name)
            r = ufunc(a, v, order="C")
        elif isinstance(other, _TensorBase):
            raise type_error(name, self, other)
        else:
            return NotImplemented
        t = _new(cls)
        t._a = r
        t._s = None
        return t
    op.__name__ = name
    return op


_TensorBase.__add__ = _TensorBase.__radd__ = _fast_binary(_np_add, _ADD, "add")
_TensorBase.__mul__ = _TensorBase.__rmul__ = _fast_binary(_np_mul, _MUL, "mul")
_TensorBase.__sub__ = _fast_binary(_np_sub, _SUB, "sub")


def _iop(method):
    def iop(self, other):
        if not isinstance(other, (_TensorBase, numbers.Number)):
            return NotImplemented
        return method(self, other)
    return iop


_TensorBase.__iadd__ = _iop(add_)
_TensorBase.__isub__ = _iop(sub_)
_TensorBase.__imul__ = _iop(mul_)
_TensorBase.__itruediv__ = _TensorBase.__idiv__ = _iop(div_)
_TensorBase.__ipow__ = _iop(pow_)


_float_div = _fast_binary(np.true_divide, _DIV, "div")


def _truediv(self, other):
    if type(self)._is_floating:
        return _float_div(self, other)
    if not isinstance(other, (_TensorBase, numbers.Number)):
        return NotImplemented
    return div(self, other)


def _reflected(op, ufunc, kernels, threshold, int_fn=None):
    """``number <op> tensor`` (0.2 built a tensor filled with the number, then applied the op)."""
    def rop(self, other):
        if not isinstance(other, numbers.Number):
            return NotImplemented
        cls = type(self)
        v = _scalar_for(cls, other, op)
        a = self._a
        if int_fn is not None and not cls._is_floating:
            return finish(cls, int_fn(cls._dtype.type(v), a, op), None, op)
        k = kernels.get(cls)
        if k is not None and a.size >= threshold and a.flags.c_contiguous:
            r = np.empty(a.shape, cls._dtype)
            k(np.array((v,), cls._dtype), a, r, _nthreads())
            return cls._make(r)
        if cls.is_cuda:
            return finish(cls, ufunc(cls._dtype.type(v), a), None, op)
        return finish(cls, ufunc(cls._dtype.type(v), a, order="C"), None, op)
    return rop


def _pow_op(self, other):
    if not isinstance(other, (_TensorBase, numbers.Number)):
        return NotImplemented
    return pow(self, other)


def _rpow_op(self, other):
    if not isinstance(other, numbers.Number):
        return NotImplemented
    return _rpow(other, self)


def _mod(self, other):
    if not isinstance(other, (_TensorBase, numbers.Number)):
        return NotImplemented
    return remainder(self, other)


def _invert(self):
    if type(self)._typename.endswith("ByteTensor"):
        return finish(type(self), 1 - self._a, None, "__invert__")
    raise RuntimeError("logical operations are supported on ByteTensors only")


_TensorBase.__truediv__ = _TensorBase.__div__ = _truediv
_TensorBase.__rtruediv__ = _TensorBase.__rdiv__ = _reflected("div", np.true_divide, _DIV, _CHEAP, _int_div)
_TensorBase.__rsub__ = _reflected("sub", _np_sub, _SUB, _CHEAP)
_TensorBase.__pow__ = _pow_op
_TensorBase.__rpow__ = _rpow_op
_TensorBase.__mod__ = _mod
_TensorBase.__neg__ = globals()["neg"]
_TensorBase.__pos__ = lambda self: self
_TensorBase.__abs__ = globals()["abs"]
_TensorBase.__invert__ = _invert
