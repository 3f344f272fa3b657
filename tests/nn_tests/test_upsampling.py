"""F.upsample (nearest / bilinear / trilinear), F.upsample_nearest, F.upsample_bilinear and the Upsample layers:
against torch (parity; 0.2's linear modes align corners, so the oracle gets align_corners=True), double
backward, real Lua nn results (SpatialUpSamplingNearest), 0.2's dims/modes rules, deprecations and reprs."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable
from ember.autograd import grad as autograd_grad
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch

TOL = {np.float64: (1e-10, 1e-12), np.float32: (1e-5, 1e-6)}

CASES = [
    ("nearest", (2, 3, 4, 5), dict(scale_factor=2)),
    ("nearest", (1, 2, 3, 2), dict(size=(9, 6))),
    ("nearest", (1, 2, 2, 3, 2), dict(scale_factor=3)),
    ("nearest", (2, 3, 5), dict(scale_factor=2)),  # 3-D: an ember extra
    ("bilinear", (2, 3, 4, 5), dict(scale_factor=2)),
    ("bilinear", (1, 2, 3, 4), dict(size=(7, 5))),
    ("bilinear", (1, 2, 5, 6), dict(size=(3, 2))),  # downsampling
    ("bilinear", (1, 1, 1, 4), dict(size=(3, 6))),  # a single input row
    ("bilinear", (1, 2, 3, 3), dict(scale_factor=(2, 3))),
    ("trilinear", (1, 2, 2, 3, 4), dict(scale_factor=2)),
    ("trilinear", (2, 1, 3, 2, 3), dict(size=(4, 5, 2))),
]


def _noncontig(a):
    return ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, 1)).copy()).transpose(0, 1)


def _torch_upsample(torch, x, mode, kw):
    kw = dict(kw)
    if mode != "nearest":
        kw["align_corners"] = True
    return torch.nn.functional.interpolate(x, mode=mode, **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_upsample_matches_torch(case, dtype):
    torch = require_torch()
    mode, shape, kw = CASES[case]
    rng = np.random.RandomState(case)
    x = rng.standard_normal(shape).astype(dtype)
    ex = Variable(_noncontig(x), requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    out = F.upsample(ex, mode=mode, **kw)
    tout = _torch_upsample(torch, tx, mode, kw)
    rtol, atol = TOL[dtype]
    assert_same(out.data, tout, rtol, atol)
    go = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    out.backward(ember.from_numpy(go.copy()))
    tout.backward(torch.from_numpy(go))
    assert_same(ex.grad.data, tx.grad, rtol, atol)


@pytest.mark.parametrize("case", [0, 2, 5, 9])
def test_double_backward(case):
    torch = require_torch()
    mode, shape, kw = CASES[case]
    rng = np.random.RandomState(10 + case)
    x = rng.standard_normal(shape)
    v = Variable(ember.from_numpy(x.copy()), requires_grad=True)

    def f(t):
        return F.upsample(t, mode=mode, **kw)
    assert gradcheck(f, (v,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(f, (v,), eps=1e-6, atol=1e-5, rtol=1e-3)
    # the gradient's derivative with respect to grad_output is the upsampling itself (torch agrees)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    tout = _torch_upsample(torch, tx, mode, kw)
    go = rng.standard_normal(tuple(tout.shape))
    r = rng.standard_normal(shape)
    tgo = torch.from_numpy(go.copy()).requires_grad_()
    (tg,) = torch.autograd.grad(tout, tx, tgo, create_graph=True)
    (tg * torch.from_numpy(r)).sum().backward()
    ego = Variable(ember.from_numpy(go.copy()), requires_grad=True)
    (eg,) = autograd_grad(f(v), v, ego, create_graph=True)
    (eg * Variable(ember.from_numpy(r.copy()))).sum().backward()
    assert_same(ego.grad.data, tgo.grad, 1e-10, 1e-12)


def test_deprecated_forms_warn_and_match():
    x = Variable(ember.randn(1, 2, 3, 4))
    with pytest.warns(UserWarning, match="nn.functional.upsample_nearest is deprecated. Use nn.functional.upsample "
                                         "instead."):
        a = F.upsample_nearest(x, scale_factor=2)
    np.testing.assert_array_equal(a.data.numpy(), F.upsample(x, scale_factor=2).data.numpy())
    with pytest.warns(UserWarning, match="nn.functional.upsample_bilinear is deprecated"):
        b = F.upsample_bilinear(x, size=(5, 7))
    np.testing.assert_array_equal(b.data.numpy(), F.upsample(x, size=(5, 7), mode="bilinear").data.numpy())
    with pytest.warns(UserWarning, match="nn.UpsamplingNearest2d is deprecated. Use nn.Upsample instead."):
        c = nn.UpsamplingNearest2d(scale_factor=2)(x)
    np.testing.assert_array_equal(c.data.numpy(), a.data.numpy())
    with pytest.warns(UserWarning, match="nn.UpsamplingBilinear2d is deprecated. Use nn.Upsample instead."):
        d = nn.UpsamplingBilinear2d(size=(5, 7))(x)
    np.testing.assert_array_equal(d.data.numpy(), b.data.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.Upsample(scale_factor=2)(x)  # the current layer does not warn


def test_reprs_and_attributes():
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2, mode=nearest)"
    assert repr(nn.Upsample(size=(3, 4), mode="bilinear")) == "Upsample(size=(3, 4), mode=bilinear)"
    assert repr(nn.UpsamplingBilinear2d(scale_factor=3)) == "UpsamplingBilinear2d(scale_factor=3, mode=bilinear)"
    m = nn.Upsample(size=5, mode="trilinear")
    assert (m.size, m.scale_factor, m.mode) == (5, None, "trilinear")


def test_matches_lua_nn():
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    for name, scale in (("SpatialUpSamplingNearest", 2), ("SpatialUpSamplingNearest_x3_nobatch", 3)):
        rec = load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)
        x = Variable(rec["input"], requires_grad=True)
        batched = x.dim() == 4
        out = F.upsample(x if batched else x.unsqueeze(0), scale_factor=scale)
        out = out if batched else out.squeeze(0)
        assert_same(out.data, rec["output"].numpy(), 0, 0)
        out.backward(rec["gradOutput"])
        assert_same(x.grad.data, rec["gradInput"].numpy(), 1e-12, 1e-12)


def test_errors():
    x4 = Variable(ember.randn(1, 2, 3, 4))
    x5 = Variable(ember.randn(1, 2, 3, 4, 2))
    with pytest.raises(NotImplementedError, match="Got 4D input, but trilinear mode needs 5D input"):
        F.upsample(x4, scale_factor=2, mode="trilinear")
    with pytest.raises(NotImplementedError, match="Got 5D input, but bilinear mode needs 4D input"):
        F.upsample(x5, scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match=r"Only 4D and 5D input Tensors supported \(got 2D\) for the modes: "
                                                  r"nearest \| bilinear \| trilinear \(got nearest\)"):
        F.upsample(Variable(ember.randn(2, 3)), scale_factor=2)
    with pytest.raises(NotImplementedError, match=r"\(got bicubic\)"):
        F.upsample(x4, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.upsample(x4)
    with pytest.raises(ValueError, match="scale_factor must be a single Integer value for nearest neighbor sampling"):
        F.upsample(x4, scale_factor=1.5)
    with pytest.raises(RuntimeError, match=r"^Upsample: .*output size specified in UpsamplingNearest \(7x8\) has to be "
                                           r"divisible by the input size, but got: 3x4"):
        nn.Upsample(size=(7, 8))(x4)
    with pytest.raises(RuntimeError, match="input aspect ratio doesn't match the output ratio"):
        F.upsample(x4, size=(6, 12))


# ---------------------------------------------------------------------- CUDA, against the CPU

def _value_and_grads(f, x, go, r, move):
    """f(x), its gradient for go, and grad_output's gradient through that gradient along r (the double
    backward), with every tensor on move's device."""
    v = Variable(move(ember.from_numpy(x.copy())), requires_grad=True)
    ego = Variable(move(ember.from_numpy(go.copy())), requires_grad=True)
    y = f(v)
    (g,) = autograd_grad(y, v, ego, create_graph=True)
    (g * Variable(move(ember.from_numpy(r.copy())))).sum().backward()
    return [t.data.cpu().numpy() for t in (y, g, ego.grad)]


@pytest.mark.parametrize("mode,shape,kw", [("nearest", (2, 3, 5), dict(scale_factor=2)),
                                           ("nearest", (1, 2, 2, 3, 2), dict(size=(4, 6, 4))),
                                           ("bilinear", (1, 2, 3, 4), dict(size=(5, 7))),
                                           ("trilinear", (1, 2, 2, 3, 2), dict(scale_factor=(2, 1, 3)))])
def test_cuda_matches_cpu(device_mode, mode, shape, kw):
    rng = np.random.RandomState(3)
    x = rng.standard_normal(shape)

    def f(v):
        return F.upsample(v, mode=mode, **kw)

    go = rng.standard_normal(tuple(f(Variable(ember.from_numpy(x))).size()))
    r = rng.standard_normal(shape)
    got = _value_and_grads(f, x, go, r, lambda t: t.cuda())
    for a, b in zip(got, _value_and_grads(f, x, go, r, lambda t: t)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
