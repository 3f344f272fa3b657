import ember.kernels as K

from .Module import Module


class VolumetricAveragePooling(Module):
    """Average pooling over ``kT x kH x kW`` windows of ``nPlane x T x H x W`` volumes (or a batch of them),
    steps ``dT``, ``dW``, ``dH`` (default: the window size)."""

    def __init__(self, kT, kW, kH, dT=None, dW=None, dH=None):
        super(VolumetricAveragePooling, self).__init__()
        self.kT, self.kW, self.kH = kT, kW, kH
        self.dT = dT if dT is not None else kT
        self.dW = dW if dW is not None else kW
        self.dH = dH if dH is not None else kH

    def _args(self):
        return (self.kT, self.kH, self.kW), (self.dT, self.dH, self.dW)

    def updateOutput(self, input):
        self.output = K.avg_pool3d_forward(input, *self._args())
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.avg_pool3d_backward(gradOutput, input.size(), *self._args())
        return self.gradInput

    def __repr__(self):
        return "nn.VolumetricAveragePooling({}x{}x{}, {}, {}, {})".format(self.kT, self.kW, self.kH, self.dT,
                                                                          self.dW, self.dH)
