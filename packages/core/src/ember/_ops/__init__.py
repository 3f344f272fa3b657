"""Op families. Each module here defines functions of PyTorch 0.2's ``torch.*`` namespace and the Tensor
methods, and registers them with the two decorators below; ``ember/__init__.py`` exports every
registered torch function.

Conventions every family follows:
- A function takes the tensor first (named ``input`` or as in 0.2's signature) so one body serves
  both ``torch.f(x, ...)`` and ``x.f(...)``.
- Arrays are reached through ``t._a`` and the array module ``type(t)._xp`` (NumPy or CuPy), never
  ``numpy`` directly where CuPy would do the same.
- New results are wrapped with ``cls._make(arr)`` (C-contiguous arrays); views with ``t._view(arr)``.
- ``out=`` is honoured: the result is resized into ``out`` and ``out`` is returned.
- Errors name the op, what was expected and what was given.
"""
TORCH_FUNCTIONS = {}


def torch_function(fn=None, name=None):
    """Register ``fn`` as ``ember.<name>``."""
    def deco(f):
        TORCH_FUNCTIONS[name or f.__name__] = f
        return f
    return deco(fn) if fn is not None else deco


def tensor_method(fn=None, name=None):
    """Attach ``fn`` to every Tensor class as method ``name``."""
    def deco(f):
        from ember.tensor import _TensorBase
        setattr(_TensorBase, name or f.__name__, f)
        return f
    return deco(fn) if fn is not None else deco


def both(fn=None, name=None):
    """A torch function that is also a Tensor method of the same name."""
    def deco(f):
        torch_function(f, name)
        tensor_method(f, name)
        return f
    return deco(fn) if fn is not None else deco
