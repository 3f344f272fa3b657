import math

from .optimizer import Optimizer, _check_non_negative


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky); the average is in ``state[p]['ax']``."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay)
        super(ASGD, self).__init__(params, defaults)

    def _check_group(self, group):
        super(ASGD, self)._check_group(group)
        _check_non_negative("lambd value", group["lambd"])

    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["eta"] = group["lr"]
                    state["mu"] = 1
                    state["ax"] = grad.new().resize_as_(grad).zero_()
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad.add(group["weight_decay"], p.data)
                p.data.mul_(1 - group["lambd"] * state["eta"])  # decay term
                p.data.add_(-state["eta"], grad)
                if state["mu"] != 1:
                    state["ax"].add_(p.data.sub(state["ax"]).mul(state["mu"]))
                else:
                    state["ax"].copy_(p.data)
                state["eta"] = group["lr"] / math.pow(1 + group["lambd"] * group["lr"] * state["step"],
                                                      group["alpha"])
                state["mu"] = 1 / max(1, state["step"] - group["t0"])
        return loss
