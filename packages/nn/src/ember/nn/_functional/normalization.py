"""Batch normalization and cross-channel LRN: their autograd Functions and F.batch_norm.

The forward and the plain backward run the ember.kernels (batch_norm_*, cross_map_lrn_*). BatchNorm's
backward, when asked for a graph (``create_graph=True``), is written with differentiable Variable ops
instead, so it has a second derivative (0.2 had double backward for batch norm too).
"""
from ember import kernels as K
from ember.autograd import Function, Variable, once_differentiable
from ember.tensor import _TensorBase, _fmt_size, _typename_of

__all__ = ["batch_norm"]


def _tensor(t, op, name):
    """Running statistics are plain tensors in 0.2; a Variable's data is accepted too."""
    if isinstance(t, Variable):
        return t.data
    if t is None or isinstance(t, _TensorBase):
        return t
    raise TypeError("{}: expected {} to be a tensor or None, got {}".format(op, name, _typename_of(t)))


class BatchNorm(Function):

    @staticmethod
    def forward(ctx, input, weight, bias, running_mean, running_var, training, momentum, eps):
        output, ctx.save_mean, ctx.save_invstd = K.batch_norm_forward(
            input, weight, bias, running_mean, running_var, training, momentum, eps)
        ctx.training = training
        ctx.eps = eps
        ctx.save_for_backward(input, weight)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_variables
        needs = ctx.needs_input_grad
        if grad_output.volatile:  # a plain backward pass: the kernel
            gi, gw, gb = K.batch_norm_backward(
                grad_output.data, input.data, None if weight is None else weight.data, ctx.save_mean,
                ctx.save_invstd, ctx.training, eps=ctx.eps, output_mask=needs[:3])
        else:
            gi, gw, gb = _batch_norm_backward_graph(ctx, grad_output, input, weight)
        return gi, gw, gb, None, None, None, None, None


def _batch_norm_backward_graph(ctx, grad_output, input, weight):
    """Batch norm's gradients as Variable ops (differentiable again). When training, the statistics
    are recomputed from ``input`` so that their dependence on it is part of the graph."""
    shape = input.size()
    N, C = shape[0], shape[1]
    x = input.contiguous().view(N, C, -1)
    g = grad_output.contiguous().view(N, C, -1)
    M = x.size(0) * x.size(2)

    def per_channel(v):  # (N, C, L) -> (C,)
        return v.sum(2).sum(0)

    def spread(v):  # (C,) -> broadcastable against (N, C, L)
        return v.view(1, C, 1)

    if ctx.training:
        mean = per_channel(x) / M
        xc = x - spread(mean)
        invstd = (per_channel(xc * xc) / M + ctx.eps).pow(-0.5)
    else:  # the running statistics are constants
        xc = x - spread(Variable(ctx.save_mean))
        invstd = Variable(ctx.save_invstd)
    xhat = xc * spread(invstd)
    gsum = per_channel(g)
    gxsum = per_channel(g * xhat)
    factor = spread(invstd if weight is None else invstd * weight)
    if ctx.training:
        gi = factor * (g - spread(gsum) / M - xhat * spread(gxsum) / M)
    else:
        gi = factor * g
    gi = gi.view(*shape)
    if weight is None:
        return gi, None, None
    return gi, gxsum, gsum


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) of ``input``: with the batch statistics when ``training`` (and update
    running_mean / running_var in place), else with the running statistics."""
    running_mean = _tensor(running_mean, "batch_norm", "running_mean")
    running_var = _tensor(running_var, "batch_norm", "running_var")
    return BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training), momentum, eps)


class CrossMapLRN2d(Function):
    """nn.CrossMapLRN2d's Function (0.2 had no functional form)."""

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        if input.dim() != 4:
            raise ValueError("CrossMapLRN2d: expected a 4D input (N x C x H x W), got a {}D input of size {}"
                             .format(input.dim(), _fmt_size(input.size())))
        output, ctx.scale = K.cross_map_lrn_forward(input, size, alpha, beta, k)
        ctx.size, ctx.alpha, ctx.beta = size, alpha, beta
        ctx.save_for_backward(input, output)
        return output

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        input, output = ctx.saved_tensors
        grad_input = K.cross_map_lrn_backward(grad_output, input, output, ctx.scale, ctx.size, ctx.alpha,
                                              ctx.beta)
        return grad_input, None, None, None, None
