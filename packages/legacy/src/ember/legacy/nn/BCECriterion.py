from ember import kernels

from .Criterion import Criterion


class BCECriterion(Criterion):
    """Binary cross entropy ``-w (t log(x) + (1 - t) log(1 - x))`` of probabilities ``x`` (logs of
    ``x + 1e-12`` as THNN), averaged (``sizeAverage``) or summed; ``weights`` (one per element of a sample)
    scale each term."""

    def __init__(self, weights=None, sizeAverage=True):
        super(BCECriterion, self).__init__()
        if weights is not None and weights.dim() != 1:
            raise ValueError("BCECriterion: weights must be a 1-D tensor, got size {}".format(list(weights.size())))
        self.weights = weights
        self.sizeAverage = sizeAverage
        self.output_tensor = None

    def _from_lua(self, version):
        super(BCECriterion, self)._from_lua(version)
        self.__dict__.setdefault("sizeAverage", True)
        self.__dict__.setdefault("weights", None)

    def _weights(self, target):
        w = self.weights
        if w is not None and target.dim() != 1:
            w = w.view(1, target.size(target.dim() - 1)).expand_as(target)
        return w

    def updateOutput(self, input, target):
        if input.numel() != target.numel():
            raise ValueError("BCECriterion: input and target size mismatch ({} and {} elements)"
                             .format(input.numel(), target.numel()))
        self.output_tensor = kernels.binary_cross_entropy_forward(input, target, self._weights(target),
                                                                  self.sizeAverage)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        self.gradInput = kernels.binary_cross_entropy_backward(1, input, target, self._weights(target),
                                                               self.sizeAverage)
        return self.gradInput
