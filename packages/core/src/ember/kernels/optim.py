"""Fused optimizer updates (ember.optim's SGD and Adam call these for dense float parameters: CPU float and
double, CUDA float, double and half; anything else takes the optimizers' tensor-op path)."""
from ember._C import optim as _k
from ember._threads import get_num_threads

from ._common import on_device, xp_of

__all__ = ["fusable", "sgd_step", "adam_step"]
_FLOAT_TYPES = ("torch.FloatTensor", "torch.DoubleTensor", "torch.cuda.FloatTensor", "torch.cuda.DoubleTensor",
                "torch.cuda.HalfTensor")


def fusable(*tensors):
    """True when every tensor is a contiguous tensor of the first one's float type, size and device."""
    first = tensors[0]
    tn = first._typename
    if tn not in _FLOAT_TYPES:
        return False
    n = first._a.size
    for t in tensors:
        if t._typename != tn or t._a.size != n or not t._a.flags.c_contiguous:
            return False
    return not first.is_cuda or all(t.get_device() == first.get_device() for t in tensors)


# below this many elements one thread does the update: waking a second costs more than it saves
_PARALLEL_MIN = 1 << 16


def _flat(t):
    return t._a.reshape(-1)


def _threads(t):
    return get_num_threads() if t._a.size >= _PARALLEL_MIN else 1


def sgd_step(param, grad, buf, lr, momentum, dampening, weight_decay, nesterov, first):
    """One SGD update in place on ``param`` (and ``grad`` with weight decay, ``buf`` with momentum)."""
    if param.is_cuda:
        from .cuda import optim as _gpu
        with on_device(param):
            _gpu.sgd_step(_flat(param), _flat(grad), None if buf is None else _flat(buf), lr, momentum, dampening,
                          weight_decay, nesterov, first)
        return
    _k.sgd_step(_flat(param), _flat(grad), _flat(buf if buf is not None else param), lr, momentum, dampening,
                weight_decay, nesterov, first, _threads(param))


def adam_step(param, grad, exp_avg, exp_avg_sq, beta1, beta2, eps, step_size, weight_decay):
    """One Adam update in place on ``param``, ``exp_avg`` and ``exp_avg_sq``."""
    if param.is_cuda:
        from .cuda import optim as _gpu
        with on_device(param):
            _gpu.adam_step(xp_of(param), _flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq), beta1, beta2,
                           eps, step_size, weight_decay)
        return
    _k.adam_step(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq), beta1, beta2, eps, step_size,
                 weight_decay, _threads(param))
