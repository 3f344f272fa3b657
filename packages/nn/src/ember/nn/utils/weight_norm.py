"""Weight normalization (Salimans & Kingma, 2016): w = g * v / ||v||, as PyTorch 0.2 implemented it, with
a forward pre-hook that recomputes the weight from its parameters ``{name}_g`` and ``{name}_v`` before
every forward."""
from ..parameter import Parameter


class WeightNorm(object):
    def __init__(self, name, dim):
        self.name = name
        self.dim = dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / self.norm(v))

    def norm(self, p):
        """The norm over every dimension except ``dim`` (over all of them when dim is None), with p's
        number of dimensions."""
        if self.dim is None:
            return p.norm()
        if self.dim != 0:
            p = p.transpose(0, self.dim)
        output_size = (p.size(0),) + (1,) * (p.dim() - 1)
        p = p.contiguous().view(p.size(0), -1).norm(2, 1).view(*output_size)
        if self.dim != 0:
            p = p.transpose(0, self.dim)
        return p

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError("Cannot register two weight_norm hooks on the same parameter {}".format(name))
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        # the weight stops being a parameter: g and v are, and w = g / ||v|| * v is recomputed from them
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(fn.norm(weight).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        module.register_parameter(self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module``'s parameter ``name`` as ``{name}_g * {name}_v / ||{name}_v||``: the magnitude
    ``{name}_g`` (the norm over every dim but ``dim``; over all when dim is None) and the direction
    ``{name}_v`` become the parameters; the weight is recomputed before every forward. Returns module."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo weight_norm: ``name`` becomes a plain parameter again (holding the current weight)."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError("weight_norm of '{}' not found in {}".format(name, module))
