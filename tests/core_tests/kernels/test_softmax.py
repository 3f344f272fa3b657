"""ember.kernels softmax / log_softmax (forward and backward) against PyTorch's softmax, log_softmax and
their autograd gradients, and NumPy formulas."""
import numpy as np
import pytest

import ember
from ember import kernels as K
from ember._C import nn_softmax as _k

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
rng = np.random.RandomState(0)

# (shape, dim): rows (inner == 1), the blocked strided path (inner > 1, with a partial column block),
# 1-D, negative dims, and sizes above the threading threshold
CASES = [((5,), 0), ((4, 7), 1), ((4, 7), 0), ((4, 7), -1), ((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), 2),
         ((2, 3, 4, 5), 1), ((2, 3, 4, 5), -1), ((1, 1), 1), ((96, 1000), 1), ((6, 40, 300), 1),
         ((2, 5, 1300), 1), ((3, 9, 1100), 0)]


def _torch_ref(x, dim, logsm, go):
    torch = require_torch()
    tx = torch.from_numpy(np.array(x)).requires_grad_()
    ty = (torch.log_softmax if logsm else torch.softmax)(tx, dim)
    ty.backward(torch.from_numpy(np.array(go)))
    return ty.detach(), tx.grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", CASES)
@pytest.mark.parametrize("logsm", [False, True])
def test_forward_backward_match_torch(dtype, shape, dim, logsm):
    x = (rng.randn(*shape) * 4).astype(dtype)
    go = rng.randn(*shape).astype(dtype)
    fwd, bwd = (K.log_softmax_forward, K.log_softmax_backward) if logsm else (K.softmax_forward, K.softmax_backward)
    y = fwd(ember.from_numpy(x), dim)
    g = bwd(ember.from_numpy(go), y, dim)
    ty, tg = _torch_ref(x, dim, logsm, go)
    assert_same(y, ty, **TOL[dtype])
    assert_same(g, tg, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("logsm", [False, True])
def test_non_contiguous_inputs(dtype, logsm):
    base = (rng.randn(9, 12) * 3).astype(dtype)
    gbase = rng.randn(12, 9).astype(dtype)
    x = base.T[1:10:2]           # transposed and strided: (5, 9)
    go = gbase[1:10:2].T.T       # strided rows
    fwd, bwd = (K.log_softmax_forward, K.log_softmax_backward) if logsm else (K.softmax_forward, K.softmax_backward)
    for dim in (0, 1):
        y = fwd(ember.from_numpy(x), dim)
        g = bwd(ember.from_numpy(go), ember.from_numpy(y._a.T.copy().T), dim)  # non-contiguous output too
        ty, tg = _torch_ref(x, dim, logsm, go)
        assert y._a.flags.c_contiguous and g._a.flags.c_contiguous
        assert_same(y, ty, **TOL[dtype])
        assert_same(g, tg, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_formula_and_stability(dtype):
    # huge offsets overflow a naive exp; the max shift keeps them finite
    x = (rng.randn(6, 50) * 3 + np.array([[1e4], [-1e4], [0], [80], [-300], [3e4]])).astype(dtype)
    y = K.softmax_forward(ember.from_numpy(x), 1)._a
    ly = K.log_softmax_forward(ember.from_numpy(x), 1)._a
    xd = x.astype(np.float64)
    z = xd - xd.max(1, keepdims=True)
    ref = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert np.isfinite(y).all() and np.isfinite(ly).all()
    np.testing.assert_allclose(y, ref, **TOL[dtype])
    np.testing.assert_allclose(ly, z - np.log(np.exp(z).sum(1, keepdims=True)), **TOL[dtype])
    np.testing.assert_allclose(y.sum(1), 1, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_infinite_entries(dtype):
    torch = require_torch()
    x = rng.randn(3, 6).astype(dtype)
    x[0, 2] = -np.inf
    x[1, :3] = -np.inf
    for dim in (1, 0):
        y = K.softmax_forward(ember.from_numpy(x), dim)
        ly = K.log_softmax_forward(ember.from_numpy(x), dim)
        assert_same(y, torch.softmax(torch.from_numpy(x), dim), **TOL[dtype])
        assert_same(ly, torch.log_softmax(torch.from_numpy(x), dim), **TOL[dtype])
    assert y._a[0, 2] == 0 and ly._a[0, 2] == -np.inf
    go = rng.randn(3, 6).astype(dtype)
    g = K.log_softmax_backward(ember.from_numpy(go), ly, 0)
    _, tg = _torch_ref(x, 0, True, go)
    assert_same(g, tg, **TOL[dtype])


def test_nan_propagates_to_its_slice():
    x = rng.randn(3, 4).astype(np.float32)
    x[1, 2] = np.nan
    y = K.softmax_forward(ember.from_numpy(x), 1)._a
    assert np.isnan(y[1]).all() and np.isfinite(y[[0, 2]]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_kernel_exp_accuracy(dtype):
    lo = -87.0 if dtype == np.float32 else -708.0
    x = np.concatenate([np.linspace(lo, 10, 200001), [-1e30, -np.inf, -100.0, -1000.0]]).astype(dtype)
    y = np.empty_like(x)
    _k.exp(x, y)
    ref = np.exp(x.astype(np.float64))
    normal = ref >= np.finfo(dtype).tiny
    rel = np.abs(y[normal] - ref[normal]) / ref[normal]
    assert rel.max() <= 2 * np.finfo(dtype).eps
    assert (y[~normal] == 0).all()  # below the normal range: 0, never NaN or garbage
    nan = np.array([np.nan], dtype)
    _k.exp(nan, nan)
    assert np.isnan(nan[0])


@pytest.mark.parametrize("logsm", [False, True])
def test_same_result_on_one_and_two_threads(logsm):
    x = ember.from_numpy(rng.randn(64, 800).astype(np.float32))
    x3 = ember.from_numpy(rng.randn(4, 30, 700).astype(np.float32))
    fwd = K.log_softmax_forward if logsm else K.softmax_forward
    n = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        a, a3 = fwd(x, 1)._a, fwd(x3, 1)._a
        ember.set_num_threads(1)
        b, b3 = fwd(x, 1)._a, fwd(x3, 1)._a
    finally:
        ember.set_num_threads(n)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a3, b3)


def test_errors():
    x = ember.FloatTensor(3, 4).fill_(1)
    with pytest.raises(TypeError, match=r"softmax_forward\(\): expected input to be a torch.FloatTensor or "
                                        r"torch.DoubleTensor, got torch.LongTensor"):
        K.softmax_forward(ember.LongTensor(3, 4).fill_(1), 1)
    with pytest.raises(IndexError, match=r"log_softmax_forward\(\): dimension out of range"):
        K.log_softmax_forward(x, 2)
    with pytest.raises(ValueError, match=r"softmax_forward\(\): expected a non-empty input"):
        K.softmax_forward(ember.FloatTensor(), 0)
    y = K.softmax_forward(x, 1)
    with pytest.raises(ValueError, match=r"softmax_backward\(\): grad_output has size \[4 x 3\] but output has "
                                         r"size \[3 x 4\]"):
        K.softmax_backward(ember.FloatTensor(4, 3).fill_(1), y, 1)
    with pytest.raises(TypeError, match=r"log_softmax_backward\(\): expected grad_output to be a "
                                        r"torch.FloatTensor \(the input's type\), got torch.DoubleTensor"):
        K.log_softmax_backward(ember.DoubleTensor(3, 4).fill_(1), y, 1)


@pytest.mark.parametrize("shape,dim", [((4, 5), 1), ((2, 3, 4), 1), ((6,), 0), ((3, 4, 5), 0)])
@pytest.mark.parametrize("logsm", [False, True])
def test_backward_matches_finite_differences(shape, dim, logsm):
    # independent of torch: d sum(y * go) / dx by central differences in double
    fwd, bwd = (K.log_softmax_forward, K.log_softmax_backward) if logsm else (K.softmax_forward, K.softmax_backward)
    x = rng.randn(*shape)
    go = rng.randn(*shape)
    g = bwd(ember.from_numpy(go), fwd(ember.from_numpy(x), dim), dim)._a
    num = np.empty_like(x)
    h = 1e-6
    for i in np.ndindex(*shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        num[i] = ((fwd(ember.from_numpy(xp), dim)._a - fwd(ember.from_numpy(xm), dim)._a) * go).sum() / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------- CUDA (fake CUDA here; a real GPU under `gpu`)

def _kernels(logsm):
    return (K.log_softmax_forward, K.log_softmax_backward) if logsm else (K.softmax_forward, K.softmax_backward)


@pytest.mark.parametrize("shape,dim", [((5,), 0), ((4, 7), 1), ((4, 7), 0), ((3, 4, 5), 2), ((2, 3, 4, 5), -3)])
@pytest.mark.parametrize("logsm", [False, True])
def test_cuda_matches_cpu(device_mode, shape, dim, logsm):
    fwd, bwd = _kernels(logsm)
    for dtype in DTYPES:
        x = (rng.randn(*shape) * 4).astype(dtype)
        go = rng.randn(*shape).astype(dtype)
        y = fwd(ember.from_numpy(x), dim)
        cy = fwd(ember.from_numpy(x).cuda(), dim)
        cg = bwd(ember.from_numpy(go).cuda(), cy, dim)
        assert type(cy) is type(cg) is type(ember.from_numpy(x).cuda())
        assert_same(cy, y._a, **TOL[dtype])
        assert_same(cg, bwd(ember.from_numpy(go), y, dim)._a, **TOL[dtype])


@pytest.mark.parametrize("logsm", [False, True])
def test_cuda_non_contiguous_and_large_inputs(device_mode, logsm):
    fwd, bwd = _kernels(logsm)
    x = rng.randn(9, 12).astype(np.float32) * 3
    x[:, 0] += 1e4  # overflows a naive exp
    go = rng.randn(12, 9).astype(np.float32)
    for dim in (0, 1):
        y = fwd(ember.from_numpy(x).t(), dim)
        cy = fwd(ember.from_numpy(x).cuda().t(), dim)
        cg = bwd(ember.from_numpy(go.T.copy()).cuda().t(), cy, dim)
        assert cy.is_contiguous() and cg.is_contiguous() and np.isfinite(cy.cpu().numpy()).all()
        assert_same(cy, y._a, **TOL[np.float32])
        assert_same(cg, bwd(ember.from_numpy(go), y, dim)._a, **TOL[np.float32])


@pytest.mark.parametrize("logsm", [False, True])
def test_cuda_half_matches_float(device_mode, logsm):
    fwd, bwd = _kernels(logsm)
    x = ember.from_numpy(rng.randn(3, 6, 5).astype(np.float32) * 3).cuda()
    go = ember.from_numpy(rng.randn(3, 6, 5).astype(np.float32)).cuda()
    y, yh = fwd(x, 1), fwd(x.half(), 1)
    g, gh = bwd(go, y, 1), bwd(go.half(), yh, 1)
    assert type(yh) is type(gh) is ember.cuda.HalfTensor
    np.testing.assert_allclose(yh.float().cpu().numpy(), y.cpu().numpy(), rtol=1e-2, atol=1e-3)
    np.testing.assert_allclose(gh.float().cpu().numpy(), g.cpu().numpy(), rtol=1e-2, atol=1e-2)


def test_cuda_errors(device_mode):
    y = K.softmax_forward(ember.cuda.FloatTensor(3, 4).fill_(1), 1)
    with pytest.raises(TypeError, match=r"softmax_backward\(\): expected grad_output to be a "
                                        r"torch.cuda.FloatTensor \(the input's type\), got torch.FloatTensor"):
        K.softmax_backward(ember.FloatTensor(3, 4).fill_(1), y, 1)
    with pytest.raises(TypeError, match=r"log_softmax_forward\(\): expected input to be a torch.cuda.FloatTensor, "
                                        r"torch.cuda.DoubleTensor or torch.cuda.HalfTensor, got torch.cuda.LongTensor"):
        K.log_softmax_forward(ember.cuda.LongTensor(3, 4).fill_(1), 1)


def test_cuda_runs_on_the_device_of_its_input(fake_cuda):
    x = ember.from_numpy(rng.randn(3, 4)).cuda(1)  # the current device stays 0
    y = K.log_softmax_forward(x.t(), 0)
    assert y.get_device() == 1
    np.testing.assert_allclose(y.cpu().numpy(), K.log_softmax_forward(x.cpu().t(), 0)._a, rtol=1e-12)
    assert K.log_softmax_backward(y.clone(), y, 0).get_device() == 1
    with pytest.raises(TypeError, match=r"log_softmax_backward\(\): expected grad_output on GPU 1 \(where the input "
                                        r"is\), got torch.cuda.DoubleTensor on GPU 0"):
        K.log_softmax_backward(y.cuda(0), y, 0)
