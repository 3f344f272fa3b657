"""BatchNorm1d/2d/3d and F.batch_norm: against torch.nn.functional (parity), against real Lua nn results
(shared/data, BatchNormalization / SpatialBatchNormalization / VolumetricBatchNormalization), double
backward, running statistics (0.2: unbiased variance, no num_batches_tracked), 0.2's defaults and errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch, to_numpy

TOL = {np.float64: (1e-10, 1e-12), np.float32: (2e-5, 2e-6)}


def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    record = load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)
    module = record["module"]
    if not isinstance(module, dict):  # an ember.legacy.nn object: its fields by name
        record["module"] = dict(vars(module))
    return record


def _arr(rng, shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def _noncontig(a):
    """An ember tensor with a's values whose memory is laid out with dims 0 and 1 swapped."""
    return ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, 1)).copy()).transpose(0, 1)


# ---------------------------------------------------------------------- F.batch_norm against torch

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5), (2, 3, 2, 3, 4)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_functional_matches_torch(dtype, shape, training, affine):
    torch = require_torch()
    rng = np.random.RandomState(hash((shape, training, affine)) % 2 ** 31)
    C = shape[1]
    x = _arr(rng, shape, dtype)
    rm, rv = _arr(rng, C, dtype), rng.uniform(0.5, 2, C).astype(dtype)
    w, b = _arr(rng, C, dtype), _arr(rng, C, dtype)
    go = _arr(rng, shape, dtype)

    ex = Variable(_noncontig(x), requires_grad=True)
    erm, erv = ember.from_numpy(rm.copy()), ember.from_numpy(rv.copy())
    ew = Variable(ember.from_numpy(w.copy()), requires_grad=True) if affine else None
    eb = Variable(ember.from_numpy(b.copy()), requires_grad=True) if affine else None
    out = F.batch_norm(ex, erm, erv, ew, eb, training=training, momentum=0.3, eps=1e-3)
    out.backward(ember.from_numpy(go.copy()))

    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    trm, trv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    tw = torch.from_numpy(w.copy()).requires_grad_(True) if affine else None
    tb = torch.from_numpy(b.copy()).requires_grad_(True) if affine else None
    tout = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=0.3, eps=1e-3)
    tout.backward(torch.from_numpy(go.copy()))

    rtol, atol = TOL[dtype]
    assert_same(out.data, tout, rtol, atol)
    assert_same(ex.grad.data, tx.grad, rtol, atol)
    assert_same(erm, trm, rtol, atol)
    assert_same(erv, trv, rtol, atol)
    if affine:
        assert_same(ew.grad.data, tw.grad, rtol, atol)
        assert_same(eb.grad.data, tb.grad, rtol, atol)


def test_functional_default_is_evaluation():
    """0.2: F.batch_norm(..., training=False) by default: the running statistics are used, not updated."""
    rng = np.random.RandomState(0)
    x = _arr(rng, (4, 3))
    rm, rv = _arr(rng, 3), rng.uniform(0.5, 2, 3)
    erm, erv = ember.from_numpy(rm.copy()), ember.from_numpy(rv.copy())
    out = F.batch_norm(Variable(ember.from_numpy(x.copy())), erm, erv)
    np.testing.assert_allclose(to_numpy(out.data), (x - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(to_numpy(erm), rm)
    np.testing.assert_array_equal(to_numpy(erv), rv)


def test_running_statistics_formula():
    """running = (1 - momentum) * running + momentum * batch statistic, the variance unbiased (0.2, THNN)."""
    rng = np.random.RandomState(1)
    x = _arr(rng, (6, 2, 3))
    bn = nn.BatchNorm1d(2, momentum=0.25).double()
    bn.running_mean.copy_(ember.from_numpy(np.array([0.5, -1.0])))
    bn.running_var.copy_(ember.from_numpy(np.array([2.0, 0.5])))
    out = bn(Variable(ember.from_numpy(x.copy())))
    flat = x.transpose(1, 0, 2).reshape(2, -1)
    mean, var_b, var_u = flat.mean(1), flat.var(1), flat.var(1, ddof=1)
    np.testing.assert_allclose(to_numpy(bn.running_mean), 0.75 * np.array([0.5, -1.0]) + 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(bn.running_var), 0.75 * np.array([2.0, 0.5]) + 0.25 * var_u, rtol=1e-12)
    w = to_numpy(bn.weight.data)
    expect = (x - mean[None, :, None]) / np.sqrt(var_b[None, :, None] + 1e-5) * w[None, :, None]
    np.testing.assert_allclose(to_numpy(out.data), expect, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- real Lua nn results

@pytest.mark.parametrize("name,cls", [
    ("BatchNormalization", nn.BatchNorm1d), ("BatchNormalization_eval", nn.BatchNorm1d),
    ("BatchNormalization_noaffine", nn.BatchNorm1d), ("BatchNormalization_ascii", nn.BatchNorm1d),
    ("SpatialBatchNormalization", nn.BatchNorm2d), ("SpatialBatchNormalization_eval", nn.BatchNorm2d),
    ("SpatialBatchNormalization_float", nn.BatchNorm2d), ("VolumetricBatchNormalization", nn.BatchNorm3d),
    ("VolumetricBatchNormalization_eval", nn.BatchNorm3d),
])
def test_matches_lua_nn(name, cls):
    d = _lua(name)
    lua = d["module"]
    params = d["params"]
    C = params["running_mean"].numel()
    bn = cls(C, eps=lua["eps"], momentum=lua["momentum"], affine=bool(lua["affine"]))
    bn = bn.type(d["tensorType"])
    state = {"running_mean": params["running_mean"], "running_var": params["running_var"]}
    if lua["affine"]:
        state.update(weight=params["weight"], bias=params["bias"])
    bn.load_state_dict(state)
    bn.train(d["mode"] == "training")
    x = Variable(d["input"].clone(), requires_grad=True)
    out = bn(x)
    out.backward(d["gradOutput"])
    tol = 1e-5 if d["tensorType"] == "torch.FloatTensor" else 1e-10
    assert_same(out.data, d["output"], tol, tol)
    assert_same(x.grad.data, d["gradInput"], tol, tol)
    assert_same(bn.running_mean, lua["running_mean"], tol, tol)
    assert_same(bn.running_var, lua["running_var"], tol, tol)
    if lua["affine"]:
        assert_same(bn.weight.grad.data, d["gradWeight"], tol, tol)
        assert_same(bn.bias.grad.data, d["gradBias"], tol, tol)


# ---------------------------------------------------------------------- double backward

@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_double_backward(training, affine):
    rng = np.random.RandomState(2)
    x = Variable(ember.from_numpy(_arr(rng, (3, 2, 4))), requires_grad=True)
    rm, rv = ember.from_numpy(_arr(rng, 2)), ember.from_numpy(rng.uniform(0.5, 2, 2))
    inputs = [x]
    if affine:
        inputs += [Variable(ember.from_numpy(_arr(rng, 2)), requires_grad=True) for _ in range(2)]

    def fn(*args):
        w, b = (args[1], args[2]) if affine else (None, None)
        return F.batch_norm(args[0], rm.clone(), rv.clone(), w, b, training=training)

    go = Variable(ember.from_numpy(_arr(rng, (3, 2, 4))), requires_grad=True)
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, inputs, [go], eps=1e-6, atol=1e-5, rtol=1e-3)


def test_double_backward_matches_torch():
    torch = require_torch()
    rng = np.random.RandomState(3)
    x, w, b, go = _arr(rng, (4, 3, 2)), _arr(rng, 3), _arr(rng, 3), _arr(rng, (4, 3, 2))
    ex, ew, eb = (Variable(ember.from_numpy(a.copy()), requires_grad=True) for a in (x, w, b))
    out = F.batch_norm(ex, None, None, ew, eb, training=True)
    gx, gw = ember.autograd.grad([out], [ex, ew], [Variable(ember.from_numpy(go.copy()))], create_graph=True)
    (gx.pow(2).sum() + (gw * gw).sum()).backward()

    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b))
    tout = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True)
    tgx, tgw = torch.autograd.grad([tout], [tx, tw], [torch.from_numpy(go.copy())], create_graph=True)
    (tgx.pow(2).sum() + (tgw * tgw).sum()).backward()
    for e, t in ((ex, tx), (ew, tw)):
        assert_same(e.grad.data, t.grad, 1e-9, 1e-11)
    assert tb.grad is None and (eb.grad is None or float(eb.grad.data.abs().max()) == 0)


# ---------------------------------------------------------------------- module facts

def test_module_parameters_buffers_and_init():
    ember.manual_seed(0)
    bn = nn.BatchNorm2d(6)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict().keys()) == ["weight", "bias", "running_mean", "running_var"]
    w = to_numpy(bn.weight.data)
    assert ((w >= 0) & (w <= 1)).all() and len(np.unique(w)) == 6
    np.testing.assert_array_equal(to_numpy(bn.bias.data), np.zeros(6))
    np.testing.assert_array_equal(to_numpy(bn.running_mean), np.zeros(6))
    np.testing.assert_array_equal(to_numpy(bn.running_var), np.ones(6))
    assert bn.weight.data.type() == "torch.FloatTensor"
    bn3 = nn.BatchNorm3d(2, affine=False)
    assert bn3.weight is None and bn3.bias is None and list(bn3.parameters()) == []
    assert list(bn3.state_dict().keys()) == ["running_mean", "running_var"]


def test_eval_uses_running_statistics_and_leaves_them():
    rng = np.random.RandomState(4)
    bn = nn.BatchNorm1d(3).double().eval()
    bn.running_mean.copy_(ember.from_numpy(_arr(rng, 3)))
    bn.running_var.copy_(ember.from_numpy(rng.uniform(0.5, 2, 3)))
    before = to_numpy(bn.running_mean).copy(), to_numpy(bn.running_var).copy()
    x = _arr(rng, (2, 3))
    out = bn(Variable(ember.from_numpy(x.copy())))
    expect = (x - before[0]) / np.sqrt(before[1] + 1e-5) * to_numpy(bn.weight.data)
    np.testing.assert_allclose(to_numpy(out.data), expect, rtol=1e-12)
    np.testing.assert_array_equal(to_numpy(bn.running_mean), before[0])
    np.testing.assert_array_equal(to_numpy(bn.running_var), before[1])


def test_float_module_matches_torch():
    torch = require_torch()
    rng = np.random.RandomState(5)
    bn = nn.BatchNorm2d(3)
    tbn = torch.nn.BatchNorm2d(3)
    tbn.weight.data.copy_(torch.from_numpy(to_numpy(bn.weight.data)))
    x = _arr(rng, (4, 3, 5, 5), np.float32)
    for mode in (True, False):
        bn.train(mode)
        tbn.train(mode)
        out = bn(Variable(ember.from_numpy(x.copy())))
        tout = tbn(torch.from_numpy(x.copy()))
        assert out.data.type() == "torch.FloatTensor"
        assert_same(out.data, tout, 2e-5, 2e-5)
        assert_same(bn.running_var, tbn.running_var, 2e-6, 2e-6)


def test_state_dict_of_torch_loads():
    """Checkpoints of later PyTorch carry num_batches_tracked; 0.2 (ember) has no such buffer."""
    torch = require_torch()
    tbn = torch.nn.BatchNorm1d(4)
    tbn.running_mean.uniform_()
    sd = {k: ember.from_numpy(v.numpy().copy()) for k, v in tbn.state_dict().items()
          if k != "num_batches_tracked"}
    bn = nn.BatchNorm1d(4)
    bn.load_state_dict(sd)
    assert_same(bn.running_mean, tbn.running_mean, 0, 0)
    assert "num_batches_tracked" not in bn.state_dict()


# ---------------------------------------------------------------------- errors

@pytest.mark.parametrize("cls,shape,msg", [
    (nn.BatchNorm1d, (2, 3, 4, 4), r"BatchNorm1d: expected 2D \(N x C\) or 3D \(N x C x L\) input, got 4D input "
                                   r"of size \[2 x 3 x 4 x 4\]"),
    (nn.BatchNorm2d, (2, 3, 4), r"BatchNorm2d: expected 4D \(N x C x H x W\) input, got 3D input of size "
                                r"\[2 x 3 x 4\]"),
    (nn.BatchNorm3d, (2, 3, 4, 4), r"BatchNorm3d: expected 5D .* got 4D input"),
    (nn.BatchNorm2d, (2, 5, 4, 4), r"BatchNorm2d: expected input with 3 features .* got input of size "
                                   r"\[2 x 5 x 4 x 4\]"),
])
def test_wrong_input_size(cls, shape, msg):
    bn = cls(3)
    with pytest.raises(ValueError, match=msg):
        bn(Variable(ember.randn(*shape)))


def test_one_value_per_channel_in_training():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training.*\[1 x 3\]"):
        bn(Variable(ember.randn(1, 3)))
    bn.eval()
    assert bn(Variable(ember.randn(1, 3))).size() == (1, 3)


def test_type_mismatch():
    bn = nn.BatchNorm1d(3)  # FloatTensor parameters
    with pytest.raises(TypeError, match="torch.DoubleTensor"):
        bn(Variable(ember.randn(4, 3).double()))


def test_functional_errors():
    x = Variable(ember.randn(4, 3))
    with pytest.raises(TypeError, match="running_mean is required in evaluation mode"):
        F.batch_norm(x, None, None)
    with pytest.raises(TypeError, match="batch_norm: expected running_mean to be a tensor or None, got list"):
        F.batch_norm(x, [0, 0, 0], ember.ones(3))
    with pytest.raises(ValueError, match=r"running_mean of size \[3\], got \[4\]"):
        F.batch_norm(x, ember.zeros(4), ember.ones(3))


# ---------------------------------------------------------------------- CUDA (fake CUDA here; a real GPU under `gpu`)

def _functional_run(to, x, go, rm, rv, w, b, training):
    """F.batch_norm's output, gradients and running statistics afterwards (None stays None), with the tensors
    put where ``to`` puts them; the input is non-contiguous."""
    ex = Variable(to(_noncontig(x)), requires_grad=True)
    stats = [None if s is None else to(ember.from_numpy(s.copy())) for s in (rm, rv)]
    params = [None if p is None else Variable(to(ember.from_numpy(p.copy())), requires_grad=True) for p in (w, b)]
    out = F.batch_norm(ex, stats[0], stats[1], params[0], params[1], training=training, momentum=0.3, eps=1e-3)
    out.backward(to(ember.from_numpy(go.copy())))
    return [out.data, ex.grad.data] + stats + [None if p is None else p.grad.data for p in params]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 5)])
def test_cuda_functional_matches_cpu(device_mode, training, affine, shape):
    rng = np.random.RandomState(7)
    for dtype in (np.float64, np.float32):
        x, go = _arr(rng, shape, dtype), _arr(rng, shape, dtype)
        rm, rv = _arr(rng, 3, dtype), rng.uniform(0.5, 2, 3).astype(dtype)
        w, b = (_arr(rng, 3, dtype), _arr(rng, 3, dtype)) if affine else (None, None)
        if training and not affine:  # training needs no running statistics (ember extra)
            rm = rv = None
        want = _functional_run(lambda t: t, x, go, rm, rv, w, b, training)
        got = _functional_run(lambda t: t.cuda(), x, go, rm, rv, w, b, training)
        for g, e in zip(got, want):
            assert (g is None) == (e is None)
            if e is not None:
                assert g.is_cuda
                assert_same(g, to_numpy(e), *TOL[dtype])


def test_cuda_double_backward_matches_cpu(device_mode):
    rng = np.random.RandomState(3)
    x, w, b, go = _arr(rng, (4, 3, 2)), _arr(rng, 3), _arr(rng, 3), _arr(rng, (4, 3, 2))
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        ex, ew, eb = (Variable(to(ember.from_numpy(a.copy())), requires_grad=True) for a in (x, w, b))
        out = F.batch_norm(ex, None, None, ew, eb, training=True)
        gx, gw = ember.autograd.grad([out], [ex, ew], [Variable(to(ember.from_numpy(go.copy())))], create_graph=True)
        (gx.pow(2).sum() + (gw * gw).sum()).backward()
        results.append((gx.data, gw.data, ex.grad.data, ew.grad.data))
    for g, e in zip(results[1], results[0]):
        assert g.is_cuda
        assert_same(g, to_numpy(e), 1e-10, 1e-12)


def test_cuda_half_module_matches_float(device_mode):
    rng = np.random.RandomState(8)
    x = _arr(rng, (4, 3, 5, 5), np.float32) * 2 + 1
    bn, bnh = nn.BatchNorm2d(3).cuda(), nn.BatchNorm2d(3).cuda().half()
    bnh.load_state_dict({k: v.half() for k, v in bn.state_dict().items()})
    for mode in (True, False):
        outs = []
        for m, cast in ((bn, lambda t: t), (bnh, lambda t: t.half())):
            m.train(mode)
            xv = Variable(cast(ember.from_numpy(x.copy()).cuda()), requires_grad=True)
            out = m(xv)
            out.backward(cast(ember.from_numpy(x[::-1].copy()).cuda()))
            outs.append([out.data, xv.grad.data, m.weight.grad.data, m.running_mean, m.running_var])
        for h, f in zip(outs[1], outs[0]):
            assert h.type() == "torch.cuda.HalfTensor"
            np.testing.assert_allclose(to_numpy(h).astype(np.float32), to_numpy(f), rtol=1e-2, atol=2e-2)


def test_cuda_module_with_cpu_input_raises(device_mode):
    bn = nn.BatchNorm1d(3).cuda()
    with pytest.raises(TypeError, match=r"batch_norm_forward\(\): expected weight to be a torch.FloatTensor \(the "
                                        r"input's type\), got torch.cuda.FloatTensor"):
        bn(Variable(ember.randn(4, 3)))
    with pytest.raises(TypeError, match=r"batch_norm_forward\(\): expected running_mean to be a "
                                        r"torch.cuda.FloatTensor \(the input's type\), got torch.FloatTensor"):
        F.batch_norm(Variable(ember.randn(4, 3).cuda()), ember.zeros(3), ember.ones(3).cuda(), training=True)
