"""F.affine_grid and F.grid_sample (0.2's spatial transformer functions): against torch (parity; 0.2 aligns the
corners, so the oracle gets align_corners=True), gradients, affine_grid's double backward, grid_sample's
single one (0.2's GridSampler backward ran once), a spatial-transformer round trip, and errors."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import Variable
from ember.autograd import grad as autograd_grad
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from _helpers.oracle import assert_same, require_torch

TOL = {np.float64: (1e-10, 1e-12), np.float32: (1e-5, 1e-5)}


def _noncontig(a):
    return ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, 1)).copy()).transpose(0, 1)


def _base_grid(h, w):
    """0.2's base grid: rows (x, y, 1) over linspace(-1, 1); a single point sits at -1 (PyTorch >= 1.3 puts it
    at 0, so unit sizes are checked against this formula only)."""
    xs = np.linspace(-1, 1, w) if w > 1 else np.array([-1.0])
    ys = np.linspace(-1, 1, h) if h > 1 else np.array([-1.0])
    return np.stack([np.tile(xs, h), np.repeat(ys, w), np.ones(h * w)], 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (3, 2, 5, 1)])
def test_affine_grid_matches_formula_and_torch(size, dtype):
    rng = np.random.RandomState(sum(size))
    n, _, h, w = size
    theta = rng.standard_normal((n, 2, 3)).astype(dtype)
    et = Variable(_noncontig(theta), requires_grad=True)
    grid = F.affine_grid(et, ember.Size(size))
    g = rng.standard_normal((n, h, w, 2)).astype(dtype)
    grid.backward(ember.from_numpy(g.copy()))
    base = _base_grid(h, w)
    rtol, atol = TOL[dtype]
    assert_same(grid.data, (base @ theta.astype(np.float64).transpose(0, 2, 1)).reshape(n, h, w, 2), rtol, atol,
                check_type=False)
    assert_same(et.grad.data, g.reshape(n, h * w, 2).astype(np.float64).transpose(0, 2, 1) @ base, rtol, atol,
                check_type=False)
    if h > 1 and w > 1:
        torch = require_torch()
        tt = torch.from_numpy(theta.copy()).requires_grad_()
        tgrid = torch.nn.functional.affine_grid(tt, size, align_corners=True)
        tgrid.backward(torch.from_numpy(g))
        assert_same(grid.data, tgrid, rtol, atol)
        assert_same(et.grad.data, tt.grad, rtol, atol)


def test_affine_grid_double_backward():
    rng = np.random.RandomState(0)
    theta = Variable(ember.from_numpy(rng.standard_normal((2, 2, 3))), requires_grad=True)

    def f(t):
        return F.affine_grid(t, (2, 1, 3, 4))
    assert gradcheck(f, (theta,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(f, (theta,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_identity_theta_gives_base_grid():
    theta = Variable(ember.Tensor([[[1, 0, 0], [0, 1, 0]]]).double())
    grid = F.affine_grid(theta, (1, 1, 3, 2)).data.numpy()
    np.testing.assert_allclose(grid[0, :, :, 0], [[-1, 1]] * 3)
    np.testing.assert_allclose(grid[0, :, :, 1], [[-1, -1], [0, 0], [1, 1]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,grid_hw", [((2, 3, 4, 5), (3, 6)), ((1, 2, 1, 4), (2, 2)), ((2, 1, 5, 5), (5, 5))])
def test_grid_sample_matches_torch(shape, grid_hw, dtype):
    torch = require_torch()
    rng = np.random.RandomState(shape[2] * 10 + grid_hw[0])
    x = rng.standard_normal(shape).astype(dtype)
    grid = rng.uniform(-1.2, 1.2, (shape[0],) + grid_hw + (2,)).astype(dtype)  # some points fall outside
    ex, eg = Variable(_noncontig(x), requires_grad=True), Variable(_noncontig(grid), requires_grad=True)
    tx, tg = torch.from_numpy(x.copy()).requires_grad_(), torch.from_numpy(grid.copy()).requires_grad_()
    out = F.grid_sample(ex, eg)
    tout = torch.nn.functional.grid_sample(tx, tg, mode="bilinear", padding_mode="zeros", align_corners=True)
    rtol, atol = TOL[dtype]
    assert_same(out.data, tout, rtol, atol)
    go = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    out.backward(ember.from_numpy(go.copy()))
    tout.backward(torch.from_numpy(go))
    assert_same(ex.grad.data, tx.grad, rtol, atol)
    assert_same(eg.grad.data, tg.grad, 10 * rtol, 10 * atol)


def test_grid_sample_gradcheck_and_single_backward():
    rng = np.random.RandomState(3)
    x = Variable(ember.from_numpy(rng.standard_normal((1, 2, 3, 4))), requires_grad=True)
    # keep the points away from pixel centres, where the bilinear weights have kinks
    grid = Variable(ember.from_numpy(rng.uniform(-0.9, 0.9, (1, 2, 3, 2)) + 0.013), requires_grad=True)
    assert gradcheck(lambda a, b: F.grid_sample(a, b), (x, grid), eps=1e-6, atol=1e-5, rtol=1e-3)
    (gx,) = autograd_grad(F.grid_sample(x, grid).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked"):
        gx.sum().backward()
    # only the gradients asked for
    x2 = Variable(x.data, requires_grad=True)
    F.grid_sample(x2, Variable(grid.data)).sum().backward()
    assert x2.grad is not None


def test_spatial_transformer_identity_round_trip():
    x = Variable(ember.randn(2, 3, 5, 4).double())
    theta = Variable(ember.Tensor([[[1, 0, 0], [0, 1, 0]]] * 2).double())
    out = F.grid_sample(x, F.affine_grid(theta, x.size()))
    np.testing.assert_allclose(out.data.numpy(), x.data.numpy(), 1e-12, 1e-12)


def test_errors():
    x = Variable(ember.randn(1, 2, 3, 4))
    with pytest.raises(NotImplementedError, match="grid_sample: mode 'nearest' is not supported"):
        F.grid_sample(x, Variable(ember.zeros(1, 2, 2, 2)), mode="nearest")
    with pytest.raises(RuntimeError, match=r"expected grid of size \[1 x H x W x 2\]"):
        F.grid_sample(x, Variable(ember.zeros(1, 2, 2, 3)))
    with pytest.raises(RuntimeError, match=r"affine_grid: expected theta of size \[2 x 2 x 3\]"):
        F.affine_grid(Variable(ember.zeros(1, 2, 3)), (2, 1, 3, 3))
    with pytest.raises(TypeError, match="torch.DoubleTensor"):
        F.grid_sample(x, Variable(ember.zeros(1, 2, 2, 2).double()))


# ---------------------------------------------------------------------- CUDA, against the CPU

def _transform(x, theta, go, move):
    """A spatial transformer (affine_grid, then grid_sample) on move's device: output and the gradients of
    input and theta."""
    xv = Variable(move(ember.from_numpy(x.copy())), requires_grad=True)
    tv = Variable(move(ember.from_numpy(theta.copy())), requires_grad=True)
    y = F.grid_sample(xv, F.affine_grid(tv, (2, 3, 4, 6)))
    y.backward(Variable(move(ember.from_numpy(go.copy()))))
    return [t.data.cpu().numpy() for t in (y, xv.grad, tv.grad)]


def test_cuda_matches_cpu(device_mode):
    rng = np.random.RandomState(5)
    x, theta, go = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3, 4, 6))
    for a, b in zip(_transform(x, theta, go, lambda t: t.cuda()), _transform(x, theta, go, lambda t: t)):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_cuda_affine_grid_double_backward(device_mode):
    rng = np.random.RandomState(6)
    theta, go, r = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3, 4, 2)), rng.standard_normal((2, 2, 3))
    grads = []
    for move in (lambda t: t, lambda t: t.cuda()):
        tv = Variable(move(ember.from_numpy(theta.copy())), requires_grad=True)
        gv = Variable(move(ember.from_numpy(go.copy())), requires_grad=True)
        (g,) = autograd_grad(F.affine_grid(tv, (2, 1, 3, 4)), tv, gv, create_graph=True)
        (g * Variable(move(ember.from_numpy(r.copy())))).sum().backward()
        grads.append(gv.grad.data.cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-12)


def test_cuda_grid_sample_edges_match_cpu(device_mode):
    """Points on the border, just outside it, far outside, and NaN: the GPU kernel's neighbour rules are
    the CPU kernel's."""
    rng = np.random.RandomState(8)
    x, go = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 2, 6))
    edges = np.array([-1, 1, -1.2, 1.3, 7, np.nan])
    grid = np.stack(np.broadcast_arrays(edges[None, :], np.array([[-1.0], [1.1]])), axis=-1)
    grid = np.stack([grid, grid[:, ::-1, ::-1]])  # (2, 2, 6, 2)
    results = []
    for move in (lambda t: t, lambda t: t.cuda()):
        xv = Variable(move(ember.from_numpy(x.copy())), requires_grad=True)
        gv = Variable(move(ember.from_numpy(np.ascontiguousarray(grid))), requires_grad=True)
        y = F.grid_sample(xv, gv)
        y.backward(Variable(move(ember.from_numpy(go.copy()))))
        results.append([t.data.cpu().numpy() for t in (y, xv.grad, gv.grad)])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
