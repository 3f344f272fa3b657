"""Helpers shared by the convolution, pooling and normalization modules (not part of 0.2's API)."""
import math

import ember
import ember.kernels as K


def out_buffer(t, ref):
    """``t`` when a kernel may write its result into it (a contiguous tensor of ``ref``'s type), else None.

    Lua's modules reuse their ``output`` / ``gradInput`` tensors from call to call; so do these, which
    spares a fresh allocation (and its page faults) per pass. Never the input's own memory: a module applied
    to its own output must not overwrite what it reads."""
    if ember.is_tensor(t) and type(t) is type(ref) and t.is_contiguous() and \
            (not t.numel() or t.storage().data_ptr() != ref.storage().data_ptr()):
        return t
    return None


def ensure_grad(module, grad_name, param_name):
    """Give ``module`` a zero gradient buffer shaped like its parameter when the buffer is missing (old
    ``.t7`` files, ``clearState``) or holds a different number of elements."""
    param = getattr(module, param_name, None)
    grad = getattr(module, grad_name, None)
    if param is None:
        setattr(module, grad_name, None)
    elif not ember.is_tensor(grad) or grad.numel() != param.numel() or type(grad) is not type(param):
        setattr(module, grad_name, param.new(param.size()).zero_())


def lua_indices_or_empty(module, name="indices"):
    """Turn the 1-based flat argmax indices a Lua pooling module stored into 0-based ones; indices in an
    older layout (a plane each for x and y, or float tensors) are dropped: the next forward recomputes them."""
    ind = module.__dict__.get(name)
    out = module.__dict__.get("output")
    if isinstance(ind, ember.LongTensor) and ember.is_tensor(out) and ind.numel() and ind.size() == out.size():
        module.__dict__[name] = ind - 1
    else:
        module.__dict__[name] = ember.LongTensor()


def lua_fields_with_indices(fields, name="indices"):
    """``fields`` (for writing a .t7 file) with 1-based indices, as Lua expects them."""
    ind = fields.get(name)
    if isinstance(ind, ember.LongTensor) and ind.numel():
        fields[name] = ind + 1
    return fields


def check_dims(module, input, dims):
    """Raise a clear error when ``input`` isn't a tensor with one of the given numbers of dims."""
    name = "nn." + type(module).__name__
    if not ember.is_tensor(input):
        raise TypeError("{}: expected the input to be a tensor, got {}".format(name, ember.typename(input)))
    if input.dim() not in dims:
        raise RuntimeError("{}: {} input tensor expected but got: [{}]".format(
            name, " or ".join("{}D".format(d) for d in dims), " x ".join(str(s) for s in input.size())))


def with_batch(t, nd):
    """``t`` viewed with a batch dimension of one when it has only ``nd`` dims (no batch)."""
    return t.view(1, *t.size()) if t.dim() == nd else t


# ----------------------------------------------------------------- Spatial*Normalization's local sums
# Lua builds them as ZeroPadding + SpatialConvolution (2-D kernel) or ZeroPadding + SpatialConvolutionMap
# (one-to-one, the kernel as a row) + SpatialConvolution (the kernel as a column) for a 1-D kernel, summing
# over the planes. Here they are one or two convolutions with the padding built in.

def check_normalization_kernel(module, kernel):
    name = "nn." + type(module).__name__
    if not ember.is_tensor(kernel) or kernel.dim() not in (1, 2):
        raise ValueError("{}: averaging kernel must be 2D or 1D".format(name))
    if any(s % 2 == 0 for s in kernel.size()):
        raise ValueError("{}: averaging kernel must have ODD dimensions, got size {}".format(name, list(kernel.size())))


def _sum_geometry(kernel, planes):
    """The convolutions' (weight, padding, groups), first applied first."""
    if kernel.dim() == 2:
        kh, kw = kernel.size()
        return [(kernel.view(1, 1, kh, kw).expand(1, planes, kh, kw), (kh // 2, kw // 2), 1)]
    k = kernel.size(0)
    return [(kernel.view(1, 1, 1, k).expand(planes, 1, 1, k), (k // 2, k // 2), planes),
            (kernel.view(1, 1, k, 1).expand(1, planes, k, 1), (0, 0), 1)]


def local_sum(x, kernel):
    """``N x 1 x H x W``: the kernel-weighted sum over each pixel's neighbourhood and all planes of ``x``
    (``N x C x H x W``), zero outside the image."""
    for weight, padding, groups in _sum_geometry(kernel, x.size(1)):
        x = K.conv_forward(x, weight, None, 1, padding, 1, groups)
    return x


def local_sum_backward(grad, input_size, kernel):
    """The gradient of :func:`local_sum` with respect to its input of ``input_size``."""
    steps = _sum_geometry(kernel, input_size[1])
    sizes = [tuple(input_size)]
    if len(steps) == 2:  # the intermediate size: the first convolution keeps the height padded
        pad = steps[0][1][0]
        sizes.append((input_size[0], input_size[1], input_size[2] + 2 * pad, input_size[3]))
    for (weight, padding, groups), size in reversed(list(zip(steps, sizes))):
        grad = K.conv_backward_input(grad, size, weight, 1, padding, 1, groups)
    return grad


class ParameterReset(object):
    """``noBias`` and Lua's ``reset`` (uniform in +-1/sqrt(fan-in), or +-stdv*sqrt(3) when ``stdv`` is given),
    shared by Linear and the plain and full convolutions. The fan-in is nInputPlane times the kernel's
    kT/kH/kW; Linear's is its input size (``_fan_in``)."""

    def _fan_in(self):
        return self.nInputPlane * getattr(self, "kT", 1) * self.kH * self.kW

    def noBias(self):
        self.bias = None
        self.gradBias = None
        return self

    def reset(self, stdv=None):
        stdv = stdv * math.sqrt(3) if stdv is not None else 1. / math.sqrt(self._fan_in())
        self.weight.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.uniform_(-stdv, stdv)
        return self


class TransposedConvGradients(object):
    """updateGradInput / accGradParameters / backward shared by SpatialFullConvolution and
    VolumetricFullConvolution; the class provides ``_args(input) -> (x, stride, padding, adj)``."""

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        x, stride, padding, adj = self._args(input)
        gi = K.conv_transpose_backward_input(gradOutput, x, self.weight, stride, padding, adj)
        self._set_grad_input(input, gi)
        return self.gradInput

    def _set_grad_input(self, input, gi):
        if isinstance(input, (list, tuple)):
            self.gradInput = [gi, input[1].new(input[1].size()).zero_()]
        else:
            self.gradInput = gi

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, False)

    def backward(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, self.gradInput is not None)
        return self.gradInput

    def _backward(self, input, gradOutput, scale, need_input):
        x, stride, padding, adj = self._args(input)
        has_bias = self.bias is not None
        gi, gw, gb = K.conv_transpose_backward(gradOutput, x, self.weight, stride, padding, adj,
                                               output_mask=(need_input, True, has_bias))
        if need_input:
            self._set_grad_input(input, gi)
        self.gradWeight.add_(scale, gw)
        if has_bias:
            self.gradBias.add_(scale, gb)
