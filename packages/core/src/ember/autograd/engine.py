"""The backward engine: runs the graph's nodes in dependency order and accumulates leaf gradients.

Gradients travel as tensors when no graph of the backward pass is wanted (the cheap, common case) and as
Variables when ``create_graph=True``: the built-in formulas are written with operations that both types
share, so the same code either computes plain numbers or records a differentiable graph.
"""
import sys
import warnings
import weakref

import numpy as np

from ember import _backend
from ember.tensor import _TensorBase, _typename_of
from .function import Function, _gpu_of, edge
from .variable import Variable, _plain, _volatile

_getrefcount = sys.getrefcount


class AccumulateGrad(Function):
    """The node of a leaf that requires grad: runs the leaf's hooks, then adds the gradient to ``.grad``."""
    __slots__ = ("variable",)

    def __init__(self, var):
        self.variable = weakref.ref(var)
        self.next_functions = ()
        self._saved = None
        self._h = None

    def _apply(self, grads):
        var = self.variable()
        if var is None:
            return ()
        g = grads[0]
        del grads[0]
        hooks = var._hooks
        if hooks:
            g = _run_var_hooks(hooks, g)
        old = var._grad
        if type(g) is Variable:  # create_graph: the gradient keeps its own graph
            var._grad = g.clone() if old is None else old + g
        elif old is None:
            var._grad = _volatile(g if _owned(g, 2) else g.clone())
        elif old._grad_fn is None and not old._requires_grad:
            old.data.add_(g)
        else:
            var._grad = old + _volatile(g)
        return ()


def _owned(t, refs):
    """Whether tensor ``t`` may become a leaf's ``.grad`` without a copy: contiguous memory that it
    alone owns, referenced only by the caller (``refs`` counts the caller's own references)."""
    a = t._a  # referenced here, by t, and by getrefcount's argument
    return (t._s is None and a.base is None and a.flags.c_contiguous and _getrefcount(t) <= refs + 1
            and _getrefcount(a) <= 3)


def _run_var_hooks(hooks, g):
    graph = type(g) is Variable
    for hook in list(hooks.values()):
        arg = g if graph else _volatile(g)
        r = hook(arg)
        if r is not None:
            if not isinstance(r, Variable):
                raise TypeError("a Variable hook must return a Variable or None, got {}".format(_typename_of(r)))
            g = r if graph else r.data
    return g


def _run_node(fn, grads, h):
    """Call node ``fn`` with its pre-hooks (Variable hooks) and post-hooks (``register_hook``)."""
    pre, post = h
    if pre:
        for nr, hooks in pre:
            if hooks and grads[nr] is not None:
                grads[nr] = _run_var_hooks(hooks, grads[nr])
    if not post:
        return fn._apply(grads)
    grad_outputs = list(grads)
    result = fn._apply(grads)
    graph = any(type(g) is Variable for g in grad_outputs if g is not None)
    wrap = (lambda x: x) if graph else (lambda x: None if x is None else _volatile(x))
    gi = tuple(wrap(r) for r in result)
    go = tuple(wrap(g) for g in grad_outputs)
    for hook in list(post.values()):
        r = hook(gi, go)
        if r is not None:
            r = r if isinstance(r, tuple) else (r,)
            if len(r) != len(gi):
                raise RuntimeError("a Function hook returned {} gradients, but the node has {} inputs"
                                   .format(len(r), len(gi)))
            gi = r
    return [None if r is None else (r if graph else r.data) for r in gi]


def _run(fn, grads):
    h = fn._h
    return fn._apply(grads) if h is None else _run_node(fn, grads, h)


def run_backward(roots, grads, keep_graph, capture=None, accumulate=True):
    """Execute the graph from ``roots`` (a list of (node, output_nr)) seeded with ``grads``.

    ``capture`` maps nodes to [(slot, output_nr)]: the gradient reaching that output is stored in
    ``captured[slot]``; with ``accumulate=False`` only the nodes leading to captured ones run and
    leaf gradients are not accumulated.
    """
    # dependency counts: how many edges lead into each node
    deps = {}
    stack = []
    for fn, _ in roots:
        if fn not in deps:
            deps[fn] = 0
            stack.append(fn)
    pop, push = stack.pop, stack.append
    while stack:
        for nxt, _ in pop().next_functions:
            if nxt is not None:
                if nxt in deps:
                    deps[nxt] += 1
                else:
                    deps[nxt] = 1
                    push(nxt)
    needed = None
    if not accumulate:
        needed = _needed(deps, capture)
        deps = _restricted_deps(roots, needed)
    buffers = {}
    for (fn, nr), g in zip(roots, grads):
        if g is None:
            continue
        buf = buffers.get(fn)
        if buf is None:
            buf = buffers[fn] = [None] * fn._nout
        old = buf[nr]
        buf[nr] = g if old is None else old + g
    ready = [fn for fn, d in deps.items() if d == 0]
    captured = {}
    while ready:
        fn = ready.pop()
        buf = buffers.pop(fn, None)
        if capture is not None and fn in capture:
            _capture(fn, buf, capture[fn], captured)
            if type(fn) is AccumulateGrad:  # an input's own .grad is never touched by grad()
                continue
        if buf is not None or fn._stochastic:
            if buf is None:
                buf = [None] * fn._nout
            gpu = _gpu_of(buf) if _backend.gpu_used else None
            if gpu is None:
                result = _run(fn, buf)
            else:  # what the node allocates lands beside its gradients (0.2 ran a thread per device)
                with _backend.cupy.cuda.Device(gpu):
                    result = _run(fn, buf)
            if not keep_graph:
                if fn._stochastic:
                    fn._release()
                else:
                    fn._saved = None
            buf = None
            for (nxt, nr), g in zip(fn.next_functions, result):
                if nxt is None or (needed is not None and nxt not in needed):
                    continue
                if g is not None:
                    nbuf = buffers.get(nxt)
                    if nbuf is None:
                        nbuf = buffers[nxt] = [None] * nxt._nout
                        nbuf[nr] = g
                    else:
                        old = nbuf[nr]
                        nbuf[nr] = g if old is None else old + g
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
            # drop this loop's references so AccumulateGrad can adopt a gradient without copying it
            result = g = old = nbuf = None
        else:
            for nxt, _ in fn.next_functions:
                if nxt is None or (needed is not None and nxt not in needed):
                    continue
                d = deps[nxt] - 1
                deps[nxt] = d
                if d == 0:
                    ready.append(nxt)
    return captured


def _capture(fn, buf, slots, captured):
    for slot, nr in slots:
        g = None if buf is None else buf[nr]
        h = fn._h if type(fn) is not AccumulateGrad else None
        if g is not None and h is not None and h[0]:
            for hnr, hooks in h[0]:
                if hnr == nr and hooks:
                    g = _run_var_hooks(hooks, g)
        captured[slot] = g


def _needed(deps, capture):
    """The nodes from which a captured node can be reached (including the captured ones): a post-order
    walk, so each node is decided after all the nodes it leads to."""
    needed = set(capture)
    done = set()
    for start in deps:
        if start in done:
            continue
        done.add(start)
        stack = [(start, iter(start.next_functions))]
        while stack:
            fn, it = stack[-1]
            for nxt, _ in it:
                if nxt is not None and nxt not in done:
                    done.add(nxt)
                    stack.append((nxt, iter(nxt.next_functions)))
                    break
            else:
                stack.pop()
                if fn not in needed:
                    for nxt, _ in fn.next_functions:
                        if nxt is not None and nxt in needed:
                            needed.add(fn)
                            break
    return needed


def _restricted_deps(roots, needed):
    deps = {}
    for fn, _ in roots:
        if fn in needed:
            deps.setdefault(fn, 0)
    for fn in needed:
        deps.setdefault(fn, 0)
        for nxt, _ in fn.next_functions:
            if nxt is not None and nxt in needed:
                deps[nxt] = deps.get(nxt, 0) + 1
    return deps


# ---------------------------------------------------------------------- public entry points

def _make_grads(outputs, grads, create_graph):
    """Turn the user's gradients into the engine's (tensors, or Variables when a graph is wanted)."""
    if create_graph is None:
        create_graph = any(isinstance(g, Variable) and g._requires_grad for g in grads)
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        data = out.data
        a = data._a
        if g is None:
            if not out._requires_grad:
                result.append(None)
                continue
            if a.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if data.is_cuda:
                g = data.new(*a.shape).fill_(1)  # on the output's device
            else:
                ones = np.ones(a.shape, a.dtype)
                g = type(data)._make(ones)
            result.append(_plain(g) if create_graph else g)
            continue
        if isinstance(g, Variable):
            gd = g.data
            if not create_graph:
                g = gd
        elif isinstance(g, _TensorBase):
            gd = g
            if create_graph:
                g = _plain(g)
        else:
            raise TypeError("gradients can be either Tensors, Variables or None, but got " + _typename_of(g))
        if type(gd) is not type(data):
            raise TypeError("backward: gradient {} has type {}, but the output has type {}"
                            .format(i, type(gd)._typename, type(data)._typename))
        if gd._a.shape != a.shape:
            if gd._a.size != a.size:
                raise RuntimeError("backward: gradient {} has size {}, but the output has size {}"
                                   .format(i, _fmt(gd.size()), _fmt(data.size())))
            gd = gd.contiguous().view(data.size())
            g = _plain(gd) if create_graph else gd
        result.append(g)
    return result, create_graph


def _fmt(size):
    return "[" + " x ".join(str(s) for s in size) + "]"


def _retain(retain_graph, retain_variables, create_graph):
    if retain_variables is not None:
        if retain_graph is not None:
            raise ValueError("only one of retain_graph and retain_variables can be specified")
        warnings.warn("retain_variables option is deprecated and will be removed in 0.3. Use retain_graph instead.",
                      stacklevel=3)
        return bool(retain_variables)
    return create_graph if retain_graph is None else bool(retain_graph)


def _roots(variables):
    roots = []
    for i, v in enumerate(variables):
        if not isinstance(v, Variable):
            raise TypeError("backward: element {} of variables is a {}, not a Variable".format(i, _typename_of(v)))
        if v._volatile:
            raise RuntimeError("element {} of variables tuple is volatile".format(i))
        fn = v._grad_fn
        if fn is None:
            if not v._requires_grad:
                raise RuntimeError("element {} of variables tuple does not require grad".format(i))
            roots.append(edge(v))
        else:
            if not v._requires_grad and not fn._stochastic:
                raise RuntimeError("element {} of variables tuple does not require grad".format(i))
            roots.append((fn, v._output_nr))
    return roots


def backward(variables, grad_variables=None, retain_graph=None, create_graph=None, retain_variables=None):
    """Accumulate into the leaves' ``.grad`` the gradients of ``variables`` (weighted by
    ``grad_variables``: one Tensor/Variable per variable, or None for single-element ones)."""
    if isinstance(variables, Variable):
        variables = (variables,)
    else:
        variables = tuple(variables)
    if grad_variables is None:
        grad_variables = [None] * len(variables)
    elif isinstance(grad_variables, (Variable, _TensorBase)):
        grad_variables = [grad_variables]
    else:
        grad_variables = list(grad_variables)
    if len(grad_variables) != len(variables):
        raise RuntimeError("backward: got {} variables but {} gradients".format(len(variables), len(grad_variables)))
    roots = _roots(variables)
    grads, create_graph = _make_grads(variables, grad_variables, create_graph)
    keep = _retain(retain_graph, retain_variables, create_graph)
    run_backward(roots, grads, keep)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=None, only_inputs=True):
    """The gradients of ``outputs`` with respect to ``inputs`` (a tuple of Variables), without touching
    ``.grad`` of the inputs (with ``only_inputs=False`` the other leaves still accumulate theirs)."""
    outputs = (outputs,) if isinstance(outputs, Variable) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Variable) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Variable, _TensorBase)):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError("grad: got {} outputs but {} grad_outputs".format(len(outputs), len(grad_outputs)))
    roots = _roots(outputs)
    grads, create_graph = _make_grads(outputs, grad_outputs, create_graph)
    keep = create_graph if retain_graph is None else retain_graph
    capture = {}
    for i, v in enumerate(inputs):
        if not isinstance(v, Variable):
            raise TypeError("grad: inputs must be Variables, got {}".format(_typename_of(v)))
        if not v._requires_grad:
            raise RuntimeError("One of the differentiated Variables does not require grad")
        fn, nr = edge(v)
        capture.setdefault(fn, []).append((i, nr))
    captured = run_backward(roots, grads, keep, capture, accumulate=not only_inputs)
    result = []
    for i in range(len(inputs)):
        g = captured.get(i)
        if g is None:
            raise RuntimeError("One of the differentiated Variables appears to not have been used in the graph")
        result.append(g if create_graph else _volatile(g))
    return tuple(result)
