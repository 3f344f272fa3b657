from ._common import evaluate, prepare, zeros_like


def adagrad(opfunc, x, config=None, state=None):
    """AdaGrad (Duchi et al., 2011): steps divided by the root of the summed squared gradients.

    config: ``learningRate`` (1e-3), ``learningRateDecay`` (0), ``weightDecay`` (0). state:
    ``evalCounter``, ``paramVariance``, ``paramStd``. Returns ``(x, f(x))``."""
    config, state = prepare("adagrad", config, state)
    lr = config.get("learningRate", 1e-3)
    lrd = config.get("learningRateDecay", 0)
    wd = config.get("weightDecay", 0)
    state.setdefault("evalCounter", 0)

    fx, dfdx = evaluate("adagrad", opfunc, x)
    if wd != 0:
        dfdx = dfdx.add(wd, x)
    clr = lr / (1 + state["evalCounter"] * lrd)
    if state.get("paramVariance") is None:
        state["paramVariance"] = zeros_like(dfdx)
    state["paramVariance"].addcmul_(1, dfdx, dfdx)
    state["paramStd"] = state["paramVariance"].sqrt().add_(1e-10)
    x.addcdiv_(-clr, dfdx, state["paramStd"])
    state["evalCounter"] += 1
    return x, fx
