from ._common import evaluate, prepare, zeros_like


def asgd(opfunc, x, config=None, state=None):
    """Averaged SGD (Polyak & Juditsky, 1992; Bottou's schedule).

    config: ``eta0`` (1e-4, the starting rate), ``lambda`` (1e-4, the decay), ``alpha`` (0.75, the power of
    the rate's decay), ``t0`` (1e6, the step from which averaging starts). state: ``eta_t``, ``mu_t``, ``t``,
    ``ax``. Returns ``(x, f(x), ax)``: ``ax`` is the averaged x."""
    config, state = prepare("asgd", config, state)
    eta0 = config.get("eta0", 1e-4)
    lam = config.get("lambda", 1e-4)
    alpha = config.get("alpha", 0.75)
    t0 = config.get("t0", 1e6)
    state.setdefault("eta_t", eta0)
    state.setdefault("mu_t", 1)
    state.setdefault("t", 0)

    fx, dfdx = evaluate("asgd", opfunc, x)
    x.mul_(1 - lam * state["eta_t"])
    x.add_(-state["eta_t"], dfdx)
    if state.get("ax") is None:
        state["ax"] = zeros_like(x)
    if state["mu_t"] != 1:
        state["ax"].add_(x.sub(state["ax"]).mul_(state["mu_t"]))
    else:
        state["ax"].copy_(x)
    state["t"] += 1
    state["eta_t"] = eta0 / (1 + lam * eta0 * state["t"]) ** alpha
    state["mu_t"] = 1. / max(1, state["t"] - t0)
    return x, fx, state["ax"]
