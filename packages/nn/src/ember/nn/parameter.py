from ember.autograd import Variable


class Parameter(Variable):
    """A Variable that is a module parameter: assigned as a Module attribute it is registered in the
    module's parameters. Requires grad by default and is never volatile."""
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        return Variable.__new__(cls, data, requires_grad=requires_grad)

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:" + self.data.__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad))
