from ._common import evaluate, prepare


def sgd(opfunc, x, config=None, state=None):
    """Stochastic gradient descent.

    config: ``learningRate`` (1e-3), ``learningRateDecay`` (0: the rate is lr / (1 + nevals * decay)),
    ``weightDecay`` (0) or ``weightDecays`` (a tensor of per-parameter decays), ``momentum`` (0),
    ``dampening`` (the momentum), ``nesterov`` (False; needs momentum > 0 and dampening 0),
    ``learningRates`` (a tensor of per-parameter rates). state: ``evalCounter``, ``dfdx`` (the momentum
    buffer). Returns ``(x, f(x) before the update)``."""
    config, state = prepare("sgd", config, state)
    lr = config.get("learningRate", 1e-3)
    lrd = config.get("learningRateDecay", 0)
    wd = config.get("weightDecay", 0)
    mom = config.get("momentum", 0)
    damp = config.get("dampening", mom)
    nesterov = config.get("nesterov", False)
    lrs = config.get("learningRates")
    wds = config.get("weightDecays")
    state.setdefault("evalCounter", 0)
    if nesterov and (mom <= 0 or damp != 0):
        raise ValueError("sgd: Nesterov momentum requires a momentum and zero dampening")
    if wd != 0 and wds is not None:
        raise ValueError("sgd: only one of weightDecay and weightDecays can be given")

    fx, dfdx = evaluate("sgd", opfunc, x)

    # weight decay, one for all or per parameter
    if wd != 0:
        dfdx = dfdx.add(wd, x)
    elif wds is not None:
        dfdx = dfdx.add(wds.view_as(x).mul(x))

    if mom != 0:
        if state.get("dfdx") is None:
            state["dfdx"] = dfdx.clone()
        else:
            state["dfdx"].mul_(mom).add_(1 - damp, dfdx)
        if nesterov:
            dfdx = dfdx.add(mom, state["dfdx"])
        else:
            dfdx = state["dfdx"]

    clr = lr / (1 + state["evalCounter"] * lrd)
    if lrs is not None:
        x.add_(-clr, lrs.view_as(x).mul(dfdx))
    else:
        x.add_(-clr, dfdx)
    state["evalCounter"] += 1
    return x, fx
