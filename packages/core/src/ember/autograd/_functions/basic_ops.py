"""Arithmetic on Variables: add, sub, mul, div, pow, neg, their in-place forms and the Python operators.

Binary ops take a Variable or a number; a Variable of one tensor type with a Variable of another, or a
Variable with a plain tensor, raises TypeError (0.2 never mixed them). Broadcasting follows the tensor
layer; the backward sums the gradient back to each input's size.
"""
import math

from ember.tensor import _TensorBase, _typename_of
from .utils import (Function, Variable, _check_inplace, _inplace_result, _inplace_volatile, _node1, _node2,
                    _nograd, _number, _output, _save_output, both, method, sum_to)


def _bad_operand(op, other):
    kind = "a Tensor" if isinstance(other, _TensorBase) else _typename_of(other)
    return TypeError("{}() received an invalid combination of arguments - got ({}), but expected (Variable other) or "
                     "(float value); Variables and tensors can't be mixed: wrap the tensor in a Variable or use .data"
                     .format(op, kind))


def _shape(v):
    return v.data._a.shape


# ---------------------------------------------------------------------- nodes

class AddBackward(Function):
    __slots__ = ("a_shape", "b_shape", "alpha")

    def _apply(self, grads):
        g = grads[0]
        (fa, _), (fb, _) = self.next_functions
        ga = sum_to(g, self.a_shape) if fa is not None else None
        if fb is None:
            return (ga, None)
        gb = sum_to(g, self.b_shape)
        alpha = self.alpha
        return (ga, gb if alpha == 1 else gb * alpha)


class SubBackward(Function):
    __slots__ = ("a_shape", "b_shape", "alpha")

    def _apply(self, grads):
        g = grads[0]
        (fa, _), (fb, _) = self.next_functions
        ga = sum_to(g, self.a_shape) if fa is not None else None
        if fb is None:
            return (ga, None)
        gb = sum_to(g, self.b_shape)
        return (ga, -gb if self.alpha == 1 else gb * -self.alpha)


class IdentityBackward(Function):
    """Gradient passes through unchanged (x + c, x - c)."""
    __slots__ = ()

    def _apply(self, grads):
        return (grads[0],)


class NegBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        return (-grads[0],)


class MulBackward(Function):
    __slots__ = ("a_shape", "b_shape")

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        return (sum_to(g * b, self.a_shape) if fa is not None else None,
                sum_to(g * a, self.b_shape) if fb is not None else None)


class MulConstantBackward(Function):
    __slots__ = ("c",)

    def _apply(self, grads):
        return (grads[0] * self.c,)


class DivBackward(Function):
    __slots__ = ("a_shape", "b_shape")

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        ga = gb = None
        gdb = g / b
        if fa is not None:
            ga = sum_to(gdb, self.a_shape)
        if fb is not None:
            gb = sum_to(-gdb * a / b, self.b_shape)
        return (ga, gb)


class DivConstantBackward(Function):
    __slots__ = ("c",)

    def _apply(self, grads):
        return (grads[0] / self.c,)


class RDivConstantBackward(Function):
    """c / x."""
    __slots__ = ("c",)

    def _apply(self, grads):
        g = grads[0]
        x, = self._unpack(isinstance(g, Variable))
        return (-g * self.c / (x * x),)


class PowBackward(Function):
    __slots__ = ("a_shape", "b_shape")

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        ga = gb = None
        if fa is not None:
            ga = sum_to(g * b * a.pow(b - 1), self.a_shape)
        if fb is not None:
            gb = sum_to(g * a.pow(b) * a.log(), self.b_shape)
        return (ga, gb)


class PowConstantBackward(Function):
    """x ** c."""
    __slots__ = ("c",)

    def _apply(self, grads):
        g = grads[0]
        x, = self._unpack(isinstance(g, Variable))
        c = self.c
        if c == 0:
            return (g * 0,)
        if c == 2:
            return (g * x * 2,)
        return (g * x.pow(c - 1) * c,)


class RPowConstantBackward(Function):
    """c ** x, saving the output."""
    __slots__ = ("c",)

    def _apply(self, grads):
        g = grads[0]
        y, = self._unpack(isinstance(g, Variable))
        return (g * y * math.log(self.c),)


# ---------------------------------------------------------------------- out-of-place ops

def _binary_node(cls, self, other):
    fn = _node2(cls, self, other)
    if fn is None:
        return None
    fn.a_shape = _shape(self)
    fn.b_shape = _shape(other)
    return fn


def _of_variables(r, cls, self, other):
    """``r``, computed from two Variables, as the output of a ``cls`` node that saves both."""
    fn = _binary_node(cls, self, other)
    if fn is None:
        return _nograd(r, self, other)
    fn._save(self, other)
    return _output(r, fn)


def _of_constant(r, cls, self, c, save_input=False):
    """``r``, computed from a Variable and the number ``c``, as the output of a ``cls`` node."""
    fn = _node1(cls, self)
    if fn is None:
        return _nograd(r, self)
    fn.c = c
    if save_input:
        fn._save(self)
    return _output(r, fn)


@both
def add(self, value=1, other=None):
    """``self + value`` or ``self + value * other`` (value a number, other a Variable)."""
    if other is None:
        other, alpha = value, 1
    else:
        alpha = value
        if not _number(alpha):
            raise TypeError("add(): value must be a number, got {}".format(_typename_of(alpha)))
    if isinstance(other, Variable):
        r = self.data.add(alpha, other.data) if alpha != 1 else self.data + other.data
        fn = _binary_node(AddBackward, self, other)
        if fn is None:
            return _nograd(r, self, other)
        fn.alpha = alpha
        return _output(r, fn)
    if _number(other):
        r = self.data + other
        fn = _node1(IdentityBackward, self)
        return _nograd(r, self) if fn is None else _output(r, fn)
    raise _bad_operand("add", other)


@both
def sub(self, value=1, other=None):
    if other is None:
        other, alpha = value, 1
    else:
        alpha = value
        if not _number(alpha):
            raise TypeError("sub(): value must be a number, got {}".format(_typename_of(alpha)))
    if isinstance(other, Variable):
        r = self.data.sub(alpha, other.data) if alpha != 1 else self.data - other.data
        fn = _binary_node(SubBackward, self, other)
        if fn is None:
            return _nograd(r, self, other)
        fn.alpha = alpha
        return _output(r, fn)
    if _number(other):
        r = self.data - other
        fn = _node1(IdentityBackward, self)
        return _nograd(r, self) if fn is None else _output(r, fn)
    raise _bad_operand("sub", other)


@both
def mul(self, other):
    if isinstance(other, Variable):
        r = self.data * other.data
        fn = _node2(MulBackward, self, other)
        if fn is None:
            return _nograd(r, self, other)
        fn.a_shape = self.data._a.shape
        fn.b_shape = other.data._a.shape
        fn._saved = (self, other)
        fn._saved_versions = (self._vc[0], other._vc[0])
        return _output(r, fn)
    if _number(other):
        return _of_constant(self.data * other, MulConstantBackward, self, other)
    raise _bad_operand("mul", other)


@both
def div(self, other):
    if isinstance(other, Variable):
        return _of_variables(self.data.div(other.data), DivBackward, self, other)
    if _number(other):
        return _of_constant(self.data.div(other), DivConstantBackward, self, other)
    raise _bad_operand("div", other)


def _rdiv(self, other):
    if not _number(other):
        return NotImplemented
    return _of_constant(other / self.data, RDivConstantBackward, self, other, save_input=True)


def _rsub(self, other):
    if not _number(other):
        return NotImplemented
    r = other - self.data
    fn = _node1(NegBackward, self)
    return _nograd(r, self) if fn is None else _output(r, fn)


@both
def pow(self, exponent):
    """``self ** exponent`` (a number or a Variable); ``ember.pow(number, var)`` is ``number ** var``."""
    if not isinstance(self, Variable):  # ember.pow(base, var)
        if isinstance(exponent, Variable) and _number(self):
            return _rpow(exponent, self)
        raise _bad_operand("pow", self)
    if isinstance(exponent, Variable):
        return _of_variables(self.data.pow(exponent.data), PowBackward, self, exponent)
    if _number(exponent):
        return _of_constant(self.data.pow(exponent), PowConstantBackward, self, exponent, save_input=True)
    raise _bad_operand("pow", exponent)


def _rpow(self, base):
    if not _number(base):
        return NotImplemented
    r = self.data.new(self.data.size()).fill_(base).pow(self.data) if self.data.numel() else self.data.new()
    fn = _node1(RPowConstantBackward, self)
    if fn is None:
        return _nograd(r, self)
    fn.c = base
    out = _output(r, fn)
    _save_output(fn, out)
    return out


@both
def neg(self):
    r = -self.data
    fn = _node1(NegBackward, self)
    return _nograd(r, self) if fn is None else _output(r, fn)


# ---------------------------------------------------------------------- in-place ops

def _inplace_binary(self, other, op, cls, scalar_cls, tensor_op, scalar_op, alpha=1):
    """``self.<op>(other)`` in place: ``cls`` records a Variable operand (None: scalars only, as 0.2's
    mul_/div_), ``scalar_cls`` a number (None: Variables only)."""
    _check_inplace(self)
    if isinstance(other, Variable):
        if cls is None:
            raise RuntimeError("{} only supports scalar multiplication".format(op))
        old_shape = _shape(self)
        tensor_op(self.data, other.data)
        if _inplace_volatile(self, other):
            return _inplace_result(self, None)
        fn = _node2(cls, self, other)
        if fn is not None:
            fn.a_shape = old_shape
            fn.b_shape = _shape(other)
            fn.alpha = alpha
        return _inplace_result(self, fn)
    if _number(other) and scalar_op is not None:
        scalar_op(self.data, other)
        fn = None if self._volatile else _node1(scalar_cls, self)
        if fn is not None and scalar_cls is not IdentityBackward:
            fn.c = other
        return _inplace_result(self, fn)
    raise _bad_operand(op, other)


@method
def add_(self, value=1, other=None):
    if other is not None:
        return _inplace_binary(self, other, "add_", AddBackward, IdentityBackward,
                               lambda a, b: a.add_(value, b), None, alpha=value)
    return _inplace_binary(self, value, "add_", AddBackward, IdentityBackward, lambda a, b: a.add_(b),
                           lambda a, b: a.add_(b))


@method
def sub_(self, value=1, other=None):
    if other is not None:
        return _inplace_binary(self, other, "sub_", SubBackward, IdentityBackward,
                               lambda a, b: a.sub_(value, b), None, alpha=value)
    return _inplace_binary(self, value, "sub_", SubBackward, IdentityBackward, lambda a, b: a.sub_(b),
                           lambda a, b: a.sub_(b))


@method
def mul_(self, other):
    return _inplace_binary(self, other, "mul_", None, MulConstantBackward, None, lambda a, b: a.mul_(b))


@method
def div_(self, other):
    return _inplace_binary(self, other, "div_", None, DivConstantBackward, None, lambda a, b: a.div_(b))


@method
def neg_(self):
    _check_inplace(self)
    self.data.neg_()
    fn = None if self._volatile else _node1(NegBackward, self)
    return _inplace_result(self, fn)


@method
def pow_(self, exponent):
    from .pointwise import inplace_via_copy
    return inplace_via_copy(self, pow, exponent)


def _ipow(self, other):
    raise NotImplementedError("in-place pow not implemented")


# ---------------------------------------------------------------------- Python operators

def _op(f):
    """The operator form of ``f``: NotImplemented for foreign operands, TypeError for tensors."""
    def op(self, other):
        if isinstance(other, Variable) or _number(other):
            return f(self, other)
        if isinstance(other, _TensorBase):
            raise _bad_operand(f.__name__, other)
        return NotImplemented
    op.__name__ = f.__name__
    return op


Variable.__add__ = Variable.__radd__ = _op(add)
Variable.__mul__ = Variable.__rmul__ = _op(mul)
Variable.__sub__ = _op(sub)
Variable.__truediv__ = Variable.__div__ = _op(div)
Variable.__rtruediv__ = Variable.__rdiv__ = _rdiv
Variable.__rsub__ = _rsub
Variable.__pow__ = _op(pow)
Variable.__rpow__ = _rpow
Variable.__neg__ = neg
Variable.__pos__ = lambda self: self
Variable.__iadd__ = _op(add_)
Variable.__isub__ = _op(sub_)
Variable.__imul__ = _op(mul_)
Variable.__itruediv__ = Variable.__idiv__ = _op(div_)
Variable.__ipow__ = _ipow
