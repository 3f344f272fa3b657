from .Max import Max


class Min(Max):
    """The minimum over ``dimension`` (see :class:`Max`)."""

    _reduce = "min"
