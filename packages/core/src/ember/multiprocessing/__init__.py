"""``ember.multiprocessing``: a drop-in for :mod:`multiprocessing` whose queues, pipes and pools move
Tensors and Storages through shared memory: the first send moves a storage into shared memory (once), and
every send after that passes only a handle. See the reference docs' "multiprocessing best practices" note.
"""
import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from ember._shared_memory import get_all_sharing_strategies, get_sharing_strategy, set_sharing_strategy
from .reductions import init_reductions

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__

init_reductions()
