import math

import ember
import ember.kernels as K

from .Module import Module
from ._helpers import ensure_grad, out_buffer
from .utils import clear


class SpatialConvolutionMap(Module):
    """2-D convolution where a connection table says which input plane feeds which output plane: row ``k``
    of ``conMatrix`` (``nConnections x 2``) is ``(input plane, output plane)`` (0-based) and ``weight[k]``
    (``kH x kW``) its kernel; ``bias`` has one value per output plane. :class:`SpatialConvolutionMap.maps`
    builds the usual tables (``full``, ``oneToOne``, ``random``).

    Lua's tables are 1-based: a model read from a ``.t7`` file gets a 0-based ``connTable``."""

    class maps(object):
        """Connection tables (Lua's ``nn.tables``), 0-based."""

        @staticmethod
        def full(nin, nout):
            """Every input plane to every output plane."""
            ft = ember.Tensor(nin * nout, 2)
            ft.select(1, 0).copy_(ember.arange(0, nin).repeat(nout))
            ft.select(1, 1).copy_(ember.arange(0, nout).view(nout, 1).expand(nout, nin).contiguous().view(-1))
            return ft

        @staticmethod
        def oneToOne(nfeat):
            """Input plane ``i`` to output plane ``i``."""
            ft = ember.Tensor(nfeat, 2)
            ft.select(1, 0).copy_(ember.arange(0, nfeat))
            ft.select(1, 1).copy_(ember.arange(0, nfeat))
            return ft

        @staticmethod
        def random(nin, nout, nto):
            """``nto`` distinct random input planes to each output plane, spreading the inputs evenly."""
            if nto > nin:
                raise ValueError("SpatialConvolutionMap.maps.random: nto ({}) can't exceed nin ({})".format(nto, nin))
            tbl = ember.Tensor(nto * nout, 2)
            fi = ember.randperm(nin)
            used = 0
            chunks = nin // nto  # disjoint groups of nto inputs in one permutation
            for o in range(nout):
                if used == chunks:
                    fi = ember.randperm(nin)
                    used = 0
                tbl.narrow(0, o * nto, nto).select(1, 0).copy_(fi.narrow(0, used * nto, nto))
                tbl.narrow(0, o * nto, nto).select(1, 1).fill_(o)
                used += 1
            return tbl

    def __init__(self, conMatrix, kW, kH, dW=1, dH=1):
        super(SpatialConvolutionMap, self).__init__()
        self.kW = kW
        self.kH = kH
        self.dW = dW
        self.dH = dH
        self.connTable = conMatrix
        self.nInputPlane = int(self.connTable.select(1, 0).max()) + 1
        self.nOutputPlane = int(self.connTable.select(1, 1).max()) + 1
        n = self.connTable.size(0)
        self.weight = ember.Tensor(n, kH, kW)
        self.bias = ember.Tensor(self.nOutputPlane)
        self.gradWeight = ember.Tensor(n, kH, kW).zero_()
        self.gradBias = ember.Tensor(self.nOutputPlane).zero_()
        self.reset()

    def _from_lua(self, version):
        super(SpatialConvolutionMap, self)._from_lua(version)
        self.__dict__.setdefault("dW", 1)
        self.__dict__.setdefault("dH", 1)
        self.connTable = self.connTable.long() - 1
        # Lua's reverse table (1-based, for its backward) isn't needed here
        self.__dict__.pop("connTableRev", None)
        ensure_grad(self, "gradWeight", "weight")
        ensure_grad(self, "gradBias", "bias")

    def _to_lua(self):
        fields = super(SpatialConvolutionMap, self)._to_lua()
        fields["connTable"] = self.connTable.double() + 1
        return fields

    def reset(self, stdv=None):
        if stdv is not None:
            stdv = stdv * math.sqrt(3)
            self.weight.uniform_(-stdv, stdv)
            self.bias.uniform_(-stdv, stdv)
            return self
        # Lua's rule: the spread depends on the number of inputs of each output plane
        to = self.connTable.select(1, 1).long().tolist()
        fan_in = [0] * self.nOutputPlane
        for o in to:
            fan_in[o] += 1
        for k, o in enumerate(to):
            stdv = 1. / math.sqrt(self.kW * self.kH * fan_in[o])
            self.weight[k].uniform_(-stdv, stdv)
        for o in range(self.nOutputPlane):
            b = self.bias.narrow(0, o, 1)
            if fan_in[o]:
                stdv = 1. / math.sqrt(self.kW * self.kH * fan_in[o])
                b.uniform_(-stdv, stdv)
            else:  # an output plane no input feeds
                b.zero_()
        return self

    # The convolution runs as a dense one whose weight is zero where the table has no connection.
    def _positions(self):
        """Row of each connection in the dense weight seen as (nOutputPlane * nInputPlane) x (kH * kW), on the
        weight's device (the table stays a CPU LongTensor when the module moves to the GPU)."""
        t = self.connTable.long()
        rows = t.select(1, 1) * self.nInputPlane + t.select(1, 0)
        return rows.cuda(self.weight.get_device()) if self.weight.is_cuda else rows

    def _dense_weight(self):
        w = self.weight
        dense = w.new(self.nOutputPlane * self.nInputPlane, self.kH * self.kW).zero_()
        dense.index_add_(0, self._positions(), w.contiguous().view(w.size(0), -1))
        return dense.view(self.nOutputPlane, self.nInputPlane, self.kH, self.kW)

    def updateOutput(self, input):
        self.output = K.conv_forward(input, self._dense_weight(), self.bias, (self.dH, self.dW),
                                     out=out_buffer(self.output, input))
        return self.output

    def updateGradInput(self, input, gradOutput):
        if self.gradInput is None:
            return None
        self.gradInput = K.conv_backward_input(gradOutput, input, self._dense_weight(), (self.dH, self.dW))
        return self.gradInput

    def accGradParameters(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, False)

    def backward(self, input, gradOutput, scale=1):
        self._backward(input, gradOutput, scale, self.gradInput is not None)
        return self.gradInput

    def _backward(self, input, gradOutput, scale, need_input):
        gi, gw, gb = K.conv_backward(gradOutput, input, self._dense_weight(), (self.dH, self.dW),
                                     output_mask=(need_input, True, True))
        if need_input:
            self.gradInput = gi
        gw = gw.view(self.nOutputPlane * self.nInputPlane, -1).index_select(0, self._positions())
        self.gradWeight.add_(scale, gw.view_as(self.gradWeight))
        self.gradBias.add_(scale, gb)

    def clearState(self):
        clear(self, "_input", "_gradOutput")
        return super(SpatialConvolutionMap, self).clearState()
