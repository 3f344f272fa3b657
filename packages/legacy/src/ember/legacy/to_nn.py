"""``to_nn``: a legacy.nn model as an equivalent ember.nn module (an ember extra; 0.2 had no converter).

A Lua model loaded with ``load_lua`` can then be fine-tuned with autograd and ember.optim. The converted
module holds copies of the parameters (and of BatchNormalization's running statistics) in the legacy
model's tensor type, and the legacy model's training / evaluation mode. Like ember.nn's layers it takes
mini-batches: run a single Lua sample (``C x H x W``) as a batch of one.
"""
import ember

__all__ = ["to_nn"]


def to_nn(module):
    """An ember.nn module computing what the legacy.nn ``module`` computes.

    Supported: Sequential (and SpatialLPPooling, a Sequential in Lua), Concat, the spatial / volumetric /
    temporal convolutions (also SpatialConvolutionMap and SpatialSubSampling), max / average / adaptive max
    pooling, Linear, the activations, SoftMax / LogSoftMax / SoftMin / SpatialSoftMax, the Batch
    Normalizations, SpatialCrossMapLRN, the paddings, SpatialUpSamplingNearest, View / Reshape, Dropout
    (SpatialDropout, VolumetricDropout), Identity, Contiguous and the pointwise Square, Sqrt, Power,
    MulConstant, AddConstant, Abs, Exp, Log, Clamp. Any other module raises NotImplementedError naming its
    Lua class. A model whose parameters mix tensor types must be converted first (``model.double()``)."""
    try:
        import ember.nn  # noqa: F401
    except ImportError as e:
        raise ImportError("ember.legacy.to_nn needs ember.nn: pip install ember-nn ({})".format(e)) from None
    from . import nn as legacy_nn
    if not isinstance(module, legacy_nn.Module):
        raise TypeError("to_nn: expected a legacy.nn module, got {}".format(ember.typename(module)))
    return _Converter(legacy_nn, _tensor_class(module)).convert(module)


def _tensor_class(module):
    """The tensor class of the model's parameters (its type() when it has none); they must agree."""
    from .nn.utils import check_type
    params = module.parameters()
    types = {type(p) for p in params[0]} if params else set()
    if len(types) > 1:
        raise TypeError("to_nn: the model's parameters mix {}; convert the model first (model.double() or "
                        "model.float())".format(" and ".join(sorted(t._typename for t in types))))
    return types.pop() if types else check_type(module.type())


class _Converter(object):

    def __init__(self, legacy_nn, cls):
        import ember.nn
        from . import _nn_layers
        self.nn = ember.nn
        self.layers = _nn_layers
        self.legacy_nn = legacy_nn
        self.cls = cls

    def convert(self, m):
        name = type(m).__name__
        method = getattr(self, "_" + name, None)
        # only legacy.nn's own classes: a subclass may compute something else
        if method is None or getattr(self.legacy_nn, name, None) is not type(m):
            raise NotImplementedError("to_nn: {} has no ember.nn equivalent in to_nn".format("nn." + name))
        layer = method(m)
        mode = bool(getattr(m, "train", True))
        if isinstance(m, self.legacy_nn.Container):
            layer.training = mode  # its children took their own modes
        else:
            layer.train(mode)  # with the layers a wrapper holds
        return layer

    def _new(self, layer, **values):
        """``layer`` in the model's tensor type, with the named parameters / buffers set to copies of the
        given tensors (viewed to the layer's shapes)."""
        layer.type(self.cls._typename)
        for name, value in values.items():
            target = getattr(layer, name)
            data = target.data if isinstance(target, ember.autograd.Variable) else target
            data.copy_(value.contiguous().view(data.size()))
        return layer

    @staticmethod
    def _params(m):
        values = {"weight": m.weight}
        if getattr(m, "bias", None) is not None:
            values["bias"] = m.bias
        return values

    # ------------------------------------------------------------------ containers
    def _Sequential(self, m):
        return self.nn.Sequential(*[self.convert(c) for c in m.modules])

    _SpatialLPPooling = _Sequential

    def _Concat(self, m):
        return self.layers.Concat(m.dimension, [self.convert(c) for c in m.modules])

    # ------------------------------------------------------------------ convolutions
    def _conv(self, m, layer_cls, **kw):
        bias = getattr(m, "bias", None) is not None
        return self._new(layer_cls(m.nInputPlane, m.nOutputPlane, bias=bias, **kw), **self._params(m))

    def _SpatialConvolution(self, m):
        return self._conv(m, self.nn.Conv2d, kernel_size=(m.kH, m.kW), stride=(m.dH, m.dW),
                          padding=(m.padH, m.padW))

    _SpatialConvolutionMM = _SpatialConvolution

    def _SpatialDilatedConvolution(self, m):
        return self._conv(m, self.nn.Conv2d, kernel_size=(m.kH, m.kW), stride=(m.dH, m.dW),
                          padding=(m.padH, m.padW), dilation=(m.dilationH, m.dilationW))

    def _SpatialFullConvolution(self, m):
        return self._conv(m, self.nn.ConvTranspose2d, kernel_size=(m.kH, m.kW), stride=(m.dH, m.dW),
                          padding=(m.padH, m.padW), output_padding=(m.adjH, m.adjW))

    def _VolumetricConvolution(self, m):
        return self._conv(m, self.nn.Conv3d, kernel_size=(m.kT, m.kH, m.kW), stride=(m.dT, m.dH, m.dW),
                          padding=(m.padT, m.padH, m.padW))

    def _VolumetricFullConvolution(self, m):
        return self._conv(m, self.nn.ConvTranspose3d, kernel_size=(m.kT, m.kH, m.kW),
                          stride=(m.dT, m.dH, m.dW), padding=(m.padT, m.padH, m.padW),
                          output_padding=(m.adjT, m.adjH, m.adjW))

    def _TemporalConvolution(self, m):
        bias = getattr(m, "bias", None) is not None
        conv = self.nn.Conv1d(m.inputFrameSize, m.outputFrameSize, m.kW, m.dW, bias=bias)
        # Lua's rows hold kW frames one after the other; Conv1d's weight is out x in x kW
        weight = m.weight.view(m.outputFrameSize, m.kW, m.inputFrameSize).transpose(1, 2)
        values = {"weight": weight, "bias": m.bias} if bias else {"weight": weight}
        return self.layers.TimeMajor(self._new(conv, **values))

    def _SpatialConvolutionMap(self, m):
        layer = self.layers.ConvolutionMap(m.nInputPlane, m.nOutputPlane, (m.kH, m.kW), (m.dH, m.dW))
        layer = self._new(layer, bias=m.bias)
        # the connections' kernels go to their rows of the dense weight (as legacy's _dense_weight)
        positions = m._positions()
        planes = m.nOutputPlane * m.nInputPlane
        kernels = self.cls(m.weight.size()).copy_(m.weight).view(m.weight.size(0), -1)
        layer.weight.data.view(planes, -1).index_add_(0, positions, kernels)
        layer.mask.view(planes, -1).index_fill_(0, positions, 1)
        return layer

    def _SpatialSubSampling(self, m):
        return self._new(self.layers.SubSampling(m.nInputPlane, m.kW, m.kH, m.dW, m.dH), **self._params(m))

    def _Linear(self, m):
        bias = getattr(m, "bias", None) is not None
        return self._new(self.nn.Linear(m.weight.size(1), m.weight.size(0), bias=bias), **self._params(m))

    # ------------------------------------------------------------------ pooling, padding, upsampling
    def _SpatialMaxPooling(self, m):
        return self.nn.MaxPool2d((m.kH, m.kW), (m.dH, m.dW), (m.padH, m.padW), ceil_mode=bool(m.ceil_mode))

    def _SpatialAveragePooling(self, m):
        pool = self.nn.AvgPool2d((m.kH, m.kW), (m.dH, m.dW), (m.padH, m.padW), bool(m.ceil_mode),
                            bool(m.count_include_pad))
        # models of the first nn versions summed over the window
        return pool if m.divide else self.nn.Sequential(pool, self.layers.MulConstant(m.kW * m.kH))

    def _SpatialAdaptiveMaxPooling(self, m):
        return self.nn.AdaptiveMaxPool2d((m.H, m.W))

    def _TemporalMaxPooling(self, m):
        return self.layers.TimeMajor(self.nn.MaxPool1d(m.kW, m.dW))

    def _VolumetricMaxPooling(self, m):
        return self.nn.MaxPool3d((m.kT, m.kH, m.kW), (m.dT, m.dH, m.dW), (m.padT, m.padH, m.padW),
                            ceil_mode=bool(m.ceil_mode))

    def _VolumetricAveragePooling(self, m):
        return self.nn.AvgPool3d((m.kT, m.kH, m.kW), (m.dT, m.dH, m.dW))

    def _SpatialZeroPadding(self, m):
        return self.nn.ZeroPad2d((m.pad_l, m.pad_r, m.pad_t, m.pad_b))

    def _SpatialReflectionPadding(self, m):
        return self.nn.ReflectionPad2d((m.pad_l, m.pad_r, m.pad_t, m.pad_b))

    def _SpatialReplicationPadding(self, m):
        return self.nn.ReplicationPad2d((m.pad_l, m.pad_r, m.pad_t, m.pad_b))

    def _SpatialUpSamplingNearest(self, m):
        return self.nn.Upsample(scale_factor=m.scale_factor, mode="nearest")

    # ------------------------------------------------------------------ normalization
    def _batch_norm(self, m, layer_cls):
        affine = getattr(m, "weight", None) is not None
        values = {"running_mean": m.running_mean, "running_var": m.running_var}
        if affine:
            values.update(weight=m.weight, bias=m.bias)
        return self._new(layer_cls(m.running_mean.numel(), m.eps, m.momentum, affine), **values)

    def _BatchNormalization(self, m):
        return self._batch_norm(m, self.nn.BatchNorm1d)

    def _SpatialBatchNormalization(self, m):
        return self._batch_norm(m, self.nn.BatchNorm2d)

    def _VolumetricBatchNormalization(self, m):
        return self._batch_norm(m, self.nn.BatchNorm3d)

    def _SpatialCrossMapLRN(self, m):
        return self.nn.CrossMapLRN2d(m.size, m.alpha, m.beta, m.k)

    # ------------------------------------------------------------------ activations and the like
    def _ReLU(self, m):
        return self.nn.ReLU()

    def _ReLU6(self, m):
        return self.nn.ReLU6()

    def _Threshold(self, m):
        return self.nn.Threshold(m.threshold, m.value)

    def _Tanh(self, m):
        return self.nn.Tanh()

    def _Sigmoid(self, m):
        return self.nn.Sigmoid()

    def _HardTanh(self, m):
        return self.nn.Hardtanh(m.min_val, m.max_val)

    _Clamp = _HardTanh

    def _LeakyReLU(self, m):
        return self.nn.LeakyReLU(m.negval)

    def _ELU(self, m):
        return self.nn.ELU(m.alpha)

    def _PReLU(self, m):
        return self._new(self.nn.PReLU(m.weight.numel()), weight=m.weight)

    def _SoftPlus(self, m):
        return self.nn.Softplus(m.beta, m.threshold)

    def _SoftShrink(self, m):
        return self.nn.Softshrink(m.lambd)

    def _HardShrink(self, m):
        return self.nn.Hardshrink(m.lambd)

    def _SoftSign(self, m):
        return self.nn.Softsign()

    def _LogSigmoid(self, m):
        return self.nn.LogSigmoid()

    def _TanhShrink(self, m):
        return self.nn.Tanhshrink()

    def _SoftMax(self, m):
        return self.layers.LuaSoftMax("softmax")

    _SpatialSoftMax = _SoftMax

    def _LogSoftMax(self, m):
        return self.layers.LuaSoftMax("log_softmax")

    def _SoftMin(self, m):
        return self.layers.LuaSoftMax("softmin")

    def _Dropout(self, m):
        if not m.v2:
            raise NotImplementedError("to_nn: self.nn.Dropout with v2 = false (Lua's first variant, scaled at test "
                                      "time) has no ember.nn equivalent in to_nn")
        return self.nn.Dropout(m.p)

    def _SpatialDropout(self, m):
        return self.nn.Dropout2d(m.p)

    def _VolumetricDropout(self, m):
        return self.nn.Dropout3d(m.p)

    def _View(self, m):
        return self.layers.LuaShape(m.clone().clearState())

    _Reshape = _View

    def _Identity(self, m):
        return self.layers.Identity()

    def _Contiguous(self, m):
        return self.layers.Contiguous()

    def _Square(self, m):
        return self.layers.Square()

    def _Sqrt(self, m):
        return self.layers.Sqrt()

    def _Power(self, m):
        return self.layers.Power(m.pow)

    def _MulConstant(self, m):
        return self.layers.MulConstant(m.constant_scalar)

    def _AddConstant(self, m):
        return self.layers.AddConstant(m.constant_scalar)

    def _Abs(self, m):
        return self.layers.Abs()

    def _Exp(self, m):
        return self.layers.Exp()

    def _Log(self, m):
        return self.layers.Log()
