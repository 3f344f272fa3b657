"""Embedding, EmbeddingBag and F.embedding: against torch (parity), against real Lua nn results (LookupTable
in shared/data), NumPy formulas, gradients w.r.t. the weight by finite differences (and double backward);
0.2's defaults, reprs and errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck
from ember.nn._functional.sparse import Embedding as EmbeddingFn, EmbeddingBag as EmbeddingBagFn
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch, to_numpy

TOL = {np.float64: (1e-12, 1e-12), np.float32: (1e-6, 1e-6)}


def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    record = load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)
    module = record["module"]
    if not isinstance(module, dict):  # an ember.legacy.nn object: its fields by name
        record["module"] = dict(vars(module))
    return record


def _idx(a):
    return Variable(ember.from_numpy(np.ascontiguousarray(a, dtype=np.int64)))


# ---------------------------------------------------------------------- F.embedding against torch

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("opts", [{}, dict(scale_grad_by_freq=True), dict(max_norm=1.0),
                                  dict(max_norm=0.8, norm_type=1), dict(max_norm=1.2, norm_type=3,
                                                                        scale_grad_by_freq=True)])
def test_functional_matches_torch(dtype, shape, opts):
    torch = require_torch()
    rng = np.random.RandomState(len(shape))
    w = rng.standard_normal((6, 3)).astype(dtype)
    idx = rng.randint(0, 6, size=shape)
    go = rng.standard_normal(shape + (3,)).astype(dtype)
    ew = Variable(ember.from_numpy(w.copy()), requires_grad=True)
    out = F.embedding(_idx(idx), ew, **opts)
    out.backward(ember.from_numpy(go.copy()))
    tw = torch.from_numpy(w.copy()).requires_grad_(True)
    tout = torch.nn.functional.embedding(torch.from_numpy(idx), tw, **opts)
    tout.backward(torch.from_numpy(go.copy()))
    rtol, atol = TOL[dtype]
    assert_same(out.data, tout, rtol, atol)
    assert_same(ew.grad.data, tw.grad, rtol, atol)
    assert_same(ew.data, tw.data, rtol, atol)  # max_norm renormalises the looked-up rows in place


def test_non_contiguous_indices():
    rng = np.random.RandomState(0)
    w = rng.standard_normal((9, 2))
    idx = rng.randint(0, 9, size=(4, 3))
    ti = ember.from_numpy(np.ascontiguousarray(idx.T)).t()
    assert not ti.is_contiguous()
    out = F.embedding(Variable(ti), Variable(ember.from_numpy(w)))
    np.testing.assert_array_equal(to_numpy(out.data), w[idx])


# ---------------------------------------------------------------------- real Lua nn results

@pytest.mark.parametrize("name,kwargs", [
    ("LookupTable", {}), ("LookupTable_1d", {}), ("LookupTable_paddingValue", dict(padding_idx=1)),
    ("LookupTable_maxNorm", dict(max_norm=1.0, norm_type=2)), ("LookupTable_double_indices", {}),
])
def test_matches_lua_nn(name, kwargs):
    """Lua indices (and paddingValue) count from 1."""
    d = _lua(name)
    w0 = d["params"]["weight"]
    m = nn.Embedding(w0.size(0), w0.size(1), **kwargs).double()
    m.weight.data.copy_(w0)
    out = m(Variable((d["input"] - 1).long()))
    out.backward(d["gradOutput"])
    assert_same(out.data, d["output"], 1e-12, 1e-12)
    assert_same(m.weight.grad.data, d["gradWeight"], 1e-12, 1e-12)
    assert_same(m.weight.data, d["module"]["weight"], 1e-12, 1e-12)


# ---------------------------------------------------------------------- gradients w.r.t. the weight

@pytest.mark.parametrize("padding_idx,scale", [(None, False), (2, False), (None, True), (0, True)])
def test_embedding_gradcheck_and_double_backward(padding_idx, scale):
    rng = np.random.RandomState(1)
    idx = _idx(rng.randint(0, 5, size=(3, 4)))
    w = Variable(ember.from_numpy(rng.standard_normal((5, 3))), requires_grad=True)

    # squared: a second derivative through the lookup. With scale_grad_by_freq the backward is on purpose
    # not the derivative, and a double backward through the forward reuses it, so keep fn linear there
    # (the double backward is then the derivative of the weight gradient w.r.t. grad_output)
    power = 1 if scale else 2

    def fn(w_):
        return EmbeddingFn.apply(idx, w_, padding_idx, None, 2, scale) ** power

    go = Variable(ember.from_numpy(rng.standard_normal((3, 4, 3))), requires_grad=True)
    if padding_idx is None and not scale:  # otherwise the "gradient" is deliberately not the derivative
        assert gradcheck(fn, (w,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, (w,), [go], eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("mode,scale", [("sum", False), ("mean", False), ("mean", True)])
def test_embedding_bag_gradcheck_and_double_backward(mode, scale):
    rng = np.random.RandomState(2)
    idx = _idx(rng.randint(0, 5, size=9))
    offsets = ember.LongTensor([0, 3, 3, 7])

    power = 1 if scale else 2  # see test_embedding_gradcheck_and_double_backward

    def fn(w_):
        return EmbeddingBagFn.apply(idx, offsets, w_, None, 2, scale, mode) ** power

    w = Variable(ember.from_numpy(rng.standard_normal((5, 2))), requires_grad=True)
    go = Variable(ember.from_numpy(rng.standard_normal((4, 2))), requires_grad=True)
    if not scale:
        assert gradcheck(fn, (w,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, (w,), [go], eps=1e-6, atol=1e-5, rtol=1e-3)


# ---------------------------------------------------------------------- EmbeddingBag

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("offsets", [[0, 2, 5], [0, 0, 4, 4, 9, 10], [0, 10]])
def test_embedding_bag_offsets_match_torch(dtype, mode, offsets):
    """1D input cut at offsets; empty bags (repeated offsets, offsets[-1] == len) give zeros."""
    torch = require_torch()
    rng = np.random.RandomState(len(offsets))
    idx = rng.randint(0, 8, size=10)
    go = rng.standard_normal((len(offsets), 4)).astype(dtype)
    m = nn.EmbeddingBag(8, 4, mode=mode)
    if dtype == np.float64:
        m = m.double()
    tm = torch.nn.EmbeddingBag(8, 4, mode=mode).to(torch.float64 if dtype == np.float64 else torch.float32)
    tm.weight.data.copy_(torch.from_numpy(to_numpy(m.weight.data)))
    out = m(_idx(idx), Variable(ember.LongTensor(offsets)))
    out.backward(ember.from_numpy(go.copy()))
    tout = tm(torch.from_numpy(idx), torch.tensor(offsets))
    tout.backward(torch.from_numpy(go.copy()))
    rtol, atol = TOL[dtype]
    assert_same(out.data, tout, rtol * 10, atol * 10)
    assert_same(m.weight.grad.data, tm.weight.grad, rtol * 10, atol * 10)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_formula_with_scale_grad_by_freq(mode):
    """0.2 (THNN LookupTable) divides each index's gradient by its count over the whole input; torch 2.13's
    EmbeddingBag does not, so this is checked against NumPy."""
    rng = np.random.RandomState(3)
    idx = np.array([1, 1, 2, 1, 4, 1, 0, 2])
    offsets = [0, 3, 5]
    w = rng.standard_normal((6, 2))
    go = rng.standard_normal((3, 2))
    m = nn.EmbeddingBag(6, 2, scale_grad_by_freq=True, mode=mode).double()
    m.weight.data.copy_(ember.from_numpy(w.copy()))
    out = m(_idx(idx), ember.LongTensor(offsets))  # offsets may be a plain LongTensor
    out.backward(ember.from_numpy(go.copy()))
    bounds = offsets + [len(idx)]
    expect_out = np.zeros((3, 2))
    expect_gw = np.zeros((6, 2))
    counts = np.bincount(idx, minlength=6)
    for b in range(3):
        bag = idx[bounds[b]:bounds[b + 1]]
        div = len(bag) if mode == "mean" else 1
        expect_out[b] = w[bag].sum(0) / div
        for i in bag:
            expect_gw[i] += go[b] / div / counts[i]
    np.testing.assert_allclose(to_numpy(out.data), expect_out, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(m.weight.grad.data), expect_gw, rtol=1e-12)


def test_embedding_bag_2d_equals_offsets():
    rng = np.random.RandomState(4)
    idx = rng.randint(0, 7, size=(3, 4))
    m = nn.EmbeddingBag(7, 3, mode="sum")
    a = m(_idx(idx))
    b = m(_idx(idx.reshape(-1)), Variable(ember.LongTensor([0, 4, 8])))
    np.testing.assert_allclose(to_numpy(a.data), to_numpy(b.data), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(a.data), to_numpy(m.weight.data)[idx].sum(1), rtol=1e-5)


# ---------------------------------------------------------------------- module facts

def test_embedding_init_and_padding_row():
    ember.manual_seed(0)
    m = nn.Embedding(20, 5, padding_idx=3)
    w = to_numpy(m.weight.data)
    assert m.weight.data.type() == "torch.FloatTensor" and w.shape == (20, 5)
    np.testing.assert_array_equal(w[3], np.zeros(5))
    assert abs(w.std() - 1) < 0.35 and len(np.unique(w)) > 90  # N(0, 1)
    out = m(_idx([[3, 1], [3, 3]]))
    out.sum().backward()
    np.testing.assert_array_equal(to_numpy(out.data)[0, 0], np.zeros(5))
    gw = to_numpy(m.weight.grad.data)
    np.testing.assert_array_equal(gw[3], np.zeros(5))
    np.testing.assert_array_equal(gw[1], np.ones(5))


def test_negative_padding_idx_counts_from_the_end():
    m = nn.Embedding(6, 2, padding_idx=-1)
    assert m.padding_idx == 5
    assert repr(m) == "Embedding(6, 2, padding_idx=5)"
    np.testing.assert_array_equal(to_numpy(m.weight.data)[5], np.zeros(2))


def test_reprs():
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"
    assert (repr(nn.Embedding(10, 3, padding_idx=0, max_norm=2.0, norm_type=1, scale_grad_by_freq=True))
            == "Embedding(10, 3, padding_idx=0, max_norm=2.0, norm_type=1, scale_grad_by_freq=True)")
    assert repr(nn.EmbeddingBag(10, 3)) == "EmbeddingBag(10, 3, mode=mean)"
    assert (repr(nn.EmbeddingBag(10, 3, max_norm=1.0, norm_type=3, scale_grad_by_freq=True, mode="sum"))
            == "EmbeddingBag(10, 3, max_norm=1.0, norm_type=3, scale_grad_by_freq=True, mode=sum)")


def test_state_dict_loads_into_torch():
    torch = require_torch()
    m = nn.Embedding(5, 2)
    tm = torch.nn.Embedding(5, 2)
    tm.load_state_dict({k: torch.from_numpy(to_numpy(v)) for k, v in m.state_dict().items()})
    idx = np.array([[0, 4], [2, 2]])
    assert_same(m(_idx(idx)).data, tm(torch.from_numpy(idx)), 0, 0)


# ---------------------------------------------------------------------- errors

def test_sparse_is_out_of_scope():
    with pytest.raises(NotImplementedError, match=r"Embedding: sparse=True needs sparse gradients \(torch.sparse\)"):
        nn.Embedding(5, 2, sparse=True)
    with pytest.raises(NotImplementedError, match="embedding: sparse=True .*out of scope"):
        F.embedding(_idx([1]), Variable(ember.randn(5, 2)), sparse=True)


def test_embedding_errors():
    m = nn.Embedding(5, 2)
    with pytest.raises(TypeError, match="Embedding: expected the indices to be a torch.LongTensor, got "
                                        "torch.FloatTensor"):
        m(Variable(ember.FloatTensor([1, 2])))
    with pytest.raises(TypeError, match="Embedding: expected the indices to be a Variable, got torch.LongTensor"):
        m(ember.LongTensor([1, 2]))
    with pytest.raises(IndexError, match="Embedding: indices must be in 0 <= index < num_embeddings = 5"):
        m(_idx([1, 5]))
    with pytest.raises(IndexError, match="num_embeddings = 5"):
        m(_idx([-1]))
    with pytest.raises(ValueError, match="Embedding: expected non-empty indices"):
        m(Variable(ember.LongTensor()))
    with pytest.raises(ValueError, match=r"embedding: expected a 2D weight .* got size \[5\]"):
        F.embedding(_idx([1]), Variable(ember.randn(5)))
    with pytest.raises(ValueError, match=r"padding_idx must be an int within num_embeddings \(5\), got 5"):
        nn.Embedding(5, 2, padding_idx=5)


def test_embedding_bag_errors():
    m = nn.EmbeddingBag(5, 2)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        m(_idx([[1, 2]]), ember.LongTensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        m(_idx([1, 2]))
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0.*However, got 1"):
        m(_idx([1, 2]), ember.LongTensor([1]))
    with pytest.raises(ValueError, match=r"offsets\[-1\] can't be greater than input's length \(2\), but got "
                                         r"offsets\[-1\] of 3"):
        m(_idx([1, 2]), ember.LongTensor([0, 3]))
    with pytest.raises(ValueError, match="offsets must be non-decreasing"):
        m(_idx([1, 2, 3]), ember.LongTensor([0, 2, 1]))
    with pytest.raises(ValueError, match="offsets has to be a 1D torch.LongTensor, got torch.FloatTensor"):
        m(_idx([1, 2]), ember.FloatTensor([0]))
    with pytest.raises(ValueError, match=r"input has to be 1D or 2D Tensor, but got Tensor of size \[1 x 1 x 2\]"):
        m(_idx([[[1, 2]]]))
    with pytest.raises(ValueError, match="mode has to be one of sum or mean, got 'max'"):
        nn.EmbeddingBag(5, 2, mode="max")
    with pytest.raises(IndexError, match="EmbeddingBag: indices must be in"):
        m(_idx([1, 7]), ember.LongTensor([0]))


# ---------------------------------------------------------------------- CUDA, against the CPU

def _cuda(t):
    return t.cuda()


def _same(t):
    return t


def _run_embedding(kwargs, w, idx, go, r, move):
    """An Embedding on move's device: output, weight (renormalised in place), weight gradient and the double
    backward's gradient for grad_output along r."""
    m = nn.Embedding(*w.shape, **kwargs).double()
    m.weight.data.copy_(ember.from_numpy(w.copy()))
    m = move(m)
    ego = Variable(move(ember.from_numpy(go.copy())), requires_grad=True)
    y = m(Variable(move(ember.from_numpy(idx))))
    (gw,) = ember.autograd.grad(y, m.weight, ego, create_graph=True)
    (gw * Variable(move(ember.from_numpy(r.copy())))).sum().backward()
    return [t.cpu().numpy() for t in (y.data, m.weight.data, gw.data, ego.grad.data)]


@pytest.mark.parametrize("kwargs", [{}, dict(padding_idx=2), dict(scale_grad_by_freq=True),
                                    dict(padding_idx=0, scale_grad_by_freq=True, max_norm=1.2, norm_type=3),
                                    dict(max_norm=1.0)])
def test_cuda_embedding_matches_cpu(device_mode, kwargs):
    rng = np.random.RandomState(7)
    w, idx = rng.standard_normal((6, 3)), rng.randint(0, 6, size=(4, 5))
    go, r = rng.standard_normal((4, 5, 3)), rng.standard_normal((6, 3))
    for a, b in zip(_run_embedding(kwargs, w, idx, go, r, _cuda), _run_embedding(kwargs, w, idx, go, r, _same)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def _run_bag(kwargs, w, idx, offsets, go, move):
    m = nn.EmbeddingBag(*w.shape, **kwargs).double()
    m.weight.data.copy_(ember.from_numpy(w.copy()))
    m = move(m)
    args = (Variable(move(ember.from_numpy(idx))),)
    if offsets is not None:
        args += (Variable(move(ember.LongTensor(offsets))),)
    out = m(*args)
    out.backward(move(ember.from_numpy(go.copy())))
    return [t.cpu().numpy() for t in (out.data, m.weight.data, m.weight.grad.data)]


@pytest.mark.parametrize("kwargs", [dict(mode="sum"), dict(mode="mean", scale_grad_by_freq=True),
                                    dict(mode="mean", max_norm=1.0, norm_type=1)])
@pytest.mark.parametrize("offsets", [None, [0, 0, 4, 4, 9, 12]])  # None: 2D input; empty bags give zeros
def test_cuda_embedding_bag_matches_cpu(device_mode, kwargs, offsets):
    rng = np.random.RandomState(8)
    w = rng.standard_normal((7, 3))
    idx = rng.randint(0, 7, size=(3, 4) if offsets is None else 12)
    go = rng.standard_normal((3 if offsets is None else len(offsets), 3))
    cpu = _run_bag(kwargs, w, idx, offsets, go, _same)
    for a, b in zip(_run_bag(kwargs, w, idx, offsets, go, _cuda), cpu):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_cuda_embedding_errors(device_mode):
    m = nn.Embedding(5, 2).cuda()
    with pytest.raises(TypeError, match="Embedding: expected the indices to be a torch.cuda.LongTensor, got "
                                        "torch.LongTensor"):
        m(_idx([1, 2]))
    with pytest.raises(TypeError, match="embedding: expected the indices to be a torch.LongTensor, got "
                                        "torch.cuda.LongTensor"):
        F.embedding(Variable(ember.LongTensor([1]).cuda()), Variable(ember.randn(5, 2)))
    with pytest.raises(IndexError, match="Embedding: indices must be in 0 <= index < num_embeddings = 5"):
        m(Variable(ember.LongTensor([1, 5]).cuda()))
    bag = nn.EmbeddingBag(5, 2).cuda()
    idx = Variable(ember.LongTensor([1, 2, 3]).cuda())
    with pytest.raises(ValueError, match="offsets has to be a 1D torch.cuda.LongTensor, got torch.LongTensor"):
        bag(idx, ember.LongTensor([0]))
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0.*However, got 1"):
        bag(idx, ember.LongTensor([1]).cuda())
    with pytest.raises(ValueError, match=r"offsets\[-1\] can't be greater than input's length \(3\), but got "
                                         r"offsets\[-1\] of 4"):
        bag(idx, ember.LongTensor([0, 4]).cuda())
    with pytest.raises(ValueError, match=r"offsets must be non-decreasing, got \[0, 2, 1\]"):
        bag(idx, ember.LongTensor([0, 2, 1]).cuda())


def test_cuda_indices_on_another_gpu(fake_cuda):  # the fake has two devices
    m = nn.Embedding(5, 2).cuda(0)
    with pytest.raises(TypeError, match=r"Embedding: expected the indices on GPU 0 \(where the weight is\), got them "
                                        r"on GPU 1"):
        m(Variable(ember.LongTensor([1, 2]).cuda(1)))
    bag = nn.EmbeddingBag(5, 2, mode="sum").cuda(1)
    out = bag(Variable(ember.LongTensor([[1, 2], [3, 3]]).cuda(1)))
    out.sum().backward()
    assert out.data.get_device() == 1 and bag.weight.grad.data.get_device() == 1
    w = bag.weight.data.cpu().numpy()
    np.testing.assert_allclose(out.data.cpu().numpy(), [w[1] + w[2], 2 * w[3]], rtol=1e-6)
