"""Indexing ops: index_select / index_add_ / index_copy_ / index_fill_, gather / scatter_ / scatter_add_,
the masked ops, nonzero, diag, tril / triu, ``index(m)``, and the ember extras take / put_.

Index tensors are LongTensors, masks ByteTensors holding 0 and 1 (as 0.2 demanded). Indices are 0-based
and never negative, except in the extras take / put_, which count negative indices from the end as
later PyTorch does. The gather/scatter loops and tril/triu are Cython kernels (ember/_C/indexing.pyx);
an out-of-range index raises after the kernel ran, so an in-place op may have written the valid part,
as 0.2's TH loops did. CUDA tensors take CuPy paths (take / take_along_axis / scatter_add / masks), with the
indices range-checked before anything is written.
"""
import math
import warnings

import numpy as np

from ember._C import elementwise as _elementwise
from ember._C import indexing as _k
from ember._threads import get_num_threads
from ember.tensor import LongTensor, _TensorBase, _fmt_size, _scalar_for, _typename_of
from . import both, tensor_method
from ._util import broadcast_error, finish, long_cls, new_result, tensor_operand, wrap_dim, xp_of

_ndarray = np.ndarray
_i64 = np.dtype(np.int64)
_bool = np.dtype(np.bool_)
_FILL_KERNEL_MIN = 4096  # elements from which masked_fill_ takes the blend kernel (NumPy's branches per element)
_MOVE = {1: np.dtype(np.int8), 2: np.dtype(np.int16), 4: np.dtype(np.int32), 8: np.dtype(np.int64)}
_COPY, _FILL, _ADD = 0, 1, 2  # the kernel's scatter modes
# scatter_add / index_add_ / put_(accumulate=True) run in Cython for these; float16 falls back to NumPy
_ARITH = {np.dtype(t) for t in (np.float32, np.float64, np.int64, np.int32, np.int16, np.int8, np.uint8)}


# ---------------------------------------------------------------------- argument checks

def _invalid(op, args, expected):
    return TypeError("{} received an invalid combination of arguments - got ({}), but expected ({})"
                     .format(op, ", ".join(_typename_of(a) for a in args), expected))


def _long_of(t):
    """The index type for tensor ``t``: LongTensor, or ember.cuda.LongTensor for a CUDA tensor."""
    return LongTensor if not t.is_cuda else long_cls(type(t))


def _index_vector(self, dim, index, op, expected):
    """The 1-D index array of index_select / index_add_ / index_copy_ / index_fill_ (C-contiguous)."""
    long_cls = _long_of(self)
    if type(index) is not long_cls:  # a CUDA tensor names torch.cuda.LongTensor as the index it expects
        raise _invalid(op, (dim, index), expected.replace("torch.LongTensor", long_cls._typename))
    idx = index._a
    if idx.ndim != 1:
        raise RuntimeError("{}(): index is supposed to be a vector, got a {} tensor"
                           .format(op, _fmt_size(idx.shape)))
    return idx if idx.flags.c_contiguous else xp_of(idx).ascontiguousarray(idx)


def _mask(self, mask, op):
    """``mask`` as a bool array (a view of its 0/1 bytes)."""
    if type(mask) is not type(self)._byte_cls:
        raise TypeError("{}(): expected mask to be a {}, got {}"
                        .format(op, type(self)._byte_cls._typename, _typename_of(mask)))
    m = mask._a
    if m.size and m.max() > 1:
        raise RuntimeError("{}(): mask tensor can take 0 and 1 values only, got {}".format(op, int(m.max())))
    return m.view(_bool)


def _mask_for(a, m, op):
    """``m`` broadcast to ``a``'s shape, or 0.2's fallback: equal element counts pair up elementwise."""
    if m.shape == a.shape:
        return m
    try:
        return np.broadcast_to(m, a.shape)
    except ValueError:
        if m.size == a.size and a.size:
            warnings.warn("{}: mask and self not broadcastable, but have the same number of elements. Falling "
                          "back to deprecated pointwise behavior.".format(op), UserWarning, stacklevel=3)
            return xp_of(m).ascontiguousarray(m).reshape(a.shape)
        if m.ndim <= a.ndim:
            raise broadcast_error(a.shape, m.shape) from None
        raise RuntimeError("{}(): mask of size {} can't be broadcast to self of size {}"
                           .format(op, _fmt_size(m.shape), _fmt_size(a.shape))) from None


# ---------------------------------------------------------------------- 3-D views for the kernels

def _split(shape, d):
    """(outer, indexed, inner) sizes of ``shape`` around dim ``d``."""
    return math.prod(shape[:d]), shape[d], math.prod(shape[d + 1:])


def _writable3(a, shape3):
    """A 3-D view of ``a`` sharing its memory, else a C-contiguous copy to be written back."""
    try:
        return np.reshape(a, shape3, copy=False), False
    except ValueError:
        return np.ascontiguousarray(a).reshape(shape3), True


def _moving(arr):
    """The same memory as an integer array of equal item size (pure data movement)."""
    return arr.view(_MOVE[arr.itemsize])


def _broadcast_index(idx, outer, inner):
    """A 1-D index seen as (outer, n, inner) with zero strides: one kernel serves index_* and gather."""
    return _ndarray((outer, idx.shape[0], inner), _i64, buffer=idx, strides=(0, 8, 0))


# dtypes ember._C.indexing.nonzero takes (bool as uint8)
_NONZERO_KINDS = frozenset("?Bbhilqfd")
_NONZERO_KERNEL_MIN = 1 << 16  # elements; below, np.argwhere costs less than waking a thread
# results below this many elements skip the gather kernel (its typed-argument dispatch costs ~3 us)
_SMALL = 4096


def _raise_range(err, op, d, size):
    raise RuntimeError("{}(): index {} is out of range for dimension {} (of size {})".format(op, int(err[0]), d, size))


def _scatter_into(a, shape3, idx3, src3, op, d, accumulate, value=None):
    """dst[o, idx3[o, j, i], i] (+)= src3[o, j, i] (or = value), dst being array ``a`` seen as ``shape3``."""
    dst3, copied = _writable3(a, shape3)
    err = np.zeros(2, _i64)
    n = get_num_threads()
    if src3 is not None and np.may_share_memory(dst3, src3):
        src3 = src3.copy()
    if value is not None:
        mv = _moving(dst3)
        _k.scatter(mv, idx3, mv, np.array(value, a.dtype).view(mv.dtype)[()], _FILL, err, n)
    elif not accumulate:
        _k.scatter(_moving(dst3), idx3, _moving(src3), 0, _COPY, err, n)
    elif a.dtype in _ARITH:
        _k.scatter(dst3, idx3, src3, 0, _ADD, err, n)
    else:
        _scatter_add_numpy(dst3, idx3, src3, err)
    if err[1]:
        _raise_range(err, op, d, shape3[1])
    if copied:
        a[...] = dst3.reshape(a.shape)


def _scatter_add_numpy(dst3, idx3, src3, err):
    bad = (idx3 < 0) | (idx3 >= dst3.shape[1])
    if bad.any():
        err[0], err[1] = idx3[bad][0], 1
        return
    o, _, i = np.indices(idx3.shape, sparse=True)
    np.add.at(dst3, (o, idx3, i), src3[:, :idx3.shape[1], :])


# ---------------------------------------------------------------------- index_* along one dim

@both
def index_select(input, dim, index, out=None):
    cls = type(input)
    idx = _index_vector(input, dim, index, "index_select", "int dim, torch.LongTensor index")
    a = input._a
    d = wrap_dim(dim, input, "index_select")
    if not idx.size:
        return finish(cls, cls._xp.empty(0, cls._dtype), out, "index_select")
    if not a.size:
        raise RuntimeError("index_select(): cannot select from an empty tensor")
    if cls.is_cuda:
        _dev_range(idx, a.shape[d], "index_select", d)
        return finish(cls, cls._xp.take(a, idx, axis=d), out, "index_select")
    if idx.size * (a.size // a.shape[d]) < _SMALL:  # NumPy's take costs less than the kernel's dispatch here
        lo, hi = _k.bounds(idx)
        if lo < 0 or hi >= a.shape[d]:
            _raise_range((lo if lo < 0 else hi, 1), "index_select", d, a.shape[d])
        return finish(cls, np.take(a, idx, axis=d), out, "index_select")
    outer, size, inner = _split(a.shape, d)
    res = np.empty(a.shape[:d] + idx.shape + a.shape[d + 1:], cls._dtype)
    err = np.zeros(2, _i64)
    src3 = a.reshape(outer, size, inner)
    _k.gather(_moving(src3), _broadcast_index(idx, outer, inner), _moving(res.reshape(outer, idx.size, inner)),
              err, get_num_threads())
    if err[1]:
        _raise_range(err, "index_select", d, size)
    return finish(cls, res, out, "index_select")


_ROWS_ADD = (np.dtype(np.float32), np.dtype(np.float64))


def _index_inplace(self, dim, index, tensor, op, accumulate):
    """index_add_ / index_copy_: self[..., index[j], ...] (+)= tensor[..., j, ...] along dim."""
    expected = "int dim, torch.LongTensor index, {} source".format(type(self)._typename)
    idx = _index_vector(self, dim, index, op, expected)
    if not isinstance(tensor, _TensorBase) or type(tensor) is not type(self):
        raise _invalid(op, (dim, index, tensor), expected)
    a, s = self._a, tensor._a
    d = wrap_dim(dim, self, op)
    want = a.shape[:d] + idx.shape + a.shape[d + 1:] if a.size else idx.shape
    if s.shape != want and (s.size or math.prod(want)):
        raise RuntimeError("{}(): source should have size {} (self {} with dim {} of size {}, the number of "
                           "indices), got {}".format(op, _fmt_size(want), _fmt_size(a.shape), d, idx.size,
                                                    _fmt_size(s.shape)))
    if idx.size and self.is_cuda:
        _dev_range(idx, a.shape[d], op, d)
        _dev_put(a, (slice(None),) * d + (idx,), s, accumulate)
    elif idx.size and accumulate and d == 0 and a.dtype in _ROWS_ADD and a.flags.c_contiguous \
            and s.flags.c_contiguous and not np.may_share_memory(a, s):
        # the common embedding-style case: whole contiguous rows added in index order
        err = np.zeros(2, _i64)
        rows = a.shape[0]
        _k.index_add_rows(a.reshape(rows, -1), idx, s.reshape(idx.size, -1), err, get_num_threads())
        if err[1]:
            _raise_range(err, op, d, rows)
    elif idx.size:
        outer, size, inner = shape3 = _split(a.shape, d)
        _scatter_into(a, shape3, _broadcast_index(idx, outer, inner), s.reshape(outer, idx.size, inner),
                      op, d, accumulate)
    return self


@tensor_method
def index_add_(self, dim, index, tensor):
    return _index_inplace(self, dim, index, tensor, "index_add_", True)


@tensor_method
def index_copy_(self, dim, index, tensor):
    return _index_inplace(self, dim, index, tensor, "index_copy_", False)


@tensor_method
def index_fill_(self, dim, index, val):
    idx = _index_vector(self, dim, index, "index_fill_", "int dim, torch.LongTensor index, float value")
    v = _scalar_for(type(self), val, "index_fill_")
    a = self._a
    d = wrap_dim(dim, self, "index_fill_")
    if idx.size and self.is_cuda:
        _dev_range(idx, a.shape[d], "index_fill_", d)
        a[(slice(None),) * d + (idx,)] = v
    elif idx.size:
        outer, size, inner = shape3 = _split(a.shape, d)
        _scatter_into(a, shape3, _broadcast_index(idx, outer, inner), None, "index_fill_", d, False, v)
    return self


# ---------------------------------------------------------------------- gather / scatter

def _dim_index(self, dim, index, op, expected, args):
    """Checked dim and index for gather / scatter: index has self's sizes except along dim."""
    if type(index) is not _long_of(self):
        raise _invalid(op, args, expected)
    a, idx = self._a, index._a
    d = wrap_dim(dim, self, op)
    nd = a.ndim if a.size else 0
    if (idx.ndim if idx.size else 0) != nd:
        raise RuntimeError("{}(): index should have the same number of dimensions as self ({}), got a {} index"
                           .format(op, nd, _fmt_size(idx.shape)))
    if nd and any(i != s for k, (i, s) in enumerate(zip(idx.shape, a.shape)) if k != d):
        raise RuntimeError("{}(): index {} and self {} should have the same size in every dimension but "
                           "dimension {}".format(op, _fmt_size(idx.shape), _fmt_size(a.shape), d))
    return d, idx


@both
def gather(input, dim, index, out=None):
    cls = type(input)
    d, idx = _dim_index(input, dim, index, "gather", "int dim, torch.LongTensor index", (dim, index))
    a = input._a
    if not idx.size:
        return finish(cls, cls._xp.empty(0, cls._dtype), out, "gather")
    if cls.is_cuda:
        _dev_range(idx, a.shape[d], "gather", d)
        return finish(cls, cls._xp.take_along_axis(a, idx, d), out, "gather")
    outer, size, inner = _split(a.shape, d)
    n = idx.shape[d]
    res = np.empty(idx.shape, cls._dtype)
    err = np.zeros(2, _i64)
    _k.gather(_moving(a.reshape(outer, size, inner)), idx.reshape(outer, n, inner),
              _moving(res.reshape(outer, n, inner)), err, get_num_threads())
    if err[1]:
        _raise_range(err, "gather", d, size)
    return finish(cls, res, out, "gather")


def _scatter(self, dim, index, src, op, accumulate):
    """scatter_ / scatter_add_: self[..., index[..., j, ...], ...] (+)= src[..., j, ...] along dim."""
    cls = type(self)
    is_value = not accumulate and not isinstance(src, _TensorBase)
    expected = "int dim, torch.LongTensor index, " + ("float value" if is_value else cls._typename + " src")
    if not is_value and type(src) is not cls:
        raise _invalid(op, (dim, index, src), expected)
    d, idx = _dim_index(self, dim, index, op, expected, (dim, index, src))
    value = _scalar_for(cls, src, op) if is_value else None
    if not idx.size:
        return self
    outer, size, inner = shape3 = _split(self._a.shape, d)
    n = idx.shape[d]
    src3 = None
    if not is_value:
        s = src._a
        # the source covers the index; larger along dim is fine (the extra entries are not read)
        if s.ndim != idx.ndim or any((k == d and ns < ni) or (k != d and ns != ni)
                                     for k, (ns, ni) in enumerate(zip(s.shape, idx.shape))):
            raise RuntimeError("{}(): src should have the size of index {} (or be larger along dimension {}), "
                               "got {}".format(op, _fmt_size(idx.shape), d, _fmt_size(s.shape)))
        src3 = s.reshape(outer, s.shape[d], inner)
    if cls.is_cuda:
        _dev_range(idx, size, op, d)
        nd = idx.ndim  # an open grid (CuPy's indices() has no sparse=), with index along d
        key = tuple(idx if k == d else cls._xp.arange(n_k).reshape((1,) * k + (n_k,) + (1,) * (nd - k - 1))
                    for k, n_k in enumerate(idx.shape))
        v = value if is_value else src._a[(slice(None),) * d + (slice(0, n),)]
        _dev_put(self._a, key, v, accumulate)
        return self
    _scatter_into(self._a, shape3, idx.reshape(outer, n, inner), src3, op, d, accumulate, value)
    return self


@tensor_method
def scatter_(self, dim, index, src):
    return _scatter(self, dim, index, src, "scatter_", False)


@tensor_method
def scatter_add_(self, dim, index, src):
    return _scatter(self, dim, index, src, "scatter_add_", True)


# ---------------------------------------------------------------------- masks

@tensor_method
def masked_fill_(self, mask, value):
    m = _mask(self, mask, "masked_fill_")
    v = _scalar_for(type(self), value, "masked_fill_")
    a = self._a
    if not a.size:
        return self
    m = _mask_for(a, m, "masked_fill_")
    if type(a) is np.ndarray and a.size >= _FILL_KERNEL_MIN and _elementwise.masked_fill(
            a, m, np.array((v,), a.dtype), get_num_threads()):
        return self
    np.copyto(a, v, casting="unsafe", where=m)
    return self


@tensor_method
def masked_scatter_(self, mask, source):
    m = _mask(self, mask, "masked_scatter_")
    s = tensor_operand(self, source, "masked_scatter_", "source")
    a = self._a
    if not a.size:
        return self
    m = _mask_for(a, m, "masked_scatter_")
    count = int(np.count_nonzero(m))
    if s.size < count:
        raise RuntimeError("masked_scatter_(): source has {} elements but the mask selects {} (source needs at "
                           "least as many elements as mask has ones)".format(s.size, count))
    if count:
        vals = s.reshape(-1)[:count]
        a[m] = vals.copy() if np.may_share_memory(a, vals) else vals
    return self


@tensor_method
def masked_copy_(self, mask, source):
    warnings.warn("masked_copy_ is deprecated and renamed to masked_scatter_, and will be removed in v0.3",
                  stacklevel=2)
    return masked_scatter_(self, mask, source)


@both
def masked_select(input, mask, out=None):
    cls = type(input)
    m = _mask(input, mask, "masked_select")
    a = input._a
    if not a.size:
        return finish(cls, cls._xp.empty(0, cls._dtype), out, "masked_select")
    try:
        a, m = np.broadcast_arrays(a, m)
    except ValueError:
        m = _mask_for(a, m, "masked_select")
    return finish(cls, a[m], out, "masked_select")


@both
def nonzero(input, out=None):
    """The indices of the nonzero elements, one row per element: a LongTensor of size (n, input.dim()),
    empty when there are none."""
    long = _long_of(input)
    a = input._a
    if type(a) is _ndarray and a.size >= _NONZERO_KERNEL_MIN and a.dtype.char in _NONZERO_KINDS:
        flat = a.reshape(-1)  # a copy for non-contiguous views
        r = _k.nonzero(flat.view(np.uint8) if flat.dtype == _bool else flat, a.shape, get_num_threads())
    else:
        r = long._xp.argwhere(a)
    if not r.size:
        r = long._xp.empty(0, _i64)
    if out is None:
        return long._make(r)
    return finish(long, r, out, "nonzero")


@tensor_method
def index(self, m):
    """``self[m]`` (0.2's method form of indexing)."""
    return self[m]


# ---------------------------------------------------------------------- diagonals and triangles

@both
def diag(input, diagonal=0, out=None):
    """A 1-D input becomes a square matrix with it on diagonal ``diagonal``; a matrix gives a copy of
    that diagonal (empty when the diagonal lies outside the matrix)."""
    a = input._a
    k = _int_arg(diagonal, "diag", "diagonal")
    nd = a.ndim if a.size else 0
    if nd == 1:
        r = np.diag(a, k)
    elif nd == 2:
        r = np.diagonal(a, k).copy()
        if not r.size:
            r = xp_of(a).empty(0, a.dtype)
    else:
        raise RuntimeError("diag(): expected a matrix or a vector, got a {}D tensor".format(nd))
    return finish(type(input), r, out, "diag")


def _int_arg(k, op, name):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError("{}(): {} must be an int, got {}".format(op, name, _typename_of(k)))
    return int(k)


def _matrix(t, op):
    a = t._a
    if a.ndim != 2 or not a.size:
        raise RuntimeError("{}(): expected a matrix, got a {}D tensor".format(op, a.ndim if a.size else 0))
    return a


def _clamp_k(a, k):
    """A diagonal offset the kernel's C integers hold: beyond the matrix every offset acts alike."""
    return max(-a.shape[0] - 1, min(k, a.shape[1] + 1))


def _make_triangle(name, lower):
    def f(input, k=0, out=None, diagonal=None):
        a = _matrix(input, name)
        k = _clamp_k(a, _int_arg(k if diagonal is None else diagonal, name, "k"))
        if input.is_cuda:
            return finish(type(input), getattr(input._xp, name)(a, k), out, name)
        r = np.empty(a.shape, a.dtype)
        _k.triangle(_moving(a), _moving(r), k, lower, get_num_threads())
        return finish(type(input), r, out, name)

    def f_(self, k=0, diagonal=None):
        a = _matrix(self, name + "_")
        k = _clamp_k(a, _int_arg(k if diagonal is None else diagonal, name + "_", "k"))
        if self.is_cuda:
            a[...] = getattr(self._xp, name)(a, k)
            return self
        m = _moving(a)
        _k.triangle(m, m, k, lower, get_num_threads())
        return self

    f.__name__, f_.__name__ = name, name + "_"
    both(f)
    tensor_method(f_)
    return f, f_


tril, tril_ = _make_triangle("tril", True)
triu, triu_ = _make_triangle("triu", False)


# ---------------------------------------------------------------------- ember extras: take / put_

def _flat_index(self, index, op, expected, args):
    """``index`` as a flat int64 array into self seen as 1-D; negative indices count from the end."""
    if type(index) is not _long_of(self):
        raise _invalid(op, args, expected)
    idx = index._a.reshape(-1)
    n = self._a.size
    if idx.size:
        lo, hi = _k.bounds(idx) if type(idx) is _ndarray else (idx.min(), idx.max())
        if lo < -n or hi >= n:
            bad = lo if lo < -n else hi
            raise RuntimeError("{}(): index {} is out of range for a tensor of {} elements".format(op, int(bad), n))
        if lo < 0:
            idx = np.where(idx < 0, idx + n, idx)
    return idx


@both
def take(input, index):
    """ember extra (later PyTorch's torch.take): the elements of ``input`` seen as 1-D, at ``index``;
    the result has index's size."""
    cls = type(input)
    idx = _flat_index(input, index, "take", "torch.LongTensor index", (index,))
    if not idx.size:
        return cls._make(cls._xp.empty(0, cls._dtype))
    a = input._a
    if cls.is_cuda:
        return new_result(cls, cls._xp.take(a.reshape(-1), idx).reshape(index._a.shape))
    flat = a.reshape(1, a.size, 1)
    res = np.empty(index._a.shape, cls._dtype)
    err = np.zeros(2, _i64)
    _k.gather(_moving(flat), idx.reshape(1, idx.size, 1), _moving(res.reshape(1, idx.size, 1)), err,
              get_num_threads())
    return new_result(cls, res)


@tensor_method
def put_(self, index, source, accumulate=False):
    """ember extra (later PyTorch's Tensor.put_): writes ``source`` into self seen as 1-D at ``index``
    (adding when ``accumulate``; without it, the last of duplicate indices wins)."""
    expected = "torch.LongTensor index, {} source, bool accumulate".format(type(self)._typename)
    if not isinstance(source, _TensorBase) or type(source) is not type(self):
        raise _invalid("put_", (index, source), expected)
    idx = _flat_index(self, index, "put_", expected, (index, source))
    s = source._a
    if s.size != idx.size:
        raise RuntimeError("put_(): source and index should have the same number of elements, got {} and {}"
                           .format(s.size, idx.size))
    if idx.size and self.is_cuda:
        a = self._a
        flat = a.reshape(-1) if a.flags.c_contiguous else a.copy().reshape(-1)
        _dev_put(flat, idx, s.reshape(-1), accumulate)
        if not a.flags.c_contiguous:
            a[...] = flat.reshape(a.shape)
    elif idx.size:
        a = self._a
        _scatter_into(a, (1, a.size, 1), idx.reshape(1, idx.size, 1), s.reshape(1, s.size, 1), "put_", 0,
                      accumulate)
    return self


# ---------------------------------------------------------------------- CUDA (CuPy) helpers

def _dev_range(idx, size, op, d):
    """Raise for indices outside [0, size) before anything is written (one device sync)."""
    bad = (idx < 0) | (idx >= size)
    if bad.any():
        _raise_range((int(idx[bad][0]), 1), op, d, size)


def _dev_put(a, key, v, accumulate):
    """``a[key] = v``, or ``+=`` with every duplicate index counted (CuPy's add.at, whose atomic adds
    exist for 32/64-bit types: 64-bit integers add as unsigned, narrower types in int32/float32)."""
    if not accumulate:
        a[key] = v
        return
    from ember import _backend
    add = _backend.cupy.add.at  # cupyx.scatter_add is deprecated in CuPy 14
    dt = a.dtype
    if dt == _i64:
        add(a.view(np.uint64), key, v.astype(_i64, copy=False).view(np.uint64) if hasattr(v, "view") else v)
    elif dt.itemsize < 4:
        wide = np.dtype(np.float32) if dt.kind == "f" else np.dtype(np.int32)
        tmp = a.astype(wide)
        add(tmp, key, v.astype(wide) if hasattr(v, "astype") else v)
        a[...] = tmp.astype(dt)
    else:
        add(a, key, v)
