from ._common import evaluate, prepare


def rmsprop(opfunc, x, config=None, state=None):
    """RMSprop (Tieleman & Hinton, 2012).

    config: ``learningRate`` (1e-2), ``alpha`` (0.99, the smoothing), ``epsilon`` (1e-8), ``weightDecay``
    (0), ``initialMean`` (0, the starting mean square). state: ``m``, ``tmp``. Returns ``(x, f(x))``."""
    config, state = prepare("rmsprop", config, state)
    lr = config.get("learningRate", 1e-2)
    alpha = config.get("alpha", 0.99)
    eps = config.get("epsilon", 1e-8)
    wd = config.get("weightDecay", 0)
    mfill = config.get("initialMean", 0)

    fx, dfdx = evaluate("rmsprop", opfunc, x)
    if wd != 0:
        dfdx = dfdx.add(wd, x)
    if state.get("m") is None:
        state["m"] = dfdx.new().resize_as_(dfdx).fill_(mfill)
    state["m"].mul_(alpha).addcmul_(1.0 - alpha, dfdx, dfdx)
    state["tmp"] = state["m"].sqrt().add_(eps)
    x.addcdiv_(-lr, dfdx, state["tmp"])
    return x, fx
