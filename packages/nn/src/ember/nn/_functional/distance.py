"""Distances and normalisation (PyTorch 0.2's F.pairwise_distance, F.cosine_similarity, F.normalize), written
with differentiable Variable ops and 0.2's formulas."""
import ember
from .activation import size_of

__all__ = ["pairwise_distance", "cosine_similarity", "normalize"]


def pairwise_distance(x1, x2, p=2, eps=1e-6):
    """The p-norm distance between the rows of ``x1`` and ``x2`` (both (N, D)), as (N, 1):
    ``(sum_j (|x1 - x2| + eps) ** p) ** (1 / p)`` (0.2 adds eps to the absolute difference)."""
    if x1.size() != x2.size():
        raise RuntimeError("pairwise_distance(): Input sizes must be equal, got {} and {}"
                           .format(size_of(x1), size_of(x2)))
    if x1.dim() != 2:
        raise RuntimeError("pairwise_distance(): Input must be a 2D matrix, got size {}".format(size_of(x1)))
    diff = ember.abs(x1 - x2) + eps
    if 0 < p < float("inf"):  # then 0.2's formula is the p-norm of diff: one reduction pass
        return ember.norm(diff, p, 1, keepdim=True)
    return ember.pow(ember.pow(diff, p).sum(dim=1, keepdim=True), 1. / p)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / max(||x1|| * ||x2||, eps) along ``dim``; the result is squeezed as in 0.2."""
    w12 = ember.sum(x1 * x2, dim)
    w1 = ember.norm(x1, 2, dim)
    w2 = ember.norm(x2, 2, dim)
    return (w12 / (w1 * w2).clamp(min=eps)).squeeze()


def normalize(input, p=2, dim=1, eps=1e-12):
    """``input`` divided by its p-norm along ``dim`` (at least ``eps``)."""
    return input / ember.norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)
