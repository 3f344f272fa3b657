"""ember.nn.functional: the functional forms of every layer and loss (PyTorch 0.2's torch.nn.functional).

Each family lives in ``ember/nn/_functional/<family>.py`` (its autograd Functions beside its wrappers);
this module re-exports their public names."""
from ._functional.linear import *  # noqa: F401,F403
from ._functional.activation import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.distance import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.normalization import *  # noqa: F401,F403
from ._functional.sparse import *  # noqa: F401,F403
from ._functional.padding import *  # noqa: F401,F403
from ._functional.pixelshuffle import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.upsampling import *  # noqa: F401,F403
from ._functional.vision import *  # noqa: F401,F403
from ._functional.rnn import *  # noqa: F401,F403
