"""Linear algebra on Variables: inverse, gesv (with differentiable solutions), cross."""
from ember.tensor import _typename_of
from .utils import Function, Variable, _node1, _node2, _nograd, _output, _SavedOutput, both


class InverseBackward(Function):
    """d(A^-1) = -A^-1 dA A^-1, so grad_A = -Y^T g Y^T with Y = A^-1 (the saved output)."""
    __slots__ = ()

    def _apply(self, grads):
        g = grads[0]
        y, = self._unpack(isinstance(g, Variable))
        yt = y.t()
        return (-yt.mm(g).mm(yt),)


@both
def inverse(self):
    r = self.data.inverse()
    fn = _node1(InverseBackward, self)
    if fn is None:
        return _nograd(r, self)
    out = _output(r, fn)
    fn._saved = (_SavedOutput(r, out._vc, 0),)
    fn._saved_versions = (0,)
    return out


class GesvBackward(Function):
    """X = A^-1 B: grad_B = A^-T g, grad_A = -grad_B X^T (the LU output gets no gradient)."""
    __slots__ = ("vector",)

    def _apply(self, grads):
        g = grads[0]
        if g is None:
            return (None, None)
        a, x = self._unpack(isinstance(g, Variable))
        (fb, _), (fa, _) = self.next_functions
        gb = gesv(g, a.t())[0] if isinstance(g, Variable) else g.gesv(a.t())[0]
        ga = -gb.mm(x.t()) if fa is not None else None
        return (gb if fb is not None else None, ga)


@both
def gesv(self, a):
    """Solve ``a X = self``; returns (X, LU) as Variables, LU without gradient."""
    if not isinstance(a, Variable):
        raise TypeError("gesv() expected a Variable as A, got {}".format(_typename_of(a)))
    x, lu = self.data.gesv(a.data)
    fn = _node2(GesvBackward, self, a)
    if fn is None:
        return _nograd(x, self, a), _nograd(lu, self, a)
    out = _output(x, fn)
    fn._saved = (a, _SavedOutput(x, out._vc, 0))
    fn._saved_versions = (a._vc[0], 0)
    return out, _nograd(lu, self, a)


GesvBackward._nout = 2


class CrossBackward(Function):
    """c = a x b: grad_a = b x g, grad_b = g x a."""
    __slots__ = ("dim",)

    def _apply(self, grads):
        g = grads[0]
        a, b = self._unpack(isinstance(g, Variable))
        (fa, _), (fb, _) = self.next_functions
        return (b.cross(g, self.dim) if fa is not None else None,
                g.cross(a, self.dim) if fb is not None else None)


@both
def cross(self, other, dim=-1):
    if not isinstance(other, Variable):
        raise TypeError("cross() expected a Variable as other, got {}".format(_typename_of(other)))
    r = self.data.cross(other.data, dim)
    fn = _node2(CrossBackward, self, other)
    if fn is None:
        return _nograd(r, self, other)
    fn.dim = dim
    fn._save(self, other)
    return _output(r, fn)

