"""Recurrent layers: the Functions behind nn.RNN / nn.LSTM / nn.GRU and their cells (PyTorch 0.2's
torch/nn/_functions/rnn.py; 0.2's nn.functional has no recurrent functions, so nothing is exported).

A whole layer and direction over a sequence is one Function, ``RNNLayer``, on ember.kernels.rnn_forward /
rnn_backward (the time loop, per-step gemm and fused gates run in C, or in CuPy array code for CUDA tensors;
the backward forms every weight gradient with one gemm over the sequence). ``rnn`` stacks layers and directions the way 0.2 does: the directions'
outputs are concatenated along the features, dropout goes between layers, and the final states come out
stacked as (num_layers * num_directions) x batch x hidden_size. The layer Function differentiates once;
the cells are compositions of Variable ops (0.2's formulas), so they differentiate any number of times.
"""
import ember
from ember import kernels as K
from ember.autograd import Function, once_differentiable

from .dropout import dropout as _dropout
from .linear import linear

__all__ = []


class RNNLayer(Function):
    """One layer and one direction of an RNN_TANH / RNN_RELU / LSTM / GRU over a whole sequence:
    ``apply(input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh, mode, batch_sizes, reverse)`` gives
    (output, hy, cy) for LSTM, (output, hy) otherwise. ``input`` is seq_len x batch x input_size, or the
    data of a packed sequence with its ``batch_sizes``; ``cx`` and the biases may be None."""

    @staticmethod
    def forward(ctx, input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh, mode, batch_sizes, reverse):
        output, hy, cy, ws = K.rnn_forward(mode, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx, batch_sizes,
                                           reverse)
        ctx.ws = ws
        ctx.save_for_backward(input, weight_ih, weight_hh)
        return (output, hy, cy) if cy is not None else (output, hy)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output, grad_hy, grad_cy=None):
        input, weight_ih, weight_hh = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx, ghx, gcx, gw_ih, gw_hh, gb_ih, gb_hh = K.rnn_backward(
            grad_output, grad_hy, grad_cy, input, weight_ih, weight_hh, ctx.ws, need_input=need[0],
            need_weights=need[3] or need[4], need_bias=need[5] or need[6])
        return (gx, ghx if need[1] else None, gcx if need[2] else None, gw_ih, gw_hh, gb_ih, gb_hh,
                None, None, None)


def rnn(mode, input, all_weights, hx, num_layers=1, bidirectional=False, batch_first=False, dropout=0,
        training=True, batch_sizes=None):
    """A stacked (and optionally bidirectional) recurrent network over a sequence.

    ``all_weights``: per layer and direction (layer-major, forward direction first) the list
    [weight_ih, weight_hh] or [weight_ih, weight_hh, bias_ih, bias_hh]; ``hx``: the initial hidden state
    (num_layers * num_directions) x batch x hidden_size, a pair (h_0, c_0) for LSTM. ``input`` is
    seq_len x batch x input_size (batch x seq_len x input_size with ``batch_first``), or with ``batch_sizes``
    a packed sequence's data. Returns (output, h_n) ((output, (h_n, c_n)) for LSTM)."""
    lstm = mode == "LSTM"
    h0, c0 = hx if lstm else (hx, None)
    directions = 2 if bidirectional else 1
    x = input
    if batch_sizes is None and batch_first:
        x = x.transpose(0, 1)
    hs, cs = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            w = all_weights[k]
            b_ih, b_hh = (w[2], w[3]) if len(w) == 4 else (None, None)
            res = RNNLayer.apply(x, h0[k], c0[k] if lstm else None, w[0], w[1], b_ih, b_hh, mode, batch_sizes,
                                 d == 1)
            outs.append(res[0])
            hs.append(res[1])
            if lstm:
                cs.append(res[2])
        x = outs[0] if directions == 1 else ember.cat(outs, x.dim() - 1)
        if dropout and training and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    if batch_sizes is None and batch_first:
        x = x.transpose(0, 1)
    hy = ember.stack(hs, 0)
    return x, ((hy, ember.stack(cs, 0)) if lstm else hy)


# ---------------------------------------------------------------------- cells (0.2's formulas)

def rnn_tanh_cell(input, hidden, w_ih, w_hh, b_ih=None, b_hh=None):
    return (linear(input, w_ih, b_ih) + linear(hidden, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hidden, w_ih, w_hh, b_ih=None, b_hh=None):
    return (linear(input, w_ih, b_ih) + linear(hidden, w_hh, b_hh)).clamp(min=0)


def lstm_cell(input, hidden, w_ih, w_hh, b_ih=None, b_hh=None):
    hx, cx = hidden
    gates = linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)
    ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
    ingate = ingate.sigmoid()
    forgetgate = forgetgate.sigmoid()
    cellgate = cellgate.tanh()
    outgate = outgate.sigmoid()
    cy = forgetgate * cx + ingate * cellgate
    hy = outgate * cy.tanh()
    return hy, cy


def gru_cell(input, hidden, w_ih, w_hh, b_ih=None, b_hh=None):
    gi = linear(input, w_ih, b_ih)
    gh = linear(hidden, w_hh, b_hh)
    i_r, i_i, i_n = gi.chunk(3, 1)
    h_r, h_i, h_n = gh.chunk(3, 1)
    resetgate = (i_r + h_r).sigmoid()
    inputgate = (i_i + h_i).sigmoid()
    newgate = (i_n + resetgate * h_n).tanh()
    return newgate + inputgate * (hidden - newgate)
