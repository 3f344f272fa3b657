from .BatchNormalization import BatchNormalization


class SpatialBatchNormalization(BatchNormalization):
    """:class:`BatchNormalization` of ``N x nOutput x H x W`` mini-batches: statistics per feature plane."""

    nDim = 4
