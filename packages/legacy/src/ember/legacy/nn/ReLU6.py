from .HardTanh import HardTanh


class ReLU6(HardTanh):
    """``y = min(max(0, x), 6)``."""

    _lua_defaults = {"min_val": 0, "max_val": 6, "inplace": False}

    def __init__(self, inplace=False):
        super(ReLU6, self).__init__(0, 6, inplace)
