from ._common import evaluate, prepare, zeros_like


def rprop(opfunc, x, config=None, state=None):
    """Resilient backpropagation (Riedmiller & Braun, 1993): per-parameter step sizes grow by ``etaplus``
    while the gradient keeps its sign and shrink by ``etaminus`` when it flips; only the sign of the
    gradient is used.

    config: ``stepsize`` (0.1), ``etaplus`` (1.2), ``etaminus`` (0.5), ``stepsizemax`` (50),
    ``stepsizemin`` (1e-6), ``niter`` (1: steps per call). state: ``delta`` (the previous gradient),
    ``stepsize``. Returns ``(x, [f(x) before each step])``."""
    config, state = prepare("rprop", config, state)
    stepsize = config.get("stepsize", 0.1)
    etaplus = config.get("etaplus", 1.2)
    etaminus = config.get("etaminus", 0.5)
    stepsizemax = config.get("stepsizemax", 50.0)
    stepsizemin = config.get("stepsizemin", 1e-6)
    niter = config.get("niter", 1)

    hfx = []
    for _ in range(niter):
        fx, dfdx = evaluate("rprop", opfunc, x)
        hfx.append(fx)
        if state.get("delta") is None:
            state["delta"] = zeros_like(dfdx)
            state["stepsize"] = dfdx.new().resize_as_(dfdx).fill_(stepsize)
        sign = dfdx.mul(state["delta"]).sign_()
        factor = sign.clone().fill_(1)
        factor.masked_fill_(sign.gt(0), etaplus)
        factor.masked_fill_(sign.lt(0), etaminus)
        state["stepsize"].mul_(factor).clamp_(stepsizemin, stepsizemax)
        # where the sign flipped, take no step and forget the gradient
        dfdx = dfdx.clone().masked_fill_(sign.lt(0), 0)
        x.addcmul_(-1, dfdx.sign(), state["stepsize"])
        state["delta"].copy_(dfdx)
    return x, hfx
