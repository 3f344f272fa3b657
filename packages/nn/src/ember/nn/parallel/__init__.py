"""ember.nn.parallel: data parallelism over devices (PyTorch 0.2's torch.nn.parallel).

Written device-agnostically: a device is a CUDA ordinal, or -1 for the CPU (0.2's ``get_device()`` of a CPU
tensor). Without CUDA, ``DataParallel(module)`` has no devices and runs the module as is; an explicit list
of CPU devices such as ``[-1, -1]`` runs the whole scatter / replicate / parallel_apply / gather path on
CPU replicas (an ember extra, used to test it).
"""
from .parallel_apply import parallel_apply
from .replicate import replicate
from .data_parallel import DataParallel, data_parallel
from .scatter_gather import scatter, gather
from .distributed import DistributedDataParallel

__all__ = ["replicate", "scatter", "parallel_apply", "gather", "data_parallel", "DataParallel",
           "DistributedDataParallel"]
