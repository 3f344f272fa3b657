from ember.autograd import Variable


def clip_grad_norm(parameters, max_norm, norm_type=2):
    """Clips the gradient norm of an iterable of parameters (or one Variable, an ember extra).

    The norm is computed over all gradients together, as if they were concatenated into a single vector;
    ``norm_type`` may be ``float('inf')`` (the largest absolute value). When the norm exceeds
    ``max_norm`` the gradients are scaled in place by max_norm / (norm + 1e-6).
    Returns the total norm of the gradients before clipping, as a float."""
    if isinstance(parameters, Variable):
        parameters = [parameters]
    parameters = [p for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if norm_type == float("inf"):
        total_norm = max([p.grad.data.abs().max() for p in parameters], default=0.0)
    else:
        total_norm = 0.0
        for p in parameters:
            total_norm += p.grad.data.norm(norm_type) ** norm_type
        total_norm = total_norm ** (1. / norm_type)
    total_norm = float(total_norm)
    clip_coef = max_norm / (total_norm + 1e-6)
    if clip_coef < 1:
        for p in parameters:
            p.grad.data.mul_(clip_coef)
    return total_norm
