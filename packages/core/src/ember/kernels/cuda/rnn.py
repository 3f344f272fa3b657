"""Recurrent layers on the GPU: one layer and direction of an RNN (tanh or ReLU), LSTM or GRU over a whole
sequence, forward and backward, with the CPU kernel's layout and formulas (ember/kernels/rnn.py).

Layers run on cuDNN where it is installed (``cudnn_rnn``); on the kernels here otherwise, and on the fake
CUDA.

A sequence is N rows in time-major packed order, step t holding sizes[t] rows (non-increasing; a padded
T x B batch is T steps of B). The input projection of every step is one matmul; each step is one matmul
with W_hh and one fused cell kernel (``_raw``: one thread per hidden unit of each row, THCUNN's fused
LSTM/GRU cells) on its (rows x gates) block. Backward runs the steps in reverse the same way (a cell
kernel, then the matmul carrying the hidden state's gradient back) and then forms each weight gradient
with one matmul over the whole sequence.

No state is copied per step: a step reads its previous hidden (and cell) state from the rows the step
before wrote (a sequence that has ended keeps its last rows; in the reverse direction of a packed batch, a
sequence joining starts from its initial state), and backward gathers every step's previous state at once.
Half inputs compute in float32, as do the kept arrays; results round once at the end.
"""
import numpy as np

from . import cudnn_rnn, widened
from ._raw import Kernel
from ..rnn import RNN_MODES

_RELU, _TANH, _LSTM, _GRU = (RNN_MODES.index(name) for name in ("RNN_RELU", "RNN_TANH", "LSTM", "GRU"))


class Workspace(object):
    """What layer_forward keeps for layer_backward (ember.kernels.rnn checks ``mode``, ``sizes``, ``shape``,
    ``out`` and ``gates`` against the backward's arguments). ``gates`` holds the gate activations (for RNN
    modes, the output itself); ``cells`` and ``tanh_cells`` each step's LSTM cell state and its tanh;
    ``hidden_n`` each step's W_hn h + b_hn of a GRU."""
    __slots__ = ("mode", "sizes", "steps", "shape", "x", "h0", "c0", "gates", "out", "cells", "tanh_cells",
                 "hidden_n", "cudnn")

    def __init__(self, mode, sizes, steps, shape, x, h0, c0, gates, out, cells=None, tanh_cells=None,
                 hidden_n=None, cudnn=None):
        self.mode, self.sizes, self.steps, self.shape, self.x = mode, sizes, steps, shape, x
        self.h0, self.c0, self.gates, self.out = h0, c0, gates, out
        self.cells, self.tanh_cells, self.hidden_n = cells, tanh_cells, hidden_n
        self.cudnn = cudnn  # cudnn_rnn.State when cuDNN ran the layer (gates is then an empty (0, G) array)


class _Steps(object):
    """The time steps of the packed layout in the order a direction runs them (host-side bookkeeping: the
    step sizes are host ints, so slicing by them never waits for the GPU)."""
    __slots__ = ("sizes", "offs", "order")

    def __init__(self, sizes, reverse):
        self.sizes = [int(s) for s in sizes]
        self.offs = (np.cumsum(sizes) - sizes).tolist()
        T = len(self.sizes)
        self.order = list(range(T - 1, -1, -1)) if reverse else list(range(T))

    def rows(self, t):
        return slice(self.offs[t], self.offs[t] + self.sizes[t])

    def previous(self, xp, store, init, k):
        """The state the k-th step run starts from: the first rows the step run before wrote to ``store``
        and, for sequences that join at this step, their rows of ``init``."""
        bs = self.sizes[self.order[k]]
        if k == 0:
            return init[:bs]
        p = self.order[k - 1]
        o, bp = self.offs[p], self.sizes[p]
        if bs <= bp:
            return store[o:o + bs]
        return xp.concatenate((store[o:o + bp], init[bp:bs]))

    def previous_index(self):
        """previous() of every row at once, as row indices into concatenate((init, store))."""
        sizes, offs = np.array(self.sizes), np.array(self.offs)
        order = np.array(self.order)
        before = np.full(len(sizes), -1)
        before[order[1:]] = order[:-1]
        t = np.repeat(np.arange(len(sizes)), sizes)
        b = np.arange(int(sizes.sum())) - offs[t]
        p = before[t]
        joins = (p < 0) | (b >= sizes[p])
        return np.where(joins, b, sizes[0] + offs[p] + b)

    def last_index(self):
        """Each sequence's row of the last step run that holds it (where its final state is)."""
        sizes = np.array(self.sizes)
        b = np.arange(sizes[0])
        if self.order[0] != 0:  # reverse: every sequence ends at step 0
            return b
        lengths = (sizes[None, :] > b[:, None]).sum(1)
        return np.array(self.offs)[lengths - 1] + b


def layer_forward(xp, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, sizes, reverse, shape):
    """One layer and direction: ``x`` (N x I, C-contiguous) the input rows, ``h0``/``c0`` (B x H) the initial
    states or None (zeros), ``sizes`` the host array of step sizes, ``shape`` the input tensor's. Returns
    (output N x H, hy, cy (None but for LSTM), workspace), the arrays in x's dtype."""
    if cudnn_rnn.usable(x.dtype):
        got = cudnn_rnn.forward(xp, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, sizes, reverse)
        if got is not None:
            out, hy, cy, state = got
            ws = Workspace(mode, sizes, None, shape, x, h0, c0, xp.empty((0, w_hh.shape[0]), x.dtype), out,
                           cudnn=state)
            return out, hy, cy, ws
    dt = x.dtype
    x, w_ih, w_hh = widened(x), widened(w_ih), widened(w_hh)
    cdt = x.dtype
    H = w_hh.shape[1]
    B = int(sizes[0])
    h0 = xp.zeros((B, H), cdt) if h0 is None else widened(h0)
    gates = x @ w_ih.T
    bias = _summed_bias(xp, mode, b_ih, b_hh, H)
    if bias is not None:
        gates += bias
    steps = _Steps(sizes, reverse)
    N = x.shape[0]
    cells = None
    if mode == _LSTM:
        c0 = xp.zeros((B, H), cdt) if c0 is None else widened(c0)
        out, cells, tanh_cells = (xp.empty((N, H), cdt) for _ in range(3))
        _lstm_forward(xp, steps, gates, w_hh, h0, c0, out, cells, tanh_cells)
        ws = Workspace(mode, sizes, steps, shape, x, h0, c0, gates, out, cells=cells, tanh_cells=tanh_cells)
    elif mode == _GRU:
        b_hn = widened(b_hh[2 * H:]) if b_hh is not None else xp.zeros(H, cdt)
        out, hidden_n = xp.empty((N, H), cdt), xp.empty((N, H), cdt)
        _gru_forward(xp, steps, gates, w_hh, b_hn, h0, out, hidden_n)
        ws = Workspace(mode, sizes, steps, shape, x, h0, None, gates, out, hidden_n=hidden_n)
    else:
        out = gates  # the activations are the output
        _rnn_forward(xp, steps, gates, w_hh, h0, mode == _RELU)
        ws = Workspace(mode, sizes, steps, shape, x, h0, None, gates, out)
    last = xp.asarray(steps.last_index())
    cy = None if cells is None else _narrowed(cells.take(last, axis=0), dt)
    return _narrowed(out, dt), _narrowed(out.take(last, axis=0), dt), cy, ws


def layer_backward(xp, ws, grad_output, grad_hy, grad_cy, w_ih, w_hh, need_input, need_weights, need_bias):
    """Gradients of layer_forward's inputs from those of its outputs (grad_output N x H, grad_hy / grad_cy
    B x H, each None for zero): (grad_input (the input's shape), grad_hx, grad_cx (None but for LSTM),
    grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh), the unwanted ones None, in w_ih's dtype."""
    if ws.cudnn is not None:
        gx, dh, dc, gw_ih, gw_hh, gb_ih, gb_hh = cudnn_rnn.backward(xp, ws.cudnn, grad_output, grad_hy, grad_cy,
                                                                     need_weights or need_bias)
        return (gx.reshape(ws.shape) if need_input else None, dh, dc, gw_ih if need_weights else None,
                gw_hh if need_weights else None, gb_ih if need_bias else None, gb_hh if need_bias else None)
    dt = w_ih.dtype
    w_ih, w_hh = widened(w_ih), widened(w_hh)
    steps, out = ws.steps, ws.out
    cdt = out.dtype
    (N, H), G, B = out.shape, ws.gates.shape[1], steps.sizes[0]
    go = xp.zeros((N, H), cdt) if grad_output is None else widened(grad_output)
    dh = _fresh(xp, grad_hy, (B, H), cdt)
    index = xp.asarray(steps.previous_index())
    hprev = xp.concatenate((ws.h0, out)).take(index, axis=0)
    d = xp.empty((N, G), cdt)
    dc = None
    if ws.mode == _LSTM:
        dc = _fresh(xp, grad_cy, (B, H), cdt)
        cprev = xp.concatenate((ws.c0, ws.cells)).take(index, axis=0)
        _lstm_backward(xp, steps, ws, w_hh, go, dh, dc, cprev, d)
        d_hidden = d
    elif ws.mode == _GRU:
        d_hidden = xp.empty((N, G), cdt)
        _gru_backward(xp, steps, ws, w_hh, go, dh, hprev, d, d_hidden)
    else:
        _rnn_backward(xp, steps, ws, w_hh, go, dh, d, ws.mode == _RELU)
        d_hidden = d
    gx = gw_ih = gw_hh = gb_ih = gb_hh = None
    if need_input:
        gx = (d @ w_ih).reshape(ws.shape)
    if need_weights:
        gw_ih, gw_hh = d.T @ ws.x, d_hidden.T @ hprev
    if need_bias:
        gb_ih, gb_hh = d.sum(0), d_hidden.sum(0)
    grads = (gx, dh, dc, gw_ih, gw_hh, gb_ih, gb_hh)
    return tuple(None if g is None else _narrowed(g, dt) for g in grads)


# ---------------------------------------------------------------------- the cells, one step on a whole batch
# Forward steps take the step's gate block (input projection and biases, as layer_forward filled it) and
# its hidden part ``hh`` (the previous state times W_hh^T) and turn the block into the gate activations in
# place; backward steps take the output's gradient and the one carried from the next step, and fill the
# step's rows of the pre-activation gradients. One thread per (row, hidden unit): gate k of unit j of a
# row is column k * H + j of its block.

_CELL_INDEX = r"""
        index_t j = k % H, row = k / H;
"""

_SIGMOID = r"""
__device__ __forceinline__ scalar_t sigmoid(scalar_t x) { return 1 / (1 + exp(-x)); }
"""

_rnn_cell = Kernel("rnn_cell", r"""
extern "C" __global__ void rnn_cell(scalar_t* a, const scalar_t* hh, index_t n, int relu) {
    EMBER_LOOP(k, n) {
        scalar_t v = a[k] + hh[k];
        a[k] = relu ? ((v > 0 || isnan(v)) ? v : (scalar_t)0) : tanh(v);
    }
}
""")

_rnn_cell_backward = Kernel("rnn_cell_backward", r"""
extern "C" __global__ void rnn_cell_backward(const scalar_t* go, const scalar_t* dh, const scalar_t* y, scalar_t* d,
                                             index_t n, int relu) {
    EMBER_LOOP(k, n) {
        scalar_t g = go[k] + dh[k];
        d[k] = relu ? g * (scalar_t)(y[k] > 0) : (1 - y[k] * y[k]) * g;
    }
}
""")

# gates i, f, g, o: c' = f * c + i * g, h' = o * tanh(c')
_lstm_cell = Kernel("lstm_cell", _SIGMOID + r"""
extern "C" __global__ void lstm_cell(scalar_t* gates, const scalar_t* hh, const scalar_t* cprev, scalar_t* c,
                                     scalar_t* tc, scalar_t* h, index_t n, index_t H) {
    EMBER_LOOP(k, n) {""" + _CELL_INDEX + r"""
        scalar_t* a = gates + row * 4 * H + j;
        const scalar_t* b = hh + row * 4 * H + j;
        scalar_t i = sigmoid(a[0] + b[0]), f = sigmoid(a[H] + b[H]);
        scalar_t g = tanh(a[2 * H] + b[2 * H]), o = sigmoid(a[3 * H] + b[3 * H]);
        a[0] = i;
        a[H] = f;
        a[2 * H] = g;
        a[3 * H] = o;
        scalar_t cell = f * cprev[k] + i * g, t = tanh(cell);
        c[k] = cell;
        tc[k] = t;
        h[k] = o * t;
    }
}
""")

# dc carries the cell state's gradient from step to step; the gate slopes come from the activations
_lstm_cell_backward = Kernel("lstm_cell_backward", r"""
extern "C" __global__ void lstm_cell_backward(const scalar_t* go, const scalar_t* dh, const scalar_t* gates,
                                              const scalar_t* tc, scalar_t* dc, const scalar_t* cprev, scalar_t* d,
                                              index_t n, index_t H) {
    EMBER_LOOP(k, n) {""" + _CELL_INDEX + r"""
        const scalar_t* a = gates + row * 4 * H + j;
        scalar_t* dr = d + row * 4 * H + j;
        scalar_t i = a[0], f = a[H], g = a[2 * H], o = a[3 * H];
        scalar_t grad = go[k] + dh[k], t = tc[k];
        scalar_t cell = dc[k] + (1 - t * t) * o * grad;
        dr[0] = cell * g * (i * (1 - i));
        dr[H] = cell * cprev[k] * (f * (1 - f));
        dr[2 * H] = cell * i * ((g + 1) * (1 - g));
        dr[3 * H] = grad * t * (o * (1 - o));
        dc[k] = cell * f;
    }
}
""")

# gates r, z, n: n = tanh(x_n + r * (W_hn h + b_hn)), h' = n + z * (h - n); the gate block holds the input
# parts with every bias but b_hn, which q keeps with W_hn h for the backward pass
_gru_cell = Kernel("gru_cell", _SIGMOID + r"""
extern "C" __global__ void gru_cell(scalar_t* gates, const scalar_t* hh, const scalar_t* b_hn, const scalar_t* hp,
                                    scalar_t* q, scalar_t* h, index_t n, index_t H) {
    EMBER_LOOP(k, n) {""" + _CELL_INDEX + r"""
        scalar_t* a = gates + row * 3 * H + j;
        const scalar_t* b = hh + row * 3 * H + j;
        scalar_t r = sigmoid(a[0] + b[0]), z = sigmoid(a[H] + b[H]);
        scalar_t hidden = b[2 * H] + b_hn[j];
        scalar_t nn = tanh(a[2 * H] + r * hidden);
        a[0] = r;
        a[H] = z;
        a[2 * H] = nn;
        q[k] = hidden;
        h[k] = (hp[k] - nn) * z + nn;
    }
}
""")

# d receives the gradients of the gates' input parts, dhid those of their hidden parts (W_hh h + b_hh): the
# same for r and z, reset-scaled for n; ``direct`` is the part of the state's gradient that skips W_hh
_gru_cell_backward = Kernel("gru_cell_backward", r"""
extern "C" __global__ void gru_cell_backward(const scalar_t* go, const scalar_t* dh, const scalar_t* gates,
                                             const scalar_t* q, const scalar_t* hp, scalar_t* d, scalar_t* dhid,
                                             scalar_t* direct, index_t n, index_t H) {
    EMBER_LOOP(k, n) {""" + _CELL_INDEX + r"""
        const scalar_t* a = gates + row * 3 * H + j;
        scalar_t r = a[0], z = a[H], nn = a[2 * H];
        scalar_t grad = go[k] + dh[k], skip = grad * z;
        scalar_t dn = (grad - skip) * ((nn + 1) * (1 - nn));
        d[row * 3 * H + 2 * H + j] = dn;
        scalar_t* dr = dhid + row * 3 * H + j;
        dr[0] = dn * q[k] * (r * (1 - r));
        dr[H] = (hp[k] - nn) * grad * (z * (1 - z));
        dr[2 * H] = dn * r;
        direct[k] = skip;
    }
}
""")


def _rnn_forward(xp, steps, gates, w_hh, h0, relu):
    for k, t in enumerate(steps.order):
        a = gates[steps.rows(t)]
        hh = steps.previous(xp, gates, h0, k) @ w_hh.T
        _rnn_cell(a.size, a, hh, a.size, np.int32(relu), dtype=a.dtype)


def _rnn_backward(xp, steps, ws, w_hh, go, dh, d, relu):
    for t in reversed(steps.order):
        r, bs = steps.rows(t), steps.sizes[t]
        dr = d[r]
        _rnn_cell_backward(dr.size, go[r], dh[:bs], ws.out[r], dr, dr.size, np.int32(relu), dtype=dr.dtype)
        xp.matmul(dr, w_hh, out=dh[:bs])


def _lstm_forward(xp, steps, gates, w_hh, h0, c0, out, cells, tanh_cells):
    H = out.shape[1]
    for k, t in enumerate(steps.order):
        r = steps.rows(t)
        hh = steps.previous(xp, out, h0, k) @ w_hh.T
        c = cells[r]
        _lstm_cell(c.size, gates[r], hh, steps.previous(xp, cells, c0, k), c, tanh_cells[r], out[r], c.size, H,
                   dtype=c.dtype)


def _lstm_backward(xp, steps, ws, w_hh, go, dh, dc, cprev, d):
    H = dh.shape[1]
    for t in reversed(steps.order):
        r, bs = steps.rows(t), steps.sizes[t]
        n = bs * H
        _lstm_cell_backward(n, go[r], dh[:bs], ws.gates[r], ws.tanh_cells[r], dc[:bs], cprev[r], d[r], n, H,
                            dtype=d.dtype)
        xp.matmul(d[r], w_hh, out=dh[:bs])


def _gru_forward(xp, steps, gates, w_hh, b_hn, h0, out, hidden_n):
    H = out.shape[1]
    for k, t in enumerate(steps.order):
        r = steps.rows(t)
        hp = steps.previous(xp, out, h0, k)
        h = out[r]
        _gru_cell(h.size, gates[r], hp @ w_hh.T, b_hn, hp, hidden_n[r], h, h.size, H, dtype=h.dtype)


def _gru_backward(xp, steps, ws, w_hh, go, dh, hprev, d, d_hidden):
    H = dh.shape[1]
    direct = xp.empty_like(dh)
    for t in reversed(steps.order):
        r, bs = steps.rows(t), steps.sizes[t]
        n = bs * H
        _gru_cell_backward(n, go[r], dh[:bs], ws.gates[r], ws.hidden_n[r], hprev[r], d[r], d_hidden[r],
                           direct[:bs], n, H, dtype=d.dtype)
        xp.matmul(d_hidden[r], w_hh, out=dh[:bs])
        dh[:bs] += direct[:bs]
    d[:, :2 * H] = d_hidden[:, :2 * H]


# ---------------------------------------------------------------------- helpers

def _summed_bias(xp, mode, b_ih, b_hh, H):
    """The biases that add to the input projection: b_ih + b_hh (GRU: all but b_hn, which the reset gate
    scales); None without biases."""
    if b_ih is None and b_hh is None:
        return None
    if b_hh is None:
        return widened(b_ih)
    b_hh = widened(b_hh)
    if mode == _GRU:
        b_hh = xp.concatenate((b_hh[:2 * H], xp.zeros(H, b_hh.dtype)))
    return b_hh if b_ih is None else widened(b_ih) + b_hh


def _fresh(xp, a, shape, dt):
    """A new array of a state's gradient (zeros for None): the backward loop advances it in place."""
    return xp.zeros(shape, dt) if a is None else xp.array(a, dtype=dt)


def _narrowed(a, dt):
    """``a`` in the caller's dtype: Half results round from float32 here, others are ``a`` itself."""
    return a.astype(dt, copy=False)
