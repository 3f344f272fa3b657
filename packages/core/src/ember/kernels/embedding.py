"""Embedding kernels, THNN's LookupTable as PyTorch 0.2 ran it. (The forward is index_select.)

    grad_weight = embedding_backward(grad_output, indices, num_weights, padding_idx, scale_grad_by_freq)
    embedding_renorm_(weight, indices, max_norm, norm_type)

CUDA tensors (indices on the same GPU) run ember/kernels/cuda/embedding.py.
"""
import numbers

import numpy as np

from ember._C import nn_embedding as _k
from ember.tensor import _fmt_size, _typename_of

from ._common import contiguous, float_input, get_num_threads, index_input, on_device, same_device, size_str


def embedding_backward(grad_output, indices, num_weights, padding_idx=None, scale_grad_by_freq=False):
    """The (num_weights, D) gradient of the weight: row k sums the rows of grad_output (size
    indices.size() + (D,)) at the positions where indices == k, each divided by the number of times k
    occurs in indices when ``scale_grad_by_freq``. Positions whose index equals ``padding_idx`` add
    nothing (None: no padding; a negative value matches no index, as in THNN)."""
    op = "embedding_backward"
    float_input(grad_output, op, "grad_output")
    index_input(indices, op, "indices")
    same_device(indices, grad_output, op, "indices")
    if not isinstance(num_weights, numbers.Integral) or num_weights < 1:
        raise ValueError("{}(): num_weights must be a positive int, got {!r}".format(op, num_weights))
    if padding_idx is not None and not isinstance(padding_idx, numbers.Integral):
        raise TypeError("{}(): padding_idx must be an int or None, got {}".format(op, _typename_of(padding_idx)))
    ishape = indices._a.shape if indices._a.size else ()
    gshape = grad_output._a.shape
    if gshape[:-1] != ishape and gshape[:-1] != (indices._a.size,):
        raise ValueError("{}(): grad_output of size {} does not match indices of size {} (expected {})"
                         .format(op, size_str(grad_output), size_str(indices), _fmt_size(ishape + gshape[-1:])))
    backward = _backward_gpu if grad_output.is_cuda else _backward_cpu
    return backward(grad_output, indices, int(num_weights), -1 if padding_idx is None else int(padding_idx),
                    bool(scale_grad_by_freq), op)


def embedding_renorm_(weight, indices, max_norm, norm_type=2):
    """Rows of ``weight`` that ``indices`` refers to and whose ``norm_type``-norm exceeds ``max_norm``
    are scaled in place to norm max_norm (by max_norm / (norm + 1e-7)); returns weight."""
    op = "embedding_renorm_"
    float_input(weight, op, "weight")
    index_input(indices, op, "indices")
    same_device(indices, weight, op, "indices")
    if weight._a.ndim != 2:
        raise ValueError("{}(): expected a 2D weight (num_embeddings x embedding_dim), got size {}"
                         .format(op, size_str(weight)))
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if norm_type <= 0:
        raise ValueError("{}(): non-positive-norm not supported (norm_type = {})".format(op, norm_type))
    renorm = _renorm_gpu if weight.is_cuda else _renorm_cpu
    return renorm(weight, indices, max_norm, norm_type, op)


def _check_range(idx, num, op, first_out_of_range=_k.first_out_of_range):
    bad = first_out_of_range(idx, num)
    if bad >= 0:
        raise IndexError("{}(): indices need to be in the range 0 <= index < {}, but got index {}"
                         .format(op, num, int(idx[bad])))


# ---------------------------------------------------------------------- CPU

def _backward_cpu(grad_output, indices, num_weights, padding_idx, scale_grad_by_freq, op):
    idx = contiguous(indices._a).reshape(-1)
    if indices._a.size:
        _check_range(idx, num_weights, op)
    go = contiguous(grad_output._a)
    D = go.shape[-1]
    gw = np.zeros((num_weights, D), go.dtype)
    if idx.size:
        _k.backward(idx, go.reshape(idx.size, D), gw, padding_idx, scale_grad_by_freq, get_num_threads())
    return type(grad_output)._make(gw)


def _renorm_cpu(weight, indices, max_norm, norm_type, op):
    idx = contiguous(indices._a).reshape(-1)
    if not idx.size:
        return weight
    _check_range(idx, weight._a.shape[0], op)
    _k.renorm(weight._a, np.unique(idx), max_norm, norm_type, get_num_threads())
    return weight


# ---------------------------------------------------------------------- GPU

def _backward_gpu(grad_output, indices, num_weights, padding_idx, scale_grad_by_freq, op):
    from .cuda import embedding as gpu
    cls = type(grad_output)
    with on_device(grad_output):
        idx = contiguous(indices._a).reshape(-1)
        go = contiguous(grad_output._a)
        if not idx.size:
            return cls._make(cls._xp.zeros((num_weights, go.shape[-1]), go.dtype))
        _check_range(idx, num_weights, op, gpu.first_out_of_range)
        return cls._make(gpu.backward(idx, go.reshape(idx.size, -1), num_weights, padding_idx, scale_grad_by_freq))


def _renorm_gpu(weight, indices, max_norm, norm_type, op):
    from .cuda import embedding as gpu
    with on_device(weight):
        idx = contiguous(indices._a).reshape(-1)
        if idx.size:
            _check_range(idx, weight._a.shape[0], op, gpu.first_out_of_range)
            gpu.renorm_(weight._a, idx, max_norm, norm_type)
    return weight
