"""ember.autograd: automatic differentiation of arbitrary scalar-valued functions (PyTorch 0.2's
torch.autograd). Wrap tensors in Variables and call ``.backward()`` on the result.

``ember.autograd.gradcheck`` is the function (as in 0.2); ``gradgradcheck`` lives in the module
``ember.autograd.gradcheck``.
"""
from ember import _ops as _ops_registry
from .variable import Variable
from .function import (Function, InplaceFunction, NestedIOFunction, StochasticFunction,  # noqa: F401
                       once_differentiable)
from .engine import backward, grad  # noqa: F401
# each family attaches its Variable methods and registers its ember.* functions for Variables
from ._functions import basic_ops, pointwise, tensor, reduce, blas, linalg, stochastic, compare  # noqa: F401
from .gradcheck import gradcheck  # noqa: F401,E402  (shadows the module name, as in 0.2)

__all__ = ["Variable", "Function", "StochasticFunction", "backward"]

compare.wrap_remaining()
_ops_registry._variable_cls[:] = [Variable]
