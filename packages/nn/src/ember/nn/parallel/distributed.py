from ..modules.module import Module


class DistributedDataParallel(Module):
    """0.2's multi-process data parallelism over torch.distributed, which ember does not implement (out of
    scope): constructing one raises NotImplementedError."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        raise NotImplementedError("DistributedDataParallel needs torch.distributed, which ember does not "
                                  "implement (out of scope); use DataParallel")
