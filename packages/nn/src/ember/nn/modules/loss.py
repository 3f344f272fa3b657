"""The criteria of PyTorch 0.2 (torch/nn/modules/loss.py): each module stores its options and calls
its ember.nn.functional form. Criteria never differentiate their target: a target that requires grad
is refused, as in 0.2."""
from .module import Module
from .. import functional as F

__all__ = ["L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "KLDivLoss", "MSELoss", "BCELoss",
           "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "SoftMarginLoss",
           "CrossEntropyLoss", "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
           "MultiMarginLoss", "TripletMarginLoss"]


def _assert_no_grad(variable):
    if getattr(variable, "requires_grad", False):
        raise AssertionError("nn criterions don't compute the gradient w.r.t. targets - please mark these variables "
                             "as volatile or not requiring gradients")


class _Loss(Module):
    def __init__(self, size_average=True):
        super(_Loss, self).__init__()
        self.size_average = size_average


class _WeightedLoss(_Loss):
    """A loss with an optional per-class (or per-element) rescaling ``weight``, kept as a buffer."""

    def __init__(self, weight=None, size_average=True):
        super(_WeightedLoss, self).__init__(size_average)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """Mean absolute error: mean (size_average) or sum of |input - target| over all elements."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.l1_loss(input, target, size_average=self.size_average)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities (N x C, or N x C x H x W) for class indices
    (N, or N x H x W); ``weight`` gives one value per class, ``ignore_index`` a target that counts
    neither in the loss nor in the average."""

    def __init__(self, weight=None, size_average=True, ignore_index=-100):
        super(NLLLoss, self).__init__(weight, size_average)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.nll_loss(input, target, self.weight, self.size_average, self.ignore_index)


class NLLLoss2d(NLLLoss):
    """NLLLoss of images: input N x C x H x W, target N x H x W."""


class PoissonNLLLoss(_Loss):
    """Negative log likelihood of a Poisson-distributed target (see F.poisson_nll_loss)."""

    def __init__(self, log_input=True, full=False, size_average=True):
        super(PoissonNLLLoss, self).__init__(size_average)
        self.log_input = log_input
        self.full = full

    def forward(self, log_input, target):
        _assert_no_grad(target)
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, self.size_average)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of target probabilities from input log-probabilities."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.kl_div(input, target, size_average=self.size_average)


class MSELoss(_Loss):
    """Mean squared error: mean (size_average) or sum of (input - target)^2 over all elements."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.mse_loss(input, target, size_average=self.size_average)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities ``input`` against ``target``; ``weight`` rescales each
    element (broadcast to the input's size)."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.binary_cross_entropy(input, target, weight=self.weight, size_average=self.size_average)


class BCEWithLogitsLoss(Module):
    """Binary cross entropy of sigmoid(input), computed stably from the logits."""

    def __init__(self, weight=None, size_average=True):
        super(BCEWithLogitsLoss, self).__init__()
        self.size_average = size_average
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.size_average)


class HingeEmbeddingLoss(Module):
    """input where target is 1, max(0, margin - input) where it is -1; mean or sum."""

    def __init__(self, margin=1.0, size_average=True):
        super(HingeEmbeddingLoss, self).__init__()
        self.margin = margin
        self.size_average = size_average

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.hinge_embedding_loss(input, target, self.margin, self.size_average)


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss; the target lists each sample's classes, ended by -1."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.multilabel_margin_loss(input, target, size_average=self.size_average)


class SmoothL1Loss(_Loss):
    """Huber loss: squared below an absolute error of 1, absolute above."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.smooth_l1_loss(input, target, size_average=self.size_average)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss log(1 + exp(-target * input)), target of 1 or -1."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.soft_margin_loss(input, target, size_average=self.size_average)


class CrossEntropyLoss(_WeightedLoss):
    """log_softmax (over dim 1) followed by NLLLoss: input of unnormalised scores (N x C or
    N x C x H x W), target of class indices."""

    def __init__(self, weight=None, size_average=True, ignore_index=-100):
        super(CrossEntropyLoss, self).__init__(weight, size_average)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.cross_entropy(input, target, self.weight, self.size_average, self.ignore_index)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all loss: binary cross entropy of sigmoid(input) against a 0/1 target."""

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.multilabel_soft_margin_loss(input, target, self.weight, self.size_average)


class CosineEmbeddingLoss(Module):
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1 (rows of N x D inputs)."""

    def __init__(self, margin=0, size_average=True):
        super(CosineEmbeddingLoss, self).__init__()
        self.margin = margin
        self.size_average = size_average

    def forward(self, input1, input2, target):
        _assert_no_grad(target)
        return F.cosine_embedding_loss(input1, input2, target, self.margin, self.size_average)


class MarginRankingLoss(Module):
    """max(0, -target * (x1 - x2) + margin): target 1 ranks x1 above x2, -1 below."""

    def __init__(self, margin=0, size_average=True):
        super(MarginRankingLoss, self).__init__()
        self.margin = margin
        self.size_average = size_average

    def forward(self, input1, input2, target):
        _assert_no_grad(target)
        return F.margin_ranking_loss(input1, input2, target, self.margin, self.size_average)


class MultiMarginLoss(Module):
    """Multi-class hinge loss (p = 1 or 2) with an optional per-class ``weight`` (a plain attribute in
    0.2, not a buffer)."""

    def __init__(self, p=1, margin=1, weight=None, size_average=True):
        super(MultiMarginLoss, self).__init__()
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError("MultiMarginLoss: weight must be one-dimensional (one value per class), got {} "
                             "dimensions".format(weight.dim()))
        self.p = p
        self.margin = margin
        self.size_average = size_average
        self.weight = weight

    def forward(self, input, target):
        _assert_no_grad(target)
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.size_average)


class TripletMarginLoss(Module):
    """Triplet loss: mean of max(0, margin + d(anchor, positive) - d(anchor, negative)) with the
    p-norm distance; ``swap`` uses d(positive, negative) where it is the smaller."""

    def __init__(self, margin=1.0, p=2, eps=1e-6, swap=False):
        super(TripletMarginLoss, self).__init__()
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap)
