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


# ---------------------------------------------------------------------- CUDA (fake CUDA here; a real GPU under `gpu`)

def _forward_backward(x, go, size, alpha=0.3, beta=0.6, k=1.5):
    out, scale = K.cross_map_lrn_forward(x, size, alpha, beta, k)
    return out, scale, K.cross_map_lrn_backward(go, x, out, scale, size, alpha, beta)


@pytest.mark.parametrize("shape,size", [((2, 7, 3, 4), 5), ((2, 6, 3, 2), 4), ((3, 4, 2, 3), 1), ((5, 3, 4), 3),
                                        ((1, 3, 2, 2), 7)])
def test_cuda_matches_cpu(device_mode, shape, size):
    rng = np.random.RandomState(size)
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal(shape).astype(dtype)
        go = rng.standard_normal(shape).astype(dtype)
        want = _forward_backward(E(x), E(go), size)
        got = _forward_backward(E(x).cuda(), E(go).cuda(), size)
        tol = 1e-12 if dtype == np.float64 else 1e-5
        for g, w in zip(got, want):
            assert g.is_cuda and g.size() == shape
            assert_same(g, w._a, rtol=tol, atol=tol)


def test_cuda_non_contiguous_input(device_mode):
    rng = np.random.RandomState(3)
    x = rng.standard_normal((3, 2, 4, 4))
    go = rng.standard_normal((2, 3, 4, 4))
    got = _forward_backward(E(x.transpose(1, 0, 2, 3)).cuda().transpose(0, 1), E(go).cuda().transpose(0, 1), 3)
    want = _forward_backward(E(x.transpose(1, 0, 2, 3)).transpose(0, 1), E(go).transpose(0, 1), 3)
    for g, w in zip(got, want):
        assert_same(g, w._a, rtol=1e-12, atol=1e-12)


def test_cuda_half_matches_float(device_mode):
    rng = np.random.RandomState(5)
    x = E(rng.standard_normal((2, 6, 3, 3)).astype(np.float32)).cuda()
    go = E(rng.standard_normal((2, 6, 3, 3)).astype(np.float32)).cuda()
    want = _forward_backward(x, go, 5, 0.5, 0.75, 2)
    got = _forward_backward(x.half(), go.half(), 5, 0.5, 0.75, 2)
    for g, w in zip(got, want):
        assert type(g) is ember.cuda.HalfTensor
        np.testing.assert_allclose(g.float().cpu().numpy(), w.cpu().numpy(), rtol=1e-2, atol=1e-3)


def test_cuda_errors(device_mode):
    x = ember.randn(1, 3, 2, 2).cuda()
    out, scale = K.cross_map_lrn_forward(x, 3)
    with pytest.raises(TypeError, match=r"cross_map_lrn_backward\(\): expected scale to be a torch.cuda.FloatTensor "
                                        r"\(the input's type\), got torch.FloatTensor"):
        K.cross_map_lrn_backward(out, x, out, scale.cpu(), 3)
    with pytest.raises(ValueError, match=r"cross_map_lrn_forward\(\): expected a 3D \(C x H x W\) or 4D "
                                         r"\(N x C x H x W\) input, got size \[3 x 2\]"):
        K.cross_map_lrn_forward(ember.randn(3, 2).cuda(), 3)


def test_cuda_runs_on_the_device_of_its_input(fake_cuda):
    x = E(np.random.RandomState(0).standard_normal((2, 4, 3, 3))).cuda(1)  # the current device stays 0
    out, scale = K.cross_map_lrn_forward(x.transpose(2, 3), 3)
    assert out.get_device() == scale.get_device() == 1
    assert K.cross_map_lrn_backward(out, x.transpose(2, 3), out, scale, 3).get_device() == 1
    with pytest.raises(TypeError, match=r"cross_map_lrn_backward\(\): expected grad_output on GPU 1 \(where the "
                                        r"input is\), got torch.cuda.DoubleTensor on GPU 0"):
        K.cross_map_lrn_backward(out.cuda(0), x, out, scale, 3)
