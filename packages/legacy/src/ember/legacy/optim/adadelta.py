from ._common import evaluate, prepare, zeros_like


def adadelta(opfunc, x, config=None, state=None):
    """ADADELTA (Zeiler, 2012).

    config: ``rho`` (0.9), ``eps`` (1e-6), ``weightDecay`` (0). state: ``evalCounter``,
    ``paramVariance``, ``paramStd``, ``delta``, ``accDelta``. Returns ``(x, f(x))``."""
    config, state = prepare("adadelta", config, state)
    rho = config.get("rho", 0.9)
    eps = config.get("eps", 1e-6)
    wd = config.get("weightDecay", 0)
    state.setdefault("evalCounter", 0)

    fx, dfdx = evaluate("adadelta", opfunc, x)
    if wd != 0:
        dfdx = dfdx.add(wd, x)
    if state.get("paramVariance") is None:
        state["paramVariance"] = zeros_like(dfdx)
        state["accDelta"] = zeros_like(dfdx)
    state["paramVariance"].mul_(rho).addcmul_(1 - rho, dfdx, dfdx)
    state["paramStd"] = state["paramVariance"].add(eps).sqrt_()
    state["delta"] = state["accDelta"].add(eps).sqrt_().div_(state["paramStd"]).mul_(dfdx)
    x.add_(-1, state["delta"])
    state["accDelta"].mul_(rho).addcmul_(1 - rho, state["delta"], state["delta"])
    state["evalCounter"] += 1
    return x, fx
