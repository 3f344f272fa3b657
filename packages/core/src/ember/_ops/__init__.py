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
import functools as _functools

TORCH_FUNCTIONS = {}
VARIABLE_FUNCTIONS = {}  # name -> the implementation for Variables (filled by ember.autograd)
_variable_cls = []  # [Variable] once ember.autograd is imported
_cuda_guard = []  # [run f on the device of its first CUDA tensor] once ember.cuda is imported


def torch_function(fn=None, name=None):
    """Register ``fn`` as ``ember.<name>``; called with Variables, ``ember.<name>`` runs the Variable
    implementation that ember.autograd registered under the same name."""
    def deco(f):
        key = name or f.__name__
        TORCH_FUNCTIONS[key] = _dispatching(f, key)
        return f
    return deco(fn) if fn is not None else deco


def _dispatching(f, key):
    from ember.tensor import _TensorBase

    def dispatch(*args, **kwargs):
        if args and isinstance(args[0], _TensorBase):  # the tensor path stays one isinstance away
            if args[0].is_cuda:
                return _cuda_guard[0](f, args, kwargs)
            return f(*args, **kwargs)
        if _variable_cls and _has_variable(args, kwargs):
            impl = VARIABLE_FUNCTIONS.get(key)
            if impl is None:
                raise TypeError("ember.{}() does not support Variables: call it on var.data".format(key))
            return impl(*args, **kwargs)
        if _cuda_guard and args and type(args[0]) in (list, tuple) and args[0] and \
                getattr(args[0][0], "is_cuda", False) and isinstance(args[0][0], _TensorBase):
            return _cuda_guard[0](f, args, kwargs)  # cat/stack of CUDA tensors
        return f(*args, **kwargs)
    _functools.update_wrapper(dispatch, f)
    return dispatch


def _has_variable(args, kwargs):
    V = _variable_cls[0]
    for a in args:
        if isinstance(a, V) or (type(a) in (list, tuple) and a and isinstance(a[0], V)):
            return True
    for a in kwargs.values():
        if isinstance(a, V):
            return True
    return False


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
