"""``ember.utils.serialization``: PyTorch 0.2's Lua Torch7 (.t7) reader.

The reader lives in the ``ember-legacy`` distribution (``ember.legacy.serialization``); this module forwards
to it and says what to install when it is absent.
"""

__all__ = ["load_lua", "T7Reader"]

_FORWARDED = ("T7Reader", "T7ReaderException", "TorchObject", "LuaFunction", "hashable_uniq_dict")


def _legacy():
    try:
        from ember.legacy import serialization
    except ImportError as e:
        if e.name not in ("ember.legacy", "ember.legacy.serialization"):
            raise
        raise ImportError("ember.utils.serialization needs the `ember-legacy` distribution, which reads Lua "
                          "Torch7 files (pip install ember-legacy)", name=e.name) from None
    return serialization


def load_lua(filename, **kwargs):
    """Load a Lua Torch7 file; see ``ember.legacy.serialization.load_lua``."""
    return _legacy().load_lua(filename, **kwargs)


def __getattr__(name):
    if name in _FORWARDED:
        return getattr(_legacy(), name)
    raise AttributeError("module 'ember.utils.serialization' has no attribute '{}'".format(name))
