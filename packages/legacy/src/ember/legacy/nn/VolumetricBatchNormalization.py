from .BatchNormalization import BatchNormalization


class VolumetricBatchNormalization(BatchNormalization):
    """:class:`BatchNormalization` of ``N x nOutput x T x H x W`` mini-batches: statistics per feature volume."""

    nDim = 5
