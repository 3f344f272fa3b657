"""ember.kernels embedding_backward / embedding_renorm_ against torch (F.embedding's weight gradient,
torch.embedding_renorm_) and NumPy formulas of THNN's LookupTable."""
import numpy as np
import pytest

import ember
from ember import kernels as K

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}
rng = np.random.RandomState(0)


def E(a):
    return ember.from_numpy(a)


def L(a):
    return ember.from_numpy(np.asarray(a, dtype=np.int64))


def _torch_grad(idx, go, num, padding_idx, scale):
    torch = require_torch()
    w = torch.zeros(num, go.shape[-1], dtype=torch.from_numpy(go).dtype, requires_grad=True)
    out = torch.nn.functional.embedding(torch.from_numpy(idx), w, padding_idx=padding_idx,
                                        scale_grad_by_freq=scale)
    (out * torch.from_numpy(np.array(go))).sum().backward()
    return w.grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ishape,num,D", [((8,), 10, 5), ((3, 4), 6, 7), ((2, 3, 2), 4, 3), ((4000,), 50, 16),
                                          ((64, 30), 1000, 12)])
@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("scale", [False, True])
def test_backward_matches_torch(dtype, ishape, num, D, padding_idx, scale):
    idx = rng.randint(0, num, ishape)
    idx.reshape(-1)[::3] = 2  # repeated rows, and the padding row when padding_idx == 2
    go = rng.randn(*(ishape + (D,))).astype(dtype)
    gw = K.embedding_backward(E(go), L(idx), num, padding_idx, scale)
    assert_same(gw, _torch_grad(idx, go, num, padding_idx, scale), **TOL[dtype])
    if padding_idx is not None:
        assert (gw._a[padding_idx] == 0).all()


def _numpy_grad(idx, go, num, padding_idx, scale):
    idx = idx.reshape(-1)
    go = go.reshape(idx.size, -1).astype(np.float64)
    counts = np.bincount(idx, minlength=num)
    gw = np.zeros((num, go.shape[1]))
    for i, k in enumerate(idx):
        if k != padding_idx:
            gw[k] += go[i] / (counts[k] if scale else 1)
    return gw


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_non_contiguous_grad_and_flat_shape(dtype):
    idx = rng.randint(0, 7, (3, 5))
    go = rng.randn(5, 3, 4).astype(dtype).transpose(1, 0, 2)  # (3, 5, 4), not contiguous
    gw = K.embedding_backward(E(go), L(idx), 7, None, True)
    np.testing.assert_allclose(gw._a, _numpy_grad(idx, go, 7, None, True), **TOL[dtype])
    flat = K.embedding_backward(E(np.ascontiguousarray(go).reshape(15, 4)), L(idx), 7)  # (numel, D) also accepted
    np.testing.assert_allclose(flat._a, _numpy_grad(idx, go, 7, None, False), **TOL[dtype])


def test_negative_padding_idx_matches_no_index():
    # THNN compares each index with the padding value: a negative one (0.2's "none") excludes nothing
    idx = np.array([0, 3, 3, 1])
    go = rng.randn(4, 2)
    gw = K.embedding_backward(E(go), L(idx), 4, -1, False)
    np.testing.assert_allclose(gw._a, _numpy_grad(idx, go, 4, None, False), rtol=1e-12)


def test_backward_same_result_on_one_and_two_threads():
    idx = L(rng.randint(0, 300, 5000))
    go = E(rng.randn(5000, 8).astype(np.float32))
    n = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        a = K.embedding_backward(go, idx, 300, 5, True)._a
        ember.set_num_threads(1)
        b = K.embedding_backward(go, idx, 300, 5, True)._a
    finally:
        ember.set_num_threads(n)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 2.0])
def test_renorm_matches_torch(dtype, norm_type, max_norm):
    torch = require_torch()
    w = (rng.randn(12, 6) * 1.5).astype(dtype)
    idx = np.array([[1, 4, 4], [7, 1, 11], [0, 0, 9]])
    ew = E(w.copy())
    out = K.embedding_renorm_(ew, L(idx), max_norm, norm_type)
    assert out is ew
    tw = torch.from_numpy(w.copy())
    torch.embedding_renorm_(tw, torch.from_numpy(idx.reshape(-1)), max_norm, norm_type)
    assert_same(ew, tw, **TOL[dtype])
    untouched = [r for r in range(12) if r not in idx]
    np.testing.assert_array_equal(ew._a[untouched], w[untouched])


def test_renorm_non_contiguous_weight_in_place():
    store = rng.randn(6, 10) * 3
    view = store.T  # (10, 6) weight whose rows are strided
    expected = view.copy()
    for r in (2, 5, 9):
        n = np.linalg.norm(expected[r])
        if n > 1.0:
            expected[r] *= 1.0 / (n + 1e-7)
    K.embedding_renorm_(E(view), L([9, 2, 5, 2]), 1.0)
    np.testing.assert_allclose(store.T, expected, rtol=1e-12)


def test_errors():
    go = E(rng.randn(3, 4).astype(np.float32))
    with pytest.raises(IndexError, match=r"embedding_backward\(\): indices need to be in the range 0 <= index < 5, "
                                         r"but got index 5"):
        K.embedding_backward(go, L([0, 5, 1]), 5)
    with pytest.raises(IndexError, match=r"but got index -1"):
        K.embedding_renorm_(E(np.ones((5, 4), np.float32)), L([0, -1]), 1.0)
    with pytest.raises(ValueError, match=r"embedding_backward\(\): grad_output of size \[3 x 4\] does not match "
                                         r"indices of size \[2\] \(expected \[2 x 4\]\)"):
        K.embedding_backward(go, L([0, 1]), 5)
    with pytest.raises(TypeError, match=r"expected indices to be a torch.LongTensor, got torch.FloatTensor"):
        K.embedding_backward(go, E(np.zeros(3, np.float32)), 5)
    with pytest.raises(ValueError, match=r"num_weights must be a positive int, got 0"):
        K.embedding_backward(go, L([0, 1, 2]), 0)
    with pytest.raises(ValueError, match=r"non-positive-norm not supported"):
        K.embedding_renorm_(E(np.ones((5, 4))), L([0]), 1.0, 0)
    with pytest.raises(ValueError, match=r"expected a 2D weight"):
        K.embedding_renorm_(E(np.ones(5)), L([0]), 1.0)


# ---------------------------------------------------------------------- CUDA, against the CPU kernels

def G(a):
    return ember.from_numpy(np.ascontiguousarray(a)).cuda()


@pytest.mark.parametrize("padding_idx,scale", [(None, False), (2, False), (None, True), (0, True)])
def test_cuda_backward_matches_cpu(device_mode, padding_idx, scale):
    idx = rng.randint(0, 6, (4, 5))
    idx[0, :3] = 2  # repeats: the scatter-add must count each
    go = rng.randn(4, 5, 3)
    want = K.embedding_backward(E(go), L(idx), 7, padding_idx, scale)
    out = K.embedding_backward(G(go), L(idx).cuda(), 7, padding_idx, scale)
    assert type(out) is ember.cuda.DoubleTensor
    np.testing.assert_allclose(out.cpu().numpy(), want.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("norm_type", [1, 2, 3.5])
def test_cuda_renorm_matches_cpu(device_mode, norm_type):
    w = rng.randn(8, 5) * 2
    idx = L([1, 3, 3, 0, 6, 1])
    want = K.embedding_renorm_(E(w.copy()), idx, 1.5, norm_type).numpy()
    weight = G(w)
    assert K.embedding_renorm_(weight, idx.cuda(), 1.5, norm_type) is weight
    np.testing.assert_allclose(weight.cpu().numpy(), want, rtol=1e-12, atol=1e-13)


def test_cuda_half(device_mode):
    idx = L(rng.randint(0, 5, 12))
    go = rng.randn(12, 4).astype(np.float16).astype(np.float32)
    out = K.embedding_backward(G(go).half(), idx.cuda(), 5, 1, True)
    assert type(out) is ember.cuda.HalfTensor
    np.testing.assert_allclose(out.float().cpu().numpy(), K.embedding_backward(E(go), idx, 5, 1, True).numpy(),
                               rtol=1e-2, atol=1e-2)
    w = (rng.randn(5, 4) * 2).astype(np.float16).astype(np.float32)
    weight = G(w).half()
    K.embedding_renorm_(weight, idx.cuda(), 1.0)
    np.testing.assert_allclose(weight.float().cpu().numpy(), K.embedding_renorm_(E(w), idx, 1.0).numpy(),
                               rtol=1e-2, atol=1e-3)


def test_cuda_errors(device_mode):
    go = G(rng.randn(3, 4).astype(np.float32))
    with pytest.raises(IndexError, match=r"embedding_backward\(\): indices need to be in the range 0 <= index < 5, "
                                         r"but got index 7"):
        K.embedding_backward(go, L([0, 7, -1]).cuda(), 5)
    with pytest.raises(IndexError, match=r"embedding_renorm_\(\): indices need to be in the range 0 <= index < 5, "
                                         r"but got index -2"):
        K.embedding_renorm_(G(np.ones((5, 4), np.float32)), L([0, -2, 9]).cuda(), 1.0)
    with pytest.raises(TypeError, match=r"embedding_backward\(\): expected indices on GPU 0 \(where the input is\), "
                                        r"got torch.LongTensor"):
        K.embedding_backward(go, L([0, 1, 2]), 5)
    with pytest.raises(TypeError, match=r"embedding_renorm_\(\): expected indices on the CPU \(where the input is\), "
                                        r"got torch.cuda.LongTensor on GPU 0"):
        K.embedding_renorm_(E(np.ones((5, 4))), L([0]).cuda(), 1.0)
