from .HardTanh import HardTanh


class Clamp(HardTanh):
    """``y = clamp(x, min_value, max_value)`` (a HardTanh with other bounds)."""

    def __init__(self, min_value, max_value):
        super(Clamp, self).__init__(min_value, max_value)
