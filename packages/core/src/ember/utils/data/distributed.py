import math

import ember
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Restricts loading to this replica's share of the dataset (padded to divide evenly).

    ``num_replicas`` and ``rank`` default to ember.distributed's world size and rank; ember.distributed is
    not part of ember yet, so pass both explicitly."""

    def __init__(self, dataset, num_replicas=None, rank=None):
        if num_replicas is None or rank is None:
            raise NotImplementedError("DistributedSampler: ember.distributed is not available yet; pass "
                                      "num_replicas and rank explicitly")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.num_samples = int(math.ceil(len(self.dataset) * 1.0 / self.num_replicas))
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        g = ember.Generator()
        g.manual_seed(self.epoch)  # every replica shuffles the same way in an epoch
        indices = list(ember.randperm(len(self.dataset), generator=g).tolist())
        indices += indices[:(self.total_size - len(indices))]
        offset = self.num_samples * self.rank
        return iter(indices[offset:offset + self.num_samples])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch
