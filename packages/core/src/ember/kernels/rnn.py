"""Recurrent layer kernels: one layer and one direction of an RNN (tanh or ReLU), LSTM or GRU over a whole
sequence, forward and backward (what cuDNN's RNN functions are to PyTorch 0.2's CUDA path).

    output, hy, cy, ws = rnn_forward(mode, input, weight_ih, weight_hh, bias_ih, bias_hh, hx, cx,
                                     batch_sizes=None, reverse=False)
    (grad_input, grad_hx, grad_cx, grad_weight_ih, grad_weight_hh, grad_bias_ih, grad_bias_hh) = \\
        rnn_backward(grad_output, grad_hy, grad_cy, input, weight_ih, weight_hh, ws)

``mode`` is 0.2's: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'; weights and gate order are PyTorch's
(weight_ih: G x I, weight_hh: G x H, G = H, 4H (i, f, g, o) or 3H (r, z, n)). ``input`` is a padded batch
T x B x I (output T x B x H), or with ``batch_sizes`` a packed sequence's data N x I (output N x H), step t
holding the first batch_sizes[t] sequences (non-increasing). ``hx``/``cx`` (B x H) default to zeros; ``cx``
and ``cy`` exist for LSTM only. ``reverse`` runs from the last step to the first (the backward direction
of a bidirectional layer). ``ws`` carries what backward needs; the grad_* arguments of rnn_backward may be
None (zero).

The input projection of all steps is one gemm; each step is one gemm with W_hh and one fused pass over the
gates (ember/_C/rnn.pyx); backward runs the steps in reverse the same way and then forms every weight
gradient with one gemm over the whole sequence. The kernels' private buffers are recycled across calls;
``ember.kernels.rnn.release_workspaces()`` frees them (an ember extra). CUDA tensors take the same route in
CuPy array code (ember/kernels/cuda/rnn.py); every tensor argument must then be on the input's GPU.
"""
import numpy as np

from ember._C import rnn as _k
from ember.tensor import _typename_of

from ._common import contiguous, float_input, get_num_threads, on_device, same_device, same_type, size_str, xp_of

__all__ = ["rnn_forward", "rnn_backward", "RNN_MODES"]

RNN_MODES = ("RNN_RELU", "RNN_TANH", "LSTM", "GRU")  # numbered as ember/_C/rnn.pyx
_GATES = (1, 1, 4, 3)
_LSTM, _GRU = 2, 3
_EMPTY = {}


class RNNWorkspace(object):
    """What rnn_forward keeps for rnn_backward: the step sizes and the arrays the forward filled. Its
    private arrays go back to the buffer pool when it is freed (with the graph that holds it)."""
    __slots__ = ("mode", "sizes", "reverse", "shape", "gates", "out", "hprev", "aux1", "aux2", "x")

    def __init__(self, mode, sizes, reverse, shape, gates, out, hprev, aux1, aux2, x):
        self.mode, self.sizes, self.reverse, self.shape = mode, sizes, reverse, shape
        self.gates, self.out, self.hprev, self.aux1, self.aux2, self.x = gates, out, hprev, aux1, aux2, x

    def __del__(self):
        if _give is not None:  # None at interpreter shutdown
            _give(self.gates, self.hprev, self.aux1, self.aux2)


# Buffers the kernels fill and read back themselves are recycled: a fresh multi-megabyte array costs a
# page fault per 4 KiB on first touch, which for a word-model-sized LSTM was a tenth of its time.
_POOL = {}                    # (dtype, elements) -> arrays
_POOL_LIMIT = 128 << 20       # bytes kept at most
_pool_bytes = [0]


def _take(shape, dt):
    n = 1
    for d in shape:
        n *= d
    free = _POOL.get((dt, n))
    if free:
        a = free.pop()
        _pool_bytes[0] -= a.nbytes
        return a.reshape(shape)
    return np.empty(shape, dt)


def _give(*arrays):
    for a in arrays:
        if a is None or not a.size or _pool_bytes[0] + a.nbytes > _POOL_LIMIT:
            continue
        _POOL.setdefault((a.dtype, a.size), []).append(a)
        _pool_bytes[0] += a.nbytes


def release_workspaces():
    """Free the recycled buffers of the recurrent kernels (an ember extra; the pool refills as they run)."""
    _POOL.clear()
    _pool_bytes[0] = 0


def rnn_forward(mode, input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, hx=None, cx=None, batch_sizes=None,
                reverse=False):
    """One layer and direction over a sequence: (output, hy, cy, ws), cy None but for LSTM (see the module
    docs for the arguments)."""
    op = "rnn_forward"
    m = _mode(mode, op)
    float_input(input, op)
    shape = input._a.shape
    if batch_sizes is None:
        if len(shape) != 3:
            raise ValueError("{}(): expected a 3D input (seq_len x batch x input_size), got size {}"
                             .format(op, size_str(input)))
        sizes = np.full(shape[0], shape[1], np.intp)
    else:
        if len(shape) != 2:
            raise ValueError("{}(): with batch_sizes, expected a 2D input (packed rows x input_size), got size {}"
                             .format(op, size_str(input)))
        sizes = _sizes(batch_sizes, shape[0], op)
    I = shape[-1]
    B = int(sizes[0])
    H, G = _weights(m, input, weight_ih, weight_hh, I, op)
    b = _bias(bias_ih, input, G, op, "bias_ih")
    bh = _bias(bias_hh, input, G, op, "bias_hh")
    h = _state(hx, input, B, H, op, "hx")
    c = _state(cx, input, B, H, op, "cx") if m == _LSTM else None
    if input.is_cuda:
        return _forward_gpu(m, input, weight_ih, weight_hh, b, bh, h, c, sizes, bool(reverse))
    return _forward_cpu(m, input, weight_ih, weight_hh, b, bh, h, c, sizes, bool(reverse), H, G)


def rnn_backward(grad_output, grad_hy, grad_cy, input, weight_ih, weight_hh, ws, need_input=True, need_weights=True,
                 need_bias=True):
    """Gradients of rnn_forward's inputs from those of its outputs: (grad_input, grad_hx, grad_cx,
    grad_weight_ih, grad_weight_hh, grad_bias_ih, grad_bias_hh); the ``need_*`` flags skip the input's,
    the weights' or the biases' (None then), grad_cx is None but for LSTM."""
    op = "rnn_backward"
    if not isinstance(ws, _workspace_type(input)):
        raise TypeError("{}(): ws must be the workspace rnn_forward returned, got {}".format(op, _typename_of(ws)))
    for name, t in (("input", input), ("weight_ih", weight_ih), ("weight_hh", weight_hh)):
        _like(t, input, op, name)
    N, H = ws.out.shape
    B = int(ws.sizes[0])
    if input._a.shape != ws.shape or weight_hh._a.shape != (ws.gates.shape[1], H):
        raise ValueError("{}(): input {} and weight_hh {} are not the ones of the forward pass"
                         .format(op, size_str(input), size_str(weight_hh)))
    with on_device(input):  # the gradients may need a contiguous copy
        go = _grad(grad_output, input, (N, H), ws.shape[:-1] + (H,), op, "grad_output")
        ghy = _grad(grad_hy, input, (B, H), (B, H), op, "grad_hy")
        gcy = _grad(grad_cy, input, (B, H), (B, H), op, "grad_cy") if ws.mode == _LSTM else None
        if input.is_cuda:
            return _backward_gpu(go, ghy, gcy, input, weight_ih, weight_hh, ws, need_input, need_weights, need_bias)
    return _backward_cpu(go, ghy, gcy, input, weight_ih, weight_hh, ws, need_input, need_weights, need_bias)


# ---------------------------------------------------------------------- argument checks

def _like(t, input, op, name):
    """``t`` must be a tensor of the input's type on the input's device."""
    same_type(t, input, op, name)
    same_device(t, input, op, name)


def _workspace_type(input):
    if input.is_cuda:
        from .cuda import rnn as _gpu
        return _gpu.Workspace
    return RNNWorkspace


def _mode(mode, op):
    try:
        return RNN_MODES.index(mode)
    except ValueError:
        raise ValueError("{}(): unknown mode {!r} (expected one of {})"
                         .format(op, mode, ", ".join(RNN_MODES))) from None


def _sizes(batch_sizes, N, op):
    if hasattr(batch_sizes, "_a"):
        batch_sizes = batch_sizes._a.tolist()
    try:
        sizes = np.array([int(s) for s in batch_sizes], np.intp)
    except (TypeError, ValueError):
        raise TypeError("{}(): batch_sizes must be a sequence of ints, got {!r}".format(op, batch_sizes)) from None
    if not sizes.size or sizes.min() < 1 or (np.diff(sizes) > 0).any():
        raise ValueError("{}(): batch_sizes must be positive and non-increasing, got {}".format(op, sizes.tolist()))
    if sizes.sum() != N:
        raise ValueError("{}(): batch_sizes sum to {} but the input has {} rows".format(op, int(sizes.sum()), N))
    return sizes


def _weights(m, input, weight_ih, weight_hh, I, op):
    _like(weight_ih, input, op, "weight_ih")
    _like(weight_hh, input, op, "weight_hh")
    wh = weight_hh._a.shape
    if len(wh) != 2 or wh[1] < 1 or wh[0] != _GATES[m] * wh[1]:
        raise ValueError("{}(): weight_hh must be ({} x hidden_size) x hidden_size for {}, got size {}"
                         .format(op, _GATES[m], RNN_MODES[m], size_str(weight_hh)))
    H, G = wh[1], wh[0]
    if weight_ih._a.shape != (G, I):
        raise ValueError("{}(): weight_ih has size {}, expected [{} x {}] (gates x hidden {}, input size {})"
                         .format(op, size_str(weight_ih), G, I, H, I))
    return H, G


def _bias(b, input, G, op, name):
    if b is None:
        return None
    _like(b, input, op, name)
    if b._a.shape != (G,):
        raise ValueError("{}(): {} has size {}, expected [{}]".format(op, name, size_str(b), G))
    return b._a


def _state(s, input, B, H, op, name):
    """The array of an initial state, checked to be B x H (None stays None: zeros)."""
    if s is None:
        return None
    _like(s, input, op, name)
    if s._a.shape != (B, H):
        raise ValueError("{}(): {} has size {}, expected [{} x {}] (batch x hidden_size)"
                         .format(op, name, size_str(s), B, H))
    return s._a


def _grad(g, input, shape2d, shape, op, name):
    """The array of a gradient as rows (``shape2d``), checked to be ``shape`` or ``shape2d`` (None stays
    None: zeros)."""
    if g is None:
        return None
    _like(g, input, op, name)
    if g._a.shape != shape and g._a.shape != shape2d:
        raise ValueError("{}(): {} has size {}, expected {}".format(op, name, size_str(g),
                                                                     "[" + " x ".join(map(str, shape)) + "]"))
    return contiguous(g._a).reshape(shape2d)


# ---------------------------------------------------------------------- GPU

def _forward_gpu(m, input, weight_ih, weight_hh, b_ih, b_hh, h, c, sizes, reverse):
    from .cuda import rnn as _gpu
    a = input._a
    with on_device(input):
        x = contiguous(a).reshape(-1, a.shape[-1])
        out, hy, cy, ws = _gpu.layer_forward(xp_of(input), m, x, weight_ih._a, weight_hh._a, b_ih, b_hh, h, c, sizes,
                                             reverse, a.shape)
    cls = type(input)
    output = cls._make(out.reshape(a.shape[:-1] + out.shape[1:]))
    return output, cls._make(hy), (cls._make(cy) if cy is not None else None), ws


def _backward_gpu(go, ghy, gcy, input, weight_ih, weight_hh, ws, need_input, need_weights, need_bias):
    """(runs inside rnn_backward's device guard)"""
    from .cuda import rnn as _gpu
    grads = _gpu.layer_backward(xp_of(input), ws, go, ghy, gcy, weight_ih._a, weight_hh._a, need_input, need_weights,
                                need_bias)
    cls = type(input)
    return tuple(None if g is None else cls._make(g) for g in grads)


# ---------------------------------------------------------------------- CPU

def _forward_cpu(m, input, weight_ih, weight_hh, b_ih, b_hh, h, c, sizes, reverse, H, G):
    a = input._a
    N = int(sizes.sum())
    x = contiguous(a).reshape(N, a.shape[-1])
    dt = x.dtype
    B = int(sizes[0])
    # fresh copies of the initial states: the kernel advances them in place
    h = np.zeros((B, H), dt) if h is None else np.array(h, order="C")
    if m == _LSTM:
        c = np.zeros((B, H), dt) if c is None else np.array(c, order="C")
    nt = get_num_threads()
    w_hh = contiguous(weight_hh._a)
    # the input projection of every step at once, with the biases that simply add (all but GRU's b_hn)
    g = _take((N, G), dt)
    bias = _combined_bias(m, b_ih, b_hh, H, G, dt)
    if bias is not None:
        g[...] = bias
    _k.mm(x, False, contiguous(weight_ih._a), True, g, 1 if bias is not None else 0, nt)
    out = np.empty((N, H), dt)
    hprev = _take((N, H), dt)
    e2, e1 = _empty(dt)
    aux1 = aux2 = e2
    bhn = e1
    if m == _LSTM:
        aux1, aux2 = _take((N, H), dt), _take((N, H), dt)
    elif m == _GRU:
        aux1 = _take((N, H), dt)
        bhn = np.ascontiguousarray(b_hh[2 * H:]) if b_hh is not None else np.zeros(H, dt)
    _k.layer_forward(m, g, w_hh, sizes, reverse, h, c if c is not None else e2, out, hprev, aux1, aux2, bhn, nt)
    cls = type(input)
    ws = RNNWorkspace(m, sizes, reverse, a.shape, g, out, hprev, aux1, aux2, x)
    output = cls._make(out.reshape(a.shape[:-1] + (H,)))
    return output, cls._make(h), (cls._make(c) if c is not None else None), ws


def _combined_bias(m, b_ih, b_hh, H, G, dt):
    if b_ih is None and b_hh is None:
        return None
    bias = np.zeros(G, dt)
    if b_ih is not None:
        bias += b_ih
    if b_hh is not None:
        if m == _GRU:
            bias[:2 * H] += b_hh[:2 * H]
        else:
            bias += b_hh
    return bias


def _empty(dt):
    e = _EMPTY.get(dt)
    if e is None:
        e = _EMPTY[dt] = (np.empty((0, 0), dt), np.empty(0, dt))
    return e


def _backward_cpu(go, ghy, gcy, input, weight_ih, weight_hh, ws, need_input, need_weights, need_bias):
    m = ws.mode
    N, H = ws.out.shape
    B = int(ws.sizes[0])
    G = ws.gates.shape[1]
    dt = input._a.dtype
    nt = get_num_threads()
    go = np.zeros((N, H), dt) if go is None else go
    dh = np.zeros((B, H), dt) if ghy is None else np.array(ghy, order="C")
    dc = (np.zeros((B, H), dt) if gcy is None else np.array(gcy, order="C")) if m == _LSTM else _empty(dt)[0]
    dgi = _take((N, G), dt)
    dghn = _take((N, H), dt) if m == _GRU else _empty(dt)[0]
    w_hh = contiguous(weight_hh._a)
    _k.layer_backward(m, ws.gates, w_hh, ws.sizes, ws.reverse, go, dh, dc, ws.out, ws.hprev, ws.aux1, ws.aux2,
                      dgi, dghn, nt)
    cls = type(input)
    gx = gw_ih = gw_hh = gb_ih = gb_hh = None
    if need_input:
        gxa = np.empty((N, ws.x.shape[1]), dt)
        _k.mm(dgi, False, contiguous(weight_ih._a), False, gxa, 0, nt)
        gx = cls._make(gxa.reshape(ws.shape))
    if need_weights:
        a = np.empty((G, ws.x.shape[1]), dt)
        _k.mm(dgi, True, ws.x, False, a, 0, nt)
        gw_ih = cls._make(a)
        a = np.empty((G, H), dt)
        if m == _GRU:  # the r and z rows take the gates' gradient, the n rows the reset-scaled one
            _k.mm(dgi[:, :2 * H], True, ws.hprev, False, a[:2 * H], 0, nt)
            _k.mm(dghn, True, ws.hprev, False, a[2 * H:], 0, nt)
        else:
            _k.mm(dgi, True, ws.hprev, False, a, 0, nt)
        gw_hh = cls._make(a)
    if need_bias:
        s = dgi.sum(0)
        gb_ih = cls._make(s)
        if m == _GRU:
            s = s.copy()
            s[2 * H:] = dghn.sum(0)
            gb_hh = cls._make(s)
        else:
            gb_hh = cls._make(s.copy())
    _give(dgi, dghn)
    return (gx, cls._make(dh), cls._make(dc) if m == _LSTM else None, gw_ih, gw_hh, gb_ih, gb_hh)

