"""Batch normalization, THNN's BatchNormalization as PyTorch 0.2 ran it.

    output, save_mean, save_invstd = batch_norm_forward(input, weight, bias, running_mean, running_var,
                                                        training, momentum, eps)
    grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, input, weight, save_mean,
                                                             save_invstd, training, running_mean,
                                                             running_var, eps)

Input is (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W); statistics are per channel (dim 1).
Training normalises with the batch mean and biased variance and updates the running statistics in
place: running = (1 - momentum) * running + momentum * batch, with the UNBIASED batch variance (as 0.2).
Evaluation normalises with the running statistics. weight and bias may be None (affine=False); so
may the running statistics when training (ember extra: nothing is updated). Training on one value per
channel raises (0.2 silently produced NaN running variances).
"""
import math

import numpy as np

from ember._C import nn_batchnorm as _k
from ._common import contiguous, float_input, get_num_threads, on_device, same_device, same_type, size_str, xp_of


def batch_norm_forward(input, weight, bias, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """(output, save_mean, save_invstd): save_* are the per-channel mean and 1 / sqrt(var + eps) the
    output used (the batch's when training, the running ones otherwise); batch_norm_backward takes them."""
    op = "batch_norm_forward"
    shape = _input_shape(input, op)
    C = shape[1]
    w = _param(weight, input, C, op, "weight")
    b = _param(bias, input, C, op, "bias")
    rm = _running(running_mean, input, C, op, "running_mean", not training)
    rv = _running(running_var, input, C, op, "running_var", not training)
    if training and shape[0] * math.prod(shape[2:]) < 2:
        raise ValueError("{}(): expected more than 1 value per channel when training, got input size {}"
                         .format(op, size_str(input)))
    if input.is_cuda:
        return _forward_gpu(input, w, b, rm, rv, bool(training), float(momentum), float(eps))
    return _forward_cpu(input, w, b, rm, rv, bool(training), float(momentum), float(eps))


def batch_norm_backward(grad_output, input, weight, save_mean, save_invstd, training, running_mean=None,
                        running_var=None, eps=1e-5, output_mask=(True, True, True)):
    """(grad_input, grad_weight, grad_bias). Training: through the batch statistics save_mean /
    save_invstd; evaluation: the running statistics as constants (save_* when they are None).
    ``output_mask`` says which of the three to compute; the others, and grad_weight / grad_bias when
    weight is None, come back as None."""
    op = "batch_norm_backward"
    shape = _input_shape(input, op)
    same_type(grad_output, input, op, "grad_output")
    same_device(grad_output, input, op, "grad_output")
    if grad_output._a.shape != shape:
        raise ValueError("{}(): grad_output has size {} but input has size {}"
                         .format(op, size_str(grad_output), size_str(input)))
    C = shape[1]
    w = _param(weight, input, C, op, "weight")
    if training or running_mean is None or running_var is None:
        mean = _param(save_mean, input, C, op, "save_mean", required=True)
        invstd = _param(save_invstd, input, C, op, "save_invstd", required=True)
        var = None
    else:
        mean = _param(running_mean, input, C, op, "running_mean")
        var = _param(running_var, input, C, op, "running_var")
        invstd = None
    want_gi, want_gw, want_gb = (bool(m) for m in output_mask)
    if input.is_cuda:
        return _backward_gpu(grad_output, input, w, mean, invstd, var, float(eps), bool(training), want_gi,
                             want_gw and w is not None, want_gb and w is not None)
    return _backward_cpu(grad_output, input, w, mean, invstd, var, float(eps), bool(training), want_gi,
                         want_gw and w is not None, want_gb and w is not None)


def _input_shape(input, op):
    float_input(input, op)
    shape = input._a.shape
    if not 2 <= len(shape) <= 5:
        raise ValueError("{}(): expected 2D, 3D, 4D or 5D input (N x C x ...), got size {}"
                         .format(op, size_str(input)))
    return shape


def _param(t, ref, C, op, name, required=False):
    """The array of a per-channel tensor (C elements, the input's type), flattened; None stays None."""
    if t is None:
        if required:
            raise TypeError("{}(): {} is required, got None".format(op, name))
        return None
    same_type(t, ref, op, name)
    same_device(t, ref, op, name)
    a = t._a
    if a.size != C:
        raise ValueError("{}(): expected {} to have {} elements (one per channel), got size {}"
                         .format(op, name, C, size_str(t)))
    return a.reshape(-1)


def _running(t, ref, C, op, name, required):
    """The array of a running statistic, updated in place: it must be a 1-D tensor of C elements."""
    if t is None:
        if required:
            raise TypeError("{}(): {} is required in evaluation mode (training=False), got None".format(op, name))
        return None
    same_type(t, ref, op, name)
    same_device(t, ref, op, name)
    a = t._a
    if a.shape != (C,):
        raise ValueError("{}(): expected {} of size [{}], got {}".format(op, name, C, size_str(t)))
    return a


def _as3d(a):
    return contiguous(a).reshape(a.shape[0], a.shape[1], -1)


# ---------------------------------------------------------------------- GPU (ember.kernels.cuda.batchnorm)

def _forward_gpu(input, w, b, rm, rv, training, momentum, eps):
    from .cuda import batchnorm as _gpu
    with on_device(input):
        y, save_mean, save_invstd = _gpu.batch_norm_forward(xp_of(input), _as3d(input._a), w, b, rm, rv, training,
                                                            momentum, eps)
    cls = type(input)
    return cls._make(y.reshape(input._a.shape)), cls._make(save_mean), cls._make(save_invstd)


def _backward_gpu(grad_output, input, w, mean, invstd, var, eps, training, want_gi, want_gw, want_gb):
    from .cuda import batchnorm as _gpu
    with on_device(input):
        gi, gw, gb = _gpu.batch_norm_backward(xp_of(input), _as3d(grad_output._a), _as3d(input._a), w, mean,
                                              invstd, var, eps, training, want_gi, want_gw, want_gb)
    cls = type(input)
    return (cls._make(gi.reshape(input._a.shape)) if want_gi else None,
            cls._make(gw) if want_gw else None,
            cls._make(gb) if want_gb else None)


# ---------------------------------------------------------------------- CPU

def _forward_cpu(input, w, b, rm, rv, training, momentum, eps):
    x = _as3d(input._a)
    y = np.empty(x.shape, x.dtype)
    C = x.shape[1]
    save_mean = np.empty(C, x.dtype)
    save_invstd = np.empty(C, x.dtype)
    _k.forward(x, y, w, b, rm, rv, save_mean, save_invstd, training, momentum, eps, get_num_threads())
    cls = type(input)
    return cls._make(y.reshape(input._a.shape)), cls._make(save_mean), cls._make(save_invstd)


def _backward_cpu(grad_output, input, w, mean, invstd, var, eps, training, want_gi, want_gw, want_gb):
    """``invstd`` is None when the statistics are the running ones (``var`` given)."""
    x = _as3d(input._a)
    go = _as3d(grad_output._a)
    C = x.shape[1]
    gi = np.empty(x.shape, x.dtype) if want_gi else None
    gw = np.empty(C, x.dtype) if want_gw else None
    gb = np.empty(C, x.dtype) if want_gb else None
    if invstd is None:
        invstd = (1 / np.sqrt(var.astype(np.float64) + eps)).astype(x.dtype)
    _k.backward(go, x, w, contiguous(mean), contiguous(invstd), gi, gw, gb, training, get_num_threads())
    cls = type(input)
    return (cls._make(gi.reshape(input._a.shape)) if want_gi else None,
            cls._make(gw) if want_gw else None,
            cls._make(gb) if want_gb else None)
