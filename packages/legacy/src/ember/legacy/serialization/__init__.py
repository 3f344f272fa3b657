"""Lua Torch7 ``.t7`` files: :func:`load_lua` / :class:`T7Reader` (as PyTorch 0.2's
``torch.utils.serialization``) and the ember extras :func:`save_lua` / :class:`T7Writer`."""
from ._types import (LEGACY_TYPE_RECUR_FUNCTION, TYPE_BOOLEAN, TYPE_FUNCTION, TYPE_NIL, TYPE_NUMBER,
                     TYPE_RECUR_FUNCTION, TYPE_STRING, TYPE_TABLE, TYPE_TORCH, LuaFunction, T7ReaderException,
                     TdsHash, TdsVec, TorchObject, hashable_uniq_dict)
from .reader import T7Reader, load_lua
from .writer import T7Writer, save_lua

__all__ = ["load_lua", "save_lua", "T7Reader", "T7Writer", "T7ReaderException", "TorchObject", "LuaFunction",
           "TdsHash", "TdsVec", "hashable_uniq_dict"]
