"""Softmax and log-softmax along any dim, forward and backward (THNN's SoftMax / LogSoftMax formulas,
numerically stable: each slice is shifted by its maximum).

    y = softmax_forward(x, dim)            grad_x = softmax_backward(grad_y, y, dim)
    y = log_softmax_forward(x, dim)        grad_x = log_softmax_backward(grad_y, y, dim)

``dim`` is explicit (0.2's nn picks dim 0 for 1-D/3-D input and dim 1 for 2-D/4-D input, and passes
it here); any dim of any number of dims works (THNN took 1-D to 4-D: more is an ember extra). Inputs
may be non-contiguous; results are new C-contiguous tensors of the input's type.
"""
import math

import numpy as np

from ember._C import nn_softmax as _k

from ._common import (contiguous, float_input, get_num_threads, on_device, same_device, same_type, size_str,
                      xp_of)
from ember.tensor import _wrap_dim


def softmax_forward(input, dim):
    return _forward(input, dim, False, "softmax_forward")


def log_softmax_forward(input, dim):
    return _forward(input, dim, True, "log_softmax_forward")


def softmax_backward(grad_output, output, dim):
    return _backward(grad_output, output, dim, False, "softmax_backward")


def log_softmax_backward(grad_output, output, dim):
    return _backward(grad_output, output, dim, True, "log_softmax_backward")


def _split(shape, dim):
    """(outer, n, inner): the sizes before ``dim``, at it, and after it."""
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])


def _forward(input, dim, logsm, op):
    float_input(input, op)
    shape = input._a.shape
    d = _wrap_dim(dim, len(shape), op)
    if input.is_cuda:
        from .cuda import softmax as _gpu
        with on_device(input):
            return type(input)._make(_gpu.softmax_forward(xp_of(input), contiguous(input._a), d, logsm))
    return _forward_cpu(input, _split(shape, d), logsm)


def _backward(grad_output, output, dim, logsm, op):
    float_input(output, op, "output")
    same_type(grad_output, output, op, "grad_output")
    same_device(grad_output, output, op, "grad_output")
    shape = output._a.shape
    if grad_output._a.shape != shape:
        raise ValueError("{}(): grad_output has size {} but output has size {}"
                         .format(op, size_str(grad_output), size_str(output)))
    d = _wrap_dim(dim, len(shape), op)
    if output.is_cuda:
        from .cuda import softmax as _gpu
        with on_device(output):
            return type(output)._make(_gpu.softmax_backward(xp_of(output), contiguous(grad_output._a),
                                                            contiguous(output._a), d, logsm))
    return _backward_cpu(grad_output, output, _split(shape, d), logsm)


# ---------------------------------------------------------------------- CPU (a GPU path joins above these)

def _forward_cpu(input, split, logsm):
    x = contiguous(input._a)
    y = np.empty(x.shape, x.dtype)
    _k.softmax_forward(x.reshape(split), y.reshape(split), logsm, get_num_threads())
    return type(input)._make(y)


def _backward_cpu(grad_output, output, split, logsm):
    y = contiguous(output._a)
    g = np.empty(y.shape, y.dtype)
    _k.softmax_backward(contiguous(grad_output._a).reshape(split), y.reshape(split), g.reshape(split), logsm,
                        get_num_threads())
    return type(output)._make(g)
