"""0.2's switches for warnings about behaviour that changed in 0.2 (broadcasting, keepdim)."""


class Warning(object):  # noqa: A001 (0.2's name)
    def __init__(self, setter, getter):
        self.setter = setter
        self.getter = getter

    def set_enabled(self, value):
        self.setter(value)

    def get_enabled(self):
        return self.getter()

    enabled = property(get_enabled, set_enabled)


class _Flag(object):
    __slots__ = ("value",)

    def __init__(self):
        self.value = False


class _FlagWarning(Warning):
    """A Warning whose ``enabled`` is a plain attribute read on hot paths."""

    def __init__(self):
        flag = _Flag()
        Warning.__init__(self, lambda v: setattr(flag, "value", bool(v)), lambda: flag.value)


broadcast_warning = _FlagWarning()
keepdim_warning = _FlagWarning()
