from .Module import Module


class MixtureTable(Module):
    """A mixture of experts: ``[gater, experts]`` with gater weights ``N x E`` (or ``E``) and the experts
    as a list of E tensors ``N x ...`` or as one tensor with the experts along dimension ``dim`` (default 1
    for a batch, 0 for a single sample); the output is ``sum_e gater[:, e] * expert_e``."""

    _lua_index_fields = ("dim",)

    def __init__(self, dim=None):
        super(MixtureTable, self).__init__()
        self.dim = dim
        self.gradInput = []

    def _from_lua(self, version):
        super(MixtureTable, self)._from_lua(version)
        for name in ("dimG", "table", "batchSize", "backwardSetup", "size", "size2"):
            self.__dict__.pop(name, None)  # Lua's bookkeeping, recomputed on each call

    def _layout(self, gater):
        if gater.dim() == 1:
            return 0, self.dim if self.dim is not None else 0
        if gater.dim() == 2:
            return 1, self.dim if self.dim is not None else 1
        raise ValueError("MixtureTable: the gater must be 1-D (one sample) or 2-D (a batch), got size {}"
                         .format(list(gater.size())))

    def _gate(self, gater, dimG, e, like):
        """Column ``e`` of the gater viewed to broadcast against an expert tensor ``like``."""
        g = gater.select(dimG, e) if dimG == 1 else gater.narrow(0, e, 1)
        shape = [g.numel()] + [1] * (like.dim() - 1) if dimG == 1 else [1] * like.dim()
        return g.contiguous().view(*shape).expand_as(like)

    def updateOutput(self, input):
        gater, experts = input
        dimG, dim = self._layout(gater)
        if isinstance(experts, (list, tuple)):
            if gater.size(dimG) != len(experts):
                raise ValueError("MixtureTable: one gater output per expert is needed, got {} for {} experts"
                                 .format(gater.size(dimG), len(experts)))
            out = experts[0].new().resize_as_(experts[0]).zero_()
            for e, x in enumerate(experts):
                out.addcmul_(x, self._gate(gater, dimG, e, x))
        else:
            shape = [1] * experts.dim()
            if dimG == 1:
                shape[0] = gater.size(0)
            shape[dim] = gater.size(dimG)
            self._gaterView = gater.contiguous().view(*shape).expand_as(experts)
            out = experts.mul(self._gaterView).sum(dim)
        self.output = out
        return out

    def updateGradInput(self, input, gradOutput):
        gater, experts = input
        dimG, dim = self._layout(gater)
        if isinstance(experts, (list, tuple)):
            ggater = gater.new().resize_as_(gater)
            gexperts = []
            for e, x in enumerate(experts):
                prod = gradOutput.mul(x)
                if dimG == 1:
                    ggater.select(1, e).copy_(prod.contiguous().view(gradOutput.size(0), -1).sum(1))
                else:
                    ggater[e] = prod.sum()
                gexperts.append(self._gate(gater, dimG, e, x).mul(gradOutput))
        else:
            size = list(experts.size())
            size[dim] = 1
            go = gradOutput.contiguous().view(*size).expand_as(experts)
            prod = experts.mul(go)
            # sum over everything but the batch and expert dimensions
            if dimG == 1:
                ggater = prod.transpose(1, dim).contiguous().view(gater.size(0), gater.size(1), -1).sum(2)
            else:
                ggater = prod.transpose(0, dim).contiguous().view(gater.size(0), -1).sum(1)
            gexperts = self._gaterView.mul(go)
        self.gradInput = [ggater.view_as(gater), gexperts]
        return self.gradInput
