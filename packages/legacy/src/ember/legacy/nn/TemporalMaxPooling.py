import ember
import ember.kernels as K

from .Module import Module
from ._helpers import check_dims


class TemporalMaxPooling(Module):
    """Max over time of each feature: input ``nInputFrame x frameSize`` (or ``N x nInputFrame x frameSize``),
    windows of ``kW`` frames with step ``dW`` (default ``kW``), output ``nOutputFrame x frameSize``."""

    def __init__(self, kW, dW=None):
        super(TemporalMaxPooling, self).__init__()
        self.kW = kW
        self.dW = dW if dW is not None else kW
        self.indices = ember.LongTensor()

    def _from_lua(self, version):
        super(TemporalMaxPooling, self)._from_lua(version)
        self.__dict__.setdefault("dW", self.kW)
        # Lua kept the offset within the window; these indices are positions in time: recomputed by forward
        self.indices = ember.LongTensor()

    @staticmethod
    def _time_last(t):
        return t.transpose(t.dim() - 2, t.dim() - 1)

    def updateOutput(self, input):
        check_dims(self, input, (2, 3))
        # the kernel pools the last dim: time, once the input is transposed
        y, ind = K.max_pool1d_forward(self._time_last(input), self.kW, self.dW)
        self.indices = self._time_last(ind)
        self.output = self._time_last(y).contiguous()
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        gi = K.max_pool1d_backward(self._time_last(gradOutput), self._time_last(input).size(),
                                   self._time_last(self.indices))
        self.gradInput = self._time_last(gi).contiguous()
        return self.gradInput

    def clearState(self):
        self.indices = ember.LongTensor()
        return super(TemporalMaxPooling, self).clearState()
