import ember

from ..modules.module import Module
from ._devices import module_to
from .parallel_apply import parallel_apply
from .replicate import replicate
from .scatter_gather import gather, scatter_kwargs


class DataParallel(Module):
    """Runs ``module`` on several devices at once: the input is cut along ``dim`` into one chunk per device,
    the module is replicated on each device, each replica runs on its chunk, and the outputs are concatenated
    on ``output_device`` (default: device_ids[0]). Gradients from every replica add up in the module's own
    parameters.

    ``device_ids`` defaults to every GPU; with no GPU (or ``device_ids=[]``) the module runs as is. A device
    id of -1 means the CPU (ember extra: ``device_ids=[-1, -1]`` runs two CPU replicas). The module is held as
    the child ``module``, so state_dict keys carry the prefix ``module.``.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super(DataParallel, self).__init__()
        if device_ids is None:
            device_ids = list(range(ember.cuda.device_count()))
        device_ids = list(device_ids)
        if output_device is None and device_ids:
            output_device = device_ids[0]
        self.dim = dim
        self.module = module
        self.device_ids = device_ids
        self.output_device = output_device
        if len(self.device_ids) == 1:
            module_to(self.module, device_ids[0])

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        inputs, kwargs = self.scatter(inputs, kwargs, self.device_ids)
        if len(self.device_ids) == 1:
            return self.module(*inputs[0], **kwargs[0])
        replicas = self.replicate(self.module, self.device_ids[:len(inputs)])
        outputs = self.parallel_apply(replicas, inputs, kwargs)
        return self.gather(outputs, self.output_device)

    def replicate(self, module, device_ids):
        return replicate(module, device_ids)

    def scatter(self, inputs, kwargs, device_ids):
        return scatter_kwargs(inputs, kwargs, device_ids, dim=self.dim)

    def parallel_apply(self, replicas, inputs, kwargs):
        return parallel_apply(replicas, inputs, kwargs, self.device_ids[:len(replicas)])

    def gather(self, outputs, output_device):
        return gather(outputs, output_device, dim=self.dim)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional form of DataParallel: ``module(*inputs, **module_kwargs)`` run on ``device_ids``
    (``inputs`` may be one Variable or a tuple)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    if device_ids is None:
        device_ids = list(range(ember.cuda.device_count()))
    if not device_ids:
        return module(*inputs, **(module_kwargs or {}))
    if output_device is None:
        output_device = device_ids[0]
    inputs, module_kwargs = scatter_kwargs(inputs, module_kwargs, device_ids, dim)
    if len(device_ids) == 1:
        return module(*inputs[0], **module_kwargs[0])
    used_device_ids = device_ids[:len(inputs)]
    replicas = replicate(module, used_device_ids)
    outputs = parallel_apply(replicas, inputs, module_kwargs, used_device_ids)
    return gather(outputs, output_device, dim)
