import ember

from .Container import Container


class Sequential(Container):
    """Modules applied one after the other: the output of each is the input of the next."""

    def add(self, module):
        if not self.modules:
            self.gradInput = module.gradInput
        self.modules.append(module)
        self.output = module.output
        return self

    def insert(self, module, index=None):
        """Insert ``module`` before position ``index`` (0-based; at the end when None)."""
        if index is None:
            index = len(self.modules)
        self.modules.insert(index, module)
        self.output = self.modules[-1].output
        self.gradInput = self.modules[0].gradInput
        return self

    def remove(self, index=-1):
        del self.modules[index]
        if self.modules:
            self.output = self.modules[-1].output
            self.gradInput = self.modules[0].gradInput
        else:
            self.output = ember.Tensor()
            self.gradInput = ember.Tensor()
        return self

    def updateOutput(self, input):
        current = input
        for module in self.modules:
            current = module.updateOutput(current)
        self.output = current
        return current

    def updateGradInput(self, input, gradOutput):
        modules = self.modules
        if not modules:
            self.gradInput = gradOutput
            return gradOutput
        current = gradOutput
        for i in range(len(modules) - 1, 0, -1):
            current = modules[i].updateGradInput(modules[i - 1].output, current)
        self.gradInput = modules[0].updateGradInput(input, current)
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        modules = self.modules
        current = gradOutput
        for i in range(len(modules) - 1, 0, -1):
            modules[i].accGradParameters(modules[i - 1].output, current, scale)
            current = modules[i].gradInput
        if modules:
            modules[0].accGradParameters(input, current, scale)

    def backward(self, input, gradOutput, scale=1):
        modules = self.modules
        if not modules:
            self.gradInput = gradOutput
            return gradOutput
        current = gradOutput
        for i in range(len(modules) - 1, 0, -1):
            current = modules[i].backward(modules[i - 1].output, current, scale)
        self.gradInput = modules[0].backward(input, current, scale)
        return self.gradInput

    def accUpdateGradParameters(self, input, gradOutput, lr):
        modules = self.modules
        current = gradOutput
        for i in range(len(modules) - 1, 0, -1):
            modules[i].accUpdateGradParameters(modules[i - 1].output, current, lr)
            current = modules[i].gradInput
        if modules:
            modules[0].accUpdateGradParameters(input, current, lr)

    def __repr__(self):
        tab, line, arrow = "  ", "\n", " -> "
        res = "nn.Sequential {" + line + tab + "[input"
        for i in range(len(self.modules)):
            res += arrow + "(" + str(i) + ")"
        res += arrow + "output]"
        for i, m in enumerate(self.modules):
            res += line + tab + "(" + str(i) + "): " + repr(m).replace(line, line + tab)
        return res + line + "}"
