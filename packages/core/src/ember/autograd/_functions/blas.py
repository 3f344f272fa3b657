"""Matrix products of Variables: mm, bmm, mv, dot, ger, matmul (and ``@``), and the addmm family
(addmm, addbmm, baddbmm, addmv, addr) with their in-place forms.

The addmm family parses its arguments as the tensor layer does (0.2's cwrap overloads): numbers fill
beta, then alpha; Variables fill mat, then the two factors; ``beta=``/``alpha=`` keywords work too.
"""
from ember.tensor import _typename_of
from .utils import (Function, Variable, _data, _node2, _nodes, _nograd, _number, _output, both, device_of, function,
                    method, sum_to)
from .pointwise import inplace_via_copy
from .utils import expand_to
from .tensor import reshape


def _var(op, x, name):
    if not isinstance(x, Variable):
        raise TypeError("{}() expected a Variable as {}, got {} (Variables and tensors can't be mixed)"
                        .format(op, name, _typename_of(x)))
    return x


def _transposed(x):
    """Whether the matrices of ``x`` are stored column by column (``weight.t()`` in Linear)."""
    a = _data(x)._a
    s, n = a.strides, a.itemsize
    return s[-2] == n and s[-1] != n and a.shape[-1] > 1


def _product_grads(g, x1, x2, f1, f2, batched):
    """The gradients of ``x1 @ x2`` (or their batched product) for ``g``, each in its input's memory order.

    The gradient of ``weight.t()`` is then ``weight.grad``'s own C order after the transpose's backward:
    adding a transposed matrix into ``.grad`` in place runs strided, 3-5x slower than the product itself."""
    if batched:
        def tr(x):
            return x.transpose(1, 2)

        def prod(x, y):
            return x.bmm(y)
    else:
        def tr(x):
            return x.t()

        def prod(x, y):
            return x.mm(y)
    g1 = g2 = None
    if f1 is not None:
        g1 = tr(prod(x2, tr(g))) if _transposed(x1) else prod(g, tr(x2))
    if f2 is not None:
        g2 = tr(prod(tr(g), x1)) if _transposed(x2) else prod(tr(x1), g)
    return g1, g2


class MmBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        return _product_grads(g, a, b, fa, fb, False)


class BmmBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        return _product_grads(g, a, b, fa, fb, True)


class MvBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        g = grads[0]
        m, v = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        return (g.ger(v) if fa is not None else None,
                m.t().mv(g) if fb is not None else None)


class GerBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        return (g.mv(b) if fa is not None else None,
                g.t().mv(a) if fb is not None else None)


class DotBackward(Function):
    __slots__ = ()

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        shape = _data(a)._a.shape
        ge = expand_to(g, shape)
        return (ge * b if fa is not None else None, ge * a if fb is not None else None)


def _make_product(name, cls):
    def f(self, other):
        other = _var(name, other, "other")
        r = getattr(self.data, name)(other.data)
        fn = _node2(cls, self, other)
        if fn is None:
            return _nograd(r, self, other)
        fn._saved = (self, other)
        fn._saved_versions = (self._vc[0], other._vc[0])
        return _output(r, fn)
    f.__name__ = name
    both(f)
    return f


mm = _make_product("mm", MmBackward)
bmm = _make_product("bmm", BmmBackward)
mv = _make_product("mv", MvBackward)
ger = _make_product("ger", GerBackward)


@both
def dot(self, other):
    other = _var("dot", other, "tensor")
    data = self.data
    cls = type(data)
    with device_of(data):
        r = cls._make(cls._xp.array((data.dot(other.data),), dtype=cls._dtype))
    fn = _node2(DotBackward, self, other)
    if fn is None:
        return _nograd(r, self, other)
    fn._save(self, other)
    return _output(r, fn)


@both
def matmul(self, other):
    """0.2's matmul: dot (1-D, 1-D), mv, mm, and batched products with broadcast batch dims."""
    other = _var("matmul", other, "other")
    da, db = self.dim(), other.dim()
    if da == 1 and db == 1:
        return dot(self, other)
    if da == 2 and db == 1:
        return mv(self, other)
    if da == 1 and db == 2:
        return reshape(mm(reshape(self, (1, -1)), other), (other.size(1),))
    if da == 2 and db == 2:
        return mm(self, other)
    if da >= 3 and db in (1, 2):
        # fold the batch dims into the rows
        lead = tuple(self.size())[:-1]
        flat = reshape(self, (-1, self.size(-1)))
        if db == 1:
            return reshape(mv(flat, other), lead)
        return reshape(mm(flat, other), lead + (other.size(1),))
    if da < 1 or db < 1:
        raise RuntimeError("matmul(): both arguments need at least 1 dimension, got {}D and {}D".format(da, db))
    # batched: broadcast the batch dims, then bmm
    a = reshape(self, (1, -1)) if da == 1 else self
    b = reshape(other, (-1, 1)) if db == 1 else other
    sa, sb = tuple(a.size()), tuple(b.size())
    batch_a, batch_b = sa[:-2], sb[:-2]
    n = max(len(batch_a), len(batch_b))
    ba = (1,) * (n - len(batch_a)) + batch_a
    bb = (1,) * (n - len(batch_b)) + batch_b
    batch = []
    for x, y in zip(ba, bb):
        if x != y and x != 1 and y != 1:
            raise RuntimeError("matmul(): batch dimensions {} and {} are not broadcastable".format(list(batch_a),
                                                                                                  list(batch_b)))
        batch.append(max(x, y))
    batch = tuple(batch)
    nb = 1
    for x in batch:
        nb *= x
    a3 = reshape(expand_to(a, batch + sa[-2:]), (nb,) + sa[-2:])
    b3 = reshape(expand_to(b, batch + sb[-2:]), (nb,) + sb[-2:])
    r = bmm(a3, b3)
    shape = batch + (sa[-2], sb[-1])
    if da == 1:
        shape = batch + (sb[-1],)
    elif db == 1:
        shape = batch + (sa[-2],)
    return reshape(r, shape)


Variable.__matmul__ = matmul


# ---------------------------------------------------------------------- the addmm family

def _parse(op, args, kwargs, method_form):
    """[beta, mat, alpha, x1, x2] from 0.2's positional overloads (see the tensor layer)."""
    if not kwargs:  # the common forms: Variables only
        if method_form:
            if len(args) == 2 and isinstance(args[0], Variable) and isinstance(args[1], Variable):
                return 1, None, 1, args[0], args[1]
        elif len(args) == 3 and isinstance(args[0], Variable) and isinstance(args[1], Variable) and \
                isinstance(args[2], Variable):
            return 1, args[0], 1, args[1], args[2]
    beta = kwargs.pop("beta", None)
    alpha = kwargs.pop("alpha", None)
    if kwargs:
        raise TypeError("{}() got unexpected keyword arguments {}".format(op, sorted(kwargs)))
    nums = [a for a in args if _number(a)]
    vars_ = [a for a in args if not _number(a)]
    for v in vars_:
        _var(op, v, "argument")
    want = 2 if method_form else 3
    if len(vars_) != want or len(nums) > 2:
        raise TypeError("{} received an invalid combination of arguments - got ({}), but expected ([float beta], {}"
                        "[float alpha], Variable, Variable)".format(
                            op, ", ".join(_typename_of(a) for a in args), "" if method_form else "Variable mat, "))
    if len(nums) == 2:
        beta, alpha = nums
    elif len(nums) == 1:
        if beta is None:
            beta = nums[0]
        else:
            alpha = nums[0]
    beta = 1 if beta is None else beta
    alpha = 1 if alpha is None else alpha
    if method_form:
        return beta, None, alpha, vars_[0], vars_[1]
    return beta, vars_[0], alpha, vars_[1], vars_[2]


class AddmmBackward(Function):
    """beta * mat + alpha * product(x1, x2), for each product kind."""
    __slots__ = ("beta", "alpha", "mat_shape", "kind")

    def _apply(self, grads):
        g = grads[0]
        x1, x2 = self._unpack(isinstance(g, Variable))
        (f0, _), (f1, _), (f2, _) = self.next_functions
        beta, alpha, kind = self.beta, self.alpha, self.kind
        gm = g1 = g2 = None
        if f0 is not None:
            gm = sum_to(g if beta == 1 else g * beta, self.mat_shape)
        ga = g if alpha == 1 else g * alpha
        if kind == "mm" or kind == "bmm":
            g1, g2 = _product_grads(ga, x1, x2, f1, f2, kind == "bmm")
        elif kind == "mv":
            if f1 is not None:
                g1 = ga.ger(x2)
            if f2 is not None:
                g2 = x1.t().mv(ga)
        elif kind == "r":
            if f1 is not None:
                g1 = ga.mv(x2)
            if f2 is not None:
                g2 = ga.t().mv(x1)
        else:  # addbmm: the product is summed over the batch
            nb = _data(x1)._a.shape[0]
            gb = expand_to(ga.unsqueeze(0), (nb,) + _data(g)._a.shape)
            if f1 is not None:
                g1 = gb.bmm(x2.transpose(1, 2))
            if f2 is not None:
                g2 = x1.transpose(1, 2).bmm(gb)
        return (gm, g1, g2)


def _make_addmm(name, kind):
    def f(self, *args, **kwargs):
        beta, _, alpha, x1, x2 = _parse(name, args, dict(kwargs), True)
        return _addmm(name, kind, beta, self, alpha, x1, x2)

    def fun(*args, **kwargs):
        if "out" in kwargs:
            raise NotImplementedError("{}(): out= is not supported for Variables".format(name))
        beta, mat, alpha, x1, x2 = _parse(name, args, dict(kwargs), False)
        return _addmm(name, kind, beta, mat, alpha, x1, x2)

    def f_(self, *args, **kwargs):
        return inplace_via_copy(self, f, *args, **kwargs)
    f.__name__, fun.__name__, f_.__name__ = name, name, name + "_"
    method(f)
    function(fun, name)
    method(f_)


def _addmm(name, kind, beta, mat, alpha, x1, x2):
    if beta == 1 and alpha == 1:  # the tensor layer's fast form, without its overload walk
        r = getattr(mat.data, name)(x1.data, x2.data)
    else:
        r = getattr(mat.data, name)(beta, alpha, x1.data, x2.data)
    fn = _nodes(AddmmBackward, (mat, x1, x2))
    if fn is None:
        return _nograd(r, mat, x1, x2)
    fn.beta, fn.alpha, fn.kind = beta, alpha, kind
    fn.mat_shape = mat.data._a.shape
    fn._saved = (x1, x2)
    fn._saved_versions = (x1._vc[0], x2._vc[0])
    return _output(r, fn)


for _name, _kind in (("addmm", "mm"), ("addmv", "mv"), ("addr", "r"), ("baddbmm", "bmm"), ("addbmm", "addbmm")):
    _make_addmm(_name, _kind)
del _name, _kind
