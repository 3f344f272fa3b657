"""Variable: a Tensor that records the operations applied to it (PyTorch 0.2's autograd.Variable).

A Variable holds ``data`` (any ember Tensor), its gradient ``grad`` (a Variable, allocated by the first
backward pass and accumulated by later ones), the flags ``requires_grad`` and ``volatile`` and, for
results of operations, ``grad_fn``: the graph node that computes the gradients of its inputs.

The flag rules are 0.2's: an output requires grad if any input does; it is volatile if any input is
volatile, and then has no grad_fn; the flags can be changed only on leaves (Variables without grad_fn).

Memory: a Variable holds its grad_fn, graph nodes hold the nodes of their inputs, a leaf's gradient
accumulator holds the leaf weakly, and outputs a node saves for backward are kept as (tensor, version
counter), never as the output Variable, so a graph is freed by reference counting alone as soon as no
Python reference holds it.

Each Variable has a version counter ``_vc`` (``[version, views]``), bumped by every in-place operation
and shared with the Variables that view the same memory (views record weak references to each other in
``views`` so an in-place operation can refuse to run while another view is alive, as 0.2 did).
"""
import collections
import weakref

from ember.tensor import _TensorBase, _default, _typename_of
from ember.utils.hooks import RemovableHandle

_new = object.__new__

LEAF_INPLACE = "a leaf Variable that requires grad has been used in an in-place operation."


class Variable(object):
    """Wraps a tensor and records the operations applied to it.

    ``Variable(data=None, requires_grad=False, volatile=False)``: ``data`` is any tensor; the flags
    can also be given positionally, as 0.2 allowed.
    """
    __slots__ = ("data", "_grad", "_requires_grad", "_volatile", "_grad_fn", "_output_nr", "_vc", "_hooks",
                 "_grad_acc", "__weakref__")

    def __new__(cls, data=None, requires_grad=False, volatile=False, _grad_fn=None):
        if data is None:
            data = _default["tensor"]()
        elif not isinstance(data, _TensorBase):
            raise RuntimeError("Variable data has to be a tensor, but got {}".format(_typename_of(data)))
        if requires_grad and volatile:
            raise RuntimeError("Variable can't be volatile and require_grad at the same time!")
        self = _new(cls)
        self.data = data
        self._grad = None
        self._requires_grad = bool(requires_grad) or _grad_fn is not None
        self._volatile = bool(volatile)
        self._grad_fn = _grad_fn
        self._output_nr = 0
        self._vc = [0, None]
        self._hooks = None
        self._grad_acc = None
        return self

    def __init__(self, *args, **kwargs):  # construction happens in __new__ (subclasses may call this)
        pass

    __array_ufunc__ = None  # numpy scalars defer to Variable's reflected operators

    # ------------------------------------------------------------------ flags and history
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.{}".format(
                "" if value else " If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()."))
        if not isinstance(value, bool):
            raise TypeError("requires_grad must be a bool, got {}".format(_typename_of(value)))
        self._requires_grad = value

    @property
    def volatile(self):
        return self._volatile

    @volatile.setter
    def volatile(self, value):
        if self._grad_fn is not None:
            raise RuntimeError("volatile can only be set on leaf variables")
        if not isinstance(value, bool):
            raise TypeError("volatile must be a bool, got {}".format(_typename_of(value)))
        self._volatile = value
        if value:
            self._requires_grad = False

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def creator(self):
        """The 0.1 name of ``grad_fn``."""
        return self._grad_fn

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _version(self):
        return self._vc[0]

    @property
    def _backward_hooks(self):
        return self._hooks

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Variable):
                raise RuntimeError("expected Variable or None (got {})".format(_typename_of(value)))
            if value is self:
                raise RuntimeError("can't assign Variable as its own grad")
            if type(value.data) is not type(self.data):
                raise RuntimeError("assigned grad has data of a different type")
            if value.data.is_cuda and value.data.get_device() != self.data.get_device():
                raise RuntimeError("assigned grad has data located on a different device")
            if value.data.size() != self.data.size():
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    # ------------------------------------------------------------------ graph operations
    def detach(self):
        """A new leaf Variable sharing this one's data (and version counter); requires_grad is False and
        volatile is kept."""
        v = _new(Variable)
        v.data = self.data
        v._grad = None
        v._requires_grad = False
        v._volatile = self._volatile
        v._grad_fn = None
        v._output_nr = 0
        v._vc = _share_vc(self, v)
        v._hooks = None
        v._grad_acc = None
        return v

    def detach_(self):
        """Detach this Variable from the graph that created it, making it a leaf."""
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        self._hooks = None
        return self

    def register_hook(self, hook):
        """Register ``hook(grad) -> Variable or None``, called with this Variable's gradient every time it
        is computed; a returned Variable replaces the gradient. Returns a handle with ``remove()``."""
        if self._volatile:
            raise RuntimeError("cannot register a hook on a volatile variable")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a variable that doesn't require gradient")
        hooks = self._hooks
        if hooks is None:
            hooks = self._hooks = collections.OrderedDict()
            fn = self._grad_fn
            if fn is not None:
                fn._add_pre_hook(self._output_nr, hooks)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def retain_grad(self):
        """Keep the gradient of this non-leaf Variable in ``.grad`` (leaves always keep theirs)."""
        if self._grad_fn is None:
            return
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Variable that has requires_grad=False")
        hooks = self._hooks
        if hooks is not None and any(getattr(h, "_retains_grad", False) for h in hooks.values()):
            return
        ref = weakref.ref(self)  # the hook lives in grad_fn: a strong reference would be a cycle

        def retain_grad_hook(grad):
            var = ref()
            if var is None:
                return
            var._grad = grad.clone() if var._grad is None else var._grad + grad
        retain_grad_hook._retains_grad = True
        self.register_hook(retain_grad_hook)

    def reinforce(self, reward):
        """Provide the reward for a stochastic output (from multinomial, bernoulli or normal)."""
        from .function import StochasticFunction
        fn = self._grad_fn
        if not isinstance(fn, StochasticFunction):
            raise RuntimeError("reinforce() can be only called on outputs of stochastic functions")
        fn._reinforce(reward)

    def backward(self, gradient=None, retain_graph=None, create_graph=None, retain_variables=None):
        """Compute the gradient of this Variable with respect to the graph leaves and accumulate it in
        their ``.grad``. ``gradient`` (a Tensor or Variable the size of ``data``) is required unless the
        Variable has a single element."""
        from .engine import backward
        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
                 retain_variables)

    # ------------------------------------------------------------------ tensor facts (fall through to .data)
    def size(self, dim=None):
        return self.data.size() if dim is None else self.data.size(dim)

    @property
    def shape(self):
        return self.data.size()

    def dim(self):
        return self.data.dim()

    ndimension = dim

    def numel(self):
        return self.data.numel()

    nelement = numel

    def stride(self, dim=None):
        return self.data.stride() if dim is None else self.data.stride(dim)

    def element_size(self):
        return self.data.element_size()

    def get_device(self):
        return self.data.get_device()

    def is_contiguous(self):
        return self.data.is_contiguous()

    @property
    def is_cuda(self):
        return self.data.is_cuda

    @property
    def is_sparse(self):
        return self.data.is_sparse

    def is_set_to(self, other):
        return self.data.is_set_to(other.data if isinstance(other, Variable) else other)

    def is_signed(self):
        return self.data.is_signed()

    def is_same_size(self, other_var):
        return self.data.is_same_size(other_var.data if isinstance(other_var, Variable) else other_var)

    def storage_offset(self):
        return self.data.storage_offset()

    def data_ptr(self):
        return self.data.data_ptr()

    def __len__(self):
        return len(self.data)

    def __iter__(self):
        return iter(map(self.__getitem__, range(self.size(0)))) if self.data.numel() else iter([])

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if not self.data.numel():
            return False
        raise RuntimeError("bool value of Variable objects containing non-empty " + type(self.data)._typename
                           + " is ambiguous")

    __nonzero__ = __bool__

    def __repr__(self):
        return "Variable containing:" + repr(self.data)

    __str__ = __repr__

    def tolist(self):
        return self.data.tolist()

    def numpy(self):
        return self.data.numpy()

    def __array__(self, dtype=None, copy=None):
        return self.data.__array__(dtype)

    def __int__(self):
        return int(self.data)

    def __float__(self):
        return float(self.data)

    def __index__(self):
        return self.data.__index__()

    # ------------------------------------------------------------------ copying and pickling
    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Variables created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment")
        result = type(self)(self.data.clone())
        result._requires_grad = self._requires_grad
        result._volatile = self._volatile
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, proto):
        if self._grad_fn is not None:
            raise RuntimeError("Only Variables created explicitly by the user (graph leaves) can be pickled")
        return type(self), (self.data,), (self._requires_grad, self._volatile)

    def __setstate__(self, state):
        self._requires_grad, self._volatile = state[0], state[1]


# ---------------------------------------------------------------------- fast constructors for op results

def _plain(data, volatile=False):
    """A result that needs no gradient (no input requires grad), volatile when an input was."""
    v = _new(Variable)
    v.data = data
    v._grad = None
    v._requires_grad = False
    v._volatile = volatile
    v._grad_fn = None
    v._output_nr = 0
    v._vc = [0, None]
    v._hooks = None
    v._grad_acc = None
    return v


def _volatile(data):
    return _plain(data, True)


def _output(data, fn, nr=0):
    """A result of the graph node ``fn`` (its output number ``nr``)."""
    v = _new(Variable)
    v.data = data
    v._grad = None
    v._requires_grad = True
    v._volatile = False
    v._grad_fn = fn
    v._output_nr = nr
    v._vc = [0, None]
    v._hooks = None
    v._grad_acc = None
    return v


def _share_vc(base, view):
    """Make ``view`` share ``base``'s version counter; returns the counter."""
    vc = base._vc
    views = vc[1]
    if views is None:
        vc[1] = [weakref.ref(base), weakref.ref(view)]
    else:
        if len(views) > 8:
            views[:] = [r for r in views if r() is not None]
        views.append(weakref.ref(view))
    return vc


def _check_inplace(var):
    """0.2's checks before an in-place operation on ``var``."""
    if var._grad_fn is None and var._requires_grad:
        raise RuntimeError(LEAF_INPLACE)
    views = var._vc[1]
    if views is not None:
        n = 0
        for r in views:
            if r() is not None:
                n += 1
        if n > 1:
            raise RuntimeError("in-place operations can be only used on variables that don't share storage with "
                               "any other variables, but detected that there are {} objects sharing it".format(n))
