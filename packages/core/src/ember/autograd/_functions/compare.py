"""Operations without gradient on Variables: comparisons (ByteTensor results), nonzero, equal, all, any,
and the wrapping of every remaining Tensor method.

Comparison results are Variables that do not require grad. A Tensor method with no gradient formula
here runs on the data when no input needs a gradient, and raises NotImplementedError naming the op
when one does (instead of silently cutting the graph)."""
from ember._ops import TORCH_FUNCTIONS, VARIABLE_FUNCTIONS
from ember.tensor import _TensorBase, _typename_of
from .utils import Variable, _nograd, _number, both


def _make_compare(name):
    def f(self, other):
        if isinstance(other, Variable):
            return _nograd(getattr(self.data, name)(other.data), self, other)
        if _number(other):
            return _nograd(getattr(self.data, name)(other), self)
        raise TypeError("{}() received an invalid combination of arguments - got ({}), but expected (Variable other) "
                        "or (float value)".format(name, _typename_of(other)))

    def op(self, other):
        if isinstance(other, Variable) or _number(other):
            return f(self, other)
        return NotImplemented
    f.__name__ = name
    both(f)
    setattr(Variable, "__{}__".format(name), op)


for _n in ("eq", "ne", "lt", "le", "gt", "ge"):
    _make_compare(_n)
del _n


@both
def nonzero(self):
    return _nograd(self.data.nonzero(), self)


@both
def equal(self, other):
    return self.data.equal(other.data if isinstance(other, Variable) else other)


# results never carry a gradient (indices, counts, booleans, or values of no differentiable use)
NON_DIFFERENTIABLE = {"all", "any", "histc", "is_contiguous", "is_same_size", "is_set_to", "is_signed",
                      "numel", "nelement", "dim", "ndimension", "size", "stride", "element_size", "data_ptr",
                      "storage_offset", "get_device", "tolist", "numpy", "storage", "is_pinned", "is_shared",
                      "btrifact", "eq_", "ne_", "lt_", "le_", "gt_", "ge_", "__and__", "__or__", "__xor__",
                      "__lshift__", "__rshift__", "__invert__", "__iand__", "__ior__", "__ixor__", "__ilshift__",
                      "__irshift__", "random_", "new", "pin_memory", "share_memory_", "apply_", "map_", "map2_",
                      "resize_", "resize_as_", "set_", "storage_type"}


def _unwrap(x):
    if isinstance(x, Variable):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(i) for i in x)
    return x


def _wrap_result(r, inputs, self_var, self_data):
    if r is self_data:
        return self_var
    if isinstance(r, _TensorBase):
        return _nograd(r, *inputs)
    if isinstance(r, tuple):
        return tuple(_wrap_result(x, inputs, self_var, self_data) for x in r)
    if isinstance(r, list):
        return [_wrap_result(x, inputs, self_var, self_data) for x in r]
    return r


def _generic(name):
    differentiable = name not in NON_DIFFERENTIABLE

    def f(self, *args, **kwargs):
        inputs = (self,) + tuple(a for a in args if isinstance(a, Variable)) + tuple(
            v for v in kwargs.values() if isinstance(v, Variable))
        if differentiable and any(v._requires_grad for v in inputs):
            raise NotImplementedError("{}(): no gradient formula for Variables that require grad; call it on "
                                      "var.data (or detach()) to use it without gradient".format(name))
        data = self.data
        r = getattr(data, name)(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        if name.endswith("_") and r is data:
            self._vc[0] += 1
        return _wrap_result(r, inputs, self, data)
    f.__name__ = name
    return f


_SKIP = {"data", "shape", "is_cuda", "is_sparse", "type", "storage_type"}


def wrap_remaining():
    """Give Variable every public Tensor method it does not define yet, and every ``ember.*`` function
    that is also a Variable method its Variable form (called once all families are imported)."""
    for name in dir(_TensorBase):
        if name in _SKIP or hasattr(Variable, name) and name not in ("__and__", "__or__", "__xor__", "__lshift__",
                                                                     "__rshift__", "__invert__"):
            continue
        if name.startswith("_") and name not in NON_DIFFERENTIABLE:
            continue
        attr = getattr(_TensorBase, name, None)
        if not callable(attr) or isinstance(attr, type):
            continue
        setattr(Variable, name, _generic(name))
    for name in TORCH_FUNCTIONS:
        if name not in VARIABLE_FUNCTIONS and callable(getattr(Variable, name, None)):
            VARIABLE_FUNCTIONS[name] = getattr(Variable, name)

