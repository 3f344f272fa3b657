"""ember.legacy.optim: Lua's optim package (PyTorch 0.2's ``torch.legacy.optim``).

Every algorithm is a function ``x, fx = algo(opfunc, x, config, state=None)``: ``opfunc(x)`` returns
``(f(x), df/dx)``, ``x`` (a flat tensor, e.g. from ``module.getParameters()``) is updated in place and
returned with f evaluated before the update; ``config`` holds the hyper-parameters and ``state`` (by
default ``config`` itself) the optimizer's buffers between calls. Where an algorithm is also in ember.optim
(sgd, adam, adagrad, adadelta, adamax, asgd, rmsprop, rprop, lbfgs) the update is the same.
"""
from .adadelta import adadelta
from .adagrad import adagrad
from .adam import adam
from .adamax import adamax
from .asgd import asgd
from .cg import cg
from .lbfgs import lbfgs
from .nag import nag
from .rmsprop import rmsprop
from .rprop import rprop
from .sgd import sgd

__all__ = ["sgd", "adam", "adagrad", "adadelta", "adamax", "asgd", "cg", "lbfgs", "nag", "rmsprop", "rprop"]
