from ember.autograd import Variable

from ._devices import copy_to, to_device


def _broadcast(x, device, first):
    """x for one replica: the first replica uses x itself when it already lives on its device (as 0.2's
    broadcast did), every other replica a copy. Parameters (Variables) stay differentiable, so the
    replicas' gradients add up in the original parameters."""
    if first:
        moved = to_device(x, device)
        if moved is not x:
            return moved
        return x.view_as(x) if isinstance(x, Variable) else x  # a Variable becomes a non-leaf alias
    return copy_to(x, device)


def replicate(network, devices):
    """One copy of ``network`` per device: every submodule is copied (shallowly, so hooks and attributes are
    shared), parameters and buffers are placed on the replica's device."""
    devices = tuple(devices)
    modules = list(network.modules())
    params = list(network.parameters())
    buffers = []
    seen = set()
    for m in modules:
        for b in m._buffers.values():
            if b is not None and id(b) not in seen:
                seen.add(id(b))
                buffers.append(b)
    copies = {}  # id(original parameter or buffer) -> its copy, per replica
    replicas = []
    for j, device in enumerate(devices):
        for x in params + buffers:
            copies[id(x)] = _broadcast(x, device, j == 0)
        clones = {}
        for m in modules:
            r = m.__new__(type(m))
            r.__dict__ = m.__dict__.copy()
            clones[id(m)] = r
        for m in modules:
            r = clones[id(m)]
            r._parameters = type(m._parameters)(
                (k, None if p is None else copies[id(p)]) for k, p in m._parameters.items())
            r._buffers = type(m._buffers)(
                (k, None if b is None else copies[id(b)]) for k, b in m._buffers.items())
            r._modules = type(m._modules)(
                (k, None if c is None else clones[id(c)]) for k, c in m._modules.items())
        replicas.append(clones[id(network)])
    return replicas
