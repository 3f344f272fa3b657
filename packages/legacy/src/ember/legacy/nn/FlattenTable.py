from .Module import Module


class FlattenTable(Module):
    """A nested list of tensors flattened depth-first into one list; the gradient is regrouped like the
    input."""

    def __init__(self):
        super(FlattenTable, self).__init__()
        self.output = []
        self.gradInput = []

    def updateOutput(self, input):
        out = []

        def walk(x):
            if isinstance(x, (list, tuple)):
                for v in x:
                    walk(v)
            else:
                out.append(x)
        walk(input)
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        it = iter(gradOutput)

        def regroup(x):
            if isinstance(x, (list, tuple)):
                return [regroup(v) for v in x]
            return next(it)
        self.gradInput = regroup(input)
        return self.gradInput

    def type(self, type=None, tensorCache=None):
        # output and gradInput only hold references to the caller's tensors
        if type is not None:
            self.output = []
            self.gradInput = []
        return super(FlattenTable, self).type(type, tensorCache)

    def _from_lua(self, version):
        super(FlattenTable, self)._from_lua(version)
        self.__dict__.pop("input_map", None)
