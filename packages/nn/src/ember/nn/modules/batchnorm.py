import ember
from ember.tensor import _fmt_size

from .module import Module
from ..parameter import Parameter
from .. import functional as F

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _BatchNorm(Module):
    _input_dims = ()  # the input ranks the layer accepts
    _input_desc = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
        super(_BatchNorm, self).__init__()
        self.num_features = num_features
        self.affine = affine
        self.eps = eps
        self.momentum = momentum
        if self.affine:
            self.weight = Parameter(ember.Tensor(num_features))
            self.bias = Parameter(ember.Tensor(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", ember.zeros(num_features))
        self.register_buffer("running_var", ember.ones(num_features))
        self.reset_parameters()

    def reset_parameters(self):
        self.running_mean.zero_()
        self.running_var.fill_(1)
        if self.affine:
            self.weight.data.uniform_()
            self.bias.data.zero_()

    def _check_input(self, input):
        """0.2 left these to THNN (which ran BatchNorm1d on 4D input, and failed on a wrong channel count
        with a size error from deep inside); the layer names itself and both sizes instead."""
        name = type(self).__name__
        size = input.size()
        if len(size) not in self._input_dims:
            raise ValueError("{}: expected {} input, got {}D input of size {}"
                             .format(name, self._input_desc, len(size), _fmt_size(size)))
        if size[1] != self.num_features:
            raise ValueError("{}: expected input with {} features (channels, dim 1), got input of size {}"
                             .format(name, self.num_features, _fmt_size(size)))

    def forward(self, input):
        self._check_input(input)
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps)

    def __repr__(self):
        return ("{name}({num_features}, eps={eps}, momentum={momentum}, affine={affine})"
                .format(name=self.__class__.__name__, **self.__dict__))


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a 2D (N x C) or 3D (N x C x L) input, per channel C:
    y = (x - mean) / sqrt(var + eps) * weight + bias, with the batch statistics in training mode (updating
    running_mean / running_var with ``momentum``) and the running statistics in evaluation mode."""
    _input_dims = (2, 3)
    _input_desc = "2D (N x C) or 3D (N x C x L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over a 4D (N x C x H x W) input, per channel (see BatchNorm1d)."""
    _input_dims = (4,)
    _input_desc = "4D (N x C x H x W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization over a 5D (N x C x D x H x W) input, per channel (see BatchNorm1d)."""
    _input_dims = (5,)
    _input_desc = "5D (N x C x D x H x W)"
