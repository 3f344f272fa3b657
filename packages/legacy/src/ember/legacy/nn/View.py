import ember

from .Module import Module


class View(Module):
    """A view of the input with the given size (one size may be -1: inferred). Leading dimensions beyond
    the view are a batch dimension; :meth:`setNumInputDims` tells how many trailing dimensions make one
    sample."""

    def __init__(self, *args):
        super(View, self).__init__()
        if len(args) == 1 and isinstance(args[0], (ember.Size, tuple, list)):
            args = tuple(args[0])
        self.resetSize(*args)
        self.numInputDims = None

    def _from_lua(self, version):
        super(View, self)._from_lua(version)
        self.__dict__.setdefault("numInputDims", None)
        self.size = ember.Size([int(s) for s in self.size])

    def resetSize(self, *args):
        size = ember.Size(args)
        self.numElements = 1
        inferred = False
        for s in size:
            if s >= 0:
                self.numElements *= s
            elif s == -1:
                if inferred:
                    raise ValueError("View: only one dimension can be -1, got size {}".format(list(size)))
                inferred = True
            else:
                raise ValueError("View: sizes must be non-negative or -1, got {}".format(list(size)))
        self.size = size
        return self

    def setNumInputDims(self, numInputDims):
        self.numInputDims = numInputDims
        return self

    def _batchsize(self, input):
        ind = input.dim()
        isz = input.size()
        maxdim = self.numInputDims if self.numInputDims is not None else ind
        ine = 1
        for i in range(ind - 1, ind - maxdim - 1, -1):
            ine *= isz[i]
        if ine % self.numElements:
            raise ValueError("View: input view ({}) and desired view ({}) do not match"
                             .format("x".join(map(str, isz)), "x".join(map(str, self.size))))
        bsz = 1 if -1 in self.size else ine // self.numElements
        for i in range(ind - maxdim):
            bsz *= isz[i]
        if bsz == 1 and (self.numInputDims is None or ind <= self.numInputDims):
            return None
        return bsz

    def updateOutput(self, input):
        bsz = self._batchsize(input)
        if bsz is not None:
            self.output = input.view(bsz, *self.size)
        else:
            self.output = input.view(self.size)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = gradOutput.contiguous().view(input.size())
        return self.gradInput

    def __repr__(self):
        return "nn.View({})".format(", ".join(map(str, self.size)))
