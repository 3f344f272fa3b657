"""``ember.cuda.comm``: moving tensors between GPUs (0.2's torch.cuda.comm, without NCCL: plain copies)."""
import ember
from ember._size import Size
from ember.tensor import _typename_of

from . import device as _device, stream as _stream


def _check_cuda(tensors, op):
    for t in tensors:
        if not getattr(t, "is_cuda", False):
            raise TypeError("{} expects all inputs to be CUDA tensors, got {}".format(op, _typename_of(t)))


def broadcast(tensor, devices):
    """Copies of ``tensor`` on each of ``devices`` (the tensor itself where it already is)."""
    return tuple(tensor.cuda(d) for d in devices)


def broadcast_coalesced(tensors, devices, buffer_size=10485760):
    """For each device of ``devices``, a tuple of copies of ``tensors``; all tensors must be on devices[0].
    ``buffer_size`` sized 0.2's coalescing buffers; plain copies need none (the results are the same)."""
    for t in tensors:
        if t.get_device() != devices[0]:
            raise RuntimeError("broadcast_coalesced: all tensors must be on devices[0] (GPU {}), got one on GPU {}"
                               .format(devices[0], t.get_device()))
    return [tuple(t.cuda(d) for t in tensors) for d in devices]


def reduce_add(inputs, destination=None):
    """The sum of ``inputs`` (same size, each on its own GPU), on ``destination`` (default: current device)."""
    _check_cuda(inputs, "reduce_add")
    if destination is None:
        destination = ember.cuda.current_device()
    size = inputs[0].size()
    for i, t in enumerate(inputs):
        if t.size() != size:
            raise ValueError("input {} has invalid size: got {}, but expected {}"
                             .format(i, "x".join(map(str, t.size())), "x".join(map(str, size))))
    with _device(destination):
        result = type(inputs[0])(size).zero_()
        for t in inputs:
            result.add_(t.cuda(destination))
    return result


def reduce_add_coalesced(inputs, destination=None, buffer_size=10485760):
    """``inputs`` is one sequence of tensors per GPU; returns the elementwise reduce_add of each position.
    ``buffer_size`` sized 0.2's coalescing buffers; plain copies need none (the results are the same)."""
    return tuple(reduce_add(list(ts), destination) for ts in zip(*inputs))


def scatter(tensor, devices, chunk_sizes=None, dim=0, streams=None):
    """Splits ``tensor`` along ``dim`` into one chunk per device (sizes ``chunk_sizes`` or equal) and
    copies each to its device."""
    if chunk_sizes is None:
        chunks = tensor.chunk(len(devices), dim)
    else:
        if sum(chunk_sizes) != tensor.size(dim):
            raise ValueError("scatter: chunk sizes {} don't sum up to the tensor's size at dim {} ({})"
                             .format(list(chunk_sizes), dim, tensor.size(dim)))
        if min(chunk_sizes) <= 0:
            raise ValueError("scatter: chunk sizes must be positive, got {}".format(list(chunk_sizes)))
        chunks, start = [], 0
        for n in chunk_sizes:
            chunks.append(tensor.narrow(dim, start, n))
            start += n
    if len(chunks) != len(devices):
        raise ValueError("scatter: got {} chunks for {} devices".format(len(chunks), len(devices)))
    streams = streams or [None] * len(devices)
    outputs = []
    for d, chunk, s in zip(devices, chunks, streams):
        with _device(d), _stream(s):
            outputs.append(chunk.cuda(d, non_blocking=True))
    return tuple(outputs)


def gather(tensors, dim=0, destination=None):
    """Concatenates ``tensors`` (on any GPUs) along ``dim`` on ``destination`` (default: current device;
    -1: the CPU)."""
    if not tensors:
        raise ValueError("gather: expected at least one tensor")
    _check_cuda(tensors, "gather")
    expected = list(tensors[0].size())
    total = 0
    for t in tensors:
        expected[dim] = t.size(dim)
        if list(t.size()) != expected:
            raise ValueError("gather got an input of invalid size: got {}, but expected {}"
                             .format("x".join(map(str, t.size())), "x".join(map(str, expected))))
        total += t.size(dim)
    expected[dim] = total
    size = Size(expected)
    if destination is None:
        destination = ember.cuda.current_device()
    if destination == -1:
        result = type(tensors[0].cpu())(size)
    else:
        with _device(destination):
            result = type(tensors[0])(size)
    start = 0
    for t in tensors:
        result.narrow(dim, start, t.size(dim)).copy_(t)
        start += t.size(dim)
    return result
