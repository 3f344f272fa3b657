"""Parameter initialisation (PyTorch 0.2's torch.nn.init). Every function fills a Tensor or a Variable's
data in place and returns its argument."""
import math

import ember
from ember.autograd import Variable


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (``param``: leaky_relu's negative slope, default 0.01)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError("negative_slope {} not a valid number".format(param))
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    raise ValueError("Unsupported nonlinearity {}".format(nonlinearity))


def _data(tensor, op):
    if isinstance(tensor, Variable):
        return tensor.data
    if not ember.is_tensor(tensor):
        raise TypeError("nn.init.{}: expected a Tensor or Variable, got {}".format(op, ember.typename(tensor)))
    return tensor


def uniform(tensor, a=0, b=1):
    """Fill with values drawn from U(a, b)."""
    _data(tensor, "uniform").uniform_(a, b)
    return tensor


def normal(tensor, mean=0, std=1):
    """Fill with values drawn from N(mean, std)."""
    _data(tensor, "normal").normal_(mean, std)
    return tensor


def constant(tensor, val):
    """Fill with ``val``."""
    _data(tensor, "constant").fill_(val)
    return tensor


def eye(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal of a non-square one)."""
    t = _data(tensor, "eye")
    if t.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    t.copy_(ember.eye(t.size(0), t.size(1)).type_as(t))
    return tensor


def dirac(tensor):
    """Fill a {3, 4, 5}-D convolution weight with the Dirac delta: output channel i copies input channel i."""
    t = _data(tensor, "dirac")
    dimensions = t.ndimension()
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = t.size()
    t.zero_()
    centre = tuple(s // 2 for s in sizes[2:])
    for d in range(min(sizes[0], sizes[1])):
        t[(d, d) + centre] = 1
    return tensor


def _calculate_fan_in_and_fan_out(tensor):
    dimensions = tensor.ndimension()
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with less than 2 dimensions")
    if dimensions == 2:
        return tensor.size(1), tensor.size(0)
    receptive_field_size = 1
    for s in tensor.size()[2:]:
        receptive_field_size *= s
    return tensor.size(1) * receptive_field_size, tensor.size(0) * receptive_field_size


def xavier_uniform(tensor, gain=1):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(2 / (fan_in + fan_out)) * sqrt(3)."""
    t = _data(tensor, "xavier_uniform")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    a = math.sqrt(3.0) * std
    t.uniform_(-a, a)
    return tensor


def xavier_normal(tensor, gain=1):
    """Glorot normal: N(0, gain * sqrt(2 / (fan_in + fan_out)))."""
    t = _data(tensor, "xavier_normal")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(t)
    t.normal_(0, gain * math.sqrt(2.0 / (fan_in + fan_out)))
    return tensor


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError("Mode {} not supported, please use one of {}".format(mode, valid_modes))
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform(tensor, a=0, mode="fan_in"):
    """He uniform: U(-bound, bound) with bound = sqrt(2 / ((1 + a^2) * fan)) * sqrt(3)."""
    t = _data(tensor, "kaiming_uniform")
    std = calculate_gain("leaky_relu", a) / math.sqrt(_calculate_correct_fan(t, mode))
    bound = math.sqrt(3.0) * std
    t.uniform_(-bound, bound)
    return tensor


def kaiming_normal(tensor, a=0, mode="fan_in"):
    """He normal: N(0, sqrt(2 / ((1 + a^2) * fan)))."""
    t = _data(tensor, "kaiming_normal")
    t.normal_(0, calculate_gain("leaky_relu", a) / math.sqrt(_calculate_correct_fan(t, mode)))
    return tensor


def orthogonal(tensor, gain=1):
    """Fill with a (semi-)orthogonal matrix (dims after the first flattened), scaled by ``gain``."""
    t = _data(tensor, "orthogonal")
    if t.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    rows = t.size(0)
    cols = t.numel() // rows
    flattened = ember.DoubleTensor(rows, cols).normal_(0, 1)
    if rows < cols:
        flattened.t_()
    q, r = ember.qr(flattened)
    # make Q uniform over the orthogonal group (Mezzadri, arXiv math-ph/0609050)
    q.mul_(r.diag().sign().unsqueeze(0).expand_as(q))
    if rows < cols:
        q.t_()
    t.view(rows, cols).copy_(q.type_as(t))
    t.mul_(gain)
    return tensor


def sparse(tensor, sparsity, std=0.01):
    """Fill a 2-D tensor from N(0, std) and zero a fraction ``sparsity`` of the elements of each column."""
    t = _data(tensor, "sparse")
    if t.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = t.size(0), t.size(1)
    num_zeros = int(math.ceil(sparsity * rows))
    t.normal_(0, std)
    for col_idx in range(cols):
        zero_indices = ember.randperm(rows)[:num_zeros] if num_zeros else None
        if zero_indices is not None:
            t.select(1, col_idx).index_fill_(0, zero_indices, 0)
    return tensor
