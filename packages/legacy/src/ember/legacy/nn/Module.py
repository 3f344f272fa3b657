import builtins
import copy

import ember

from ._lua import LuaFields
from .utils import check_type, clear, recursiveType


class Module(LuaFields):
    """Base class of Lua-style modules: explicit ``forward`` / ``backward`` on tensors, no autograd.

    ``output`` and ``gradInput`` hold the results of the last pass; parameters and their gradients are
    plain tensor fields (``weight`` / ``gradWeight``, ``bias`` / ``gradBias``)."""

    def __init__(self):
        self.gradInput = ember.Tensor()
        self.output = ember.Tensor()
        self._type = self.output.type()
        self.train = True

    def __repr__(self):
        return "nn." + type(self).__name__

    def _from_lua(self, version):
        super(Module, self)._from_lua(version)
        d = self.__dict__
        d.setdefault("train", True)
        if "_type" not in d:
            out = d.get("output")
            self._type = out.type() if ember.is_tensor(out) else ember.Tensor().type()
        if "output" not in d or "gradInput" not in d:  # files of old nn versions lack them
            try:
                cls = check_type(self._type)
            except ValueError:
                cls = ember.Tensor
            d.setdefault("output", cls())
            d.setdefault("gradInput", cls())
        for p, g in (("weight", "gradWeight"), ("bias", "gradBias")):
            if ember.is_tensor(d.get(p)) and g not in d:  # saved without gradients (old files, clearState)
                d[g] = d[p].new().resize_as_(d[p]).zero_()

    # ------------------------------------------------------------------ the Lua API
    def parameters(self):
        """``([weight, bias], [gradWeight, gradBias])`` of the parameters this module has, or None."""
        has_weight = getattr(self, "weight", None) is not None
        has_bias = getattr(self, "bias", None) is not None
        if has_weight and has_bias:
            return [self.weight, self.bias], [self.gradWeight, self.gradBias]
        if has_weight:
            return [self.weight], [self.gradWeight]
        if has_bias:
            return [self.bias], [self.gradBias]
        return None

    def updateOutput(self, input):
        return self.output

    def forward(self, input):
        return self.updateOutput(input)

    def backward(self, input, gradOutput, scale=1):
        self.updateGradInput(input, gradOutput)
        self.accGradParameters(input, gradOutput, scale)
        return self.gradInput

    def backwardUpdate(self, input, gradOutput, lr):
        self.updateGradInput(input, gradOutput)
        self.accUpdateGradParameters(input, gradOutput, lr)
        return self.gradInput

    def updateGradInput(self, input, gradOutput):
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        pass

    def accUpdateGradParameters(self, input, gradOutput, lr):
        """Update the parameters in place by ``-lr *`` their gradient for this input, without touching the
        gradient buffers (the gradient is accumulated straight into the parameters)."""
        d = self.__dict__
        saved = {}
        for p, g in (("weight", "gradWeight"), ("bias", "gradBias")):
            if d.get(p) is not None:
                saved[g] = d.get(g)
                d[g] = d[p]
        try:
            self.accGradParameters(input, gradOutput, -lr)
        finally:
            d.update(saved)

    def sharedAccUpdateGradParameters(self, input, gradOutput, lr):
        if self.parameters():
            self.zeroGradParameters()
            self.accGradParameters(input, gradOutput, 1)
            self.updateParameters(lr)

    def zeroGradParameters(self):
        params = self.parameters()
        if params is not None:
            for grad in params[1]:
                grad.zero_()

    def updateParameters(self, learningRate):
        params = self.parameters()
        if params is not None:
            for p, gp in zip(*params):
                p.add_(-learningRate, gp)

    def training(self):
        self.train = True

    def evaluate(self):
        self.train = False

    def share(self, mlp, *names):
        """Make the named tensor fields of this module share the memory of ``mlp``'s (Lua's ``share``:
        ``m:share(other, 'weight', 'bias')``)."""
        for name in names:
            mine = getattr(self, name, None)
            theirs = getattr(mlp, name, None)
            if mine is not None and theirs is not None:
                if not ember.is_tensor(mine) or not ember.is_tensor(theirs):
                    raise TypeError("share: field {!r} is not a tensor in both modules".format(name))
                if type(mine) is not type(theirs):
                    raise TypeError("share: field {!r} is a {} here and a {} in the other module"
                                    .format(name, mine.type(), theirs.type()))
                mine.set_(theirs)
        return self

    def clone(self, *names):
        """A deep copy of this module (tensors that shared memory still share it among themselves); with
        field names, the copy then shares those fields with this module (``clone('weight', 'bias')``)."""
        clone = copy.deepcopy(self)
        if names:
            clone.share(self, *names)
        return clone

    def type(self, type=None, tensorCache=None):
        """Without arguments, the module's tensor type name; otherwise convert every floating-point tensor
        field (recursively, keeping storages shared) to ``type`` (``'torch.DoubleTensor'`` ...) and return
        the module."""
        if type is None:
            return self._type
        if not isinstance(type, str):
            type = type._typename if hasattr(type, "_typename") else str(type)
        if tensorCache is None:
            tensorCache = {}
        for key, param in list(self.__dict__.items()):
            setattr(self, key, recursiveType(param, type, tensorCache))
        self._type = type
        return self

    def float(self, *args):
        return self.type("torch.FloatTensor", *args)

    def double(self, *args):
        return self.type("torch.DoubleTensor", *args)

    def cuda(self, *args):
        return self.type("torch.cuda.FloatTensor", *args)

    def reset(self):
        pass

    def write(self, f):
        """Write this module to the open binary file ``f`` in Lua's ``.t7`` format."""
        from ember.legacy.serialization import T7Writer
        T7Writer(f).write(self)

    def read(self, f):
        """Replace this module's fields by those of the module stored in the open binary ``.t7`` file ``f``
        (it must be of this class)."""
        from ember.legacy.serialization import T7Reader
        other = T7Reader(f).read()
        if type(other) is not type(self):
            raise TypeError("read: the file holds a {}, not a {}".format(ember.typename(other), repr(self)))
        self.__dict__.clear()
        self.__dict__.update(other.__dict__)
        return self

    @staticmethod
    def _flatten(parameters):
        """One contiguous tensor holding the values of ``parameters``, which are re-pointed into it (tensors
        that shared a storage still share it; gaps that no tensor uses are squeezed out)."""
        if not parameters:
            return ember.Tensor()
        cls = type(parameters[0])
        for p in parameters:
            if type(p) is not cls:
                raise TypeError("getParameters: all parameters must have one type, got {} and {}"
                                .format(cls._typename, p.type()))
        # 1. the distinct storages, laid out one after the other
        storages = {}
        total = 0
        metas = []
        for p in parameters:
            if p.numel():
                s = p.storage()
                key = (s.data_ptr(), s.size())
                if key not in storages:
                    storages[key] = (s, total)
                    total += s.size()
                metas.append((p.storage_offset() + storages[key][1], p.size(), p.stride()))
            else:
                metas.append(None)
        flat = cls(total).zero_() if total else cls()
        for s, offset in storages.values():
            flat.narrow(0, offset, s.size()).copy_(cls(s))
        # 2. squeeze out elements no parameter refers to (a weight that views part of a larger storage)
        if total:
            used = cls(total).zero_()
            for meta in metas:
                if meta is not None:
                    cls().set_(used.storage(), meta[0], meta[1], meta[2]).fill_(1)
            if int(used.sum()) != total:
                keep = used.ne(0)
                new_pos = keep.long().cumsum(0).add_(-1)
                flat = flat.masked_select(keep)
                metas = [None if m is None else _squeezed(new_pos, m) for m in metas]
        # 3. re-point the parameters
        storage = flat.storage()
        for p, meta in zip(parameters, metas):
            if meta is not None:
                p.set_(storage, meta[0], meta[1], meta[2])
        return flat

    def flattenParameters(self):
        """0.2's name for :meth:`getParameters`."""
        return self.getParameters()

    def getParameters(self):
        """``(flatParameters, flatGradParameters)``: every parameter (and every gradient) re-pointed into one
        contiguous tensor, returned; updating the flat tensor updates the module. Call it once, since the
        parameters are re-allocated each time."""
        params = self.parameters()
        if params is None:
            return ember.Tensor(), ember.Tensor()
        parameters, gradParameters = params
        p = self._flatten(parameters)
        g = self._flatten(gradParameters)
        if p.numel() != g.numel():
            raise RuntimeError("getParameters: the parameters ({} values) and their gradients ({} values) are "
                               "laid out differently (check shared parameters: share the gradients too)"
                               .format(p.numel(), g.numel()))
        return p, g

    def apply(self, callback):
        callback(self)
        for module in getattr(self, "modules", None) or ():
            module.apply(callback)

    def findModules(self, typename, container=None):
        """``(nodes, containers)``: the modules of class ``typename`` (a class or ``'nn.Linear'``) in this
        module's tree, with the container holding each."""
        nodes, containers = [], []
        if isinstance(typename, builtins.type):
            match = isinstance(self, typename)
        else:
            match = typename in ("nn." + type(self).__name__, type(self).__name__)
        if match:
            nodes.append(self)
            containers.append(container)
        for child in getattr(self, "modules", None) or ():
            n, c = child.findModules(typename, self)
            nodes.extend(n)
            containers.extend(c)
        return nodes, containers

    def listModules(self):
        modules = [self]
        for child in getattr(self, "modules", None) or ():
            modules.extend(child.listModules())
        return modules

    def clearState(self):
        """Free the intermediate buffers (``output``, ``gradInput`` ...) before saving a module."""
        return clear(self, "output", "gradInput")

    def replace(self, callback):
        out = callback(self)
        modules = getattr(self, "modules", None)
        if modules:
            for i, module in enumerate(modules):
                modules[i] = module.replace(callback)
        return out

    def __call__(self, input=None, gradOutput=None):
        """Lua's ``m(input[, gradOutput])``: forward, and backward too when ``gradOutput`` is given."""
        self.forward(input)
        if gradOutput is not None:
            self.backward(input, gradOutput)
            return self.output, self.gradInput
        return self.output


def _squeezed(new_pos, meta):
    """(offset, size, stride) of a parameter once the unused elements are squeezed out of its storage."""
    offset, size, stride = meta
    pos = type(new_pos)().set_(new_pos.storage(), offset, size, stride)
    new_stride = []
    for d, n in enumerate(size):
        if n == 1:
            new_stride.append(stride[d])
            continue
        steps = pos.narrow(d, 1, n - 1) - pos.narrow(d, 0, n - 1)
        step = int(steps.min())
        if step != int(steps.max()):
            raise RuntimeError("getParameters: a parameter of size {} and stride {} interleaves with unused "
                               "memory in a way that can't be flattened".format(list(size), list(stride)))
        new_stride.append(step)
    return int(new_pos[offset]), size, tuple(new_stride)
