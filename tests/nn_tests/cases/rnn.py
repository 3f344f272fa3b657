"""Module cases for the recurrent layers (RNN, LSTM, GRU) and their cells.

Inputs are seq_len x batch x input_size (batch first where batch_first=True); extra inputs are initial
states, passed through `call` (an LSTM takes them as a pair). The packed cases pack the padded input with
each library's pack_padded_sequence and pad the packed output back, so the padded positions' gradients
(zero) are compared too. Dropout between layers is random in training: its case runs in eval mode only
(test_rnn.py checks training-mode dropout).
"""
LENGTHS = [5, 3, 2]


def _with_state(nn, m, x, h):
    return m(x, h)


def _with_lstm_state(nn, m, x, h, c):
    return m(x, (h, c))


def _packed(batch_first=False):
    def call(nn, m, x, *state):
        packed = nn.utils.rnn.pack_padded_sequence(x, LENGTHS, batch_first=batch_first)
        hx = None if not state else state[0] if len(state) == 1 else tuple(state)
        out, h = m(packed, hx)
        return nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first)[0], h
    return call


def _layer(name, module, input_size, kwargs=None, **extra):
    case = dict(name=name, module=module, args=(3, 4), kwargs=kwargs or {}, input_size=input_size)
    case.update(extra)
    return case


CASES = [
    # Elman RNN
    _layer("RNN_tanh", "RNN", (4, 2, 3), repr="RNN(3, 4)"),
    _layer("RNN_relu_2_layers", "RNN", (4, 2, 3), dict(num_layers=2, nonlinearity="relu"),
           repr="RNN(3, 4, num_layers=2)"),
    _layer("RNN_bidirectional_h0", "RNN", (4, 2, 3), dict(bidirectional=True), extra_inputs=[(2, 2, 4)],
           call=_with_state, repr="RNN(3, 4, bidirectional=True)"),
    _layer("RNN_3_layers_batch_first_no_bias", "RNN", (2, 4, 3), dict(num_layers=3, batch_first=True, bias=False),
           repr="RNN(3, 4, num_layers=3, bias=False, batch_first=True)"),
    # LSTM
    _layer("LSTM", "LSTM", (5, 2, 3), repr="LSTM(3, 4)"),
    _layer("LSTM_h0_c0", "LSTM", (4, 3, 3), extra_inputs=[(1, 3, 4), (1, 3, 4)], call=_with_lstm_state),
    _layer("LSTM_2_layers_bidirectional", "LSTM", (4, 2, 3), dict(num_layers=2, bidirectional=True),
           extra_inputs=[(4, 2, 4), (4, 2, 4)], call=_with_lstm_state,
           repr="LSTM(3, 4, num_layers=2, bidirectional=True)"),
    _layer("LSTM_3_layers_batch_first", "LSTM", (2, 4, 3), dict(num_layers=3, batch_first=True),
           repr="LSTM(3, 4, num_layers=3, batch_first=True)"),
    _layer("LSTM_no_bias", "LSTM", (3, 2, 3), dict(bias=False), repr="LSTM(3, 4, bias=False)"),
    _layer("LSTM_dropout_eval", "LSTM", (4, 2, 3), dict(num_layers=2, dropout=0.5), modes=("eval",),
           repr="LSTM(3, 4, num_layers=2, dropout=0.5)"),
    _layer("LSTM_packed", "LSTM", (5, 3, 3), call=_packed()),
    _layer("LSTM_packed_2_layers_bidirectional_state", "LSTM", (5, 3, 3), dict(num_layers=2, bidirectional=True),
           extra_inputs=[(4, 3, 4), (4, 3, 4)], call=_packed()),
    _layer("LSTM_packed_batch_first", "LSTM", (3, 5, 3), dict(batch_first=True), call=_packed(batch_first=True)),
    # GRU
    _layer("GRU", "GRU", (5, 2, 3), repr="GRU(3, 4)"),
    _layer("GRU_h0", "GRU", (4, 3, 3), extra_inputs=[(1, 3, 4)], call=_with_state),
    _layer("GRU_2_layers_bidirectional_batch_first", "GRU", (2, 4, 3),
           dict(num_layers=2, bidirectional=True, batch_first=True),
           repr="GRU(3, 4, num_layers=2, batch_first=True, bidirectional=True)"),
    _layer("GRU_3_layers_no_bias", "GRU", (3, 2, 3), dict(num_layers=3, bias=False)),
    _layer("GRU_packed_bidirectional", "GRU", (5, 3, 3), dict(bidirectional=True), extra_inputs=[(2, 3, 4)],
           call=_packed()),
    _layer("RNN_relu_packed_2_layers", "RNN", (5, 3, 3), dict(num_layers=2, nonlinearity="relu"), call=_packed()),
    # cells
    dict(name="RNNCell", module="RNNCell", args=(3, 4), input_size=(2, 3), extra_inputs=[(2, 4)],
         repr="RNNCell(3, 4)"),
    dict(name="RNNCell_relu_no_bias", module="RNNCell", args=(3, 4), kwargs=dict(nonlinearity="relu", bias=False),
         input_size=(2, 3), extra_inputs=[(2, 4)], repr="RNNCell(3, 4, bias=False, nonlinearity=relu)"),
    dict(name="RNNCell_no_hx", module="RNNCell", args=(3, 4), input_size=(2, 3)),
    dict(name="LSTMCell", module="LSTMCell", args=(3, 4), input_size=(2, 3), extra_inputs=[(2, 4), (2, 4)],
         call=lambda nn, m, x, h, c: m(x, (h, c)), repr="LSTMCell(3, 4)"),
    dict(name="LSTMCell_no_bias", module="LSTMCell", args=(3, 4), kwargs=dict(bias=False), input_size=(2, 3),
         extra_inputs=[(2, 4), (2, 4)], call=lambda nn, m, x, h, c: m(x, (h, c)), repr="LSTMCell(3, 4, bias=False)"),
    dict(name="GRUCell", module="GRUCell", args=(3, 4), input_size=(2, 3), extra_inputs=[(2, 4)],
         repr="GRUCell(3, 4)"),
    dict(name="GRUCell_no_bias_no_hx", module="GRUCell", args=(3, 4), kwargs=dict(bias=False), input_size=(2, 3)),
]
