"""ember.kernels batch_norm_forward / batch_norm_backward against torch.nn.functional.batch_norm (outputs,
running statistics updated in place, autograd gradients) and NumPy formulas for the saved statistics."""
import numpy as np
import pytest

import ember
from ember import kernels as K

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}
rng = np.random.RandomState(0)
# (N, C), (N, C, L), (N, C, H, W), (N, C, D, H, W); sizes above the threading threshold for both layouts
SHAPES = [(7, 5), (4, 3, 6), (2, 3, 4, 5), (2, 2, 3, 4, 3), (256, 300), (300, 20), (8, 6, 40, 30), (3, 1, 100)]


def E(a):
    return ember.from_numpy(a)


def _torch_bn(x, w, b, rm, rv, training, momentum, eps, go):
    """torch's output, running stats after the call, and gradients of (output * go)."""
    torch = require_torch()
    F = torch.nn.functional
    tx = torch.from_numpy(np.array(x)).requires_grad_()
    tw = None if w is None else torch.from_numpy(np.array(w)).requires_grad_()
    tb = None if b is None else torch.from_numpy(np.array(b)).requires_grad_()
    trm = torch.from_numpy(np.array(rm))
    trv = torch.from_numpy(np.array(rv))
    y = F.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=momentum, eps=eps)
    (y * torch.from_numpy(np.array(go))).sum().backward()
    return (y.detach(), trm, trv, tx.grad, None if tw is None else tw.grad, None if tb is None else tb.grad)


def _params(C, dtype, affine=True):
    w = (rng.rand(C) + 0.5).astype(dtype) if affine else None
    b = rng.randn(C).astype(dtype) if affine else None
    return w, b, rng.randn(C).astype(dtype), (rng.rand(C) + 0.5).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_matches_torch(dtype, shape, training, affine):
    C = shape[1]
    x = (rng.randn(*shape) * 2 + 3).astype(dtype)
    go = rng.randn(*shape).astype(dtype)
    w, b, rm, rv = _params(C, dtype, affine)
    momentum, eps = 0.3, 1e-4
    ref = _torch_bn(x, w, b, rm, rv, training, momentum, eps, go)
    erm, erv = E(rm.copy()), E(rv.copy())
    ew = None if w is None else E(w)
    y, save_mean, save_invstd = K.batch_norm_forward(E(x), ew, None if b is None else E(b), erm, erv, training,
                                                     momentum, eps)
    tol = TOL[dtype]
    assert_same(y, ref[0], **tol)
    assert_same(erm, ref[1], **tol)  # updated in place (unbiased variance for running_var)
    assert_same(erv, ref[2], **tol)
    axes = (0,) + tuple(range(2, len(shape)))
    xd = x.astype(np.float64)
    mean = xd.mean(axes) if training else rm
    var = xd.var(axes) if training else rv
    np.testing.assert_allclose(save_mean._a, mean, **tol)
    np.testing.assert_allclose(save_invstd._a, 1 / np.sqrt(var + eps), **tol)
    gi, gw, gb = K.batch_norm_backward(E(go), E(x), ew, save_mean, save_invstd, training, E(rm), E(rv), eps)
    assert_same(gi, ref[3], **tol)
    if affine:
        assert_same(gw, ref[4], **tol)
        assert_same(gb, ref[5], **tol)
    else:
        assert gw is None and gb is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_input_and_running_stats(dtype):
    C = 6
    x = (rng.randn(C, 9).astype(dtype)).T                # (9, 6) transposed
    go = rng.randn(9, 2 * C).astype(dtype)[:, ::2]       # strided columns
    w, b, rm, rv = _params(C, dtype)
    ref = _torch_bn(x, w, b, rm, rv, True, 0.1, 1e-5, go)
    rm_store = np.zeros(2 * C, dtype)
    rv_store = np.zeros(2 * C, dtype)
    rm_store[::2], rv_store[::2] = rm, rv
    erm, erv = E(rm_store[::2]), E(rv_store[::2])        # strided views: the update must land in the stores
    y, sm, si = K.batch_norm_forward(E(x), E(w), E(b), erm, erv, True)
    assert_same(y, ref[0], **TOL[dtype])
    np.testing.assert_allclose(rm_store[::2], ref[1].numpy(), **TOL[dtype])
    np.testing.assert_allclose(rv_store[::2], ref[2].numpy(), **TOL[dtype])
    assert (rm_store[1::2] == 0).all() and (rv_store[1::2] == 0).all()
    gi, gw, gb = K.batch_norm_backward(E(go), E(x), E(w), sm, si, True)
    assert_same(gi, ref[3], **TOL[dtype])
    assert_same(gw, ref[4], **TOL[dtype])
    assert_same(gb, ref[5], **TOL[dtype])


def test_training_without_running_stats_and_output_mask():
    x = rng.randn(5, 4, 3)
    y, sm, si = K.batch_norm_forward(E(x), None, None, None, None, True)
    z = (x - x.mean((0, 2), keepdims=True)) / np.sqrt(x.var((0, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(y._a, z, rtol=1e-10, atol=1e-12)
    w = E(np.ones(4))
    go = E(rng.randn(5, 4, 3))
    gi, gw, gb = K.batch_norm_backward(go, E(x), w, sm, si, True, output_mask=(False, True, False))
    assert gi is None and gb is None
    full = K.batch_norm_backward(go, E(x), w, sm, si, True)
    np.testing.assert_array_equal(gw._a, full[1]._a)


def test_eval_mode_leaves_running_stats_and_uses_them():
    x = rng.randn(6, 3)
    rm, rv = rng.randn(3), rng.rand(3) + 0.5
    erm, erv = E(rm.copy()), E(rv.copy())
    y, sm, si = K.batch_norm_forward(E(x), None, None, erm, erv, False, 0.5, 1e-3)
    np.testing.assert_array_equal(erm._a, rm)
    np.testing.assert_array_equal(erv._a, rv)
    np.testing.assert_allclose(y._a, (x - rm) / np.sqrt(rv + 1e-3), rtol=1e-12)
    # evaluation backward: the running statistics are constants, grad_input = go * invstd * weight
    go = rng.randn(6, 3)
    gi, _, _ = K.batch_norm_backward(E(go), E(x), None, sm, si, False, erm, erv, 1e-3)
    np.testing.assert_allclose(gi._a, go / np.sqrt(rv + 1e-3), rtol=1e-12)


def test_same_result_on_one_and_two_threads():
    x = E(rng.randn(64, 700).astype(np.float32))
    x4 = E(rng.randn(8, 5, 30, 30).astype(np.float32))
    n = ember.get_num_threads()
    out = []
    try:
        for threads in (2, 1):
            ember.set_num_threads(threads)
            out.append([K.batch_norm_forward(t, None, None, None, None, True)[0]._a for t in (x, x4)])
    finally:
        ember.set_num_threads(n)
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_errors():
    x = E(rng.randn(4, 3).astype(np.float32))
    ones = E(np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"batch_norm_forward\(\): expected 2D, 3D, 4D or 5D input "
                                         r"\(N x C x \.\.\.\), got size \[4\]"):
        K.batch_norm_forward(E(np.ones(4, np.float32)), None, None, None, None, True)
    with pytest.raises(ValueError, match=r"expected weight to have 3 elements \(one per channel\), got size \[4\]"):
        K.batch_norm_forward(x, E(np.ones(4, np.float32)), None, ones, ones, True)
    with pytest.raises(TypeError, match=r"expected bias to be a torch.FloatTensor \(the input's type\), "
                                        r"got torch.DoubleTensor"):
        K.batch_norm_forward(x, None, E(np.ones(3)), ones, ones, True)
    with pytest.raises(TypeError, match=r"running_mean is required in evaluation mode"):
        K.batch_norm_forward(x, None, None, None, ones, False)
    with pytest.raises(ValueError, match=r"expected running_var of size \[3\], got \[3 x 1\]"):
        K.batch_norm_forward(x, None, None, ones, E(np.ones((3, 1), np.float32)), True)
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel when training, got input size "
                                         r"\[1 x 3\]"):
        K.batch_norm_forward(E(np.ones((1, 3), np.float32)), None, None, ones, ones, True)
    with pytest.raises(ValueError, match=r"batch_norm_backward\(\): grad_output has size \[3 x 4\] but input has "
                                         r"size \[4 x 3\]"):
        K.batch_norm_backward(E(np.ones((3, 4), np.float32)), x, None, ones, ones, True)
    with pytest.raises(TypeError, match=r"save_invstd is required"):
        K.batch_norm_backward(x, x, None, ones, None, True)


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 5), (2, 3, 2, 2)])
def test_training_backward_matches_finite_differences(shape):
    # independent of torch: gradients of sum(y * go) by central differences in double
    C = shape[1]
    x = rng.randn(*shape) * 2 + 1
    w = rng.rand(C) + 0.5
    b = rng.randn(C)
    go = rng.randn(*shape)

    def f(xv, wv, bv):
        return (K.batch_norm_forward(E(xv), E(wv), E(bv), None, None, True, 0.1, 1e-3)[0]._a * go).sum()

    def num(arr, call):
        out = np.empty_like(arr)
        for i in np.ndindex(*arr.shape):
            p, m = arr.copy(), arr.copy()
            p[i] += 1e-6
            m[i] -= 1e-6
            out[i] = (call(p) - call(m)) / 2e-6
        return out
    _, sm, si = K.batch_norm_forward(E(x), E(w), E(b), None, None, True, 0.1, 1e-3)
    gi, gw, gb = K.batch_norm_backward(E(go), E(x), E(w), sm, si, True)
    np.testing.assert_allclose(gi._a, num(x, lambda v: f(v, w, b)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gw._a, num(w, lambda v: f(x, v, b)), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gb._a, num(b, lambda v: f(x, w, v)), rtol=1e-5, atol=1e-7)


def test_running_stats_numpy_formula():
    x = rng.randn(5, 3, 4)
    rm, rv = rng.randn(3), rng.rand(3) + 0.5
    erm, erv = E(rm.copy()), E(rv.copy())
    K.batch_norm_forward(E(x), None, None, erm, erv, True, 0.25, 1e-5)
    np.testing.assert_allclose(erm._a, 0.75 * rm + 0.25 * x.mean((0, 2)), rtol=1e-12)
    np.testing.assert_allclose(erv._a, 0.75 * rv + 0.25 * x.var((0, 2), ddof=1), rtol=1e-12)


# ---------------------------------------------------------------------- CUDA (fake CUDA here; a real GPU under `gpu`)

def _on(to):
    """``to`` (an array -> tensor conversion) that passes None through."""
    return lambda a: None if a is None else to(a)


def _forward_backward(to, x, go, w, b, rm, rv, training, momentum=0.3, eps=1e-4):
    """Every result of the two kernels, as tensors: output, the running statistics after the forward,
    save_mean, save_invstd, and the three gradients (evaluation: through the running statistics)."""
    to = _on(to)
    erm, erv = to(rm.copy()), to(rv.copy())
    y, sm, si = K.batch_norm_forward(to(x), to(w), to(b), erm, erv, training, momentum, eps)
    grads = K.batch_norm_backward(to(go), to(x), to(w), sm, si, training, erm, erv, eps)
    return (y, erm, erv, sm, si) + grads


def _cuda(a):
    return E(a).cuda()


@pytest.mark.parametrize("shape", [(7, 5), (4, 3, 6), (2, 3, 4, 5), (2, 2, 3, 4, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_cuda_matches_cpu(device_mode, shape, training):
    for dtype in DTYPES:
        for affine in (True, False):
            x = (rng.randn(*shape) * 2 + 3).astype(dtype)
            go = rng.randn(*shape).astype(dtype)
            params = _params(shape[1], dtype, affine)
            want = _forward_backward(E, x, go, *params, training)
            got = _forward_backward(_cuda, x, go, *params, training)
            for g, w in zip(got, want):
                if w is None:
                    assert g is None
                    continue
                assert g.is_cuda and g.type() == "torch.cuda." + w.type()[len("torch."):]
                assert_same(g, w._a, **TOL[dtype])


def test_cuda_non_contiguous_input_and_running_stats(device_mode):
    C = 4
    x = rng.randn(C, 9).astype(np.float32)
    go = rng.randn(9, C).astype(np.float32)
    w, b, rm, rv = _params(C, np.float32)
    want = _forward_backward(E, x.T, go, w, b, rm, rv, True)
    stores = [E(np.stack([s, np.zeros(C, np.float32)], 1)).cuda() for s in (rm, rv)]
    erm, erv = (s.select(1, 0) for s in stores)  # strided views: the update must land in the stores
    y, sm, si = K.batch_norm_forward(_cuda(x).t(), _cuda(w), _cuda(b), erm, erv, True, 0.3, 1e-4)
    grads = K.batch_norm_backward(_cuda(go), _cuda(x).t(), _cuda(w), sm, si, True)
    for g, e in zip((y, stores[0].select(1, 0), stores[1].select(1, 0), sm, si) + grads, want):
        assert_same(g, e._a, **TOL[np.float32])
    assert (stores[0].select(1, 1).cpu().numpy() == 0).all() and (stores[1].select(1, 1).cpu().numpy() == 0).all()


def test_cuda_output_mask_and_no_running_stats(device_mode):
    x = rng.randn(5, 4, 3)
    go = rng.randn(5, 4, 3)
    w = np.ones(4)
    y, sm, si = K.batch_norm_forward(_cuda(x), None, None, None, None, True)
    cy, csm, csi = K.batch_norm_forward(E(x), None, None, None, None, True)
    assert_same(y, cy._a, rtol=1e-12, atol=1e-12)
    for mask in [(False, True, False), (True, False, False), (False, False, True)]:
        got = K.batch_norm_backward(_cuda(go), _cuda(x), _cuda(w), sm, si, True, output_mask=mask)
        want = K.batch_norm_backward(E(go), E(x), E(w), csm, csi, True, output_mask=mask)
        for g, e in zip(got, want):
            assert (g is None) == (e is None) and (g is None or np.allclose(g.cpu().numpy(), e._a, rtol=1e-12))


def test_cuda_constant_channel_without_eps(device_mode):
    x = rng.randn(6, 3)
    x[:, 1] = 2.5  # zero variance and eps = 0: invstd 0 (not inf), output = bias, as on the CPU
    b = np.array([0.5, -1, 2])
    want = K.batch_norm_forward(E(x), None, E(b), None, None, True, 0.1, 0)
    got = K.batch_norm_forward(_cuda(x), None, _cuda(b), None, None, True, 0.1, 0)
    for g, e in zip(got, want):
        assert_same(g, e._a, rtol=1e-12, atol=1e-12)
    assert got[2].cpu().numpy()[1] == 0 and (got[0].cpu().numpy()[:, 1] == -1).all()


@pytest.mark.parametrize("training", [True, False])
def test_cuda_half_matches_float(device_mode, training):
    x = (rng.randn(6, 3, 5) * 2 + 3).astype(np.float32)
    go = rng.randn(6, 3, 5).astype(np.float32)
    params = _params(3, np.float32)
    want = _forward_backward(_cuda, x, go, *params, training)
    got = _forward_backward(lambda a: _cuda(a).half(), x, go, *params, training)
    for g, e in zip(got, want):
        assert type(g) is ember.cuda.HalfTensor
        np.testing.assert_allclose(g.float().cpu().numpy(), e.cpu().numpy(), rtol=1e-2, atol=1e-2)


def test_cuda_errors(device_mode):
    x = _cuda(rng.randn(4, 3).astype(np.float32))
    ones = _cuda(np.ones(3, np.float32))
    with pytest.raises(TypeError, match=r"batch_norm_forward\(\): expected weight to be a torch.cuda.FloatTensor "
                                        r"\(the input's type\), got torch.FloatTensor"):
        K.batch_norm_forward(x, E(np.ones(3, np.float32)), None, ones, ones, True)
    with pytest.raises(TypeError, match=r"expected running_var to be a torch.cuda.FloatTensor \(the input's type\), "
                                        r"got torch.FloatTensor"):
        K.batch_norm_forward(x, None, None, ones, E(np.ones(3, np.float32)), False)
    with pytest.raises(ValueError, match=r"expected more than 1 value per channel when training, got input size "
                                         r"\[1 x 3\]"):
        K.batch_norm_forward(_cuda(np.ones((1, 3), np.float32)), None, None, ones, ones, True)
    with pytest.raises(TypeError, match=r"batch_norm_backward\(\): expected grad_output to be a "
                                        r"torch.cuda.FloatTensor \(the input's type\), got torch.FloatTensor"):
        K.batch_norm_backward(E(np.ones((4, 3), np.float32)), x, None, ones, ones, True)


def test_cuda_runs_on_the_device_of_its_input(fake_cuda):
    x = rng.randn(5, 3)
    rm, rv = E(np.zeros(3)).cuda(1), E(np.ones(3)).cuda(1)
    y, sm, si = K.batch_norm_forward(E(x).cuda(1), None, None, rm, rv, True)  # the current device stays 0
    assert y.get_device() == sm.get_device() == si.get_device() == 1
    np.testing.assert_allclose(rm.cpu().numpy(), 0.1 * x.mean(0), rtol=1e-12)
    gi, _, _ = K.batch_norm_backward(y.clone(), E(x).cuda(1), None, sm, si, True)
    assert gi.get_device() == 1
    with pytest.raises(TypeError, match=r"batch_norm_forward\(\): expected running_mean on GPU 1 \(where the input "
                                        r"is\), got torch.cuda.DoubleTensor on GPU 0"):
        K.batch_norm_forward(E(x).cuda(1), None, None, rm.cuda(0), rv, True)
