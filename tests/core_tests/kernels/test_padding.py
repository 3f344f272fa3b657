"""ember.kernels reflection / replication padding (forward and backward) against torch.nn.functional.pad
(modes 'reflect' / 'replicate') and its autograd gradients, NumPy's np.pad, and THNN's argument checks."""
import numpy as np
import pytest

import ember
from ember.kernels import padding as K

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-13)}
rng = np.random.RandomState(0)


def make(arr, layout="contig"):
    if layout == "contig":
        return ember.from_numpy(np.ascontiguousarray(arr))
    t = ember.from_numpy(np.ascontiguousarray(np.swapaxes(arr, -1, -2)))  # transposed memory
    return t.transpose(arr.ndim - 1, arr.ndim - 2)


def torch_pad(x, go, pad, mode):
    torch = require_torch()
    tx = torch.from_numpy(np.array(x)).requires_grad_()
    out = torch.nn.functional.pad(tx, pad, mode=mode)
    out.backward(torch.from_numpy(np.array(go)))
    return out.detach(), tx.grad


CASES = [
    ("reflection", 1, (2, 3, 7), (2, 3)), ("reflection", 1, (3, 5), (4, 0)), ("reflection", 1, (2, 2, 6), (-2, 3)),
    ("reflection", 2, (2, 3, 5, 6), (1, 2, 3, 4)), ("reflection", 2, (3, 4, 4), (3, 3, 3, 3)),
    ("reflection", 2, (1, 2, 5, 6), (-1, 2, 0, -2)), ("reflection", 2, (2, 1, 7, 5), (2, -1, -3, 4)),
    ("reflection", 2, (4, 16, 32, 32), (2, 2, 2, 2)),
    ("replication", 1, (2, 3, 7), (2, 3)), ("replication", 1, (3, 5), (9, 1)), ("replication", 1, (2, 2, 6), (1, -3)),
    ("replication", 2, (2, 3, 5, 6), (1, 2, 3, 4)), ("replication", 2, (3, 2, 3), (7, 0, 5, 6)),
    ("replication", 2, (1, 2, 5, 6), (-1, 2, 0, -2)), ("replication", 2, (4, 16, 32, 32), (3, 1, 0, 2)),
    ("replication", 3, (2, 2, 3, 4, 5), (1, 2, 0, 1, 2, 1)), ("replication", 3, (2, 4, 3, 5), (3, 0, 2, 2, 1, 4)),
    ("replication", 3, (1, 3, 4, 4, 4), (-1, 1, 2, -2, 0, -1)),
]
MODES = {"reflection": "reflect", "replication": "replicate"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind,nd,shape,pad", CASES)
def test_padding_matches_torch(kind, nd, shape, pad, dtype):
    x = rng.randn(*shape).astype(dtype)
    fwd = getattr(K, "{}_pad{}d_forward".format(kind, nd))
    bwd = getattr(K, "{}_pad{}d_backward".format(kind, nd))
    out = fwd(make(x, "t" if len(shape) % 2 else "contig"), pad)
    go = rng.randn(*out.size()).astype(dtype)
    tout, tgrad = torch_pad(x, go, pad, MODES[kind])
    assert_same(out, tout, **TOL[dtype])
    assert_same(bwd(make(go, "t"), x.shape, pad), tgrad, **TOL[dtype])


def test_numpy_pad_formula():
    x = rng.randn(2, 3, 4, 5)
    out = K.reflection_pad2d_forward(make(x), (1, 2, 3, 0))
    np.testing.assert_array_equal(out.numpy(), np.pad(x, ((0, 0), (0, 0), (3, 0), (1, 2)), mode="reflect"))
    out = K.replication_pad2d_forward(make(x), 2)
    np.testing.assert_array_equal(out.numpy(), np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge"))
    x3 = rng.randn(2, 3, 4, 5, 6)
    out = K.replication_pad3d_forward(make(x3), (1, 0, 2, 1, 0, 3))
    np.testing.assert_array_equal(out.numpy(), np.pad(x3, ((0, 0), (0, 0), (0, 3), (2, 1), (1, 0)), mode="edge"))
    # the backward is the adjoint: <pad(x), g> == <x, pad_backward(g)>
    g = rng.randn(*out.size())
    gx = K.replication_pad3d_backward(make(g), x3.shape, (1, 0, 2, 1, 0, 3))
    np.testing.assert_allclose((out.numpy() * g).sum(), (x3 * gx.numpy()).sum(), rtol=1e-12)


def test_zero_padding_copies():
    x = make(rng.randn(1, 2, 3, 4))
    out = K.reflection_pad2d_forward(x, 0)
    out.fill_(0)
    assert np.abs(x.numpy()).sum() > 0


def test_errors():
    x = ember.FloatTensor(1, 2, 3, 4).zero_()
    with pytest.raises(RuntimeError, match=r"reflection_pad2d: Padding size should be less than the corresponding "
                                           r"input dimension, but got: padding \(4, 0\) at dimension W"):
        K.reflection_pad2d_forward(x, (4, 0, 1, 1))
    with pytest.raises(RuntimeError, match=r"padding \(0, 3\) at dimension H"):
        K.reflection_pad2d_forward(x, (1, 1, 0, 3))
    with pytest.raises(RuntimeError, match=r"replication_pad2d: input \(H: 3, W: 4\) is too small. Calculated "
                                           r"output H: 3 W: 0"):
        K.replication_pad2d_forward(x, (-2, -2, 0, 0))
    with pytest.raises(RuntimeError, match=r"replication_pad3d: 4D or 5D \(batch mode\) input tensor expected but "
                                           r"got: \[1 x 2 x 3\]"):
        K.replication_pad3d_forward(ember.FloatTensor(1, 2, 3).zero_(), 1)
    with pytest.raises(TypeError, match="expected padding to be an int or a tuple of 4 ints"):
        K.replication_pad2d_forward(x, (1, 2))
    with pytest.raises(TypeError, match="got torch.ByteTensor"):
        K.reflection_pad1d_forward(ember.ByteTensor(2, 3).zero_(), 1)
    with pytest.raises(RuntimeError, match=r"reflection_pad1d_backward: expected grad_output of size \[2 x 5\], "
                                           r"got \[2 x 4\]"):
        K.reflection_pad1d_backward(ember.FloatTensor(2, 4).zero_(), (2, 3), 1)
    with pytest.raises(RuntimeError, match="expected input_size of 2 or 3 positive entries"):
        K.replication_pad1d_backward(ember.FloatTensor(2, 4).zero_(), (2, 0, 3), 1)


# ---------------------------------------------------------------------- CUDA, against the CPU kernels

def on_gpu(arr, layout="contig"):
    """``arr`` as a CUDA tensor; the "t" layout is a transposed (strided) view on the device."""
    if layout == "contig":
        return ember.from_numpy(np.ascontiguousarray(arr)).cuda()
    return on_gpu(np.swapaxes(arr, -1, -2)).transpose(arr.ndim - 1, arr.ndim - 2)


@pytest.mark.parametrize("kind,nd,shape,pad", [c for c in CASES if np.prod(c[2]) < 1000])
def test_cuda_matches_cpu(device_mode, kind, nd, shape, pad):
    forward = getattr(K, "{}_pad{}d_forward".format(kind, nd))
    backward = getattr(K, "{}_pad{}d_backward".format(kind, nd))
    x = rng.randn(*shape)
    want = forward(make(x), pad)
    out = forward(on_gpu(x, "t"), pad)
    assert type(out) is ember.cuda.DoubleTensor
    np.testing.assert_array_equal(out.cpu().numpy(), want.numpy())
    go = rng.randn(*want.size())
    gx = backward(on_gpu(go, "t"), shape, pad)
    np.testing.assert_allclose(gx.cpu().numpy(), backward(make(go), shape, pad).numpy(), rtol=1e-13, atol=1e-13)


def test_cuda_half(device_mode):
    x = rng.randn(2, 3, 4, 5).astype(np.float16)
    out = K.reflection_pad2d_forward(on_gpu(x.astype(np.float32)).half(), (3, 1, 2, 2))
    assert type(out) is ember.cuda.HalfTensor
    want = K.reflection_pad2d_forward(make(x.astype(np.float32)), (3, 1, 2, 2))
    np.testing.assert_array_equal(out.float().cpu().numpy(), want.numpy())  # a gather: exact
    go = rng.randn(*want.size()).astype(np.float16).astype(np.float32)
    gx = K.replication_pad2d_backward(on_gpu(go).half(), x.shape, (3, 1, 2, 2))
    assert type(gx) is ember.cuda.HalfTensor
    np.testing.assert_allclose(gx.float().cpu().numpy(), K.replication_pad2d_backward(make(go), x.shape, (3, 1, 2, 2))
                               .numpy(), rtol=1e-2, atol=1e-2)
