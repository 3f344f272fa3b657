from .ClassNLLCriterion import ClassNLLCriterion


class SpatialClassNLLCriterion(ClassNLLCriterion):
    """:class:`ClassNLLCriterion` for each pixel: input N x C x H x W log-probabilities, target N x H x W
    class indices (0-based)."""

    def _check(self, input, target):
        if input.dim() != 4 or target.dim() != 3:
            raise ValueError("SpatialClassNLLCriterion: expected a 4-D input (N x C x H x W) and a 3-D target "
                             "(N x H x W), got sizes {} and {}".format(list(input.size()), list(target.size())))

    def updateOutput(self, input, target):
        self._check(input, target)
        return super(SpatialClassNLLCriterion, self).updateOutput(input, target)

    def updateGradInput(self, input, target):
        self._check(input, target)
        return super(SpatialClassNLLCriterion, self).updateGradInput(input, target)
