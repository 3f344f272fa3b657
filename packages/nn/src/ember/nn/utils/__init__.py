"""ember.nn.utils: gradient clipping and weight normalization (rnn packing joins with the RNN layers)."""
from .clip_grad import clip_grad_norm  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: F401
from . import rnn  # noqa: F401,E402
