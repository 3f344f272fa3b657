from ._common import evaluate, prepare, zeros_like


def adamax(opfunc, x, config=None, state=None):
    """AdaMax (Kingma & Ba, 2014): Adam with the infinity norm.

    config: ``learningRate`` (2e-3), ``beta1`` (0.9), ``beta2`` (0.999), ``epsilon`` (1e-38),
    ``weightDecay`` (0). state: ``t``, ``m``, ``u``. Returns ``(x, f(x))``."""
    config, state = prepare("adamax", config, state)
    lr = config.get("learningRate", 0.002)
    beta1 = config.get("beta1", 0.9)
    beta2 = config.get("beta2", 0.999)
    eps = config.get("epsilon", 1e-38)
    wd = config.get("weightDecay", 0)

    fx, dfdx = evaluate("adamax", opfunc, x)
    if wd != 0:
        dfdx = dfdx.add(wd, x)
    state.setdefault("t", 0)
    if state.get("m") is None:
        state["m"] = zeros_like(dfdx)
        state["u"] = zeros_like(dfdx)
    state["t"] += 1
    state["m"].mul_(beta1).add_(1 - beta1, dfdx)
    state["u"] = state["u"].mul(beta2).max(dfdx.abs().add_(eps))
    x.addcdiv_(-lr / (1 - beta1 ** state["t"]), state["m"], state["u"])
    return x, fx
