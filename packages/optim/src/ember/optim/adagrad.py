from .optimizer import Optimizer, _check_non_negative


class Adagrad(Optimizer):
    """Adagrad: per-element step sizes from the running sum of squared gradients."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay)
        super(Adagrad, self).__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = 0
                state["sum"] = p.data.new().resize_as_(p.data).zero_()

    def _check_group(self, group):
        super(Adagrad, self)._check_group(group)
        _check_non_negative("lr_decay value", group["lr_decay"])

    def share_memory(self):
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

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
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad.add(group["weight_decay"], p.data)
                clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
                state["sum"].addcmul_(1, grad, grad)
                std = state["sum"].sqrt().add_(1e-10)
                p.data.addcdiv_(-clr, grad, std)
        return loss
