from ._common import evaluate, prepare


def lbfgs(opfunc, x, config=None, state=None):
    """Limited-memory BFGS (after Mark Schmidt's minFunc), up to ``maxIter`` iterations per call.

    config: ``maxIter`` (20), ``maxEval`` (maxIter * 1.25), ``tolFun`` (1e-5: stop when the summed
    absolute gradient is below it), ``tolX`` (1e-9: stop when the step or the change of f is below it),
    ``nCorrection`` (100: the history length), ``lineSearch`` (a function
    ``(opfunc, x, t, d, f, g, gtd, lineSearchOptions) -> (f, g, x, t, nEvals)``; without one, fixed steps of
    ``learningRate`` are taken), ``lineSearchOptions``, ``learningRate`` (1), ``verbose`` (False).
    state: ``funcEval``, ``nIter`` and the history (``old_dirs``, ``old_stps``, ``Hdiag``, ``d``, ``t``,
    ``g_old``, ``f_old``), so that a later call continues. Returns ``(x, f_hist, nEvals)``: the values of
    f along the way (``f_hist[0]`` before any step) and the number of evaluations of this call."""
    config, state = prepare("lbfgs", config, state)
    maxIter = config.get("maxIter", 20)
    maxEval = config.get("maxEval", maxIter * 1.25)
    tolFun = config.get("tolFun", 1e-5)
    tolX = config.get("tolX", 1e-9)
    nCorrection = config.get("nCorrection", 100)
    lineSearch = config.get("lineSearch")
    lineSearchOptions = config.get("lineSearchOptions")
    learningRate = config.get("learningRate", 1)
    verbose = print if config.get("verbose", False) else (lambda *a: None)
    state.setdefault("funcEval", 0)
    state.setdefault("nIter", 0)

    f, g = evaluate("lbfgs", opfunc, x)
    g = g.clone()
    f_hist = [f]
    currentFuncEval = 1
    state["funcEval"] += 1

    if g.abs().sum() <= tolFun:
        verbose("<optim.lbfgs> optimality condition below tolFun")
        return x, f_hist, currentFuncEval

    d = state.get("d")
    t = state.get("t")
    old_dirs = state.get("old_dirs")
    old_stps = state.get("old_stps")
    Hdiag = state.get("Hdiag")
    g_old = state.get("g_old")
    f_old = state.get("f_old")

    nIter = 0
    while nIter < maxIter:
        nIter += 1
        state["nIter"] += 1

        # the descent direction
        if state["nIter"] == 1:
            d = g.neg()
            old_dirs, old_stps = [], []
            Hdiag = 1
        else:
            y = g.add(-1, g_old)
            s = d.mul(t)
            ys = y.dot(s)
            if ys > 1e-10:
                if len(old_dirs) == nCorrection:
                    old_dirs.pop(0)
                    old_stps.pop(0)
                old_dirs.append(s)
                old_stps.append(y)
                Hdiag = ys / y.dot(y)
            # two-loop recursion: d = -H g
            k = len(old_dirs)
            ro = [1. / old_stps[i].dot(old_dirs[i]) for i in range(k)]
            al = [0.] * k
            q = g.neg()
            for i in range(k - 1, -1, -1):
                al[i] = old_dirs[i].dot(q) * ro[i]
                q.add_(-al[i], old_stps[i])
            d = q.mul(Hdiag)
            for i in range(k):
                be_i = old_stps[i].dot(d) * ro[i]
                d.add_(al[i] - be_i, old_dirs[i])
        g_old = g.clone()
        f_old = f

        # the step length
        gtd = g.dot(d)
        if state["nIter"] == 1:
            t = min(1., 1. / g.abs().sum()) * learningRate
        else:
            t = learningRate

        lsFuncEval = 0
        if lineSearch is not None:
            f, g, x, t, lsFuncEval = lineSearch(opfunc, x, t, d, f, g, gtd, lineSearchOptions)
            g = g.clone()
            f_hist.append(f)
        else:
            x.add_(t, d)
            if nIter != maxIter:
                # re-evaluate only when another iteration follows (stochastic use: no point otherwise)
                f, g = evaluate("lbfgs", opfunc, x)
                g = g.clone()
                lsFuncEval = 1
                f_hist.append(f)
        currentFuncEval += lsFuncEval
        state["funcEval"] += lsFuncEval

        # stopping conditions
        if nIter == maxIter:
            verbose("<optim.lbfgs> reached max number of iterations")
            break
        if currentFuncEval >= maxEval:
            verbose("<optim.lbfgs> max nb of function evals")
            break
        if g.abs().sum() <= tolFun:
            verbose("<optim.lbfgs> optimality condition below tolFun")
            break
        if gtd > -tolX:
            verbose("<optim.lbfgs> directional derivative below tolX")
            break
        if d.mul(t).abs().sum() <= tolX:
            verbose("<optim.lbfgs> step size below tolX")
            break
        if abs(f - f_old) < tolX:
            verbose("<optim.lbfgs> function value changing less than tolX")
            break

    state["old_dirs"] = old_dirs
    state["old_stps"] = old_stps
    state["Hdiag"] = Hdiag
    state["g_old"] = g_old
    state["f_old"] = f_old
    state["t"] = t
    state["d"] = d
    return x, f_hist, currentFuncEval
