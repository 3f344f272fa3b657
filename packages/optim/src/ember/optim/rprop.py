from .optimizer import Optimizer


class Rprop(Optimizer):
    """Resilient backpropagation: per-element step sizes grown by etaplus while the gradient keeps its
    sign and shrunk by etaminus when it flips (no step on a flip)."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50)):
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes)
        super(Rprop, self).__init__(params, defaults)

    def _check_group(self, group):
        super(Rprop, self)._check_group(group)
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError("Invalid eta values: {}, {} (need 0 < etaminus < 1 < etaplus)".format(etaminus, etaplus))

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
                    state["prev"] = grad.new().resize_as_(grad).zero_()
                    state["step_size"] = grad.new().resize_as_(grad).fill_(group["lr"])
                etaminus, etaplus = group["etas"]
                step_size_min, step_size_max = group["step_sizes"]
                step_size = state["step_size"]
                state["step"] += 1
                sign = grad.mul(state["prev"]).sign()
                sign[sign.gt(0)] = etaplus
                sign[sign.lt(0)] = etaminus
                sign[sign.eq(0)] = 1
                step_size.mul_(sign).clamp_(step_size_min, step_size_max)
                grad = grad.clone()
                grad[sign.eq(etaminus)] = 0  # no step where the sign flipped
                p.data.addcmul_(-1, grad.sign(), step_size)
                state["prev"].copy_(grad)
        return loss
