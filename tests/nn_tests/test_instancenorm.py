"""InstanceNorm1d/2d/3d: outputs and gradients against torch (track_running_stats=False, which normalises
as 0.2 did) and against the NumPy formula; 0.2's running statistics (always registered, updated with the
batch mean of the per-instance updates, never used; eval() changes nothing); double backward; errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck
from _helpers.oracle import assert_same, require_torch, to_numpy

CLASSES = {3: nn.InstanceNorm1d, 4: nn.InstanceNorm2d, 5: nn.InstanceNorm3d}


def _numpy_instance_norm(x, w, b, eps):
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if w is not None:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        y = y * w.reshape(shape) + b.reshape(shape)
    return y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5), (2, 2, 3, 2, 3)])
@pytest.mark.parametrize("affine", [False, True])
def test_matches_torch_and_formula(dtype, shape, affine):
    torch = require_torch()
    rng = np.random.RandomState(len(shape) + affine)
    x = rng.standard_normal(shape).astype(dtype)
    go = rng.standard_normal(shape).astype(dtype)
    m = CLASSES[len(shape)](shape[1], eps=1e-3, affine=affine)
    if dtype == np.float64:
        m = m.double()
    tm = getattr(torch.nn, type(m).__name__)(shape[1], eps=1e-3, affine=affine)
    if dtype == np.float64:
        tm = tm.double()
    if affine:
        tm.weight.data.copy_(torch.from_numpy(to_numpy(m.weight.data)))
    # a non-contiguous input (dims 0 and 1 swapped in memory)
    ex = Variable(ember.from_numpy(np.ascontiguousarray(np.swapaxes(x, 0, 1))).transpose(0, 1), requires_grad=True)
    out = m(ex)
    out.backward(ember.from_numpy(go.copy()))
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tout = tm(tx)
    tout.backward(torch.from_numpy(go.copy()))
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (2e-5, 2e-5)
    assert_same(out.data, tout, rtol, atol)
    assert_same(ex.grad.data, tx.grad, rtol, atol)
    w = to_numpy(m.weight.data) if affine else None
    b = to_numpy(m.bias.data) if affine else None
    np.testing.assert_allclose(to_numpy(out.data), _numpy_instance_norm(x.astype(np.float64), w, b, 1e-3),
                               rtol=rtol * 10, atol=atol * 10)
    if affine:
        assert_same(m.weight.grad.data, tm.weight.grad, rtol, atol)
        assert_same(m.bias.grad.data, tm.bias.grad, rtol, atol)


def test_running_statistics_0_2():
    """0.2 keeps running_mean/var and updates them with the mean over the batch of each instance's update
    (unbiased variance), in training and evaluation mode alike."""
    rng = np.random.RandomState(0)
    m = nn.InstanceNorm2d(3, momentum=0.2).double()
    assert list(m.state_dict().keys()) == ["running_mean", "running_var"]
    rm = to_numpy(m.running_mean).copy()
    rv = to_numpy(m.running_var).copy()
    for mode in (True, False):
        m.train(mode)
        x = rng.standard_normal((4, 3, 3, 5))
        m(Variable(ember.from_numpy(x.copy())))
        flat = x.reshape(4, 3, -1)
        rm = 0.8 * rm + 0.2 * flat.mean(2).mean(0)
        rv = 0.8 * rv + 0.2 * flat.var(2, ddof=1).mean(0)
        np.testing.assert_allclose(to_numpy(m.running_mean), rm, rtol=1e-12)
        np.testing.assert_allclose(to_numpy(m.running_var), rv, rtol=1e-12)


def test_eval_changes_nothing():
    rng = np.random.RandomState(1)
    m = nn.InstanceNorm1d(2, affine=True).double()
    x = Variable(ember.from_numpy(rng.standard_normal((3, 2, 6))))
    train_out = to_numpy(m(x).data)
    assert m.eval() is m
    assert m.training  # 0.2's eval() is a no-op for instance norm
    np.testing.assert_allclose(to_numpy(m(x).data), train_out, rtol=1e-12)
    m.train(False)  # a parent's eval() reaches here through train(False): still instance statistics
    np.testing.assert_allclose(to_numpy(m(x).data), train_out, rtol=1e-12)


@pytest.mark.parametrize("affine", [False, True])
def test_double_backward(affine):
    rng = np.random.RandomState(2)
    m = nn.InstanceNorm1d(2, affine=affine).double()
    x = Variable(ember.from_numpy(rng.standard_normal((2, 2, 4))), requires_grad=True)
    go = Variable(ember.from_numpy(rng.standard_normal((2, 2, 4))), requires_grad=True)
    assert gradcheck(m, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(m, (x,), [go], eps=1e-6, atol=1e-5, rtol=1e-3)


def test_repr_and_parameters():
    m = nn.InstanceNorm3d(4, affine=True)
    assert repr(m) == "InstanceNorm3d(4, eps=1e-05, momentum=0.1, affine=True)"
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert nn.InstanceNorm2d(4).weight is None


@pytest.mark.parametrize("cls,shape,msg", [
    (nn.InstanceNorm1d, (2, 3), r"InstanceNorm1d: expected 3D \(N x C x L\) input, got 2D input of size \[2 x 3\]"),
    (nn.InstanceNorm2d, (2, 3, 4), r"InstanceNorm2d: expected 4D .* got 3D input of size \[2 x 3 x 4\]"),
    (nn.InstanceNorm3d, (2, 3, 4, 4), r"InstanceNorm3d: expected 5D"),
    (nn.InstanceNorm1d, (2, 4, 5), r"InstanceNorm1d: expected input with 3 features .* \[2 x 4 x 5\]"),
])
def test_wrong_input_size(cls, shape, msg):
    with pytest.raises(ValueError, match=msg):
        cls(3)(Variable(ember.randn(*shape)))


def test_one_value_per_instance():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.InstanceNorm1d(3)(Variable(ember.randn(2, 3, 1)))


# ---------------------------------------------------------------------- CUDA (fake CUDA here; a real GPU under `gpu`)

def _module_run(m, to, x, go):
    """The module's output, input and parameter gradients and running statistics, on ``to``'s device."""
    xv = Variable(to(ember.from_numpy(x.copy())), requires_grad=True)
    out = m(xv)
    out.backward(to(ember.from_numpy(go.copy())))
    params = [p.grad.data for p in m.parameters()]
    return [out.data, xv.grad.data, m.running_mean, m.running_var] + params


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5), (2, 2, 3, 2, 3)])
@pytest.mark.parametrize("affine", [False, True])
def test_cuda_matches_cpu(device_mode, shape, affine):
    rng = np.random.RandomState(len(shape) + affine)
    x, go = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    ember.manual_seed(0)
    m = CLASSES[len(shape)](shape[1], momentum=0.3, affine=affine)
    want = _module_run(m, lambda t: t, x, go)
    ember.manual_seed(0)
    got = _module_run(CLASSES[len(shape)](shape[1], momentum=0.3, affine=affine).cuda(), lambda t: t.cuda(), x, go)
    for g, e in zip(got, want):
        assert g.type() == "torch.cuda.FloatTensor"
        assert_same(g, to_numpy(e), 2e-5, 2e-5)


def test_cuda_half_matches_float(device_mode):
    rng = np.random.RandomState(3)
    x, go = rng.standard_normal((2, 3, 4, 5)).astype(np.float32), rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    ember.manual_seed(0)
    want = _module_run(nn.InstanceNorm2d(3, affine=True).cuda(), lambda t: t.cuda(), x, go)
    ember.manual_seed(0)
    got = _module_run(nn.InstanceNorm2d(3, affine=True).cuda().half(), lambda t: t.cuda().half(), x, go)
    for g, e in zip(got, want):
        assert g.type() == "torch.cuda.HalfTensor"
        np.testing.assert_allclose(to_numpy(g).astype(np.float32), to_numpy(e), rtol=1e-2, atol=2e-2)
