"""Helpers shared by the legacy.nn modules (0.2's ``torch/legacy/nn/utils.py`` plus Lua's ``nn.utils``).

Tables of Lua become Python lists here: a table module's input, output and gradInput are (nested) lists of
tensors. Lua's 1-based dimensions and indices are 0-based in Python; :func:`lua_index` converts fields of
modules read from ``.t7`` files (negative values count from the end in both languages and stay as they are).
"""
import builtins

import ember
import ember.tensor

__all__ = ["clear", "recursiveType", "recursiveResizeAs", "recursiveFill", "recursiveCopy", "recursiveAdd",
           "addSingletonDimension", "contiguousView", "lua_index", "python_index", "is_table",
           "check_type", "positive_dim"]


def is_table(x):
    return isinstance(x, (list, tuple))


def lua_index(value):
    """A 1-based Lua index or dimension as a 0-based Python one (negative ones count from the end in both)."""
    if value is None or value < 0:
        return value
    return int(value) - 1


def python_index(value):
    """The inverse of :func:`lua_index`, for writing modules back to ``.t7``."""
    if value is None or value < 0:
        return value
    return int(value) + 1


def clear(self, *names):
    """Empty the named fields: tensors become empty tensors of their type, lists empty lists."""
    for name in names:
        value = getattr(self, name, None)
        if value is None:
            continue
        if ember.is_tensor(value):
            setattr(self, name, value.new())
        elif isinstance(value, list):
            setattr(self, name, [])
        else:
            setattr(self, name, None)
    return self


def _storage_key(storage):
    return (storage.data_ptr(), storage.size(), type(storage)) if storage.size() else id(storage)


def recursiveType(param, type, tensorCache=None):
    """``param`` with every floating-point tensor in it converted to the tensor type named ``type``.

    Modules and criteria inside are converted in place (their ``type``). Tensors that share a storage still
    share one after conversion (``tensorCache`` maps storages already converted). Integer tensors (indices,
    masks) keep their type, as the compute kernels need them."""
    if tensorCache is None:
        tensorCache = {}
    from .Module import Module
    from .Criterion import Criterion
    if isinstance(param, list):
        for i, p in enumerate(param):
            param[i] = recursiveType(p, type, tensorCache)
    elif isinstance(param, tuple):
        param = tuple(recursiveType(p, type, tensorCache) for p in param)
    elif isinstance(param, dict):
        for k in list(param.keys()):
            param[k] = recursiveType(param[k], type, tensorCache)
    elif isinstance(param, (Module, Criterion)):
        param.type(type, tensorCache)
    elif ember.is_tensor(param):
        if param.type() != type and builtins.type(param)._is_floating:
            key = ("tensor", id(param))
            if key in tensorCache:
                return tensorCache[key][1]
            new_cls = check_type(type)
            if not param.numel():
                newparam = new_cls()
            else:
                storage = param.storage()
                skey = _storage_key(storage)
                if skey not in tensorCache:
                    tensorCache[skey] = (storage, new_cls._storage_cls(storage.size()).copy_(storage))
                newparam = new_cls().set_(tensorCache[skey][1], param.storage_offset(), param.size(),
                                          param.stride())
            # the source stays referenced so that its id can't be reused while the cache lives
            tensorCache[key] = (param, newparam)
            param = newparam
    return param


def check_type(name):
    """The tensor class a type name (``'torch.DoubleTensor'``, ``'ember.cuda.FloatTensor'``) names (a class
    is returned as it is); ValueError when unknown."""
    if not isinstance(name, str):
        return name
    parts = name.split(".")
    if parts[0] not in ("torch", "ember") or len(parts) not in (2, 3) or (len(parts) == 3 and parts[1] != "cuda"):
        raise ValueError("type(): unknown tensor type {!r}".format(name))
    home = ember.cuda if len(parts) == 3 else ember
    cls = getattr(home, parts[-1], None)
    if not (isinstance(cls, builtins.type) and issubclass(cls, ember.tensor._TensorBase)):
        raise ValueError("type(): unknown tensor type {!r}".format(name))
    return cls


def recursiveResizeAs(t1, t2):
    """``t1`` (a tensor or a nested list) resized like ``t2``; returns ``(t1, t2)``."""
    if is_table(t2):
        t1 = t1 if isinstance(t1, list) else []
        for i in range(len(t2)):
            if i < len(t1):
                t1[i], _ = recursiveResizeAs(t1[i], t2[i])
            else:
                t1.append(recursiveResizeAs(None, t2[i])[0])
        del t1[len(t2):]
    elif ember.is_tensor(t2):
        if not ember.is_tensor(t1) or type(t1) is not type(t2):
            t1 = t2.new()
        t1.resize_as_(t2)
    else:
        raise TypeError("recursiveResizeAs: expected a tensor or a list of tensors, got {}"
                        .format(ember.typename(t2)))
    return t1, t2


def recursiveFill(t, value):
    if is_table(t):
        for x in t:
            recursiveFill(x, value)
    else:
        t.fill_(value)
    return t


def recursiveCopy(t1, t2):
    """``t1`` made a copy of ``t2`` (tensors or nested lists); returns the result."""
    if is_table(t2):
        t1 = t1 if isinstance(t1, list) else []
        for i in range(len(t2)):
            if i < len(t1):
                t1[i] = recursiveCopy(t1[i], t2[i])
            else:
                t1.append(recursiveCopy(None, t2[i]))
        del t1[len(t2):]
    else:
        if not ember.is_tensor(t1) or type(t1) is not type(t2):
            t1 = t2.new()
        t1.resize_as_(t2).copy_(t2)
    return t1


def recursiveAdd(t1, val=1, t2=None):
    """``t1 += val * t2`` elementwise through nested lists (``recursiveAdd(t1, t2)`` means val = 1)."""
    if t2 is None:
        t2, val = val, 1
    if is_table(t2):
        for a, b in zip(t1, t2):
            recursiveAdd(a, val, b)
    else:
        t1.add_(val, t2)
    return t1


def addSingletonDimension(*args):
    """``addSingletonDimension([view,] t, dim=0)``: ``t`` with a size-1 dimension inserted at ``dim``,
    written into ``view`` when given (0.2's helper)."""
    view = None
    if len(args) >= 2 and ember.is_tensor(args[1]):
        view, args = args[0], args[1:]
    t = args[0]
    dim = args[1] if len(args) > 1 else 0
    if not 0 <= dim <= t.dim():
        raise ValueError("addSingletonDimension: dimension {} out of range for a {}-D tensor".format(dim, t.dim()))
    size = list(t.size())
    stride = list(t.stride())
    size.insert(dim, 1)
    stride.insert(dim, stride[dim] * size[dim + 1] if dim < t.dim() else 1)
    view = t.new() if view is None else view
    return view.set_(t.storage(), t.storage_offset(), ember.Size(size), tuple(stride))


def contiguousView(output, input, *args):
    """``input`` viewed with the given size: a view when it is contiguous, else a copy into ``output``."""
    output = input.new() if output is None else output
    if input.is_contiguous():
        return input.view(*args)
    output.resize_as_(input).copy_(input)
    return output.view(*args)


def positive_dim(dimension, nInputDims, input):
    """The 0-based dimension a module with Lua's ``(dimension, nInputDims)`` acts on: negative dimensions count
    from the end; with ``nInputDims``, an input with one more dimension is a batch and shifts it by one."""
    if dimension < 0:
        d = input.dim() + dimension
    elif nInputDims is not None and input.dim() == nInputDims + 1:
        d = dimension + 1
    else:
        d = dimension
    if not 0 <= d < input.dim():
        raise ValueError("dimension {} out of range for a {}-D input".format(dimension, input.dim()))
    return d
