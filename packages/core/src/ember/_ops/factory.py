"""Factory functions: zeros, ones, eye, arange, range, linspace, logspace (and the ember extras
zeros_like, ones_like).

The result has the default tensor type (``ember.set_default_tensor_type``) unless ``out=`` is given,
whose type is then used and which is resized to the result's size. Values are computed as 0.2's TH
did (``start + i*step`` in double; linspace ``a + i*(b-a)/(n-1)`` in the tensor's own type); arange's
length follows its documented rule rather than 0.2's rounding bug (see arange).
"""
import math
import numbers
import operator

import numpy as np

from ember.tensor import _TensorBase, _default, _sizes_arg, _typename_of
from . import torch_function


def _out_class(out, op):
    if out is None:
        return _default["tensor"]
    if not isinstance(out, _TensorBase):
        raise TypeError("{}(): out must be a tensor, got {}".format(op, _typename_of(out)))
    return type(out)


def _shape(sizes, op):
    shape = _sizes_arg(sizes, op)
    for s in shape:
        if s < 0:
            raise RuntimeError("{}(): sizes must be non-negative, got {}".format(op, list(shape)))
    # 0.2 has no zero-size dims: any 0 (or no size at all) makes an empty tensor
    return shape if shape and all(shape) else (0,)


def _sized_out(out, shape):
    if out._a.shape != shape:
        out.resize_(shape)
    return out._a


def _emit(cls, out, arr):
    """``arr`` (already of cls's dtype) as a new tensor, or copied into ``out``."""
    if out is None:
        return cls._make(arr)
    cls._xp.copyto(_sized_out(out, arr.shape), arr, casting="unsafe")
    return out


def _filled(shape, value, out, op):
    cls = _out_class(out, op)
    if out is None:
        xp = cls._xp
        return cls._make(xp.zeros(shape, cls._dtype) if value == 0 else xp.ones(shape, cls._dtype))
    _sized_out(out, shape).fill(value)
    return out


@torch_function
def zeros(*sizes, out=None):
    """A tensor of the given sizes filled with 0."""
    return _filled(_shape(sizes, "zeros"), 0, out, "zeros")


@torch_function
def ones(*sizes, out=None):
    """A tensor of the given sizes filled with 1."""
    return _filled(_shape(sizes, "ones"), 1, out, "ones")


@torch_function
def zeros_like(input):
    """ember extra (not in 0.2): zeros of ``input``'s size and type."""
    return _like(input, 0, "zeros_like")


@torch_function
def ones_like(input):
    """ember extra (not in 0.2): ones of ``input``'s size and type."""
    return _like(input, 1, "ones_like")


def _like(t, value, op):
    if not isinstance(t, _TensorBase):
        raise TypeError("{}(): expected a tensor, got {}".format(op, _typename_of(t)))
    cls = type(t)
    xp = cls._xp
    shape = t._a.shape if t._a.size else (0,)
    return cls._make(xp.zeros(shape, cls._dtype) if value == 0 else xp.ones(shape, cls._dtype))


def _int_arg(value, name, op):
    if isinstance(value, _TensorBase):
        raise TypeError("{}(): argument '{}' must be an int, got {}".format(op, name, value._typename))
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("{}(): argument '{}' must be an int, got {}".format(op, name, _typename_of(value))) from None


@torch_function
def eye(n, m=None, out=None):
    """A 2-D tensor with ones on the diagonal: n x m (n x n when m is None or, as in 0.2, m <= 0)."""
    cls = _out_class(out, "eye")
    n = _int_arg(n, "n", "eye")
    m = n if m is None else _int_arg(m, "m", "eye")
    if n <= 0:
        raise RuntimeError("eye(): n must be positive, got {}".format(n))
    if m <= 0:
        m = n
    return _emit(cls, out, cls._xp.eye(n, m, dtype=cls._dtype))


# ---------------------------------------------------------------------- ranges

def _real_arg(value, name, cls, op):
    """A Python number as 0.2 passed it to TH: a double for floating types, an int for integer ones."""
    if isinstance(value, numbers.Real) and not isinstance(value, _TensorBase):
        if cls._is_floating:
            return float(value)
        if isinstance(value, numbers.Integral) or float(value).is_integer():
            return int(value)
        raise TypeError("{}(): argument '{}' must be an int for {}, got {!r}"
                        .format(op, name, cls._typename, value))
    raise TypeError("{}(): argument '{}' must be a number, got {}".format(op, name, _typename_of(value)))


def _check_step(start, end, step, op):
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError("{}(): start, end and step must be finite, got start={}, end={}, step={}"
                           .format(op, start, end, step))
    if step == 0:
        raise RuntimeError("{}(): step must be nonzero".format(op))
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("{}(): upper bound and larger bound inconsistent with step sign (start={}, end={}, step={})"
                           .format(op, start, end, step))


def _steps(cls, start, step, size):
    """start + i*step for i < size, computed in double (int64 for integer types) as TH did."""
    xp = cls._xp
    if size == 0:
        return xp.empty(0, cls._dtype)
    work = np.float64 if cls._is_floating else np.int64
    vals = xp.arange(size, dtype=work) * work(step) + work(start)
    return vals.astype(cls._dtype, copy=False)


@torch_function
def arange(start, end=None, step=1, out=None):
    """Values from ``start`` up to, not including, ``end`` by ``step`` (a 1-D tensor):
    ceil((end - start) / step) of them, as the 0.2 docs state and NumPy does.

    0.2's TH dropped ``end`` only when ``fmod(end - start, step) == 0`` exactly, so with float steps
    it sometimes included ``end`` (``arange(0, 1, 0.2)`` had 6 values) - a bug fixed in 0.4; ember
    follows the documented rule. ember extras: ``arange(end)`` counts from 0 (0.2 required both
    bounds), and ``start == end`` gives an empty tensor (0.2 raised)."""
    cls = _out_class(out, "arange")
    if end is None:
        start, end = 0, start
    start = _real_arg(start, "start", cls, "arange")
    end = _real_arg(end, "end", cls, "arange")
    step = _real_arg(step, "step", cls, "arange")
    _check_step(start, end, step, "arange")
    if cls._is_floating:
        size = int(math.ceil((end - start) / step))
    else:
        size = -(-abs(end - start) // abs(step))
    return _emit(cls, out, _steps(cls, start, step, size))


def _inclusive_count(start, end, step, cls):
    if cls._is_floating:
        return int((end - start) / step + 1)
    return abs(end - start) // abs(step) + 1


@torch_function(name="range")
def range_(start, end, step=1, out=None):
    """Values from ``start`` to ``end`` INCLUSIVE by ``step`` (0.2's torch.range; deprecated in later
    PyTorch in favour of arange)."""
    cls = _out_class(out, "range")
    start = _real_arg(start, "start", cls, "range")
    end = _real_arg(end, "end", cls, "range")
    step = _real_arg(step, "step", cls, "range")
    _check_step(start, end, step, "range")
    return _emit(cls, out, _steps(cls, start, step, _inclusive_count(start, end, step, cls)))


def _spaced(start, end, steps, cls, op):
    """0.2's a + i*(b-a)/(n-1), evaluated in the tensor's own type (double for doubles, float for
    floats, C integer division for integer types)."""
    steps = _int_arg(steps, "steps", op)
    a = _real_arg(start, "start", cls, op)
    b = _real_arg(end, "end", cls, op)
    if not (steps > 1 or (steps == 1 and a == b)):
        raise RuntimeError("{}(): invalid number of points: steps must be greater than 1 (or 1 when start == end), "
                           "got steps={} for start={}, end={}".format(op, steps, start, end))
    xp = cls._xp
    if steps == 1:
        return xp.full(1, a, dtype=np.float64 if cls._is_floating else np.int64)
    if cls._is_floating:
        work = np.float64 if cls._dtype == np.float64 else np.float32
        a, b = work(a), work(b)
        i = xp.arange(steps, dtype=work)
        return a + (i * (b - a)) / work(steps - 1)
    num = xp.arange(steps, dtype=np.int64) * (b - a)
    return a + xp.sign(num) * (xp.abs(num) // (steps - 1))  # C division truncates toward zero


@torch_function
def linspace(start, end, steps=100, out=None):
    """``steps`` points evenly spaced from ``start`` to ``end`` inclusive (a 1-D tensor)."""
    cls = _out_class(out, "linspace")
    vals = _spaced(start, end, steps, cls, "linspace")
    return _emit(cls, out, vals.astype(cls._dtype, copy=False))


@torch_function
def logspace(start, end, steps=100, out=None):
    """``steps`` points 10**x for x evenly spaced from ``start`` to ``end`` inclusive (floating types only)."""
    cls = _out_class(out, "logspace")
    if not cls._is_floating:
        raise TypeError("logspace(): not implemented for {} (floating-point tensor types only)".format(cls._typename))
    exps = _spaced(start, end, steps, cls, "logspace")
    vals = cls._xp.power(exps.dtype.type(10), exps)
    return _emit(cls, out, vals.astype(cls._dtype, copy=False))
