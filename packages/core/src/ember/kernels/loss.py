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
"""
import math
import operator

import numpy as np

from ember._C import nn_loss as _k
from ember._C import nn_softmax as _sk
from ember.tensor import _fmt_size

from ._common import (contiguous, float_input, get_num_threads, index_input, one, per_class, same_type, scalar,
                      size_str)

# ---------------------------------------------------------------------- class NLL


def nll_loss_forward(input, target, weight=None, size_average=True, ignore_index=-100):
    """(output, total_weight): the mean (size_average) or sum of -weight[t] * input[n, t] over the
    targets t that are not ``ignore_index``."""
    op = "nll_loss_forward"
    xshape, tshape = _nll_shapes(input, target, op)
    w = per_class(weight, input, xshape[1], op)
    return _nll_forward_cpu(input, target, w, xshape, tshape, size_average, _index(ignore_index, op), op)


def nll_loss_backward(grad_output, input, target, weight=None, size_average=True, ignore_index=-100,
                      total_weight=None):
    """The gradient of nll_loss_forward (``total_weight``: its second result; recomputed when None)."""
    op = "nll_loss_backward"
    xshape, tshape = _nll_shapes(input, target, op)
    w = per_class(weight, input, xshape[1], op)
    return _nll_backward_cpu(scalar(grad_output, op), input, target, w, xshape, tshape, size_average,
                             _index(ignore_index, op), total_weight, op)


def _index(v, op, name="ignore_index"):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError("{}(): {} must be an int, got {}".format(op, name, type(v).__name__)) from None


def _nll_shapes(input, target, op):
    """Input viewed as (N, C, S) and target as (N, S)."""
    float_input(input, op)
    index_input(target, op, "target")
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
    bad = _k.first_bad_target(t, n_classes, ignore_index)
    if bad >= 0:
        raise IndexError("{}(): target {} is out of bounds: expected a class index in [0, {}) (C = {}) or "
                         "ignore_index ({})".format(op, int(t[bad]), n_classes, n_classes, ignore_index))


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


# ---------------------------------------------------------------------- fused cross entropy

def cross_entropy_forward(input, target, weight=None, size_average=True, ignore_index=-100):
    """(output, total_weight, log_probs) for (N, C) input: log_softmax along dim 1 and nll_loss of it
    in one pass (``log_probs`` is what cross_entropy_backward needs)."""
    op = "cross_entropy_forward"
    _ce_shapes(input, target, op)
    w = per_class(weight, input, input._a.shape[1], op)
    return _ce_forward_cpu(input, target, w, size_average, _index(ignore_index, op), op)


def cross_entropy_backward(grad_output, log_probs, target, weight=None, size_average=True, ignore_index=-100,
                           total_weight=None):
    """The gradient of cross_entropy_forward with respect to its input: (softmax - onehot) * w[t]."""
    op = "cross_entropy_backward"
    _ce_shapes(log_probs, target, op, "log_probs")
    w = per_class(weight, log_probs, log_probs._a.shape[1], op)
    return _ce_backward_cpu(scalar(grad_output, op), log_probs, target, w, size_average,
                            _index(ignore_index, op), total_weight, op)


def _ce_shapes(input, target, op, name="input"):
    float_input(input, op, name)
    index_input(target, op, "target")
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
    x = input._a
    if target._a.size != x.size:
        raise ValueError("{}(): input and target must have the same number of elements, but input {} has {} "
                         "and target {} has {}".format(op, size_str(input), x.size, size_str(target),
                                                       target._a.size))
    if weight is None:
        return None
    same_type(weight, input, op, "weight")
    w = weight._a
    if w.shape != x.shape:
        if w.size == x.size:
            return w.reshape(x.shape)
        try:
            return np.broadcast_to(w, x.shape)
        except ValueError:
            raise ValueError("{}(): weight of size {} cannot be broadcast to the input's size {}"
                             .format(op, size_str(weight), size_str(input))) from None
    return w


def _pointwise_forward(kind, input, target, weight, size_average, op):
    w = _pointwise_args(input, target, weight, op)
    return _pointwise_forward_cpu(kind, input, target, w, size_average, op)


def _pointwise_backward(kind, grad_output, input, target, weight, size_average, op):
    w = _pointwise_args(input, target, weight, op)
    return _pointwise_backward_cpu(kind, scalar(grad_output, op), input, target, w, size_average)


def _flat(a):
    return contiguous(a).reshape(-1)


def _pointwise_forward_cpu(kind, input, target, w, size_average, op):
    x = _flat(input._a)
    if kind == _k.BCE:
        bad = _k.first_outside(x, 0.0, 1.0)
        if bad >= 0:
            raise ValueError("{}(): input values should be between 0 and 1 (probabilities), but got {}"
                             .format(op, float(x[bad])))
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


# ---------------------------------------------------------------------- margin criteria

def multi_margin_loss_forward(input, target, p=1, margin=1, weight=None, size_average=True):
    """Sum over classes d != t of max(0, margin - x[t] + x[d])^p * weight[t], divided by C (and by N
    with size_average)."""
    op = "multi_margin_loss_forward"
    x, t, w = _multi_margin_args(input, target, p, weight, op)
    return _multi_margin_forward_cpu(input, x, t, p, float(margin), w, size_average)


def multi_margin_loss_backward(grad_output, input, target, p=1, margin=1, weight=None, size_average=True):
    op = "multi_margin_loss_backward"
    x, t, w = _multi_margin_args(input, target, p, weight, op)
    return _multi_margin_backward_cpu(scalar(grad_output, op), input, x, t, p, float(margin), w, size_average)


def _multi_margin_args(input, target, p, weight, op):
    float_input(input, op)
    index_input(target, op, "target")
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
    return x, t, per_class(weight, input, x.shape[1], op)


def _check_margin_targets(t, n_classes, op):
    lo, hi = int(t.min()), int(t.max())
    if lo < 0 or hi >= n_classes:
        raise IndexError("{}(): target {} is out of range: expected a class index in [0, {})"
                         .format(op, lo if lo < 0 else hi, n_classes))


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


def multilabel_margin_loss_forward(input, target, size_average=True):
    """Per sample: the labels are target's entries before the first -1; the loss sums
    max(0, 1 - x[label] + x[d]) over labels and non-label classes d, divided by C (and by N with
    size_average)."""
    x, t = _multilabel_args(input, target, "multilabel_margin_loss_forward")
    return _multilabel_forward_cpu(input, x, t, size_average)


def multilabel_margin_loss_backward(grad_output, input, target, size_average=True):
    op = "multilabel_margin_loss_backward"
    x, t = _multilabel_args(input, target, op)
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


def _multilabel_args(input, target, op):
    float_input(input, op)
    index_input(target, op, "target")
    x = input._a
    if x.ndim not in (1, 2):
        raise ValueError("{}(): expected a 1D or 2D input (C or N x C), got size {}".format(op, size_str(input)))
    t = target._a
    if t.shape != x.shape:
        raise ValueError("{}(): expected target of the input's size {}, got {}"
                         .format(op, size_str(input), size_str(target)))
    lo, hi = int(t.min()), int(t.max())
    if lo < -1 or hi >= x.shape[-1]:
        raise IndexError("{}(): target {} is out of range: expected class indices in [0, {}) or -1 (end of labels)"
                         .format(op, lo if lo < -1 else hi, x.shape[-1]))
    if x.ndim == 1:
        return x.reshape(1, -1), t.reshape(1, -1)
    return x, t
