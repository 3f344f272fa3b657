"""Pointwise math: arithmetic, unary functions, clamp, lerp, addcmul/addcdiv, bitwise ops and the
Python operators. Integer division truncates (C semantics), as in 0.2."""
import numbers

import numpy as np
import scipy.special as _sp

from ember.tensor import _TensorBase, _new, _scalar_for, _typename_of
from . import both, tensor_method
from ._util import (apply_binary, apply_binary_, fallback_operand, finish, new_result, operand,
                    require_float, tensor_operand, write_out)

_np_add, _np_sub, _np_mul = np.add, np.subtract, np.multiply
_ndarray = np.ndarray


# ---------------------------------------------------------------------- integer-aware division

def _int_div(a, b):
    """C division: truncate toward zero; dividing by zero raises instead of crashing like TH did."""
    if (np.any(b == 0) if isinstance(b, _ndarray) else b == 0):
        raise ZeroDivisionError("div(): integer division by zero")
    q = np.floor_divide(a, b)
    adjust = (np.remainder(a, b) != 0) & ((np.sign(a) * np.sign(b)) < 0)
    return q + adjust.astype(q.dtype)


def _int_fmod(a, b):
    if (np.any(b == 0) if isinstance(b, _ndarray) else b == 0):
        raise ZeroDivisionError("fmod(): integer division by zero")
    return np.fmod(a, b)


def _int_remainder(a, b):
    if (np.any(b == 0) if isinstance(b, _ndarray) else b == 0):
        raise ZeroDivisionError("remainder(): integer division by zero")
    return np.remainder(a, b)


def _float_remainder(a, b, out=None, order="C"):
    # 0.2: a - b * floor(a / b) (the sign of the divisor)
    r = a - b * np.floor(a / b)
    if out is not None:
        out[...] = r
        return out
    return r


# ---------------------------------------------------------------------- arithmetic

def _binary_value_other(self, value, other, op):
    """0.2's (value) | (value=1, other) overloads of add/sub: returns the array or scalar to combine."""
    if other is None:
        return operand(self, value, op)
    b = tensor_operand(self, other, op)
    v = _scalar_for(type(self), value, op)
    return b if v == 1 else b * type(self)._dtype.type(v)


@both
def add(input, value=1, other=None, out=None):
    b = _binary_value_other(input, value, other, "add")
    return finish(type(input), apply_binary(_np_add, input, b, "add"), out, "add")


@tensor_method
def add_(self, value=1, other=None):
    return apply_binary_(_np_add, self, _binary_value_other(self, value, other, "add_"), "add_")


@tensor_method
def sub(self, value=1, other=None, out=None):
    b = _binary_value_other(self, value, other, "sub")
    return finish(type(self), apply_binary(_np_sub, self, b, "sub"), out, "sub")


@tensor_method
def sub_(self, value=1, other=None):
    return apply_binary_(_np_sub, self, _binary_value_other(self, value, other, "sub_"), "sub_")


@both
def mul(input, value, out=None):
    return finish(type(input), apply_binary(_np_mul, input, operand(input, value, "mul"), "mul"), out, "mul")


@tensor_method
def mul_(self, value):
    return apply_binary_(_np_mul, self, operand(self, value, "mul_"), "mul_")


@both
def div(input, value, out=None):
    cls = type(input)
    b = operand(input, value, "div")
    if cls._is_floating:
        r = apply_binary(np.true_divide, input, b, "div")
    else:
        r = _int_binary(_int_div, input, b, "div")
    return finish(cls, r, out, "div")


@tensor_method
def div_(self, value):
    cls = type(self)
    b = operand(self, value, "div_")
    if cls._is_floating:
        return apply_binary_(np.true_divide, self, b, "div_")
    return _int_inplace(_int_div, self, b, "div_")


def _int_binary(fn, self, b, op):
    a = self._a
    if isinstance(b, _ndarray) and a.shape != b.shape:
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            b = fallback_operand(a, b, op)
    return fn(a, b)


def _int_inplace(fn, self, b, op):
    a = self._a
    r = _int_binary(fn, self, b, op)
    if r.shape != a.shape:
        raise RuntimeError("{}: in-place operation can't change the size of self".format(op))
    a[...] = r
    return self


def _make_divlike(name, float_fn, int_fn):
    def f(input, divisor, out=None):
        cls = type(input)
        b = operand(input, divisor, name)
        if cls._is_floating:
            r = apply_binary(float_fn, input, b, name)
        else:
            r = _int_binary(int_fn, input, b, name)
        return finish(cls, r, out, name)

    def f_(self, divisor):
        cls = type(self)
        b = operand(self, divisor, name + "_")
        if cls._is_floating:
            return apply_binary_(float_fn, self, b, name + "_")
        return _int_inplace(int_fn, self, b, name + "_")

    f.__name__, f_.__name__ = name, name + "_"
    both(f)
    tensor_method(f_)
    return f, f_


fmod, fmod_ = _make_divlike("fmod", np.fmod, _int_fmod)
remainder, remainder_ = _make_divlike("remainder", _float_remainder, _int_remainder)


def _exponent(self, exponent, op):
    cls = type(self)
    if isinstance(exponent, _TensorBase):
        return tensor_operand(self, exponent, op, "exponent")
    e = _scalar_for(cls, exponent, op)
    if not cls._is_floating and e < 0:
        raise RuntimeError("{}(): integers to negative integer powers are not allowed (exponent {})".format(op, e))
    return e


@both
def pow(input, exponent, out=None):
    if not isinstance(input, _TensorBase):  # pow(base:float, input)
        return _rpow(input, exponent, out)
    return finish(type(input), apply_binary(np.power, input, _exponent(input, exponent, "pow"), "pow"), out, "pow")


@tensor_method
def pow_(self, exponent):
    return apply_binary_(np.power, self, _exponent(self, exponent, "pow_"), "pow_")


def _rpow(base, t, out=None):
    if not isinstance(t, _TensorBase):
        raise TypeError("pow(): expected a tensor argument, got {} and {}".format(_typename_of(base), _typename_of(t)))
    cls = type(t)
    b = _scalar_for(cls, base, "pow")
    xp = cls._xp
    return finish(cls, xp.power(xp.asarray(b, dtype=cls._dtype), t._a), out, "pow")


@both
def atan2(input, other, out=None):
    require_float(input, "atan2")
    return finish(type(input), apply_binary(np.arctan2, input, tensor_operand(input, other, "atan2"), "atan2"),
                  out, "atan2")


@tensor_method
def atan2_(self, other):
    require_float(self, "atan2_")
    return apply_binary_(np.arctan2, self, tensor_operand(self, other, "atan2_"), "atan2_")


def _lerp(self, end, weight, op):
    require_float(self, op)
    e = tensor_operand(self, end, op, "end")
    w = _scalar_for(type(self), weight, op)
    return e, w


@both
def lerp(input, end, weight, out=None):
    e, w = _lerp(input, end, weight, "lerp")
    a = input._a
    return finish(type(input), a + w * apply_binary(_np_sub, end, a, "lerp"), out, "lerp")


@tensor_method
def lerp_(self, end, weight):
    e, w = _lerp(self, end, weight, "lerp_")
    a = self._a
    a += w * (e - a)
    return self


def _addc_args(self, value, tensor1, tensor2, op):
    if tensor2 is None:  # (tensor1, tensor2) with value defaulted
        value, tensor1, tensor2 = 1, value, tensor1
    t1 = tensor_operand(self, tensor1, op, "tensor1")
    t2 = tensor_operand(self, tensor2, op, "tensor2")
    return _scalar_for(type(self), value, op), t1, t2


@both
def addcmul(input, value=1, tensor1=None, tensor2=None, out=None):
    v, t1, t2 = _addc_args(input, value, tensor1, tensor2, "addcmul")
    prod = t1 * t2
    return finish(type(input), apply_binary(_np_add, input, prod if v == 1 else prod * v, "addcmul"), out, "addcmul")


@tensor_method
def addcmul_(self, value=1, tensor1=None, tensor2=None):
    v, t1, t2 = _addc_args(self, value, tensor1, tensor2, "addcmul_")
    prod = t1 * t2
    return apply_binary_(_np_add, self, prod if v == 1 else prod * v, "addcmul_")


def _quotient(self, t1, t2, op):
    if type(self)._is_floating:
        return t1 / t2
    return _int_div(t1, t2)


@both
def addcdiv(input, value=1, tensor1=None, tensor2=None, out=None):
    v, t1, t2 = _addc_args(input, value, tensor1, tensor2, "addcdiv")
    q = _quotient(input, t1, t2, "addcdiv")
    return finish(type(input), apply_binary(_np_add, input, q if v == 1 else q * v, "addcdiv"), out, "addcdiv")


@tensor_method
def addcdiv_(self, value=1, tensor1=None, tensor2=None):
    v, t1, t2 = _addc_args(self, value, tensor1, tensor2, "addcdiv_")
    q = _quotient(self, t1, t2, "addcdiv_")
    return apply_binary_(_np_add, self, q if v == 1 else q * v, "addcdiv_")


# ---------------------------------------------------------------------- unary functions

def _round_half_away(x, out=None):
    # C's round(): halves away from zero (NumPy's rint rounds halves to even)
    t = np.trunc(x)
    r = t + np.copysign((np.abs(x - t) >= 0.5).astype(x.dtype), x)
    if out is not None:
        out[...] = r
        return out
    return r


def _frac(x, out=None):
    return np.subtract(x, np.trunc(x), out=out)


def _rsqrt(x, out=None):
    r = np.sqrt(x, out=out)
    return np.reciprocal(r, out=r)


def _reciprocal(x, out=None):
    return np.divide(1, x, out=out)


def _sign(x, out=None):
    return np.sign(x, out=out)


_UNARY_FLOAT = {  # name -> f(x, out=None); floating types only in 0.2
    "acos": np.arccos, "asin": np.arcsin, "atan": np.arctan, "ceil": np.ceil, "cos": np.cos, "cosh": np.cosh,
    "exp": np.exp, "floor": np.floor, "frac": _frac, "log": np.log, "log1p": np.log1p,
    "reciprocal": _reciprocal, "round": _round_half_away, "rsqrt": _rsqrt, "sigmoid": _sp.expit,
    "sin": np.sin, "sinh": np.sinh, "sqrt": np.sqrt, "tan": np.tan, "tanh": np.tanh, "trunc": np.trunc,
    "lgamma": _sp.gammaln,
}
_UNARY_ANY = {"abs": np.abs, "neg": np.negative, "sign": _sign}  # every type


def _make_unary(name, fn, floating_only):
    def f(input, out=None):
        cls = type(input)
        if floating_only and not cls._is_floating:
            require_float(input, name)
        a = input._a
        if out is None:
            r = fn(a)
            if not r.flags.c_contiguous:
                r = np.ascontiguousarray(r)
            t = _new(cls)
            t._a = r
            t._s = None
            return t
        return write_out(out, cls, fn(a), name)

    def f_(self):
        if floating_only and not type(self)._is_floating:
            require_float(self, name + "_")
        fn(self._a, out=self._a)
        return self

    f.__name__, f_.__name__ = name, name + "_"
    f.__qualname__, f_.__qualname__ = name, name + "_"
    both(f)
    tensor_method(f_)
    globals()[name], globals()[name + "_"] = f, f_


for _n, _f in _UNARY_FLOAT.items():
    _make_unary(_n, _f, True)
for _n, _f in _UNARY_ANY.items():
    _make_unary(_n, _f, False)
del _n, _f


# ---------------------------------------------------------------------- clamp

def _clamp_bounds(self, min, max, op):
    if min is None and max is None:
        raise TypeError("{}() received an invalid combination of arguments - got no bounds, but expected one of:\n"
                        " * (float min, float max)\n * (*, float min)\n * (*, float max)\n".format(op))
    cls = type(self)
    lo = None if min is None else _scalar_for(cls, min, op)
    hi = None if max is None else _scalar_for(cls, max, op)
    return lo, hi


def _clamp_array(a, lo, hi, out=None):
    if lo is not None and hi is not None:
        # TH clamps as (x < lo) ? lo : ((x > hi) ? hi : x), and lets NaN through
        return np.minimum(np.maximum(a, lo, out=out), hi, out=out if out is not None else None)
    if lo is not None:
        return np.maximum(a, lo, out=out)
    return np.minimum(a, hi, out=out)


@both
def clamp(input, min=None, max=None, out=None):
    lo, hi = _clamp_bounds(input, min, max, "clamp")
    return finish(type(input), _clamp_array(input._a, lo, hi), out, "clamp")


@tensor_method
def clamp_(self, min=None, max=None):
    lo, hi = _clamp_bounds(self, min, max, "clamp_")
    _clamp_array(self._a, lo, hi, out=self._a)
    return self


# ---------------------------------------------------------------------- bitwise (integer types)

def _make_bitwise(name, ufunc):
    def op(self, other):
        cls = type(self)
        if cls._is_floating and ufunc not in (np.left_shift, np.right_shift):
            raise TypeError("{}: bitwise operations are only supported on integer tensors, got {}"
                            .format(name, cls._typename))
        b = operand(self, other, name)
        if cls._is_floating:  # 0.2 shifts floats by multiplying with powers of two
            r = self._a * (2.0 ** b) if ufunc is np.left_shift else self._a / (2.0 ** b)
            return new_result(cls, r.astype(cls._dtype))
        return new_result(cls, apply_binary(ufunc, self, b, name))

    def iop(self, other):
        cls = type(self)
        b = operand(self, other, name)
        if cls._is_floating:
            self._a[...] = op(self, other)._a
            return self
        return apply_binary_(ufunc, self, b, name)

    op.__name__ = "__{}__".format(name)
    iop.__name__ = "__i{}__".format(name)
    tensor_method(op)
    tensor_method(iop)


for _n, _u in (("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
               ("lshift", np.left_shift), ("rshift", np.right_shift)):
    _make_bitwise(_n, _u)
del _n, _u


# ---------------------------------------------------------------------- Python operators

def _fast_binary(ufunc, name):
    """The operator form: a same-type tensor or a number, with the shortest path for the common case."""
    def op(self, other):
        cls = type(self)
        if type(other) is cls:
            a = self._a
            try:
                r = ufunc(a, other._a, order="C")
            except ValueError:
                r = ufunc(a, fallback_operand(a, other._a, name), order="C")
        elif isinstance(other, numbers.Number):
            r = ufunc(self._a, _scalar_for(cls, other, name), order="C")
        elif isinstance(other, _TensorBase):
            operand(self, other, name)  # raises the type-mixing error
        else:
            return NotImplemented
        t = _new(cls)
        t._a = r
        t._s = None
        return t
    op.__name__ = name
    return op


_TensorBase.__add__ = _TensorBase.__radd__ = _fast_binary(_np_add, "add")
_TensorBase.__mul__ = _TensorBase.__rmul__ = _fast_binary(_np_mul, "mul")
_TensorBase.__sub__ = _fast_binary(_np_sub, "sub")


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


def _truediv(self, other):
    if not isinstance(other, (_TensorBase, numbers.Number)):
        return NotImplemented
    return div(self, other)


def _rsub(self, other):
    if not isinstance(other, numbers.Number):
        return NotImplemented
    cls = type(self)
    return new_result(cls, np.subtract(_scalar_for(cls, other, "sub"), self._a, dtype=cls._dtype))


def _rdiv(self, other):
    if not isinstance(other, numbers.Number):
        return NotImplemented
    cls = type(self)
    v = _scalar_for(cls, other, "div")
    if cls._is_floating:
        return new_result(cls, np.true_divide(v, self._a, dtype=cls._dtype))
    return new_result(cls, _int_div(np.asarray(v, dtype=cls._dtype), self._a))


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


def _neg(self):
    return neg(self)


def _pos(self):
    return self


def _abs_op(self):
    return abs(self)


def _invert(self):
    if type(self)._typename.endswith("ByteTensor"):
        return new_result(type(self), (1 - self._a).astype(np.uint8))
    raise RuntimeError("logical operations are supported on ByteTensors only")


_TensorBase.__truediv__ = _TensorBase.__div__ = _truediv
_TensorBase.__rtruediv__ = _TensorBase.__rdiv__ = _rdiv
_TensorBase.__rsub__ = _rsub
_TensorBase.__pow__ = _pow_op
_TensorBase.__rpow__ = _rpow_op
_TensorBase.__mod__ = _mod
_TensorBase.__neg__ = _neg
_TensorBase.__pos__ = _pos
_TensorBase.__abs__ = _abs_op
_TensorBase.__invert__ = _invert
