"""The loss functions of ember.nn.functional (PyTorch 0.2's), with their autograd Functions.

THNN's criteria run on ``ember.kernels`` (nll, cross entropy, BCE, MSE, L1, smooth L1, soft margin, KL
divergence, multi-margin, multi-label margin); the losses 0.2 wrote in Python (BCE with logits, Poisson
NLL, hinge embedding, margin ranking, cosine embedding, triplet margin, multi-label soft margin) are
differentiable Variable expressions, with 0.2's formulas.

Every loss returns a size-(1,) Variable. The kernel Functions are twice differentiable: their backward
runs the kernel when its result is not differentiated again (a volatile grad_output), and otherwise
returns the gradient as a Variable expression of the input (``create_graph=True``).
"""
import math
import warnings

import ember
import ember.kernels as K
from ember.autograd import Function, Variable
from ember.kernels._common import FLOAT_TYPES, INDEX_TYPES, same_device, size_str
from ember.tensor import _fmt_size, _typename_of
from .distance import pairwise_distance

__all__ = ["nll_loss", "poisson_nll_loss", "kl_div", "cross_entropy", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "smooth_l1_loss", "l1_loss", "mse_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "multilabel_margin_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
           "cosine_embedding_loss", "multi_margin_loss", "triplet_margin_loss"]

_BCE_EPS = 1e-12  # THNN's BCECriterion: log(x + 1e-12)


# ---------------------------------------------------------------------- argument checks

def _data(v):
    return v.data if isinstance(v, Variable) else v


def _variable(v):
    return v if isinstance(v, Variable) else Variable(v)


def _float_input(op, x, name="input"):
    t = _data(x)
    if type(t) not in FLOAT_TYPES:
        types = ("torch.cuda.FloatTensor, torch.cuda.DoubleTensor or torch.cuda.HalfTensor"
                 if getattr(t, "is_cuda", False) else "torch.FloatTensor or torch.DoubleTensor")
        raise TypeError("{}: expected {} to be a Variable of {}, got {}".format(op, name, types, _typename_of(t)))
    return t


def _same_type(op, v, ref, name):
    t = _data(v)
    if type(t) is not type(ref):
        raise TypeError("{}: expected {} to be a {} (the input's type), got {}"
                        .format(op, name, type(ref)._typename, _typename_of(t)))
    return t


def _same_numel(op, x, t, xname="input", tname="target"):
    if x.numel() != t.numel():
        raise RuntimeError("{}: {} and {} must have the same number of elements, got {} of size {} and {} of "
                           "size {}".format(op, xname, tname, xname, size_str(x), tname, size_str(t)))


def _same_size(op, x, t, xname, tname):
    if x.size() != t.size():
        raise RuntimeError("{}: {} and {} must have the same size, got {} of size {} and {} of size {}"
                           .format(op, xname, tname, xname, size_str(x), tname, size_str(t)))


def _pointwise_target(op, input, target):
    """The target tensor of an elementwise criterion: the input's type and number of elements."""
    x = _float_input(op, input)
    t = _same_type(op, target, x, "target")
    _same_numel(op, x, t)
    return t


def _pointwise_weight(op, weight, x):
    """An elementwise weight as a tensor of the input's size (viewed when it has as many elements,
    otherwise broadcast)."""
    if weight is None:
        return None
    w = _same_type(op, weight, x, "weight")
    if w.size() == x.size():
        return w
    if w.numel() == x.numel():
        return w.contiguous().view_as(x)
    try:
        return w.expand_as(x)
    except (RuntimeError, ValueError):
        raise RuntimeError("{}: weight of size {} cannot be broadcast to the input's size {}"
                           .format(op, size_str(w), size_str(x))) from None


def _class_target(op, input, target):
    """The LongTensor of class indices of nll_loss / cross_entropy, for 2-D or 4-D input."""
    x = _float_input(op, input)
    dim = x.dim()
    if dim != 2 and dim != 4:
        raise ValueError("Expected 2 or 4 dimensions (got {})".format(dim))
    t = _index_target(op, target, x)
    shape = x._a.shape
    expected = shape[:1] + shape[2:]
    if t._a.shape != expected:
        raise RuntimeError("{}: expected target of size {} for input of size {}, got target of size {}"
                           .format(op, _fmt_size(expected), size_str(x), size_str(t)))
    return x, t


def _index_target(op, target, x):
    """The LongTensor (cuda.LongTensor for CUDA input) of class indices, on the input's device."""
    t = _data(target)
    if type(t) not in INDEX_TYPES:
        raise TypeError("{}: expected target to be a Variable of torch.{}LongTensor (class indices), got {}"
                        .format(op, "cuda." if x.is_cuda else "", _typename_of(t)))
    same_device(t, x, op, "target")
    return t


def _flat(v):
    return v if v.dim() == 1 else v.contiguous().view(-1)


def _class_weight(op, weight, x):
    """The tensor of a per-class weight (the kernels check it has one element per class)."""
    return None if weight is None else _same_type(op, weight, x, "weight")


def _scaled(g, grad_output):
    """The kernel gradient ``g`` computed for grad_output = 1, as a Variable times grad_output."""
    return Variable(g) * grad_output


# ---------------------------------------------------------------------- class criteria

class NLLLoss(Function):
    @staticmethod
    def forward(ctx, input, target, weight, size_average, ignore_index):
        output, total = K.nll_loss_forward(input, target, weight, size_average, ignore_index)
        ctx.args = (target, weight, size_average, ignore_index, total)
        ctx.save_for_backward(input)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        target, weight, size_average, ignore_index, total = ctx.args
        if grad_output.volatile:
            return K.nll_loss_backward(grad_output.data, x, target, weight, size_average, ignore_index,
                                       total), None, None, None, None
        # the gradient is constant in the input: only grad_output carries it on
        g = K.nll_loss_backward(1.0, x, target, weight, size_average, ignore_index, total)
        return _scaled(g, grad_output), None, None, None, None


class CrossEntropyLoss(Function):
    """log_softmax over dim 1 and nll_loss in one node (one fused kernel for 2-D input)."""

    @staticmethod
    def forward(ctx, input, target, weight, size_average, ignore_index):
        if input.dim() == 2:
            output, total, log_probs = K.cross_entropy_forward(input, target, weight, size_average, ignore_index)
        else:
            log_probs = K.log_softmax_forward(input, 1)
            output, total = K.nll_loss_forward(log_probs, target, weight, size_average, ignore_index)
        ctx.args = (log_probs, target, weight, size_average, ignore_index, total)
        ctx.save_for_backward(input)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_variables
        log_probs, target, weight, size_average, ignore_index, total = ctx.args
        if grad_output.volatile:
            go = grad_output.data
            if log_probs.dim() == 2:
                g = K.cross_entropy_backward(go, log_probs, target, weight, size_average, ignore_index, total)
            else:
                g = K.nll_loss_backward(go, log_probs, target, weight, size_average, ignore_index, total)
                g = K.log_softmax_backward(g, log_probs, 1)
            return g, None, None, None, None
        # d/dx = softmax(x) * r - onehot * r, with r = w[t] / total per position (0 where ignored)
        onehot = K.nll_loss_backward(1.0, log_probs, target, weight, size_average, ignore_index, total)
        r = onehot.sum(1, keepdim=True).neg_()
        e = (x - Variable(x.data.max(1, keepdim=True)[0])).exp()
        p = e / e.sum(1, keepdim=True)
        return (p * Variable(r) + Variable(onehot)) * grad_output, None, None, None, None


def nll_loss(input, target, weight=None, size_average=True, ignore_index=-100):
    """The negative log likelihood loss of log-probabilities ``input`` (N x C, or N x C x H x W as
    NLLLoss2d) for class indices ``target`` (N, or N x H x W). ``weight``: one value per class;
    with size_average the sum is divided by the total weight of the targets not equal to
    ``ignore_index``."""
    x, t = _class_target("nll_loss", input, target)
    return NLLLoss.apply(input, t, _class_weight("nll_loss", weight, x), size_average, ignore_index)


def cross_entropy(input, target, weight=None, size_average=True, ignore_index=-100):
    """log_softmax (over dim 1) and nll_loss in one: ``input`` holds unnormalised scores."""
    x, t = _class_target("cross_entropy", input, target)
    return CrossEntropyLoss.apply(input, t, _class_weight("cross_entropy", weight, x), size_average,
                                  ignore_index)


# ---------------------------------------------------------------------- elementwise criteria

def _elementwise_function(name, forward_kernel, backward_kernel, grad_formula):
    """A Function for an elementwise THNN criterion. ``grad_formula(x, t)``: d loss / d x as a Variable
    expression (None where that derivative is constant in x)."""

    def forward(ctx, input, target, weight, size_average):
        ctx.args = (target, weight, size_average)
        ctx.save_for_backward(input)
        return forward_kernel(input, target, weight, size_average)

    def backward(ctx, grad_output):
        x, = ctx.saved_variables
        target, weight, size_average = ctx.args
        if grad_output.volatile:
            return backward_kernel(grad_output.data, x.data, target, weight, size_average), None, None, None
        if grad_formula is None:
            g = _scaled(backward_kernel(1.0, x.data, target, weight, size_average), grad_output)
            return g, None, None, None
        g = grad_formula(x, Variable(target.contiguous().view_as(x.data)))
        if weight is not None:
            g = g * Variable(weight)
        scale = 1.0 / x.numel() if size_average else 1.0
        return g * (grad_output * scale), None, None, None

    return type(name, (Function,), {"forward": staticmethod(forward), "backward": staticmethod(backward)})


def _unweighted(kernel):
    return lambda input, target, weight, size_average: kernel(input, target, size_average)


def _unweighted_backward(kernel):
    return lambda go, input, target, weight, size_average: kernel(go, input, target, size_average)


MSELoss = _elementwise_function("MSELoss", _unweighted(K.mse_loss_forward), _unweighted_backward(K.mse_loss_backward),
                                lambda x, t: (x - t) * 2)
L1Loss = _elementwise_function("L1Loss", _unweighted(K.l1_loss_forward), _unweighted_backward(K.l1_loss_backward),
                               None)
SmoothL1Loss = _elementwise_function("SmoothL1Loss", _unweighted(K.smooth_l1_loss_forward),
                                     _unweighted_backward(K.smooth_l1_loss_backward),
                                     lambda x, t: (x - t).clamp(-1, 1))
SoftMarginLoss = _elementwise_function("SoftMarginLoss", _unweighted(K.soft_margin_loss_forward),
                                       _unweighted_backward(K.soft_margin_loss_backward),
                                       lambda x, t: -t * (-t * x).sigmoid())
KLDivLoss = _elementwise_function("KLDivLoss", _unweighted(K.kl_div_forward), _unweighted_backward(K.kl_div_backward),
                                  None)
BCELoss = _elementwise_function("BCELoss", K.binary_cross_entropy_forward, K.binary_cross_entropy_backward,
                                lambda x, t: (x - t) / ((1 - x + _BCE_EPS) * (x + _BCE_EPS)))
BCEWithLogitsLoss = _elementwise_function("BCEWithLogitsLoss", K.binary_cross_entropy_with_logits_forward,
                                          K.binary_cross_entropy_with_logits_backward,
                                          lambda x, t: x.sigmoid() - t)


def mse_loss(input, target, size_average=True):
    """Mean (or sum) of (input - target)^2 over the elements."""
    return MSELoss.apply(input, _pointwise_target("mse_loss", input, target), None, size_average)


def l1_loss(input, target, size_average=True):
    """Mean (or sum) of |input - target| over the elements."""
    return L1Loss.apply(input, _pointwise_target("l1_loss", input, target), None, size_average)


def smooth_l1_loss(input, target, size_average=True):
    """Huber loss: 0.5 d^2 where |d| < 1, else |d| - 0.5 (d = input - target); mean or sum."""
    return SmoothL1Loss.apply(input, _pointwise_target("smooth_l1_loss", input, target), None, size_average)


def soft_margin_loss(input, target, size_average=True):
    """log(1 + exp(-target * input)) (target of 1 or -1); mean or sum."""
    return SoftMarginLoss.apply(input, _pointwise_target("soft_margin_loss", input, target), None, size_average)


def kl_div(input, target, size_average=True, weight=None):
    """The Kullback-Leibler divergence: target * (log(target) - input) where target > 0, with
    ``input`` holding log-probabilities; mean (over every element) or sum. ``weight`` is accepted and
    ignored, as in 0.2."""
    t = _pointwise_target("kl_div", input, target)
    if weight is not None:
        warnings.warn("kl_div: weight has no effect (PyTorch 0.2 ignores it too)", stacklevel=2)
    return KLDivLoss.apply(input, t, None, size_average)


def binary_cross_entropy(input, target, weight=None, size_average=True):
    """-(t log(x) + (1 - t) log(1 - x)) for probabilities ``input`` (THNN's: the logs of x + 1e-12 and
    1 - x + 1e-12), times ``weight`` (broadcast to the input's size); mean or sum."""
    return _bce("binary_cross_entropy", input, target, weight, size_average)


def _bce(op, input, target, weight, size_average):
    t = _pointwise_target(op, input, target)
    w = _pointwise_weight(op, weight, _data(input))
    return BCELoss.apply(input, t, w, size_average)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=True):
    """Binary cross entropy of sigmoid(input), computed stably from the logits."""
    op = "binary_cross_entropy_with_logits"
    x = _float_input(op, input)
    t = _same_type(op, target, x, "target")
    if t.size() != x.size():
        raise ValueError("{}: Target size ({}) must be the same as input size ({})".format(op, t.size(), x.size()))
    return BCEWithLogitsLoss.apply(input, t, _pointwise_weight(op, weight, x), size_average)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=True):
    """binary_cross_entropy(sigmoid(input), target, weight), as 0.2 computed it: the mean (or sum) over
    every element of the (N x C) input."""
    op = "multilabel_soft_margin_loss"
    _pointwise_target(op, input, target)
    return _bce(op, input.sigmoid(), target, weight, size_average)


# ---------------------------------------------------------------------- margin criteria (THNN)

class MultiMarginLoss(Function):
    @staticmethod
    def forward(ctx, input, target, p, margin, weight, size_average):
        ctx.args = (target, p, margin, weight, size_average)
        ctx.save_for_backward(input)
        return K.multi_margin_loss_forward(input, target, p, margin, weight, size_average)

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_variables
        target, p, margin, weight, size_average = ctx.args
        none = (None,) * 5
        if grad_output.volatile:
            return (K.multi_margin_loss_backward(grad_output.data, x.data, target, p, margin, weight,
                                                 size_average),) + none
        if p == 1:
            return (_scaled(K.multi_margin_loss_backward(1.0, x.data, target, p, margin, weight, size_average),
                            grad_output),) + none
        # p == 2: 2 h w[t] for the classes d != t with h = max(0, margin - x[t] + x[d]); minus their sum at t
        x2 = x.unsqueeze(0) if x.dim() == 1 else x
        n, c = x2.size()
        t = target.contiguous().view(n, 1)
        onehot = x.data.new(n, c).zero_().scatter_(1, t, 1)
        h = (x2 - x2.gather(1, Variable(t)) + margin).clamp(min=0) * Variable(1 - onehot)
        scale = 2.0 / (c * (n if size_average else 1))
        g = h * (Variable(weight.index_select(0, target).view(n, 1) * scale) if weight is not None else scale)
        g = g - Variable(onehot) * g.sum(1, keepdim=True)
        return ((g * grad_output).view_as(x),) + none


class MultiLabelMarginLoss(Function):
    @staticmethod
    def forward(ctx, input, target, size_average):
        ctx.args = (target, size_average)
        ctx.save_for_backward(input)
        return K.multilabel_margin_loss_forward(input, target, size_average)

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        target, size_average = ctx.args
        if grad_output.volatile:
            return K.multilabel_margin_loss_backward(grad_output.data, x, target, size_average), None, None
        return _scaled(K.multilabel_margin_loss_backward(1.0, x, target, size_average), grad_output), None, None


def _margin_input(op, input, target):
    x = _float_input(op, input)
    if x.dim() not in (1, 2):
        raise ValueError("{}: expected a 1D or 2D input (C or N x C), got size {}".format(op, size_str(x)))
    return x, _index_target(op, target, x)


def multi_margin_loss(input, target, p=1, margin=1, weight=None, size_average=True):
    """Multi-class hinge loss: for each sample, the sum over classes d != target of
    max(0, margin - x[target] + x[d])^p * weight[target], divided by the number of classes; mean over
    the samples (or sum)."""
    op = "multi_margin_loss"
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    x, t = _margin_input(op, input, target)
    n = x.size(0) if x.dim() == 2 else 1
    if t.dim() != 1 or t.size(0) != n:
        raise RuntimeError("{}: expected target of size [{}] for input of size {}, got target of size {}"
                           .format(op, n, size_str(x), size_str(t)))
    w = _class_weight(op, weight, x)
    if w is not None and w.dim() != 1:
        raise ValueError("{}: weight must be one-dimensional (one value per class), got size {}"
                         .format(op, size_str(w)))
    return MultiMarginLoss.apply(input, t, p, margin, w, size_average)


def multilabel_margin_loss(input, target, size_average=True):
    """Multi-class multi-label hinge loss. ``target`` (a LongTensor of the input's size) lists each
    sample's classes, ended by the first -1."""
    op = "multilabel_margin_loss"
    x, t = _margin_input(op, input, target)
    if t.size() != x.size():
        raise RuntimeError("{}: expected target of the input's size {}, got target of size {}"
                           .format(op, size_str(x), size_str(t)))
    return MultiLabelMarginLoss.apply(input, t, size_average)


# ---------------------------------------------------------------------- losses 0.2 wrote in Python

def poisson_nll_loss(input, target, log_input=True, full=False, size_average=True):
    """Negative log likelihood of target ~ Poisson(rate): exp(input) - target * input with
    log_input, else input - target * log(input); ``full`` adds Stirling's approximation
    target * log(target) - target + 0.5 * log(2 pi target) where target > 1."""
    op = "poisson_nll_loss"
    x = _float_input(op, input)
    t = _same_type(op, target, x, "target")
    _same_numel(op, x, t)
    target = _variable(target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * input.log()
    if full:
        small = Variable(t <= 1)
        safe = target.masked_fill(small, 1)  # keeps log() finite where the term is dropped
        loss = loss + (safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5).masked_fill(small, 0)
    return loss.mean() if size_average else loss.sum()


def hinge_embedding_loss(input, target, margin=1.0, size_average=True):
    """input where target is 1 (anything but -1, as 0.2) plus max(0, margin - input) where target is -1
    (anything but 1); mean over the elements (or sum)."""
    op = "hinge_embedding_loss"
    x = _float_input(op, input)
    y = _data(target)
    same_device(y, x, op, "target")
    _same_numel(op, x, y)
    y = y.contiguous().view_as(x)
    loss = input.masked_fill(Variable(y == -1), 0) + (-input + margin).clamp(min=0).masked_fill(Variable(y == 1), 0)
    loss = loss.sum()
    return loss / x.numel() if size_average else loss


def margin_ranking_loss(input1, input2, target, margin=0, size_average=True):
    """max(0, -target * (input1 - input2) + margin) (target of 1 or -1), summed and divided by
    target.size(0) with size_average."""
    op = "margin_ranking_loss"
    x1 = _float_input(op, input1, "input1")
    x2 = _same_type(op, input2, x1, "input2")
    y = _same_type(op, target, x1, "target")
    _same_numel(op, x1, x2, "input1", "input2")
    _same_numel(op, x1, y, "input1", "target")
    d = _flat(input1) - _flat(input2)
    loss = (-_flat(_variable(target)) * d + margin).clamp(min=0).sum()
    return loss / y.size(0) if size_average else loss


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=True):
    """1 - cos(input1[i], input2[i]) where target[i] is 1 and max(0, cos - margin) where it is -1
    (rows of N x D inputs; cos as 0.2: x1.x2 / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12))); the sum,
    divided by N with size_average."""
    op = "cosine_embedding_loss"
    x1 = _float_input(op, input1, "input1")
    x2 = _same_type(op, input2, x1, "input2")
    _same_size(op, x1, x2, "input1", "input2")
    if x1.dim() != 2:
        raise ValueError("{}: expected 2D inputs (N x D), got size {}".format(op, size_str(x1)))
    y = _data(target)
    same_device(y, x1, op, "target")
    if y.numel() != x1.size(0):
        raise RuntimeError("{}: expected target of size [{}] (one per row of the inputs of size {}), got target "
                           "of size {}".format(op, x1.size(0), size_str(x1), size_str(y)))
    eps = 1e-12
    prod = (input1 * input2).sum(1)
    cos = prod / (((input1 * input1).sum(1) + eps) * ((input2 * input2).sum(1) + eps)).sqrt()
    y = y.contiguous().view(-1)
    loss = (-cos + 1).masked_fill(Variable(y != 1), 0) + (cos - margin).clamp(min=0).masked_fill(Variable(y != -1), 0)
    loss = loss.sum()
    return loss / x1.size(0) if size_average else loss


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False):
    """mean over rows of max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm
    distance of pairwise_distance; with ``swap``, d(anchor, negative) is replaced by
    d(positive, negative) where that is smaller."""
    op = "triplet_margin_loss"
    a = _float_input(op, anchor, "anchor")
    _same_type(op, positive, a, "positive")
    _same_type(op, negative, a, "negative")
    _same_size(op, a, _data(positive), "anchor", "positive")
    _same_size(op, a, _data(negative), "anchor", "negative")
    if a.dim() != 2:
        raise ValueError("{}: expected 2D inputs (N x D), got size {}".format(op, size_str(a)))
    if not margin > 0:
        raise ValueError("{}: margin should be a positive value, got {}".format(op, margin))
    d_p = pairwise_distance(anchor, positive, p, eps)
    d_n = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_n = ember.min(d_n, pairwise_distance(positive, negative, p, eps))
    return (d_p - d_n + margin).clamp(min=0).mean()
