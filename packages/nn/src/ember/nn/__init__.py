"""ember.nn: PyTorch 0.2's neural-network modules (distribution ember-nn)."""
from .modules import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
from . import functional, init, utils, parallel  # noqa: F401
from .parallel import DataParallel  # noqa: F401
