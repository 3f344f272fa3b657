"""Reductions with 0.2's overloads: sum prod mean var std max min norm renorm dist cumsum cumprod sort topk
kthvalue median mode histc all any trace.

0.2's rules kept here:
- Over all elements a reduction returns a Python number (float for floating types, int for integer types);
  over a dim it returns a tensor, ``keepdim=False`` by default, and reducing the only dim of a 1-D tensor
  keeps size (1,). Dim reductions on a tensor with no elements raise.
- Sums, products and norms accumulate as TH's ``accreal``: double for floating types (large float sums add
  partials of 16 numbers in the input type, vectorized, then double), int64 for integer types. Dim results
  are cast back to the input type, so integer sums wrap (a ByteTensor sum over a dim is a ByteTensor); the
  all-elements sum of a ByteTensor is the exact Python int.
- mean, var, std, norm, renorm, dist and histc exist for floating types only.
- max/min/sort/topk/kthvalue/median/mode over a dim return ``(values, LongTensor indices)``; ``out=`` takes
  a ``(values, indices)`` pair, and median/mode also take ``values=`` / ``indices=``.
- Ties: max/min return the first index of the extreme value; a NaN counts as the extreme (the first NaN
  wins), as in TH. sort is stable and orders NaN as the largest value. mode returns the smallest of the
  most frequent values and the last index where it occurs. median is the lower median.
- HalfTensor (no CPU math in 0.2) works here as an ember extra, computing in float32.
"""
import math
import numbers
import operator
import sys
import warnings

import numpy as np

from ember._C import reduce as _k
from ember._threads import get_num_threads
from ember.tensor import LongTensor, _TensorBase, _typename_of, _wrap_dim
from ember.utils import backcompat
from . import both, pointwise as _pointwise, tensor_method
from ._util import apply_binary, finish, long_cls, new_result, require_float, tensor_operand, via_host, xp_of

_f16, _f32, _f64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_i64, _u8 = np.dtype(np.int64), np.dtype(np.uint8)
_inf = float("inf")
# below this many elements NumPy's single-threaded reductions beat a kernel call (dispatch, thread start)
_KERNEL_MIN = 32768
_kd_warning = backcompat.keepdim_warning
_CMAX, _CMIN = _pointwise._binary_loops(np.maximum), _pointwise._binary_loops(np.minimum)
_SUM, _SQUARES, _PRODUCT = (int(m) for m in (_k.Accumulation.SUM, _k.Accumulation.SQUARES, _k.Accumulation.PRODUCT))
# sum, max and min below shadow the builtins in this module: helpers use NumPy's or none


# ---------------------------------------------------------------------- argument helpers

def _keepdim(t, keepdim, op):
    """The keepdim flag; None means "not given": False, with 0.2's backcompat warning when enabled."""
    if keepdim is None:
        if _kd_warning.enabled and t._a.ndim > 1:
            warnings.warn('backwards compatibility: call to "{}" uses default value for keepdim which has changed '
                          'default to False.  Consider passing as kwarg.'.format(op), UserWarning,
                          stacklevel=_user_stacklevel())
        return False
    if keepdim is True or keepdim is False:
        return keepdim
    if isinstance(keepdim, np.bool_):
        return bool(keepdim)
    raise TypeError("{}(): keepdim must be a bool, got {}".format(op, _typename_of(keepdim)))


def _user_stacklevel():
    """The warnings stacklevel of the first caller outside ember (seen from _keepdim)."""
    f = sys._getframe(2)
    level = 2
    while f is not None and f.f_globals.get("__name__", "").startswith("ember."):
        f = f.f_back
        level += 1
    return level


def _dim(t, dim, op):
    a = t._a
    if not a.size:
        raise RuntimeError("{}(): cannot reduce over dimension {} of an empty tensor".format(op, dim))
    return _wrap_dim(dim, a.ndim, op)


def _last_dim(t, dim, op):
    """``dim`` wrapped, where None means the last dim (sort, topk, kthvalue)."""
    return _dim(t, -1 if dim is None else dim, op)


def _no_dim_args(op, keepdim, out):
    if keepdim is not None or out is not None:
        raise TypeError("{}(): keepdim= and out= need a dim argument (the all-elements form {}() returns a number "
                        "and takes neither)".format(op, op))


def _number(value, op, name):
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise TypeError("{}(): {} must be a number, got {}".format(op, name, _typename_of(value)))


def _int_arg(value, op, name):
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError("{}(): {} must be an int, got {}".format(op, name, _typename_of(value))) from None


def _out_shape(shape, d, keepdim):
    if keepdim:
        return shape[:d] + (1,) + shape[d + 1:]
    return shape[:d] + shape[d + 1:] or (1,)


def _view3(a, d):
    """``a`` as (outer, size of dim d, inner): a view when the dims around d merge, else a copy."""
    shape = a.shape
    return a.reshape(math.prod(shape[:d]), shape[d], math.prod(shape[d + 1:]))


def _memory_order(a, d):
    """``a`` with its axes in memory order (largest stride first), so the kernels read it sequentially (a
    transposed input reduces as its contiguous base does); returns (array, new position of d, the permutation
    that restores the original order of the other axes, or None when ``a`` already is in memory order)."""
    st = a.strides
    if a.size < _KERNEL_MIN or st == tuple(sorted(st, reverse=True)):
        return a, d, None
    order = sorted(range(a.ndim), key=lambda i: -st[i])
    rest = [ax for ax in order if ax != d]
    return a.transpose(order), order.index(d), np.argsort(rest)


def _restore(r, b, d, perm):
    """Kernel output ``r`` (outer, inner) of array ``b`` reduced over ``d``, in the original axis order."""
    if perm is None:
        return r
    return r.reshape(b.shape[:d] + b.shape[d + 1:]).transpose(perm)


def _work(a):
    return a.astype(_f32) if a.dtype == _f16 else a


def _outs(op, out, values=None, indices=None):
    """The (values, indices) destinations given as ``out=(v, i)`` or ``values=``/``indices=``; None if none."""
    if out is not None:
        if values is not None or indices is not None:
            raise TypeError("{}(): give either out=(values, indices) or values=/indices=, not both".format(op))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("{}(): out must be a tuple of two tensors (values, indices), got {}"
                            .format(op, _typename_of(out)))
        return out
    if values is None and indices is None:
        return None
    return values, indices


def _pair(cls, vals, idx, shape, outs, op):
    """The (values, LongTensor indices) result, written into ``outs`` when given."""
    vals = vals.reshape(shape)
    idx = idx.reshape(shape)
    if vals.dtype != cls._dtype:
        vals = vals.astype(cls._dtype)
    long = LongTensor if not cls.is_cuda else long_cls(cls)
    if idx.dtype != _i64:
        idx = idx.astype(_i64)
    if outs is None:
        return new_result(cls, vals), new_result(long, idx)
    return finish(cls, vals, outs[0], op), finish(long, idx, outs[1], op)


def _empty_pair(cls, outs):
    long = long_cls(cls)
    if outs is None:
        return cls(), long()
    v = outs[0].resize_(0) if outs[0] is not None else cls()
    i = outs[1].resize_(0) if outs[1] is not None else long()
    return v, i


# ---------------------------------------------------------------------- accumulation

def _acc(a, d, mode=_SUM, shift=None):
    """The float64 sums (``_SUM``), sums of squares (``_SQUARES``: each square taken in double; of the
    deviations from ``shift``, a float64 array of ``a``'s shape but 1 along ``d``, when given) or products
    (``_PRODUCT``) of float array ``a`` over axis ``d``, for the caller to reshape."""
    if a.size < _KERNEL_MIN or a.dtype == _f16 or type(a) is not np.ndarray:
        xp = xp_of(a)
        if mode == _PRODUCT:
            return xp.prod(a, axis=d, dtype=_f64)
        if mode == _SQUARES:
            x = a.astype(_f64) if shift is None else xp.subtract(a, shift, dtype=_f64)
            return xp.square(x, out=x).sum(axis=d)
        if xp is np:  # the ufunc's reduce, without ndarray.sum's Python layer
            return np.add.reduce(a, axis=d, dtype=_f64)
        return a.sum(axis=d, dtype=_f64)
    b, bd, perm = _memory_order(a, d)
    src = _view3(b, bd)
    acc = np.empty((src.shape[0], src.shape[2]), _f64)
    if shift is not None:  # into b's axis order, as acc
        shift = np.squeeze(shift, axis=d)
        if perm is not None:
            shift = shift.transpose(np.argsort(perm))
        shift = np.ascontiguousarray(shift).reshape(acc.shape)
    _k.accumulate_dim(src, acc, mode, get_num_threads(), shift)
    return _restore(acc, b, bd, perm)


def _sum_all(cls, a):
    if not cls._is_floating:
        return int(a.sum(dtype=_i64))
    if a.size < _KERNEL_MIN or a.dtype == _f16 or cls.is_cuda:
        return float(a.sum(dtype=_f64))
    return float(_acc(a.reshape(-1), 0).reshape(-1)[0])


def _pnorm(a, p, axis, keepdims=False):
    """Float64 p-norms over ``axis`` with TH's cases: p=0 counts nonzeros; ±inf (ember extra) give max/min |x|."""
    if p == 2:
        if type(axis) is int and a.dtype != _f16 and type(a) is np.ndarray:
            sh = a.shape
            r = _acc(a, axis, _SQUARES)
            return np.sqrt(r.reshape(sh[:axis] + (1,) * keepdims + sh[axis + 1:]))
        return np.sqrt(np.square(a, dtype=_f64).sum(axis=axis, keepdims=keepdims))
    if p == 1:
        return np.abs(a).sum(axis=axis, dtype=_f64, keepdims=keepdims)
    if p == 0:
        return np.not_equal(a, 0).sum(axis=axis, dtype=_f64, keepdims=keepdims)  # CuPy's count_nonzero: no keepdims
    if p == _inf:
        return np.max(np.abs(a), axis=axis, keepdims=keepdims).astype(_f64)
    if p == -_inf:
        return np.min(np.abs(a), axis=axis, keepdims=keepdims).astype(_f64)
    with np.errstate(divide="ignore"):
        s = np.power(np.abs(a, dtype=_f64), p).sum(axis=axis, keepdims=keepdims)
        return np.power(s, 1.0 / p)


def _variance(a, d, ddof):
    """Float64 variance over axis ``d`` (two passes: the mean, then squared deviations, all in double; dim
    kept); NaN where ``ddof`` leaves no degrees of freedom."""
    n = a.shape[d]
    keep = a.shape[:d] + (1,) + a.shape[d + 1:]
    if n - ddof <= 0:
        return xp_of(a).full(keep, np.nan)
    mean = _acc(a, d).reshape(keep)
    mean /= n
    s = _acc(a, d, _SQUARES, mean).reshape(keep)
    s /= n - ddof
    return s


def _small_variance(a, ddof):
    """_variance of every element of a small NumPy array, in fewer NumPy calls (their cost is the time)."""
    x = a.astype(_f64, order="C").reshape(-1)
    n = x.size
    if n - ddof <= 0:
        return math.nan
    x -= np.add.reduce(x) / n
    return float(np.dot(x, x)) / (n - ddof)


# ---------------------------------------------------------------------- sum prod mean

@both
def sum(input, dim=None, keepdim=None, out=None):
    cls = type(input)
    a = input._a
    if dim is None:
        _no_dim_args("sum", keepdim, out)
        return _sum_all(cls, a)
    d = _dim(input, dim, "sum")
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, "sum"))
    if cls._is_floating:
        r = _acc(a, d).reshape(shape).astype(a.dtype, copy=False)
    else:
        r = a.sum(axis=d, dtype=a.dtype).reshape(shape)
    return finish(cls, r, out, "sum")


@both
def prod(input, dim=None, keepdim=None, out=None):
    cls = type(input)
    a = input._a
    if dim is None:
        _no_dim_args("prod", keepdim, out)
        if cls._is_floating:
            return float(_acc(a.reshape(-1), 0, _PRODUCT).reshape(-1)[0])
        return int(np.prod(a, dtype=_i64))
    d = _dim(input, dim, "prod")
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, "prod"))
    if cls._is_floating:
        r = _acc(a, d, _PRODUCT).astype(a.dtype)
    else:
        r = np.prod(a, axis=d, dtype=a.dtype)
    return finish(cls, r.reshape(shape), out, "prod")


@both
def mean(input, dim=None, keepdim=None, out=None):
    require_float(input, "mean")
    a = input._a
    if dim is None:
        _no_dim_args("mean", keepdim, out)
        if not a.size:
            raise RuntimeError("mean(): cannot take the mean of an empty tensor")
        return _sum_all(type(input), a) / a.size
    d = _dim(input, dim, "mean")
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, "mean"))
    r = _acc(a, d).reshape(shape)
    r /= a.shape[d]
    return finish(type(input), r.astype(a.dtype, copy=False), out, "mean")


# ---------------------------------------------------------------------- var std

def _var_std(input, dim, unbiased, keepdim, out, op, root):
    require_float(input, op)
    if (dim is True or dim is False) and keepdim is None and out is None:
        dim, unbiased = None, dim  # 0.2's (bool unbiased) overload
    if unbiased is not True and unbiased is not False:
        raise TypeError("{}(): unbiased must be a bool, got {}".format(op, _typename_of(unbiased)))
    ddof = 1 if unbiased else 0
    a = input._a
    if dim is None:
        _no_dim_args(op, keepdim, out)
        if not a.size:
            raise RuntimeError("{}(): cannot reduce an empty tensor".format(op))
        if a.size < _KERNEL_MIN and type(a) is np.ndarray and a.dtype != _f16:
            v = _small_variance(a, ddof)
        else:
            v = float(_variance(a.reshape(-1), 0, ddof)[0])
        return math.sqrt(v) if root else v
    d = _dim(input, dim, op)
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, op))
    r = _variance(a, d, ddof)
    if root:
        np.sqrt(r, out=r)
    return finish(type(input), r.reshape(shape).astype(a.dtype, copy=False), out, op)


@both
def var(input, dim=None, unbiased=True, keepdim=None, out=None):
    return _var_std(input, dim, unbiased, keepdim, out, "var", False)


@both
def std(input, dim=None, unbiased=True, keepdim=None, out=None):
    return _var_std(input, dim, unbiased, keepdim, out, "std", True)


# ---------------------------------------------------------------------- max min

def _argext(a, d, want_max):
    """Max (or min) values and their first indices over axis ``d`` (to be reshaped by the caller)."""
    if type(a) is not np.ndarray:  # device arrays: CuPy's arg-reductions (first index of the extreme)
        w = _work(a)
        idx = w.argmax(axis=d) if want_max else w.argmin(axis=d)
        return np.take_along_axis(w, np.expand_dims(idx, d), d), idx
    b, bd, perm = _memory_order(_work(a), d)
    src = _view3(b, bd)
    vals = np.empty((src.shape[0], src.shape[2]), b.dtype)
    idx = np.empty((src.shape[0], src.shape[2]), _i64)
    _k.argext_dim(src, vals, idx, want_max, get_num_threads())
    return _restore(vals, b, bd, perm), _restore(idx, b, bd, perm)


def _extreme(input, dim, keepdim, out, other, op, want_max):
    if isinstance(dim, _TensorBase) and other is None:
        dim, other = None, dim
    if other is not None:
        if dim is not None or keepdim is not None:
            raise TypeError("{}(): the elementwise form {}(other) takes no dim or keepdim".format(op, op))
        b = tensor_operand(input, other, op)
        if type(input) in _CMAX:  # NumPy's loops on every thread, for large and broadcast operands too
            return _pointwise._binary(np.maximum if want_max else np.minimum, _CMAX if want_max else _CMIN,
                                      _pointwise._CHEAP, input, b, out, op)
        r = apply_binary(np.maximum if want_max else np.minimum, input, b, op)
        return finish(type(input), r, out, op)
    a = input._a
    if dim is None:
        _no_dim_args(op, keepdim, out)
        if not a.size:
            raise RuntimeError("{}(): cannot reduce an empty tensor".format(op))
        return (a.max() if want_max else a.min()).item()
    d = _dim(input, dim, op)
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, op))
    vals, idx = _argext(a, d, want_max)
    return _pair(type(input), vals, idx, shape, _outs(op, out), op)


@both
def max(input, dim=None, keepdim=None, out=None, other=None):
    return _extreme(input, dim, keepdim, out, other, "max", True)


@both
def min(input, dim=None, keepdim=None, out=None, other=None):
    return _extreme(input, dim, keepdim, out, other, "min", False)


# ---------------------------------------------------------------------- norms

@both
def norm(input, p=2, dim=None, keepdim=None, out=None):
    require_float(input, "norm")
    p = _number(p, "norm", "p")
    a = input._a
    if dim is None:
        _no_dim_args("norm", keepdim, out)
        return float(_pnorm(a.reshape(-1), p, 0)) if a.size else 0.0
    d = _dim(input, dim, "norm")
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, "norm"))
    return finish(type(input), _pnorm(a, p, d).reshape(shape).astype(a.dtype, copy=False), out, "norm")


def _renorm(self, p, dim, maxnorm, op):
    require_float(self, op)
    p = _number(p, op, "p")
    maxnorm = _number(maxnorm, op, "maxnorm")
    a = self._a
    nd = a.ndim if a.size else 0
    if nd < 2:
        raise RuntimeError("{}(): need at least 2 dimensions, got {} dimensions".format(op, nd))
    if not p > 0:
        raise RuntimeError("{}(): non-positive-norm not supported (p = {})".format(op, p))
    d = _wrap_dim(dim, nd, op)
    if p == 2 and a.size >= _KERNEL_MIN and a.dtype != _f16 and type(a) is np.ndarray:
        # sums of squares in double along the inner axes (the kernel), then over the outer ones
        v = _view3(a, d)
        if v.shape[2] == 1:
            sq = _acc(v[:, :, 0], 0, _SQUARES).reshape(v.shape[1])
        else:
            sq = _acc(v, 2, _SQUARES).reshape(v.shape[:2]).sum(axis=0)
        norms = np.sqrt(sq).reshape((1,) * d + (a.shape[d],) + (1,) * (nd - d - 1))
    else:
        norms = _pnorm(a, p, tuple(i for i in range(nd) if i != d), keepdims=True)
    # TH scales a sub-tensor by maxnorm / (norm + 1e-7) when its norm exceeds maxnorm, else copies it
    scale = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0).astype(a.dtype)
    if type(a) is np.ndarray and type(self) in _pointwise._MUL:  # the product on every thread
        r = _pointwise._broadcast(_pointwise._MUL[type(self)], _pointwise._CHEAP, type(self), a, scale, None, op)
        if r is not None:
            return r._a
    return a * scale


@both
def renorm(input, p, dim, maxnorm, out=None):
    return finish(type(input), _renorm(input, p, dim, maxnorm, "renorm"), out, "renorm")


@tensor_method
def renorm_(self, p, dim, maxnorm):
    self._a[...] = _renorm(self, p, dim, maxnorm, "renorm_")
    return self


@both
def dist(input, other, p=2):
    require_float(input, "dist")
    b = tensor_operand(input, other, "dist")
    p = _number(p, "dist", "p")
    diff = apply_binary(np.subtract, input, b, "dist")
    return float(_pnorm(diff.reshape(-1), p, 0)) if diff.size else 0.0


# ---------------------------------------------------------------------- cumulative

def _cumulative(input, dim, out, op):
    """cumsum / cumprod over ``dim``: floats accumulate in double, as TH's accreal."""
    cls = type(input)
    a = input._a
    d = _dim(input, dim, op)
    if not cls._is_floating:
        r = getattr(a, op)(axis=d, dtype=a.dtype)
    elif a.size < _KERNEL_MIN or a.dtype == _f16 or type(a) is not np.ndarray:
        r = getattr(a, op)(axis=d, dtype=_f64).astype(a.dtype, copy=False)
    else:
        r = np.empty(a.shape, a.dtype)
        _k.cumulate(_view3(a, d), _view3(r, d), op == "cumprod", get_num_threads())
    return finish(cls, r, out, op)


@both
def cumsum(input, dim, out=None):
    return _cumulative(input, dim, out, "cumsum")


@both
def cumprod(input, dim, out=None):
    return _cumulative(input, dim, out, "cumprod")


# ---------------------------------------------------------------------- order statistics

def _argsort(a, d, descending):
    """Stable argsort over axis ``d``; descending keeps equal elements in index order and puts NaN first."""
    kind = {"kind": "stable"} if type(a) is np.ndarray else {}  # CuPy's argsort is stable and takes no kind
    if not descending:
        return np.argsort(a, axis=d, **kind)
    idx = np.argsort(np.flip(a, d), axis=d, **kind)
    return np.subtract(a.shape[d] - 1, np.flip(idx, d))


@both
def sort(input, dim=None, descending=False, out=None):
    cls = type(input)
    a = input._a
    outs = _outs("sort", out)
    if not a.size:
        return _empty_pair(cls, outs)
    d = _last_dim(input, dim, "sort")
    if _topk_kernel(a):  # a stable sort is topk of every element
        vals, idx = _topk_rows(a, d, a.shape[d], descending, True)
        return _pair(cls, vals, idx, a.shape, outs, "sort")
    idx = _argsort(a, d, bool(descending))
    return _pair(cls, np.take_along_axis(a, idx, d), idx, a.shape, outs, "sort")


def _to_last(a, d):
    """``a`` with axis ``d`` moved last (np.moveaxis, without its argument normalisation: 3 us a call)."""
    nd = a.ndim
    if d == nd - 1:
        return a
    return a.transpose(tuple(range(d)) + tuple(range(d + 1, nd)) + (d,))


def _from_last(a, d):
    """``a`` with its last axis moved to position ``d`` (undoes _to_last)."""
    nd = a.ndim
    if d == nd - 1:
        return a
    return a.transpose(tuple(range(d)) + (nd - 1,) + tuple(range(d, nd - 1)))


def _topk_kernel(a):
    return type(a) is np.ndarray and a.dtype != _f16


def _topk_rows(a, d, k, largest, sorted):
    """(values, indices) of topk along axis ``d`` by ember._C.reduce.topk_rows (each row along d: the first k
    in topk's order, NaN the greatest, equal values by index)."""
    rows = _to_last(a, d)
    n = rows.shape[-1]
    lead = rows.shape[:-1]
    vals = np.empty(lead + (k,), a.dtype)
    idx = np.empty(lead + (k,), _i64)
    _k.topk_rows(rows.reshape(-1, n), vals.reshape(-1, k), idx.reshape(-1, k), bool(largest), bool(sorted),
                 get_num_threads())
    return _from_last(vals, d), _from_last(idx, d)


@both
def topk(input, k, dim=None, largest=True, sorted=True, out=None):
    cls = type(input)
    a = input._a
    k = _int_arg(k, "topk", "k")
    outs = _outs("topk", out)
    n = a.shape[_wrap_dim(-1 if dim is None else dim, a.ndim, "topk")] if a.size else 0
    if k < 0 or k > n:
        raise RuntimeError("topk(): selected number k out of range (k = {}, but the dimension has {} elements)"
                           .format(k, n))
    if k == 0:
        return _empty_pair(cls, outs)
    d = _last_dim(input, dim, "topk")
    if _topk_kernel(a):
        vals, idx = _topk_rows(a, d, k, largest, sorted)
    elif k < n:
        part = np.argpartition(a, n - k if largest else k - 1, axis=d)
        key = [slice(None)] * a.ndim
        key[d] = slice(n - k, None) if largest else slice(0, k)
        idx = np.sort(part[tuple(key)], axis=d)  # index order, so equal values come out in index order
        vals = np.take_along_axis(a, idx, d)
        if sorted:
            order = _argsort(vals, d, largest)
            idx = np.take_along_axis(idx, order, d)
            vals = np.take_along_axis(vals, order, d)
    else:
        idx = _argsort(a, d, largest)
        vals = np.take_along_axis(a, idx, d)
    return _pair(cls, vals, idx, vals.shape, outs, "topk")


def _kth(a, d, j):
    """The (j+1)-th smallest values over axis ``d`` (NaN the greatest) and the first index of each (dim
    kept, size 1)."""
    if type(a) is not np.ndarray:  # device arrays: CuPy's argpartition, then the first index of the value
        xp = xp_of(a)
        key = [slice(None)] * a.ndim
        key[d] = slice(j, j + 1)
        vals = xp.take_along_axis(a, a.argpartition(j, axis=d)[tuple(key)], d)
        same = (a == vals) | (xp.isnan(a) & xp.isnan(vals)) if a.dtype.kind == "f" else a == vals
        return vals, xp.expand_dims(same.argmax(axis=d), d)
    w = _work(a)
    moved = _to_last(w, d)
    rows = moved.reshape(-1, a.shape[d])
    vals = np.empty(rows.shape[0], w.dtype)
    idx = np.empty(rows.shape[0], _i64)
    _k.kth_rows(rows, vals, idx, j + 1, get_num_threads())
    kept = a.shape[:d] + (1,) + a.shape[d + 1:]
    return vals.reshape(kept), idx.reshape(kept)


@both
def kthvalue(input, k, dim=None, keepdim=None, out=None):
    if (dim is True or dim is False) and keepdim is None:
        dim, keepdim = None, dim  # 0.2's (int k, bool keepdim) overload
    a = input._a
    k = _int_arg(k, "kthvalue", "k")
    d = _last_dim(input, dim, "kthvalue")
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, "kthvalue"))
    n = a.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError("kthvalue(): selected number k out of range (k = {}, but dimension {} has {} elements)"
                           .format(k, d, n))
    vals, idx = _kth(a, d, k - 1)
    return _pair(type(input), vals, idx, shape, _outs("kthvalue", out), "kthvalue")


@both
def median(input, dim=None, keepdim=None, values=None, indices=None, out=None):
    if (dim is True or dim is False) and keepdim is None:
        dim, keepdim = -1, dim  # 0.2's (bool keepdim) overload
    a = input._a
    outs = _outs("median", out, values, indices)
    if dim is None and keepdim is None and outs is None:
        if not a.size:
            raise RuntimeError("median(): cannot reduce an empty tensor")
        flat = a.reshape(-1)
        j = (flat.size - 1) // 2
        return np.partition(flat, j)[j].item()
    d = _dim(input, -1 if dim is None else dim, "median")
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, "median"))
    vals, idx = _kth(a, d, (a.shape[d] - 1) // 2)
    return _pair(type(input), vals, idx, shape, outs, "median")


@both
def mode(input, dim=-1, keepdim=None, values=None, indices=None, out=None):
    if (dim is True or dim is False) and keepdim is None:
        dim, keepdim = -1, dim  # 0.2's (bool keepdim) overload
    outs = _outs("mode", out, values, indices)
    if type(input).is_cuda:  # no CuPy path yet: on the host
        return via_host(mode, (input, dim, keepdim), {"out": outs})
    a = input._a
    d = _dim(input, dim, "mode")
    shape = _out_shape(a.shape, d, _keepdim(input, keepdim, "mode"))
    w = _work(a)
    rows = _to_last(w, d).reshape(-1, a.shape[d])
    srt = np.array(rows, order="C")
    srt.sort(axis=1)
    vals = np.empty(rows.shape[0], w.dtype)
    idx = np.empty(rows.shape[0], _i64)
    _k.mode_rows(rows, srt, vals, idx, get_num_threads())
    return _pair(type(input), vals, idx, shape, outs, "mode")


# ---------------------------------------------------------------------- histc trace all any

@both
def histc(input, bins=100, min=0, max=0, out=None):
    require_float(input, "histc")
    if type(input).is_cuda:  # no CuPy path yet: on the host
        return via_host(histc, (input, bins, min, max), {"out": out})
    nbins = _int_arg(bins, "histc", "bins")
    if nbins <= 0:
        raise RuntimeError("histc(): bins must be > 0, got {}".format(nbins))
    a = _work(input._a)
    real = a.dtype.type  # TH takes min and max as the tensor's real type
    lo, hi = real(_number(min, "histc", "min")), real(_number(max, "histc", "max"))
    if lo == hi and a.size:
        lo, hi = a.min(), a.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    hist = np.zeros(nbins, a.dtype)
    if a.size:
        _k.histc(a.reshape(-1), hist, float(lo), float(hi))
    return finish(type(input), hist.astype(input._a.dtype, copy=False), out, "histc")


@both
def trace(input):
    a = input._a
    if a.ndim != 2 or not a.size:
        raise RuntimeError("trace(): expected a matrix, but got a tensor with {} dimensions".format(input.dim()))
    diag = a.diagonal()  # a view; np.trace's Python layers cost three times the sum
    if type(input)._is_floating:
        return float(np.add.reduce(diag, dtype=_f64) if type(a) is np.ndarray else diag.sum(dtype=_f64))
    return int(np.add.reduce(diag, dtype=_i64) if type(a) is np.ndarray else diag.sum(dtype=_i64))


def _require_byte(self, op):
    if type(self)._dtype != _u8:
        raise TypeError("{}(): only defined for ByteTensor (as in 0.2), got {}".format(op, type(self)._typename))


@tensor_method(name="all")
def _all(self):
    """True when every element is nonzero (ByteTensor only; True for an empty tensor)."""
    _require_byte(self, "all")
    return bool(self._a.all())


@tensor_method(name="any")
def _any(self):
    """True when some element is nonzero (ByteTensor only; False for an empty tensor)."""
    _require_byte(self, "any")
    return bool(self._a.any())
