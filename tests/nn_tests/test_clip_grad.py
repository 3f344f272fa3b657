"""nn.utils.clip_grad_norm: 0.2 returns the total norm as a float and scales the gradients in place by
max_norm / (total_norm + 1e-6) when that is below 1; checked against torch.nn.utils.clip_grad_norm_ and NumPy."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import Variable
from _helpers.oracle import assert_same, require_torch, to_numpy


def _params(rng, shapes, dtype=np.float64, scale=1.0):
    ps = []
    for shape in shapes:
        p = nn.Parameter(ember.from_numpy(rng.standard_normal(shape).astype(dtype)))
        p.grad = Variable(ember.from_numpy((scale * rng.standard_normal(shape)).astype(dtype)))
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2, 1, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(norm_type, max_norm, dtype):
    torch = require_torch()
    rng = np.random.RandomState(7)
    ps = _params(rng, [(3, 4), (4,), (2, 2, 2)], dtype)
    tps = []
    for p in ps:
        tp = torch.from_numpy(to_numpy(p.data)).requires_grad_(True)
        tp.grad = torch.from_numpy(to_numpy(p.grad.data))
        tps.append(tp)
    total = nn.utils.clip_grad_norm(iter(ps), max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tps, max_norm, float(norm_type))
    assert type(total) is float
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert total == pytest.approx(float(ttotal), rel=tol)
    for p, tp in zip(ps, tps):
        assert_same(p.grad.data, tp.grad, tol, tol)


def test_formula_and_clipping():
    rng = np.random.RandomState(0)
    ps = _params(rng, [(5,), (2, 3)])
    grads = [to_numpy(p.grad.data).copy() for p in ps]
    flat = np.concatenate([g.ravel() for g in grads])
    norm = np.sqrt((flat ** 2).sum())
    total = nn.utils.clip_grad_norm(ps, 0.1)
    assert total == pytest.approx(norm, rel=1e-12)
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(to_numpy(p.grad.data), g * 0.1 / (norm + 1e-6), rtol=1e-12)
    clipped = np.sqrt(sum((to_numpy(p.grad.data) ** 2).sum() for p in ps))
    assert clipped == pytest.approx(0.1, rel=1e-5)


def test_no_clipping_below_max_norm():
    rng = np.random.RandomState(1)
    ps = _params(rng, [(3,)], scale=1e-3)
    before = to_numpy(ps[0].grad.data).copy()
    total = nn.utils.clip_grad_norm(ps, 1.0, norm_type=1)
    assert total == pytest.approx(np.abs(before).sum(), rel=1e-12)
    np.testing.assert_array_equal(to_numpy(ps[0].grad.data), before)


def test_inf_norm_is_the_largest_value():
    rng = np.random.RandomState(2)
    ps = _params(rng, [(4,), (3,)])
    expect = max(np.abs(to_numpy(p.grad.data)).max() for p in ps)
    assert nn.utils.clip_grad_norm(ps, 1e9, float("inf")) == pytest.approx(expect, rel=0)


def test_parameters_without_grad_are_skipped_and_empty_is_zero():
    rng = np.random.RandomState(3)
    ps = _params(rng, [(3,)])
    bare = nn.Parameter(ember.randn(4).double())
    assert bare.grad is None
    assert nn.utils.clip_grad_norm(ps + [bare], 1e9) == pytest.approx(
        math.sqrt((to_numpy(ps[0].grad.data) ** 2).sum()), rel=1e-12)
    assert bare.grad is None
    assert nn.utils.clip_grad_norm([], 1.0) == 0.0
    assert nn.utils.clip_grad_norm([bare], 1.0, float("inf")) == 0.0


def test_single_variable_and_module_parameters():
    rng = np.random.RandomState(4)
    p, = _params(rng, [(6,)])
    norm = float(np.sqrt((to_numpy(p.grad.data) ** 2).sum()))
    assert nn.utils.clip_grad_norm(p, 1e9) == pytest.approx(norm, rel=1e-12)  # ember extra: one Variable

    m = nn.Embedding(4, 2)
    m(Variable(ember.LongTensor([1, 1, 2]))).sum().backward()
    assert nn.utils.clip_grad_norm(m.parameters(), 1.0) == pytest.approx(math.sqrt(4 * 2 + 2), rel=1e-6)
    np.testing.assert_allclose(to_numpy(m.weight.grad.data)[1], np.full(2, 2 / (math.sqrt(10) + 1e-6)), rtol=1e-6)
