"""ember.kernels grid_sample / affine_grid (forward and backward) against torch.nn.functional.grid_sample and
affine_grid (align_corners=True: 0.2's convention) and their autograd gradients, plus NumPy identities."""
import numpy as np
import pytest

import ember
from ember.kernels import spatial as K

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-11, atol=1e-12)}
rng = np.random.RandomState(0)


def make(arr, layout="contig"):
    if layout == "contig":
        return ember.from_numpy(np.ascontiguousarray(arr))
    t = ember.from_numpy(np.ascontiguousarray(np.swapaxes(arr, 1, 2)))  # memory with dims 1 and 2 swapped
    return t.transpose(1, 2)


GRID_CASES = [((2, 3, 5, 6), (4, 7), 1.0), ((1, 1, 4, 4), (4, 4), 1.5), ((2, 2, 1, 5), (3, 2), 1.2),
              ((1, 4, 7, 3), (1, 9), 0.9), ((3, 8, 16, 16), (20, 18), 1.1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,out_hw,spread", GRID_CASES)
def test_grid_sample_matches_torch(shape, out_hw, spread, dtype):
    torch = require_torch()
    x = rng.randn(*shape).astype(dtype)
    # points inside and (spread > 1) outside [-1, 1], plus exact pixel centres and corners
    grid = rng.uniform(-spread, spread, (shape[0],) + out_hw + (2,)).astype(dtype)
    grid[:, 0, 0] = (-1, -1)
    grid[:, -1, -1] = (1, 1)
    layout = "t" if shape[0] > 1 else "contig"
    out = K.grid_sample_forward(make(x, layout), make(grid, layout))
    tx = torch.from_numpy(x).requires_grad_()
    tg = torch.from_numpy(grid).requires_grad_()
    tout = torch.nn.functional.grid_sample(tx, tg, mode="bilinear", padding_mode="zeros", align_corners=True)
    assert_same(out, tout.detach(), **TOL[dtype])
    go = rng.randn(*tout.shape).astype(dtype)
    tout.backward(torch.from_numpy(go))
    gx, ggrid = K.grid_sample_backward(make(go, layout), make(x), make(grid))
    assert_same(gx, tx.grad, **TOL[dtype])
    assert_same(ggrid, tg.grad, **TOL[dtype])


def test_grid_sample_identity_and_outside():
    x = rng.randn(2, 3, 4, 5)
    ys, xs = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 5), indexing="ij")
    grid = np.broadcast_to(np.stack([xs, ys], -1), (2, 4, 5, 2))
    np.testing.assert_allclose(K.grid_sample_forward(make(x), make(grid)).numpy(), x, rtol=1e-12, atol=1e-12)
    far = np.full((2, 2, 2, 2), 5.0)
    far[0, 0, 0] = np.nan
    assert not K.grid_sample_forward(make(x), make(far)).numpy().any()
    gx, gg = K.grid_sample_backward(make(np.ones((2, 3, 2, 2))), make(x), make(far))
    assert not gx.numpy().any() and not gg.numpy().any()


# no unit H or W here: since 1.3 PyTorch puts a single point at 0, 0.2 put it at -1 (test_affine_grid_formula)
AFFINE_CASES = [(2, 3, 5, 4), (1, 1, 2, 6), (3, 2, 7, 3), (2, 1, 9, 11)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", AFFINE_CASES)
def test_affine_grid_matches_torch(size, dtype):
    torch = require_torch()
    theta = rng.randn(size[0], 2, 3).astype(dtype)
    grid = K.affine_grid_forward(make(theta, "t"), size)
    tt = torch.from_numpy(theta).requires_grad_()
    tgrid = torch.nn.functional.affine_grid(tt, list(size), align_corners=True)
    assert_same(grid, tgrid.detach(), **TOL[dtype])
    go = rng.randn(*tgrid.shape).astype(dtype)
    tgrid.backward(torch.from_numpy(go))
    assert_same(K.affine_grid_backward(make(go, "t"), ember.Size(size)), tt.grad, **TOL[dtype])


@pytest.mark.parametrize("h,w", [(3, 4), (1, 5), (4, 1), (1, 1)])
def test_affine_grid_formula(h, w):
    # grid[n, i, j] = theta[n] @ (x_j, y_i, 1) over linspace(-1, 1); a single point sits at -1 (0.2)
    theta = rng.randn(2, 2, 3)
    grid = K.affine_grid_forward(make(theta), (2, 1, h, w)).numpy()
    x = (np.linspace(-1, 1, w) if w > 1 else np.array([-1.0]))[None, :]
    y = (np.linspace(-1, 1, h) if h > 1 else np.array([-1.0]))[:, None]
    for n in range(2):
        for r in range(2):
            exp = theta[n, r, 0] * x + theta[n, r, 1] * y + theta[n, r, 2]
            np.testing.assert_allclose(grid[n, :, :, r], exp, rtol=1e-12, atol=1e-12)
    # the backward is the adjoint: <grid(theta), g> == <theta, grid_backward(g)>
    g = rng.randn(2, h, w, 2)
    gt = K.affine_grid_backward(make(g), (2, 1, h, w)).numpy()
    np.testing.assert_allclose((grid * g).sum(), (theta * gt).sum(), rtol=1e-12)


def test_errors():
    x = ember.FloatTensor(2, 3, 4, 5).zero_()
    with pytest.raises(RuntimeError, match=r"grid_sample: expected grid of size \[2 x H x W x 2\] for input "
                                           r"\[2 x 3 x 4 x 5\], got \[2 x 3 x 3 x 3\]"):
        K.grid_sample_forward(x, ember.FloatTensor(2, 3, 3, 3).zero_())
    with pytest.raises(RuntimeError, match="expected 4D input"):
        K.grid_sample_forward(ember.FloatTensor(3, 4, 5).zero_(), ember.FloatTensor(3, 2, 2, 2).zero_())
    with pytest.raises(TypeError, match="expected grid to be a torch.FloatTensor \\(the type of input\\), got "
                                        "torch.DoubleTensor"):
        K.grid_sample_forward(x, ember.DoubleTensor(2, 3, 3, 2).zero_())
    with pytest.raises(RuntimeError, match=r"grid_sample_backward: expected grad_output of size \[2 x 3 x 3 x 3\]"):
        K.grid_sample_backward(ember.FloatTensor(2, 3, 4, 5).zero_(), x, ember.FloatTensor(2, 3, 3, 2).zero_())
    with pytest.raises(RuntimeError, match=r"affine_grid: expected theta of size \[2 x 2 x 3\]"):
        K.affine_grid_forward(ember.FloatTensor(3, 2, 3).zero_(), (2, 1, 4, 4))
    with pytest.raises(RuntimeError, match=r"expected size \(N, C, H, W\) of 4 positive ints"):
        K.affine_grid_forward(ember.FloatTensor(2, 2, 3).zero_(), (2, 4, 4))
    with pytest.raises(RuntimeError, match=r"affine_grid_backward: expected grad_grid of size \[2 x 4 x 4 x 2\]"):
        K.affine_grid_backward(ember.FloatTensor(2, 4, 4, 3).zero_(), (2, 1, 4, 4))
    with pytest.raises(TypeError, match="expected theta to be a torch.FloatTensor or torch.DoubleTensor"):
        K.affine_grid_forward(ember.LongTensor(2, 2, 3).zero_(), (2, 1, 4, 4))


# ---------------------------------------------------------------------- CUDA, against the CPU kernels

def on_gpu(arr):
    return ember.from_numpy(np.ascontiguousarray(arr)).cuda()


def test_cuda_grid_sample_matches_cpu(device_mode):
    x = rng.randn(2, 3, 5, 6)
    grid = rng.uniform(-1.3, 1.3, (2, 4, 7, 2))
    grid[0, 0, :3] = [[np.nan, 0.5], [1e30, 0.0], [-1.0, 1.0]]  # no neighbour inside; a corner pixel's centre
    go = rng.randn(2, 3, 4, 7)
    want = K.grid_sample_forward(make(x), make(grid))
    out = K.grid_sample_forward(on_gpu(np.swapaxes(x, 1, 2)).transpose(1, 2), on_gpu(grid))
    assert type(out) is ember.cuda.DoubleTensor
    np.testing.assert_allclose(out.cpu().numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    gx, ggrid = K.grid_sample_backward(on_gpu(go), on_gpu(x), on_gpu(grid))
    want_gx, want_ggrid = K.grid_sample_backward(make(go), make(x), make(grid))
    np.testing.assert_allclose(gx.cpu().numpy(), want_gx.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ggrid.cpu().numpy(), want_ggrid.numpy(), rtol=1e-12, atol=1e-12)


def test_cuda_affine_grid_matches_cpu(device_mode):
    theta, g = rng.randn(3, 2, 3), rng.randn(3, 4, 5, 2)
    out = K.affine_grid_forward(on_gpu(theta), (3, 2, 4, 5))
    assert type(out) is ember.cuda.DoubleTensor
    np.testing.assert_allclose(out.cpu().numpy(), K.affine_grid_forward(make(theta), (3, 2, 4, 5)).numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(K.affine_grid_backward(on_gpu(g), (3, 2, 4, 5)).cpu().numpy(),
                               K.affine_grid_backward(make(g), (3, 2, 4, 5)).numpy(), rtol=1e-12, atol=1e-12)


def test_cuda_half(device_mode):
    x = rng.randn(2, 3, 5, 6).astype(np.float16).astype(np.float32)
    theta = rng.randn(2, 2, 3).astype(np.float16).astype(np.float32) / 2
    grid = K.affine_grid_forward(on_gpu(theta).half(), (2, 3, 4, 7))
    assert type(grid) is ember.cuda.HalfTensor
    want_grid = K.affine_grid_forward(make(theta), (2, 3, 4, 7))
    np.testing.assert_allclose(grid.float().cpu().numpy(), want_grid.numpy(), rtol=1e-2, atol=1e-3)
    grid = grid.float().cpu().numpy()
    out = K.grid_sample_forward(on_gpu(x).half(), on_gpu(grid).half())
    assert type(out) is ember.cuda.HalfTensor
    np.testing.assert_allclose(out.float().cpu().numpy(), K.grid_sample_forward(make(x), make(grid)).numpy(),
                               rtol=1e-2, atol=1e-2)


def test_cuda_errors(device_mode):
    x = on_gpu(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(TypeError, match="grid_sample: expected grid to be a torch.cuda.FloatTensor \\(the type of "
                                        "input\\), got torch.FloatTensor"):
        K.grid_sample_forward(x, ember.FloatTensor(2, 3, 3, 2).zero_())
    with pytest.raises(TypeError, match="expected grad_output to be a torch.cuda.FloatTensor"):
        K.grid_sample_backward(ember.FloatTensor(2, 3, 3, 3).zero_(), x, on_gpu(np.zeros((2, 3, 3, 2), np.float32)))


def test_cuda_grid_on_another_gpu(fake_cuda):  # the fake has two devices
    x = on_gpu(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(TypeError, match=r"grid_sample\(\): expected grid on GPU 0 \(where the input is\), got "
                                        r"torch.cuda.FloatTensor on GPU 1"):
        K.grid_sample_forward(x, ember.FloatTensor(2, 3, 3, 2).zero_().cuda(1))
