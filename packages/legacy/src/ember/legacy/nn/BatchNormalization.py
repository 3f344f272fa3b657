import ember
import ember.kernels as K

from .Module import Module
from ._helpers import ensure_grad
from .utils import clear


class BatchNormalization(Module):
    """Batch normalization (Ioffe and Szegedy, 2015) of ``N x nOutput`` mini-batches: each feature is
    normalised by the batch's mean and (biased) variance in training, by ``running_mean`` / ``running_var``
    in evaluation, then scaled by ``weight`` and shifted by ``bias`` when ``affine``. Training updates the
    running statistics: ``running = (1 - momentum) * running + momentum * batch`` (unbiased variance).
    In evaluation a single sample (without the batch dimension) is accepted too."""

    # dims of the input this class takes (a mini-batch)
    nDim = 2

    def __init__(self, nOutput, eps=1e-5, momentum=0.1, affine=True):
        super(BatchNormalization, self).__init__()
        if nOutput <= 0:
            raise ValueError("{}: nOutput must be positive, got {}".format(self._name(), nOutput))
        self.affine = affine
        self.eps = eps
        self.train = True
        self.momentum = momentum
        self.running_mean = ember.zeros(nOutput)
        self.running_var = ember.ones(nOutput)
        self.save_mean = None
        self.save_std = None
        if self.affine:
            self.weight = ember.Tensor(nOutput)
            self.bias = ember.Tensor(nOutput)
            self.gradWeight = ember.zeros(nOutput)
            self.gradBias = ember.zeros(nOutput)
        else:
            self.weight = None
            self.bias = None
            self.gradWeight = None
            self.gradBias = None
        self.reset()

    def _name(self):
        return "nn." + type(self).__name__

    def _from_lua(self, version):
        super(BatchNormalization, self)._from_lua(version)
        d = self.__dict__
        for name in ("weight", "bias", "save_mean", "save_std"):
            d.setdefault(name, None)
        d.setdefault("affine", d["weight"] is not None)
        d.setdefault("momentum", 0.1)
        d.setdefault("eps", 1e-5)
        std = d.pop("running_std", None)
        if std is not None and d.get("running_var") is None:
            # models of nn before 2016 kept 1 / sqrt(var + eps) (Lua's conversion)
            d["running_var"] = std.pow(-2).add_(-self.eps)
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    def reset(self):
        if self.weight is not None:
            self.weight.uniform_()
        if self.bias is not None:
            self.bias.zero_()
        self.running_mean.zero_()
        self.running_var.fill_(1)
        return self

    def _checkInputDim(self, input):
        if not ember.is_tensor(input):
            raise TypeError("{}: expected the input to be a tensor, got {}".format(self._name(), ember.typename(input)))
        iDim = input.dim()
        if iDim != self.nDim and (iDim != self.nDim - 1 or self.train):
            raise RuntimeError("{}: only mini-batch supported ({}D tensor), got {}D tensor instead"
                               .format(self._name(), self.nDim, iDim))
        featDim = 0 if iDim == self.nDim - 1 else 1
        if input.size(featDim) != self.running_mean.numel():
            raise RuntimeError("{}: got {}-feature tensor, expected {}"
                               .format(self._name(), input.size(featDim), self.running_mean.numel()))

    def _batch(self, t):
        """``t`` with a batch dimension (a single sample is a batch of one in evaluation)."""
        return t.view(1, *t.size()) if t.dim() == self.nDim - 1 else t

    def updateOutput(self, input):
        self._checkInputDim(input)
        x = self._batch(input)
        out, self.save_mean, self.save_std = K.batch_norm_forward(x, self.weight, self.bias, self.running_mean,
                                                                  self.running_var, self.train, self.momentum,
                                                                  self.eps)
        self.output = out.view_as(input)
        return self.output

    def _backward(self, input, gradOutput, scale, need_input, need_params):
        self._checkInputDim(input)
        if self.save_mean is None:
            raise RuntimeError("{}: backward needs a forward first".format(self._name()))
        has_params = need_params and self.weight is not None
        gi, gw, gb = K.batch_norm_backward(self._batch(gradOutput), self._batch(input), self.weight,
                                           self.save_mean, self.save_std, self.train, self.running_mean,
                                           self.running_var, self.eps,
                                           output_mask=(need_input, has_params, has_params))
        if need_input:
            self.gradInput = gi.view_as(input)
        if has_params:
            self.gradWeight.add_(scale, gw)
            self.gradBias.add_(scale, gb)

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self._backward(input, gradOutput, 1, True, False)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, False, True)

    def backward(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, self.gradInput is not None, True)
        return self.gradInput

    def clearState(self):
        clear(self, "save_mean", "save_std", "_input", "_gradOutput")
        return super(BatchNormalization, self).clearState()
