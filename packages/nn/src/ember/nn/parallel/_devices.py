"""Moving Variables, tensors and modules between devices (a CUDA ordinal, or -1 / None for the CPU)."""


def is_cpu(device):
    return device is None or device < 0


def to_device(x, device):
    """``x`` (Variable or tensor) on ``device``; Variables move differentiably. Returns x itself when it is
    already there."""
    if is_cpu(device):
        return x.cpu()
    if x.is_cuda and x.get_device() == device:
        return x
    return x.cuda(device)


def copy_to(x, device):
    """A copy of ``x`` on ``device`` that never shares x's memory (as a copy onto another GPU would not)."""
    moved = to_device(x, device)
    return x.clone() if moved is x else moved


def module_to(module, device):
    return module.cpu() if is_cpu(device) else module.cuda(device)
