"""How CMul and CAdd apply a parameter tensor to an input (Lua nn's rules)."""


def param_view(input, param, name):
    """``(x, p)``: ``input`` and ``param`` viewed so that ``x op p`` broadcasts as Lua's nn does: elementwise
    when they have as many elements, over size-1 dimensions when they have as many dimensions, else over
    a leading batch dimension (``x`` as batch x rest, ``p`` as 1 x rest)."""
    x = input.contiguous()
    if param.numel() == x.numel():
        return x.view(-1), param.contiguous().view(-1)
    if param.dim() == x.dim():
        for n, m in zip(param.size(), x.size()):
            if n != m and n != 1:
                raise ValueError("{}: parameter of size {} can't broadcast to an input of size {}"
                                 .format(name, list(param.size()), list(x.size())))
        return x, param.expand_as(x)
    batch = x.size(0)
    if x.numel() != batch * param.numel():
        raise ValueError("{}: parameter of size {} doesn't match an input of size {} (per sample or batched)"
                         .format(name, list(param.size()), list(x.size())))
    x = x.view(batch, -1)
    return x, param.contiguous().view(1, -1).expand_as(x)


def param_grad(grad, param):
    """``grad`` (the output's shape) summed down to ``param``'s shape, the reverse of :func:`param_view`."""
    if param.numel() == grad.numel():
        return grad.contiguous().view_as(param)
    if param.dim() == grad.dim():
        for d, n in enumerate(param.size()):
            if n == 1 and grad.size(d) != 1:
                grad = grad.sum(d, keepdim=True)
        return grad
    return grad.contiguous().view(grad.size(0), -1).sum(0).view_as(param)
