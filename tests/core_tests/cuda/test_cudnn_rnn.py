"""Recurrent layers on cuDNN (ember/kernels/cuda/cudnn_rnn.py). Their results are tested on a GPU by the
RNN tests of tests/nn_tests (``device_mode``, against the CPU kernels) and tools/gpu_probe.py. Here,
without a GPU: the RNN and data descriptors read back through cuDNN's own getters (host calls, where the
library is installed), and the fallback to ember's kernels when cuDNN fails."""
import ctypes
import warnings

import numpy as np
import pytest

import ember
from ember import _backend
from ember.kernels import rnn as rnn_kernels
from ember.kernels.cuda import cudnn, cudnn_rnn

_REAL = cudnn.library()


@pytest.mark.skipif(_REAL is None, reason="needs cuDNN (e.g. the nvidia-cudnn-cu13 wheel)")
@pytest.mark.parametrize("mode", range(4))
@pytest.mark.parametrize("dtype,bias", [(np.float32, True), (np.float64, False), (np.float16, True)])
def test_rnn_descriptor_reads_back(mode, dtype, bias):
    get = cudnn_rnn._lib().cudnnGetRNNDescriptor_v8
    get.restype = ctypes.c_int
    layer = cudnn_rnn._Layer(mode, 7, 5, bias, dtype)
    fields = [ctypes.c_int() for _ in range(12)]
    dropout, aux = ctypes.c_void_p(), ctypes.c_uint32()
    assert get(layer.desc, *[ctypes.byref(f) for f in fields], ctypes.byref(dropout), ctypes.byref(aux)) == 0
    dt = {np.float32: 0, np.float64: 1, np.float16: 2}[dtype]
    # algo, cell, bias mode, direction, input mode, data type, math precision, math type, sizes, layers
    assert [f.value for f in fields] == [0, mode, 2 if bias else 0, 0, 0, dt, 0 if dt == 2 else dt,
                                         0 if dt == 2 else 3, 7, 5, 5, 1]
    assert layer.G == (1, 1, 4, 3)[mode]


@pytest.mark.skipif(_REAL is None, reason="needs cuDNN (e.g. the nvidia-cudnn-cu13 wheel)")
def test_packed_data_descriptor_reads_back():
    get = cudnn_rnn._lib().cudnnGetRNNDataDescriptor
    get.restype = ctypes.c_int
    d = cudnn_rnn._data_desc(1, 3, 4, 7, [3, 3, 2, 1])
    dt, layout, T, B, V = (ctypes.c_int() for _ in range(5))
    lengths, fill = (ctypes.c_int * 4)(), ctypes.c_double()
    assert get(d, ctypes.byref(dt), ctypes.byref(layout), ctypes.byref(T), ctypes.byref(B), ctypes.byref(V),
               4, lengths, ctypes.byref(fill)) == 0
    assert (dt.value, layout.value, T.value, B.value, V.value, list(lengths)) == (1, 1, 3, 4, 7, [3, 3, 2, 1])


def test_a_cudnn_failure_falls_back_to_embers_kernels(fake_cuda, monkeypatch):
    class Failing(object):
        def __getattr__(self, name):
            if name == "cudnnGetErrorString":
                return lambda status: b"CUDNN_STATUS_BAD_PARAM"
            return lambda *args: 2000 if name == "cudnnSetRNNDescriptor_v8" else 0
    monkeypatch.setattr(cudnn, "_lib", Failing())
    monkeypatch.setattr(cudnn_rnn, "_failed", [])
    monkeypatch.setattr(cudnn_rnn, "_layers", {})
    monkeypatch.setattr(cudnn, "usable", lambda dtype: True)
    rng = np.random.RandomState(0)
    x, w_ih, w_hh = rng.standard_normal((6, 3)), rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    sizes = ember.LongTensor([2, 2, 1, 1])
    want = rnn_kernels.rnn_forward("LSTM", *(ember.from_numpy(a) for a in (x, w_ih, w_hh)), batch_sizes=sizes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            got = rnn_kernels.rnn_forward("LSTM", *(ember.from_numpy(a).cuda() for a in (x, w_ih, w_hh)),
                                          batch_sizes=sizes)
            for g, w in zip(got[:3], want[:3]):
                np.testing.assert_allclose(g.cpu().numpy(), w.numpy(), rtol=1e-12, atol=1e-12)
            assert got[3].cudnn is None
    messages = [str(c.message) for c in caught if issubclass(c.category, RuntimeWarning)]
    assert len(messages) == 1 and "CUDNN_STATUS_BAD_PARAM" in messages[0]  # warned once, then not tried again
    assert cudnn_rnn._failed


def test_the_switch_keeps_embers_kernels(monkeypatch):
    monkeypatch.setattr(cudnn, "usable", lambda dtype: True)
    monkeypatch.setattr(cudnn_rnn, "_failed", [])
    assert cudnn_rnn.usable(np.float32)
    monkeypatch.setenv("EMBER_CUDNN_RNN", "0")
    assert not cudnn_rnn.usable(np.float32)


@pytest.mark.parametrize("sizes", [[3, 3, 3], [4, 3, 3, 1], [2, 1, 1, 1, 1], [5]])
def test_reversal_reverses_each_sequence_within_its_length(sizes):
    """A reversed direction runs forward on this permutation of the packed rows (and back through it)."""
    perm = cudnn_rnn.reversal(sizes)
    rows = [(t, b) for t, n in enumerate(sizes) for b in range(n)]  # the packed order
    lengths = [sum(1 for n in sizes if n > b) for b in range(sizes[0])]
    for r, (t, b) in enumerate(rows):
        assert rows[perm[r]] == (lengths[b] - 1 - t, b)
    assert (perm[perm] == np.arange(len(rows))).all()  # its own inverse


@pytest.mark.parametrize("mode,G", [("LSTM", 4), ("GRU", 3), ("RNN_TANH", 1)])
def test_a_reversed_direction_is_the_forward_one_on_reversed_sequences(mode, G):
    """What the cuDNN path relies on, shown with ember's CPU kernels: the reversed direction's output and
    final state equal the forward direction's on the rows permuted by ``reversal``, permuted back."""
    rng = np.random.RandomState(2)
    sizes = [4, 3, 3, 1]
    N, B, I, H = sum(sizes), sizes[0], 3, 5
    x, h0, c0 = rng.standard_normal((N, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    ws = [rng.standard_normal((G * H, I)), rng.standard_normal((G * H, H)), rng.standard_normal(G * H),
          rng.standard_normal(G * H)]
    perm = cudnn_rnn.reversal(sizes)
    t = ember.from_numpy
    run = lambda xs, reverse: rnn_kernels.rnn_forward(  # noqa: E731
        mode, t(xs), *(t(w) for w in ws), hx=t(h0), cx=t(c0) if mode == "LSTM" else None,
        batch_sizes=ember.LongTensor(sizes), reverse=reverse)
    want = run(x, True)
    got = run(x[perm], False)
    np.testing.assert_allclose(got[0].numpy()[perm], want[0].numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[1].numpy(), want[1].numpy(), rtol=1e-12, atol=1e-12)
    if mode == "LSTM":
        np.testing.assert_allclose(got[2].numpy(), want[2].numpy(), rtol=1e-12, atol=1e-12)
