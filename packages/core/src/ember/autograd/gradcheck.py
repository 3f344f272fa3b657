"""Gradient checks: analytical Jacobians (from backward) against finite differences.

``gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)`` returns True when, for every output of
``func(*inputs)`` that requires grad, the Jacobian computed by backward matches central differences
within ``atol + rtol * |numerical|``; ``gradgradcheck(func, inputs, grad_outputs, ...)`` applies the
same check to the gradients themselves (computed with ``create_graph=True``), i.e. checks double
backward.

The analytical Jacobian is computed twice: once by a plain backward pass (the backward formulas run on
tensors) and once with ``create_graph=True`` (they run on Variables, recording a graph); both must match.
Use double-precision inputs: single precision rarely passes at these tolerances.

ember extra: ``raise_exception=True`` raises a RuntimeError describing the first mismatch instead of
returning False.
"""
from collections.abc import Iterable

import numpy as np

from ember.tensor import DoubleTensor, _TensorBase
from .variable import Variable
from .engine import backward as _backward, grad as _grad


def iter_variables(x):
    """(grad data, data) of every Variable in ``x`` that requires grad ((None, None) before a backward)."""
    if isinstance(x, Variable):
        if x.requires_grad:
            yield (x.grad.data, x.data) if x.grad is not None else (None, None)
    elif isinstance(x, Iterable) and not isinstance(x, (str, _TensorBase)):
        for elem in x:
            for result in iter_variables(elem):
                yield result


def zero_gradients(x):
    """Detach and zero the gradients of every Variable in ``x``."""
    if isinstance(x, Variable):
        if x.grad is not None:
            x.grad.detach_()
            x.grad.data.zero_()
    elif isinstance(x, Iterable) and not isinstance(x, (str, _TensorBase)):
        for elem in x:
            zero_gradients(elem)


def make_jacobian(input, num_out):
    """Zero Jacobian matrices (numel x num_out, double) shaped like the structure of ``input``."""
    if isinstance(input, Variable) and not input.requires_grad:
        return None
    if isinstance(input, (_TensorBase, Variable)):
        return DoubleTensor(input.nelement(), num_out).zero_()
    if isinstance(input, Iterable) and not isinstance(input, str):
        jacobians = [j for j in (make_jacobian(elem, num_out) for elem in input) if j is not None]
        if not jacobians:
            return None
        return type(input)(jacobians)
    return None


def iter_tensors(x, only_requiring_grad=False):
    if isinstance(x, _TensorBase):
        yield x
    elif isinstance(x, Variable):
        if x.requires_grad or not only_requiring_grad:
            yield x.data
    elif isinstance(x, Iterable) and not isinstance(x, str):
        for elem in x:
            for result in iter_tensors(elem, only_requiring_grad):
                yield result


def contiguous(input):
    if isinstance(input, (_TensorBase, Variable)):
        return input.contiguous()
    if isinstance(input, Iterable) and not isinstance(input, str):
        return type(input)(contiguous(e) for e in input)
    return input


def _flat_array(t):
    """A flat NumPy view of tensor ``t``'s elements (t must be contiguous)."""
    return t._a.reshape(-1)


def get_numerical_jacobian(fn, input, target, eps=1e-3):
    """Central differences of ``fn(input)`` (a tensor) with respect to each tensor of ``target``."""
    input = contiguous(input)
    output_size = fn(input).numel()
    jacobian = make_jacobian(target, output_size)
    x_tensors = list(iter_tensors(target, True))
    j_tensors = list(iter_tensors(jacobian))
    for x_tensor, d_tensor in zip(x_tensors, j_tensors):
        flat = _flat_array(x_tensor)
        d = d_tensor._a
        for i in range(flat.size):
            orig = flat[i].item()
            flat[i] = orig - eps
            outa = np.array(fn(input)._a, dtype=np.float64).reshape(-1)
            flat[i] = orig + eps
            outb = np.array(fn(input)._a, dtype=np.float64).reshape(-1)
            flat[i] = orig
            d[i] = (outb - outa) / (2 * eps)
    return jacobian


def get_analytical_jacobian(input, output):
    """The Jacobian of ``output`` with respect to ``input``, one backward pass per output element, by a
    plain and by a graph-recording pass. Returns (jacobian, reentrant, correct_grad_sizes), where
    reentrant says both passes agreed."""
    jacobian = make_jacobian(input, output.numel())
    jacobian_graph = make_jacobian(input, output.numel())
    grad_output = output.data.clone().zero_()
    flat_grad = _flat_array(grad_output)
    correct_grad_sizes = True
    for i in range(flat_grad.size):
        flat_grad[...] = 0
        flat_grad[i] = 1
        for jac, create_graph in ((jacobian, False), (jacobian_graph, True)):
            zero_gradients(input)
            output.backward(grad_output, retain_graph=True, create_graph=create_graph)
            for jacobian_x, (d_x, x) in zip(jac, iter_variables(input)):
                if d_x is None:
                    jacobian_x._a[:, i] = 0
                else:
                    if d_x.size() != x.size():
                        correct_grad_sizes = False
                    jacobian_x._a[:, i] = np.asarray(d_x._a, dtype=np.float64).reshape(-1)
    reentrant = all(np.allclose(a._a, b._a, rtol=1e-10, atol=1e-12) for a, b in zip(jacobian, jacobian_graph))
    return jacobian, reentrant, correct_grad_sizes


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_outputs(x):
    return tuple(o for o in _as_tuple(x) if isinstance(o, Variable) and o.requires_grad)


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False):
    """Check the gradients of ``func`` at ``inputs`` (a tuple of Variables; those with
    requires_grad=True are checked) against finite differences. Returns True or False."""
    inputs = _as_tuple(inputs)

    def fail(msg):
        if raise_exception:
            raise RuntimeError("gradcheck: " + msg)
        return False

    outputs = _differentiable_outputs(func(*inputs))
    for i, output in enumerate(outputs):
        def fn(input, i=i):
            return _as_tuple(func(*input))[i].data

        analytical, reentrant, correct_grad_sizes = get_analytical_jacobian(inputs, output)
        numerical = get_numerical_jacobian(fn, inputs, inputs, eps)
        for k, (a, n) in enumerate(zip(analytical, numerical)):
            diff = np.abs(a._a - n._a)
            bad = diff > atol + rtol * np.abs(n._a)
            if bad.any():
                r, c = np.argwhere(bad)[0]
                return fail("Jacobian mismatch for output {} with respect to input {}: analytical {!r} vs numerical "
                            "{!r} at element ({}, {});\nanalytical:\n{}\nnumerical:\n{}".format(
                                i, k, a._a[r, c], n._a[r, c], r, c, a._a, n._a))
        if not reentrant:
            return fail("the backward pass with create_graph=True gave different gradients than the plain one "
                        "(output {})".format(i))
        if not correct_grad_sizes:
            return fail("a gradient has a different size than its input (output {})".format(i))

    # the backward must scale with grad_output: a zero grad_output gives zero gradients
    zero_gradients(inputs)
    outputs = _differentiable_outputs(func(*inputs))
    if outputs:
        _backward(outputs, [o.data.new(o.size()).zero_() if o.numel() else o.data.new() for o in outputs],
                  create_graph=True)
        var_inputs = [x for x in inputs if isinstance(x, Variable)]
        if not var_inputs:
            raise RuntimeError("no Variables found in input")
        for x in var_inputs:
            if x.grad is not None and not (x.grad.data._a == 0).all():
                return fail("a zero grad_output gave non-zero gradients")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False):
    """Check the second derivatives of ``func``: gradcheck of the gradients of its outputs (weighted by
    ``grad_outputs``, Variables that require grad) with respect to ``inputs``. ember extra:
    ``grad_outputs=None`` draws random ones."""
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(func(*inputs))
        grad_outputs = tuple(Variable(o.data.new(o.size()).normal_(), requires_grad=True) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(grad_outputs)

    def new_func(*input_args):
        input_args, gouts = input_args[:-n] if n else input_args, input_args[len(input_args) - n:]
        outputs = _differentiable_outputs(func(*input_args))
        diff_inputs = tuple(x for x in input_args if isinstance(x, Variable) and x.requires_grad)
        return _grad(outputs, diff_inputs, gouts, create_graph=True)

    return gradcheck(new_func, inputs + grad_outputs, eps, atol, rtol, raise_exception)
