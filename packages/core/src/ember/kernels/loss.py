"""Loss kernels: THNN's criteria as PyTorch 0.2 ran them, forward and backward.

Every forward returns the loss as a size-(1,) tensor of the input's type (THNN's output tensor);
``nll_loss_forward`` also returns the total weight and ``cross_entropy_forward`` the log-probabilities
its backward needs. Every backward takes ``grad_output`` first (the loss's gradient: a number, a
one-element tensor, or None for 1) and returns the input's gradient scaled by it.

- nll_loss: input (C), (N, C) (ClassNLLCriterion) or (N, C, H, W) (SpatialClassNLLCriterion; any
  number of spatial dims is an ember extra), target LongTensor of class indices; with size_average
  the sum is divided by the total weight of the targets that are not ``ignore_index`` (nothing is
  divided when that total is 0, as in THNN).
- cross_entropy: log_softmax over dim 1 and nll_loss of (N, C) input in one pass.
- binary_cross_entropy (THNN's clamped logs: log(x + 1e-12)), binary_cross_entropy_with_logits (0.2's
  stable max(x, 0) - x t + log(1 + exp(-|x|))), mse_loss, l1_loss, smooth_l1_loss, soft_margin_loss,
  kl_div: input and target of one type with the same number of elements; size_average divides by it.
- multi_margin_loss (p = 1 or 2, margin, per-class weight), multilabel_margin_loss (targets: class
  indices, ended by -1): sums divided by the class count, and by N with size_average.

CUDA inputs (index targets: cuda.LongTensor on the input's GPU) run ``ember.kernels.cuda.loss``: the loss
and its total weight stay on the device, and so does a CUDA grad_output; only the value checks (targets
in range, BCE's probabilities) read one value back.
"""
import math
import operator

import numpy as np

from ember._C import nn_loss as _k
from ember._C import nn_softmax as _sk
from ember.tensor import _TensorBase, _fmt_size

from ._common import (contiguous, float_input, get_num_threads, index_input, on_device, one, per_class, same_device,
                      same_type, scalar, size_str, xp_of)
from .cuda import loss as _gpu

# ---------------------------------------------------------------------- class NLL


def nll_loss_forward(input, target, weight=None, size_average=True, ignore_index=-100):
    """(output, total_weight): the mean (size_average) or sum of -weight[t] * input[n, t] over the
    targets t that are not ``ignore_index``."""
    op = "nll_loss_forward"
    xshape, tshape = _nll_shapes(input, target, op)
    w = _class_weight(weight, input, xshape[1], op)
    if input.is_cuda:
        return _nll_forward_gpu(input, target, w, xshape, tshape, size_average, _index(ignore_index, op), op)
    return _nll_forward_cpu(input, target, w, xshape, tshape, size_average, _index(ignore_index, op), op)


def nll_loss_backward(grad_output, input, target, weight=None, size_average=True, ignore_index=-100,
                      total_weight=None):
    """The gradient of nll_loss_forward (``total_weight``: its second result; recomputed when None)."""
    op = "nll_loss_backward"
    xshape, tshape = _nll_shapes(input, target, op)
    w = _class_weight(weight, input, xshape[1], op)
    if input.is_cuda:
        return _nll_backward_gpu(_device_scalar(grad_output, input, op), input, target, w, xshape, tshape,
                                 size_average, _index(ignore_index, op), total_weight, op)
    return _nll_backward_cpu(scalar(grad_output, op), input, target, w, xshape, tshape, size_average,
                             _index(ignore_index, op), total_weight, op)


def _index(v, op, name="ignore_index"):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError("{}(): {} must be an int, got {}".format(op, name, type(v).__name__)) from None


def _class_weight(weight, input, n_classes, op):
    """per_class's array of a per-class weight, which must be on the input's device."""
    w = per_class(weight, input, n_classes, op)
    if w is not None:
        same_device(weight, input, op, "weight")
    return w


def _index_target(target, input, op):
    index_input(target, op, "target")
    same_device(target, input, op, "target")


def _device_scalar(value, input, op, name="grad_output"):
    """scalar() for a CUDA input: a one-element CUDA tensor stays a 0-d device array (reading it back
    would wait for the GPU)."""
    if isinstance(value, _TensorBase) and value.is_cuda and value._a.size == 1:
        same_device(value, input, op, name)
        return value._a.reshape(())
    return scalar(value, op)


def _nll_shapes(input, target, op):
    """Input viewed as (N, C, S) and target as (N, S)."""
    float_input(input, op)
    _index_target(target, input, op)
    shape = input._a.shape
    t = target._a
    if len(shape) == 1:
        if t.size != 1:
            raise ValueError("{}(): input of size {} is one sample, so target must have one element, got size {}"
                             .format(op, size_str(input), size_str(target)))
        return (1, shape[0], 1), (1, 1)
    expected = (shape[0],) + shape[2:]
    if t.shape != expected or not t.size:
        raise ValueError("{}(): expected target of size {} for input of size {}, got {}"
                         .format(op, _fmt_size(expected), size_str(input), size_str(target)))
    spatial = math.prod(shape[2:])
    return (shape[0], shape[1], spatial), (shape[0], spatial)


def _check_classes(t, n_classes, ignore_index, op):
    """``t``: the targets, a flat host array or a device array (of any shape)."""
    if isinstance(t, np.ndarray):
        i = _k.first_bad_target(t, n_classes, ignore_index)
        bad = None if i < 0 else int(t[i])
    else:
        bad = _gpu.first_bad_class(t, n_classes, ignore_index)
    if bad is not None:
        raise IndexError("{}(): target {} is out of bounds: expected a class index in [0, {}) (C = {}) or "
                         "ignore_index ({})".format(op, bad, n_classes, n_classes, ignore_index))


def _total_weight(total_weight, op):
    if total_weight is None or isinstance(total_weight, (int, float)):
        return total_weight
    return scalar(total_weight, op)


def _nll_forward_cpu(input, target, w, xshape, tshape, size_average, ignore_index, op):
    t = contiguous(target._a).reshape(-1)
    _check_classes(t, xshape[1], ignore_index, op)
    loss, total = _k.nll_forward(input._a.reshape(xshape), t.reshape(tshape), w, ignore_index, get_num_threads())
    if size_average and total:
        loss /= total
    cls = type(input)
    return one(cls, loss), one(cls, total)


def _nll_backward_cpu(go, input, target, w, xshape, tshape, size_average, ignore_index, total_weight, op):
    x = input._a
    t = contiguous(target._a).reshape(-1)
    _check_classes(t, xshape[1], ignore_index, op)
    g = np.zeros(xshape, x.dtype)
    total = _total_weight(total_weight, op)
    if total is None:
        total = _k.nll_forward(x.reshape(xshape), t.reshape(tshape), w, ignore_index, get_num_threads())[1]
    if size_average:
        if not total:
            return type(input)._make(g.reshape(x.shape))  # THNN leaves the gradient at zero
        go /= total
    _k.nll_backward(g, t.reshape(tshape), w, ignore_index, go, get_num_threads())
    return type(input)._make(g.reshape(x.shape))


def _gpu_check_classes(bad, t, n_classes, ignore_index, op):
    """Raise _check_classes' error when a GPU kernel counted bad targets (the one value read back)."""
    if int(bad[0]):
        _check_classes(t, n_classes, ignore_index, op)


def _nll_forward_gpu(input, target, w, xshape, tshape, size_average, ignore_index, op):
    with on_device(input):
        t = target._a.reshape(tshape)
        loss, total, bad = _gpu.nll_forward(xp_of(input), input._a.reshape(xshape), t, w, ignore_index,
                                            size_average)
        _gpu_check_classes(bad, t, xshape[1], ignore_index, op)
        cls = type(input)
        return one(cls, loss), one(cls, total)


def _nll_backward_gpu(go, input, target, w, xshape, tshape, size_average, ignore_index, total_weight, op):
    xp, x = xp_of(input), input._a
    with on_device(input):
        t = target._a.reshape(tshape)
        total = _gpu_total(total_weight, input, t, w, ignore_index, size_average, op)
        g, bad = _gpu.nll_backward(xp, go, xshape, x.dtype, t, w, ignore_index, size_average, total)
        _gpu_check_classes(bad, t, xshape[1], ignore_index, op)
        return type(input)._make(g.reshape(x.shape))


def _gpu_total(total_weight, input, t, w, ignore_index, size_average, op):
    """The total weight a GPU backward divides by: as given (a CUDA tensor stays on the device), or
    recomputed; None when size_average is off (nothing is divided)."""
    if not size_average:
        return None
    if total_weight is None:
        return _gpu.total_weight(xp_of(input), t, w, ignore_index, input._a.dtype)
    return _device_scalar(total_weight, input, op, "total_weight")


# ---------------------------------------------------------------------- fused cross entropy

def cross_entropy_forward(input, target, weight=None, size_average=True, ignore_index=-100):
    """(output, total_weight, log_probs) for (N, C) input: log_softmax along dim 1 and nll_loss of it
    in one pass (``log_probs`` is what cross_entropy_backward needs)."""
    op = "cross_entropy_forward"
    _ce_shapes(input, target, op)
    w = _class_weight(weight, input, input._a.shape[1], op)
    if input.is_cuda:
        return _ce_forward_gpu(input, target, w, size_average, _index(ignore_index, op), op)
    return _ce_forward_cpu(input, target, w, size_average, _index(ignore_index, op), op)


def cross_entropy_backward(grad_output, log_probs, target, weight=None, size_average=True, ignore_index=-100,
                           total_weight=None):
    """The gradient of cross_entropy_forward with respect to its input: (softmax - onehot) * w[t]."""
    op = "cross_entropy_backward"
    _ce_shapes(log_probs, target, op, "log_probs")
    w = _class_weight(weight, log_probs, log_probs._a.shape[1], op)
    if log_probs.is_cuda:
        return _ce_backward_gpu(_device_scalar(grad_output, log_probs, op), log_probs, target, w, size_average,
                                _index(ignore_index, op), total_weight, op)
    return _ce_backward_cpu(scalar(grad_output, op), log_probs, target, w, size_average,
                            _index(ignore_index, op), total_weight, op)


def _ce_shapes(input, target, op, name="input"):
    float_input(input, op, name)
    _index_target(target, input, op)
    shape = input._a.shape
    if len(shape) != 2:
        raise ValueError("{}(): expected a 2D {} (N x C), got size {} (use log_softmax_forward and "
                         "nll_loss_forward for other shapes)".format(op, name, size_str(input)))
    if target._a.shape != shape[:1]:
        raise ValueError("{}(): expected target of size {} for {} of size {}, got {}"
                         .format(op, _fmt_size(shape[:1]), name, size_str(input), size_str(target)))


def _ce_forward_cpu(input, target, w, size_average, ignore_index, op):
    x = contiguous(input._a)
    t = contiguous(target._a)
    _check_classes(t, x.shape[1], ignore_index, op)
    logp = np.empty(x.shape, x.dtype)
    loss, total = _sk.cross_entropy_forward(x, logp, t, w, ignore_index, get_num_threads())
    if size_average and total:
        loss /= total
    cls = type(input)
    return one(cls, loss), one(cls, total), cls._make(logp)


def _ce_backward_cpu(go, log_probs, target, w, size_average, ignore_index, total_weight, op):
    y = contiguous(log_probs._a)
    t = contiguous(target._a)
    _check_classes(t, y.shape[1], ignore_index, op)
    g = np.empty(y.shape, y.dtype)
    if size_average:
        total = _total_weight(total_weight, op)
        if total is None:
            total = float(np.sum(w[t[t != ignore_index]], dtype=np.float64)) if w is not None \
                else float(np.count_nonzero(t != ignore_index))
        if not total:
            g.fill(0)
            return type(log_probs)._make(g)
        go /= total
    _sk.cross_entropy_backward(y, t, w, ignore_index, go, g, get_num_threads())
    return type(log_probs)._make(g)


def _ce_forward_gpu(input, target, w, size_average, ignore_index, op):
    x, t = input._a, target._a
    with on_device(input):
        loss, total, logp, bad = _gpu.cross_entropy_forward(xp_of(input), x, t, w, ignore_index, size_average)
        _gpu_check_classes(bad, t, x.shape[1], ignore_index, op)
        cls = type(input)
        return one(cls, loss), one(cls, total), cls._make(logp)


def _ce_backward_gpu(go, log_probs, target, w, size_average, ignore_index, total_weight, op):
    y, t = log_probs._a, target._a
    with on_device(log_probs):
        total = _gpu_total(total_weight, log_probs, t, w, ignore_index, size_average, op)
        g, bad = _gpu.cross_entropy_backward(xp_of(log_probs), go, y, t, w, ignore_index, size_average, total)
        _gpu_check_classes(bad, t, y.shape[1], ignore_index, op)
        return type(log_probs)._make(g)


# ---------------------------------------------------------------------- pointwise criteria

def binary_cross_entropy_forward(input, target, weight=None, size_average=True):
    """-(t log(x + 1e-12) + (1 - t) log(1 - x + 1e-12)) * weight; input values must lie in [0, 1]."""
    return _pointwise_forward(_k.BCE, input, target, weight, size_average, "binary_cross_entropy_forward")


def binary_cross_entropy_backward(grad_output, input, target, weight=None, size_average=True):
    return _pointwise_backward(_k.BCE, grad_output, input, target, weight, size_average,
                               "binary_cross_entropy_backward")


def binary_cross_entropy_with_logits_forward(input, target, weight=None, size_average=True):
    """(max(x, 0) - x t + log(1 + exp(-|x|))) * weight: BCE of sigmoid(x), without overflow."""
    return _pointwise_forward(_k.BCE_WITH_LOGITS, input, target, weight, size_average,
                              "binary_cross_entropy_with_logits_forward")


def binary_cross_entropy_with_logits_backward(grad_output, input, target, weight=None, size_average=True):
    """(sigmoid(x) - t) * weight."""
    return _pointwise_backward(_k.BCE_WITH_LOGITS, grad_output, input, target, weight, size_average,
                               "binary_cross_entropy_with_logits_backward")


def mse_loss_forward(input, target, size_average=True):
    return _pointwise_forward(_k.MSE, input, target, None, size_average, "mse_loss_forward")


def mse_loss_backward(grad_output, input, target, size_average=True):
    return _pointwise_backward(_k.MSE, grad_output, input, target, None, size_average, "mse_loss_backward")


def l1_loss_forward(input, target, size_average=True):
    return _pointwise_forward(_k.L1, input, target, None, size_average, "l1_loss_forward")


def l1_loss_backward(grad_output, input, target, size_average=True):
    """sign(x - t), +1 where x == t (THNN's AbsCriterion)."""
    return _pointwise_backward(_k.L1, grad_output, input, target, None, size_average, "l1_loss_backward")


def smooth_l1_loss_forward(input, target, size_average=True):
    """0.5 d^2 where |d| < 1, else |d| - 0.5 (d = x - t)."""
    return _pointwise_forward(_k.SMOOTH_L1, input, target, None, size_average, "smooth_l1_loss_forward")


def smooth_l1_loss_backward(grad_output, input, target, size_average=True):
    return _pointwise_backward(_k.SMOOTH_L1, grad_output, input, target, None, size_average,
                               "smooth_l1_loss_backward")


def soft_margin_loss_forward(input, target, size_average=True):
    """log(1 + exp(-t x)), computed without overflow."""
    return _pointwise_forward(_k.SOFT_MARGIN, input, target, None, size_average, "soft_margin_loss_forward")


def soft_margin_loss_backward(grad_output, input, target, size_average=True):
    return _pointwise_backward(_k.SOFT_MARGIN, grad_output, input, target, None, size_average,
                               "soft_margin_loss_backward")


def kl_div_forward(input, target, size_average=True):
    """t (log t - x) where t > 0, else 0 (input holds log-probabilities; THNN's DistKLDivCriterion)."""
    return _pointwise_forward(_k.KL_DIV, input, target, None, size_average, "kl_div_forward")


def kl_div_backward(grad_output, input, target, size_average=True):
    return _pointwise_backward(_k.KL_DIV, grad_output, input, target, None, size_average, "kl_div_backward")


def _pointwise_args(input, target, weight, op):
    """The arrays of input, target and the weight broadcast to the input's shape (or None)."""
    float_input(input, op)
    same_type(target, input, op, "target")
    same_device(target, input, op, "target")
    x = input._a
    if target._a.size != x.size:
        raise ValueError("{}(): input and target must have the same number of elements, but input {} has {} "
                         "and target {} has {}".format(op, size_str(input), x.size, size_str(target),
                                                       target._a.size))
    if weight is None:
        return None
    same_type(weight, input, op, "weight")
    same_device(weight, input, op, "weight")
    w = weight._a
    if w.shape != x.shape:
        if w.size == x.size:
            return w.reshape(x.shape)
        try:
            return xp_of(input).broadcast_to(w, x.shape)
        except ValueError:
            raise ValueError("{}(): weight of size {} cannot be broadcast to the input's size {}"
                             .format(op, size_str(weight), size_str(input))) from None
    return w


def _pointwise_forward(kind, input, target, weight, size_average, op):
    w = _pointwise_args(input, target, weight, op)
    if input.is_cuda:
        return _pointwise_forward_gpu(kind, input, target, w, size_average, op)
    return _pointwise_forward_cpu(kind, input, target, w, size_average, op)


def _pointwise_backward(kind, grad_output, input, target, weight, size_average, op):
    w = _pointwise_args(input, target, weight, op)
    if input.is_cuda:
        return _pointwise_backward_gpu(kind, _device_scalar(grad_output, input, op), input, target, w, size_average)
    return _pointwise_backward_cpu(kind, scalar(grad_output, op), input, target, w, size_average)


def _flat(a):
    return contiguous(a).reshape(-1)


def _check_probabilities(x, op):
    """``x``: BCE's input, a flat host array or a device array."""
    if isinstance(x, np.ndarray):
        i = _k.first_outside(x, 0.0, 1.0)
        bad = None if i < 0 else float(x[i])
    else:
        bad = _gpu.first_outside_unit(x)
    if bad is not None:
        raise ValueError("{}(): input values should be between 0 and 1 (probabilities), but got {}".format(op, bad))


def _pointwise_forward_cpu(kind, input, target, w, size_average, op):
    x = _flat(input._a)
    if kind == _k.BCE:
        _check_probabilities(x, op)
    total = _k.pointwise_forward(kind, x, _flat(target._a), None if w is None else _flat(w), get_num_threads())
    if size_average:
        total /= x.size
    return one(type(input), total)


def _pointwise_backward_cpu(kind, go, input, target, w, size_average):
    x = _flat(input._a)
    g = np.empty(x.shape, x.dtype)
    if size_average:
        go /= x.size
    _k.pointwise_backward(kind, x, _flat(target._a), None if w is None else _flat(w), g, go, get_num_threads())
    return type(input)._make(g.reshape(input._a.shape))


def _pointwise_forward_gpu(kind, input, target, w, size_average, op):
    with on_device(input):
        x = input._a.reshape(-1)
        if kind == _k.BCE:
            _check_probabilities(x, op)
        total = _gpu.pointwise_forward(xp_of(input), kind, x, target._a.reshape(-1),
                                       None if w is None else w.reshape(-1))
        return one(type(input), total / x.size if size_average else total)


def _pointwise_backward_gpu(kind, go, input, target, w, size_average):
    x = input._a
    with on_device(input):
        g = _gpu.pointwise_backward(xp_of(input), kind, go / x.size if size_average else go, x.reshape(-1),
                                    target._a.reshape(-1), None if w is None else w.reshape(-1))
        return type(input)._make(g.reshape(x.shape))


# ---------------------------------------------------------------------- margin criteria

def multi_margin_loss_forward(input, target, p=1, margin=1, weight=None, size_average=True):
    """Sum over classes d != t of max(0, margin - x[t] + x[d])^p * weight[t], divided by C (and by N
    with size_average)."""
    op = "multi_margin_loss_forward"
    x, t, w = _multi_margin_args(input, target, p, weight, op)
    if input.is_cuda:
        return _multi_margin_forward_gpu(input, x, t, p, float(margin), w, size_average)
    return _multi_margin_forward_cpu(input, x, t, p, float(margin), w, size_average)


def multi_margin_loss_backward(grad_output, input, target, p=1, margin=1, weight=None, size_average=True):
    op = "multi_margin_loss_backward"
    x, t, w = _multi_margin_args(input, target, p, weight, op)
    if input.is_cuda:
        return _multi_margin_backward_gpu(_device_scalar(grad_output, input, op), input, x, t, p, float(margin), w,
                                          size_average)
    return _multi_margin_backward_cpu(scalar(grad_output, op), input, x, t, p, float(margin), w, size_average)


def _multi_margin_args(input, target, p, weight, op):
    float_input(input, op)
    _index_target(target, input, op)
    if p != 1 and p != 2:
        raise ValueError("{}(): only p == 1 and p == 2 supported, got p = {}".format(op, p))
    x = input._a
    if x.ndim not in (1, 2):
        raise ValueError("{}(): expected a 1D or 2D input (C or N x C), got size {}".format(op, size_str(input)))
    x = x.reshape(1, -1) if x.ndim == 1 else x
    t = target._a
    if t.size != x.shape[0] or t.ndim != 1:
        raise ValueError("{}(): expected target of size [{}] for input of size {}, got {}"
                         .format(op, x.shape[0], size_str(input), size_str(target)))
    return x, t, _class_weight(weight, input, x.shape[1], op)


def _outside(t, low, high):
    """The target to report as outside [low, high): the smallest when it is below ``low``, else the
    largest; None when every target lies inside. ``t``: a host or a device array."""
    if not isinstance(t, np.ndarray):
        return _gpu.out_of_range(t, low, high)
    lo, hi = int(t.min()), int(t.max())
    return lo if lo < low else (hi if hi >= high else None)


def _check_margin_targets(t, n_classes, op):
    bad = _outside(t, 0, n_classes)
    if bad is not None:
        raise IndexError("{}(): target {} is out of range: expected a class index in [0, {})"
                         .format(op, bad, n_classes))


def _multi_margin_forward_cpu(input, x, t, p, margin, w, size_average):
    t = contiguous(t)
    _check_margin_targets(t, x.shape[1], "multi_margin_loss_forward")
    total = _k.multi_margin_forward(x, t, p, margin, w, get_num_threads()) / x.shape[1]
    if size_average:
        total /= x.shape[0]
    return one(type(input), total)


def _multi_margin_backward_cpu(go, input, x, t, p, margin, w, size_average):
    t = contiguous(t)
    _check_margin_targets(t, x.shape[1], "multi_margin_loss_backward")
    g = np.empty(x.shape, x.dtype)
    scale = go / (x.shape[1] * (x.shape[0] if size_average else 1))
    _k.multi_margin_backward(x, t, p, margin, w, g, scale, get_num_threads())
    return type(input)._make(g.reshape(input._a.shape))


def _multi_margin_forward_gpu(input, x, t, p, margin, w, size_average):
    with on_device(input):
        _check_margin_targets(t, x.shape[1], "multi_margin_loss_forward")
        total = _gpu.multi_margin_forward(xp_of(input), x, t, p, margin, w) / x.shape[1]
        return one(type(input), total / x.shape[0] if size_average else total)


def _multi_margin_backward_gpu(go, input, x, t, p, margin, w, size_average):
    with on_device(input):
        _check_margin_targets(t, x.shape[1], "multi_margin_loss_backward")
        scale = go / (x.shape[1] * (x.shape[0] if size_average else 1))
        g = _gpu.multi_margin_backward(xp_of(input), scale, x, t, p, margin, w)
        return type(input)._make(g.reshape(input._a.shape))


def multilabel_margin_loss_forward(input, target, size_average=True):
    """Per sample: the labels are target's entries before the first -1; the loss sums
    max(0, 1 - x[label] + x[d]) over labels and non-label classes d, divided by C (and by N with
    size_average)."""
    x, t = _multilabel_args(input, target, "multilabel_margin_loss_forward")
    if input.is_cuda:
        return _multilabel_forward_gpu(input, x, t, size_average)
    return _multilabel_forward_cpu(input, x, t, size_average)


def multilabel_margin_loss_backward(grad_output, input, target, size_average=True):
    op = "multilabel_margin_loss_backward"
    x, t = _multilabel_args(input, target, op)
    if input.is_cuda:
        return _multilabel_backward_gpu(_device_scalar(grad_output, input, op), input, x, t, size_average)
    return _multilabel_backward_cpu(scalar(grad_output, op), input, x, t, size_average)


def _multilabel_forward_cpu(input, x, t, size_average):
    total = _k.multilabel_margin_forward(x, t, get_num_threads()) / x.shape[1]
    if size_average:
        total /= x.shape[0]
    return one(type(input), total)


def _multilabel_backward_cpu(go, input, x, t, size_average):
    g = np.zeros(x.shape, x.dtype)
    _k.multilabel_margin_backward(x, t, g, go / (x.shape[1] * (x.shape[0] if size_average else 1)),
                                  get_num_threads())
    return type(input)._make(g.reshape(input._a.shape))


def _multilabel_forward_gpu(input, x, t, size_average):
    with on_device(input):
        total = _gpu.multilabel_margin_forward(xp_of(input), x, t) / x.shape[1]
        return one(type(input), total / x.shape[0] if size_average else total)


def _multilabel_backward_gpu(go, input, x, t, size_average):
    with on_device(input):
        scale = go / (x.shape[1] * (x.shape[0] if size_average else 1))
        return type(input)._make(_gpu.multilabel_margin_backward(xp_of(input), scale, x, t).reshape(input._a.shape))


def _multilabel_args(input, target, op):
    float_input(input, op)
    _index_target(target, input, op)
    x = input._a
    if x.ndim not in (1, 2):
        raise ValueError("{}(): expected a 1D or 2D input (C or N x C), got size {}".format(op, size_str(input)))
    t = target._a
    if t.shape != x.shape:
        raise ValueError("{}(): expected target of the input's size {}, got {}"
                         .format(op, size_str(input), size_str(target)))
    with on_device(input):
        bad = _outside(t, -1, x.shape[-1])
    if bad is not None:
        raise IndexError("{}(): target {} is out of range: expected class indices in [0, {}) or -1 (end of labels)"
                         .format(op, bad, x.shape[-1]))
    if x.ndim == 1:
        return x.reshape(1, -1), t.reshape(1, -1)
    return x, t
