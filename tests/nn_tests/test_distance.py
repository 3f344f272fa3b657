"""F.pairwise_distance (0.2's formula, and Lua nn's results with eps=0), F.cosine_similarity and F.normalize
against torch / NumPy, with gradients, the modules and the errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, gradcheck

from _helpers.cuda_fixtures import assert_cuda_matches_cpu
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch, to_numpy


def _arr(shape, dtype=np.float64, seed=0):
    return np.random.RandomState(seed).standard_normal(shape).astype(dtype)


def _vars(*arrays):
    return [Variable(ember.from_numpy(a.copy()), requires_grad=True) for a in arrays]


@pytest.mark.parametrize("p", [1, 2, 3, 1.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pairwise_distance_is_02_formula(p, dtype):
    torch = require_torch()
    eps = 1e-6
    a, b = _arr((6, 5), dtype), _arr((5, 6), dtype, 1).T  # b is non-contiguous
    ea, eb = _vars(a, np.ascontiguousarray(b.T))
    y = F.pairwise_distance(ea, eb.t(), p)
    expected = ((np.abs(a - b) + eps) ** p).sum(1, keepdims=True) ** (1 / p)
    assert y.size() == ember.Size([6, 1])  # 0.2 keeps the reduced dim
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(y.data), expected.astype(dtype), **tol)
    # gradients against torch autograd on the same (0.2) formula
    ta, tb = (torch.from_numpy(v.copy()).requires_grad_(True) for v in (a, np.ascontiguousarray(b)))
    ty = ((ta - tb).abs() + eps).pow(p).sum(1, keepdim=True).pow(1. / p)
    g = _arr((6, 1), dtype, 2)
    y.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(ea.grad.data, ta.grad, **tol)
    assert_same(eb.grad.data.t(), tb.grad, **tol)


def test_pairwise_distance_module_and_gradcheck():
    m = nn.PairwiseDistance(p=3, eps=1e-4)
    assert m.norm == 3 and m.eps == 1e-4 and repr(m) == "PairwiseDistance (\n)"
    a, b = _vars(_arr((3, 4)), _arr((3, 4), seed=1))
    np.testing.assert_allclose(to_numpy(m(a, b).data), to_numpy(F.pairwise_distance(a, b, 3, 1e-4).data))
    assert gradcheck(lambda x, y: F.pairwise_distance(x, y, 3), (a, b))


def test_pairwise_distance_errors():
    with pytest.raises(RuntimeError, match=r"Input sizes must be equal, got \[3 x 4\] and \[3 x 5\]"):
        F.pairwise_distance(Variable(ember.randn(3, 4)), Variable(ember.randn(3, 5)))
    with pytest.raises(RuntimeError, match=r"Input must be a 2D matrix, got size \[2 x 3 x 4\]"):
        F.pairwise_distance(Variable(ember.randn(2, 3, 4)), Variable(ember.randn(2, 3, 4)))


@pytest.mark.parametrize("shape,dim", [((5, 7), 1), ((5, 7), 0), ((2, 3, 4), 2), ((2, 3, 4), -2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cosine_similarity_against_torch(shape, dim, dtype):
    torch = require_torch()
    a, b = _arr(shape, dtype), _arr(shape, dtype, 1)
    ea, eb = _vars(a, b)
    ta, tb = (torch.from_numpy(v.copy()).requires_grad_(True) for v in (a, b))
    y = F.cosine_similarity(ea, eb, dim)
    ty = torch.nn.functional.cosine_similarity(ta, tb, dim)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    assert_same(y.data, ty, **tol)
    g = _arr(tuple(ty.shape), dtype, 2)
    y.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(ea.grad.data, ta.grad, **tol)
    assert_same(eb.grad.data, tb.grad, **tol)


def test_cosine_similarity_squeezes_and_clamps():
    # 0.2 squeezes the result: (1, 5) inputs give size (1,), (3, 1, 4) along dim 2 gives (3,)
    a, b = _vars(_arr((1, 5)), _arr((1, 5), seed=1))
    assert F.cosine_similarity(a, b).size() == ember.Size([1])
    a3, b3 = _vars(_arr((3, 1, 4)), _arr((3, 1, 4), seed=1))
    assert F.cosine_similarity(a3, b3, 2).size() == ember.Size([3])
    z = np.zeros((2, 3))
    y = F.cosine_similarity(*_vars(z, _arr((2, 3))))  # zero vectors: the eps clamp keeps it finite
    np.testing.assert_array_equal(to_numpy(y.data), [0, 0])
    m = nn.CosineSimilarity(dim=0, eps=1e-3)
    assert m.dim == 0 and m.eps == 1e-3 and repr(m) == "CosineSimilarity (\n)"
    x1, x2 = _vars(_arr((4, 2)), _arr((4, 2), seed=3))
    expected = (_arr((4, 2)) * _arr((4, 2), seed=3)).sum(0) / np.maximum(
        np.linalg.norm(_arr((4, 2)), axis=0) * np.linalg.norm(_arr((4, 2), seed=3), axis=0), 1e-3)
    np.testing.assert_allclose(to_numpy(m(x1, x2).data), expected, rtol=1e-12)
    assert gradcheck(lambda u, v: F.cosine_similarity(u, v, 0), (x1, x2))


@pytest.mark.parametrize("p,dim", [(2, 1), (1, 1), (2, 0), (3, -1)])
def test_normalize_against_torch(p, dim):
    torch = require_torch()
    a = _arr((4, 5))
    z = a.copy()
    z[1] = 0  # a zero row: the eps clamp applies (its gradient is NaN through norm's, as in 0.2)
    assert_same(F.normalize(Variable(ember.from_numpy(z)), p, dim).data,
                torch.nn.functional.normalize(torch.from_numpy(z.copy()), p, dim), rtol=1e-10, atol=1e-12)
    ea, = _vars(a)
    ta = torch.from_numpy(a.copy()).requires_grad_(True)
    y = F.normalize(ea, p, dim)
    ty = torch.nn.functional.normalize(ta, p, dim)
    assert_same(y.data, ty, rtol=1e-10, atol=1e-12)
    g = _arr((4, 5), seed=1)
    y.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(ea.grad.data, ta.grad, rtol=1e-8, atol=1e-10)


def test_normalize_float_default_and_gradcheck():
    a = _arr((3, 4, 2), np.float32)
    y = F.normalize(Variable(ember.from_numpy(a.copy())))
    np.testing.assert_allclose(to_numpy(y.data), a / np.linalg.norm(a, axis=1, keepdims=True), rtol=1e-5)
    assert y.data.type() == "torch.FloatTensor"
    x, = _vars(_arr((3, 4)))
    assert gradcheck(lambda v: F.normalize(v, 2, 1), (x,))


def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


@pytest.mark.parametrize("name,p", [("PairwiseDistance", 2), ("PairwiseDistance_p1", 1)])
def test_pairwise_distance_matches_lua_nn_without_eps(name, p):
    # Lua nn's PairwiseDistance is ||x1 - x2||_p of size (N,): 0.2's formula with eps = 0, viewed as (N,)
    d = _lua(name)
    assert d["args"] == "nn.PairwiseDistance({})".format(p)
    x1, x2 = (Variable(t.clone(), requires_grad=True) for t in d["input"])
    out = nn.PairwiseDistance(p, eps=0)(x1, x2)
    assert out.size() == ember.Size([x1.size(0), 1])
    out.backward(d["gradOutput"].view(-1, 1))
    assert_same(out.data.view(-1), d["output"], 1e-10, 1e-12)
    # Lua's backward divides by the norm plus a small constant: agreement to ~1e-6 relative
    assert_same(x1.grad.data, d["gradInput"][0], 2e-6, 1e-12)
    assert_same(x2.grad.data, d["gradInput"][1], 2e-6, 1e-12)


# ---------------------------------------------------------------------- CUDA

CUDA_CASES = [
    ("pairwise_distance", lambda a, b: F.pairwise_distance(a, b), [(4, 5), (4, 5)]),
    ("pairwise_distance_p1_eps", lambda a, b: F.pairwise_distance(a, b, p=1, eps=1e-3), [(4, 5), (4, 5)]),
    ("pairwise_distance_p3", lambda a, b: F.pairwise_distance(a, b, 3), [(3, 6), (3, 6)]),
    ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b), [(4, 5), (4, 5)]),
    ("cosine_similarity_dim0_eps", lambda a, b: F.cosine_similarity(a, b, dim=0, eps=1e-3), [(6, 3), (6, 3)]),
    ("normalize", lambda a: F.normalize(a), [(4, 5)]),
    ("normalize_p1_dim0", lambda a: F.normalize(a, p=1, dim=0), [(4, 5)]),
    ("normalize_3d", lambda a: F.normalize(a, p=3, dim=2), [(2, 3, 4)]),
]


@pytest.mark.parametrize("name, f, shapes", CUDA_CASES, ids=[c[0] for c in CUDA_CASES])
def test_functional_on_cuda_matches_cpu(device_mode, name, f, shapes):
    assert_cuda_matches_cpu(f, [_arr(s, seed=i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("name, f, shapes", [CUDA_CASES[0], CUDA_CASES[3], CUDA_CASES[5]],
                         ids=["pairwise_distance", "cosine_similarity", "normalize"])
def test_half_on_cuda_follows_double(device_mode, name, f, shapes):
    assert_cuda_matches_cpu(f, [_arr(s, seed=i) for i, s in enumerate(shapes)], half=True)
