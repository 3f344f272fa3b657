"""Shared by the legacy.optim functions."""


def prepare(name, config, state):
    """``(config, state)`` with the Lua defaults: a missing config is an empty dict, a missing state is
    the config itself."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TypeError("{}: config must be a dict, got {}".format(name, type(config).__name__))
    if state is None:
        state = config
    elif not isinstance(state, dict):
        raise TypeError("{}: state must be a dict, got {}".format(name, type(state).__name__))
    return config, state


def evaluate(name, opfunc, x):
    """``opfunc(x)`` checked: ``(number, tensor of x's size)``."""
    result = opfunc(x)
    try:
        fx, dfdx = result
    except (TypeError, ValueError):
        raise TypeError("{}: opfunc must return (f(x), df/dx), got {!r}".format(name, result)) from None
    if dfdx.numel() != x.numel():
        raise ValueError("{}: opfunc returned a gradient of {} elements for x of {}"
                         .format(name, dfdx.numel(), x.numel()))
    return fx, dfdx.view_as(x) if dfdx.size() != x.size() else dfdx


def zeros_like(t):
    return t.new().resize_as_(t).zero_()
