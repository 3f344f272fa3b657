"""``ember.cuda.nccl``: 0.2's torch.cuda.nccl collectives over one tensor per GPU, in one process.

ember does not link NCCL: each collective is done with device-to-device copies and reductions on the
receiving GPU, so it gives NCCL's results (sums in the tensors' type) without its speed. The inputs must be
what NCCL accepts (``is_available``): contiguous CUDA tensors of one type, each on its own GPU.
"""
import ember
from ember.tensor import _typename_of

from . import device as _device, stream as _stream

SUM, PROD, MAX, MIN = 0, 1, 2, 3
_REDUCTIONS = {SUM: lambda a, b: a.add_(b), PROD: lambda a, b: a.mul_(b),
               MAX: lambda a, b: ember.max(a, b), MIN: lambda a, b: ember.min(a, b)}


def is_available(tensors):
    """Whether ``tensors`` can take part in a collective: contiguous CUDA tensors of one type, on distinct
    GPUs."""
    devices = set()
    for t in tensors:
        if not getattr(t, "is_cuda", False) or not t.is_contiguous() or type(t) is not type(tensors[0]):
            return False
        d = t.get_device()
        if d in devices:
            return False
        devices.add(d)
    return True


def _check(tensors, op, name="inputs"):
    if not tensors:
        raise ValueError("nccl.{}: expected at least one tensor in {}".format(op, name))
    if not is_available(tensors):
        raise TypeError("nccl.{}: {} must be contiguous CUDA tensors of one type, each on its own GPU (got {})"
                        .format(op, name, ", ".join(_describe(t) for t in tensors)))


def _describe(t):
    if not getattr(t, "is_cuda", False):
        return _typename_of(t)
    return "{} on GPU {}{}".format(t.type(), t.get_device(), "" if t.is_contiguous() else " (not contiguous)")


def _op(op, name):
    if op not in _REDUCTIONS:
        raise ValueError("nccl.{}: op must be SUM, PROD, MAX or MIN (0-3), got {!r}".format(name, op))
    return _REDUCTIONS[op]


def _reduced(inputs, op, device, name):
    """The reduction of ``inputs`` (same number of elements) as a new tensor on ``device``."""
    combine = _op(op, name)
    numel = inputs[0].numel()
    for i, t in enumerate(inputs):
        if t.numel() != numel:
            raise ValueError("nccl.{}: input {} has {} elements, input 0 has {}".format(name, i, t.numel(), numel))
    with _device(device):
        acc = inputs[0].view(-1).cuda(device).clone()
        for t in inputs[1:]:
            acc = combine(acc, t.view(-1).cuda(device))
    return acc


def all_reduce(inputs, outputs=None, op=SUM):
    """Every output (default: the inputs themselves) gets the reduction of all inputs."""
    _check(inputs, "all_reduce")
    outputs = inputs if outputs is None else outputs
    _check(outputs, "all_reduce", "outputs")
    total = _reduced(inputs, op, inputs[0].get_device(), "all_reduce")
    for out in outputs:
        out.view(-1).copy_(total)


def reduce(inputs, outputs=None, root=0, op=SUM, streams=None):
    """``outputs[root]`` (default: ``inputs[root]``) gets the reduction of all inputs, computed on
    ``streams[root]`` when streams (one per input) are given."""
    _check(inputs, "reduce")
    outputs = inputs if outputs is None else outputs
    if not 0 <= root < len(outputs):
        raise ValueError("nccl.reduce: root {} is not an index into the {} outputs".format(root, len(outputs)))
    if streams is not None and len(streams) != len(inputs):
        raise ValueError("nccl.reduce: expected one stream per input ({}), got {}".format(len(inputs), len(streams)))
    with _stream(streams[root] if streams is not None else None):
        outputs[root].view(-1).copy_(_reduced(inputs, op, outputs[root].get_device(), "reduce"))


def broadcast(inputs, root=0):
    """Copies ``inputs[root]`` into every other input."""
    _check(inputs, "broadcast")
    if not 0 <= root < len(inputs):
        raise ValueError("nccl.broadcast: root {} is not an index into the {} inputs".format(root, len(inputs)))
    src = inputs[root].view(-1)
    for i, t in enumerate(inputs):
        if i != root:
            t.view(-1).copy_(src)


def all_gather(inputs, outputs):
    """Every output gets the inputs one after another (``len(inputs)`` times an input's elements)."""
    _check(inputs, "all_gather")
    _check(outputs, "all_gather", "outputs")
    n = inputs[0].numel()
    for out in outputs:
        if out.numel() != n * len(inputs):
            raise ValueError("nccl.all_gather: an output has {} elements, expected {} ({} inputs of {})"
                             .format(out.numel(), n * len(inputs), len(inputs), n))
        flat = out.view(-1)
        for i, t in enumerate(inputs):
            flat.narrow(0, i * n, n).copy_(t.view(-1))


def reduce_scatter(inputs, outputs, op=SUM):
    """Output ``i`` gets the ``i``-th part of the reduction of all inputs (each input holds
    ``len(outputs)`` times an output's elements)."""
    _check(inputs, "reduce_scatter")
    _check(outputs, "reduce_scatter", "outputs")
    n = outputs[0].numel()
    if inputs[0].numel() != n * len(outputs):
        raise ValueError("nccl.reduce_scatter: an input has {} elements, expected {} ({} outputs of {})"
                         .format(inputs[0].numel(), n * len(outputs), len(outputs), n))
    total = _reduced(inputs, op, outputs[0].get_device(), "reduce_scatter")
    for i, out in enumerate(outputs):
        out.view(-1).copy_(total.narrow(0, i * n, n))


__all__ = ["SUM", "PROD", "MAX", "MIN", "is_available", "all_reduce", "reduce", "broadcast", "all_gather",
           "reduce_scatter"]
