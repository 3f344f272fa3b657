"""ember.kernels upsampling (nearest, bilinear, trilinear; forward and backward) against torch.nn.functional
.interpolate (align_corners=True for the linear modes, per ORACLE.md) and its autograd gradients, NumPy
formulas, and 0.2's argument rules."""
import numpy as np
import pytest

import ember
from ember.kernels import upsampling as K

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
rng = np.random.RandomState(0)


def make(arr, layout="contig"):
    if layout == "contig":
        return ember.from_numpy(np.ascontiguousarray(arr))
    t = ember.from_numpy(np.ascontiguousarray(np.swapaxes(arr, -1, -2)))  # transposed memory
    return t.transpose(arr.ndim - 1, arr.ndim - 2)


def torch_interp(x, go, **kw):
    torch = require_torch()
    tx = torch.from_numpy(np.array(x)).requires_grad_()
    out = torch.nn.functional.interpolate(tx, **kw)
    out.backward(torch.from_numpy(np.array(go)))
    return out.detach(), tx.grad


NEAREST = [((2, 3, 5), dict(scale_factor=3)), ((1, 2, 4, 5), dict(scale_factor=2)),
           ((2, 2, 3, 4), dict(size=(9, 12))), ((1, 2, 2, 3, 4), dict(scale_factor=2)),
           ((2, 1, 3, 2, 2), dict(size=(6, 4, 4))), ((2, 3, 4, 5), dict(scale_factor=1)),
           ((4, 16, 32, 32), dict(scale_factor=2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", NEAREST)
def test_nearest_matches_torch(shape, kw, dtype):
    x = rng.randn(*shape).astype(dtype)
    out = K.upsample_nearest_forward(make(x, "t" if len(shape) == 4 else "contig"), **kw)
    go = rng.randn(*out.size()).astype(dtype)
    tkw = dict(kw, scale_factor=float(kw["scale_factor"])) if "scale_factor" in kw else kw
    tout, tgrad = torch_interp(x, go, mode="nearest", **tkw)
    assert_same(out, tout, **TOL[dtype])
    assert_same(K.upsample_nearest_backward(make(go, "t"), x.shape), tgrad, **TOL[dtype])


def test_nearest_numpy_formula():
    x = rng.randn(2, 3, 4, 5)
    out = K.upsample_nearest_forward(make(x), scale_factor=3)
    np.testing.assert_array_equal(out.numpy(), x.repeat(3, axis=2).repeat(3, axis=3))
    g = rng.randn(2, 3, 12, 15)
    gx = K.upsample_nearest_backward(make(g), (2, 3, 4, 5))
    np.testing.assert_allclose(gx.numpy(), g.reshape(2, 3, 4, 3, 5, 3).sum(axis=(3, 5)), rtol=1e-12)


LINEAR = [((2, 3, 5, 7), dict(size=(9, 13))), ((1, 2, 4, 4), dict(scale_factor=3)),
          ((2, 2, 6, 5), dict(size=(3, 4))),            # downsampling
          ((1, 1, 1, 5), dict(size=(4, 5))),            # a single input row; one axis unchanged
          ((2, 2, 5, 6), dict(size=(1, 1))),            # out == 1: reads position 0
          ((3, 4, 5), dict(scale_factor=(2, 3))),       # 3-D: treated below as a batch of one
          ((4, 16, 32, 32), dict(scale_factor=2))]      # threaded, blocked columns


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", LINEAR)
def test_bilinear_matches_torch(shape, kw, dtype):
    if len(shape) == 3:
        shape = (1,) + shape
    x = rng.randn(*shape).astype(dtype)
    out = K.upsample_bilinear2d_forward(make(x, "t" if shape[0] == 2 else "contig"), **kw)
    go = rng.randn(*out.size()).astype(dtype)
    tkw = dict(size=tuple(out.size()[2:]))
    tout, tgrad = torch_interp(x, go, mode="bilinear", align_corners=True, **tkw)
    assert_same(out, tout, **TOL[dtype])
    assert_same(K.upsample_bilinear2d_backward(make(go), x.shape), tgrad, **TOL[dtype])


TRILINEAR = [((2, 2, 3, 4, 5), dict(size=(5, 7, 4))), ((1, 3, 2, 3, 2), dict(scale_factor=2)),
             ((1, 2, 1, 4, 6), dict(size=(3, 4, 2))), ((2, 8, 8, 8, 8), dict(scale_factor=(1, 2, 3)))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", TRILINEAR)
def test_trilinear_matches_torch(shape, kw, dtype):
    x = rng.randn(*shape).astype(dtype)
    out = K.upsample_trilinear3d_forward(make(x, "t"), **kw)
    go = rng.randn(*out.size()).astype(dtype)
    tout, tgrad = torch_interp(x, go, mode="trilinear", align_corners=True, size=tuple(out.size()[2:]))
    assert_same(out, tout, **TOL[dtype])
    assert_same(K.upsample_trilinear3d_backward(make(go, "t"), x.shape), tgrad, **TOL[dtype])


def test_bilinear_align_corners_formula():
    # corners are kept; output j reads input j * (in - 1) / (out - 1), linear in between
    x = rng.randn(1, 1, 3, 4)
    out = K.upsample_bilinear2d_forward(make(x), size=(5, 7)).numpy()[0, 0]
    np.testing.assert_allclose(out[[0, 0, -1, -1], [0, -1, 0, -1]], x[0, 0][[0, 0, -1, -1], [0, -1, 0, -1]])
    ys, xs = np.arange(5) * 2 / 4, np.arange(7) * 3 / 6
    rows = np.array([np.interp(xs, np.arange(4), r) for r in x[0, 0]])
    exp = np.array([np.interp(ys, np.arange(3), c) for c in rows.T]).T
    np.testing.assert_allclose(out, exp, rtol=1e-12)


def test_results_are_fresh_tensors():
    x = make(rng.randn(1, 2, 3, 4))
    for out in (K.upsample_nearest_forward(x, scale_factor=1), K.upsample_bilinear2d_forward(x, size=(3, 4))):
        out.fill_(0)
    assert np.abs(x.numpy()).sum() > 0


def test_argument_rules():
    x = ember.FloatTensor(1, 2, 3, 4).zero_()
    with pytest.raises(ValueError, match="scale_factor must be a single Integer value for nearest"):
        K.upsample_nearest_forward(x, scale_factor=1.5)
    with pytest.raises(RuntimeError, match=r"output size specified in UpsamplingNearest \(7x8\) has to be divisible "
                                           r"by the input size, but got: 3x4"):
        K.upsample_nearest_forward(x, size=(7, 8))
    with pytest.raises(RuntimeError, match="input aspect ratio doesn't match the output ratio"):
        K.upsample_nearest_forward(x, size=(6, 12))
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        K.upsample_bilinear2d_forward(x)
    with pytest.raises(ValueError, match="scale_factor must be a non-negative integer, or a tuple"):
        K.upsample_bilinear2d_forward(x, scale_factor=1.5)
    with pytest.raises(RuntimeError, match=r"upsample_bilinear2d: expected a 4D input tensor, got one of size "
                                           r"\[2 x 3 x 4\]"):
        K.upsample_bilinear2d_forward(ember.FloatTensor(2, 3, 4).zero_(), size=4)
    with pytest.raises(RuntimeError, match="upsample_trilinear3d: expected a 5D input"):
        K.upsample_trilinear3d_forward(x, size=4)
    with pytest.raises(RuntimeError, match="upsample_nearest: expected a 3D or 4D or 5D input"):
        K.upsample_nearest_forward(ember.FloatTensor(2, 3).zero_(), scale_factor=2)
    with pytest.raises(TypeError, match="expected input to be a torch.FloatTensor or torch.DoubleTensor, got "
                                        "torch.IntTensor"):
        K.upsample_nearest_forward(ember.IntTensor(1, 2, 3).zero_(), scale_factor=2)
    with pytest.raises(TypeError, match="expected size to be an int or a tuple of 2 ints"):
        K.upsample_bilinear2d_forward(x, size=(1, 2, 3))


def test_backward_argument_errors():
    g = ember.DoubleTensor(1, 2, 6, 8).zero_()
    with pytest.raises(RuntimeError, match=r"upsample_nearest_backward: grad_output \[1 x 2 x 6 x 8\] is not the "
                                           r"input size \[1 x 2 x 3 x 3\] times one integer scale"):
        K.upsample_nearest_backward(g, (1, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"expected grad_output of size \[1 x 3 x \.\.\.\] \(4D\)"):
        K.upsample_bilinear2d_backward(g, (1, 3, 3, 4))
    with pytest.raises(RuntimeError, match="expected input_size of 5 positive entries"):
        K.upsample_trilinear3d_backward(g, (1, 2, 3, 4))
    with pytest.raises(TypeError, match="grad_output to be a torch.FloatTensor or torch.DoubleTensor"):
        K.upsample_bilinear2d_backward(ember.LongTensor(1, 2, 6, 8).zero_(), (1, 2, 3, 4))


# ---------------------------------------------------------------------- CUDA, against the CPU kernels

def on_gpu(arr, layout="contig"):
    """``arr`` as a CUDA tensor; the "t" layout is a transposed (strided) view on the device."""
    if layout == "contig":
        return ember.from_numpy(np.ascontiguousarray(arr)).cuda()
    return on_gpu(np.swapaxes(arr, -1, -2)).transpose(arr.ndim - 1, arr.ndim - 2)


KERNELS = {"nearest": (K.upsample_nearest_forward, K.upsample_nearest_backward),
           "bilinear": (K.upsample_bilinear2d_forward, K.upsample_bilinear2d_backward),
           "trilinear": (K.upsample_trilinear3d_forward, K.upsample_trilinear3d_backward)}
CUDA_CASES = [("nearest", (2, 3, 5), dict(scale_factor=3)), ("nearest", (1, 2, 3, 4), dict(size=(6, 8))),
              ("nearest", (2, 1, 2, 3, 2), dict(scale_factor=2)), ("bilinear", (2, 3, 5, 7), dict(size=(9, 4))),
              ("bilinear", (1, 2, 1, 3), dict(scale_factor=(2, 3))),
              ("trilinear", (1, 2, 3, 4, 5), dict(size=(5, 3, 9)))]


@pytest.mark.parametrize("mode,shape,kw", CUDA_CASES)
def test_cuda_matches_cpu(device_mode, mode, shape, kw):
    forward, backward = KERNELS[mode]
    x = rng.randn(*shape)
    want = forward(make(x), **kw)
    out = forward(on_gpu(x, "t"), **kw)
    assert type(out) is ember.cuda.DoubleTensor
    np.testing.assert_allclose(out.cpu().numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
    go = rng.randn(*want.size())
    gx = backward(on_gpu(go, "t"), shape)
    assert type(gx) is ember.cuda.DoubleTensor
    np.testing.assert_allclose(gx.cpu().numpy(), backward(make(go), shape).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode,kw", [("nearest", dict(scale_factor=2)), ("bilinear", dict(size=(7, 9)))])
def test_cuda_half(device_mode, mode, kw):
    forward, backward = KERNELS[mode]
    x = rng.randn(2, 3, 4, 5).astype(np.float16).astype(np.float32)
    out = forward(on_gpu(x).half(), **kw)
    assert type(out) is ember.cuda.HalfTensor
    want = forward(make(x), **kw)
    np.testing.assert_allclose(out.float().cpu().numpy(), want.numpy(), rtol=1e-2, atol=1e-3)
    go = rng.randn(*want.size()).astype(np.float16).astype(np.float32)
    gx = backward(on_gpu(go).half(), x.shape)
    assert type(gx) is ember.cuda.HalfTensor
    np.testing.assert_allclose(gx.float().cpu().numpy(), backward(make(go), x.shape).numpy(), rtol=1e-2, atol=1e-2)
