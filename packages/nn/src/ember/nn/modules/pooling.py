"""Pooling layers (PyTorch 0.2's torch/nn/modules/pooling.py). Attributes and reprs are 0.2's, including
its inconsistencies (some layers keep their arguments as given, some as tuples)."""
from .module import Module
from .. import functional as F
from .._functional.pooling import _fractional_max_pool2d
from .conv import layer_error

__all__ = ["AvgPool1d", "AvgPool2d", "AvgPool3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d",
           "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d", "LPPool2d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d"]


def _ntuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _Named(Module):
    """Runs ``self._forward`` and names the layer in the message of a RuntimeError/ValueError it raises."""

    def forward(self, *args):
        try:
            return self._forward(*args)
        except (RuntimeError, ValueError) as e:
            raise layer_error(self, e) from None


# ------------------------------------------------------------------------------------------- max pooling
class _MaxPoolNd(_Named):
    _functional = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super(_MaxPoolNd, self).__init__()
        self.kernel_size = kernel_size
        self.stride = stride or kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def _forward(self, input):
        return type(self)._functional(input, self.kernel_size, self.stride, self.padding, self.dilation,
                                      self.ceil_mode, self.return_indices)

    def __repr__(self):
        return "{} (size={}, stride={}, padding={}, dilation={}, ceil_mode={})".format(
            type(self).__name__, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over an input (N, C, L): the maximum of each window of ``kernel_size`` (spaced by
    ``dilation``) moved by ``stride`` (default kernel_size) over the input padded with -inf;
    L_out = floor((L + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1) (ceil in ceil_mode).
    With ``return_indices`` the output is (values, indices), indices for MaxUnpool1d."""
    _functional = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over (N, C, H, W) (see MaxPool1d; arguments per dim or one int for both)."""
    _functional = staticmethod(F.max_pool2d)

    def __repr__(self):
        # 0.2 prints padding only when both sides are nonzero, dilation when both are nonzero
        kh, kw = _ntuple(self.kernel_size, 2)
        dh, dw = _ntuple(self.stride, 2)
        padh, padw = _ntuple(self.padding, 2)
        dilh, dilw = _ntuple(self.dilation, 2)
        padding_str = ", padding=({}, {})".format(padh, padw) if padh != 0 and padw != 0 else ""
        dilation_str = ", dilation=({}, {})".format(dilh, dilw) if dilh != 0 and dilw != 0 else ""
        return "{} (size=({}, {}), stride=({}, {}){}{})".format(type(self).__name__, kh, kw, dh, dw, padding_str,
                                                               dilation_str)


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling over (N, C, D, H, W) (see MaxPool1d)."""
    _functional = staticmethod(F.max_pool3d)


class _MaxUnpoolNd(_Named):
    _k = 0
    _functional = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super(_MaxUnpoolNd, self).__init__()
        self.kernel_size = _ntuple(kernel_size, self._k)
        self.stride = _ntuple(stride or kernel_size, self._k)
        self.padding = _ntuple(padding, self._k)

    def forward(self, input, indices, output_size=None):
        return super(_MaxUnpoolNd, self).forward(input, indices, output_size)

    def _forward(self, input, indices, output_size):
        return type(self)._functional(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def __repr__(self):
        return "{} (size={}, stride={}, padding={})".format(type(self).__name__, self.kernel_size, self.stride,
                                                           self.padding)


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d: ``forward(input, indices, output_size=None)`` puts each value at
    its index in a zero output of length (L - 1) stride + kernel_size - 2 padding (or ``output_size``)."""
    _k = 1
    _functional = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d (see MaxUnpool1d)."""
    _k = 2
    _functional = staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of MaxPool3d (see MaxUnpool1d)."""
    _k = 3
    _functional = staticmethod(F.max_unpool3d)


# ------------------------------------------------------------------------------------------- average pooling
class _AvgPoolNd(_Named):
    _functional = None

    def _forward(self, input):
        return type(self)._functional(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                      self.count_include_pad)

    def __repr__(self):
        return "{} (size={}, stride={}, padding={}, ceil_mode={}, count_include_pad={})".format(
            type(self).__name__, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over (N, C, L): the mean of each window of ``kernel_size`` moved by ``stride``
    (default kernel_size) over the input zero-padded by ``padding``; ``count_include_pad`` counts the
    padding in the divisor; L_out = floor((L + 2 padding - kernel_size) / stride + 1) (ceil in ceil_mode)."""
    _functional = staticmethod(F.avg_pool1d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super(AvgPool1d, self).__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling over (N, C, H, W) (see AvgPool1d; arguments per dim or one int for both)."""
    _functional = staticmethod(F.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super(AvgPool2d, self).__init__()
        self.kernel_size = kernel_size
        self.stride = stride or kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad


class AvgPool3d(_AvgPoolNd):
    """3-D average pooling over (N, C, D, H, W) with windows of ``kernel_size`` moved by ``stride``
    (default kernel_size). 0.2 had these two arguments; padding, ceil_mode and count_include_pad are
    ember extras (as in AvgPool2d), shown in the repr only when given."""
    _functional = staticmethod(F.avg_pool3d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super(AvgPool3d, self).__init__()
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def __repr__(self):
        s = "{} (size={}, stride={}".format(type(self).__name__, self.kernel_size, self.stride)
        if self.padding != 0:
            s += ", padding={}".format(self.padding)
        if self.ceil_mode:
            s += ", ceil_mode=True"
        if not self.count_include_pad:
            s += ", count_include_pad=False"
        return s + ")"


class LPPool2d(_Named):
    """Power-average pooling over (N, C, H, W): (sum over each window of x ** norm_type) ** (1 / norm_type)
    (norm_type 1 is sum pooling; infinity would be max pooling)."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super(LPPool2d, self).__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def _forward(self, input):
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


# ------------------------------------------------------------------------------------------- fractional
class FractionalMaxPool2d(_Named):
    """Fractional max pooling (Graham, 2014) over (N, C, H, W): kh x kw windows at pseudo-random steps
    reaching ``output_size`` (oH, oW) or ``output_ratio`` (in (0, 1)) times the input size. The steps
    come from ``_random_samples`` (N, C, 2) when given, else from fresh uniform samples on every call."""

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super(FractionalMaxPool2d, self).__init__()
        self.kh, self.kw = _ntuple(kernel_size, 2)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.outh, self.outw = _ntuple(output_size, 2) if output_size is not None else (None, None)
        self.ratioh, self.ratiow = _ntuple(output_ratio, 2) if output_ratio is not None else (None, None)
        if output_size is None and output_ratio is None:
            raise ValueError("FractionalMaxPool2d requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.ratioh is not None and not (0 < self.ratioh < 1 and 0 < self.ratiow < 1):
            raise ValueError("output_ratio must be between 0 and 1 (got {})".format(output_ratio))

    def _forward(self, input):
        output_size = output_ratio = None
        if self.outh is not None:
            output_size = (self.outh, self.outw)
        else:
            output_ratio = (self.ratioh, self.ratiow)
        return _fractional_max_pool2d(input, (self.kh, self.kw), output_size, output_ratio, self.return_indices,
                                      self._random_samples)


# ------------------------------------------------------------------------------------------- adaptive
class _AdaptiveMaxPoolNd(_Named):
    _functional = None

    def __init__(self, output_size, return_indices=False):
        super(_AdaptiveMaxPoolNd, self).__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def _forward(self, input):
        return type(self)._functional(input, self.output_size, self.return_indices)

    def __repr__(self):
        return "{} (output_size={})".format(type(self).__name__, self.output_size)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) to ``output_size`` points whatever L is (output i covers
    [floor(i L / out), ceil((i+1) L / out))); ``return_indices`` as MaxPool1d."""
    _functional = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, H, W) to ``output_size`` (oH, oW), or oH x oH for one int (see
    AdaptiveMaxPool1d)."""
    _functional = staticmethod(F.adaptive_max_pool2d)


class _AdaptiveAvgPoolNd(_Named):
    _functional = None

    def __init__(self, output_size):
        super(_AdaptiveAvgPoolNd, self).__init__()
        self.output_size = output_size

    def _forward(self, input):
        return type(self)._functional(input, self.output_size)

    def __repr__(self):
        return "{} (output_size={})".format(type(self).__name__, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, L) to ``output_size`` points (windows as AdaptiveMaxPool1d)."""
    _functional = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling of (N, C, H, W) to ``output_size`` (oH, oW), or oH x oH for one int."""
    _functional = staticmethod(F.adaptive_avg_pool2d)
