"""Reductions of Variables: sum, mean, prod, max/min, mode, median, kthvalue, sort, topk, cumsum,
cumprod, var, std, norm, dist, renorm.

As in 0.2, a reduction over all elements gives a Variable of size (1,) (a Tensor gives a Python number),
and the ``dim`` forms take ``keepdim`` (default False). The selection reductions (max, min, mode,
median, kthvalue, sort, topk) return (values, indices) with the indices as a Variable that does not
require grad.
"""
import numpy as np

from ember.tensor import _wrap_dim
from .utils import (Function, Variable, undifferentiable, _data, _node1, _nograd, _output, _plain, _SavedOutput, both,
                    device_of,
                    expand_to, method)
from .tensor import embed, reshape, scatter_add_into
from .pointwise import elementwise_extreme


_ZEROS_MSG = "the double backward of {} through exact zeros is not implemented"


def _ndim(t):
    a = t._a
    return a.ndim if a.size else 0


def _one(data, value):
    """A size-(1,) tensor of data's type (and device) holding ``value``."""
    cls = type(data)
    if not data.is_cuda:
        return cls._make(cls._xp.array((value,), dtype=cls._dtype))
    with device_of(data):
        return cls._make(cls._xp.array((value,), dtype=cls._dtype))


def _over_all(data, name):
    """Reduction ``name`` (sum, mean) over all elements as a size-(1,) tensor. CUDA data reduce along a
    flat view and stay on the device: the tensor form returns a Python number, which waits for the GPU."""
    if data.is_cuda and data._a.size:
        return getattr(data.contiguous().view(-1), name)(0, True)
    return _one(data, getattr(data, name)())


def _keep_shape(shape, dim):
    """The input shape with ``dim`` reduced to 1 (the keepdim shape)."""
    return shape[:dim] + (1,) + shape[dim + 1:]


def _unreduce(g, shape, dim):
    """The gradient of a reduction (over all elements when ``dim`` is None) broadcast back to ``shape``."""
    if dim is not None:
        keep = _keep_shape(shape, dim)
        if _data(g)._a.shape != keep:
            g = reshape(g, keep)
    return expand_to(g, shape)


def _reduced(self, r, cls, dim, keepdim):
    """Finish a reduction result ``r``: record node ``cls`` (with shape/dim) when needed."""
    fn = _node1(cls, self)
    if fn is None:
        return _nograd(r, self), None
    fn.shape = self.data._a.shape
    fn.dim = dim
    return _output(r, fn), fn


def _dim_arg(self, dim, op):
    return None if dim is None else _wrap_dim(dim, _ndim(self.data), op)


# ---------------------------------------------------------------------- sum, mean

class SumBackward(Function):
    __slots__ = ("shape", "dim")

    def _apply(self, grads):
        return (_unreduce(grads[0], self.shape, self.dim),)


class MeanBackward(Function):
    __slots__ = ("shape", "dim", "n")

    def _apply(self, grads):
        return (_unreduce(grads[0] / self.n, self.shape, self.dim),)


@both
def sum(self, dim=None, keepdim=False):
    data = self.data
    d = _dim_arg(self, dim, "sum")
    r = _over_all(data, "sum") if d is None else data.sum(d, keepdim)
    return _reduced(self, r, SumBackward, d, keepdim)[0]


@both
def mean(self, dim=None, keepdim=False):
    data = self.data
    d = _dim_arg(self, dim, "mean")
    r = _over_all(data, "mean") if d is None else data.mean(d, keepdim)
    out, fn = _reduced(self, r, MeanBackward, d, keepdim)
    if fn is not None:
        fn.n = data.numel() if d is None else data._a.shape[d]
    return out


# ---------------------------------------------------------------------- prod

class ProdBackward(Function):
    """d prod / d x_i = product of the other elements (computed without dividing when there are zeros)."""
    __slots__ = ("shape", "dim")

    def _apply(self, grads):
        g = grads[0]
        x, y = self._unpack(isinstance(g, Variable))
        xd = _data(x)
        if not (xd._a == 0).any():
            return (_unreduce(g, self.shape, self.dim) * _unreduce(y, self.shape, self.dim) / x,)
        o = type(xd)._make(_prod_of_others(xd._a, self.dim, type(xd)._xp))
        if isinstance(g, Variable):
            o = undifferentiable(o, (x,), _ZEROS_MSG.format("prod"))
        return (_unreduce(g, self.shape, self.dim) * o,)


def _prod_of_others(a, dim, xp):
    """For each element, the product of the other elements of its slice (all elements when dim is None),
    from exclusive cumulative products (no division, so zeros are exact)."""
    m = xp.moveaxis(a.reshape(-1) if dim is None else a, -1 if dim is None else dim, -1)
    ones = xp.ones(m.shape[:-1] + (1,), a.dtype)
    left = xp.concatenate((ones, xp.cumprod(m[..., :-1], axis=-1)), axis=-1)
    right = xp.concatenate((xp.cumprod(m[..., ::-1][..., :-1], axis=-1)[..., ::-1], ones), axis=-1)
    r = left * right
    r = r.reshape(a.shape) if dim is None else xp.moveaxis(r, -1, dim)
    return xp.ascontiguousarray(r)


@both
def prod(self, dim=None, keepdim=False):
    data = self.data
    d = _dim_arg(self, dim, "prod")
    r = _one(data, data.prod()) if d is None else data.prod(d, keepdim)
    out, fn = _reduced(self, r, ProdBackward, d, keepdim)
    if fn is not None:
        fn._saved = (self, _SavedOutput(r, out._vc, 0))
        fn._saved_versions = (self._vc[0], 0)
    return out


# ---------------------------------------------------------------------- selections

class SelectAllBackward(Function):
    """max()/min()/median() over all elements: the gradient goes to the selected element."""
    __slots__ = ("shape", "key")

    def _apply(self, grads):
        return (embed(grads[0], self.shape, self.key, False),)


class SelectDimBackward(Function):
    """max/min/mode/median/kthvalue/sort/topk along a dim: scatter the gradient to the indices."""
    __slots__ = ("shape", "dim", "indices", "keepdim")

    def _apply(self, grads):
        g = grads[0]
        idx = self.indices
        if not self.keepdim and len(self.shape) > 1 and _data(g)._a.ndim < len(self.shape):
            g = g.unsqueeze(self.dim)
            idx = idx.unsqueeze(self.dim)
        return (scatter_add_into(g, self.shape, self.dim, idx),)


def _select_all(self, value):
    """A size-(1,) result of selecting one element over all elements (0.2: the first one equal to it)."""
    data = self.data
    r = _one(data, value)
    fn = _node1(SelectAllBackward, self)
    if fn is None:
        return _nograd(r, self)
    a = data._a
    xp = type(data)._xp
    flat = a.reshape(-1)
    with device_of(data):
        hit = xp.flatnonzero(flat == value) if value == value else xp.flatnonzero(xp.isnan(flat))
        pos = int(hit[0]) if hit.size else 0
        fn.key = tuple(xp.asarray([i]) for i in np.unravel_index(pos, a.shape))
    fn.shape = a.shape
    return _output(r, fn)


def _select_dim(self, values, indices, dim, keepdim):
    fn = _node1(SelectDimBackward, self)
    if fn is None:
        out = _nograd(values, self)
    else:
        fn.shape = self.data._a.shape
        fn.dim = dim
        fn.indices = indices
        fn.keepdim = keepdim
        out = _output(values, fn)
    return out, _nograd(indices, self)


def _make_selection(name, all_reduce):
    def f(self, *args, **kwargs):
        data = self.data
        if name in ("max", "min") and args and isinstance(args[0], Variable):
            return elementwise_extreme(self, args[0], name == "max")
        dim = kwargs.get("dim")
        keepdim = kwargs.get("keepdim", False)
        pre = ()
        if name == "kthvalue":
            pre, args = args[:1], args[1:]
            if not pre:
                pre = (kwargs.pop("k"),)
        if args:
            dim = args[0]
            if len(args) > 1:
                keepdim = args[1]
        if dim is None and all_reduce:
            return _select_all(self, getattr(data, name)(*pre))
        if dim is None:
            dim = -1
        d = _wrap_dim(dim, _ndim(data), name)
        values, indices = getattr(data, name)(*(pre + (d, keepdim)))
        return _select_dim(self, values, indices, d, keepdim)
    f.__name__ = name
    both(f)
    return f


for _n, _all in (("max", True), ("min", True), ("median", True), ("mode", False), ("kthvalue", False)):
    _make_selection(_n, _all)
del _n, _all


@both
def sort(self, dim=None, descending=False):
    data = self.data
    d = _wrap_dim(-1 if dim is None else dim, _ndim(data), "sort")
    values, indices = data.sort(d, descending)
    return _select_dim(self, values, indices, d, True)


@both
def topk(self, k, dim=None, largest=True, sorted=True):
    data = self.data
    d = _wrap_dim(-1 if dim is None else dim, _ndim(data), "topk")
    values, indices = data.topk(k, d, largest, sorted)
    return _select_dim(self, values, indices, d, True)


# ---------------------------------------------------------------------- cumulative

def _rev_cumsum(g, dim):
    """sum_{j >= i} g_j along dim (written with differentiable ops)."""
    c = g.cumsum(dim)
    n = _data(g)._a.shape[dim]
    total = c.narrow(dim, n - 1, 1)
    return expand_to(total, _data(g)._a.shape) - c + g


class CumsumBackward(Function):
    __slots__ = ("dim",)

    def _apply(self, grads):
        return (_rev_cumsum(grads[0], self.dim),)


class CumprodBackward(Function):
    """d y_j / d x_i = y_j / x_i for j >= i (inputs without zeros; zeros use exact products)."""
    __slots__ = ("dim",)

    def _apply(self, grads):
        g = grads[0]
        x, y = self._unpack(isinstance(g, Variable))
        xd = _data(x)
        if not (xd._a == 0).any():
            return (_rev_cumsum(g * y, self.dim) / x,)
        r = type(xd)._make(_cumprod_grad_exact(_data(g)._a, xd._a, self.dim, type(xd)._xp))
        if isinstance(g, Variable):
            r = undifferentiable(r, (x, g), _ZEROS_MSG.format("cumprod"))
        return (r,)


def _cumprod_grad_exact(g, x, dim, xp):
    """sum_{j >= i} g_j * prod_{k <= j, k != i} x_k, per slice (quadratic, used only with zeros)."""
    gm = xp.moveaxis(g, dim, -1)
    xm = xp.moveaxis(x, dim, -1)
    n = xm.shape[-1]
    out = xp.zeros_like(xm)
    for i in range(n):
        xi = xm.copy()
        xi[..., i] = 1
        p = xp.cumprod(xi, axis=-1)
        out[..., i] = (gm[..., i:] * p[..., i:]).sum(axis=-1)
    return xp.ascontiguousarray(xp.moveaxis(out, -1, dim))


@both
def cumsum(self, dim):
    d = _wrap_dim(dim, _ndim(self.data), "cumsum")
    r = self.data.cumsum(d)
    fn = _node1(CumsumBackward, self)
    if fn is None:
        return _nograd(r, self)
    fn.dim = d
    return _output(r, fn)


@both
def cumprod(self, dim):
    d = _wrap_dim(dim, _ndim(self.data), "cumprod")
    r = self.data.cumprod(d)
    fn = _node1(CumprodBackward, self)
    if fn is None:
        return _nograd(r, self)
    fn.dim = d
    out = _output(r, fn)
    fn._saved = (self, _SavedOutput(r, out._vc, 0))
    fn._saved_versions = (self._vc[0], 0)
    return out


# ---------------------------------------------------------------------- var, std, norm

def _parse_var_args(args, kwargs, op):
    """0.2's var/std overloads: (unbiased=True) | (dim, unbiased=True, keepdim=False)."""
    dim = kwargs.pop("dim", None)
    unbiased = kwargs.pop("unbiased", True)
    keepdim = kwargs.pop("keepdim", False)
    if kwargs:
        raise TypeError("{}() got unexpected keyword arguments {}".format(op, sorted(kwargs)))
    args = list(args)
    if args and isinstance(args[0], bool):
        unbiased = args.pop(0)
    elif args:
        dim = args.pop(0)
        if args:
            # 0.2's cwrap order is (dim, unbiased, keepdim); accept (dim, keepdim) only by keyword
            unbiased = args.pop(0)
        if args:
            keepdim = args.pop(0)
    return dim, unbiased, keepdim


class VarBackward(Function):
    __slots__ = ("shape", "dim", "n", "unbiased", "std")

    def _apply(self, grads):
        g = grads[0]
        graph = isinstance(g, Variable)
        saved = self._unpack(graph)
        x = saved[0]
        dim = self.dim
        mean = x.mean(dim, True) if dim is not None else x.mean()
        centered = x - (expand_to(mean, _data(x)._a.shape) if dim is not None else _mean_all(x))
        scale = 2.0 / (self.n - 1 if self.unbiased else self.n)
        gx = _unreduce(g, self.shape, dim) * centered * scale
        if self.std:
            y = saved[1]
            gx = gx / (_unreduce(y, self.shape, dim) * 2)
        return (gx,)


def _mean_all(x):
    if isinstance(x, Variable):
        return expand_to(mean(x), x.data._a.shape)
    return x.mean()


def _make_var(name, is_std):
    def f(self, *args, **kwargs):
        dim, unbiased, keepdim = _parse_var_args(args, dict(kwargs), name)
        data = self.data
        tensor_fn = getattr(data, name)
        if dim is None:
            d = None
            r = _one(data, tensor_fn(unbiased))
        else:
            d = _wrap_dim(dim, _ndim(data), name)
            r = tensor_fn(d, unbiased, keepdim)
        out, fn = _reduced(self, r, VarBackward, d, keepdim)
        if fn is not None:
            fn.n = data.numel() if d is None else data._a.shape[d]
            fn.unbiased = unbiased
            fn.std = is_std
            if is_std:
                fn._saved = (self, _SavedOutput(r, out._vc, 0))
                fn._saved_versions = (self._vc[0], 0)
            else:
                fn._save(self)
        return out
    f.__name__ = name
    both(f)


_make_var("var", False)
_make_var("std", True)


class NormBackward(Function):
    __slots__ = ("shape", "dim", "p")

    def _apply(self, grads):
        g = grads[0]
        x, y = self._unpack(isinstance(g, Variable))
        p, dim, shape = self.p, self.dim, self.shape
        ge = _unreduce(g, shape, dim)
        ye = _unreduce(y, shape, dim)
        if p == 2:
            return (ge * x / ye,)
        if p == 1:
            return (ge * x.sign(),)
        if p == float("inf"):
            mask = (_data(x).abs() == _data(ye)).type_as(_data(x))
            return (ge * x.sign() * (_plain(mask) if isinstance(g, Variable) else mask),)
        if p == 0:
            return (ge * 0,)
        return (ge * x * x.abs().pow(p - 2) / ye.pow(p - 1),)


@both
def norm(self, p=2, dim=None, keepdim=False):
    data = self.data
    if dim is None:
        d = None
        r = _one(data, data.norm(p))
    else:
        d = _wrap_dim(dim, _ndim(data), "norm")
        r = data.norm(p, d, keepdim)
    out, fn = _reduced(self, r, NormBackward, d, keepdim)
    if fn is not None:
        fn.p = p
        fn._saved = (self, _SavedOutput(r, out._vc, 0))
        fn._saved_versions = (self._vc[0], 0)
    return out


@both
def dist(self, other, p=2):
    if not isinstance(other, Variable):
        raise TypeError("dist() expected a Variable as other, got {}".format(type(other).__name__))
    return norm(self - other, p)


@both
def renorm(self, p, dim, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds maxnorm is scaled to norm maxnorm (as a composite
    of differentiable ops; the factor uses 0.2's 1e-7 guard)."""
    data = self.data
    d = _wrap_dim(dim, _ndim(data), "renorm")
    n = data._a.shape[d]
    flat = reshape(self.transpose(0, d), (n, -1)) if d != 0 else reshape(self, (n, -1))
    norms = norm(flat, p, 1, True)
    nd = norms.data
    over = (nd > maxnorm).type_as(nd)
    factor = (maxnorm / (norms + 1e-7)) * _plain(over) + _plain(1 - over)
    shape = [1] * _ndim(data)
    shape[d] = n
    return self * expand_to(reshape(factor, tuple(shape)), data._a.shape)


@method
def renorm_(self, p, dim, maxnorm):
    from .pointwise import inplace_via_copy
    return inplace_via_copy(self, renorm, p, dim, maxnorm)

