from ._common import evaluate, prepare


def nag(opfunc, x, config=None, state=None):
    """Nesterov's accelerated gradient (Sutskever et al., 2013): x first moves along the momentum, the
    gradient is taken there.

    config: ``learningRate`` (1e-3), ``learningRateDecay`` (0), ``weightDecay`` (0), ``momentum`` (0.9,
    must be positive), ``dampening`` (accepted, unused as in Lua), ``learningRates`` (per-parameter
    rates). state: ``evalCounter``, ``dfdx`` (the velocity). Returns ``(x, f(x))``."""
    config, state = prepare("nag", config, state)
    lr = config.get("learningRate", 1e-3)
    lrd = config.get("learningRateDecay", 0)
    wd = config.get("weightDecay", 0)
    mom = config.get("momentum", 0.9)
    lrs = config.get("learningRates")
    state.setdefault("evalCounter", 0)
    if mom <= 0:
        raise ValueError("nag: momentum must be positive for Nesterov accelerated gradient, got {}".format(mom))

    velocity = state.get("dfdx")
    if velocity is not None:
        x.add_(mom, velocity)
    fx, dfdx = evaluate("nag", opfunc, x)
    if wd != 0:
        dfdx = dfdx.add(wd, x)
    clr = lr / (1 + state["evalCounter"] * lrd)
    if velocity is None:
        velocity = state["dfdx"] = dfdx.new().resize_as_(dfdx).zero_()
    else:
        velocity.mul_(mom)
    step = lrs.view_as(x).mul(dfdx) if lrs is not None else dfdx
    x.add_(-clr, step)
    velocity.add_(-clr, step)
    state["evalCounter"] += 1
    return x, fx
