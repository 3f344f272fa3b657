"""The typed Tensor classes: (storage, offset, size, stride) over a NumPy/CuPy array, with 0.2 semantics.

A tensor holds ``_a``, an array viewing its storage's memory, and ``_s``, its Storage object (built
lazily from the array's base for fresh results). Views share memory with their base exactly as in
0.2: every view op returns an array that views the same buffer. As in 0.2 there are no zero-size
dimensions: a tensor with no elements has ``size() == torch.Size([])`` and ``dim() == 0``.

Op families live in ``ember/_ops/*.py`` and are attached to ``_TensorBase`` there; this file holds
the object model, construction, conversion, views and Python indexing.
"""
import numbers
import operator

import numpy as np

from . import storage as _storage_mod
from ._C import elementwise as _elementwise
from ._C.arrays import address as _address
from ._size import Size
from ._threads import get_num_threads as _num_threads

_new = object.__new__
_tuple_new = tuple.__new__
_ndarray = np.ndarray
_EMPTY_SIZE = Size()
_BLOCKED_COPY_MIN = 1 << 15  # elements from which ember's transposing copy beats NumPy's
_THREADED_BYTES = 1 << 19  # from which copies and fills on every thread beat NumPy's one


def _copy_into(dst, src):
    """dst[...] = src for NumPy arrays of one shape and dtype: row-contiguous layouts (narrowed, chunked,
    concatenated) on every thread, others through NumPy. Overlapping ones must not be passed."""
    if dst.nbytes < _THREADED_BYTES or not _elementwise.copy_rows(src, dst, _num_threads()):
        np.copyto(dst, src)


def _c_order(a, xp):
    """A C-contiguous copy of the non-contiguous array ``a`` (of array module ``xp``). Transposed and
    permuted NumPy arrays go through ember's blocked copy (NumPy's walks the source across cache lines:
    3-7x slower on a transposed matrix)."""
    if type(a) is _ndarray and a.size >= _BLOCKED_COPY_MIN:
        out = np.empty(a.shape, a.dtype)
        if _elementwise.transpose_copy(a, out, _num_threads()):
            return out
        _copy_into(out, a)
        return out
    return xp.ascontiguousarray(a)
_typename_to_class = {}
_default = {"tensor": None}


def _typename_of(o):
    tn = getattr(type(o), "_typename", None)
    if tn is not None:
        return tn
    if isinstance(o, bool):
        return "bool"
    if isinstance(o, int):
        return "int"
    if isinstance(o, float):
        return "float"
    return type(o).__name__


def _fmt_size(shape):
    return "[" + " x ".join(str(s) for s in shape) + "]"


def _wrap_dim(dim, ndim, op):
    try:
        d = operator.index(dim)
    except TypeError:
        raise TypeError("{}(): dim must be an int, got {}".format(op, _typename_of(dim))) from None
    n = max(ndim, 1)
    if d < -n or d >= n:
        raise IndexError("{}(): dimension out of range (expected to be in range of [{}, {}], but got {})"
                         .format(op, -n, n - 1, d))
    return d + n if d < 0 else d


def _sizes_arg(args, op):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size([2, 3]))."""
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        a = args[0]
        if isinstance(a, (tuple, list)):
            args = a
        else:
            raise TypeError("{}(): expected a sequence of ints or ints as sizes, got {}".format(op, _typename_of(a)))
    try:
        return tuple(operator.index(s) for s in args)
    except TypeError:
        raise TypeError("{}(): sizes must be ints, got ({})"
                        .format(op, ", ".join(_typename_of(s) for s in args))) from None


def _root(arr):
    b = arr.base
    if isinstance(b, _ndarray):
        return b if b.flags.contiguous else arr
    if b is not None and not isinstance(arr, _ndarray):  # a device array's base
        return b if b.flags.c_contiguous else arr
    return arr


def _ptr(arr):
    if type(arr) is _ndarray:
        return _address(arr)
    try:
        return arr.__array_interface__["data"][0]
    except AttributeError:  # a device array
        return arr.data.ptr


def _strided(arr, shape, strides, offset=0):
    """A view of ``arr``'s memory with the given shape and strides (in elements) starting ``offset``
    elements after ``arr``'s first element."""
    if not isinstance(arr, _ndarray):  # a device array: CuPy's constructor takes a pointer and strides
        item = arr.itemsize
        return type(arr)(tuple(shape), arr.dtype, memptr=arr.data + offset * item,
                         strides=tuple(s * item for s in strides))
    root = _root(arr)
    item = arr.itemsize
    byte_off = _ptr(arr) - _ptr(root) + offset * item
    return _ndarray(shape, arr.dtype, buffer=root, offset=byte_off, strides=tuple(s * item for s in strides))


class _TensorBase(object):
    __slots__ = ("_a", "_s", "__weakref__")
    is_cuda = False
    is_sparse = False

    # ------------------------------------------------------------------ construction
    def __init__(self, *args, **kwargs):
        cls = type(self)
        if kwargs:
            raise TypeError("{} constructor doesn't accept any keyword arguments".format(cls._typename))
        self._s = None
        xp = cls._xp
        if not args:
            self._a = xp.empty(0, cls._dtype)
            return
        a0 = args[0]
        if len(args) == 1:
            if isinstance(a0, _TensorBase):
                if type(a0) is not cls:
                    raise self._invalid_args(args)
                self._a = a0._a
                self._s = a0._s
                return
            if isinstance(a0, _storage_mod._StorageBase):
                if type(a0) is not cls._storage_cls:
                    raise self._invalid_args(args)
                self._a = a0._a
                self._s = a0
                return
            if isinstance(a0, _ndarray):
                self._a = np.array(a0, dtype=cls._dtype, copy=True, order="C")
                if self._a.ndim == 0:
                    self._a = self._a.reshape(1)
                return
            if isinstance(a0, (list, tuple)) and not isinstance(a0, Size):
                # a list or tuple is data (0.2's Sequence form); only a torch.Size gives sizes
                self._a = _array_from_sequence(cls, a0)
                return
        try:
            sizes = _sizes_arg(args, cls._typename)
        except TypeError:
            raise self._invalid_args(args) from None
        if any(s < 0 for s in sizes):
            raise RuntimeError("{}: sizes must be non-negative, got {}".format(cls._typename, list(sizes)))
        self._a = xp.empty(sizes, cls._dtype)

    def _invalid_args(self, args):
        name = type(self)._typename
        return TypeError(
            "{} constructor received an invalid combination of arguments - got ({}), but expected one of:\n"
            " * no arguments\n * (int ...)\n * ({} viewed_tensor)\n * (torch.Size size)\n"
            " * ({} data)\n * (Sequence data)\n"
            .format(name, ", ".join(_typename_of(a) for a in args), name, name.replace("Tensor", "Storage")))

    @classmethod
    def _make(cls, arr):
        """Wrap an array that already has this class's dtype (no copy)."""
        t = _new(cls)
        t._a = arr
        t._s = None
        return t

    def _view(self, arr):
        """Wrap an array viewing this tensor's memory: same class, same storage object."""
        t = _new(type(self))
        t._a = arr
        t._s = self._s
        return t

    def new(self, *args, **kwargs):
        return type(self)(*args, **kwargs)

    # ------------------------------------------------------------------ metadata
    def size(self, dim=None):
        a = self._a
        if dim is None:
            return _tuple_new(Size, a.shape) if a.size else _EMPTY_SIZE  # NumPy's shape: ints already
        return a.shape[_wrap_dim(dim, a.ndim, "size")] if a.size else _empty_dim_error("size")

    @property
    def shape(self):
        return self.size()

    def dim(self):
        a = self._a
        return a.ndim if a.size else 0

    ndimension = dim

    def numel(self):
        return self._a.size

    nelement = numel

    def __len__(self):
        a = self._a
        if not a.size:
            return 0
        return a.shape[0]

    def stride(self, dim=None):
        a = self._a
        item = a.itemsize
        if not a.size:
            return () if dim is None else _empty_dim_error("stride")
        if dim is None:
            return tuple(s // item for s in a.strides)
        return a.strides[_wrap_dim(dim, a.ndim, "stride")] // item

    def element_size(self):
        return self._a.itemsize

    def storage(self):
        s = self._s
        if s is None:
            root = _root(self._a)
            if root.ndim == 1 and root.strides[0] == root.itemsize:
                flat = root
            elif root.flags.c_contiguous:
                flat = root.reshape(-1)
            elif root.flags.f_contiguous:
                flat = root.reshape(-1, order="A")
            else:  # a strided array over foreign memory (from_numpy): the storage spans its elements
                item = root.itemsize
                span = 1 + sum((n - 1) * (st // item) for n, st in zip(root.shape, root.strides)) if root.size else 0
                flat = (np.lib.stride_tricks.as_strided(root, (span,), (item,)) if isinstance(root, _ndarray)
                        else _strided(root, (span,), (1,)))
            s = self._s = type(self)._storage_cls._wrap(flat)
        return s

    def storage_offset(self):
        if not self._a.size:
            return 0
        return (_ptr(self._a) - self.storage().data_ptr()) // self._a.itemsize

    def data_ptr(self):
        return _ptr(self._a) if self._a.size else 0

    def is_contiguous(self):
        a = self._a
        if a.flags.c_contiguous:
            return True
        # 0.2 ignores strides of size-1 dims
        expected = 1
        for n, s in zip(reversed(a.shape), reversed(a.strides)):
            if n != 1:
                if s != expected * a.itemsize:
                    return False
                expected *= n
        return True

    def is_same_size(self, other):
        return self.size() == other.size()

    def is_set_to(self, tensor):
        a, b = self._a, tensor._a
        return (a.size > 0 and b.size > 0 and _ptr(a) == _ptr(b) and a.shape == b.shape
                and a.strides == b.strides)

    def is_signed(self):
        return type(self)._signed

    @classmethod
    def storage_type(cls):
        return cls._storage_cls

    def get_device(self):
        if not self.is_cuda:
            return -1
        return self._a.device.id

    @property
    def data(self):
        raise RuntimeError("cannot call .data on a torch.Tensor: did you intend to use autograd.Variable?")

    # ------------------------------------------------------------------ copies and fills
    def contiguous(self):
        if self.is_contiguous():
            return self
        return type(self)._make(_c_order(self._a, self._xp))

    def clone(self):
        a = self._a
        if not a.flags.c_contiguous:
            return type(self)._make(_c_order(a, self._xp))
        if type(a) is not _ndarray or a.nbytes < _THREADED_BYTES:
            return type(self)._make(a.copy())
        out = np.empty(a.shape, a.dtype)
        _copy_into(out, a)
        return type(self)._make(out)

    def copy_(self, src, broadcast=True, **kwargs):  # kwargs: 0.2's `async`
        if not isinstance(src, _TensorBase):
            raise TypeError("copy_(): expected a tensor as source, got {}".format(_typename_of(src)))
        if src.is_cuda or self.is_cuda:
            from . import cuda
            src = cuda._source_for(self, src, **kwargs)  # moved to self's device (or the host)
        a, b = self._a, src._a
        if a.shape != b.shape:
            if a.size != b.size or broadcast and _broadcastable(b.shape, a.shape):
                if not broadcast or not _broadcastable(b.shape, a.shape):
                    raise RuntimeError(
                        "copy_(): inconsistent tensor size, expected r_ {} and src {} to have the same number of "
                        "elements, but got {} and {} elements respectively"
                        .format(_fmt_size(a.shape), _fmt_size(b.shape), a.size, b.size))
            else:
                b = b.reshape(a.shape) if b.flags.c_contiguous else b.copy().reshape(a.shape)
        if self._xp.may_share_memory(a, b):
            b = b.copy()
        if type(a) is _ndarray and a.dtype == b.dtype and a.shape == b.shape:
            _copy_into(a, b)
        else:
            self._xp.copyto(a, b, casting="unsafe")
        return self

    def fill_(self, value):
        v = _scalar_for(type(self), value, "fill_")
        a = self._a
        if type(a) is not _ndarray or a.nbytes < _THREADED_BYTES or not _elementwise.fill(
                a, np.array((v,), a.dtype), _num_threads()):
            a.fill(v)
        return self

    def zero_(self):
        a = self._a
        if type(a) is not _ndarray or a.nbytes < _THREADED_BYTES or not _elementwise.fill(
                a, np.zeros(1, a.dtype), _num_threads()):
            a.fill(0)
        return self

    # ------------------------------------------------------------------ resizing and set_
    def resize_(self, *sizes):
        sizes = _sizes_arg(sizes, "resize_")
        n = 1
        for s in sizes:
            if s < 0:
                raise RuntimeError("resize_(): sizes must be non-negative, got {}".format(list(sizes)))
            n *= s
        a = self._a
        if a.shape == sizes and a.flags.c_contiguous:
            return self
        st = self.storage()
        offset = self.storage_offset() if a.size else 0
        if st.size() < offset + n:
            st.resize_(offset + n)
        if n == 0:
            self._a = st._a[offset:offset]
            return self
        self._a = _strided(st._a, sizes, _contiguous_strides(sizes), offset)
        return self

    def resize_as_(self, tensor):
        return self.resize_(tensor.size())

    def set_(self, source=None, storage_offset=0, size=None, stride=None):
        cls = type(self)
        if source is None:
            self._s = None
            self._a = cls._xp.empty(0, cls._dtype)
            return self
        if isinstance(source, _TensorBase):
            if type(source) is not cls:
                raise TypeError("set_(): expected {}, got {}".format(cls._typename, source._typename))
            self._a = source._a
            self._s = source._s
            return self
        if not isinstance(source, _storage_mod._StorageBase) or type(source) is not cls._storage_cls:
            raise TypeError("set_(): expected a {} or {}, got {}".format(
                cls._typename, cls._storage_cls._typename, _typename_of(source)))
        if size is None:
            size = (source.size() - storage_offset,)
        size = tuple(Size(size))
        stride = _contiguous_strides(size) if stride is None else tuple(stride)
        if len(stride) != len(size):
            raise RuntimeError("set_(): size {} and stride {} must have the same length"
                               .format(list(size), list(stride)))
        need = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if size and all(size) else 0
        if need > source.size():
            raise RuntimeError("set_(): storage of size {} is too small for size {}, stride {} and offset {}"
                               .format(source.size(), list(size), list(stride), storage_offset))
        self._s = source
        if not size or not all(size):  # no elements: 0.2's empty tensor
            self._a = source._a[storage_offset:storage_offset]
        else:
            self._a = _strided(source._a, size, stride, storage_offset)
        return self

    # ------------------------------------------------------------------ views
    def view(self, *sizes):
        a = self._a
        sizes = _infer_size(_sizes_arg(sizes, "view"), a.size, "view")
        if not self.is_contiguous():
            raise RuntimeError("view(): input is not contiguous (size {}, stride {}); call .contiguous() first"
                               .format(_fmt_size(a.shape), list(self.stride())))
        if a.flags.c_contiguous:
            if 1 not in sizes or not a.size:
                return self._view(a.reshape(sizes))
            # 0.2 lays a view out contiguously; NumPy's reshape can keep odd strides on size-1 dims
            if type(a) is _ndarray:
                item = a.itemsize
                return self._view(_ndarray(sizes, a.dtype, buffer=a,
                                           strides=tuple(s * item for s in _contiguous_strides(sizes))))
        return self._view(_strided(a, sizes, _contiguous_strides(sizes)))

    def view_as(self, tensor):
        return self.view(tensor.size())

    def expand(self, *sizes):
        a = self._a
        sizes = _sizes_arg(sizes, "expand")
        if not a.size:
            raise RuntimeError("expand(): can't expand an empty tensor")
        nd = a.ndim
        if len(sizes) < nd:
            raise RuntimeError("expand(): the number of sizes provided ({}) must be greater or equal to the "
                               "number of dimensions in the tensor ({})".format(len(sizes), nd))
        shape, strides = [], []  # strides in bytes
        old_shape = (1,) * (len(sizes) - nd) + a.shape
        old_strides = (0,) * (len(sizes) - nd) + a.strides
        for i, (want, have, st) in enumerate(zip(sizes, old_shape, old_strides)):
            if want == -1:
                if i < len(sizes) - nd:
                    raise RuntimeError("expand(): -1 is not allowed in a leading, new dimension")
                want = have
            if have == want:
                shape.append(want)
                strides.append(st)
            elif have == 1:
                shape.append(want)
                strides.append(0)
            else:
                raise RuntimeError("expand(): the expanded size of the tensor ({}) must match the existing size "
                                   "({}) at non-singleton dimension {}; sizes {} cannot expand to {}"
                                   .format(want, have, i, _fmt_size(a.shape), list(sizes)))
        for i in range(len(sizes) - nd - 1, -1, -1):
            if shape[i] == 1:  # a new leading dim kept at size 1 takes 0.2's size * stride of the next dim
                strides[i] = shape[i + 1] * strides[i + 1]
        if type(a) is _ndarray and a.flags.c_contiguous:  # the fast path: a view of a itself
            return self._view(_ndarray(tuple(shape), a.dtype, buffer=a, strides=tuple(strides)))
        item = a.itemsize
        return self._view(_strided(a, tuple(shape), [st // item for st in strides]))

    def expand_as(self, tensor):
        return self.expand(tensor.size())

    def transpose(self, dim0, dim1):
        a = self._a
        nd = a.ndim
        d0 = _wrap_dim(dim0, nd, "transpose")
        d1 = _wrap_dim(dim1, nd, "transpose")
        return self._view(a.swapaxes(d0, d1))

    def transpose_(self, dim0, dim1):
        self._a = self.transpose(dim0, dim1)._a
        return self

    def t(self):
        a = self._a
        if a.ndim != 2:
            raise RuntimeError("t() expects a 2D tensor, but self is {}D".format(a.ndim))
        return self._view(a.T)

    def t_(self):
        self._a = self.t()._a
        return self

    def permute(self, *dims):
        a = self._a
        dims = _sizes_arg(dims, "permute")
        if len(dims) != a.ndim:
            raise RuntimeError("permute(): number of dims don't match: tensor has {} dims, got {} ({})"
                               .format(a.ndim, len(dims), list(dims)))
        dims = [_wrap_dim(d, a.ndim, "permute") for d in dims]
        if len(set(dims)) != len(dims):
            raise RuntimeError("permute(): repeated dim in {}".format(list(dims)))
        return self._view(a.transpose(dims))

    def squeeze(self, dim=None):
        a = self._a
        if dim is None:
            if 1 not in a.shape:
                return self._view(a)
            if a.size == 1:  # only dims of size 1: 0.2 keeps one, of stride 1
                return self._view(_strided(a, (1,), (1,)))
            return self._view(a.squeeze())
        d = _wrap_dim(dim, a.ndim, "squeeze")
        if a.shape[d] != 1 or a.ndim == 1:
            return self._view(a)
        return self._view(a.squeeze(d))

    def squeeze_(self, dim=None):
        self._a = self.squeeze(dim)._a
        return self

    def unsqueeze(self, dim):
        a = self._a
        nd = a.ndim
        d = _wrap_dim(dim, nd + 1, "unsqueeze")
        # 0.2's layout: the new dim's stride is size * stride of the dim it goes before (1 at the end), the
        # others stay as they are (NumPy's expand_dims may rewrite the strides of size-1 dims)
        st = a.strides
        strides = st[:d] + (a.shape[d] * st[d] if d < nd else a.itemsize,) + st[d:]
        if type(a) is _ndarray and a.flags.c_contiguous:  # the fast path
            return self._view(_ndarray(a.shape[:d] + (1,) + a.shape[d:], a.dtype, buffer=a, strides=strides))
        r = self._xp.expand_dims(a, d)
        if r.strides != strides:
            r = _strided(a, r.shape, [s // a.itemsize for s in strides])
        return self._view(r)

    def unsqueeze_(self, dim):
        self._a = self.unsqueeze(dim)._a
        return self

    def narrow(self, dimension, start, length):
        a = self._a
        d = _wrap_dim(dimension, a.ndim, "narrow")
        n = a.shape[d]
        if start < 0 or length <= 0 or start + length > n:
            raise RuntimeError("narrow(): start ({}) + length ({}) exceeds dimension size ({}), or length <= 0"
                               .format(start, length, n))
        idx = [slice(None)] * a.ndim
        idx[d] = slice(start, start + length)
        return self._view(a[tuple(idx)])

    def select(self, dim, index):
        a = self._a
        if not a.size:
            raise IndexError("select(): cannot select on an empty tensor")
        d = _wrap_dim(dim, a.ndim, "select")
        n = a.shape[d]
        i = operator.index(index)
        if i < -n or i >= n:
            raise IndexError("select(): index {} is out of range for dimension {} (of size {})".format(i, d, n))
        if a.ndim == 1:
            return a[i].item()
        idx = [slice(None)] * a.ndim
        idx[d] = i
        return self._view(a[tuple(idx)])

    def unfold(self, dimension, size, step):
        a = self._a
        nd = a.ndim if a.size else 0
        d = _wrap_dim(dimension, nd, "unfold")
        n = a.shape[d] if nd else 1
        if size > n:
            raise RuntimeError("unfold(): maximum size for tensor at dimension {} is {} but size is {}"
                               .format(d, n, size))
        if step <= 0:
            raise RuntimeError("unfold(): step is {} but must be > 0".format(step))
        st = self.stride() if nd else (1,)
        shape = list(a.shape) if nd else [1]
        strides = list(st)
        shape[d] = (n - size) // step + 1
        strides[d] = st[d] * step
        shape.append(size)
        strides.append(st[d])
        return self._view(_strided(a, tuple(shape), strides))

    def repeat(self, *sizes):
        a = self._a
        sizes = _sizes_arg(sizes, "repeat")
        nd = a.ndim if a.size else 0
        if len(sizes) < nd:
            raise RuntimeError("repeat(): number of dimensions of repeat dims ({}) can not be smaller than "
                               "number of dimensions of tensor ({})".format(len(sizes), nd))
        src = a.reshape((1,) * (len(sizes) - nd) + a.shape)
        return type(self)._make(self._xp.tile(src, sizes))

    # ------------------------------------------------------------------ types
    def type(self, new_type=None, **kwargs):  # kwargs: 0.2's `async`
        if new_type is None:
            return type(self)._typename
        cls = _resolve_type(new_type)
        if cls is type(self):
            return self
        if cls.is_cuda or self.is_cuda:
            from . import cuda
            return cuda._convert_tensor(self, cls, **kwargs)
        a = self._a
        if a.nbytes >= _THREADED_BYTES and a.flags.c_contiguous:
            out = np.empty(a.shape, cls._dtype)
            if _elementwise.convert(a, out, _num_threads()):  # the common pairs, on every thread
                return cls._make(out)
        return cls._make(a.astype(cls._dtype, order="C"))

    def type_as(self, tensor):
        return self.type(type(tensor))

    def double(self):
        return self.type(_cast_class(self, "Double"))

    def float(self):
        return self.type(_cast_class(self, "Float"))

    def half(self):
        return self.type(_cast_class(self, "Half"))

    def long(self):
        return self.type(_cast_class(self, "Long"))

    def int(self):
        return self.type(_cast_class(self, "Int"))

    def short(self):
        return self.type(_cast_class(self, "Short"))

    def char(self):
        return self.type(_cast_class(self, "Char"))

    def byte(self):
        return self.type(_cast_class(self, "Byte"))

    def cpu(self):
        if not self.is_cuda:
            return self
        return self.type(type(self)._typename.replace("torch.cuda.", "torch."))

    def cuda(self, device=None, **kwargs):  # kwargs: 0.2's `async`, ember extra `non_blocking`
        from . import cuda
        return cuda._tensor_to_cuda(self, device, **kwargs)

    # ------------------------------------------------------------------ memory placement
    def is_pinned(self):
        return self.storage().is_pinned()

    def pin_memory(self):
        if self.is_cuda:
            raise TypeError("cannot pin '{}' only CPU memory can be pinned".format(type(self)._typename))
        from . import cuda
        return cuda._pin_tensor(self)

    def is_shared(self):
        return self.storage().is_shared()

    def share_memory_(self):
        # the storage moves (into shared memory, or on a GPU an allocation CUDA IPC can hand out): view it there
        s = self.storage()
        if s.is_shared():
            return self
        a = self._a
        offset = self.storage_offset()
        s.share_memory_()
        if a.size:
            self._a = _strided(s._a, a.shape, self.stride(), offset)
        return self

    # ------------------------------------------------------------------ NumPy and Python
    def numpy(self):
        if self.is_cuda:
            raise TypeError("numpy(): can't convert CUDA tensor to numpy (use .cpu() first)")
        a = self._a
        return a if a.size else a.reshape(0)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def tolist(self):
        a = self._a
        if not a.size:
            return []
        return (a.get() if self.is_cuda else a).tolist()

    def __bool__(self):
        if not self._a.size:
            return False
        raise RuntimeError("bool value of non-empty " + type(self)._typename + " objects is ambiguous")

    __nonzero__ = __bool__

    def __hash__(self):
        return id(self)

    def __iter__(self):
        a = self._a
        if not a.size:
            return iter([])
        if a.ndim == 1:
            return iter(a.tolist())
        return (self._view(a[i]) for i in range(a.shape[0]))

    def __index__(self):
        a = self._a
        if a.size == 1 and not type(self)._is_floating:
            return int(a.reshape(-1)[0])
        raise TypeError("only integer tensors of a single element can be converted to an index")

    def __int__(self):
        return _single(self, int)

    def __float__(self):
        return _single(self, float)

    def __reduce__(self):
        return (_rebuild_tensor, (self.storage(), self.storage_offset(), tuple(self.size()), self.stride()))

    def __deepcopy__(self, memo):
        memo = memo.setdefault("torch", {})
        key = id(self)
        if key in memo:
            return memo[key]
        s = self.storage().__deepcopy__(memo)
        r = type(self)().set_(s, self.storage_offset(), self.size(), self.stride())
        memo[key] = r
        return r

    def __repr__(self):
        from ._tensor_str import _str
        return _str(self)

    __str__ = __repr__

    # ------------------------------------------------------------------ Python indexing
    def __getitem__(self, idx):
        a = self._a
        if type(idx) is int:  # fast path: t[i]
            if not a.size:
                raise IndexError("indexing an empty tensor")
            n = a.shape[0]
            if idx < -n or idx >= n:
                raise IndexError("index {} is out of range for dimension 0 (of size {})".format(idx, n))
            r = a[idx]
            if a.ndim == 1:
                return r.item()
            return self._view(r)
        kind, key = _convert_index(self, idx)
        if kind == 0:
            return a[key].item()
        if kind == 1:
            key, layout = key
            return self._view(a[key] if layout is None else _strided(a, *layout))
        pre, key = key
        try:
            r = (a if pre is None else a[pre])[key]
        except IndexError:
            raise _index_shape_mismatch(key) from None
        if r.ndim == 0:
            return r.item()
        if not r.size:
            return type(self)._make(self._xp.empty(0, a.dtype))
        return type(self)._make(self._xp.ascontiguousarray(r))

    def __setitem__(self, idx, value):
        a = self._a
        is_tensor = isinstance(value, _TensorBase)
        if is_tensor and value.is_cuda == self.is_cuda:
            v = value._a  # any tensor type, cast as copy_ casts
        elif isinstance(value, numbers.Number) and not is_tensor:
            v = _scalar_for(type(self), value, "__setitem__")
        else:
            raise TypeError("__setitem__: can't assign a {} to a {}".format(_typename_of(value), self._typename))
        kind, key = _convert_index(self, idx)
        target = a
        if kind == 1:
            key = key[0]  # NumPy writes through basic indexing just as PyTorch does
        elif kind == 2:
            pre, key = key
            if pre is not None:
                target = a[pre]  # a view
        try:
            target[key] = v
        except IndexError:
            raise _index_shape_mismatch(key) from None
        except ValueError:
            sel = target[key]
            if is_tensor and v.size == sel.size:
                target[key] = v.reshape(sel.shape)  # 0.2: equal element counts copy elementwise
            elif is_tensor and kind == 2 and len(key) == 1 and key[0].dtype == np.bool_ and v.size > sel.size:
                target[key] = v.reshape(-1)[:sel.size]  # 0.2: t[mask] = source is masked_scatter_
            else:
                raise RuntimeError("__setitem__: can't assign a tensor of size {} to a selection of size {}"
                                   .format(_fmt_size(v.shape), _fmt_size(sel.shape))) from None

    # ------------------------------------------------------------------ callables
    # Python callables per element: CPU tensors only, as in 0.2 (the docs: "only works with CPU tensors")

    def _cpu_only(self, op):
        if self.is_cuda:
            raise TypeError("{}(): only works with CPU tensors, got a {} (copy it with .cpu(), apply, and move "
                            "it back)".format(op, self._typename))

    def apply_(self, callable):
        self._cpu_only("apply_")
        a = self._a
        flat = a.reshape(-1) if a.flags.c_contiguous else None
        vals = [callable(v) for v in a.reshape(-1).tolist()]
        if flat is not None:
            flat[:] = vals
        else:
            a[...] = np.array(vals).reshape(a.shape)
        return self

    def map_(self, tensor, callable):
        self._cpu_only("map_")
        b = self._xp.broadcast_to(tensor._a, self._a.shape)
        vals = [callable(x, y) for x, y in zip(self._a.reshape(-1).tolist(), b.reshape(-1).tolist())]
        self._a[...] = np.array(vals, dtype=type(self)._dtype).reshape(self._a.shape)
        return self

    def map2_(self, tensor1, tensor2, callable):
        self._cpu_only("map2_")
        shape = self._a.shape
        b = self._xp.broadcast_to(tensor1._a, shape).reshape(-1).tolist()
        c = self._xp.broadcast_to(tensor2._a, shape).reshape(-1).tolist()
        vals = [callable(x, y, z) for x, y, z in zip(self._a.reshape(-1).tolist(), b, c)]
        self._a[...] = np.array(vals, dtype=type(self)._dtype).reshape(shape)
        return self


# ---------------------------------------------------------------------- helpers

def _empty_dim_error(op):
    raise RuntimeError("{}(): dimension out of range (tensor has no dimensions)".format(op))


def _single(t, conv):
    a = t._a
    if a.size != 1:
        raise TypeError("only one element tensors can be converted to Python scalars (got {} elements)"
                        .format(a.size))
    return conv(a.reshape(-1)[0])


def _contiguous_strides(sizes):
    strides = []
    acc = 1
    for s in reversed(sizes):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def _infer_size(sizes, numel, op):
    if -1 in sizes:
        if sizes.count(-1) > 1:
            raise RuntimeError("{}(): only one dimension can be inferred, got {}".format(op, list(sizes)))
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        if known == 0 or numel % known:
            raise RuntimeError("{}(): size '{}' is invalid for input with {} elements"
                               .format(op, _fmt_size(sizes), numel))
        sizes = tuple(numel // known if s == -1 else s for s in sizes)
    n = 1
    for s in sizes:
        n *= s
    if n != numel:
        raise RuntimeError("{}(): size '{}' is invalid for input with {} elements".format(op, _fmt_size(sizes), numel))
    return sizes


def _broadcastable(src, dst):
    if len(src) > len(dst):
        return False
    for s, d in zip(reversed(src), reversed(dst)):
        if s != d and s != 1:
            return False
    return True


def _array_from_sequence(cls, seq):
    try:
        arr = np.array(_unwrap_seq(seq), dtype=cls._dtype if cls._is_floating else None)
    except (TypeError, ValueError) as e:
        raise TypeError("{}: Sequence data must be a nested sequence of numbers with a regular shape ({})"
                        .format(cls._typename, e)) from None
    if arr.dtype == object:
        raise TypeError("{}: Sequence data must be a nested sequence of numbers, got {!r}".format(cls._typename, seq))
    if arr.size == 0:
        return cls._xp.empty(0, cls._dtype)
    arr = arr.astype(cls._dtype) if arr.dtype != cls._dtype else arr
    return cls._xp.asarray(arr) if cls._xp is not np else arr


def _unwrap_seq(seq):
    if isinstance(seq, _TensorBase):
        return seq._a
    if isinstance(seq, (list, tuple)):
        return [_unwrap_seq(s) for s in seq]
    return seq


def _scalar_for(cls, value, op):
    """A Python number as the tensor type's C type (integer types truncate and wrap, as a C cast)."""
    if cls._is_floating and (type(value) is float or type(value) is int):  # the common case, no ABC check
        return value
    if isinstance(value, _TensorBase):
        raise TypeError("{}(): expected a number, got {}".format(op, value._typename))
    if cls._is_floating:
        if isinstance(value, numbers.Real):
            return value
        raise TypeError("{}(): expected a float, got {}".format(op, _typename_of(value)))
    if isinstance(value, numbers.Real):
        v = int(value)
        info = cls._iinfo
        if info.min <= v <= info.max:
            return v
        return int(np.array(v & 0xFFFFFFFFFFFFFFFF, np.uint64).astype(cls._dtype))
    raise TypeError("{}(): expected an int, got {}".format(op, _typename_of(value)))


def _convert_index(t, idx):
    """Translate a Python index for the non-empty tensor ``t`` into ``(kind, key)``:

    kind 0, all of t's dims taken by ints: ``key`` is a NumPy index of one element;
    kind 1, basic indexing (ints, slices, None, Ellipsis): ``key`` = (NumPy index, layout); with None
      in the index, layout = (shape, strides, offset) of the view in elements with 0.2's strides (each
      None is an unsqueeze, taking size * stride of the dim after it, 1 at the end), else None;
    kind 2, advanced indexing (LongTensors, ByteTensor masks, sequences of ints, anywhere in the
      index): ``key`` = (pre, index): a basic NumPy index taking the ints first (None when there are none),
      then the advanced NumPy index, its indices range-checked; the result is a copy.
    """
    if not isinstance(idx, tuple):
        idx = (idx,)
    a = t._a
    if not a.size:
        raise IndexError("indexing an empty tensor")
    nd = a.ndim
    entries = []
    advanced = False
    used = 0  # dims of t the index consumes
    for i in idx:
        ti = type(i)
        if ti is int:
            used += 1
        elif ti is slice:
            if i.step is not None and i.step <= 0:
                raise ValueError("slice step has to be greater than 0")
            used += 1
        elif i is None or i is Ellipsis:
            pass
        elif isinstance(i, _TensorBase):
            tn = i._typename
            if i.is_cuda != t.is_cuda:
                raise TypeError("indexing a {} with a {}: an index tensor must be where the tensor is (move it "
                                "with .cuda() or .cpu())".format(t._typename, tn))
            if tn.endswith(".LongTensor"):
                i = i._a
                used += 1
            elif tn.endswith(".ByteTensor"):
                m = i._a
                if m.size and m.max() > 1:
                    raise IndexError("indexing with a ByteTensor mask: mask tensor can take 0 and 1 values only, "
                                     "got {}".format(int(m.max())))
                i = m.view(np.bool_)
                used += m.ndim
            else:
                raise TypeError("indexing a tensor with an object of type {}. The only supported types are "
                                "integers, slices, numpy scalars, None, Ellipsis, LongTensors and ByteTensors"
                                .format(tn))
            advanced = True
        elif isinstance(i, numbers.Integral) and ti is not bool:
            i = operator.index(i)
            used += 1
        elif isinstance(i, (list, _ndarray)):
            arr = np.asarray(i)
            if not arr.size:
                arr = arr.astype(np.int64)
            if arr.dtype == np.bool_:
                used += arr.ndim
            elif arr.dtype.kind in "iu":
                used += 1
            else:
                raise TypeError("indexing a tensor with a sequence of {}: use ints or bools".format(arr.dtype))
            i = arr if not t.is_cuda else type(t)._xp.asarray(arr)
            advanced = True
        elif isinstance(getattr(i, "data", None), _TensorBase):
            raise TypeError("indexing a Tensor with a Variable is not supported: index with var.data")
        else:
            raise TypeError("indexing a tensor with an object of type {}. The only supported types are integers, "
                            "slices, numpy scalars, None, Ellipsis, LongTensors and ByteTensors"
                            .format(_typename_of(i)))
        entries.append(i)
    if used > nd:
        raise IndexError("too many indices for tensor of dimension {}".format(nd))
    if sum(1 for e in entries if e is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    shape = a.shape
    if advanced:
        d = 0
        for e in entries:
            if e is None:
                continue
            if type(e) is slice:
                d += 1
            elif e is Ellipsis:
                d += nd - used
            elif type(e) is int:
                _check_index_range(e, d, shape[d])
                d += 1
            elif e.dtype == np.bool_:
                if e.shape != shape[d:d + e.ndim]:
                    raise IndexError("the mask of size {} does not match the size {} of the indexed tensor at "
                                     "dimension {}".format(_fmt_size(e.shape), _fmt_size(shape[d:d + e.ndim]), d))
                d += e.ndim
            else:
                if e.size:
                    lo, hi = int(e.min()), int(e.max())
                    _check_index_range(lo if lo < -shape[d] else hi, d, shape[d])
                d += 1
        if any(type(e) is int for e in entries):
            # as PyTorch: ints select first, so they don't count as advanced indices in NumPy's placement
            # rule for the result's dims
            pre, adv = [], []
            for e in entries:
                if type(e) is int:
                    pre.append(e)
                elif e is None or type(e) is slice:
                    pre.append(e)
                    adv.append(slice(None))
                elif e is Ellipsis:
                    pre.append(e)
                    adv.append(e)
                else:
                    pre.extend([slice(None)] * (e.ndim if e.dtype == np.bool_ else 1))
                    adv.append(e)
            return 2, (tuple(pre), tuple(adv))
        return 2, (None, tuple(entries))
    item = a.itemsize
    strides = [s // item for s in a.strides]
    out_shape, out_strides = [], []
    offset = 0
    d = 0
    for e in entries:
        if type(e) is int:
            n = shape[d]
            _check_index_range(e, d, n)
            offset += (e + n if e < 0 else e) * strides[d]
            d += 1
        elif type(e) is slice:
            start, stop, step = e.indices(shape[d])
            length = (stop - start + step - 1) // step
            if length <= 0:
                raise ValueError("result of slicing is an empty tensor")
            offset += start * strides[d]
            out_shape.append(length)
            out_strides.append(strides[d] * step)
            d += 1
        elif e is None:
            out_shape.append(1)
            out_strides.append(shape[d] * strides[d] if d < nd else 1)
        else:  # Ellipsis
            m = nd - used
            out_shape.extend(shape[d:d + m])
            out_strides.extend(strides[d:d + m])
            d += m
    if not out_shape and d == nd:
        return 0, tuple(entries)
    if None not in entries:  # NumPy's view has PyTorch's layout
        return 1, (tuple(entries), None)
    out_shape.extend(shape[d:])
    out_strides.extend(strides[d:])
    return 1, (tuple(entries), (tuple(out_shape), out_strides, offset))


def _check_index_range(i, d, n):
    if i < -n or i >= n:
        raise IndexError("index {} is out of range for dimension {} (of size {})".format(i, d, n))


def _index_shape_mismatch(key):
    shapes = " ".join(_fmt_size(k.shape) for k in key if isinstance(k, _ndarray) and k.dtype != np.bool_)
    return IndexError("shape mismatch: indexing tensors could not be broadcast together with sizes " + shapes)


def _resolve_type(t):
    if isinstance(t, str):
        name = "torch." + t[len("ember."):] if t.startswith("ember.") else t
        cls = _typename_to_class.get(name)
        if cls is None:
            if name.startswith("torch.cuda."):
                from . import cuda  # registers the CUDA classes
                cls = _typename_to_class.get(name)
            if cls is None:
                raise ValueError("invalid type: '{}'".format(t))
        return cls
    if isinstance(t, type) and issubclass(t, _TensorBase):
        return t
    raise ValueError("invalid type: {!r}".format(t))


def _cast_class(t, kind):
    return ("torch.cuda." if t.is_cuda else "torch.") + kind + "Tensor"


def _rebuild_tensor(storage, storage_offset, size, stride):
    cls = _tensor_class_for_storage(type(storage))
    return cls().set_(storage, storage_offset, size, stride)


def _tensor_class_for_storage(storage_cls):
    for cls in _typename_to_class.values():
        if cls._storage_cls is storage_cls:
            return cls
    raise TypeError("no tensor type for storage {}".format(storage_cls._typename))


def _make_class(name, dtype, storage_cls, floating, signed, module="ember", xp=np, is_cuda=False,
                prefix="torch."):
    dtype = np.dtype(dtype)
    attrs = {
        "__slots__": (), "__module__": module, "_dtype": dtype, "_typename": prefix + name,
        "_storage_cls": storage_cls, "_is_floating": floating, "_signed": signed, "_xp": xp,
        "is_cuda": is_cuda, "_iinfo": None if floating else np.iinfo(dtype),
    }
    cls = type(name, (_TensorBase,), attrs)
    _typename_to_class[prefix + name] = cls
    return cls


DoubleTensor = _make_class("DoubleTensor", np.float64, _storage_mod.DoubleStorage, True, True)
FloatTensor = _make_class("FloatTensor", np.float32, _storage_mod.FloatStorage, True, True)
HalfTensor = _make_class("HalfTensor", np.float16, _storage_mod.HalfStorage, True, True)
LongTensor = _make_class("LongTensor", np.int64, _storage_mod.LongStorage, False, True)
IntTensor = _make_class("IntTensor", np.int32, _storage_mod.IntStorage, False, True)
ShortTensor = _make_class("ShortTensor", np.int16, _storage_mod.ShortStorage, False, True)
CharTensor = _make_class("CharTensor", np.int8, _storage_mod.CharStorage, False, False)  # 0.2 says False
ByteTensor = _make_class("ByteTensor", np.uint8, _storage_mod.ByteStorage, False, False)

_default["tensor"] = FloatTensor
for _cls in list(_typename_to_class.values()):
    _cls._byte_cls = ByteTensor  # comparisons return this type (ember.cuda sets the CUDA one)
del _cls
_dtype_to_class = {cls._dtype: cls for cls in (DoubleTensor, FloatTensor, HalfTensor, LongTensor, IntTensor,
                                                ShortTensor, CharTensor, ByteTensor)}


def _class_for_dtype(dtype):
    cls = _dtype_to_class.get(np.dtype(dtype))
    if cls is None:
        raise TypeError("can't convert np.ndarray of type {}. The only supported types are: double, float, "
                        "float16, int64, int32, int16, int8, and uint8.".format(np.dtype(dtype)))
    return cls
