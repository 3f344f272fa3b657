from .Module import Module


class CAddTable(Module):
    """The elementwise sum of a list of tensors; ``inplace=True`` accumulates into the first one."""

    def __init__(self, inplace=False):
        super(CAddTable, self).__init__()
        self.inplace = inplace
        self.gradInput = []

    def _from_lua(self, version):
        super(CAddTable, self)._from_lua(version)
        self.__dict__.setdefault("inplace", False)

    def updateOutput(self, input):
        out = input[0] if self.inplace else input[0].clone()
        for t in input[1:]:
            out.add_(t)
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        self.gradInput = [gradOutput if self.inplace else gradOutput.clone() for _ in input]
        return self.gradInput
