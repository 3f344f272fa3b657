"""Pooling and unpooling (PyTorch 0.2's nn.functional pooling functions) and their autograd Functions.

Every pooling is one of two kinds, and so are the Functions:
- linear maps (average and adaptive average pooling): ``LinearMap`` runs a kernel and, backward, its
  adjoint kernel -- through ``LinearMap`` again, so the gradient is differentiable any number of times;
- picks (max, adaptive max and fractional max pooling): ``MaxPoolNd`` returns the maxima and their
  indices (flat within each input plane, as 0.2 returned them); its gradient scatters grad_output into the
  input through the indices (``IndexScatter``), whose adjoint is a gather at the indices (``IndexGather``),
  and the other way round. Max unpooling is a scatter by given indices with a gather as its gradient.
lp_pool2d is a composite of Variable ops, as in 0.2.
"""
import functools

from ember import kernels as K
from ember.autograd import Function, Variable

__all__ = ["avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d", "max_pool2d", "max_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d"]

# index-based gradients, per number of spatial dims: scatter-add into the input planes / gather from them
_SCATTER = {1: K.max_pool1d_backward, 2: K.max_pool2d_backward, 3: K.max_pool3d_backward}
_GATHER = {1: K.max_unpool1d_backward, 2: K.max_unpool2d_backward, 3: K.max_unpool3d_backward}
_UNPOOL = {1: K.max_unpool1d_forward, 2: K.max_unpool2d_forward, 3: K.max_unpool3d_forward}


class LinearMap(Function):
    """output = forward(input) for a linear kernel ``forward`` whose adjoint kernel is ``adjoint`` (both
    one-tensor callables). The backward applies the adjoint through this same Function, so its result can
    be differentiated again (the adjoint's adjoint is ``forward``)."""

    @staticmethod
    def forward(ctx, input, forward, adjoint):
        ctx.maps = (forward, adjoint)
        return forward(input)

    @staticmethod
    def backward(ctx, grad_output):
        forward, adjoint = ctx.maps
        if grad_output.volatile:
            return adjoint(grad_output.data), None, None
        return LinearMap.apply(grad_output, adjoint, forward), None, None


class IndexScatter(Function):
    """grad_input of a max-type pooling: grad_output added into a zero input of ``input_size`` at
    ``indices`` (flat within each plane of the last ``nd`` dims)."""

    @staticmethod
    def forward(ctx, grad_output, indices, input_size, nd):
        ctx.indices, ctx.nd = indices, nd
        return _SCATTER[nd](grad_output, input_size, indices)

    @staticmethod
    def backward(ctx, grad):
        if grad.volatile:
            return _GATHER[ctx.nd](grad.data, ctx.indices), None, None, None
        return IndexGather.apply(grad, ctx.indices, ctx.nd), None, None, None


class IndexGather(Function):
    """input read at ``indices`` (flat within each plane of its last ``nd`` dims): the adjoint of
    IndexScatter, and the gradient of max unpooling."""

    @staticmethod
    def forward(ctx, input, indices, nd):
        ctx.indices, ctx.nd, ctx.input_size = indices, nd, input._a.shape
        return _GATHER[nd](input, indices)

    @staticmethod
    def backward(ctx, grad):
        if grad.volatile:
            return _SCATTER[ctx.nd](grad.data, ctx.input_size, ctx.indices), None, None
        return IndexScatter.apply(grad, ctx.indices, ctx.input_size, ctx.nd), None, None


class MaxPoolNd(Function):
    """(output, indices) = kernel(input) for a pooling that picks one input element per output (max,
    adaptive max, fractional max pooling over the last ``nd`` dims); indices are not differentiable."""

    @staticmethod
    def forward(ctx, input, kernel, nd):
        output, indices = kernel(input)
        ctx.mark_non_differentiable(indices)
        ctx.indices, ctx.nd, ctx.input_size = indices, nd, input._a.shape
        return output, indices

    @staticmethod
    def backward(ctx, grad_output, grad_indices):
        if grad_output.volatile:
            return _SCATTER[ctx.nd](grad_output.data, ctx.input_size, ctx.indices), None, None
        return IndexScatter.apply(grad_output, ctx.indices, ctx.input_size, ctx.nd), None, None


class MaxUnpoolNd(Function):
    """input placed at ``indices`` of zero planes of ``output_size`` (the last ``nd`` dims)."""

    @staticmethod
    def forward(ctx, input, indices, output_size, nd):
        ctx.indices, ctx.nd = indices, nd
        return _UNPOOL[nd](input, indices, output_size)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.volatile:
            return _GATHER[ctx.nd](grad_output.data, ctx.indices), None, None, None
        return IndexGather.apply(grad_output, ctx.indices, ctx.nd), None, None, None


# ------------------------------------------------------------------------------------------- helpers
def _ntuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _need_dim(input, dim):
    # 0.2's text for a wrong rank (its 1-D poolings ran the 2-D kernels on an unsqueezed input)
    if input.dim() != dim:
        raise ValueError("expected {}D input (got {} dimensions)".format(dim, input.dim()))


def _picked(kernel, nd, input, return_indices):
    output, indices = MaxPoolNd.apply(input, kernel, nd)
    return (output, indices) if return_indices else output


def _avg_pool(forward, backward, input, kernel_size, stride, padding, ceil_mode, count_include_pad):
    size = input.size()
    fwd = functools.partial(forward, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                            count_include_pad=count_include_pad)

    def adjoint(grad_output):
        return backward(grad_output, size, kernel_size, stride, padding, ceil_mode, count_include_pad)
    return LinearMap.apply(input, fwd, adjoint)


# ------------------------------------------------------------------------------------------- max pooling
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling of (N, C, L); with ``return_indices`` also the position of each maximum."""
    _need_dim(input, 3)
    kernel = functools.partial(K.max_pool1d_forward, kernel_size=kernel_size, stride=stride, padding=padding,
                               dilation=dilation, ceil_mode=ceil_mode)
    return _picked(kernel, 1, input, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W): stride defaults to kernel_size, padding is -inf,
    dilation spaces the window, ceil_mode rounds the output size up. Indices are flat within each plane."""
    kernel = functools.partial(K.max_pool2d_forward, kernel_size=kernel_size, stride=stride, padding=padding,
                               dilation=dilation, ceil_mode=ceil_mode)
    return _picked(kernel, 2, input, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W) (see max_pool2d)."""
    kernel = functools.partial(K.max_pool3d_forward, kernel_size=kernel_size, stride=stride, padding=padding,
                               dilation=dilation, ceil_mode=ceil_mode)
    return _picked(kernel, 3, input, return_indices)


# ------------------------------------------------------------------------------------------- unpooling
def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    kernel_size = _ntuple(kernel_size, nd)
    stride = kernel_size if stride is None else _ntuple(stride, nd)
    size = K.unpool_output_size(tuple(input.size()), kernel_size, stride, _ntuple(padding, nd), output_size)
    return MaxUnpoolNd.apply(input, indices, tuple(size), nd)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: input (N, C, L) placed at ``indices`` of zeros of length
    (L - 1) stride + kernel_size - 2 padding, or ``output_size`` (within a stride of that)."""
    _need_dim(input, 3)
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d on (N, C, H, W) (see max_unpool1d)."""
    _need_dim(input, 4)
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d on (N, C, D, H, W) (see max_unpool1d)."""
    _need_dim(input, 5)
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


# ------------------------------------------------------------------------------------------- average pooling
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling of (N, C, L); count_include_pad counts the zero padding in each average."""
    _need_dim(input, 3)
    return _avg_pool(K.avg_pool1d_forward, K.avg_pool1d_backward, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """2-D average pooling of (N, C, H, W) or (C, H, W) (see avg_pool1d)."""
    return _avg_pool(K.avg_pool2d_forward, K.avg_pool2d_backward, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """3-D average pooling of (N, C, D, H, W) or (C, D, H, W). 0.2 took kernel_size and stride only;
    padding, ceil_mode and count_include_pad are ember extras (as in avg_pool2d)."""
    return _avg_pool(K.avg_pool3d_forward, K.avg_pool3d_backward, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over each window of x ** norm_type) ** (1 / norm_type)."""
    kw, kh = _ntuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return out.mul(kw * kh).pow(1. / norm_type)


# ------------------------------------------------------------------------------------------- adaptive pooling
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) to ``output_size`` points: output i covers [floor(i L / out), ceil((i+1) L / out))."""
    if input.dim() != 3:
        raise ValueError("expected 3D input (got {}D input)".format(input.dim()))
    kernel = functools.partial(K.adaptive_max_pool1d_forward, output_size=output_size)
    return _picked(kernel, 1, input, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (oH, oW), or oH x oH for an int."""
    kernel = functools.partial(K.adaptive_max_pool2d_forward, output_size=output_size)
    return _picked(kernel, 2, input, return_indices)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to ``output_size`` points (windows as adaptive_max_pool1d)."""
    if input.dim() != 3:
        raise ValueError("expected 3D input (got {}D input)".format(input.dim()))
    size = input.size()
    return LinearMap.apply(input, functools.partial(K.adaptive_avg_pool1d_forward, output_size=output_size),
                           lambda g: K.adaptive_avg_pool1d_backward(g, size))


def adaptive_avg_pool2d(input, output_size):
    """Average pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (oH, oW), or oH x oH for an int."""
    size = input.size()
    return LinearMap.apply(input, functools.partial(K.adaptive_avg_pool2d_forward, output_size=output_size),
                           lambda g: K.adaptive_avg_pool2d_backward(g, size))


def _fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                           _random_samples=None):
    """nn.FractionalMaxPool2d's function (0.2 had no functional form)."""
    if isinstance(_random_samples, Variable):
        _random_samples = _random_samples.data
    kernel = functools.partial(K.fractional_max_pool2d_forward, kernel_size=kernel_size, output_size=output_size,
                               output_ratio=output_ratio, random_samples=_random_samples)
    return _picked(kernel, 2, input, return_indices)
