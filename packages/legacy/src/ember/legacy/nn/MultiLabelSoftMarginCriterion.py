from ember import kernels

from .Criterion import Criterion


class MultiLabelSoftMarginCriterion(Criterion):
    """Binary cross entropy of ``sigmoid(x)`` against 0/1 targets (computed from ``x`` without overflow),
    optionally weighted per class, averaged over all elements (``sizeAverage``) or summed."""

    def __init__(self, weights=None, sizeAverage=True):
        super(MultiLabelSoftMarginCriterion, self).__init__()
        if weights is not None and weights.dim() != 1:
            raise ValueError("MultiLabelSoftMarginCriterion: weights must be a 1-D tensor, got size {}"
                             .format(list(weights.size())))
        self.weights = weights
        self.sizeAverage = sizeAverage

    def _from_lua(self, version):
        super(MultiLabelSoftMarginCriterion, self)._from_lua(version)
        d = self.__dict__
        d.setdefault("weights", None)
        d.setdefault("sizeAverage", True)
        for name in ("sigmoid", "lsm", "nll", "_buffer1", "_buffer2"):
            d.pop(name, None)  # Lua's helper modules and buffers

    def _weights(self, target):
        w = self.weights
        if w is not None and target.dim() != 1:
            w = w.view(1, target.size(target.dim() - 1)).expand_as(target)
        return w

    def updateOutput(self, input, target):
        out = kernels.binary_cross_entropy_with_logits_forward(input, target, self._weights(target),
                                                               self.sizeAverage)
        self.output = float(out[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.binary_cross_entropy_with_logits_backward(1, input, target, self._weights(target),
                                                                           self.sizeAverage)
        return self.gradInput
