"""The values a .t7 file holds that Python has no type for, and the reader's exception."""
import reprlib

TYPE_NIL = 0
TYPE_NUMBER = 1
TYPE_STRING = 2
TYPE_TABLE = 3
TYPE_TORCH = 4
TYPE_BOOLEAN = 5
TYPE_FUNCTION = 6
LEGACY_TYPE_RECUR_FUNCTION = 7
TYPE_RECUR_FUNCTION = 8


class T7ReaderException(Exception):
    """A .t7 file could not be read: corrupt, truncated, hostile, or holding a class ember can't load."""


class hashable_uniq_dict(dict):
    """A Lua table read as a dict (0.2's name). It hashes by identity, as Lua tables do, so a table can be a
    key of another table, and its string keys read as attributes (``t.weight``).

    Unlike 0.2's, ``==`` compares contents (a plain dict's equality), which is what tests and users expect;
    as keys, two tables with equal contents stay distinct because their hashes differ."""

    __slots__ = ()

    def __hash__(self):
        return id(self)

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError("Lua table has no key {!r}".format(key)) from None


class TdsHash(hashable_uniq_dict):
    """A ``tds.Hash`` (ember extra): a dict that is written back as a tds.Hash."""

    __slots__ = ()


class TdsVec(list):
    """A ``tds.Vec`` (ember extra): a list that is written back as a tds.Vec."""

    __slots__ = ()

    def __hash__(self):
        return id(self)


class TorchObject(object):
    """An object of a Lua ``torch.class`` that ember has no class for, with its fields.

    ``obj.field`` and ``obj['field']`` read a field, ``torch_typename()`` gives the Lua class name.
    ``version`` (an ember extra) is the class version the file recorded; the writer writes it back."""

    def __init__(self, typename, obj, version=1):
        self._typename = typename
        self._obj = obj
        self._version = version

    def __getattr__(self, k):
        if k.startswith("__") or k in ("_obj", "_typename", "_version"):  # not fields: copy/pickle probes
            raise AttributeError(k)
        try:
            return self._obj[k]
        except (KeyError, TypeError):
            raise AttributeError("TorchObject({}) has no field {!r}".format(self._typename, k)) from None

    def __getitem__(self, k):
        return self._obj[k]

    def torch_typename(self):
        return self._typename

    @reprlib.recursive_repr()
    def __repr__(self):
        return "TorchObject({}, {!r})".format(self._typename, self._obj)

    def __dir__(self):
        return [k for k in self._obj if isinstance(k, str)] + ["torch_typename"]


class LuaFunction(object):
    """A serialized Lua function: its bytecode (``dumped``, bytes) and upvalues. Never executed; written
    back as it was read. ``kind`` (ember extra) is the type code it was stored with."""

    def __init__(self, size, dumped, upvalues, kind=TYPE_RECUR_FUNCTION):
        self.size = size
        self.dumped = dumped
        self.upvalues = upvalues
        self.kind = kind

    @reprlib.recursive_repr()
    def __repr__(self):
        return "LuaFunction(size={}, dumped={!r}, upvalues={!r})".format(self.size, self.dumped, self.upvalues)
