"""Views, indexing, joining and type conversion of Variables: view, expand, transpose, permute,
squeeze/unsqueeze, narrow, select, unfold, repeat, ``[]`` and ``[]=``, index_select/index_add/...,
gather/scatter, the masked ops, cat/stack/split/chunk, clone/contiguous/copy_, type casts, diag/tril/triu.

View results share their input's memory and version counter, as in 0.2: an in-place op on one of them
while the other is alive raises (see ``variable._check_inplace``), and a saved view that is modified
in place is detected at backward.

The backward of an index is an "embed" (zeros with the gradient written at the indexed places) and
the backward of an embed is the index again, so both are differentiable any number of times.
"""
import builtins
import numbers
import operator

import numpy as np

from ember import cuda as _cuda
from ember.tensor import (_TensorBase, _typename_of, _wrap_dim, _resolve_type, _sizes_arg,
                          LongTensor)
from .utils import (Function, Variable, _check_inplace, _data, _inplace_result, _inplace_volatile, _node1,
                    _nodes, _nograd, _number, _output, _plain, _share_vc, both, device_of, function, method,
                    sum_to, zeros_like_data)


builtins_type = builtins.type


def _shape(v):
    return v.data._a.shape


def _ndim(t):
    a = t._a
    return a.ndim if a.size else 0


def _view_out(self, r, fn):
    out = _nograd(r, self) if fn is None else _output(r, fn)
    out._vc = _share_vc(self, out)
    return out


# ---------------------------------------------------------------------- reshaping views

class ViewBackward(Function):
    """view / resize / squeeze / unsqueeze: the gradient takes the input's shape back."""
    __slots__ = ("shape",)

    def _apply(self, grads):
        g = grads[0]
        shape = self.shape
        if _data(g)._a.shape == shape:
            return (g,)
        return (reshape(g, shape),)


def reshape(x, shape):
    """``x`` (tensor or Variable) with the given shape: a view when contiguous, else a copy."""
    if isinstance(x, Variable):
        data = x.data
        is_view = data.is_contiguous()
        r = (data if is_view else data.contiguous()).view(shape)
        fn = _node1(ViewBackward, x)
        if fn is not None:
            fn.shape = _shape(x)
        if is_view:
            return _view_out(x, r, fn)
        return _nograd(r, x) if fn is None else _output(r, fn)
    return (x if x.is_contiguous() else x.contiguous()).view(shape)


def _reshaping(name):
    def f(self, *args):
        r = getattr(self.data, name)(*args)
        fn = _node1(ViewBackward, self)
        if fn is not None:
            fn.shape = _shape(self)
        return _view_out(self, r, fn)
    f.__name__ = name
    return method(f)


view = _reshaping("view")
_reshaping("squeeze")
_reshaping("unsqueeze")


@method
def view_as(self, tensor):
    return view(self, _data(tensor).size())


@method
def resize(self, *sizes):
    """0.2's out-of-place resize: the same elements, read in order, with the given sizes."""
    sizes = _sizes_arg(sizes, "resize")
    n = 1
    for s in sizes:
        n *= s
    if n != self.data.numel():
        raise RuntimeError("resize(): Variable.resize can't change the number of elements ({} to {}); use "
                           "resize_ on .data".format(self.data.numel(), n))
    return reshape(self, sizes)


@method
def resize_as(self, variable):
    return resize(self, _data(variable).size())


def _inplace_view(name):
    def f_(self, *args):
        _check_inplace(self)
        fn = None if self._volatile else _node1(ViewBackward, self)
        if fn is not None:
            fn.shape = _shape(self)
        getattr(self.data, name + "_")(*args)
        return _inplace_result(self, fn)
    f_.__name__ = name + "_"
    return method(f_)


_inplace_view("squeeze")
_inplace_view("unsqueeze")


class ExpandBackward(Function):
    __slots__ = ("shape",)

    def _apply(self, grads):
        return (sum_to(grads[0], self.shape),)


@method
def expand(self, *sizes):
    r = self.data.expand(*sizes)
    fn = _node1(ExpandBackward, self)
    if fn is not None:
        fn.shape = _shape(self)
    return _view_out(self, r, fn)


@method
def expand_as(self, tensor):
    return expand(self, _data(tensor).size())


class TransposeBackward(Function):
    __slots__ = ("d0", "d1")

    def _apply(self, grads):
        return (grads[0].transpose(self.d0, self.d1),)


@method
def transpose(self, dim0, dim1):
    r = self.data.transpose(dim0, dim1)
    fn = _node1(TransposeBackward, self)
    if fn is not None:
        fn.d0, fn.d1 = dim0, dim1
    return _view_out(self, r, fn)


@method
def t(self):
    r = self.data.t()
    fn = _node1(TransposeBackward, self)
    if fn is not None:
        fn.d0, fn.d1 = 0, 1
    return _view_out(self, r, fn)


@method
def transpose_(self, dim0, dim1):
    _check_inplace(self)
    fn = None if self._volatile else _node1(TransposeBackward, self)
    if fn is not None:
        fn.d0, fn.d1 = dim0, dim1
    self.data.transpose_(dim0, dim1)
    return _inplace_result(self, fn)


@method
def t_(self):
    return transpose_(self, 0, 1)


class PermuteBackward(Function):
    __slots__ = ("inverse",)

    def _apply(self, grads):
        return (grads[0].permute(*self.inverse),)


@method
def permute(self, *dims):
    r = self.data.permute(*dims)
    fn = _node1(PermuteBackward, self)
    if fn is not None:
        d = _sizes_arg(dims, "permute")
        n = len(d)
        d = [x + n if x < 0 else x for x in d]
        inv = [0] * n
        for i, x in enumerate(d):
            inv[x] = i
        fn.inverse = tuple(inv)
    return _view_out(self, r, fn)


# ---------------------------------------------------------------------- index and embed

_BASIC = (slice, int, builtins_type(None), builtins_type(Ellipsis))


def _advanced(key):
    for k in key:
        if not isinstance(k, _BASIC):
            return True
    return False


def _int_arrays(key):
    for k in key:
        if not isinstance(k, _BASIC) and k.dtype.kind != "b":
            return True
    return False


def _index_tensor(t, key, advanced):
    if not advanced:
        return t._view(t._a[key])
    with device_of(t):  # an advanced index gathers into a new array
        r = t._a[key]
        if r.ndim == 0:
            r = r.reshape(1)
        return builtins_type(t)._make(builtins_type(t)._xp.ascontiguousarray(r))


def _embed_tensor(g, shape, key, accumulate, like):
    """zeros(shape) with ``g`` written at ``key`` (added, where integer indices may repeat)."""
    cls = builtins_type(like)
    xp = cls._xp
    with device_of(like):
        z = xp.zeros(shape, cls._dtype)
        ga = g._a
        target_shape = z[key].shape
        if ga.shape != target_shape:
            ga = ga.reshape(target_shape)
        if accumulate and _int_arrays(key):
            xp.add.at(z, key, ga)
        else:
            z[key] = ga
    return cls._make(z)


class IndexBackward(Function):
    __slots__ = ("shape", "key")

    def _apply(self, grads):
        return (embed(grads[0], self.shape, self.key, True),)


class EmbedBackward(Function):
    __slots__ = ("key",)

    def _apply(self, grads):
        return (index_key(grads[0], self.key),)


def index_key(x, key, result=None):
    """``x[key]`` for a NumPy-style ``key`` (tensor or Variable); ``result``: the tensor already computed."""
    advanced = _advanced(key)
    if isinstance(x, Variable):
        r = _index_tensor(x.data, key, advanced) if result is None else result
        fn = _node1(IndexBackward, x)
        if fn is not None:
            fn.shape, fn.key = _shape(x), key
        if advanced:
            return _nograd(r, x) if fn is None else _output(r, fn)
        return _view_out(x, r, fn)
    return _index_tensor(x, key, advanced) if result is None else result


def embed(g, shape, key, accumulate):
    """zeros(shape) with ``g`` placed at ``key`` (tensor or Variable)."""
    if isinstance(g, Variable):
        r = _embed_tensor(g.data, shape, key, accumulate, g.data)
        fn = _node1(EmbedBackward, g)
        if fn is None:
            return _nograd(r, g)
        fn.key = key
        return _output(r, fn)
    return _embed_tensor(g, shape, key, accumulate, g)


def _unwrap_index(idx):
    if isinstance(idx, Variable):
        return idx.data
    if isinstance(idx, tuple):
        return tuple(i.data if isinstance(i, Variable) else i for i in idx)
    return idx


def _numpy_key(idx, data):
    """The NumPy (CuPy for CUDA ``data``) index equivalent to a (validated) 0.2 index of ``data``."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    key = []
    for i in idx:
        if isinstance(i, _TensorBase):
            a = i._a
            key.append(a.view(np.bool_) if a.dtype == np.uint8 else a)
        elif isinstance(i, (list, np.ndarray)):
            key.append(_index_array(i, data))
        elif isinstance(i, numbers.Integral) and not isinstance(i, bool):
            key.append(operator.index(i))
        else:
            key.append(i)
    return tuple(key)


def _index_array(values, data):
    """An index array of ``values`` (a list or a host array) on ``data``'s device."""
    if not data.is_cuda:
        return np.asarray(values)
    with device_of(data):
        return builtins_type(data)._xp.asarray(values)


def _keep_dim_key(key, data):
    """A key selecting the same single element as ``key`` but keeping one dim (0.2 Variables have no
    scalars): the last integer becomes a one-element list."""
    key = list(key)
    for i in range(len(key) - 1, -1, -1):
        if isinstance(key[i], numbers.Integral) and not isinstance(key[i], bool):
            key[i] = _index_array([key[i]], data)
            break
    return tuple(key)


def _getitem(self, idx):
    data = self.data
    idx = _unwrap_index(idx)
    r = data[idx]  # validation and error messages come from the tensor layer
    key = (idx,) if builtins_type(idx) is int else _numpy_key(idx, data)
    if not isinstance(r, _TensorBase):
        return index_key(self, _keep_dim_key(key, data))
    return index_key(self, key, r)


Variable.__getitem__ = _getitem


@method
def index(self, m):
    return _getitem(self, m)


class SetItemBackward(Function):
    __slots__ = ("key", "mask", "value_shape")

    def _apply(self, grads):
        g = grads[0]
        (fs, _), (fv, _) = self.next_functions
        gs = gv = None
        if fs is not None:
            keep = self.mask
            gs = g * (_plain(keep) if isinstance(g, Variable) else keep)
        if fv is not None:
            gv = sum_to(index_key(g, self.key), self.value_shape)
        return (gs, gv)


def _setitem(self, idx, value):
    data = self.data
    idx = _unwrap_index(idx)
    _check_inplace(self)
    key = _numpy_key(idx, data)
    if isinstance(value, Variable):
        data[idx] = value.data
        other = value
    elif _number(value):
        data[idx] = value
        other = None
    else:
        raise TypeError("__setitem__: can't assign a {} to a Variable; assign a Variable or a number"
                        .format(_typename_of(value)))
    if _inplace_volatile(self, other):
        return _inplace_result(self, None)
    inputs = (self, other) if other is not None else (self, None)
    fn = _nodes(SetItemBackward, inputs)
    if fn is not None:
        cls = builtins_type(data)
        with device_of(data):
            keep = cls._xp.ones(data._a.shape, cls._dtype)
            keep[key] = 0
        fn.mask = cls._make(keep)
        fn.key = key
        fn.value_shape = _shape(value) if other is not None else None
    _inplace_result(self, fn)


Variable.__setitem__ = _setitem


class NarrowBackward(Function):
    __slots__ = ("shape", "key")

    def _apply(self, grads):
        return (embed(grads[0], self.shape, self.key, False),)


def _narrow_key(ndim, d, start, length):
    key = [slice(None)] * ndim
    key[d] = slice(start, start + length)
    return tuple(key)


@method
def narrow(self, dimension, start, length):
    r = self.data.narrow(dimension, start, length)
    fn = _node1(NarrowBackward, self)
    if fn is not None:
        a = self.data._a
        d = _wrap_dim(dimension, a.ndim, "narrow")
        fn.shape, fn.key = a.shape, _narrow_key(a.ndim, d, start, length)
    return _view_out(self, r, fn)


@method
def select(self, dim, index):
    """As Tensor.select, but a 1-D Variable gives a Variable of size 1 (0.2 Variables have no scalars)."""
    a = self.data._a
    d = _wrap_dim(dim, a.ndim if a.size else 0, "select")
    i = operator.index(index)
    self.data.select(d, i)  # the tensor layer's checks
    key = [slice(None)] * a.ndim
    key[d] = i if a.ndim > 1 else _index_array([i], self.data)
    return index_key(self, tuple(key))


@function
def unbind(tensor, dim=0):
    n = tensor.size(dim)
    return tuple(select(tensor, dim, i) for i in range(n))


class UnfoldBackward(Function):
    __slots__ = ("shape", "dim", "size", "step")

    def _apply(self, grads):
        return (fold(grads[0], self.shape, self.dim, self.size, self.step),)


class FoldBackward(Function):
    __slots__ = ("dim", "size", "step")

    def _apply(self, grads):
        return (unfold(grads[0], self.dim, self.size, self.step),)


def _fold_tensor(g, shape, dim, size, step):
    """The adjoint of unfold: window element k of window i is added at position i*step + k."""
    cls = builtins_type(g)
    xp = cls._xp
    z = xp.zeros(shape, cls._dtype)
    ga = g._a
    n = ga.shape[dim] if len(shape) else ga.shape[0]
    if not len(shape):
        return cls._make(z)
    for k in range(size):
        key = [slice(None)] * len(shape)
        key[dim] = slice(k, k + (n - 1) * step + 1, step)
        z[tuple(key)] += ga[..., k]
    return cls._make(z)


def fold(g, shape, dim, size, step):
    if isinstance(g, Variable):
        r = _fold_tensor(g.data, shape, dim, size, step)
        fn = _node1(FoldBackward, g)
        if fn is None:
            return _nograd(r, g)
        fn.dim, fn.size, fn.step = dim, size, step
        return _output(r, fn)
    return _fold_tensor(g, shape, dim, size, step)


@method
def unfold(self, dim, size, step):
    if not isinstance(self, Variable):  # reached from FoldBackward with a tensor
        return self.unfold(dim, size, step)
    r = self.data.unfold(dim, size, step)
    fn = _node1(UnfoldBackward, self)
    if fn is not None:
        a = self.data._a
        fn.shape = a.shape
        fn.dim = _wrap_dim(dim, a.ndim if a.size else 0, "unfold")
        fn.size, fn.step = size, step
    return _view_out(self, r, fn)


class RepeatBackward(Function):
    """Sum the gradient over the tiles: view it as (r0, s0, r1, s1, ...) and sum the r axes."""
    __slots__ = ("shape", "reps")

    def _apply(self, grads):
        g = grads[0]
        shape, reps = self.shape, self.reps
        full = (1,) * (len(reps) - len(shape)) + tuple(shape)
        inter = []
        for r, n in zip(reps, full):
            inter.extend((r, n))
        if isinstance(g, Variable):
            g = reshape(g, tuple(inter))
            for d in range(len(reps) - 1, -1, -1):
                g = g.sum(2 * d)
            return (reshape(g, tuple(shape)),)
        a = g._a.reshape(inter).sum(axis=tuple(range(0, 2 * len(reps), 2)))
        return (builtins_type(g)._make(builtins_type(g)._xp.ascontiguousarray(a.reshape(shape))),)


@method
def repeat(self, *sizes):
    r = self.data.repeat(*sizes)
    fn = _node1(RepeatBackward, self)
    if fn is None:
        return _nograd(r, self)
    fn.shape, fn.reps = _shape(self), _sizes_arg(sizes, "repeat")
    return _output(r, fn)


# ---------------------------------------------------------------------- copies and types

class CloneBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        return (grads[0],)


@method
def clone(self):
    r = self.data.clone()
    fn = _node1(CloneBackward, self)
    return _nograd(r, self) if fn is None else _output(r, fn)


@method
def contiguous(self):
    """As 0.2: make ``self.data`` contiguous (in place) and return self."""
    self.data = self.data.contiguous()
    return self


def _device(t):
    """The GPU of tensor ``t``, or None for a CPU tensor."""
    return t.get_device() if t.is_cuda else None


def _back_to(g, cls, device):
    """Gradient ``g`` returned to where its input came from: type ``cls`` on GPU ``device`` (None: the CPU)."""
    d = _data(g)
    if device is not None and (not d.is_cuda or d.get_device() != device):
        g = g.cuda(device)
    return g if builtins_type(_data(g)) is cls else g.type(cls)


class TypeBackward(Function):
    """Undo a type conversion or device copy (``type``, ``cuda``, ``cpu``)."""
    __slots__ = ("cls", "device")

    def _apply(self, grads):
        return (_back_to(grads[0], self.cls, self.device),)


@method(name="type")
def type_(self, t=None, **kwargs):
    if t is None:
        return builtins_type(self.data)._typename
    cls = _resolve_type(t)
    if cls is builtins_type(self.data):
        return self
    r = self.data.type(cls, **kwargs)
    return _converted(self, r)


def _converted(self, r):
    """The Variable of ``r``, ``self``'s data converted to another type or device."""
    fn = _node1(TypeBackward, self)
    if fn is None:
        return _nograd(r, self)
    fn.cls = builtins_type(self.data)
    fn.device = _device(self.data)
    return _output(r, fn)


@method
def type_as(self, other):
    return type_(self, builtins_type(_data(other)))


def _cast(kind):
    def f(self):
        cls_name = ("torch.cuda." if self.data.is_cuda else "torch.") + kind + "Tensor"
        return type_(self, cls_name)
    f.__name__ = kind.lower()
    return method(f)


for _kind in ("Double", "Float", "Half", "Long", "Int", "Short", "Char", "Byte"):
    _cast(_kind)
del _kind


@method
def cuda(self, device_id=None, **kwargs):  # kwargs: 0.2's `async`, ember's `device`
    kwargs.pop("async", None)
    kwargs.pop("non_blocking", None)
    r = self.data.cuda(kwargs.pop("device", device_id))
    if r is self.data:
        return self
    return _converted(self, r)


@method
def cpu(self):
    if not self.data.is_cuda:
        return self
    return type_(self, builtins_type(self.data)._typename.replace("torch.cuda.", "torch."))


class CopyBackward(Function):
    """dst.copy_(src): dst's old value gets no gradient, src gets the gradient (reduced to its size, on
    its type and device)."""
    __slots__ = ("src_shape", "src_cls", "src_device")

    def _apply(self, grads):
        gs = None
        if self.next_functions[1][0] is not None:
            gs = sum_to(_back_to(grads[0], self.src_cls, self.src_device), self.src_shape)
        return (None, gs)


@method
def copy_(self, src, broadcast=True, **kwargs):
    _check_inplace(self)
    if isinstance(src, Variable):
        self.data.copy_(src.data, broadcast, **kwargs)
    elif isinstance(src, _TensorBase):
        self.data.copy_(src, broadcast, **kwargs)
        src = None
    else:
        raise TypeError("copy_(): expected a Variable or a tensor as source, got {}".format(_typename_of(src)))
    if _inplace_volatile(self, src):
        return _inplace_result(self, None)
    fn = _nodes(CopyBackward, (self, src)) if src is not None else None
    if fn is not None:
        fn.src_shape = _shape(src)
        fn.src_cls = builtins_type(src.data)
        fn.src_device = _device(src.data)
    elif self._requires_grad:  # overwritten with a constant: the old history no longer matters
        fn = _nodes(CopyBackward, (self, None))
    return _inplace_result(self, fn)


class ConstantBackward(Function):
    """The result no longer depends on the input (zero_, fill_, random fills)."""
    __slots__ = ()

    def _apply(self, grads):
        return (None,)


def _constant_inplace(name):
    def f_(self, *args, **kwargs):
        _check_inplace(self)
        getattr(self.data, name)(*args, **kwargs)
        fn = None if self._volatile else _node1(ConstantBackward, self)
        return _inplace_result(self, fn)
    f_.__name__ = name
    return method(f_)


for _n in ("zero_", "fill_", "uniform_", "normal_", "random_", "bernoulli_", "exponential_", "cauchy_",
           "log_normal_", "geometric_"):
    if hasattr(_TensorBase, _n):
        _constant_inplace(_n)
del _n


# ---------------------------------------------------------------------- index_* along a dim

def _long(index, data, op):
    """``index`` (a Variable or tensor) as a LongTensor of ``data``'s kind: torch.cuda.LongTensor for CUDA."""
    index = _data(index)
    if data.is_cuda:
        if not isinstance(index, _cuda.LongTensor):
            raise TypeError("{}(): index must be a torch.cuda.LongTensor (or a Variable of one), got {}"
                            .format(op, _typename_of(index)))
    elif not isinstance(index, LongTensor):
        raise TypeError("{}(): index must be a LongTensor (or a Variable of one), got {}"
                        .format(op, _typename_of(index)))
    return index


def _selection_pair(select, accumulate):
    """A selection op along a dim (index_select, gather) and its adjoint, the accumulation of a gradient
    into zeros (index_add_, scatter_add_): each is the other's backward, so both differentiate any number
    of times. Returns (the Variable op, into(g, shape, dim, index))."""

    class SelectBackward(Function):
        __slots__ = ("shape", "dim", "index")

        def _apply(self, grads):
            return (into(grads[0], self.shape, self.dim, self.index),)

    class AccumulateBackward(Function):
        __slots__ = ("dim", "index")

        def _apply(self, grads):
            return (getattr(grads[0], select)(self.dim, self.index),)

    SelectBackward.__name__ = SelectBackward.__qualname__ = select.title().replace("_", "") + "Backward"
    AccumulateBackward.__name__ = AccumulateBackward.__qualname__ = accumulate.title().replace("_", "") + "IntoBackward"

    def into(g, shape, dim, index):
        """zeros(shape).<accumulate>(dim, index, g), differentiable in g."""
        if isinstance(g, Variable):
            r = getattr(zeros_like_data(g.data, shape), accumulate)(dim, index, g.data)
            fn = _node1(AccumulateBackward, g)
            if fn is None:
                return _nograd(r, g)
            fn.dim, fn.index = dim, index
            return _output(r, fn)
        return getattr(zeros_like_data(g, shape), accumulate)(dim, index, g)

    def op(self, dim, index):
        index = _long(index, self.data, select)
        r = getattr(self.data, select)(dim, index)
        fn = _node1(SelectBackward, self)
        if fn is None:
            return _nograd(r, self)
        fn.shape, fn.dim, fn.index = _shape(self), dim, index
        return _output(r, fn)

    op.__name__ = op.__qualname__ = select
    return both(op), into


index_select, index_add_into = _selection_pair("index_select", "index_add_")


class IndexAddBackward(Function):
    __slots__ = ("dim", "index", "mode")

    def _apply(self, grads):
        g = grads[0]
        (fs, _), (fv, _) = self.next_functions
        gs = gv = None
        if fs is not None:
            if self.mode == "add":
                gs = g
            else:  # copy / fill: the overwritten rows get no gradient
                gs = _masked_rows(g, self.dim, self.index)
        if fv is not None:
            gv = g.index_select(self.dim, self.index)
        return (gs, gv)


def _masked_rows(g, dim, index):
    keep = zeros_like_data(_data(g)).fill_(1).index_fill_(dim, index, 0)
    return g * (_plain(keep) if isinstance(g, Variable) else keep)


def _index_inplace(mode):
    name = "index_" + mode + "_"

    def f_(self, dim, index, source):
        _check_inplace(self)
        index = _long(index, self.data, name)
        if mode == "fill":
            self.data.index_fill_(dim, index, source)
            src = None
        else:
            if not isinstance(source, Variable):
                raise TypeError("{}(): source must be a Variable, got {}".format(name, _typename_of(source)))
            getattr(self.data, name)(dim, index, source.data)
            src = source
        if _inplace_volatile(self, src):
            return _inplace_result(self, None)
        fn = _nodes(IndexAddBackward, (self, src))
        if fn is not None:
            fn.dim, fn.index, fn.mode = dim, index, mode
        return _inplace_result(self, fn)

    def f(self, dim, index, source):
        return f_(clone(self), dim, index, source)
    f_.__name__, f.__name__ = name, name[:-1]
    method(f_)
    method(f)


for _m in ("add", "copy", "fill"):
    _index_inplace(_m)
del _m


gather, scatter_add_into = _selection_pair("gather", "scatter_add_")


class ScatterBackward(Function):
    __slots__ = ("dim", "index", "add")

    def _apply(self, grads):
        g = grads[0]
        (fs, _), (fv, _) = self.next_functions
        gs = gv = None
        if fs is not None:
            if self.add:
                gs = g
            else:
                keep = zeros_like_data(_data(g)).fill_(1).scatter_(self.dim, self.index, 0)
                gs = g * (_plain(keep) if isinstance(g, Variable) else keep)
        if fv is not None:
            gv = g.gather(self.dim, self.index)
        return (gs, gv)


def _scatter_inplace(add):
    name = "scatter_add_" if add else "scatter_"

    def f_(self, dim, index, source):
        _check_inplace(self)
        index = _long(index, self.data, name)
        if isinstance(source, Variable):
            getattr(self.data, name)(dim, index, source.data)
            src = source
        elif not add and _number(source):
            self.data.scatter_(dim, index, source)
            src = None
        else:
            raise TypeError("{}(): source must be a Variable{}, got {}".format(
                name, "" if add else " or a number", _typename_of(source)))
        if _inplace_volatile(self, src):
            return _inplace_result(self, None)
        fn = _nodes(ScatterBackward, (self, src))
        if fn is not None:
            fn.dim, fn.index, fn.add = dim, index, add
            if src is not None and _shape(src) != index._a.shape:
                raise NotImplementedError("{}(): the gradient of a source larger than index is not supported"
                                          .format(name))
        return _inplace_result(self, fn)

    def f(self, dim, index, source):
        return f_(clone(self), dim, index, source)
    f_.__name__, f.__name__ = name, name[:-1]
    method(f_)
    method(f)


_scatter_inplace(False)
_scatter_inplace(True)


# ---------------------------------------------------------------------- masks

def _mask(mask, op):
    mask = _data(mask)
    if not isinstance(mask, _TensorBase):
        raise TypeError("{}(): mask must be a ByteTensor (or a Variable of one), got {}"
                        .format(op, _typename_of(mask)))
    return mask


def _float_mask(mask, like, shape):
    m = mask.type_as(like)
    if m._a.shape != shape:
        m = m.expand(shape) if len(shape) >= m._a.ndim else m.contiguous().view(shape)
    return m


class MaskedFillBackward(Function):
    __slots__ = ("mask",)

    def _apply(self, grads):
        g = grads[0]
        keep = 1 - _float_mask(self.mask, _data(g), _data(g)._a.shape)
        return (g * (_plain(keep) if isinstance(g, Variable) else keep),)


@method
def masked_fill_(self, mask, value):
    _check_inplace(self)
    mask = _mask(mask, "masked_fill_")
    if isinstance(value, Variable):
        value = value.data[0] if value.data.numel() == 1 else value.data
    self.data.masked_fill_(mask, value)
    fn = None if self._volatile else _node1(MaskedFillBackward, self)
    if fn is not None:
        fn.mask = mask
    return _inplace_result(self, fn)


@method
def masked_fill(self, mask, value):
    return masked_fill_(clone(self), mask, value)


class MaskedScatterBackward(Function):
    __slots__ = ("mask", "src_shape")

    def _apply(self, grads):
        g = grads[0]
        (fs, _), (fv, _) = self.next_functions
        gs = gv = None
        shape = _data(g)._a.shape
        if fs is not None:
            keep = 1 - _float_mask(self.mask, _data(g), shape)
            gs = g * (_plain(keep) if isinstance(g, Variable) else keep)
        if fv is not None:
            sel = masked_select(g, self.mask)
            n = 1
            for s in self.src_shape:
                n *= s
            gv = _pad_flat(sel, n)
            gv = reshape(gv, self.src_shape)
        return (gs, gv)


def _pad_flat(x, n):
    """1-D ``x`` followed by zeros up to length n."""
    k = _data(x).numel()
    if k == n:
        return x
    if isinstance(x, Variable):
        return embed(x, (n,), (slice(0, k),), False) if k else _plain(zeros_like_data(x.data, (n,)))
    return _embed_tensor(x, (n,), (slice(0, k),), False, x) if k else zeros_like_data(x, (n,))


@method
def masked_scatter_(self, mask, source):
    _check_inplace(self)
    mask = _mask(mask, "masked_scatter_")
    if not isinstance(source, Variable):
        raise TypeError("masked_scatter_(): source must be a Variable, got {}".format(_typename_of(source)))
    self.data.masked_scatter_(mask, source.data)
    if _inplace_volatile(self, source):
        return _inplace_result(self, None)
    fn = _nodes(MaskedScatterBackward, (self, source))
    if fn is not None:
        fn.mask, fn.src_shape = mask, _shape(source)
    return _inplace_result(self, fn)


@method
def masked_scatter(self, mask, source):
    return masked_scatter_(clone(self), mask, source)


@method
def masked_copy_(self, mask, source):
    import warnings
    warnings.warn("masked_copy_ is deprecated and renamed to masked_scatter_, and will be removed in v0.3",
                  stacklevel=2)
    return masked_scatter_(self, mask, source)


@method
def masked_copy(self, mask, source):
    import warnings
    warnings.warn("masked_copy is deprecated and renamed to masked_scatter, and will be removed in v0.3",
                  stacklevel=2)
    return masked_scatter(self, mask, source)


class MaskedSelectBackward(Function):
    __slots__ = ("shape", "mask")

    def _apply(self, grads):
        g = grads[0]
        m = _bool_key(self.mask, self.shape)
        return (embed(g, self.shape, (m,), False),)


def _bool_key(mask, shape):
    m = mask._a.astype(bool)
    if m.shape != shape:
        m = builtins_type(mask)._xp.broadcast_to(m, shape) if len(shape) >= m.ndim else m.reshape(shape)
    return m


@both
def masked_select(self, mask):
    if not isinstance(self, Variable):  # reached from a formula with a tensor
        return self.masked_select(_data(mask))
    mask = _mask(mask, "masked_select")
    r = self.data.masked_select(mask)
    fn = _node1(MaskedSelectBackward, self)
    if fn is None:
        return _nograd(r, self)
    fn.shape, fn.mask = _shape(self), mask
    return _output(r, fn)


# ---------------------------------------------------------------------- joining and splitting

class CatBackward(Function):
    __slots__ = ("dim", "sizes")

    def _apply(self, grads):
        g = grads[0]
        out = []
        start = 0
        for n in self.sizes:
            if n is None:
                out.append(None)
                continue
            out.append(g.narrow(self.dim, start, n))
            start += n
        return tuple(out)


def _seq(seq, op):
    try:
        items = list(seq)
    except TypeError:
        raise TypeError("{}(): expected a sequence of Variables, got {}".format(op, _typename_of(seq))) from None
    for i, v in enumerate(items):
        if not isinstance(v, Variable):
            raise TypeError("{}(): expected a sequence of Variables, but element {} is {} (Variables and tensors "
                            "can't be mixed)".format(op, i, _typename_of(v)))
    return items


@function
def cat(seq, dim=0, out=None):
    if out is not None:
        raise NotImplementedError("cat(): out= is not supported for Variables")
    items = _seq(seq, "cat")
    r = _cat_tensors([v.data for v in items], dim)
    fn = _nodes(CatBackward, items)
    if fn is None:
        return _nograd(r, *items)
    ref = next((v.data._a for v in items if v.data._a.size), None)
    d = _wrap_dim(dim, ref.ndim if ref is not None else 1, "cat")
    fn.dim = d
    fn.sizes = tuple(v.data._a.shape[d] if v.data._a.size else None for v in items)
    return _output(r, fn)


def _cat_tensors(tensors, dim):
    import ember
    return ember.cat(tensors, dim)


@function
def stack(sequence, dim=0, out=None):
    if out is not None:
        raise NotImplementedError("stack(): out= is not supported for Variables")
    items = _seq(sequence, "stack")
    if not items:
        raise ValueError("stack expects a non-empty sequence of Variables")
    nd = _ndim(items[0].data)
    d = _wrap_dim(dim, nd + 1, "stack")
    return cat([unsqueeze(v, d) for v in items], d)


unsqueeze = Variable.unsqueeze


@both
def split(self, split_size, dim=0):
    n = self.size(dim)
    split_size = operator.index(split_size)
    if split_size <= 0:
        raise RuntimeError("split(): split_size must be a positive int, got {}".format(split_size))
    return tuple(narrow(self, dim, i, min(split_size, n - i)) for i in range(0, n, split_size))


@both
def chunk(self, n_chunks, dim=0):
    n_chunks = operator.index(n_chunks)
    if n_chunks <= 0:
        raise RuntimeError("chunk(): chunks must be a positive int, got {}".format(n_chunks))
    n = self.size(dim)
    return split(self, -(-n // n_chunks), dim)


# ---------------------------------------------------------------------- diag, tril, triu

def _diag_key(shape, k, data):
    """The (rows, cols) index of diagonal k of a matrix of the given shape, on ``data``'s device."""
    n, m = shape
    xp = builtins_type(data)._xp
    with device_of(data):
        if k >= 0:
            rows = xp.arange(max(0, min(n, m - k)))
            return (rows, rows + k)
        cols = xp.arange(max(0, min(n + k, m)))
        return (cols - k, cols)


@both
def diag(self, diagonal=0):
    a = self.data._a
    r = self.data.diag(diagonal)
    nd = _ndim(self.data)
    if nd == 2:
        # a vector of the diagonal: an advanced index of the matrix
        return index_key(self, _diag_key(a.shape, diagonal, r)) if r.numel() else _nograd(r, self)
    # a vector to a matrix: embed it on the diagonal
    size = r._a.shape
    out = embed(self, size, _diag_key(size, diagonal, r), False)
    return out


class TriBackward(Function):
    __slots__ = ("k", "upper")

    def _apply(self, grads):
        g = grads[0]
        return (g.triu(self.k) if self.upper else g.tril(self.k),)


def _make_tri(name, upper):
    def f(self, diagonal=0):
        r = getattr(self.data, name)(diagonal)
        fn = _node1(TriBackward, self)
        if fn is None:
            return _nograd(r, self)
        fn.k, fn.upper = diagonal, upper
        return _output(r, fn)

    def f_(self, diagonal=0):
        _check_inplace(self)
        fn = None if self._volatile else _node1(TriBackward, self)
        if fn is not None:
            fn.k, fn.upper = diagonal, upper
        getattr(self.data, name + "_")(diagonal)
        return _inplace_result(self, fn)
    f.__name__, f_.__name__ = name, name + "_"
    both(f)
    method(f_)


_make_tri("tril", False)
_make_tri("triu", True)


@both
def trace(self):
    if _ndim(self.data) != 2:
        self.data.trace()  # the tensor layer's error
    return diag(self).sum()

