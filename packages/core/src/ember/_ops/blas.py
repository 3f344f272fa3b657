"""BLAS family: mm, bmm, mv, dot, ger, matmul (and ``@``), and the accumulating forms addmm, addbmm,
baddbmm, addmv, addr with their in-place variants.

Products go through the array module's ``matmul`` (BLAS gemm/gemv for float and double; NumPy's own
loops for integer types, which wrap on overflow like C). Transposed or narrowed operands are passed
as they are: NumPy hands their strides to BLAS as transpose flags and leading dimensions instead of
copying. The add-family takes 0.2's overloads: ``torch.addmm([beta,] mat, [alpha,] mat1, mat2)`` and
``mat.addmm([beta, [alpha,]] mat1, mat2)``, with ``beta=``/``alpha=`` keywords; out-of-place forms
broadcast ``mat`` to the product's size, in-place forms require it to have that size.
"""
import numbers

import numpy as np

from ember._C import openmp as _omp
from ember._threads import get_num_threads
from ember.tensor import _TensorBase, _broadcastable, _fmt_size, _scalar_for, _typename_of
from . import both, pointwise as _pointwise, tensor_method, torch_function
from ._util import tensor_operand, write_out


def _dim(a):
    return a.ndim if a.size else 0


def _desc(a):
    return _fmt_size(a.shape) if a.size else "[]"


def _array(t, op, name):
    if isinstance(t, _TensorBase):
        return t._a
    raise TypeError("{}(): expected a tensor as {}, got {}".format(op, name, _typename_of(t)))


# OpenBLAS's idle workers spin for about 0.1 s after each threaded call and take the cores from the OpenMP
# kernels that run next (16% of a ResNet-18 forward went to them after its one small Linear layer).
# Products of fewer multiply-adds than _THREADED_PRODUCT gain too little from threads to pay for that:
# they run on the calling thread. OpenBLAS keeps those up to _SERIAL_PRODUCT there itself (its
# GEMM_MULTITHREAD_THRESHOLD times 65536), so they skip the switch.
_THREADED_PRODUCT = 1 << 26
_SERIAL_PRODUCT = 1 << 18


def _product(xp, a, b, out=None):
    """``xp.matmul(a, b, out=out)``, with NumPy's BLAS on one thread for a small float product."""
    # a.size * b.size bounds the multiply-adds from above: the common small product stops at it
    if xp is np and a.size * b.size > _SERIAL_PRODUCT:
        work = max(a.size * (b.shape[-1] if b.ndim > 1 else 1), b.size * (a.shape[-2] if a.ndim > 1 else 1))
        if _SERIAL_PRODUCT < work < _THREADED_PRODUCT and a.dtype.char in "fd":
            saved = _omp.numpy_blas_single()
            try:
                return np.matmul(a, b, out=out)
            finally:
                _omp.numpy_blas_restore(saved)
    return xp.matmul(a, b, out=out)


def _result(cls, arr, out, op):
    if out is None:
        return cls._make(arr)
    return write_out(out, cls, arr, op)


def _matmul_into(cls, a, b, shape, out, op):
    """``a @ b`` as a new tensor, or computed straight into ``out`` when it already has the result's
    size and layout (NumPy copies operands that overlap it)."""
    xp = cls._xp
    if out is None:
        return cls._make(_product(xp, a, b))
    if type(out) is cls and out._a.shape == shape and out._a.flags.c_contiguous:
        _product(xp, a, b, out=out._a)
        return out
    return write_out(out, cls, _product(xp, a, b), op)


# ---------------------------------------------------------------------- shape checks (0.2's TH texts)

def _check_mm(a, b):
    if _dim(a) != 2 or _dim(b) != 2:
        raise RuntimeError("matrices expected, got {}D, {}D tensors".format(_dim(a), _dim(b)))
    if a.shape[1] != b.shape[0]:
        raise RuntimeError("size mismatch, m1: {}, m2: {}".format(_desc(a), _desc(b)))


def _check_mv(m, v):
    if _dim(m) != 2 or _dim(v) != 1:
        raise RuntimeError("matrix and vector expected, got {}D, {}D".format(_dim(m), _dim(v)))
    if m.shape[1] != v.shape[0]:
        raise RuntimeError("size mismatch, {}, {}".format(_desc(m), _desc(v)))


def _check_r(v1, v2):
    if _dim(v1) != 1 or _dim(v2) != 1:
        raise RuntimeError("vector and vector expected, got {}D, {}D tensors".format(_dim(v1), _dim(v2)))


def _check_bmm(op, b1, b2):
    for i, b in ((1, b1), (2, b2)):
        if _dim(b) != 3:
            raise RuntimeError("{}(): invalid argument {}: expected 3D tensor, got {}D".format(op, i, _dim(b)))
    if b1.shape[0] != b2.shape[0]:
        raise RuntimeError("{}(): invalid argument 2: equal number of batches expected, got {}, {}"
                           .format(op, b1.shape[0], b2.shape[0]))
    if b1.shape[2] != b2.shape[1]:
        raise RuntimeError("{}(): invalid argument 2: wrong matrix size, batch1: {}x{}, batch2: {}x{}"
                           .format(op, b1.shape[1], b1.shape[2], b2.shape[1], b2.shape[2]))


# ---------------------------------------------------------------------- plain products

@both
def mm(mat1, mat2, out=None):
    a = _array(mat1, "mm", "mat1")
    b = tensor_operand(mat1, mat2, "mm", "mat2")
    _check_mm(a, b)
    return _matmul_into(type(mat1), a, b, (a.shape[0], b.shape[1]), out, "mm")


@both
def mv(mat, vec, out=None):
    m = _array(mat, "mv", "mat")
    v = tensor_operand(mat, vec, "mv", "vec")
    _check_mv(m, v)
    return _matmul_into(type(mat), m, v, (m.shape[0],), out, "mv")


@both
def bmm(batch1, batch2, out=None):
    b1 = _array(batch1, "bmm", "batch1")
    b2 = tensor_operand(batch1, batch2, "bmm", "batch2")
    _check_bmm("bmm", b1, b2)
    return _matmul_into(type(batch1), b1, b2, (b1.shape[0], b1.shape[1], b2.shape[2]), out, "bmm")


@both
def ger(vec1, vec2, out=None):
    v1 = _array(vec1, "ger", "vec1")
    v2 = tensor_operand(vec1, vec2, "ger", "vec2")
    _check_r(v1, v2)
    cls = type(vec1)
    xp = cls._xp
    shape = (v1.shape[0], v2.shape[0])
    if out is not None and type(out) is cls and out._a.shape == shape and out._a.flags.c_contiguous:
        xp.multiply(v1[:, None], v2, out=out._a)
        return out
    return _result(cls, _prod_r(v1, v2), out, "ger")


@both
def dot(tensor1, tensor2):
    """Sum of the elementwise products of two tensors with the same number of elements (any shapes, as
    TH's dot): a Python float for floating types, an int (accumulated in the tensor's type) otherwise."""
    a = _array(tensor1, "dot", "tensor1")
    b = tensor_operand(tensor1, tensor2, "dot", "tensor2")
    if a.size != b.size:
        raise RuntimeError("inconsistent tensor size, expected tensor {} and src {} to have the same number of "
                           "elements, but got {} and {} elements respectively"
                           .format(_desc(a), _desc(b), a.size, b.size))
    r = _product(type(tensor1)._xp, a.reshape(-1), b.reshape(-1))
    return float(r) if type(tensor1)._is_floating else int(r)


# ---------------------------------------------------------------------- matmul and @

@both
def matmul(tensor1, tensor2, out=None):
    """0.2's torch.matmul: dot for 1-D·1-D (a number), mv, mm, and batched products whose batch
    dimensions broadcast; a 1-D operand gains a dimension for the product that is removed after."""
    if not isinstance(tensor1, _TensorBase):
        raise TypeError("matmul(): expected tensor arguments, got {} and {}"
                        .format(_typename_of(tensor1), _typename_of(tensor2)))
    cls = type(tensor1)
    a = tensor1._a
    b = tensor_operand(tensor1, tensor2, "matmul", "tensor2")
    d1, d2 = _dim(a), _dim(b)
    if d1 == 0 or d2 == 0:
        raise ValueError("both arguments to matmul need to be at least 1D, but they are {}D and {}D".format(d1, d2))
    if d1 == 1 and d2 == 1:
        if out is not None:
            raise ValueError("out must be None for 1-d tensor matmul, returns a scalar")
        return dot(tensor1, tensor2)
    if d1 == 2 and d2 == 1:
        return mv(tensor1, tensor2, out=out)
    if d1 == 2 and d2 == 2:
        return mm(tensor1, tensor2, out=out)
    xp = cls._xp
    if d1 == 1 and d2 == 2:
        _check_mm(a[None], b)
        return _result(cls, _product(xp, a, b), out, "matmul")
    if d2 <= 2:
        # fold the batch into the rows: one large gemm instead of one per matrix (as 0.2 does)
        m = a.shape[-1]
        if b.shape[0] != m:
            raise RuntimeError("size mismatch, m1: {}, m2: {}".format(
                _fmt_size((a.size // m, m)), _fmt_size(b.shape if d2 == 2 else b.shape + (1,))))
        r = _product(xp, a.reshape(-1, m), b)
        return _result(cls, r.reshape(a.shape[:-1] + b.shape[1:]), out, "matmul")
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError("matmul(): size mismatch, the last dimension of tensor1 ({}) must match the "
                           "second-to-last dimension of tensor2 ({}) (sizes {} and {})"
                           .format(a.shape[-1], b.shape[-2], _desc(a), _desc(b)))
    try:
        r = _product(xp, a, b)
    except ValueError:
        raise RuntimeError("matmul(): the batch dimensions of tensor1 and tensor2 are not broadcastable "
                           "(sizes {} and {})".format(_desc(a), _desc(b))) from None
    return _result(cls, r, out, "matmul")


@tensor_method
def __matmul__(self, other):
    if not isinstance(other, _TensorBase):
        return NotImplemented
    return matmul(self, other)


# ---------------------------------------------------------------------- addmm, addmv, addr, addbmm, baddbmm

# each family: a shape function (checks the operands, returns the product's size) and the product

def _shape_mm(op, x1, x2):
    _check_mm(x1, x2)
    return x1.shape[0], x2.shape[1]


def _shape_mv(op, x1, x2):
    _check_mv(x1, x2)
    return x1.shape[:1]


def _shape_r(op, x1, x2):
    _check_r(x1, x2)
    return x1.shape[0], x2.shape[0]


def _shape_bmm(op, x1, x2):
    _check_bmm(op, x1, x2)
    return x1.shape[0], x1.shape[1], x2.shape[2]


def _shape_addbmm(op, x1, x2):
    _check_bmm(op, x1, x2)
    return x1.shape[1], x2.shape[2]


def _prod(x1, x2):
    return _product(np, x1, x2) if isinstance(x1, np.ndarray) else x1 @ x2


# The elementwise passes of the add-family (outer products, scaling, adding t) run NumPy's loops on every
# thread from this many elements on (ember._C.elementwise.Loop).
_THREADED_ELEMENTS = 1 << 17
_LOOPS = {(u, cls._dtype): table[cls].__self__  # the pointwise family's Loop objects
          for u, table in ((np.add, _pointwise._ADD), (np.multiply, _pointwise._MUL)) for cls in _pointwise._FLOATS}


def _threaded_loop(ufunc, r):
    if type(r) is np.ndarray and r.size >= _THREADED_ELEMENTS and r.flags.c_contiguous:
        return _LOOPS.get((ufunc, r.dtype))
    return None


def _update(ufunc, r, b):
    """r = ufunc(r, b) in place; ``b`` is a number of r's type or an array that broadcasts to r."""
    loop = _threaded_loop(ufunc, r)
    if loop is not None:
        n = get_num_threads()
        if not isinstance(b, np.ndarray):
            loop.binary(r, np.array((b,), r.dtype), r, n)
            return
        if b.dtype == r.dtype and not np.may_share_memory(r, b):
            if b.shape == r.shape and b.flags.c_contiguous:
                loop.binary(r, b, r, n)
                return
            if loop.broadcast(r, np.broadcast_to(b, r.shape), r, n):
                return
    ufunc(r, b, out=r)


def _prod_r(x1, x2):
    """The outer product of two vectors (the product of addr and ger)."""
    shape = (x1.shape[0], x2.shape[0])
    r = np.empty(shape, x1.dtype) if type(x1) is np.ndarray else None
    loop = _threaded_loop(np.multiply, r) if r is not None else None
    if loop is not None and loop.broadcast(np.broadcast_to(x1[:, None], shape), np.broadcast_to(x2, shape), r,
                                           get_num_threads()):
        return r
    return x1[:, None] * x2


def _prod_addbmm(x1, x2):
    """sum_b x1[b] @ x2[b] as one gemm over the concatenated inner dimension."""
    nb, n, k = x1.shape
    lhs = x1.transpose(1, 0, 2).reshape(n, nb * k)
    return _prod(lhs, x2.reshape(nb * k, x2.shape[2]))


def _t_mismatch_mm(t, x1, x2):
    return "size mismatch, t: {}, m1: {}, m2: {}".format(_desc(t), _desc(x1), _desc(x2))


def _t_mismatch_mv(t, x1, x2):
    return "size mismatch, t: {}, mat: {}".format(_desc(t), _desc(x1))


def _t_mismatch_r(t, x1, x2):
    return "size mismatch, t: {}, vec1: {}, vec2: {}".format(_desc(t), _desc(x1), _desc(x2))


def _t_mismatch_bmm(t, x1, x2):
    return "output tensor of incorrect size (t: {}, batch1: {}, batch2: {})".format(_desc(t), _desc(x1), _desc(x2))


def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, _TensorBase)


def _overload_error(op, args, kwargs, names, method):
    got = [_typename_of(a) for a in args] + ["{}={}".format(k, _typename_of(v)) for k, v in kwargs.items()]
    if method:
        expected = "([float beta], [float alpha], Tensor {1}, Tensor {2})".format(*names)
    else:
        expected = "([float beta], Tensor {0}, [float alpha], Tensor {1}, Tensor {2}, *, [Tensor out])".format(*names)
    return TypeError("{} received an invalid combination of arguments - got ({}), but expected {}"
                     .format(op, ", ".join(got), expected))


def _parse(op, args, kwargs, names, method):
    """Assign 0.2's positional overloads to slots: a number fills the next optional beta/alpha slot, a
    tensor the next tensor slot (skipping optional ones); keywords fill what is left.
    Returns [beta, mat, alpha, x1, x2] (mat is None for the method form: self)."""
    if not kwargs:  # the common forms, without the slot walk
        n = len(args)
        if method and n == 2 and isinstance(args[0], _TensorBase) and isinstance(args[1], _TensorBase):
            return [None, None, None, args[0], args[1]]
        if not method and n == 3 and isinstance(args[1], _TensorBase) and isinstance(args[2], _TensorBase):
            return [None, args[0], None, args[1], args[2]]
    slots = ("beta", None if method else names[0], "alpha", names[1], names[2])
    vals = [None] * 5
    i = 0
    for a in args:
        is_num = _number(a)
        if not is_num and not isinstance(a, _TensorBase):
            raise _overload_error(op, args, kwargs, names, method)
        while i < 5:
            s = slots[i]
            if s is not None:
                optional = s == "beta" or s == "alpha"
                if optional == is_num:
                    break
                if not optional:  # a number where a tensor is required
                    raise _overload_error(op, args, kwargs, names, method)
            i += 1
        if i == 5:
            raise _overload_error(op, args, kwargs, names, method)
        vals[i] = a
        i += 1
    for k, v in kwargs.items():
        j = slots.index(k) if k in slots else -1
        if j < 0 or vals[j] is not None:
            raise _overload_error(op, args, kwargs, names, method)
        vals[j] = v
    return vals


def _combine(cls, op, beta, t, alpha, x1, x2, family):
    """beta * t + alpha * product(x1, x2) as a new array, t broadcast to the product's size."""
    shape_fn, prod, mismatch = family[:3]
    b1 = _same_type(cls, x1, op)
    b2 = _same_type(cls, x2, op)
    beta = 1 if beta is None else _scalar_for(cls, beta, op)
    alpha = 1 if alpha is None else _scalar_for(cls, alpha, op)
    shape = shape_fn(op, b1, b2)
    ta = t._a
    if ta.shape != shape and not (ta.size and _broadcastable(ta.shape, shape)):
        raise RuntimeError(mismatch(ta, b1, b2))
    r = prod(b1, b2)
    if alpha != 1:
        _update(np.multiply, r, alpha)
    if beta == 1:
        _update(np.add, r, ta)
    elif beta != 0:
        _update(np.add, r, ta * cls._dtype.type(beta))
    return r


def _same_type(cls, x, op):
    """x's array; x must be a tensor of type cls."""
    if type(x) is not cls:
        raise TypeError("{} received an invalid combination of arguments - got ({}), but expected ({} tensor) "
                        "(tensor types can't be mixed: convert one with .type() or .type_as())"
                        .format(op, _typename_of(x), cls._typename))
    return x._a


def _make_add_family(name, names, *family):
    """torch.<name>, Tensor.<name> and Tensor.<name>_ from a family (shape function, product,
    t-mismatch message, (t's dimension count, message when self has another))."""
    t_dims, t_dims_msg = family[3]

    def fn(*args, **kwargs):
        out = kwargs.pop("out", None)
        beta, t, alpha, x1, x2 = _parse("torch." + name, args, kwargs, names, False)
        if not isinstance(t, _TensorBase) or x1 is None or x2 is None:
            raise _overload_error("torch." + name, args, kwargs, names, False)
        cls = type(t)
        return _result(cls, _combine(cls, name, beta, t, alpha, x1, x2, family), out, name)

    def method(self, *args, **kwargs):
        beta, _, alpha, x1, x2 = _parse(name, args, kwargs, names, True)
        if x1 is None or x2 is None:
            raise _overload_error(name, args, kwargs, names, True)
        cls = type(self)
        return cls._make(_combine(cls, name, beta, self, alpha, x1, x2, family))

    def method_(self, *args, **kwargs):
        op = name + "_"
        beta, _, alpha, x1, x2 = _parse(op, args, kwargs, names, True)
        if x1 is None or x2 is None:
            raise _overload_error(op, args, kwargs, names, True)
        cls = type(self)
        b1 = _same_type(cls, x1, op)
        b2 = _same_type(cls, x2, op)
        beta = 1 if beta is None else _scalar_for(cls, beta, op)
        alpha = 1 if alpha is None else _scalar_for(cls, alpha, op)
        s = self._a
        if s.shape != family[0](op, b1, b2):  # in place: no broadcasting of self
            if _dim(s) != t_dims:
                raise RuntimeError(t_dims_msg.format(_dim(s)))
            raise RuntimeError(family[2](s, b1, b2))
        r = family[1](b1, b2)
        if alpha != 1:
            _update(np.multiply, r, alpha)
        if beta == 0:
            s[...] = r
        else:
            if beta != 1:
                _update(np.multiply, s, cls._dtype.type(beta))
            _update(np.add, s, r)
        return self

    fn.__name__, method.__name__, method_.__name__ = name, name, name + "_"
    fn.__doc__ = "torch.{0}(beta=1, {1}, alpha=1, {2}, {3}, out=None): beta * {1} + alpha * product".format(
        name, *names)
    torch_function(fn, name)
    tensor_method(method, name)
    tensor_method(method_, name + "_")
    return fn, method_


addmm, addmm_ = _make_add_family("addmm", ("mat", "mat1", "mat2"), _shape_mm, _prod, _t_mismatch_mm,
                                 (2, "matrix expected, got {}D tensor for t"))
addmv, addmv_ = _make_add_family("addmv", ("tensor", "mat", "vec"), _shape_mv, _prod, _t_mismatch_mv,
                                 (1, "vector expected, got t: {}D"))
addr, addr_ = _make_add_family("addr", ("mat", "vec1", "vec2"), _shape_r, _prod_r, _t_mismatch_r,
                               (2, "expected matrix, got {}D tensor for t"))
addbmm, addbmm_ = _make_add_family("addbmm", ("mat", "batch1", "batch2"), _shape_addbmm, _prod_addbmm,
                                   _t_mismatch_bmm,
                                   (2, "addbmm_(): expected a 2D tensor for t, got {}D"))
baddbmm, baddbmm_ = _make_add_family("baddbmm", ("mat", "batch1", "batch2"), _shape_bmm, _prod,
                                     _t_mismatch_bmm,
                                     (3, "baddbmm_(): expected a 3D tensor for t, got {}D"))


@both
def cross(input, other, dim=-1, out=None):
    """The cross product along ``dim``, which must have size 3. 0.2's default dim=-1 means the FIRST
    dimension of size 3 (not the last dimension). Sizes must match exactly (no broadcasting in 0.2)."""
    cls = type(input)
    b = tensor_operand(input, other, "cross")
    a = input._a
    if a.shape != b.shape:
        raise RuntimeError("cross(): inconsistent tensor sizes {} and {}".format(_fmt_size(a.shape),
                                                                                 _fmt_size(b.shape)))
    nd = a.ndim if a.size else 0
    if dim is None or dim == -1:
        found = [i for i, n in enumerate(a.shape) if n == 3] if nd else []
        if not found:
            raise RuntimeError("cross(): no dimension of size 3 in input of size {}".format(_fmt_size(a.shape)))
        d = found[0]
    else:
        d = dim + nd if dim < 0 else dim
        if not 0 <= d < nd:
            raise IndexError("cross(): dimension {} out of range for a {}-D tensor".format(dim, nd))
        if a.shape[d] != 3:
            raise RuntimeError("cross(): dimension {} does not have size 3 (size {})".format(dim, _fmt_size(a.shape)))
    # TH's components (a1 b2 - a2 b1, ...), written directly: np.cross moves axes three times (15 us)
    part = [(slice(None),) * d + (slice(i, i + 1),) for i in range(3)]
    a0, a1, a2 = (a[k] for k in part)
    b0, b1, b2 = (b[k] for k in part)
    xp = cls._xp
    r = xp.empty(a.shape, a.dtype)
    xp.subtract(a1 * b2, a2 * b1, out=r[part[0]])
    xp.subtract(a2 * b0, a0 * b2, out=r[part[1]])
    xp.subtract(a0 * b1, a1 * b0, out=r[part[2]])
    if out is None:
        return cls._make(r)
    return write_out(out, cls, r, "cross")
