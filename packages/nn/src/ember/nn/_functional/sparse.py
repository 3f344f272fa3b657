"""Embeddings: the Functions behind nn.Embedding / nn.EmbeddingBag, and F.embedding.

The lookup is index_select; the weight gradient is ember.kernels.embedding_backward (a scatter-add of
gradient rows), which is itself a Function here, so embeddings have a second derivative. The bags of
EmbeddingBag are summed by the same scatter-add, with each position's bag number as its index.
CUDA weights take their indices (and offsets) as torch.cuda.LongTensors on the weight's GPU.
"""
import ember.cuda
from ember import kernels as K
from ember.autograd import Function, Variable
from ember.tensor import LongTensor, _fmt_size, _typename_of

__all__ = ["embedding"]

SPARSE_MSG = ("{}: sparse=True needs sparse gradients (torch.sparse), which ember does not implement (out of "
              "scope); use sparse=False")


def _check_indices(indices, weight, op):
    """``indices`` must be a Variable of LongTensor on the weight's device."""
    if not isinstance(indices, Variable):
        raise TypeError("{}: expected the indices to be a Variable, got {}".format(op, _typename_of(indices)))
    w = weight.data
    expected = ember.cuda.LongTensor if w.is_cuda else LongTensor
    if type(indices.data) is not expected:
        raise TypeError("{}: expected the indices to be a {}, got {}"
                        .format(op, expected._typename, indices.data._typename))
    if w.is_cuda and indices.get_device() != w.get_device():
        raise TypeError("{}: expected the indices on GPU {} (where the weight is), got them on GPU {}"
                        .format(op, w.get_device(), indices.get_device()))
    if indices.requires_grad:
        raise ValueError("{}: the indices can't require a gradient (Embedding doesn't compute the gradient "
                         "w.r.t. the indices)".format(op))


def _lookup(weight, flat, op):
    try:
        return weight.index_select(0, flat)
    except RuntimeError as e:
        raise IndexError("{}: indices must be in 0 <= index < num_embeddings = {} ({})"
                         .format(op, weight.size(0), e)) from None


class _EmbeddingGrad(Function):
    """grad_weight = sum of grad_output's rows by index: linear in grad_output, so its own backward is
    a lookup of the incoming gradient."""

    @staticmethod
    def forward(ctx, grad_output, indices, num_weights, padding_idx, scale_grad_by_freq):
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        ctx.save_for_backward(indices)
        return K.embedding_backward(grad_output, indices, num_weights, padding_idx, scale_grad_by_freq)

    @staticmethod
    def backward(ctx, grad_grad_weight):
        indices, = ctx.saved_variables
        idx = indices.data.contiguous().view(-1)
        rows = grad_grad_weight.index_select(0, Variable(idx))
        factor = _position_factor(idx, ctx.padding_idx, ctx.scale_grad_by_freq, grad_grad_weight.size(0),
                                  type(rows.data))
        if factor is not None:
            rows = rows * Variable(factor.view(-1, 1))
        return rows.view(*(tuple(indices.size()) + (rows.size(1),))), None, None, None, None


def _position_factor(idx, padding_idx, scale_grad_by_freq, num_weights, cls):
    """What each position's gradient row was multiplied by in embedding_backward, as a ``cls`` tensor
    (None: all ones)."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    xp = cls._xp
    a = idx._a
    f = xp.ones(a.shape, cls._dtype)
    if scale_grad_by_freq:  # the occurrences of each index: the embedding gradient of a column of ones
        counts = K.embedding_backward(cls._make(xp.ones((a.size, 1), cls._dtype)), idx, num_weights)
        f /= counts._a[a, 0]
    if padding_idx is not None:
        f *= a != padding_idx
    return cls._make(f)


class Embedding(Function):

    @staticmethod
    def forward(ctx, indices, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, op="embedding"):
        if max_norm is not None:
            K.embedding_renorm_(weight, indices, max_norm, norm_type)
        ctx.num_weights = weight.size(0)
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        ctx.save_for_backward(indices)
        out = _lookup(weight, indices.contiguous().view(-1), op)
        return out.view(*(tuple(indices.size()) + (weight.size(1),)))

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_variables
        grad_weight = _EmbeddingGrad.apply(grad_output, indices, ctx.num_weights, ctx.padding_idx,
                                           ctx.scale_grad_by_freq)
        return None, grad_weight, None, None, None, None, None


def embedding(input, embedding_matrix, max_norm=None, norm_type=2, scale_grad_by_freq=False, sparse=False):
    """Rows of ``embedding_matrix`` (num_embeddings x embedding_dim) picked by the LongTensor ``input``:
    the result has size input.size() + (embedding_dim,). ``max_norm`` renormalises (in place) the looked-up
    rows whose ``norm_type``-norm exceeds it; ``scale_grad_by_freq`` divides each row's gradient by the
    number of times its index occurs in ``input``."""
    return _embedding(input, embedding_matrix, None, max_norm, norm_type, scale_grad_by_freq, sparse, "embedding")


def _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, op):
    if sparse:
        raise NotImplementedError(SPARSE_MSG.format(op))
    _check_indices(input, weight, op)
    if weight.dim() != 2:
        raise ValueError("{}: expected a 2D weight (num_embeddings x embedding_dim), got size {}"
                         .format(op, _fmt_size(weight.size())))
    if input.dim() == 0:
        raise ValueError("{}: expected non-empty indices".format(op))
    return Embedding.apply(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, op)


def _bags(offsets, n):
    """(the bag of each of the n positions, a tensor of offsets' type; the size of each bag, an array)."""
    xp = type(offsets)._xp
    starts = offsets._a
    bag_of = xp.searchsorted(starts, xp.arange(n), side="right") - 1
    return type(offsets)._make(bag_of), xp.diff(starts, append=n)


class EmbeddingBag(Function):
    """Sums (or averages) the rows of ``weight`` picked by ``indices`` over each bag; bag b holds the
    positions offsets[b] ... offsets[b + 1] - 1 (the last bag runs to the end)."""

    @staticmethod
    def forward(ctx, indices, offsets, weight, max_norm, norm_type, scale_grad_by_freq, mode):
        if max_norm is not None:
            K.embedding_renorm_(weight, indices, max_norm, norm_type)
        n = indices.numel()
        ctx.num_weights = weight.size(0)
        ctx.scale_grad_by_freq = scale_grad_by_freq
        ctx.inv_count = None
        rows = _lookup(weight, indices, "EmbeddingBag")
        with ember.cuda.device_of(weight):  # the arrays made here belong beside the weight
            ctx.bag_of, counts = _bags(offsets, n)
            if n:
                out = K.embedding_backward(rows, ctx.bag_of, len(counts))
            else:
                out = weight.new(len(counts), weight.size(1)).zero_()
            if mode == "mean":
                inv = 1.0 / type(weight)._xp.maximum(counts, 1)  # an empty bag averages to zeros
                ctx.inv_count = type(weight)._make(inv.astype(weight._a.dtype))
                out.mul_(ctx.inv_count.view(-1, 1).expand_as(out))
        ctx.save_for_backward(indices)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        indices, = ctx.saved_variables
        rows = grad_output.index_select(0, Variable(ctx.bag_of))
        if ctx.inv_count is not None:
            rows = rows * Variable(ctx.inv_count.index_select(0, ctx.bag_of).view(-1, 1))
        grad_weight = _EmbeddingGrad.apply(rows, indices, ctx.num_weights, None, ctx.scale_grad_by_freq)
        return None, None, grad_weight, None, None, None, None
