from .Module import Module
from .utils import clear


class Container(Module):
    """A module made of the modules in ``self.modules`` (a list)."""

    def __init__(self, *args):
        super(Container, self).__init__(*args)
        self.modules = []

    def _from_lua(self, version):
        super(Container, self)._from_lua(version)
        modules = self.__dict__.get("modules")
        if modules is None:
            self.modules = []
        elif isinstance(modules, dict):  # a sparse or empty Lua table
            self.modules = [modules[k] for k in sorted(modules)]

    def add(self, module):
        self.modules.append(module)
        return self

    def get(self, index):
        return self.modules[index]

    def size(self):
        return len(self.modules)

    def __len__(self):
        return len(self.modules)

    def applyToModules(self, func):
        for module in self.modules:
            func(module)

    def zeroGradParameters(self):
        self.applyToModules(lambda m: m.zeroGradParameters())

    def updateParameters(self, learningRate):
        self.applyToModules(lambda m: m.updateParameters(learningRate))

    def training(self):
        self.applyToModules(lambda m: m.training())
        super(Container, self).training()

    def evaluate(self):
        self.applyToModules(lambda m: m.evaluate())
        super(Container, self).evaluate()

    def share(self, mlp, *args):
        for module, other in zip(self.modules, mlp.modules):
            module.share(other, *args)
        return self

    def reset(self, stdv=None):
        for m in self.modules:
            if stdv is None:
                m.reset()
            else:
                m.reset(stdv)

    def parameters(self):
        w, gw = [], []
        for module in self.modules:
            params = module.parameters()
            if params is not None:
                w.extend(params[0])
                gw.extend(params[1])
        if not w:
            return None
        return w, gw

    def clearState(self):
        clear(self, "output", "gradInput")
        for module in self.modules:
            module.clearState()
        return self

    def _branches_repr(self):
        """Lua's display of modules that all see the same input (Concat, ConcatTable, ParallelTable ...)."""
        tab, line = "  ", "\n"
        res = "nn." + type(self).__name__ + " {" + line + tab + "input"
        for i, m in enumerate(self.modules):
            last = i == len(self.modules) - 1
            arrow, ext = ("   `-> ", "       ") if last else ("  |`-> ", "  |    ")
            res += line + tab + arrow + "(" + str(i) + "): " + repr(m).replace(line, line + tab + ext)
        return res + line + tab + "   ... -> output" + line + "}"

    def __repr__(self):
        return self._branches_repr()
