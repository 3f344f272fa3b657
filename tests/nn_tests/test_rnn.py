"""Recurrent layers beyond the module table (cases/rnn.py): float32 parity with PyTorch, the layer kernels
(ember.kernels.rnn_forward / rnn_backward) on their own, parameter names and state_dicts interchanged with
PyTorch, dropout between layers, carried hidden states, double backward of the cells, and the errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import kernels as K
from ember._C import rnn as _k
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck

from _helpers.oracle import require_torch, to_numpy

TORCH_CLS = {"RNN_TANH": "RNN", "RNN_RELU": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _var(a, grad=False):
    return Variable(ember.from_numpy(np.ascontiguousarray(a).copy()), requires_grad=grad)


def _torch_twin(torch, m):
    """The torch module with ember module ``m``'s configuration and weights."""
    kw = dict(num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first, dropout=m.dropout,
              bidirectional=m.bidirectional)
    if m.mode.startswith("RNN"):
        kw["nonlinearity"] = "relu" if m.mode == "RNN_RELU" else "tanh"
    tm = getattr(torch.nn, TORCH_CLS[m.mode])(m.input_size, m.hidden_size, **kw)
    dtype = torch.float64 if m.weight_ih_l0.data._typename == "torch.DoubleTensor" else torch.float32
    tm = tm.to(dtype)
    tm.load_state_dict({k: torch.from_numpy(to_numpy(v)) for k, v in m.state_dict().items()})
    return tm


def _flat_hidden(h):
    return list(h) if isinstance(h, tuple) else [h]


# ---------------------------------------------------------------------- float32 parity (the fast gate math)

@pytest.mark.parametrize("cls,kwargs", [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(num_layers=2, batch_first=True)),
    ("RNN", dict(num_layers=2, nonlinearity="relu", bidirectional=True)),
    ("RNN", dict()),
])
def test_float32_matches_torch(cls, kwargs):
    _check_float32_against_torch(cls, kwargs, lambda t: t)


def _check_float32_against_torch(cls, kwargs, to):
    """ember's module (its tensors moved by ``to``) against torch's, outputs and every gradient."""
    torch = require_torch()
    ember.manual_seed(3)
    m = getattr(nn, cls)(6, 8, **kwargs)
    tm = _torch_twin(torch, m)
    m = to(m)
    rng = np.random.RandomState(0)
    shape = (3, 7, 6) if kwargs.get("batch_first") else (7, 3, 6)
    x = (rng.randn(*shape) * 2).astype(np.float32)   # large enough to reach the saturated ends of the gates
    ex, tx = Variable(to(ember.from_numpy(x.copy())), requires_grad=True), torch.from_numpy(x.copy()).requires_grad_()
    out, h = m(ex)
    tout, th = tm(tx)
    hs, ths = _flat_hidden(h), _flat_hidden(th)
    go = rng.randn(*tout.shape).astype(np.float32)
    gh = [rng.randn(*t.shape).astype(np.float32) for t in ths]
    ember.autograd.backward([out] + hs, [to(ember.from_numpy(go))] + [to(ember.from_numpy(g)) for g in gh])
    torch.autograd.backward([tout] + ths, [torch.from_numpy(go)] + [torch.from_numpy(g) for g in gh])
    tol = dict(rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(to_numpy(out.data), to_numpy(tout), **tol)
    for a, b in zip(hs, ths):
        np.testing.assert_allclose(to_numpy(a.data), to_numpy(b), **tol)
    np.testing.assert_allclose(to_numpy(ex.grad.data), to_numpy(tx.grad), **tol)
    tparams = dict(tm.named_parameters())
    for name, p in m.named_parameters():
        np.testing.assert_allclose(to_numpy(p.grad.data), to_numpy(tparams[name].grad), err_msg=name, **tol)


def test_float_nonlinearities_are_accurate():
    xs = np.concatenate([np.linspace(-20, 20, 4001), np.linspace(-1e-3, 1e-3, 101), [-100, 100, -1e-8, 0]])
    x32 = xs.astype(np.float32).astype(np.float64)
    sig = np.array([_k.sigmoid_f(v) for v in x32])
    tanh = np.array([_k.tanh_f(v) for v in x32])
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-x32)), rtol=4e-7, atol=1e-30)
    np.testing.assert_allclose(tanh, np.tanh(x32), rtol=4e-7, atol=1e-30)


# ---------------------------------------------------------------------- the kernels on their own

def _kernel_case(mode, dtype, reverse, batch_sizes, rng, H):
    I = 4
    G = GATES[mode] * H
    T = len(batch_sizes)
    B = batch_sizes[0]
    w_ih, w_hh = rng.randn(G, I) * 0.5, rng.randn(G, H) * (0.5 / np.sqrt(H))
    b_ih, b_hh = rng.randn(G) * 0.3, rng.randn(G) * 0.3
    x = rng.randn(T, B, I)
    h0, c0 = rng.randn(B, H), rng.randn(B, H)
    go, ghy, gcy = rng.randn(T, B, H), rng.randn(B, H), rng.randn(B, H)
    for t, bs in enumerate(batch_sizes):   # padded steps of the packed layout take no part
        x[t, bs:] = 0
        go[t, bs:] = 0
    return [a.astype(dtype) for a in (w_ih, w_hh, b_ih, b_hh, x, h0, c0, go, ghy, gcy)]


def _torch_reference(torch, mode, arrays, reverse, lengths):
    """Each sequence alone through torch (its own length; reversed for reverse): output, final states and
    every gradient, scattered back into the padded layout."""
    w_ih, w_hh, b_ih, b_hh, x, h0, c0, go, ghy, gcy = [torch.from_numpy(a.copy()) for a in arrays]
    params = [p.requires_grad_() for p in (w_ih, w_hh, b_ih, b_hh)]
    x.requires_grad_()
    h0.requires_grad_()
    c0.requires_grad_()
    lstm = mode == "LSTM"
    fn = {"LSTM": torch.lstm_cell, "GRU": torch.gru_cell, "RNN_TANH": torch.rnn_tanh_cell,
          "RNN_RELU": torch.rnn_relu_cell}[mode]
    outs = torch.zeros_like(x[..., :1]).expand(*x.shape[:2], h0.shape[1]).clone()
    loss = 0
    hy, cy = [], []
    for b, n in enumerate(lengths):
        h, c = h0[b:b + 1], c0[b:b + 1]
        steps = range(n - 1, -1, -1) if reverse else range(n)
        for t in steps:
            if lstm:
                h, c = fn(x[t, b:b + 1], (h, c), *params)
            else:
                h = fn(x[t, b:b + 1], h, *params)
            loss = loss + (h * go[t, b:b + 1]).sum()
            outs[t, b] = h[0].detach()
        loss = loss + (h * ghy[b:b + 1]).sum()
        hy.append(h)
        if lstm:
            loss = loss + (c * gcy[b:b + 1]).sum()
            cy.append(c)
    loss.backward()
    return dict(out=outs, hy=torch.cat(hy), cy=torch.cat(cy) if lstm else None, gx=x.grad, gh0=h0.grad,
                gc0=c0.grad if lstm else None, gw_ih=w_ih.grad, gw_hh=w_hh.grad, gb_ih=b_ih.grad, gb_hh=b_hh.grad)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("H", [5, 72])  # 72: the hidden units are shared out in chunks to several threads
def test_kernel_against_torch_cells(mode, dtype, reverse, packed, H):
    torch = require_torch()
    rng = np.random.RandomState(7)
    batch_sizes = [3, 3, 2, 1] if packed else [3, 3, 3]
    arrays = _kernel_case(mode, dtype, reverse, batch_sizes, rng, H)
    w_ih, w_hh, b_ih, b_hh, x, h0, c0, go, ghy, gcy = arrays
    lengths = [sum(1 for s in batch_sizes if s > b) for b in range(batch_sizes[0])]
    ref = _torch_reference(torch, mode, arrays, reverse, lengths)
    E = ember.from_numpy
    lstm = mode == "LSTM"
    if packed:  # the packed rows: step t's first batch_sizes[t] sequences
        rows = np.concatenate([x[t, :bs] for t, bs in enumerate(batch_sizes)])
        grows = np.concatenate([go[t, :bs] for t, bs in enumerate(batch_sizes)])
        inp, gout, bsz = E(rows), E(grows), batch_sizes
    else:
        inp, gout, bsz = E(x), E(go), None
    out, hy, cy, ws = K.rnn_forward(mode, inp, E(w_ih), E(w_hh), E(b_ih), E(b_hh), E(h0), E(c0) if lstm else None,
                                    batch_sizes=bsz, reverse=reverse)
    grads = K.rnn_backward(gout, E(ghy), E(gcy) if lstm else None, inp, E(w_ih), E(w_hh), ws)
    gx, gh0, gc0, gw_ih, gw_hh, gb_ih, gb_hh = grads

    def unpack(a):
        if not packed:
            return a
        full = np.zeros(x.shape[:2] + a.shape[1:], a.dtype)
        r = 0
        for t, bs in enumerate(batch_sizes):
            full[t, :bs] = a[r:r + bs]
            r += bs
        return full

    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(unpack(to_numpy(out)), to_numpy(ref["out"]), **tol)
    np.testing.assert_allclose(to_numpy(hy), to_numpy(ref["hy"]), **tol)
    np.testing.assert_allclose(unpack(to_numpy(gx)), to_numpy(ref["gx"]), **tol)
    np.testing.assert_allclose(to_numpy(gh0), to_numpy(ref["gh0"]), **tol)
    for name in ("gw_ih", "gw_hh", "gb_ih", "gb_hh"):
        np.testing.assert_allclose(to_numpy(locals()[name]), to_numpy(ref[name]), err_msg=name, **tol)
    if lstm:
        np.testing.assert_allclose(to_numpy(cy), to_numpy(ref["cy"]), **tol)
        np.testing.assert_allclose(to_numpy(gc0), to_numpy(ref["gc0"]), **tol)
    else:
        assert cy is None and gc0 is None
    assert out._typename == ("torch.FloatTensor" if dtype == np.float32 else "torch.DoubleTensor")


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_kernel_threads_agree(mode):
    """Any number of threads gives the same result (the chunks of hidden units are independent)."""
    rng = np.random.RandomState(3)
    H, I, T, B = 100, 30, 6, 5
    G = GATES[mode] * H
    E = ember.from_numpy
    args = [E(rng.randn(T, B, I).astype(np.float32)), E((rng.randn(G, I) * 0.2).astype(np.float32)),
            E((rng.randn(G, H) * 0.1).astype(np.float32)), E(rng.randn(G).astype(np.float32)), None]
    go = E(rng.randn(T, B, H).astype(np.float32))
    results = []
    old = ember.get_num_threads()
    try:
        for n in (1, 2, 3):
            ember.set_num_threads(n)
            out, hy, cy, ws = K.rnn_forward(mode, *args, batch_sizes=None, reverse=True)
            grads = K.rnn_backward(go, None, None, args[0], args[1], args[2], ws)
            results.append([to_numpy(t) for t in (out, hy) + tuple(g for g in grads if g is not None)])
    finally:
        ember.set_num_threads(old)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_kernel_defaults_and_partial_gradients():
    rng = np.random.RandomState(1)
    E = ember.from_numpy
    x = E(rng.randn(3, 2, 4))
    w_ih, w_hh = E(rng.randn(8, 4)), E(rng.randn(8, 2))
    out, hy, cy, ws = K.rnn_forward("LSTM", x, w_ih, w_hh)      # no biases, zero states
    out2, hy2, cy2, _ = K.rnn_forward("LSTM", x, w_ih, w_hh, ember.zeros(8).double(), None,
                                      ember.zeros(2, 2).double(), ember.zeros(2, 2).double())
    np.testing.assert_array_equal(to_numpy(out), to_numpy(out2))
    np.testing.assert_array_equal(to_numpy(cy), to_numpy(cy2))
    g = K.rnn_backward(None, hy.clone().fill_(1), None, x, w_ih, w_hh, ws, need_input=False, need_weights=False)
    assert g[0] is None and g[3] is None and g[4] is None and g[5] is not None
    full = K.rnn_backward(None, hy.clone().fill_(1), None, x, w_ih, w_hh, ws)
    np.testing.assert_array_equal(to_numpy(g[1]), to_numpy(full[1]))
    np.testing.assert_array_equal(to_numpy(g[5]), to_numpy(full[5]))


def test_kernel_errors():
    E = ember.from_numpy
    x = E(np.zeros((3, 2, 4)))
    w_ih, w_hh = E(np.zeros((8, 4))), E(np.zeros((8, 2)))
    with pytest.raises(ValueError, match="unknown mode 'LSTMX'"):
        K.rnn_forward("LSTMX", x, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"weight_hh must be \(4 x hidden_size\) x hidden_size for LSTM, got size "
                                         r"\[8 x 3\]"):
        K.rnn_forward("LSTM", x, w_ih, E(np.zeros((8, 3))))
    with pytest.raises(ValueError, match=r"weight_ih has size \[8 x 5\], expected \[8 x 4\]"):
        K.rnn_forward("LSTM", x, E(np.zeros((8, 5))), w_hh)
    with pytest.raises(ValueError, match=r"expected a 3D input .* got size \[3 x 2\]"):
        K.rnn_forward("LSTM", E(np.zeros((3, 2))), w_ih, w_hh)
    with pytest.raises(ValueError, match=r"hx has size \[3 x 2\], expected \[2 x 2\]"):
        K.rnn_forward("LSTM", x, w_ih, w_hh, hx=E(np.zeros((3, 2))))
    with pytest.raises(ValueError, match=r"bias_ih has size \[4\], expected \[8\]"):
        K.rnn_forward("LSTM", x, w_ih, w_hh, E(np.zeros(4)))
    with pytest.raises(TypeError, match="expected weight_ih to be a torch.DoubleTensor"):
        K.rnn_forward("LSTM", x, w_ih.float(), w_hh)
    with pytest.raises(TypeError, match="expected input to be a torch.FloatTensor or torch.DoubleTensor"):
        K.rnn_forward("LSTM", x.long(), w_ih, w_hh)
    rows = E(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="non-increasing"):
        K.rnn_forward("LSTM", rows, w_ih, w_hh, batch_sizes=[2, 3])
    with pytest.raises(ValueError, match="batch_sizes sum to 4 but the input has 5 rows"):
        K.rnn_forward("LSTM", rows, w_ih, w_hh, batch_sizes=[2, 2])
    out, hy, cy, ws = K.rnn_forward("LSTM", x, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"grad_output has size \[3 x 2\], expected \[3 x 2 x 2\]"):
        K.rnn_backward(E(np.zeros((3, 2))), None, None, x, w_ih, w_hh, ws)
    with pytest.raises(TypeError, match="workspace"):
        K.rnn_backward(None, None, None, x, w_ih, w_hh, None)


# ---------------------------------------------------------------------- parameters and state_dicts

@pytest.mark.parametrize("cls,kwargs", [
    ("LSTM", dict(num_layers=3, bidirectional=True)),
    ("GRU", dict(num_layers=2, bias=False)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True)),
])
def test_parameter_names_and_shapes_match_torch(cls, kwargs):
    torch = require_torch()
    m = getattr(nn, cls)(5, 7, **kwargs)
    tm = getattr(torch.nn, cls)(5, 7, **kwargs)
    assert [(n, tuple(p.size())) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert len(m.all_weights) == len(tm.all_weights)
    assert all(len(a) == len(b) for a, b in zip(m.all_weights, tm.all_weights))


def test_reset_parameters_range():
    for m in (nn.LSTM(10, 16, num_layers=2), nn.GRUCell(3, 25), nn.RNN(4, 9, bidirectional=True)):
        bound = 1 / np.sqrt(m.hidden_size)
        for name, p in m.named_parameters():
            a = to_numpy(p.data)
            assert np.abs(a).max() <= bound and a.std() > bound / 4, name
            assert p.data._typename == "torch.FloatTensor"


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_state_dict_interchange_with_torch(cls, tmp_path):
    torch = require_torch()
    kwargs = dict(num_layers=2, bidirectional=True)
    x = np.random.RandomState(0).randn(4, 2, 3).astype(np.float32)
    # ember -> torch, through ember.save (0.2's format) and torch.load
    m = getattr(nn, cls)(3, 5, **kwargs)
    ember.save(m.state_dict(), str(tmp_path / "ember.pt"))
    tm = getattr(torch.nn, cls)(3, 5, **kwargs)
    tm.load_state_dict(torch.load(str(tmp_path / "ember.pt"), weights_only=False))
    np.testing.assert_allclose(to_numpy(m(_var(x))[0].data), to_numpy(tm(torch.from_numpy(x))[0]), rtol=1e-5,
                               atol=1e-6)
    # torch -> ember, through torch.save and ember.load
    tm2 = getattr(torch.nn, cls)(3, 5, **kwargs)
    torch.save(tm2.state_dict(), str(tmp_path / "torch.pt"))
    m2 = getattr(nn, cls)(3, 5, **kwargs)
    m2.load_state_dict(ember.load(str(tmp_path / "torch.pt")))
    np.testing.assert_allclose(to_numpy(m2(_var(x))[0].data), to_numpy(tm2(torch.from_numpy(x))[0]), rtol=1e-5,
                               atol=1e-6)


def test_flatten_parameters_and_type_conversion():
    m = nn.GRU(3, 4, num_layers=2)
    assert m.flatten_parameters() is None
    m.double()
    assert all(p.data._typename == "torch.DoubleTensor" for p in m.parameters())
    out, h = m(_var(np.zeros((2, 1, 3))))
    assert out.data._typename == "torch.DoubleTensor" and tuple(h.size()) == (2, 1, 4)


def test_pickle_round_trip():
    import pickle
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    m2 = pickle.loads(pickle.dumps(m))
    x = _var(np.random.RandomState(0).randn(3, 2, 3).astype(np.float32))
    np.testing.assert_array_equal(to_numpy(m(x)[0].data), to_numpy(m2(x)[0].data))
    assert repr(m2) == "LSTM(3, 4, num_layers=2, bidirectional=True)"


# ---------------------------------------------------------------------- behaviour

def test_dropout_between_layers():
    rng = np.random.RandomState(0)
    x = _var(rng.randn(6, 3, 4).astype(np.float32))
    m = nn.LSTM(4, 8, num_layers=2, dropout=0.5)
    m.eval()
    ref = to_numpy(m(x)[0].data)
    m.train()
    ember.manual_seed(5)
    a = to_numpy(m(x)[0].data)
    ember.manual_seed(5)
    b = to_numpy(m(x)[0].data)
    np.testing.assert_array_equal(a, b)                  # the same masks from the same seed
    assert np.abs(a - ref).max() > 1e-3                  # dropped in training
    m.dropout = 0
    np.testing.assert_array_equal(to_numpy(m(x)[0].data), ref)
    # no dropout after the last layer: a one-layer network is unaffected
    single = nn.GRU(4, 8, dropout=0.9)
    single.eval()
    r = to_numpy(single(x)[0].data)
    single.train()
    np.testing.assert_array_equal(to_numpy(single(x)[0].data), r)


def test_gradcheck_with_dropout_in_training():
    m = nn.RNN(2, 3, num_layers=2, dropout=0.4).double()
    x = _var(np.random.RandomState(2).randn(3, 2, 2), True)

    def fn(inp):
        ember.manual_seed(11)   # the same masks at every evaluation
        return m(inp)[0]

    assert gradcheck(fn, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_hidden_state_carried_between_calls():
    m = nn.LSTM(3, 4, num_layers=2).double()
    x = np.random.RandomState(1).randn(6, 2, 3)
    whole, (h, c) = m(_var(x))
    first, state = m(_var(x[:4]))
    second, (h2, c2) = m(_var(x[4:]), state)
    np.testing.assert_allclose(to_numpy(ember.cat([first, second], 0).data), to_numpy(whole.data), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(h2.data), to_numpy(h.data), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(c2.data), to_numpy(c.data), rtol=1e-12)


def test_non_contiguous_input_and_hidden():
    torch = require_torch()
    m = nn.GRU(3, 4, num_layers=2, bidirectional=True).double()
    tm = _torch_twin(torch, m)
    rng = np.random.RandomState(4)
    big = rng.randn(2, 6, 5)                     # (batch, seq, features): transposed and narrowed below
    hbig = rng.randn(4, 4, 2)                    # (layers*dirs, hidden, batch): transposed below
    ex = _var(big, True)
    eh = _var(hbig, True)
    x, h = ex.transpose(0, 1)[:, :, 1:4], eh.transpose(1, 2)
    tx = torch.from_numpy(big.copy()).requires_grad_()
    th = torch.from_numpy(hbig.copy()).requires_grad_()
    out, hy = m(x, h)
    tout, thy = tm(tx.transpose(0, 1)[:, :, 1:4], th.transpose(1, 2))
    (out.sum() + hy.sum()).backward()
    (tout.sum() + thy.sum()).backward()
    np.testing.assert_allclose(to_numpy(out.data), to_numpy(tout), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(ex.grad.data), to_numpy(tx.grad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(eh.grad.data), to_numpy(th.grad), rtol=1e-10, atol=1e-12)


def test_only_final_state_used_and_retain_graph():
    m = nn.LSTM(3, 4).double()
    x = _var(np.random.RandomState(3).randn(4, 2, 3), True)
    out, (h, c) = m(x)
    h.sum().backward(retain_graph=True)
    g1 = to_numpy(x.grad.data).copy()
    w1 = to_numpy(m.weight_hh_l0.grad.data).copy()
    h.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad.data), 2 * g1, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(m.weight_hh_l0.grad.data), 2 * w1, rtol=1e-12)
    with pytest.raises(RuntimeError, match="buffers have already been freed"):
        h.sum().backward()


def test_volatile_inference():
    m = nn.GRU(3, 4)
    x = Variable(ember.randn(5, 2, 3), volatile=True)
    out, h = m(x)
    assert out.volatile and h.volatile and out.grad_fn is None


def test_cells_double_backward():
    for cell, hx in ((nn.LSTMCell(2, 3).double(), 2), (nn.GRUCell(2, 3).double(), 1),
                     (nn.RNNCell(2, 3).double(), 1)):
        rng = np.random.RandomState(0)
        x = _var(rng.randn(2, 2), True)
        states = tuple(_var(rng.randn(2, 3), True) for _ in range(hx))

        def fn(x, *s):
            r = cell(x, s if hx == 2 else s[0])
            return r if hx == 1 else r[0] + r[1]

        assert gradgradcheck(fn, (x,) + states, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_layer_double_backward_raises():
    m = nn.LSTM(2, 3).double()
    x = _var(np.random.RandomState(0).randn(2, 1, 2), True)
    out, _ = m(x)
    g, = ember.autograd.grad([out.sum()], [x], create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate twice"):
        g.sum().backward()


def test_cells_match_one_step_layers():
    ember.manual_seed(0)
    for cell_cls, layer_cls, two in ((nn.LSTMCell, nn.LSTM, True), (nn.GRUCell, nn.GRU, False),
                                     (nn.RNNCell, nn.RNN, False)):
        cell, layer = cell_cls(3, 4).double(), layer_cls(3, 4).double()
        layer.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
        x = np.random.RandomState(0).randn(2, 3)
        out, _ = layer(_var(x[None]))
        h = cell(_var(x))
        np.testing.assert_allclose(to_numpy((h[0] if two else h).data), to_numpy(out.data[0]), rtol=1e-12)


# ---------------------------------------------------------------------- errors

def test_layer_errors():
    m = nn.LSTM(3, 4, num_layers=2)
    x = _var(np.zeros((5, 2, 3), np.float32))
    with pytest.raises(RuntimeError, match=r"LSTM: input must have 3 dimensions \(seq_len x batch x input_size\), "
                                           r"got 2 \(size \[5 x 3\]\)"):
        m(_var(np.zeros((5, 3), np.float32)))
    with pytest.raises(RuntimeError, match=r"LSTM: input.size\(-1\) must be equal to input_size. Expected 3, got 6"):
        m(_var(np.zeros((5, 2, 6), np.float32)))
    h = _var(np.zeros((2, 2, 4), np.float32))
    with pytest.raises(RuntimeError, match=r"LSTM: Expected hidden\[1\] size \[2 x 2 x 4\], got \[1 x 2 x 4\]"):
        m(x, (h, _var(np.zeros((1, 2, 4), np.float32))))
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h_0, c_0\)"):
        m(x, h)
    with pytest.raises(TypeError, match="LSTM: input is a torch.DoubleTensor but the parameters are "
                                        "torch.FloatTensor"):
        m(_var(np.zeros((5, 2, 3))))
    with pytest.raises(TypeError, match="LSTM: expected input to be a Variable, got torch.FloatTensor"):
        m(ember.zeros(5, 2, 3))
    g = nn.GRU(3, 4, bidirectional=True, batch_first=True)
    with pytest.raises(RuntimeError, match=r"GRU: Expected hidden size \[2 x 5 x 4\], got \[1 x 5 x 4\]"):
        g(x, _var(np.zeros((1, 5, 4), np.float32)))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    x = _var(np.zeros((2, 3), np.float32))
    with pytest.raises(RuntimeError, match=r"LSTMCell: input must be 2D \(batch x input_size\), got size "
                                           r"\[2 x 3 x 1\]"):
        cell(_var(np.zeros((2, 3, 1), np.float32)))
    with pytest.raises(RuntimeError, match="GRUCell: input has inconsistent input_size: got 5, expected 3"):
        nn.GRUCell(3, 4)(_var(np.zeros((2, 5), np.float32)))
    h = _var(np.zeros((2, 4), np.float32))
    with pytest.raises(RuntimeError, match=r"LSTMCell: expected hx\[1\] of size \[2 x 4\] \(batch x hidden_size\), "
                                           r"got \[3 x 4\]"):
        cell(x, (h, _var(np.zeros((3, 4), np.float32))))
    with pytest.raises(TypeError, match=r"LSTMCell: hx must be a tuple \(h, c\)"):
        cell(x, h)
    with pytest.raises(RuntimeError, match=r"RNNCell: expected hx of size \[2 x 4\]"):
        nn.RNNCell(3, 4)(x, _var(np.zeros((2, 5), np.float32)))
    bad = nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: sigmoid"):
        bad(x, h)


# ---------------------------------------------------------------------- CUDA (the module table runs every layout)

def _cuda(x):
    return x.cuda()


@pytest.mark.parametrize("cls,kwargs", [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(num_layers=2, batch_first=True)),
    ("RNN", dict(nonlinearity="relu")),
])
def test_cuda_float32_matches_torch(device_mode, cls, kwargs):
    _check_float32_against_torch(cls, kwargs, _cuda)


def test_cuda_dropout_between_layers(device_mode):
    x = Variable(ember.from_numpy(np.random.RandomState(0).randn(6, 3, 4).astype(np.float32)).cuda(),
                 requires_grad=True)
    m = nn.LSTM(4, 8, num_layers=2, dropout=0.5)
    cpu = to_numpy(m.eval()(Variable(x.data.cpu()))[0].data)
    m.cuda()
    ref = m(x)[0]
    np.testing.assert_allclose(to_numpy(ref.data), cpu, rtol=1e-5, atol=1e-6)
    m.train()
    out = m(x)[0]
    assert out.data.is_cuda and np.abs(to_numpy(out.data) - cpu).max() > 1e-3   # dropped in training
    out.sum().backward()
    assert x.grad.data.is_cuda and np.isfinite(to_numpy(x.grad.data)).all()


def test_cuda_hidden_state_carried_between_calls(device_mode):
    m = nn.GRU(3, 4, num_layers=2, bidirectional=False).double().cuda()
    x = ember.from_numpy(np.random.RandomState(1).randn(6, 2, 3)).cuda()
    whole, h = m(Variable(x))
    first, state = m(Variable(x[:4]))
    second, h2 = m(Variable(x[4:]), state)
    np.testing.assert_allclose(to_numpy(ember.cat([first, second], 0).data), to_numpy(whole.data), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(h2.data), to_numpy(h.data), rtol=1e-12)


def test_cuda_non_contiguous_input_and_hidden(device_mode):
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    rng = np.random.RandomState(4)
    big, hbig, cbig = rng.randn(2, 6, 5), rng.randn(4, 4, 2), rng.randn(4, 2, 4)
    results = []
    for to in (lambda t: t, _cuda):
        mod = to(m)
        ex, eh, ec = (Variable(to(ember.from_numpy(a.copy())), requires_grad=True) for a in (big, hbig, cbig))
        out, (hy, cy) = mod(ex.transpose(0, 1)[:, :, 1:4], (eh.transpose(1, 2), ec))
        (out.sum() + hy.sum() + cy.sum()).backward()
        results.append([to_numpy(v) for v in (out.data, hy.data, ex.grad.data, eh.grad.data, ec.grad.data)])
    for got, want in zip(*results[::-1]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_cuda_half_layers_match_float(device_mode, cls):
    ember.manual_seed(0)
    m = getattr(nn, cls)(3, 6, num_layers=2, bidirectional=True).cuda()
    mh = getattr(nn, cls)(3, 6, num_layers=2, bidirectional=True).cuda()
    mh.load_state_dict(m.state_dict())
    mh.half()
    x = ember.from_numpy(np.random.RandomState(2).randn(5, 2, 3).astype(np.float32)).cuda()
    results = []
    for mod, xv in ((m, Variable(x, requires_grad=True)), (mh, Variable(x.half(), requires_grad=True))):
        out, _ = mod(xv)
        out.float().sum().backward()
        results.append((out.data, xv.grad.data, mod.weight_hh_l0.grad.data))
    assert all(type(t) is ember.cuda.HalfTensor for t in results[1])
    for half, full in zip(results[1], results[0]):
        np.testing.assert_allclose(to_numpy(half.float()), to_numpy(full), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("cls,states", [("LSTMCell", 2), ("GRUCell", 1), ("RNNCell", 1)])
def test_cuda_cells_match_cpu_and_run_in_half(device_mode, cls, states):
    ember.manual_seed(0)
    cell = getattr(nn, cls)(3, 4)
    rng = np.random.RandomState(0)
    x, hs = rng.randn(2, 3).astype(np.float32), [rng.randn(2, 4).astype(np.float32) for _ in range(states)]

    def run(mod, to):
        xv = Variable(to(ember.from_numpy(x.copy())), requires_grad=True)
        hv = [Variable(to(ember.from_numpy(h.copy()))) for h in hs]
        r = mod(xv, tuple(hv) if states == 2 else hv[0])
        r = r[0] + r[1] if states == 2 else r
        r.float().sum().backward()
        return r.data, xv.grad.data

    cpu = run(cell, lambda t: t)
    gpu = run(cell.cuda(), _cuda)
    half = run(cell.half(), lambda t: t.cuda().half())
    assert gpu[0].is_cuda and type(half[0]) is ember.cuda.HalfTensor
    for g, h, c in zip(gpu, half, cpu):
        np.testing.assert_allclose(to_numpy(g), to_numpy(c), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(to_numpy(h.float()), to_numpy(c), rtol=1e-2, atol=1e-2)


def test_cuda_layer_errors(device_mode):
    m = nn.LSTM(3, 4).cuda()
    x = Variable(ember.cuda.FloatTensor(5, 2, 3).zero_())
    with pytest.raises(TypeError, match="LSTM: input is a torch.FloatTensor but the parameters are "
                                        "torch.cuda.FloatTensor"):
        m(Variable(x.data.cpu()))
    h = Variable(ember.cuda.FloatTensor(1, 2, 4).zero_())
    with pytest.raises(TypeError, match=r"LSTM: hidden\[1\] is a torch.FloatTensor but the parameters are "
                                        "torch.cuda.FloatTensor"):
        m(x, (h, Variable(h.data.cpu())))
