"""Distance modules (PyTorch 0.2's torch/nn/modules/distance.py)."""
from .module import Module
from .. import functional as F

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """p-norm distance between the rows of two (N, D) inputs, as (N, 1) (0.2 adds ``eps`` to |x1 - x2|)."""

    def __init__(self, p=2, eps=1e-6):
        super(PairwiseDistance, self).__init__()
        self.norm = p
        self.eps = eps

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps)


class CosineSimilarity(Module):
    """Cosine similarity of two inputs along ``dim`` (denominator at least ``eps``)."""

    def __init__(self, dim=1, eps=1e-8):
        super(CosineSimilarity, self).__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
