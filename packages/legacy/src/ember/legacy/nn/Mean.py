from .Sum import Sum


class Mean(Sum):
    """The mean over ``dimension`` (see :class:`Sum`)."""

    def __init__(self, dimension=0, nInputDims=None):
        super(Mean, self).__init__(dimension, True, nInputDims)

    def _from_lua(self, version):
        super(Mean, self)._from_lua(version)
        self.sizeAverage = True
