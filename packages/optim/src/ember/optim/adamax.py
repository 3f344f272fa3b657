import ember

from .optimizer import Optimizer, _check_betas


class Adamax(Optimizer):
    """Adamax, the infinity-norm variant of Adam."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super(Adamax, self).__init__(params, defaults)

    def _check_group(self, group):
        super(Adamax, self)._check_group(group)
        _check_betas(group["betas"])

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
                    state["exp_avg"] = grad.new().resize_as_(grad).zero_()
                    state["exp_inf"] = grad.new().resize_as_(grad).zero_()
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                beta1, beta2 = group["betas"]
                eps = group["eps"]
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad.add(group["weight_decay"], p.data)
                exp_avg.mul_(beta1).add_(1 - beta1, grad)
                # exp_inf = max(beta2 * exp_inf, |g| + eps), elementwise
                exp_inf.mul_(beta2)
                ember.max(exp_inf, grad.abs().add_(eps), out=exp_inf)
                bias_correction = 1 - beta1 ** state["step"]
                clr = group["lr"] / bias_correction
                p.data.addcdiv_(-clr, exp_avg, exp_inf)
        return loss
