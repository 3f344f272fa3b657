from ember.kernels import optim as _fused

from .optimizer import Optimizer, _check_non_negative, required


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (Nesterov's or the heavy ball).

    0.2's update, with buffer v: v = momentum * v + (1 - dampening) * g;  p = p - lr * v
    (Nesterov: p = p - lr * (g + momentum * v)). Weight decay is added to the gradient in place, as 0.2 did.
    """

    def __init__(self, params, lr=required, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super(SGD, self).__init__(params, defaults)

    def _check_group(self, group):
        super(SGD, self)._check_group(group)
        _check_non_negative("momentum value", group["momentum"])

    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.data
                if _fused.fusable(p.data, d_p):
                    self._fused_step(p, d_p, group)
                    continue
                if weight_decay != 0:
                    d_p.add_(weight_decay, p.data)
                if momentum != 0:
                    param_state = self.state[p]
                    if "momentum_buffer" not in param_state:
                        buf = param_state["momentum_buffer"] = d_p.clone()
                    else:
                        buf = param_state["momentum_buffer"]
                        buf.mul_(momentum).add_(1 - dampening, d_p)
                    if nesterov:
                        d_p = d_p.add(momentum, buf)
                    else:
                        d_p = buf
                p.data.add_(-group["lr"], d_p)
        return loss

    def _fused_step(self, p, d_p, group):
        """The same update in one pass (dense float CPU parameters)."""
        momentum = group["momentum"]
        buf, first = None, False
        if momentum != 0:
            param_state = self.state[p]
            buf = param_state.get("momentum_buffer")
            if buf is None:
                buf = param_state["momentum_buffer"] = d_p.new().resize_as_(d_p)
                first = True
        _fused.sgd_step(p.data, d_p, buf, group["lr"], momentum, group["dampening"], group["weight_decay"],
                        group["nesterov"], first)
