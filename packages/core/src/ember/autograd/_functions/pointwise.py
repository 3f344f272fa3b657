"""Pointwise functions on Variables: exp, log, tanh, sigmoid, trigonometry, abs, sqrt, clamp, atan2,
fmod, remainder, lerp, addcmul, addcdiv, elementwise max/min, and their in-place forms.

In-place forms whose gradient needs only the output (exp_, tanh_, sigmoid_, sqrt_, ...) or nothing
(floor_, sign_, ...) modify the data directly; the others first keep a copy of the old value (see
``inplace_via_copy``), which costs one copy but keeps every formula exact.
"""
import numpy as np

from ember import _backend
from ember.tensor import _typename_of
from .utils import (Function, Variable, undifferentiable, _check_inplace, _inplace_result, _node1, _node2,
                    _nodes, _nograd, _number, _output, _plain, _save_output, _SavedOutput, _new, both, method, sum_to)


class _UnaryBackward(Function):
    """grad_input = formula(grad, saved) where saved is the input or the output (per op)."""
    __slots__ = ()
    formula = None

    def _apply(self, grads):
        g = grads[0]
        s, = self._unpack(isinstance(g, Variable))
        return (type(self).formula(g, s),)


class _ZeroBackward(Function):
    """Piecewise-constant functions (floor, ceil, round, trunc, sign): zero gradient."""
    __slots__ = ()

    def _apply(self, grads):
        return (grads[0] * 0,)


class _PassBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        return (grads[0],)


def _digamma(x):
    """digamma of tensor ``x`` (the derivative of lgamma; not itself differentiable here)."""
    cls = type(x)
    if cls._xp is np:
        import scipy.special  # imported on first use: it is slow to import
        return cls._make(np.ascontiguousarray(scipy.special.psi(x._a)).astype(cls._dtype, copy=False))
    return cls._make(cls._xp.ascontiguousarray(_backend.special().digamma(x._a)).astype(cls._dtype, copy=False))


def _lgamma_grad(g, x):
    if isinstance(g, Variable):
        return g * undifferentiable(_digamma(x.data), (x,), "the derivative of digamma (lgamma's double "
                                    "backward) is not implemented")
    return g * _digamma(x)


# name: (formula(g, saved), saves) with saves 'in' (the input) or 'out' (the output)
_UNARY = {
    "exp": (lambda g, y: g * y, "out"),
    "log": (lambda g, x: g / x, "in"),
    "log1p": (lambda g, x: g / (x + 1), "in"),
    "tanh": (lambda g, y: g * (1 - y * y), "out"),
    "sigmoid": (lambda g, y: g * y * (1 - y), "out"),
    "sin": (lambda g, x: g * x.cos(), "in"),
    "cos": (lambda g, x: -g * x.sin(), "in"),
    "tan": (lambda g, y: g * (y * y + 1), "out"),
    "asin": (lambda g, x: g * (1 - x * x).rsqrt(), "in"),
    "acos": (lambda g, x: -g * (1 - x * x).rsqrt(), "in"),
    "atan": (lambda g, x: g / (x * x + 1), "in"),
    "sinh": (lambda g, x: g * x.cosh(), "in"),
    "cosh": (lambda g, x: g * x.sinh(), "in"),
    "abs": (lambda g, x: g * x.sign(), "in"),
    "sqrt": (lambda g, y: g / (y * 2), "out"),
    "rsqrt": (lambda g, y: g * (y * y * y) * -0.5, "out"),
    "reciprocal": (lambda g, y: -g * (y * y), "out"),
    "lgamma": (_lgamma_grad, "in"),
}
_ZERO_GRAD = ("floor", "ceil", "round", "trunc", "sign")
def _make_unary(name, formula, saves):
    cls = type(name.capitalize() + "Backward", (_UnaryBackward,), {"__slots__": (), "formula": staticmethod(formula)})

    def f(self):
        r = getattr(self.data, name)()
        fn = _node1(cls, self)
        if fn is None:
            return _nograd(r, self)
        if saves == "in":
            fn._saved = (self,)
            fn._saved_versions = (self._vc[0],)
            return _output(r, fn)
        out = _output(r, fn)
        fn._saved = (_SavedOutput(r, out._vc, 0),)
        fn._saved_versions = (0,)
        return out
    f.__name__ = f.__qualname__ = name
    both(f)

    if saves == "out":
        def f_(self):
            _check_inplace(self)
            fn = None if self._volatile else _node1(cls, self)
            getattr(self.data, name + "_")()
            _inplace_result(self, fn)
            if fn is not None:
                _save_output(fn, self)
            return self
    else:
        def f_(self):
            return inplace_via_copy(self, f)
    f_.__name__ = f_.__qualname__ = name + "_"
    method(f_)
    return f


def _make_constant(name, cls):
    def f(self):
        r = getattr(self.data, name)()
        fn = _node1(cls, self)
        return _nograd(r, self) if fn is None else _output(r, fn)

    def f_(self):
        _check_inplace(self)
        fn = None if self._volatile else _node1(cls, self)
        getattr(self.data, name + "_")()
        return _inplace_result(self, fn)
    f.__name__ = f.__qualname__ = name
    f_.__name__ = f_.__qualname__ = name + "_"
    both(f)
    method(f_)


for _n, (_f, _s) in _UNARY.items():
    _make_unary(_n, _f, _s)
for _n in _ZERO_GRAD:
    _make_constant(_n, _ZeroBackward)
_make_constant("frac", _PassBackward)
del _n, _f, _s


def inplace_via_copy(self, op, *args, **kwargs):
    """Run ``self.<op>_(*args)`` as ``op(snapshot of self, *args)`` written back into self.data: the
    graph node then saves the snapshot, which later writes to self cannot invalidate."""
    _check_inplace(self)
    snap = _new(Variable)
    snap.data = self.data.clone()
    snap._grad = None
    snap._requires_grad = self._requires_grad
    snap._volatile = self._volatile
    snap._grad_fn = self._grad_fn
    snap._output_nr = self._output_nr
    snap._vc = [0, None]
    snap._hooks = None
    snap._grad_acc = self._grad_acc
    r = op(snap, *args, **kwargs)
    if r.data.size() != self.data.size():
        raise RuntimeError("{}_: in-place operation can't change the size of self from {} to {}"
                           .format(op.__name__, list(self.data.size()), list(r.data.size())))
    self.data.copy_(r.data)
    self._vc[0] += 1
    self._volatile = r._volatile
    if r._grad_fn is not None and r._requires_grad:
        self._grad_fn = r._grad_fn
        self._output_nr = r._output_nr
        self._requires_grad = True
    return self


# ---------------------------------------------------------------------- clamp

class ClampBackward(Function):
    __slots__ = ("lo", "hi")

    def _apply(self, grads):
        g = grads[0]
        x, = self._unpack(False)
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            mask = x.ge(lo) * x.le(hi)
        elif lo is not None:
            mask = x.ge(lo)
        else:
            mask = x.le(hi)
        mask = mask.type_as(x)
        return (g * (_plain(mask) if isinstance(g, Variable) else mask),)


@both
def clamp(self, min=None, max=None):
    r = self.data.clamp(min=min, max=max)
    fn = _node1(ClampBackward, self)
    if fn is None:
        return _nograd(r, self)
    fn.lo, fn.hi = min, max
    fn._saved = (self,)
    fn._saved_versions = (self._vc[0],)
    return _output(r, fn)


@method
def clamp_(self, min=None, max=None):
    return inplace_via_copy(self, clamp, min=min, max=max)


# ---------------------------------------------------------------------- binary pointwise

def _var_arg(op, x, name="other"):
    if not isinstance(x, Variable):
        raise TypeError("{}() expected a Variable as {}, got {}".format(op, name, _typename_of(x)))
    return x


class Atan2Backward(Function):
    __slots__ = ("a_shape", "b_shape")

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        d = g / (a * a + b * b)
        (fa, _), (fb, _) = self.next_functions
        return (sum_to(d * b, self.a_shape) if fa is not None else None,
                sum_to(-d * a, self.b_shape) if fb is not None else None)


@method
def atan2_(self, other):
    return inplace_via_copy(self, atan2, other)


@both
def atan2(self, other):
    other = _var_arg("atan2", other)
    r = self.data.atan2(other.data)
    fn = _node2(Atan2Backward, self, other)
    if fn is None:
        return _nograd(r, self, other)
    fn.a_shape, fn.b_shape = self.data._a.shape, other.data._a.shape
    fn._save(self, other)
    return _output(r, fn)


class _DivModBackward(Function):
    """fmod / remainder by a Variable: d/da = 1, d/db = -round_fn(a / b)."""
    __slots__ = ("a_shape", "b_shape", "floor")

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(False)
        (fa, _), (fb, _) = self.next_functions
        gb = None
        if fb is not None:
            q = (a / b)
            q = q.floor() if self.floor else q.trunc()
            gb = sum_to(-g * (_plain(q) if isinstance(g, Variable) else q), self.b_shape)
        return (sum_to(g, self.a_shape) if fa is not None else None, gb)


def _make_divmod(name, floor):
    def f(self, other):
        if isinstance(other, Variable):
            r = getattr(self.data, name)(other.data)
            fn = _node2(_DivModBackward, self, other)
            if fn is None:
                return _nograd(r, self, other)
            fn.a_shape, fn.b_shape, fn.floor = self.data._a.shape, other.data._a.shape, floor
            fn._save(self, other)
            return _output(r, fn)
        r = getattr(self.data, name)(other)
        fn = _node1(_PassBackward, self)
        return _nograd(r, self) if fn is None else _output(r, fn)

    def f_(self, other):
        return inplace_via_copy(self, f, other)
    f.__name__, f_.__name__ = name, name + "_"
    both(f)
    method(f_)
    return f


fmod = _make_divmod("fmod", False)
remainder = _make_divmod("remainder", True)
Variable.__mod__ = remainder


class LerpBackward(Function):
    __slots__ = ("a_shape", "b_shape", "w")

    def _apply(self, grads):
        g = grads[0]
        (fa, _), (fb, _) = self.next_functions
        w = self.w
        return (sum_to(g * (1 - w), self.a_shape) if fa is not None else None,
                sum_to(g * w, self.b_shape) if fb is not None else None)


@both
def lerp(self, end, weight):
    end = _var_arg("lerp", end, "end")
    r = self.data.lerp(end.data, weight)
    fn = _node2(LerpBackward, self, end)
    if fn is None:
        return _nograd(r, self, end)
    fn.a_shape, fn.b_shape, fn.w = self.data._a.shape, end.data._a.shape, weight
    return _output(r, fn)


@method
def lerp_(self, end, weight):
    return inplace_via_copy(self, lerp, end, weight)


def _addc_args(op, value, tensor1, tensor2):
    if tensor2 is None:
        value, tensor1, tensor2 = 1, value, tensor1
    if not _number(value):
        raise TypeError("{}() expected a number as value, got {}".format(op, _typename_of(value)))
    return value, _var_arg(op, tensor1, "tensor1"), _var_arg(op, tensor2, "tensor2")


class AddcmulBackward(Function):
    __slots__ = ("shapes", "value")

    def _apply(self, grads):
        g = grads[0]
        t1, t2 = self._unpack(isinstance(g, Variable))
        (f0, _), (f1, _), (f2, _) = self.next_functions
        s0, s1, s2 = self.shapes
        gv = g * self.value if self.value != 1 else g
        return (sum_to(g, s0) if f0 is not None else None,
                sum_to(gv * t2, s1) if f1 is not None else None,
                sum_to(gv * t1, s2) if f2 is not None else None)


class AddcdivBackward(Function):
    __slots__ = ("shapes", "value")

    def _apply(self, grads):
        g = grads[0]
        t1, t2 = self._unpack(isinstance(g, Variable))
        (f0, _), (f1, _), (f2, _) = self.next_functions
        s0, s1, s2 = self.shapes
        gv = (g * self.value if self.value != 1 else g) / t2
        return (sum_to(g, s0) if f0 is not None else None,
                sum_to(gv, s1) if f1 is not None else None,
                sum_to(-gv * t1 / t2, s2) if f2 is not None else None)


def _make_addc(name, cls):
    def f(self, value=1, tensor1=None, tensor2=None):
        value, t1, t2 = _addc_args(name, value, tensor1, tensor2)
        r = getattr(self.data, name)(value, t1.data, t2.data)
        fn = _nodes(cls, (self, t1, t2))
        if fn is None:
            return _nograd(r, self, t1, t2)
        fn.shapes = (self.data._a.shape, t1.data._a.shape, t2.data._a.shape)
        fn.value = value
        fn._save(t1, t2)
        return _output(r, fn)

    def f_(self, value=1, tensor1=None, tensor2=None):
        return inplace_via_copy(self, f, value, tensor1, tensor2)
    f.__name__, f_.__name__ = name, name + "_"
    both(f)
    method(f_)
    return f


addcmul = _make_addc("addcmul", AddcmulBackward)
addcdiv = _make_addc("addcdiv", AddcdivBackward)


class CmaxBackward(Function):
    """Elementwise max/min of two Variables: the gradient goes to the selected input (ties: the other)."""
    __slots__ = ("a_shape", "b_shape", "is_max")

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(False)
        mask = (a.gt(b) if self.is_max else a.lt(b)).type_as(a)
        if isinstance(g, Variable):
            mask = _plain(mask)
        ga = g * mask
        (fa, _), (fb, _) = self.next_functions
        return (sum_to(ga, self.a_shape) if fa is not None else None,
                sum_to(g - ga, self.b_shape) if fb is not None else None)


def elementwise_extreme(self, other, is_max):
    r = (self.data.max if is_max else self.data.min)(other.data)
    fn = _node2(CmaxBackward, self, other)
    if fn is None:
        return _nograd(r, self, other)
    fn.a_shape, fn.b_shape, fn.is_max = self.data._a.shape, other.data._a.shape, is_max
    fn._save(self, other)
    return _output(r, fn)

