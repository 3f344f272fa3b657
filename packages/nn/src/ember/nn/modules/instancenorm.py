from .batchnorm import _BatchNorm
from .. import functional as F

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_BatchNorm):
    """0.2's instance norm: batch norm over a (1, N*C, ...) view of the input, so each sample's channel is
    normalised with its own statistics, in training and evaluation mode alike. The running statistics are
    still updated on every forward (with the mean over the batch of the per-instance updates) and are never
    used; ``eval()`` changes nothing."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False):
        super(_InstanceNorm, self).__init__(num_features, eps, momentum, affine)

    def forward(self, input):
        self._check_input(input)
        b, c = input.size(0), input.size(1)
        running_mean = self.running_mean.repeat(b)
        running_var = self.running_var.repeat(b)
        weight, bias = None, None
        if self.affine:
            weight = self.weight.repeat(b)
            bias = self.bias.repeat(b)
        input_reshaped = input.contiguous().view(1, b * c, *input.size()[2:])
        out = F.batch_norm(input_reshaped, running_mean, running_var, weight, bias, True, self.momentum, self.eps)
        self.running_mean.copy_(running_mean.view(b, c).mean(0, keepdim=False))
        self.running_var.copy_(running_var.view(b, c).mean(0, keepdim=False))
        return out.view(b, c, *input.size()[2:])

    def eval(self):
        return self


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over a 3D (N x C x L) input: each sample's channel is normalised over L."""
    _input_dims = (3,)
    _input_desc = "3D (N x C x L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over a 4D (N x C x H x W) input: each sample's channel over H x W."""
    _input_dims = (4,)
    _input_desc = "4D (N x C x H x W)"


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over a 5D (N x C x D x H x W) input: each sample's channel over D x H x W."""
    _input_dims = (5,)
    _input_desc = "5D (N x C x D x H x W)"
