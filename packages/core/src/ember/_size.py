class Size(tuple):
    """``torch.Size``: a tuple of ints that prints as ``torch.Size([2, 3])``."""
    __slots__ = ()

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for i, s in enumerate(sizes):
            if type(s) is not int:
                if hasattr(s, "__index__") and not isinstance(s, bool):
                    continue
                raise TypeError("torch.Size() takes an iterable of 'int' (item {} is '{}')"
                                .format(i, type(s).__name__))
        return tuple.__new__(cls, (int(s) for s in sizes))

    def __repr__(self):
        return "torch.Size([{}])".format(", ".join(str(s) for s in self))

    __str__ = __repr__

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))
