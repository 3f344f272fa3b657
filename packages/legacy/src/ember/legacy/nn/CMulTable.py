from .Module import Module


class CMulTable(Module):
    """The elementwise product of a list of tensors."""

    def __init__(self):
        super(CMulTable, self).__init__()
        self.gradInput = []

    def updateOutput(self, input):
        out = input[0].clone()
        for t in input[1:]:
            out.mul_(t)
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        grads = []
        for i in range(len(input)):
            g = gradOutput.clone()
            for j, t in enumerate(input):
                if j != i:
                    g.mul_(t)
            grads.append(g)
        self.gradInput = grads
        return grads
