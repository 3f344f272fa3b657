"""Helpers shared by the built-in autograd functions: registration, recording a node, and the
shape helpers of backward formulas.

An op on Variables computes its result on the tensors (``x.data``), so every type check, broadcast and
error message comes from the tensor layer; then, when an input requires grad, it creates a node
(``_node1``/``_node2``/``_nodes``) and returns ``_output(result, node)``; otherwise ``_nograd``.

Backward formulas (``node._apply(grads)``) receive tensors, or Variables when the backward pass itself is
recorded (``create_graph=True``), and use only operations that both types share, plus the helpers
below that branch on the type.
"""
import numbers

from ember import _ops
from ember._size import Size
from ember.cuda import device_of
from ..function import ErrorBackward, Function, _NO_EDGE, _SavedOutput, edge
from ..variable import Variable, _check_inplace, _output, _plain, _share_vc, _volatile, _new

VARIABLE_FUNCTIONS = _ops.VARIABLE_FUNCTIONS

# the core names the op families import from here
__all__ = ["Function", "Variable", "_SavedOutput", "_output", "_plain", "_volatile", "_new", "_share_vc",
           "_check_inplace", "edge", "_NO_EDGE", "device_of"]


# ---------------------------------------------------------------------- registration

def method(fn=None, name=None):
    """Attach ``fn`` to Variable as method ``name``."""
    def deco(f):
        setattr(Variable, name or f.__name__, f)
        return f
    return deco(fn) if fn is not None else deco


def function(fn=None, name=None):
    """Register ``fn`` as the Variable implementation of ``ember.<name>``."""
    def deco(f):
        VARIABLE_FUNCTIONS[name or f.__name__] = f
        return f
    return deco(fn) if fn is not None else deco


def both(fn=None, name=None):
    def deco(f):
        method(f, name)
        function(f, name)
        return f
    return deco(fn) if fn is not None else deco


# ---------------------------------------------------------------------- recording

def _node1(cls, x):
    """A new node of ``cls`` for an op on ``x``, or None when no gradient is needed."""
    if x._requires_grad and not x._volatile:
        fn = _new(cls)
        fn.next_functions = (edge(x),)
        fn._saved = None
        fn._h = None
        return fn
    return None


def _node2(cls, a, b):
    if (a._requires_grad or b._requires_grad) and not (a._volatile or b._volatile):
        fn = _new(cls)
        fn.next_functions = (edge(a), edge(b))
        fn._saved = None
        fn._h = None
        return fn
    return None


def _nodes(cls, inputs):
    """A node for an op on ``inputs`` (Variables, or None / constants with no gradient)."""
    volatile = requires = False
    for v in inputs:
        if isinstance(v, Variable):
            if v._volatile:
                volatile = True
            if v._requires_grad:
                requires = True
    if not requires or volatile:
        return None
    fn = _new(cls)
    fn.next_functions = tuple(edge(v) if isinstance(v, Variable) else _NO_EDGE for v in inputs)
    fn._saved = None
    fn._h = None
    return fn


def _nograd(data, *inputs):
    """The result of an op that records nothing: volatile if an input is."""
    for v in inputs:
        if isinstance(v, Variable) and v._volatile:
            return _volatile(data)
    return _plain(data)


def _save_output(fn, out, nr=0):
    """Save output ``out`` (a Variable of node ``fn``) for backward, without a reference cycle."""
    fn._saved = (_SavedOutput(out.data, out._vc, nr),)
    fn._saved_versions = (out._vc[0],)


def _inplace_result(self, fn):
    """Finish an in-place op on ``self`` (its data already modified): bump the version and make ``fn``
    (None: no gradient) its node."""
    self._vc[0] += 1
    if fn is not None:
        self._grad_fn = fn
        self._output_nr = 0
        self._requires_grad = True
    return self


def _inplace_volatile(self, *others):
    for v in others:
        if isinstance(v, Variable) and v._volatile:
            self._volatile = True
            self._requires_grad = False
            self._grad_fn = None
            return True
    return self._volatile


def undifferentiable(data, inputs, msg):
    """A Variable holding ``data`` (a tensor computed from the Variables ``inputs``) whose derivative
    with respect to them is not implemented: differentiating through it raises ``msg``."""
    fn = _nodes(ErrorBackward, inputs)
    if fn is None:
        return _nograd(data, *inputs)
    fn.msg = msg
    return _output(data, fn)


def _data(x):
    return x.data if isinstance(x, Variable) else x










def _number(x):
    t = type(x)
    if t is float or t is int:  # the common cases first: the ABC check costs a Variable ~0.3 us
        return True
    if t is Variable or t is bool:
        return False
    return isinstance(x, numbers.Number) and not isinstance(x, bool)




# ---------------------------------------------------------------------- shape helpers for formulas

def _sum_to_tensor(t, shape):
    """Sum tensor ``t`` over the dims that broadcasting added or expanded, giving size ``shape``; a
    same-numel shape (0.2's pointwise fallback) is a plain reshape."""
    a = t._a
    shape = tuple(shape)
    if a.shape == shape:
        return t
    nd = len(shape)
    lead = a.ndim - nd
    if lead >= 0 and all(s == 1 or s == n for s, n in zip(shape, a.shape[lead:])):
        axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
        r = a.sum(axis=axes, keepdims=True) if axes else a
        r = r.reshape(shape)
        if not r.flags.c_contiguous:
            r = type(t)._xp.ascontiguousarray(r)
        return type(t)._make(r)
    if a.size == _prod(shape):
        return t.contiguous().view(shape)
    raise RuntimeError("internal error: can't reduce a gradient of size {} to size {}".format(list(a.shape), list(shape)))


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class SumToBackward(Function):
    __slots__ = ("size",)

    def _apply(self, grads):
        return (expand_to(grads[0], self.size),)


class ExpandToBackward(Function):
    __slots__ = ("size",)

    def _apply(self, grads):
        return (sum_to(grads[0], self.size),)


def sum_to(x, shape):
    """``x`` (tensor or Variable) summed to ``shape`` (a tuple: the inverse of broadcasting)."""
    if isinstance(x, Variable):
        data = x.data
        if data._a.shape == shape:
            return x
        r = _sum_to_tensor(data, shape)
        fn = _node1(SumToBackward, x)
        if fn is None:
            return _nograd(r, x)
        fn.size = data._a.shape
        return _output(r, fn)
    if x._a.shape == shape:
        return x
    return _sum_to_tensor(x, shape)


def expand_to(x, shape):
    """``x`` broadcast to ``shape`` (a tuple; a view); a same-numel shape is a reshape."""
    if isinstance(x, Variable):
        data = x.data
        if data._a.shape == shape:
            return x
        r = _expand_tensor(data, shape)
        fn = _node1(ExpandToBackward, x)
        if fn is None:
            return _nograd(r, x)
        fn.size = data._a.shape
        return _output(r, fn)
    if x._a.shape == shape:
        return x
    return _expand_tensor(x, shape)


def _expand_tensor(t, shape):
    a = t._a
    shape = tuple(shape)
    lead = len(shape) - a.ndim
    if lead >= 0 and all(n == 1 or n == s for n, s in zip(a.shape, shape[lead:])):
        return t.expand(shape)
    return t.contiguous().view(shape)




def zeros_like_data(x, size=None):
    """A zero tensor of ``x``'s type (``x`` tensor or Variable) and the given size; a Variable without
    history when ``x`` is a Variable."""
    t = _data(x)
    size = t.size() if size is None else Size(size)
    z = t.new(size).zero_() if len(size) else t.new()
    return _plain(z) if isinstance(x, Variable) else z
