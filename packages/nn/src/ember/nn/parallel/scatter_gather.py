import ember
from ember.autograd import Variable
from ember.tensor import _typename_of

from ._devices import copy_to, to_device


def _scatter_variable(v, target_gpus, dim):
    """v cut into len(target_gpus) chunks along ``dim`` (fewer when v is too small), chunk i copied to
    device i; differentiable (the gradient of each chunk flows back into v)."""
    return tuple(copy_to(chunk, d) for chunk, d in zip(v.chunk(len(target_gpus), dim), target_gpus))


def scatter(inputs, target_gpus, dim=0):
    """Slices the Variables in ``inputs`` (nested in tuples, lists and dicts) into one chunk per device and
    gives one structure per device; other objects are shared by every device. Devices beyond the number of
    chunks are dropped."""
    def scatter_map(obj):
        if isinstance(obj, Variable):
            return _scatter_variable(obj, target_gpus, dim)
        if ember.is_tensor(obj):
            raise TypeError("scatter: tensors are not supported, wrap them in Variables (got {})"
                            .format(_typename_of(obj)))
        if isinstance(obj, tuple) and len(obj) > 0:
            return list(zip(*map(scatter_map, obj)))
        if isinstance(obj, list) and len(obj) > 0:
            return list(map(list, zip(*map(scatter_map, obj))))
        if isinstance(obj, dict) and len(obj) > 0:
            return list(map(type(obj), zip(*map(scatter_map, obj.items()))))
        return [obj for _ in target_gpus]
    return scatter_map(inputs)


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """scatter for positional and keyword arguments: a tuple of per-device argument tuples and a tuple of
    per-device kwargs dicts, of equal length."""
    inputs = scatter(inputs, target_gpus, dim) if inputs else []
    kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    if len(inputs) < len(kwargs):
        inputs.extend([() for _ in range(len(kwargs) - len(inputs))])
    elif len(kwargs) < len(inputs):
        kwargs.extend([{} for _ in range(len(inputs) - len(kwargs))])
    return tuple(inputs), tuple(kwargs)


def gather(outputs, target_device, dim=0):
    """Concatenates the per-device ``outputs`` (Variables, or equally nested tuples / lists / dicts of them)
    along ``dim`` on ``target_device``; differentiable."""
    def gather_map(outputs):
        out = outputs[0]
        if isinstance(out, Variable):
            return ember.cat([to_device(o, target_device) for o in outputs], dim)
        if out is None:
            return None
        if isinstance(out, dict):
            return type(out)((k, gather_map([o[k] for o in outputs])) for k in out)
        if isinstance(out, (tuple, list)):
            return type(out)(map(gather_map, zip(*outputs)))
        raise TypeError("gather: outputs must be Variables or tuples, lists or dicts of them, got {}"
                        .format(_typename_of(out)))
    return gather_map(outputs)
