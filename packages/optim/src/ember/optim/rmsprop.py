from .optimizer import Optimizer, _check_non_negative


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay)
        super(RMSprop, self).__init__(params, defaults)

    def _check_group(self, group):
        super(RMSprop, self)._check_group(group)
        _check_non_negative("momentum value", group["momentum"])
        _check_non_negative("alpha value", group["alpha"])

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
                    state["square_avg"] = grad.new().resize_as_(grad).zero_()
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = grad.new().resize_as_(grad).zero_()
                    if group["centered"]:
                        state["grad_avg"] = grad.new().resize_as_(grad).zero_()
                square_avg = state["square_avg"]
                alpha = group["alpha"]
                state["step"] += 1
                if group["weight_decay"] != 0:
                    grad = grad.add(group["weight_decay"], p.data)
                square_avg.mul_(alpha).addcmul_(1 - alpha, grad, grad)
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg.mul_(alpha).add_(1 - alpha, grad)
                    avg = square_avg.addcmul(-1, grad_avg, grad_avg).sqrt().add_(group["eps"])
                else:
                    avg = square_avg.sqrt().add_(group["eps"])
                if group["momentum"] > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(group["momentum"]).addcdiv_(grad, avg)
                    p.data.add_(-group["lr"], buf)
                else:
                    p.data.addcdiv_(-group["lr"], grad, avg)
        return loss
