import ember.kernels as K

from .SpatialReflectionPadding import SpatialReflectionPadding


class SpatialReplicationPadding(SpatialReflectionPadding):
    """Pads the last two dims of ``C x H x W`` images (or a batch) by repeating the edge pixels: ``pad_l``
    columns on the left, ``pad_r`` on the right, ``pad_t`` rows on top, ``pad_b`` at the bottom (each
    defaults to ``pad_l``)."""

    _kernels = (K.replication_pad2d_forward, K.replication_pad2d_backward)
