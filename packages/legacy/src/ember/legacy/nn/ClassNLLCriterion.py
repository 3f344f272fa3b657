import ember
from ember import kernels

from .Criterion import Criterion


def class_target(target, input):
    """A class-index target as a LongTensor on ``input``'s device (Lua criteria also took a plain number for
    one sample)."""
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        t = ember.LongTensor([int(target)])
        return t.cuda(input.get_device()) if input.is_cuda else t
    if not ember.is_tensor(target):
        raise TypeError("expected a tensor of class indices or a number as the target, got {}"
                        .format(ember.typename(target)))
    return target if isinstance(target, ember.LongTensor) else target.long()


class ClassNLLCriterion(Criterion):
    """The negative log-likelihood ``-weights[t] * x[t]`` of the (0-based) target classes given
    log-probabilities ``x`` (one sample of C, or N x C), averaged over the total weight (``sizeAverage``)
    or summed; targets equal to ``ignore_index`` add nothing."""

    _lua_renames = {"ignoreIndex": "ignore_index"}
    _lua_index_fields = ("ignore_index",)

    def __init__(self, weights=None, sizeAverage=True, ignore_index=-100):
        super(ClassNLLCriterion, self).__init__()
        if weights is not None and weights.dim() != 1:
            raise ValueError("{}: weights must be a 1-D tensor, got size {}".format(type(self).__name__,
                                                                                   list(weights.size())))
        self.weights = weights
        self.sizeAverage = sizeAverage
        self.ignore_index = ignore_index
        self.output_tensor = None
        self.total_weight_tensor = None

    def _from_lua(self, version):
        super(ClassNLLCriterion, self)._from_lua(version)
        d = self.__dict__
        d.setdefault("weights", None)
        d.setdefault("sizeAverage", True)
        d.setdefault("ignore_index", -100)

    def updateOutput(self, input, target):
        target = class_target(target, input)
        self.output_tensor, self.total_weight_tensor = kernels.nll_loss_forward(
            input, target, self.weights, self.sizeAverage, self.ignore_index)
        self.output = float(self.output_tensor[0])
        return self.output

    def updateGradInput(self, input, target):
        target = class_target(target, input)
        self.gradInput = kernels.nll_loss_backward(1, input, target, self.weights, self.sizeAverage,
                                                   self.ignore_index, self.total_weight_tensor)
        return self.gradInput
