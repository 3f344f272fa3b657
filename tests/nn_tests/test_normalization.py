"""CrossMapLRN2d: against real Lua nn results (SpatialCrossMapLRN in shared/data) and a per-channel NumPy
loop of the definition; gradients by finite differences (its kernels: core_tests/kernels/test_lrn.py).

torch's CrossMapLRN2d is not the oracle here: it is 0.2's CPU Python port, whose window never drops
channel 0 and whose backward is shifted by one channel (checked below, so the difference is deliberate)."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import Variable, gradcheck
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch, to_numpy


def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


def _numpy_lrn(x, size, alpha, beta, k):
    """The definition, one channel at a time: the window of c is c - (size-1)//2 ... c + size//2."""
    C = x.shape[1]
    pre = (size - 1) // 2
    out = np.empty_like(x)
    for c in range(C):
        lo, hi = max(0, c - pre), min(C, c - pre + size)
        scale = k + alpha / size * (x[:, lo:hi] ** 2).sum(1)
        out[:, c] = x[:, c] * scale ** -beta
    return out


@pytest.mark.parametrize("name,size,alpha,beta,k", [
    ("SpatialCrossMapLRN", 3, 0.5, 0.75, 2),
    ("SpatialCrossMapLRN_nobatch", 5, 1, 0.5, 1),
])
def test_matches_lua_nn(name, size, alpha, beta, k):
    d = _lua(name)
    m = nn.CrossMapLRN2d(size, alpha, beta, k)
    inp = d["input"]
    batched = inp.dim() == 4
    x = Variable(inp.clone() if batched else inp.clone().unsqueeze(0), requires_grad=True)
    out = m(x)
    go = d["gradOutput"] if batched else d["gradOutput"].unsqueeze(0)
    out.backward(go)
    assert_same(out.data.view_as(d["output"]), d["output"], 1e-12, 1e-12)
    assert_same(x.grad.data.view_as(d["gradInput"]), d["gradInput"], 1e-12, 1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,size", [((2, 7, 3, 4), 5), ((1, 3, 2, 2), 5), ((2, 6, 3, 2), 4), ((3, 4, 2, 3), 1),
                                        ((2, 5, 1, 1), 2)])
def test_matches_definition(dtype, shape, size):
    rng = np.random.RandomState(size)
    x = rng.standard_normal(shape).astype(dtype)
    m = nn.CrossMapLRN2d(size, alpha=0.3, beta=0.6, k=1.5)
    out = m(Variable(ember.from_numpy(x.copy())))
    assert out.data.type() == ("torch.DoubleTensor" if dtype == np.float64 else "torch.FloatTensor")
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(to_numpy(out.data), _numpy_lrn(x.astype(np.float64), size, 0.3, 0.6, 1.5),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7])
def test_gradcheck(size):
    rng = np.random.RandomState(size)
    x = Variable(ember.from_numpy(rng.standard_normal((2, 5, 2, 3))), requires_grad=True)
    m = nn.CrossMapLRN2d(size, alpha=0.4, beta=0.75, k=1)
    assert gradcheck(m, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_non_contiguous_input():
    rng = np.random.RandomState(3)
    x = rng.standard_normal((3, 2, 4, 4))
    xt = ember.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2, 3))).transpose(0, 1)
    out = nn.CrossMapLRN2d(3, 0.5)(Variable(xt))
    np.testing.assert_allclose(to_numpy(out.data), _numpy_lrn(x, 3, 0.5, 0.75, 1), rtol=1e-12)


def test_torch_oracle_has_the_0_2_cpu_window_bug():
    """Why the module table skips torch: torch (like 0.2's CPU path) keeps channel 0 in the window of
    every later channel; ember agrees with the definition (and Lua nn)."""
    torch = require_torch()
    rng = np.random.RandomState(4)
    x = rng.standard_normal((1, 6, 2, 2))
    tout = torch.nn.CrossMapLRN2d(3, 0.5, 0.75, 1)(torch.from_numpy(x.copy())).numpy()
    out = to_numpy(nn.CrossMapLRN2d(3, 0.5, 0.75, 1)(Variable(ember.from_numpy(x.copy()))).data)
    np.testing.assert_allclose(out[:, :2], tout[:, :2], rtol=1e-12)  # channels whose windows agree
    for c in range(2, 6):  # torch's window of c is {0} + c - 1 ... c + 1
        assert not np.allclose(out[:, c], tout[:, c])
        scale = 1 + 0.5 / 3 * ((x[:, c - 1:c + 2] ** 2).sum(1) + x[:, 0] ** 2)
        np.testing.assert_allclose(tout[:, c], x[:, c] * scale ** -0.75, rtol=1e-12)
    np.testing.assert_allclose(out, _numpy_lrn(x, 3, 0.5, 0.75, 1), rtol=1e-12)


def test_repr_and_no_parameters():
    m = nn.CrossMapLRN2d(5, alpha=1e-3, beta=0.5, k=2)
    assert repr(m) == "CrossMapLRN2d (, alpha=0.001, beta=0.5, k=2)"
    assert list(m.parameters()) == [] and list(m.state_dict()) == []


def test_double_backward_is_refused():
    x = Variable(ember.randn(1, 3, 2, 2).double(), requires_grad=True)
    out = nn.CrossMapLRN2d(3)(x)
    g, = ember.autograd.grad([out.sum()], [x], create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate twice"):
        g.sum().backward()


def test_errors():
    with pytest.raises(ValueError, match=r"CrossMapLRN2d: expected a 4D input \(N x C x H x W\), got a 3D input "
                                         r"of size \[3 x 4 x 4\]"):
        nn.CrossMapLRN2d(3)(Variable(ember.randn(3, 4, 4)))
    with pytest.raises(ValueError, match="size must be a positive int, got 0"):
        nn.CrossMapLRN2d(0)(Variable(ember.randn(1, 3, 4, 4)))


# ---------------------------------------------------------------------- CUDA (fake CUDA here; a real GPU under `gpu`)

@pytest.mark.parametrize("name,size,alpha,beta,k", [
    ("SpatialCrossMapLRN", 3, 0.5, 0.75, 2),
    ("SpatialCrossMapLRN_nobatch", 5, 1, 0.5, 1),
])
def test_cuda_matches_lua_nn(device_mode, name, size, alpha, beta, k):
    d = _lua(name)
    inp = d["input"]
    x = Variable((inp if inp.dim() == 4 else inp.unsqueeze(0)).cuda(), requires_grad=True)
    out = nn.CrossMapLRN2d(size, alpha, beta, k)(x)
    out.backward(d["gradOutput"].cuda().view_as(out.data))
    assert out.data.is_cuda and x.grad.data.is_cuda
    assert_same(out.data.view_as(d["output"]), d["output"], 1e-12, 1e-12)
    assert_same(x.grad.data.view_as(d["gradInput"]), d["gradInput"], 1e-12, 1e-12)


def test_cuda_float_and_half(device_mode):
    rng = np.random.RandomState(6)
    x = rng.standard_normal((2, 7, 3, 4)).astype(np.float32)
    m = nn.CrossMapLRN2d(5, alpha=0.3, beta=0.6, k=1.5)
    want = _numpy_lrn(x.astype(np.float64), 5, 0.3, 0.6, 1.5)
    out = m(Variable(ember.from_numpy(x.copy()).cuda()))
    outh = m(Variable(ember.from_numpy(x.copy()).cuda().half()))
    assert out.data.type() == "torch.cuda.FloatTensor" and outh.data.type() == "torch.cuda.HalfTensor"
    np.testing.assert_allclose(to_numpy(out.data), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(to_numpy(outh.data).astype(np.float64), want, rtol=1e-2, atol=1e-3)
