"""nn.utils.rnn: PackedSequence, pack_padded_sequence and pad_packed_sequence against PyTorch's, gradients
through them, recurrent layers on packed batches (each sequence's final state), and 0.2's errors."""
import pickle

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import Variable
from ember.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from _helpers.oracle import require_torch, to_numpy


def _var(a, grad=False):
    return Variable(ember.from_numpy(np.ascontiguousarray(a).copy()), requires_grad=grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("shape,lengths", [((5, 4, 3), [5, 4, 2, 2]), ((3, 2), [3, 1]), ((4, 3, 2, 2), [4, 4, 4]),
                                           ((6, 1, 2), [3])])
def test_pack_and_pad_match_torch(batch_first, shape, lengths):
    torch = require_torch()
    rng = np.random.RandomState(0)
    if batch_first:
        shape = (shape[1], shape[0]) + shape[2:]
    x = rng.randn(*shape)
    ex, tx = _var(x, True), torch.from_numpy(x.copy()).requires_grad_()
    packed = pack_padded_sequence(ex, lengths, batch_first=batch_first)
    tpacked = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first)
    assert isinstance(packed, PackedSequence) and isinstance(packed.batch_sizes, list)
    assert all(type(b) is int for b in packed.batch_sizes)
    assert packed.batch_sizes == tpacked.batch_sizes.tolist()
    np.testing.assert_array_equal(to_numpy(packed.data.data), to_numpy(tpacked.data))
    padded, lens = pad_packed_sequence(packed, batch_first=batch_first)
    tpadded, tlens = torch.nn.utils.rnn.pad_packed_sequence(tpacked, batch_first=batch_first)
    assert lens == tlens.tolist() == lengths
    np.testing.assert_array_equal(to_numpy(padded.data), to_numpy(tpadded))
    # gradients flow through both, zero at the padded positions
    g = rng.randn(*tpadded.shape)
    padded.backward(ember.from_numpy(g.copy()))
    tpadded.backward(torch.from_numpy(g.copy()))
    np.testing.assert_array_equal(to_numpy(ex.grad.data), to_numpy(tx.grad))


def test_pad_then_pack_round_trip():
    rng = np.random.RandomState(1)
    data = _var(rng.randn(9, 2))
    seq = PackedSequence(data, [3, 3, 2, 1])
    padded, lengths = pad_packed_sequence(seq)
    assert lengths == [4, 3, 2] and tuple(padded.size()) == (4, 3, 2)
    again = pack_padded_sequence(padded, lengths)
    assert again.batch_sizes == [3, 3, 2, 1]
    np.testing.assert_array_equal(to_numpy(again.data.data), to_numpy(data.data))


def test_packed_sequence_is_0_2_namedtuple():
    seq = PackedSequence(_var(np.zeros((3, 2))), [2, 1])
    data, batch_sizes = seq
    assert PackedSequence._fields == ("data", "batch_sizes") and batch_sizes == [2, 1] and data is seq.data
    again = pickle.loads(pickle.dumps(seq))
    assert isinstance(again, PackedSequence) and again.batch_sizes == [2, 1]


def test_lengths_as_tuple_or_tensor():
    x = _var(np.arange(12.0).reshape(3, 2, 2))
    a = pack_padded_sequence(x, [3, 2])
    b = pack_padded_sequence(x, (3, 2))
    c = pack_padded_sequence(x, ember.LongTensor([3, 2]))
    for other in (b, c):
        assert other.batch_sizes == a.batch_sizes
        np.testing.assert_array_equal(to_numpy(other.data.data), to_numpy(a.data.data))


def test_pack_errors():
    x = _var(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match="lengths array has to be sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(ValueError, match="length of all samples has to be greater than 0"):
        pack_padded_sequence(x, [4, 2, 0])
    with pytest.raises(ValueError, match="lengths array has incorrect size: 2 lengths for a batch of 3"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match=r"the longest length \(5\) exceeds the input's 4 steps "
                                         r"\(size \[4 x 3 x 2\]\)"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(TypeError, match="lengths must be a list of ints"):
        pack_padded_sequence(x, [4.5, 2, 1])
    with pytest.raises(ValueError, match="expected an input of at least 2 dimensions"):
        pack_padded_sequence(_var(np.zeros(4)), [4])
    with pytest.raises(ValueError, match="batch_sizes .* must be positive, non-increasing and sum to the 3 rows"):
        pad_packed_sequence(PackedSequence(_var(np.zeros((3, 2))), [1, 2]))
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        pad_packed_sequence(_var(np.zeros((3, 2))))


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_layers_on_packed_batches_give_each_sequence_its_own_final_state(cls):
    """A packed batch gives what each sequence gives alone (its output steps and its final state)."""
    rng = np.random.RandomState(2)
    m = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    lengths = [5, 3, 3, 1]
    x = rng.randn(5, 4, 3)
    out, h = m(pack_padded_sequence(_var(x), lengths))
    assert isinstance(out, PackedSequence) and out.batch_sizes == [4, 3, 3, 1, 1]
    padded, lens = pad_packed_sequence(out)
    assert lens == lengths
    h_n = h[0] if cls == "LSTM" else h
    for b, n in enumerate(lengths):
        alone, h_alone = m(_var(x[:n, b:b + 1]))
        ha = h_alone[0] if cls == "LSTM" else h_alone
        np.testing.assert_allclose(to_numpy(padded.data[:n, b]), to_numpy(alone.data[:, 0]), rtol=1e-12, atol=1e-14)
        if n < len(x):
            np.testing.assert_array_equal(to_numpy(padded.data[n:, b]), 0)
        np.testing.assert_allclose(to_numpy(h_n.data[:, b]), to_numpy(ha.data[:, 0]), rtol=1e-12, atol=1e-14)


def test_packed_errors_name_the_layer():
    m = nn.GRU(3, 4)
    packed = pack_padded_sequence(_var(np.zeros((4, 2, 3), np.float32)), [4, 2])
    with pytest.raises(RuntimeError, match=r"GRU: Expected hidden size \[1 x 2 x 4\], got \[1 x 3 x 4\]"):
        m(packed, _var(np.zeros((1, 3, 4), np.float32)))
    with pytest.raises(RuntimeError, match=r"GRU: input must have 2 dimensions \(packed rows x input_size\)"):
        m(PackedSequence(_var(np.zeros((6, 1, 3), np.float32)), [2, 2, 2]))
    with pytest.raises(RuntimeError, match="GRU: the packed sequence's batch_sizes sum to 5 but its data has 6 rows"):
        m(PackedSequence(_var(np.zeros((6, 3), np.float32)), [2, 2, 1]))


# ---------------------------------------------------------------------- CUDA

@pytest.mark.parametrize("batch_first", [False, True])
def test_cuda_pack_and_pad_match_cpu(device_mode, batch_first):
    rng = np.random.RandomState(3)
    lengths = [5, 4, 2, 2]
    x = rng.randn(*((4, 5, 3) if batch_first else (5, 4, 3)))
    g = rng.randn(*x.shape)
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        ex = Variable(to(ember.from_numpy(x.copy())), requires_grad=True)
        packed = pack_padded_sequence(ex, ember.LongTensor(lengths), batch_first=batch_first)
        padded, lens = pad_packed_sequence(packed, batch_first=batch_first)
        assert packed.data.data.is_cuda == padded.data.is_cuda == ex.data.is_cuda
        assert packed.batch_sizes == [4, 4, 2, 2, 1] and lens == lengths
        padded.backward(to(ember.from_numpy(g.copy())))
        results.append([to_numpy(v) for v in (packed.data.data, padded.data, ex.grad.data)])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_array_equal(got, want)


def test_cuda_pack_stays_on_the_device_of_its_input(fake_cuda):
    x = Variable(ember.from_numpy(np.arange(24.0).reshape(4, 2, 3)).cuda(1))   # the current device stays 0
    packed = pack_padded_sequence(x, [4, 2])
    padded, _ = pad_packed_sequence(packed)
    assert packed.data.get_device() == padded.get_device() == 1
    np.testing.assert_array_equal(to_numpy(padded.data[:, 0]), to_numpy(x.data[:, 0]))
    np.testing.assert_array_equal(to_numpy(padded.data[2:, 1]), 0)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_cuda_layers_on_packed_batches_match_cpu(device_mode, cls):
    """Sequences of lengths 5, 3, 3, 1: in the reverse direction they join at steps 4, 2 and 0."""
    rng = np.random.RandomState(4)
    m = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    x = rng.randn(5, 4, 3)
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        mod = to(m)
        mod.zero_grad()
        ex = Variable(to(ember.from_numpy(x.copy())), requires_grad=True)
        out, h = mod(pack_padded_sequence(ex, [5, 3, 3, 1]))
        padded, _ = pad_packed_sequence(out)
        hs = list(h) if cls == "LSTM" else [h]
        (padded.sum() + sum(v.pow(2).sum() for v in hs)).backward()
        results.append([to_numpy(v) for v in [padded.data, ex.grad.data, mod.weight_hh_l1_reverse.grad.data] +
                        [v.data for v in hs]])
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
