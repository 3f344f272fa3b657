"""Recurrent layers (PyTorch 0.2's torch/nn/modules/rnn.py): RNN, LSTM and GRU over whole sequences, padded
or packed (nn.utils.rnn.PackedSequence), and the one-step cells RNNCell, LSTMCell and GRUCell. Parameter names,
shapes, reprs and initialisation are 0.2's, so state_dicts interchange with PyTorch both ways."""
import math

import ember
from ember.autograd import Variable
from ember.tensor import _fmt_size, _typename_of

from .module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .._functional import rnn as _F

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _size(v):
    return _fmt_size(v.size())


def _check_variable(module, name, v):
    if not isinstance(v, Variable):
        raise TypeError("{}: expected {} to be a Variable, got {}".format(type(module).__name__, name,
                                                                         _typename_of(v)))


def _check_type(module, name, v, param):
    if type(v.data) is not type(param.data):
        raise TypeError("{}: {} is a {} but the parameters are {} (convert the module or the input with .float() / "
                        ".double())".format(type(module).__name__, name, v.data._typename, param.data._typename))


class RNNBase(Module):
    """The recurrent layers' common part: ``mode`` ('LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU') selects the cell.

    Parameters per layer k and direction (suffix '_reverse' for the backward direction of a bidirectional
    layer), named and shaped as in PyTorch: ``weight_ih_l{k}`` (gate_size x input), ``weight_hh_l{k}``
    (gate_size x hidden_size), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (gate_size), gate_size being hidden_size
    times 1 (RNN), 4 (LSTM) or 3 (GRU). ``forward(input, hx=None)``: input seq_len x batch x input_size
    (batch x seq_len x input_size with batch_first) or a PackedSequence; hx (num_layers * num_directions)
    x batch x hidden_size, a pair (h_0, c_0) for LSTM, zeros when omitted. Returns (output, h_n) (output a
    PackedSequence when the input was one), for LSTM (output, (h_n, c_n)).
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0,
                 bidirectional=False):
        super(RNNBase, self).__init__()
        if mode not in _GATES:
            raise ValueError("Unknown RNN mode '{}' (expected one of LSTM, GRU, RNN_TANH, RNN_RELU)".format(mode))
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = dropout
        self.dropout_state = {}
        self.bidirectional = bidirectional
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size

        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else hidden_size * num_directions
                w_ih = Parameter(ember.Tensor(gate_size, layer_input_size))
                w_hh = Parameter(ember.Tensor(gate_size, hidden_size))
                b_ih = Parameter(ember.Tensor(gate_size))
                b_hh = Parameter(ember.Tensor(gate_size))
                layer_params = (w_ih, w_hh, b_ih, b_hh)

                suffix = "_reverse" if direction == 1 else ""
                param_names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    param_names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                param_names = [x.format(layer, suffix) for x in param_names]
                for name, param in zip(param_names, layer_params):
                    setattr(self, name, param)
                self._all_weights.append(param_names)

        self.flatten_parameters()
        self.reset_parameters()

    def flatten_parameters(self):
        """Resets parameter data pointer so that they can use faster code paths (cuDNN's flat weight
        buffer in 0.2); the CPU layers need nothing, so this is a no-op."""

    def _apply(self, fn):
        ret = super(RNNBase, self)._apply(fn)
        self.flatten_parameters()
        return ret

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            weight.data.uniform_(-stdv, stdv)

    def forward(self, input, hx=None):
        is_packed = isinstance(input, PackedSequence)
        if is_packed:
            input, batch_sizes = input
            batch_sizes = list(batch_sizes)
        else:
            batch_sizes = None
        _check_variable(self, "input", input)
        self._check_input(input, batch_sizes)
        if is_packed:
            max_batch_size = batch_sizes[0]
        else:
            max_batch_size = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * num_directions, max_batch_size, self.hidden_size)
        if hx is None:
            hx = Variable(input.data.new(*expected).zero_(), requires_grad=False)
            if self.mode == "LSTM":
                hx = (hx, hx)
        else:
            self._check_hidden(input, hx, expected)
        output, hidden = _F.rnn(self.mode, input, self.all_weights, hx, self.num_layers, self.bidirectional,
                                self.batch_first, self.dropout, self.training, batch_sizes)
        if is_packed:
            output = PackedSequence(output, batch_sizes)
        return output, hidden

    def _check_input(self, input, batch_sizes):
        name = type(self).__name__
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            layout = ("packed rows x input_size" if batch_sizes is not None else
                      "batch x seq_len x input_size" if self.batch_first else "seq_len x batch x input_size")
            raise RuntimeError("{}: input must have {} dimensions ({}), got {} (size {})".format(
                name, expected_dim, layout, input.dim(), _size(input)))
        if input.size(-1) != self.input_size:
            raise RuntimeError("{}: input.size(-1) must be equal to input_size. Expected {}, got {} (input size {})"
                               .format(name, self.input_size, input.size(-1), _size(input)))
        _check_type(self, "input", input, self.weight_ih_l0)
        if batch_sizes is not None and sum(batch_sizes) != input.size(0):
            raise RuntimeError("{}: the packed sequence's batch_sizes sum to {} but its data has {} rows"
                               .format(name, sum(batch_sizes), input.size(0)))

    def _check_hidden(self, input, hx, expected):
        name = type(self).__name__
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("{}: hx must be a tuple (h_0, c_0), got {}".format(name, _typename_of(hx)))
            checks = (("hidden[0]", hx[0]), ("hidden[1]", hx[1]))
        else:
            checks = (("hidden", hx),)
        for what, h in checks:
            _check_variable(self, what, h)
            if tuple(h.size()) != expected:
                raise RuntimeError("{}: Expected {} size {}, got {}".format(name, what, _fmt_size(expected),
                                                                            _size(h)))
            _check_type(self, what, h, self.weight_ih_l0)

    def __repr__(self):
        s = "{name}({input_size}, {hidden_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        s += ")"
        return s.format(name=self.__class__.__name__, **self.__dict__)

    def __setstate__(self, d):
        super(RNNBase, self).__setstate__(d)
        self.__dict__.setdefault("_data_ptrs", [])
        if "all_weights" in d:
            self._all_weights = d["all_weights"]
        if isinstance(self._all_weights[0][0], str):
            return
        num_layers = self.num_layers
        num_directions = 2 if self.bidirectional else 1
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                weights = ["weight_ih_l{}{}", "weight_hh_l{}{}", "bias_ih_l{}{}", "bias_hh_l{}{}"]
                weights = [x.format(layer, suffix) for x in weights]
                if self.bias:
                    self._all_weights += [weights]
                else:
                    self._all_weights += [weights[:2]]

    @property
    def all_weights(self):
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = tanh(w_ih * x_t + b_ih + w_hh * h_(t-1) + b_hh) (``nonlinearity='relu'``
    for ReLU). Arguments: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0, bidirectional=False."""

    def __init__(self, *args, **kwargs):
        if "nonlinearity" in kwargs:
            if kwargs["nonlinearity"] == "tanh":
                mode = "RNN_TANH"
            elif kwargs["nonlinearity"] == "relu":
                mode = "RNN_RELU"
            else:
                raise ValueError("Unknown nonlinearity '{}'".format(kwargs["nonlinearity"]))
            del kwargs["nonlinearity"]
        else:
            mode = "RNN_TANH"
        super(RNN, self).__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """A multi-layer long short-term memory RNN. Per step (gates i, f, g, o in the weights' order):
    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi), f and o alike, g = tanh(...), c' = f * c + i * g,
    h' = o * tanh(c'). Arguments as RNN without nonlinearity; hx and the final state are pairs (h, c)."""

    def __init__(self, *args, **kwargs):
        super(LSTM, self).__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit RNN. Per step (gates r, z, n in the weights' order):
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z alike, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h. Arguments as RNN without nonlinearity."""

    def __init__(self, *args, **kwargs):
        super(GRU, self).__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):

    def __repr__(self):
        s = "{name}({input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        s += ")"
        return s.format(name=self.__class__.__name__, **self.__dict__)

    def _init_params(self, gates, input_size, hidden_size, bias):
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(ember.Tensor(gates * hidden_size, input_size))
        self.weight_hh = Parameter(ember.Tensor(gates * hidden_size, hidden_size))
        if bias:
            self.bias_ih = Parameter(ember.Tensor(gates * hidden_size))
            self.bias_hh = Parameter(ember.Tensor(gates * hidden_size))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            weight.data.uniform_(-stdv, stdv)

    def _check_forward(self, input, hx):
        """Checks input (batch x input_size) and each state in ``hx``; returns the zero state for a missing
        hx (an ember extra: 0.2's cells require hx)."""
        name = type(self).__name__
        _check_variable(self, "input", input)
        if input.dim() != 2:
            raise RuntimeError("{}: input must be 2D (batch x input_size), got size {}".format(name, _size(input)))
        if input.size(1) != self.input_size:
            raise RuntimeError("{}: input has inconsistent input_size: got {}, expected {}"
                               .format(name, input.size(1), self.input_size))
        _check_type(self, "input", input, self.weight_ih)
        if hx is None:
            return Variable(input.data.new(input.size(0), self.hidden_size).zero_(), requires_grad=False)
        states = hx if isinstance(self, LSTMCell) else (hx,)
        for i, h in enumerate(states):
            what = "hx[{}]".format(i) if isinstance(self, LSTMCell) else "hx"
            _check_variable(self, what, h)
            if tuple(h.size()) != (input.size(0), self.hidden_size):
                raise RuntimeError("{}: expected {} of size {} (batch x hidden_size), got {}".format(
                    name, what, _fmt_size((input.size(0), self.hidden_size)), _size(h)))
            _check_type(self, what, h, self.weight_ih)
        return None


class RNNCell(RNNCellBase):
    """An Elman RNN cell: h' = tanh(w_ih * x + b_ih + w_hh * h + b_hh) (``nonlinearity='relu'`` for ReLU).
    ``forward(input, hx)``: input batch x input_size, hx batch x hidden_size (ember extra: zeros when
    omitted); returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        super(RNNCell, self).__init__()
        self.nonlinearity = nonlinearity
        self._init_params(1, input_size, hidden_size, bias)

    def forward(self, input, hx=None):
        if self.nonlinearity == "tanh":
            func = _F.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            func = _F.rnn_relu_cell
        else:
            raise RuntimeError("Unknown nonlinearity: {}".format(self.nonlinearity))
        zero = self._check_forward(input, hx)
        return func(input, hx if zero is None else zero, self.weight_ih, self.weight_hh, self.bias_ih,
                    self.bias_hh)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell. ``forward(input, (h, c))``: input batch x input_size, h and c
    batch x hidden_size (ember extra: zeros when omitted); returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True):
        super(LSTMCell, self).__init__()
        self._init_params(4, input_size, hidden_size, bias)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTMCell: hx must be a tuple (h, c), got {}".format(_typename_of(hx)))
        zero = self._check_forward(input, hx)
        return _F.lstm_cell(input, hx if zero is None else (zero, zero), self.weight_ih, self.weight_hh,
                            self.bias_ih, self.bias_hh)


class GRUCell(RNNCellBase):
    """A gated recurrent unit cell. ``forward(input, hx)``: input batch x input_size, hx batch x
    hidden_size (ember extra: zeros when omitted); returns h'."""

    def __init__(self, input_size, hidden_size, bias=True):
        super(GRUCell, self).__init__()
        self._init_params(3, input_size, hidden_size, bias)

    def forward(self, input, hx=None):
        zero = self._check_forward(input, hx)
        return _F.gru_cell(input, hx if zero is None else zero, self.weight_ih, self.weight_hh, self.bias_ih,
                           self.bias_hh)
