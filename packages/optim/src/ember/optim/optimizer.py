from collections import defaultdict
from copy import deepcopy
from itertools import chain

import ember
from ember.autograd import Variable


class _RequiredParameter(object):
    """Singleton marking a hyper-parameter every group must give (``lr`` of SGD)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _check_non_negative(name, value):
    """Ember extra: reject hyper-parameters 0.2 accepted silently."""
    if not value >= 0.0:  # also catches NaN
        raise ValueError("Invalid {}: {}".format(name, value))


def _check_betas(betas):
    beta1, beta2 = betas
    if not 0.0 <= beta1 < 1.0:
        raise ValueError("Invalid beta parameter at index 0: {}".format(beta1))
    if not 0.0 <= beta2 < 1.0:
        raise ValueError("Invalid beta parameter at index 1: {}".format(beta2))


def _to_device_of(value, data):
    """A state value (a float tensor, or a list of them, as LBFGS keeps) moved to ``data``'s device and
    type, so a state saved on one device loads for parameters on another (an ember extra, as 0.3)."""
    if isinstance(value, list):
        return [_to_device_of(v, data) for v in value]
    if not ember.is_tensor(value) or not type(value)._is_floating:
        return value
    value = value.cuda(data.get_device()) if data.is_cuda else value.cpu()
    return value.type(type(data))


class Optimizer(object):
    """Base class for all optimizers.

    ``params`` is an iterable of Variables or of dicts (parameter groups: a ``params`` entry plus any
    per-group options overriding ``defaults``).
    """

    def __init__(self, params, defaults):
        if isinstance(params, Variable) or ember.is_tensor(params):
            raise TypeError("params argument given to the optimizer should be an iterable of Variables or dicts, "
                            "but got " + ember.typename(params))
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (an ember extra; 0.3 added the same)."""
        if not isinstance(param_group, dict):
            raise TypeError("param group must be a dict, got {}".format(type(param_group).__name__))
        params = param_group["params"]
        if isinstance(params, Variable):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        index = len(self.param_groups)
        seen = set()
        for param in param_group["params"]:
            if not isinstance(param, Variable):
                raise TypeError("optimizer can only optimize Variables, but one of the params is "
                                + ember.typename(param))
            if not param.requires_grad:
                raise ValueError("optimizing a parameter that doesn't require gradients")
            if param.volatile:
                raise ValueError("can't optimize a volatile Variable (parameter of size {})".format(
                    list(param.size())))
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Variable")
            if id(param) in seen:
                raise ValueError("parameter of size {} appears twice in parameter group {}"
                                 .format(list(param.size()), index))
            seen.add(id(param))
        for other in self.param_groups:
            if any(id(p) in seen for p in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group " + str(index) + " didn't specify a value of required "
                                 "optimization parameter " + name)
            param_group.setdefault(name, default)
        self._check_group(param_group)
        self.param_groups.append(param_group)

    def _check_group(self, group):
        """Validate a group's hyper-parameters (each optimizer names its own)."""
        if "lr" in group and group["lr"] is not required:
            _check_non_negative("learning rate", group["lr"])
        if "weight_decay" in group:
            _check_non_negative("weight_decay value", group["weight_decay"])
        if "eps" in group:
            _check_non_negative("epsilon value", group["eps"])

    def state_dict(self):
        """The optimizer's state and options; parameters are referred to by position-independent ids."""
        def pack_group(group):
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [id(p) for p in group["params"]]
            return packed
        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(id(k) if isinstance(k, Variable) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Load a state_dict from ``state_dict()``; its state is re-mapped onto this optimizer's parameters
        by their order in the groups, and its float tensors moved to their parameter's device and type
        (an ember extra, as 0.3: a state saved on the GPU loads for CPU parameters and back)."""
        state_dict = deepcopy(state_dict)
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = {old_id: p for old_id, p in zip(chain(*(g["params"] for g in saved_groups)),
                                                 chain(*(g["params"] for g in groups)))}
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            param = id_map.get(k)
            if param is None:
                state[k] = v
            else:
                state[param] = {name: _to_device_of(value, param.data) for name, value in v.items()}
        param_groups = []
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            param_groups.append(new_group)
        self.__setstate__({"state": state, "param_groups": param_groups})

    def zero_grad(self):
        """Clear the gradients of every optimized Variable."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if p.grad.volatile:
                        p.grad.data.zero_()
                    else:  # a gradient that is part of a graph is replaced, not modified
                        data = p.grad.data
                        p.grad = Variable(data.new().resize_as_(data).zero_())

    def step(self, closure):
        """Perform one optimization step (``closure`` re-evaluates the model and returns the loss)."""
        raise NotImplementedError
