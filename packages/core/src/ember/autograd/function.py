"""Function: the graph node of autograd, and the base class of user-defined operations.

Every operation on Variables that needs a gradient creates one node. ``next_functions`` holds one
``(node, output_nr)`` pair per input (``(None, 0)`` for inputs that need no gradient); the engine calls
``node._apply(grads)`` with one gradient per output of the node and gets one gradient per input back.

User-defined operations come in 0.2's two styles:

- old (legacy) style: instance methods ``forward(self, *tensors)`` / ``backward(self, *grad_tensors)``,
  called as ``MyFn(args)(*variables)``; the instance itself becomes the graph node.
- new style: ``@staticmethod forward(ctx, *args)`` / ``@staticmethod backward(ctx, *grad_variables)``,
  called as ``MyFn.apply(*args)``; ``ctx`` is an instance of the generated class ``MyFnBackward``,
  which is the graph node. Its backward receives and returns Variables, so it can itself be
  differentiated (``create_graph=True``); decorate it with ``@once_differentiable`` to work on tensors.
"""
import collections
import functools

from ember import _backend
from ember.tensor import _TensorBase, _typename_of
from ember.utils.hooks import RemovableHandle
from .variable import Variable, _check_inplace, _output, _plain, _share_vc, _volatile, _new

FREED = ("Trying to backward through the graph a second time, but the buffers have already been freed. "
         "Specify retain_graph=True when calling backward the first time.")
MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"
_NO_EDGE = (None, 0)


class _SavedOutput(object):
    """An output saved for backward, kept without its Variable (which would make a reference cycle)."""
    __slots__ = ("data", "vc", "nr")

    def __init__(self, data, vc, nr):
        self.data = data
        self.vc = vc
        self.nr = nr


def edge(v):
    """The (node, output_nr) through which a gradient reaches Variable ``v``."""
    if not v._requires_grad:
        return _NO_EDGE
    fn = v._grad_fn
    if fn is not None:
        return (fn, v._output_nr)
    acc = v._grad_acc
    if acc is None:
        from .engine import AccumulateGrad
        acc = v._grad_acc = AccumulateGrad(v)
    return (acc, 0)


class _FunctionMeta(type):
    """Gives every new-style Function subclass its graph-node class ``<Name>Backward``."""

    def __init__(cls, name, bases, attrs):
        forward = attrs.get("forward")
        if forward is not None:
            cls._is_legacy = not isinstance(forward, (staticmethod, classmethod))
            if not cls._is_legacy:
                cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_forward_cls": cls})
        super(_FunctionMeta, cls).__init__(name, bases, attrs)


class Function(object, metaclass=_FunctionMeta):
    """Records operation history and defines formulas for differentiating ops (see the module docs)."""
    __slots__ = ("next_functions", "_saved", "_saved_versions", "_h", "__weakref__")
    _nout = 1
    _stochastic = False
    # what save_for_backward / mark_* recorded during the current forward
    to_save = dirty_tensors = non_differentiable = shared_pairs = None

    # ------------------------------------------------------------------ graph facts
    @property
    def previous_functions(self):
        """The 0.1 name of ``next_functions``."""
        return self.next_functions

    @property
    def needs_input_grad(self):
        return tuple(f is not None for f, _ in self.next_functions)

    @property
    def requires_grad(self):
        return any(f is not None for f, _ in self.next_functions)

    @property
    def num_inputs(self):
        return len(self.next_functions)

    @property
    def num_outputs(self):
        return self._nout

    # ------------------------------------------------------------------ hooks
    def register_hook(self, hook):
        """Register ``hook(grad_inputs, grad_outputs)``, called after this node computed the gradients of
        its inputs; it may return replacements for ``grad_inputs``."""
        h = self._hooks_state()
        if h[1] is None:
            h[1] = collections.OrderedDict()
        handle = RemovableHandle(h[1])
        h[1][handle.id] = hook
        return handle

    def _add_pre_hook(self, output_nr, hooks):
        h = self._hooks_state()
        if h[0] is None:
            h[0] = []
        h[0].append((output_nr, hooks))

    def _hooks_state(self):
        try:
            h = self._h
        except AttributeError:
            h = None
        if h is None:
            h = self._h = [None, None]
        return h

    # ------------------------------------------------------------------ saved values
    def _save(self, *variables):
        self._saved = variables
        self._saved_versions = tuple(None if v is None else v._vc[0] for v in variables)

    def _unpack(self, graph):
        """The saved values as Variables (``graph``) or tensors, after checking their versions."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(FREED)
        out = []
        for s, ver in zip(saved, self._saved_versions):
            if s is None:
                out.append(None)
            elif type(s) is _SavedOutput:
                if s.vc[0] != ver:
                    raise RuntimeError(MODIFIED)
                if graph:
                    v = _output(s.data, self, s.nr)
                    v._vc = s.vc
                    out.append(v)
                else:
                    out.append(s.data)
            else:
                if s._vc[0] != ver:
                    raise RuntimeError(MODIFIED)
                out.append(s if graph else s.data)
        return out

    def _release(self):
        """Free the saved values (after a backward pass that does not retain the graph)."""
        if self._saved is not None:
            self._saved = None

    # ------------------------------------------------------------------ legacy (old-style) protocol
    def save_for_backward(self, *tensors):
        self.to_save = tensors

    def mark_dirty(self, *args):
        self.dirty_tensors = args

    def mark_shared_storage(self, *pairs):
        self.shared_pairs = pairs

    def mark_non_differentiable(self, *args):
        self.non_differentiable = args

    @property
    def saved_tensors(self):
        return tuple(self._unpack(False))

    @property
    def saved_variables(self):
        return tuple(self._unpack(True))

    def forward(self, *input):
        raise NotImplementedError("{}.forward is not implemented".format(type(self).__name__))

    def backward(self, *grad_output):
        raise NotImplementedError("{}.backward is not implemented".format(type(self).__name__))

    def __call__(self, *inputs):
        """Run an old-style Function on Variables; ``self`` becomes the graph node of the result."""
        for i, a in enumerate(inputs):
            if a is not None and not isinstance(a, Variable):
                raise RuntimeError("expected a Variable argument, but got {}".format(_typename_of(a)))
        _reset(self)
        return _run_forward(self, inputs, self.forward)

    def _apply(self, grads):
        """Engine entry of old-style Functions: tensors in, tensors out."""
        graph = _graph_mode(grads)
        tensors = [g.data if isinstance(g, Variable) else g for g in self._fill_missing(grads)]
        result = _as_tuple(self.backward(*tensors))
        result = _check_grads(self, result)
        if graph:
            return _delayed_error(result, grads, self)
        return [r.data if isinstance(r, Variable) else r for r in result]

    def _fill_missing(self, grads):
        """The gradients a Python Function's backward receives: contiguous, and zeros (as in 0.2) for
        outputs that received none."""
        meta = self._out_meta
        graph = _graph_mode(grads)
        out = []
        for g, (cls, shape) in zip(grads, meta):
            if g is None:
                z = cls._make(cls._xp.zeros(shape, cls._dtype))
                g = _plain(z) if graph else z
            else:
                g = g.contiguous()
            out.append(g)
        return out

    def __repr__(self):
        return "<{} object at {:#x}>".format(type(self).__name__, id(self))


class BackwardCFunction(Function):
    """The ctx and graph node of a new-style Function call (instances of ``<Name>Backward``)."""
    _forward_cls = None

    def _apply(self, grads):
        graph = _graph_mode(grads)
        grads = self._fill_missing(grads)
        args = grads if graph else [g if isinstance(g, Variable) or g is None else _volatile(g) for g in grads]
        result = _check_grads(self, _as_tuple(self._forward_cls.backward(self, *args)))
        if graph:
            return [r if r is None or isinstance(r, Variable) else _plain(r) for r in result]
        return [r.data if isinstance(r, Variable) else r for r in result]

    def __call__(self, *args):
        raise RuntimeError("{} is the ctx of a Function call; call {}.apply(...) instead"
                           .format(type(self).__name__, self._forward_cls.__name__))


def _apply(cls, *args):
    """Run a new-style Function: ``Fn.apply(*args)``."""
    ctx = cls._backward_cls()
    ctx._h = None
    return _run_forward(ctx, args, cls.forward, True)


Function.apply = classmethod(_apply)


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        super(InplaceFunction, self).__init__()
        self.inplace = inplace


class StochasticFunction(Function):
    """An old-style Function whose outputs are samples: its backward receives the reward given with
    ``output.reinforce(reward)`` instead of a gradient."""
    _stochastic = True

    def __init__(self):
        super(StochasticFunction, self).__init__()
        self.reward = None

    def _reinforce(self, reward):
        if isinstance(reward, Variable):
            reward = reward.data
        if not isinstance(reward, _TensorBase) and not isinstance(reward, (int, float)):
            raise TypeError("reinforce() expects a tensor or a number as reward, got {}".format(_typename_of(reward)))
        self.reward = reward

    def _apply(self, grads):
        reward = getattr(self, "reward", None)
        if reward is None:
            raise RuntimeError("differentiating stochastic functions requires providing a reward")
        result = _check_grads(self, _as_tuple(self.backward(reward)))
        graph = _graph_mode(grads)
        if graph:
            return [r if r is None or isinstance(r, Variable) else _plain(r) for r in result]
        return [r.data if isinstance(r, Variable) else r for r in result]

    def _release(self):
        Function._release(self)
        self.reward = None


class NestedIOFunction(Function):
    """An old-style Function whose inputs and outputs may be nested lists/tuples of Variables."""

    def __call__(self, *args):
        flat = []
        _flatten(args, flat)
        self._nested_input = args
        for a in flat:
            if a is not None and not isinstance(a, Variable):
                raise RuntimeError("expected a Variable argument, but got {}".format(_typename_of(a)))

        def run(*tensors):
            it = iter(tensors)
            nested = _unflatten(args, it)
            result = self.forward_extended(*nested)
            self._nested_output = result
            out = []
            _flatten(result, out)
            return tuple(out)
        _reset(self)
        flat_out = _run_forward(self, tuple(flat), run)
        flat_out = flat_out if isinstance(flat_out, tuple) else (flat_out,)
        return _unflatten(self._nested_output, iter(flat_out))

    def backward(self, *gradients):
        nested = _unflatten(self._nested_output, iter(gradients))
        result = self.backward_extended(*nested)
        flat = []
        _flatten(result, flat)
        return tuple(flat)

    def forward_extended(self, *input):
        raise NotImplementedError

    def backward_extended(self, *grad_output):
        raise NotImplementedError


def _flatten(obj, out):
    if isinstance(obj, (list, tuple)):
        for o in obj:
            _flatten(o, out)
    else:
        out.append(obj)


def _unflatten(template, it):
    if isinstance(template, (list, tuple)):
        return type(template)(_unflatten(t, it) for t in template)
    return next(it)


def once_differentiable(fn):
    """Decorate a new-style ``backward(ctx, ...)`` that works on tensors: it receives the data of its
    Variables; differentiating its results again raises an error."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        tensor_args = [a.data if isinstance(a, Variable) else a for a in args]
        result = fn(ctx, *tensor_args)
        is_tuple = isinstance(result, tuple)
        result = result if is_tuple else (result,)
        if any(isinstance(a, Variable) and a._volatile for a in args):
            out = [None if r is None else _volatile(r) for r in result]
        else:
            out = _delayed_error(result, args, ctx)
        return tuple(out) if is_tuple else out[0]
    return wrapper


class ErrorBackward(Function):
    """Stands for a derivative that is not available: reaching it in a backward pass raises ``msg``."""
    __slots__ = ("msg",)

    def _apply(self, grads):
        raise RuntimeError(self.msg)


_ONCE = "trying to differentiate twice a function that was markedwith @once_differentiable"


def _delayed_error(results, inputs, fn):
    """Wrap the tensor ``results`` of a backward formula that ran on tensors (``inputs``: its grad
    Variables) so that differentiating them again raises instead of silently giving zero."""
    saved = [s for s in (fn._saved or ()) if s is not None]
    edges = tuple(edge(a) for a in list(inputs) + saved if isinstance(a, Variable))
    needs = any(e[0] is not None for e in edges) or any(type(s) is _SavedOutput for s in saved)
    out = []
    for r in results:
        if r is None:
            out.append(None)
            continue
        data = r.data if isinstance(r, Variable) else r
        if needs:
            err = _new(ErrorBackward)
            err.next_functions = edges
            err._saved = None
            err._h = None
            err.msg = _ONCE
            out.append(_output(data, err))
        else:
            out.append(_plain(data))
    return out


# ---------------------------------------------------------------------- the shared forward protocol

def _gpu_of(values):
    """The GPU of the first tensor (or a Variable's) among ``values``; None when it is on the CPU or there is
    none. Functions run with it current, forward and backward (see the engine)."""
    for v in values:
        t = v.data if type(v) is Variable else v
        if isinstance(t, _TensorBase):
            return t.get_device() if t.is_cuda else None
    return None


def _reset(fn):
    """Clear what an earlier forward of an old-style Function instance recorded."""
    fn.to_save = fn.dirty_tensors = fn.non_differentiable = fn.shared_pairs = None
    fn._h = getattr(fn, "_h", None)


def _run_forward(fn, args, forward, new_style=False):
    """Unpack Variables, run ``forward`` on their tensors (``forward(fn, *tensors)`` for a new-style
    Function), wrap the outputs with ``fn`` as their node."""
    volatile = requires = False
    tensors = []
    in_meta = []
    edges = []
    inputs_by_id = {}
    for a in args:
        if isinstance(a, Variable):
            t = a.data
            if a._volatile:
                volatile = True
                edges.append(_NO_EDGE)
            elif a._requires_grad:
                requires = True
                g = a._grad_fn
                edges.append((g, a._output_nr) if g is not None else edge(a))
            else:
                edges.append(_NO_EDGE)
            inputs_by_id[id(t)] = a
            tensors.append(t)
            in_meta.append(t._a.shape)
        else:
            tensors.append(a)
            edges.append(_NO_EDGE)
            in_meta.append(None)  # _check_grads reads the shapes of the inputs that have an edge only
    requires = requires and not volatile
    fn.next_functions = tuple(edges) if requires else (_NO_EDGE,) * len(args)
    fn._saved = fn._saved_versions = None
    fn._in_meta = tuple(in_meta)

    gpu = _gpu_of(tensors) if _backend.gpu_used else None
    if gpu is None:
        raw = forward(fn, *tensors) if new_style else forward(*tensors)
    else:  # what forward allocates lands beside its inputs, as tensor methods run on their tensor's GPU
        with _backend.cupy.cuda.Device(gpu):
            raw = forward(fn, *tensors) if new_style else forward(*tensors)

    is_tuple = isinstance(raw, tuple)
    outputs = raw if is_tuple else (raw,)
    for o in outputs:
        if not isinstance(o, _TensorBase):
            raise TypeError("{}.forward must return a tensor or a tuple of tensors, but returned {}"
                            .format(_fn_name(fn), _typename_of(o)))
    dirty = _ids(fn.dirty_tensors)
    if dirty:
        if not dirty <= inputs_by_id.keys():
            raise RuntimeError("mark_dirty only accepts input tensors, but one of the arguments isn't one")
        if not dirty <= {id(o) for o in outputs}:
            raise RuntimeError("Some elements marked as dirty during the forward method were not returned as "
                               "output.")
    non_diff = _ids(fn.non_differentiable)
    stochastic = fn._stochastic
    results = []
    out_meta = []
    for i, t in enumerate(outputs):
        out_meta.append((type(t), t._a.shape))
        src = inputs_by_id.get(id(t)) if inputs_by_id else None
        if src is not None and id(t) in dirty:  # modified in place: the input Variable is the output
            _check_inplace(src)
            src._vc[0] += 1
            if volatile:
                src._volatile = True
                src._requires_grad = False
                src._grad_fn = None
            elif requires and id(t) not in non_diff:
                src._grad_fn = fn
                src._output_nr = i
                src._requires_grad = True
            out = src
        else:
            if volatile:
                out = _volatile(t)
            elif requires and (not non_diff or id(t) not in non_diff):
                out = _output(t, fn, i)
            else:
                out = _plain(t)
                if requires and stochastic:  # samples: no gradient, but reinforce() needs the node
                    out._grad_fn = fn
                    out._output_nr = i
            if src is not None:  # an input returned as is shares its memory
                out._vc = _share_vc(src, out)
        results.append(out)
    if fn.shared_pairs:
        for inp, outp in fn.shared_pairs:
            a = inputs_by_id.get(id(inp))
            for r, t in zip(results, outputs):
                if t is outp and a is not None and r is not a:
                    r._vc = _share_vc(a, r)
    fn._out_meta = tuple(out_meta)
    fn._nout = len(outputs)
    if (requires or stochastic) and fn.to_save is not None:
        fn._saved, fn._saved_versions = _saved_entries(fn.to_save, outputs, results, inputs_by_id)
    fn.to_save = None
    return tuple(results) if is_tuple else results[0]


def _ids(tensors):
    return {id(t) for t in tensors} if tensors else ()


def _saved_entries(to_save, outputs, results, inputs_by_id):
    """What save_for_backward keeps: input Variables, and outputs as _SavedOutput (no cycle), with their
    versions now."""
    saved = []
    versions = []
    for k, t in enumerate(to_save):
        if t is None:
            saved.append(None)
            versions.append(None)
            continue
        for i, o in enumerate(outputs):
            if o is t:
                vc = results[i]._vc
                saved.append(_SavedOutput(t, vc, i))
                versions.append(vc[0])
                break
        else:
            a = inputs_by_id.get(id(t))
            if a is None:
                raise RuntimeError("save_for_backward can only save input or output tensors, but argument {} "
                                   "doesn't satisfy this condition".format(k))
            saved.append(a)
            versions.append(a._vc[0])
    return tuple(saved), tuple(versions)


def _fn_name(fn):
    cls = type(fn)
    fwd = getattr(cls, "_forward_cls", None)
    return (fwd or cls).__name__


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _graph_mode(grads):
    for g in grads:
        if g is not None:
            return isinstance(g, Variable)
    return False


def _check_grads(fn, result):
    """Match the gradients a Python Function returned with its inputs (trailing Nones may be extra)."""
    n = len(fn.next_functions)
    if len(result) != n:
        if len(result) > n and all(r is None for r in result[n:]):
            result = result[:n]
        else:
            raise RuntimeError("function {} returned an incorrect number of gradients (expected {}, got {})"
                               .format(_fn_name(fn), n, len(result)))
    meta = fn._in_meta
    result = list(result)
    for i, r in enumerate(result):
        if r is None or fn.next_functions[i][0] is None:
            continue
        data = r.data if isinstance(r, Variable) else r
        if not isinstance(data, _TensorBase):
            raise TypeError("function {} returned a gradient of type {} at index {}; expected a tensor, a Variable "
                            "or None".format(_fn_name(fn), _typename_of(r), i))
        shape = meta[i]
        if shape is not None and data._a.shape != shape:
            if data._a.size != _numel(shape):
                raise RuntimeError("function {} returned an invalid gradient at index {} - expected size {} but got "
                                   "{}".format(_fn_name(fn), i, _fmt(shape), _fmt(data._a.shape)))
            result[i] = r.contiguous().view(shape)  # same elements, the input's shape
    return result


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _fmt(size):
    return "[" + " x ".join(str(s) for s in size) + "]"
