"""ember.legacy: PyTorch 0.2's ``torch.legacy`` (Lua Torch's nn and optim) and Lua Torch7 ``.t7`` files.

Shipped by the ``ember-legacy`` distribution. :func:`load_lua` reads ``.t7`` files as 0.2's
``torch.utils.serialization.load_lua`` did; :func:`save_lua` (an ember extra) writes them. :func:`to_nn` (an
ember extra) turns a legacy.nn model into an equivalent ember.nn module, to train it further with autograd.
"""
from .serialization import load_lua, save_lua  # noqa: F401
from .to_nn import to_nn  # noqa: F401


def __getattr__(name):
    # torch.legacy.nn / torch.legacy.optim, imported on first use
    if name in ("nn", "optim"):
        import importlib
        return importlib.import_module(__name__ + "." + name)
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
