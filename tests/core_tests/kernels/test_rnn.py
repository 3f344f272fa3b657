"""The recurrent layer kernels (ember.kernels.rnn_forward / rnn_backward) on CUDA against the CPU kernels:
every mode, both directions, padded and packed batches (sequences joining in the reverse direction), with and
without biases and initial states, Half inputs, devices and the errors. The CPU kernels' own tests (against
PyTorch's cells) are in tests/nn_tests/test_rnn.py."""
import numpy as np
import pytest

import ember
from ember import kernels as K

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
I, H = 4, 5


def _arrays(mode, batch_sizes, rng, dtype=np.float64):
    """Weights, biases, packed input rows, initial states and the outputs' gradients."""
    G, N, B = GATES[mode] * H, sum(batch_sizes), batch_sizes[0]
    shapes = dict(w_ih=(G, I), w_hh=(G, H), b_ih=(G,), b_hh=(G,), x=(N, I), h0=(B, H), c0=(B, H), go=(N, H),
                  ghy=(B, H), gcy=(B, H))
    return {k: (rng.randn(*s) * (0.3 if k[0] in "wb" else 1)).astype(dtype) for k, s in shapes.items()}


def _run(mode, a, batch_sizes, reverse, to, bias=True, states=True):
    """rnn_forward and rnn_backward on the tensors made by ``to`` from the arrays ``a``: every result as NumPy."""
    t = {k: to(ember.from_numpy(v.copy())) for k, v in a.items()}
    lstm = mode == "LSTM"
    b_ih, b_hh = (t["b_ih"], t["b_hh"]) if bias else (None, None)
    h0 = t["h0"] if states else None
    c0 = t["c0"] if states and lstm else None
    out, hy, cy, ws = K.rnn_forward(mode, t["x"], t["w_ih"], t["w_hh"], b_ih, b_hh, h0, c0, batch_sizes, reverse)
    grads = K.rnn_backward(t["go"], t["ghy"], t["gcy"] if lstm else None, t["x"], t["w_ih"], t["w_hh"], ws)
    return [None if r is None else r.cpu().numpy() for r in (out, hy, cy) + grads]


def _same(got, want, **tol):
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), k
        if w is not None:
            np.testing.assert_allclose(g, w, err_msg="result {}".format(k), **tol)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("batch_sizes", [[3, 3, 3], [3, 3, 2, 1, 1]], ids=["padded", "packed"])
def test_cuda_matches_cpu(device_mode, mode, reverse, batch_sizes):
    a = _arrays(mode, batch_sizes, np.random.RandomState(0))
    cpu = _run(mode, a, batch_sizes, reverse, lambda t: t)
    gpu = _run(mode, a, batch_sizes, reverse, lambda t: t.cuda())
    _same(gpu, cpu, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_cuda_without_biases_or_states(device_mode, mode):
    sizes = [3, 2, 2, 1]
    a = _arrays(mode, sizes, np.random.RandomState(1))
    for reverse in (False, True):
        cpu = _run(mode, a, sizes, reverse, lambda t: t, bias=False, states=False)
        gpu = _run(mode, a, sizes, reverse, lambda t: t.cuda(), bias=False, states=False)
        _same(gpu, cpu, rtol=1e-10, atol=1e-12)


def test_cuda_padded_input_defaults_and_partial_gradients(device_mode):
    """A T x B x I input, no gradients given for the outputs (zeros), and the need_* flags."""
    rng = np.random.RandomState(2)
    x, w_ih, w_hh = rng.randn(4, 3, I), rng.randn(3 * H, I) * 0.3, rng.randn(3 * H, H) * 0.3
    ghy = rng.randn(3, H)
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        tx, tw_ih, tw_hh = (to(ember.from_numpy(v)) for v in (x, w_ih, w_hh))
        out, hy, cy, ws = K.rnn_forward("GRU", tx, tw_ih, tw_hh)
        g = K.rnn_backward(None, to(ember.from_numpy(ghy)), None, tx, tw_ih, tw_hh, ws, need_weights=False)
        assert cy is None and g[2] is None and g[3] is None and g[4] is None
        assert tuple(out.size()) == (4, 3, H) and tuple(g[0].size()) == (4, 3, I)
        results.append([r.cpu().numpy() for r in (out, hy, g[0], g[1], g[5], g[6])])
    _same(results[1], results[0], rtol=1e-10, atol=1e-12)


def test_cuda_float32_matches_cpu(device_mode):
    sizes = [4, 4, 3, 1]
    a = _arrays("LSTM", sizes, np.random.RandomState(3), np.float32)
    cpu = _run("LSTM", a, sizes, True, lambda t: t)
    gpu = _run("LSTM", a, sizes, True, lambda t: t.cuda())
    assert gpu[0].dtype == np.float32
    _same(gpu, cpu, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH"])
def test_cuda_half_matches_float(device_mode, mode):
    sizes = [3, 3, 2]
    a = _arrays(mode, sizes, np.random.RandomState(4), np.float32)
    full = _run(mode, a, sizes, False, lambda t: t.cuda())
    t = {k: ember.from_numpy(v).cuda().half() for k, v in a.items()}
    out, hy, cy, ws = K.rnn_forward(mode, t["x"], t["w_ih"], t["w_hh"], t["b_ih"], t["b_hh"], t["h0"],
                                    t["c0"] if mode == "LSTM" else None, sizes)
    grads = K.rnn_backward(t["go"], t["ghy"], t["gcy"] if mode == "LSTM" else None, t["x"], t["w_ih"], t["w_hh"], ws)
    half = (out, hy, cy) + grads
    assert all(r is None or type(r) is ember.cuda.HalfTensor for r in half)
    _same([None if r is None else r.float().cpu().numpy() for r in half], full, rtol=1e-2, atol=1e-2)


def test_cuda_errors(device_mode):
    x = ember.cuda.DoubleTensor(3, 2, I).fill_(0.5)
    w_ih, w_hh = ember.cuda.DoubleTensor(4 * H, I).fill_(0.1), ember.cuda.DoubleTensor(4 * H, H).fill_(0.1)
    with pytest.raises(TypeError, match=r"rnn_forward\(\): expected hx to be a torch.cuda.DoubleTensor \(the "
                                        r"input's type\), got torch.DoubleTensor"):
        K.rnn_forward("LSTM", x, w_ih, w_hh, hx=ember.DoubleTensor(2, H).zero_())
    with pytest.raises(TypeError, match=r"rnn_forward\(\): expected weight_ih to be a torch.cuda.DoubleTensor"):
        K.rnn_forward("LSTM", x, w_ih.cpu(), w_hh)
    out, hy, cy, ws = K.rnn_forward("LSTM", x, w_ih, w_hh)
    with pytest.raises(TypeError, match=r"rnn_backward\(\): expected grad_output to be a torch.cuda.DoubleTensor"):
        K.rnn_backward(out.cpu(), None, None, x, w_ih, w_hh, ws)
    _, _, _, cpu_ws = K.rnn_forward("LSTM", x.cpu(), w_ih.cpu(), w_hh.cpu())
    with pytest.raises(TypeError, match=r"rnn_backward\(\): ws must be the workspace rnn_forward returned"):
        K.rnn_backward(out, None, None, x, w_ih, w_hh, cpu_ws)
    with pytest.raises(TypeError, match=r"rnn_backward\(\): ws must be the workspace rnn_forward returned"):
        K.rnn_backward(out.cpu(), None, None, x.cpu(), w_ih.cpu(), w_hh.cpu(), ws)
    with pytest.raises(ValueError, match=r"rnn_forward\(\): batch_sizes sum to 5 but the input has 6 rows"):
        K.rnn_forward("LSTM", x.view(6, I), w_ih, w_hh, batch_sizes=[3, 2])


def test_cuda_runs_on_the_device_of_its_input(fake_cuda):
    sizes = [2, 2, 1]
    a = _arrays("GRU", sizes, np.random.RandomState(5))
    gpu = _run("GRU", a, sizes, True, lambda t: t.cuda(1))  # the current device stays 0
    _same(gpu, _run("GRU", a, sizes, True, lambda t: t), rtol=1e-10, atol=1e-12)
    x, w_ih, w_hh = (ember.from_numpy(a[k]).cuda(1) for k in ("x", "w_ih", "w_hh"))
    out, hy, _, ws = K.rnn_forward("GRU", x, w_ih, w_hh, batch_sizes=sizes)
    assert out.get_device() == hy.get_device() == 1
    assert all(g.get_device() == 1 for g in K.rnn_backward(out, None, None, x, w_ih, w_hh, ws) if g is not None)
    with pytest.raises(TypeError, match=r"rnn_forward\(\): expected weight_hh on GPU 1 \(where the input is\), got "
                                        r"torch.cuda.DoubleTensor on GPU 0"):
        K.rnn_forward("GRU", x, w_ih, w_hh.cuda(0), batch_sizes=sizes)
