import math

from ._common import evaluate, prepare, zeros_like


def adam(opfunc, x, config=None, state=None):
    """Adam (Kingma & Ba, 2014).

    config: ``learningRate`` (1e-3), ``learningRateDecay`` (0), ``beta1`` (0.9), ``beta2`` (0.999),
    ``epsilon`` (1e-8), ``weightDecay`` (0). state: ``t``, ``m``, ``v``, ``denom``. Returns
    ``(x, f(x))``."""
    config, state = prepare("adam", config, state)
    lr = config.get("learningRate", 1e-3)
    lrd = config.get("learningRateDecay", 0)
    beta1 = config.get("beta1", 0.9)
    beta2 = config.get("beta2", 0.999)
    eps = config.get("epsilon", 1e-8)
    wd = config.get("weightDecay", 0)

    fx, dfdx = evaluate("adam", opfunc, x)
    if wd != 0:
        dfdx = dfdx.add(wd, x)
    state.setdefault("t", 0)
    if state.get("m") is None:
        state["m"] = zeros_like(dfdx)
        state["v"] = zeros_like(dfdx)
    clr = lr / (1 + state["t"] * lrd)
    state["t"] += 1
    state["m"].mul_(beta1).add_(1 - beta1, dfdx)
    state["v"].mul_(beta2).addcmul_(1 - beta2, dfdx, dfdx)
    state["denom"] = state["v"].sqrt().add_(eps)
    bias1 = 1 - beta1 ** state["t"]
    bias2 = 1 - beta2 ** state["t"]
    x.addcdiv_(-clr * math.sqrt(bias2) / bias1, state["m"], state["denom"])
    return x, fx
