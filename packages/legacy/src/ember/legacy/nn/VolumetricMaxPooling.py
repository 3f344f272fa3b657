import ember
import ember.kernels as K

from .Module import Module


class VolumetricMaxPooling(Module):
    """Max pooling over ``kT x kH x kW`` windows of ``nPlane x T x H x W`` volumes (or a batch of them), steps
    ``dT``, ``dW``, ``dH`` (default: the window size), ``-inf`` padding ``padT``, ``padW``, ``padH``;
    :meth:`ceil` rounds the output size up. ``indices`` holds the flat position of each maximum within its
    input volume (``t * H * W + h * W + w``)."""

    def __init__(self, kT, kW, kH, dT=None, dW=None, dH=None, padT=0, padW=0, padH=0):
        super(VolumetricMaxPooling, self).__init__()
        self.kT, self.kW, self.kH = kT, kW, kH
        self.dT = dT if dT is not None else kT
        self.dW = dW if dW is not None else kW
        self.dH = dH if dH is not None else kH
        self.padT, self.padW, self.padH = padT, padW, padH
        self.ceil_mode = False
        self.indices = ember.LongTensor()

    def _from_lua(self, version):
        super(VolumetricMaxPooling, self)._from_lua(version)
        d = self.__dict__
        for name, value in (("padT", 0), ("padW", 0), ("padH", 0), ("ceil_mode", False)):
            d.setdefault(name, value)
        # THNN packed each argmax as the bytes (t, h, w) of its offset in the window: recomputed by forward
        self.indices = ember.LongTensor()

    def ceil(self):
        self.ceil_mode = True
        return self

    def floor(self):
        self.ceil_mode = False
        return self

    def updateOutput(self, input):
        if ember.is_tensor(input) and input.dim() >= 3:
            n = input.dim()
            self.itime, self.iheight, self.iwidth = input.size(n - 3), input.size(n - 2), input.size(n - 1)
        self.output, self.indices = K.max_pool3d_forward(input, (self.kT, self.kH, self.kW),
                                                         (self.dT, self.dH, self.dW),
                                                         (self.padT, self.padH, self.padW), 1, self.ceil_mode)
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.max_pool3d_backward(gradOutput, input.size(), self.indices)
        return self.gradInput

    def clearState(self):
        self.indices = ember.LongTensor()
        return super(VolumetricMaxPooling, self).clearState()

    def __repr__(self):
        s = "nn.VolumetricMaxPooling({}x{}x{}, {}, {}, {}".format(self.kT, self.kW, self.kH, self.dT, self.dW,
                                                                  self.dH)
        if self.padT != 0 or self.padW != 0 or self.padH != 0:
            s += ", {}, {}, {}".format(self.padT, self.padW, self.padH)
        return s + ")"
