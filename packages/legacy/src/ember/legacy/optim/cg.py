import math

from ._common import evaluate, prepare


def _sqrt(v):
    return math.sqrt(v) if v >= 0 else float("nan")


def _bad(v):
    return v != v or math.isinf(v)


def cg(opfunc, x, config=None, state=None):
    """Nonlinear conjugate gradient (Polak-Ribiere) with Carl Rasmussen's line search (``minimize.m``):
    cubic interpolation and extrapolation under the Wolfe-Powell conditions.

    config: ``rho`` (0.01) and ``sig`` (0.5): the Wolfe-Powell constants, ``int`` (0.1: don't re-evaluate
    within 0.1 of the current bracket), ``ext`` (3.0: extrapolate at most 3 times the current step),
    ``maxIter`` (20: line-search evaluations per line), ``ratio`` (100: the largest slope ratio),
    ``maxEval`` (maxIter * 1.25: evaluations per call). Returns ``(x, f_hist, nEvals)``: the value of f
    after each successful line search (``f_hist[0]`` at the start) and the number of evaluations."""
    config, state = prepare("cg", config, state)
    rho = config.get("rho", 0.01)
    sig = config.get("sig", 0.5)
    INT = config.get("int", 0.1)
    ext = config.get("ext", 3.0)
    maxIter = config.get("maxIter", 20)
    ratio = config.get("ratio", 100)
    maxEval = config.get("maxEval", maxIter * 1.25)
    red = 1

    i = 0
    ls_failed = False
    fx = []

    f1, df1 = evaluate("cg", opfunc, x)
    df1 = df1.clone()
    fx.append(f1)
    i += 1
    s = df1.neg()                 # the search direction
    d1 = -s.dot(s)                # the slope
    z1 = red / (1 - d1)           # the initial step

    while i < abs(maxEval):
        x0 = x.clone()
        f0 = f1
        df0 = df1.clone()

        x.add_(z1, s)
        f2, df2 = evaluate("cg", opfunc, x)
        df2 = df2.clone()
        i += 1
        d2 = df2.dot(s)
        f3, d3, z3 = f1, d1, -z1   # point 3 starts as point 1
        m = min(maxIter, maxEval - i)
        success = False
        limit = -1

        while True:
            while (f2 > f1 + z1 * rho * d1 or d2 > -sig * d1) and m > 0:
                limit = z1
                if f2 > f1:
                    z2 = z3 - (0.5 * d3 * z3 * z3) / (d3 * z3 + f2 - f3)    # quadratic fit
                else:
                    A = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)                  # cubic fit
                    B = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
                    z2 = (_sqrt(B * B - A * d2 * z3 * z3) - B) / A if A != 0 else float("nan")
                if _bad(z2):
                    z2 = z3 / 2
                z2 = max(min(z2, INT * z3), (1 - INT) * z3)
                z1 += z2
                x.add_(z2, s)
                f2, df2 = evaluate("cg", opfunc, x)
                df2 = df2.clone()
                i += 1
                m -= 1
                d2 = df2.dot(s)
                z3 -= z2

            if f2 > f1 + z1 * rho * d1 or d2 > -sig * d1:
                break               # a failure
            elif d2 > sig * d1:
                success = True
                break
            elif m == 0:
                break

            # extrapolate with a cubic
            A = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)
            B = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
            denom = B + _sqrt(B * B - A * d2 * z3 * z3)
            z2 = -d2 * z3 * z3 / denom if denom != 0 else float("nan")
            if _bad(z2) or z2 < 0:
                z2 = z1 * (ext - 1) if limit < -0.5 else (limit - z1) / 2
            elif limit > -0.5 and z2 + z1 > limit:
                z2 = (limit - z1) / 2
            elif limit < -0.5 and z2 + z1 > z1 * ext:
                z2 = z1 * (ext - 1)
            elif z2 < -z3 * INT:
                z2 = -z3 * INT
            elif limit > -0.5 and z2 < (limit - z1) * (1 - INT):
                z2 = (limit - z1) * (1 - INT)
            f3, d3, z3 = f2, d2, -z2
            z1 += z2
            x.add_(z2, s)
            f2, df2 = evaluate("cg", opfunc, x)
            df2 = df2.clone()
            i += 1
            m -= 1
            d2 = df2.dot(s)

        if success:
            f1 = f2
            fx.append(f1)
            # Polak-Ribiere direction
            ss = (df2.dot(df2) - df2.dot(df1)) / df1.dot(df1)
            s.mul_(ss).add_(-1, df2)
            df1, df2 = df2, df1
            d2 = df1.dot(s)
            if d2 > 0:              # not a descent direction: steepest descent
                s = df1.neg()
                d2 = -s.dot(s)
            z1 = z1 * min(ratio, d1 / (d2 - 1e-320))
            d1 = d2
            ls_failed = False
        else:
            x.copy_(x0)
            f1 = f0
            df1 = df0
            if ls_failed or i > maxEval:
                break               # two failures in a row, or out of evaluations
            df1, df2 = df2, df1
            s = df1.neg()
            d1 = -s.dot(s)
            z1 = 1 / (1 - d1)
            ls_failed = True

    state["s"] = s
    return x, fx, i
