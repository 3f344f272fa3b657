from .Module import Module
from .utils import check_type


class Copy(Module):
    """Copies its input into a tensor of type ``outtype`` (``'torch.FloatTensor'`` or a tensor class); the
    gradient comes back as ``intype``. With ``dontCast=True``, :meth:`type` leaves the module alone."""

    def __init__(self, intype, outtype, dontCast=False):
        super(Copy, self).__init__()
        self.gradInput = check_type(intype)()
        self.output = check_type(outtype)()
        self.dontCast = dontCast

    def _from_lua(self, version):
        super(Copy, self)._from_lua(version)
        self.__dict__.setdefault("dontCast", False)

    def updateOutput(self, input):
        self.output.resize_(input.size()).copy_(input)
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput.resize_(gradOutput.size()).copy_(gradOutput)
        return self.gradInput

    def type(self, type=None, tensorCache=None):
        if type is not None and self.dontCast:
            return self
        return super(Copy, self).type(type, tensorCache)
