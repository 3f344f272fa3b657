"""ember.optim: the optimizers of PyTorch 0.2 (and lr_scheduler, imported explicitly as in 0.2)."""
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

del adadelta, adagrad, adam, adamax, asgd, lbfgs, optimizer, rmsprop, rprop, sgd  # noqa: F821
