"""ember.kernels cross_map_lrn_forward / cross_map_lrn_backward (Lua nn's SpatialCrossMapLRN): against a
per-channel NumPy loop of the definition, finite differences of the forward, and real Lua nn results
(shared/data, read with ember-legacy where installed). nn.CrossMapLRN2d is tested in nn_tests."""
import numpy as np
import pytest

import ember
from ember import kernels as K
from _helpers.data import shared_data
from _helpers.oracle import assert_same, to_numpy


def E(a):
    return ember.from_numpy(np.ascontiguousarray(a))


def _numpy_lrn(x, size, alpha, beta, k):
    """The definition, one channel (dim -3) at a time: the window of c is c - (size-1)//2 ... c + size//2."""
    C = x.shape[-3]
    pre = (size - 1) // 2
    out = np.empty_like(x)
    for c in range(C):
        lo, hi = max(0, c - pre), min(C, c - pre + size)
        scale = k + alpha / size * (x[..., lo:hi, :, :] ** 2).sum(-3)
        out[..., c, :, :] = x[..., c, :, :] * scale ** -beta
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,size", [((2, 7, 3, 4), 5), ((1, 3, 2, 2), 5), ((2, 6, 3, 2), 4), ((3, 4, 2, 3), 1),
                                        ((5, 3, 4), 3), ((2, 9, 8, 8), 2)])
def test_forward_matches_definition(dtype, shape, size):
    rng = np.random.RandomState(size)
    x = rng.standard_normal(shape).astype(dtype)
    out, scale = K.cross_map_lrn_forward(E(x), size, 0.3, 0.6, 1.5)
    assert type(out) is type(E(x)) and out.size() == shape and scale.size() == shape
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(to_numpy(out), _numpy_lrn(x.astype(np.float64), size, 0.3, 0.6, 1.5),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("shape,size", [((2, 5, 2, 3), 3), ((4, 2, 2), 5), ((1, 6, 1, 2), 4)])
def test_backward_matches_finite_differences(shape, size):
    rng = np.random.RandomState(len(shape) + size)
    x = rng.standard_normal(shape)
    go = rng.standard_normal(shape)
    out, scale = K.cross_map_lrn_forward(E(x), size, 0.4, 0.75, 1.0)
    gi = to_numpy(K.cross_map_lrn_backward(E(go), E(x), out, scale, size, 0.4, 0.75))
    num = np.empty_like(x)
    eps = 1e-6
    for i in np.ndindex(shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        num[i] = ((_numpy_lrn(xp, size, 0.4, 0.75, 1.0) - _numpy_lrn(xm, size, 0.4, 0.75, 1.0)) * go).sum() / (2 * eps)
    np.testing.assert_allclose(gi, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,size,alpha,beta,k", [
    ("SpatialCrossMapLRN", 3, 0.5, 0.75, 2),
    ("SpatialCrossMapLRN_nobatch", 5, 1, 0.5, 1),
])
def test_matches_lua_nn(name, size, alpha, beta, k):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    d = load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)
    out, scale = K.cross_map_lrn_forward(d["input"], size, alpha, beta, k)
    assert_same(out, d["output"], 1e-12, 1e-12)
    gi = K.cross_map_lrn_backward(d["gradOutput"], d["input"], out, scale, size, alpha, beta)
    assert_same(gi, d["gradInput"], 1e-12, 1e-12)


def test_non_contiguous_input():
    rng = np.random.RandomState(3)
    x = rng.standard_normal((3, 2, 4, 4))
    xt = E(x.transpose(1, 0, 2, 3)).transpose(0, 1)
    out, _ = K.cross_map_lrn_forward(xt, 3, 0.5)
    np.testing.assert_allclose(to_numpy(out), _numpy_lrn(x, 3, 0.5, 0.75, 1), rtol=1e-12)


def test_errors():
    x = ember.randn(1, 3, 2, 2)
    with pytest.raises(ValueError, match=r"cross_map_lrn_forward\(\): expected a 3D \(C x H x W\) or 4D "
                                         r"\(N x C x H x W\) input, got size \[3 x 2\]"):
        K.cross_map_lrn_forward(ember.randn(3, 2), 3)
    with pytest.raises(ValueError, match="size must be a positive int, got 0"):
        K.cross_map_lrn_forward(x, 0)
    with pytest.raises(TypeError, match="torch.FloatTensor or torch.DoubleTensor, got torch.LongTensor"):
        K.cross_map_lrn_forward(ember.LongTensor(1, 2, 2, 2).zero_(), 3)
    out, scale = K.cross_map_lrn_forward(x, 3)
    with pytest.raises(ValueError, match=r"grad_output has size \[1 x 3 x 2\] but input has size \[1 x 3 x 2 x 2\]"):
        K.cross_map_lrn_backward(ember.randn(1, 3, 2), x, out, scale, 3)
    with pytest.raises(TypeError, match="scale to be a torch.FloatTensor"):
        K.cross_map_lrn_backward(ember.randn(1, 3, 2, 2), x, out, scale.double(), 3)
