"""The conversion of the fields of modules and criteria between Lua's .t7 files and Python."""
from .utils import lua_index, python_index


class LuaFields(object):
    """Base of Module and Criterion: fields renamed and made 0-based when read from a .t7 file
    (``_from_lua``, called by the reader) and the other way when written (``_to_lua``, called by the
    writer)."""

    # fields that hold 1-based indices or dimensions in Lua (0-based here; negative ones are unchanged)
    _lua_index_fields = ()
    # Lua field names that differ here (Python keywords, 0.2's names): Lua name -> Python name
    _lua_renames = {}
    # values of fields that files from older Lua nn versions lack
    _lua_defaults = {}

    def _from_lua(self, version):
        d = self.__dict__
        for lua, py in self._lua_renames.items():
            if lua in d:
                d[py] = d.pop(lua)
        for name, value in self._lua_defaults.items():
            d.setdefault(name, value)
        for name in self._lua_index_fields:
            if name in d:
                d[name] = map_index(d[name], lua_index)

    def _to_lua(self):
        fields = dict(self.__dict__)
        for name in self._lua_index_fields:
            if name in fields:
                fields[name] = map_index(fields[name], python_index)
        for lua, py in self._lua_renames.items():
            if py in fields:
                fields[lua] = fields.pop(py)
        return fields


def map_index(value, fn):
    """``fn`` applied to an index, or to each index of a (nested) list of them."""
    if isinstance(value, (list, tuple)):
        return type(value)(map_index(v, fn) for v in value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return fn(value) if isinstance(value, int) and not isinstance(value, bool) else value
