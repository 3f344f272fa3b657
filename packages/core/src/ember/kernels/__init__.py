"""ember.kernels: the non-differentiable nn kernels that ember.nn (autograd Functions) and ember.legacy
(Lua-style modules) both call, as THNN served torch.nn and torch.legacy.nn in PyTorch 0.2.

Every kernel takes and returns ember Tensors (never Variables), checks its arguments (errors name the
kernel and the sizes), and has one device dispatch point: its ``_*_cpu`` function, which calls the
Cython kernels in ``ember._C``; a GPU path joins beside it. Float and double tensors only.
Forward and backward are separate functions; a loss backward takes the loss's gradient first.
"""
from .batchnorm import batch_norm_backward, batch_norm_forward
from .embedding import embedding_backward, embedding_renorm_
from .loss import (binary_cross_entropy_backward, binary_cross_entropy_forward,
                   binary_cross_entropy_with_logits_backward, binary_cross_entropy_with_logits_forward,
                   cross_entropy_backward, cross_entropy_forward, kl_div_backward, kl_div_forward, l1_loss_backward,
                   l1_loss_forward, mse_loss_backward, mse_loss_forward, multi_margin_loss_backward,
                   multi_margin_loss_forward, multilabel_margin_loss_backward, multilabel_margin_loss_forward,
                   nll_loss_backward, nll_loss_forward, smooth_l1_loss_backward, smooth_l1_loss_forward,
                   soft_margin_loss_backward, soft_margin_loss_forward)
from .softmax import log_softmax_backward, log_softmax_forward, softmax_backward, softmax_forward

__all__ = [
    "softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
    "nll_loss_forward", "nll_loss_backward", "cross_entropy_forward", "cross_entropy_backward",
    "binary_cross_entropy_forward", "binary_cross_entropy_backward",
    "binary_cross_entropy_with_logits_forward", "binary_cross_entropy_with_logits_backward",
    "mse_loss_forward", "mse_loss_backward", "l1_loss_forward", "l1_loss_backward",
    "smooth_l1_loss_forward", "smooth_l1_loss_backward", "soft_margin_loss_forward", "soft_margin_loss_backward",
    "kl_div_forward", "kl_div_backward", "multi_margin_loss_forward", "multi_margin_loss_backward",
    "multilabel_margin_loss_forward", "multilabel_margin_loss_backward",
    "batch_norm_forward", "batch_norm_backward", "embedding_backward", "embedding_renorm_",
]

# pooling / unpooling, upsampling, padding, spatial transformer (grid_sample, affine_grid)
from . import padding, pooling, spatial, upsampling  # noqa: E402
from .padding import *  # noqa: E402,F401,F403
from .pooling import *  # noqa: E402,F401,F403
from .spatial import *  # noqa: E402,F401,F403
from .upsampling import *  # noqa: E402,F401,F403

__all__ += pooling.__all__ + upsampling.__all__ + padding.__all__ + spatial.__all__

# convolutions: 1-D/2-D/3-D, plain and transposed, forward and backward
from . import conv  # noqa: E402
from .conv import *  # noqa: E402,F401,F403

__all__ += conv.__all__

# local response normalisation across channels (nn.CrossMapLRN2d, legacy SpatialCrossMapLRN)
from . import lrn  # noqa: E402
from .lrn import *  # noqa: E402,F401,F403

__all__ += lrn.__all__

# recurrent layers: one layer and direction of RNN / LSTM / GRU over a sequence, forward and backward
from . import rnn  # noqa: E402
from .rnn import *  # noqa: E402,F401,F403

__all__ += rnn.__all__
