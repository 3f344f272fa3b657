"""ember.kernels pooling / unpooling (forward and backward) against torch.nn.functional (outputs, indices and
autograd gradients) and NumPy formulas; argument and shape errors."""
import numpy as np
import pytest

import ember
from ember.kernels import pooling as K

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
rng = np.random.RandomState(0)


def make(arr, layout="contig"):
    """An ember tensor with ``arr``'s values: contiguous, or viewing memory with a transposed layout
    ("t") or every other element of a wider array ("step")."""
    if layout == "contig":
        return ember.from_numpy(np.ascontiguousarray(arr))
    if layout == "t":
        t = ember.from_numpy(np.ascontiguousarray(np.swapaxes(arr, -1, -2)))
        return t.transpose(arr.ndim - 1, arr.ndim - 2)
    big = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), arr.dtype)
    big[..., ::2] = arr
    return ember.from_numpy(big)[..., ::2]


def torch_pool(fn, x, go, **kw):
    """torch's output (and indices, when the function returns them) and its autograd input gradient."""
    torch = require_torch()
    tx = torch.from_numpy(np.array(x)).requires_grad_()
    res = fn(tx, **kw)
    out, ind = (res if isinstance(res, tuple) else (res, None))
    out.backward(torch.from_numpy(np.array(go)))
    return out.detach(), ind, tx.grad


def values(shape, dtype, ties=False):
    if ties:  # few distinct values: windows hold equal maxima, so the tie rule shows in the indices
        return rng.randint(0, 3, size=shape).astype(dtype)
    return rng.randn(*shape).astype(dtype)


# ------------------------------------------------------------------------------------------- max pooling
MAX_CASES = {
    1: [((2, 3, 11), dict(kernel_size=3)),
        ((1, 2, 10), dict(kernel_size=2, stride=3, padding=1, ceil_mode=True)),
        ((3, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2)),
        ((2, 2, 7), dict(kernel_size=4, stride=1, dilation=2, ceil_mode=True))],
    2: [((2, 3, 8, 8), dict(kernel_size=2)),
        ((1, 2, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 2, 9, 11), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
        ((3, 10, 9), dict(kernel_size=3, stride=1, dilation=(2, 3))),
        ((1, 1, 7, 7), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
        ((2, 3, 5, 6), dict(kernel_size=1, stride=2, ceil_mode=True)),
        ((4, 16, 32, 32), dict(kernel_size=2)),                 # threaded, the 2x2 fast path
        ((2, 16, 33, 31), dict(kernel_size=2, ceil_mode=True))],  # threaded, partial edge windows
    3: [((2, 2, 5, 6, 7), dict(kernel_size=2)),
        ((1, 2, 7, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((2, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), dilation=(2, 1, 1))),
        ((1, 3, 6, 6, 6), dict(kernel_size=3, stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1)))],
}
MAX_FNS = {1: (K.max_pool1d_forward, K.max_pool1d_backward), 2: (K.max_pool2d_forward, K.max_pool2d_backward),
           3: (K.max_pool3d_forward, K.max_pool3d_backward)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,case", [(nd, i) for nd in MAX_CASES for i in range(len(MAX_CASES[nd]))])
def test_max_pool_matches_torch(nd, case, dtype):
    torch = require_torch()
    shape, kw = MAX_CASES[nd][case]
    x = values(shape, dtype, ties=case % 2 == 1)
    fwd, bwd = MAX_FNS[nd]
    out, ind = fwd(make(x), **kw)
    tfn = getattr(torch.nn.functional, "max_pool{}d".format(nd))
    go = rng.randn(*out.size()).astype(dtype)
    tout, tind, tgrad = torch_pool(tfn, x, go, return_indices=True, **kw)
    assert_same(out, tout, **TOL[dtype])
    assert_same(ind, tind)
    assert_same(bwd(make(go), x.shape, ind), tgrad, **TOL[dtype])


@pytest.mark.parametrize("layout", ["t", "step"])
def test_max_pool_non_contiguous(layout):
    torch = require_torch()
    x = rng.randn(2, 3, 9, 10)
    out, ind = K.max_pool2d_forward(make(x, layout), 3, 2, 1)
    tout, tind = torch.nn.functional.max_pool2d(torch.from_numpy(x), 3, 2, 1, return_indices=True)
    assert_same(out, tout)
    assert_same(ind, tind)
    go = rng.randn(*out.size())
    g = K.max_pool2d_backward(make(go, layout), x.shape, make(ind.numpy(), layout))
    assert_same(g, torch_pool(torch.nn.functional.max_pool2d, x, go, kernel_size=3, stride=2, padding=1)[2])


def test_max_pool_nan_propagates():
    torch = require_torch()
    x = rng.randn(1, 1, 4, 4)
    x[0, 0, 1, 0] = np.nan
    out, ind = K.max_pool2d_forward(make(x), 2)
    tout, tind = torch.nn.functional.max_pool2d(torch.from_numpy(x), 2, return_indices=True)
    assert np.isnan(out.numpy()[0, 0, 0, 0])
    assert_same(out, tout)
    assert_same(ind, tind)


def test_max_pool_indices_are_flat_plane_offsets():
    # NumPy reference: a 2x2 window's argmax, as an offset into its (H, W) plane
    x = rng.randn(2, 3, 6, 8)
    out, ind = K.max_pool2d_forward(make(x), 2)
    win = x.reshape(2, 3, 3, 2, 4, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 4, 4)
    arg = win.argmax(-1)
    hh = np.arange(3)[:, None] * 2 + arg // 2
    ww = np.arange(4)[None, :] * 2 + arg % 2
    np.testing.assert_array_equal(ind.numpy(), hh * 8 + ww)
    np.testing.assert_array_equal(out.numpy(), win.max(-1))
    assert ind.type() == "torch.LongTensor" and out.type() == "torch.DoubleTensor"


def test_max_pool_threads_agree():
    x = rng.randn(8, 16, 20, 20).astype(np.float32)
    prev = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        a, ia = K.max_pool3d_forward(make(x), (2, 3, 3), padding=(1, 1, 1))
        ember.set_num_threads(2)
        b, ib = K.max_pool3d_forward(make(x), (2, 3, 3), padding=(1, 1, 1))
    finally:
        ember.set_num_threads(prev)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())


# ------------------------------------------------------------------------------------------- average pooling
AVG_CASES = {
    1: [((2, 3, 11), dict(kernel_size=3)),
        ((1, 2, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((3, 9), dict(kernel_size=4, stride=3, padding=2, count_include_pad=False))],
    2: [((2, 3, 8, 8), dict(kernel_size=2)),
        ((1, 2, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
        ((2, 2, 9, 11), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
        ((2, 2, 9, 11), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True,
                             count_include_pad=False)),
        ((3, 10, 9), dict(kernel_size=5, stride=3, padding=2, count_include_pad=False)),
        ((4, 16, 32, 32), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True))],
    3: [((2, 2, 5, 6, 7), dict(kernel_size=2)),
        ((1, 2, 7, 5, 6), dict(kernel_size=3, stride=2)),
        ((2, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
        ((1, 2, 5, 6, 7), dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 0),
                               count_include_pad=False))],
}
AVG_FNS = {1: (K.avg_pool1d_forward, K.avg_pool1d_backward), 2: (K.avg_pool2d_forward, K.avg_pool2d_backward),
           3: (K.avg_pool3d_forward, K.avg_pool3d_backward)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,case", [(nd, i) for nd in AVG_CASES for i in range(len(AVG_CASES[nd]))])
def test_avg_pool_matches_torch(nd, case, dtype):
    torch = require_torch()
    shape, kw = AVG_CASES[nd][case]
    x = values(shape, dtype)
    fwd, bwd = AVG_FNS[nd]
    out = fwd(make(x, "t" if case == 1 else "contig"), **kw)
    go = rng.randn(*out.size()).astype(dtype)
    tout, _, tgrad = torch_pool(getattr(torch.nn.functional, "avg_pool{}d".format(nd)), x, go, **kw)
    assert_same(out, tout, **TOL[dtype])
    assert_same(bwd(make(go), x.shape, **kw), tgrad, **TOL[dtype])


def test_avg_pool_numpy_formula():
    x = rng.randn(2, 3, 6, 9)
    out = K.avg_pool2d_forward(make(x), (2, 3))
    np.testing.assert_allclose(out.numpy(), x.reshape(2, 3, 3, 2, 3, 3).mean(axis=(3, 5)), rtol=1e-12)
    # count_include_pad: a corner window with padding 1 holds 4 real elements of 9
    out = K.avg_pool2d_forward(make(x), 3, 1, 1)
    np.testing.assert_allclose(out.numpy()[..., 0, 0], x[..., :2, :2].sum(axis=(-1, -2)) / 9, rtol=1e-12)
    out = K.avg_pool2d_forward(make(x), 3, 1, 1, count_include_pad=False)
    np.testing.assert_allclose(out.numpy()[..., 0, 0], x[..., :2, :2].mean(axis=(-1, -2)), rtol=1e-12)


# ------------------------------------------------------------------------------------------- adaptive pooling
ADAPTIVE_CASES = {
    1: [((2, 3, 11), 4), ((3, 7), 7), ((1, 2, 5), 8), ((2, 2, 9), 1)],
    2: [((2, 3, 9, 11), (4, 5)), ((3, 7, 6), 3), ((1, 2, 5, 4), (7, 9)), ((2, 2, 8, 8), 1),
        ((4, 16, 31, 29), (7, 6))],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,case", [(nd, i) for nd in ADAPTIVE_CASES for i in range(len(ADAPTIVE_CASES[nd]))])
def test_adaptive_pool_matches_torch(nd, case, dtype):
    torch = require_torch()
    F = torch.nn.functional
    shape, osize = ADAPTIVE_CASES[nd][case]
    x = values(shape, dtype, ties=case == 1)
    layout = "step" if case == 2 else "contig"
    fmax, bmax = getattr(K, "adaptive_max_pool{}d_forward".format(nd)), getattr(K, "adaptive_max_pool{}d_backward"
                                                                              .format(nd))
    out, ind = fmax(make(x, layout), osize)
    go = rng.randn(*out.size()).astype(dtype)
    tout, tind, tgrad = torch_pool(getattr(F, "adaptive_max_pool{}d".format(nd)), x, go, output_size=osize,
                                   return_indices=True)
    assert_same(out, tout, **TOL[dtype])
    assert_same(ind, tind)
    assert_same(bmax(make(go), x.shape, ind), tgrad, **TOL[dtype])

    out = getattr(K, "adaptive_avg_pool{}d_forward".format(nd))(make(x, layout), osize)
    tout, _, tgrad = torch_pool(getattr(F, "adaptive_avg_pool{}d".format(nd)), x, go, output_size=osize)
    assert_same(out, tout, **TOL[dtype])
    assert_same(getattr(K, "adaptive_avg_pool{}d_backward".format(nd))(make(go), x.shape), tgrad, **TOL[dtype])


def test_adaptive_windows_formula():
    # cell i covers [floor(i*in/out), ceil((i+1)*in/out))
    x = rng.randn(1, 1, 10)
    out = K.adaptive_avg_pool1d_forward(make(x), 4).numpy().ravel()
    exp = [x[0, 0, (i * 10) // 4:-(-(i + 1) * 10 // 4)].mean() for i in range(4)]
    np.testing.assert_allclose(out, exp, rtol=1e-12)


# ------------------------------------------------------------------------------------------- fractional
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kernel,kw", [
    ((2, 3, 11, 13), 2, dict(output_size=(5, 7))),
    ((1, 2, 9, 9), (3, 2), dict(output_size=(4, 6))),
    ((2, 2, 10, 12), 3, dict(output_ratio=(0.5, 0.6))),
    ((3, 8, 7), 2, dict(output_size=1)),
    ((3, 8, 7), 2, dict(output_size=(7, 6))),
])
def test_fractional_max_pool_matches_torch(shape, kernel, kw, dtype):
    torch = require_torch()
    x = values(shape, dtype)
    n, c = (1,) + shape[:1] if len(shape) == 3 else shape[:2]
    u = rng.uniform(0, 1, (n, c, 2)).astype(dtype)
    out, ind = K.fractional_max_pool2d_forward(make(x), kernel, random_samples=make(u), **kw)
    go = rng.randn(*out.size()).astype(dtype)
    tu = torch.from_numpy(u)
    tout, tind, tgrad = torch_pool(torch.nn.functional.fractional_max_pool2d, x, go, kernel_size=kernel,
                                   return_indices=True, _random_samples=tu, **kw)
    assert_same(out, tout, **TOL[dtype])
    assert_same(ind, tind)
    assert_same(K.fractional_max_pool2d_backward(make(go), x.shape, ind), tgrad, **TOL[dtype])


def test_fractional_max_pool_random_samples_drawn():
    x = ember.FloatTensor(rng.randn(2, 3, 12, 12).astype(np.float32))
    out, ind = K.fractional_max_pool2d_forward(x, 2, output_size=(6, 5))
    assert out.size() == (2, 3, 6, 5) and ind.size() == (2, 3, 6, 5)
    # every output is the value at its index
    flat = x.numpy().reshape(6, 144)
    np.testing.assert_array_equal(out.numpy().reshape(6, -1), np.take_along_axis(flat, ind.numpy().reshape(6, -1), 1))


def test_fractional_errors():
    x = ember.DoubleTensor(rng.randn(1, 2, 8, 8))
    with pytest.raises(ValueError, match="either an output size, or a pooling ratio"):
        K.fractional_max_pool2d_forward(x, 2)
    with pytest.raises(RuntimeError, match=r"poolSizeH \(4\) too large relative to input height \(8\)"):
        K.fractional_max_pool2d_forward(x, 4, output_size=(6, 4))
    with pytest.raises(RuntimeError, match=r"random_samples of size \[1 x 2 x 2\]"):
        K.fractional_max_pool2d_forward(x, 2, output_size=4, random_samples=ember.DoubleTensor(2, 2, 2).fill_(0.5))
    with pytest.raises(TypeError, match="random_samples to be a torch.DoubleTensor"):
        K.fractional_max_pool2d_forward(x, 2, output_size=4, random_samples=ember.FloatTensor(1, 2, 2).fill_(0.5))


# ------------------------------------------------------------------------------------------- unpooling
UNPOOL_CASES = {1: [((2, 3, 10), 2, 2, 0), ((3, 11), 3, 2, 1)],
                2: [((2, 3, 8, 9), 2, 2, 0), ((1, 2, 9, 7), 3, 2, 1)],
                3: [((1, 2, 6, 5, 7), 2, 2, 0), ((2, 5, 6, 7), 3, 2, 1)]}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,case", [(nd, i) for nd in UNPOOL_CASES for i in range(2)])
def test_max_unpool_matches_torch(nd, case, dtype):
    torch = require_torch()
    F = torch.nn.functional
    shape, k, s, p = UNPOOL_CASES[nd][case]
    x = values(shape, dtype)
    pooled, ind = getattr(F, "max_pool{}d".format(nd))(torch.from_numpy(x), k, s, p, return_indices=True)
    batched = (1,) * (nd + 2 - pooled.dim()) + tuple(pooled.shape)
    osize = K.unpool_output_size(batched, k, s, p, shape[-nd:])
    assert list(osize) == list(shape[-nd:])
    tp = pooled.clone().requires_grad_()
    tout = getattr(F, "max_unpool{}d".format(nd))(tp, ind, k, s, p, output_size=list(osize))
    go = rng.randn(*tout.shape).astype(dtype)
    tout.backward(torch.from_numpy(go))
    e_ind = ember.LongTensor(ind.numpy())
    out = getattr(K, "max_unpool{}d_forward".format(nd))(make(pooled.numpy()), e_ind, osize)
    assert_same(out, tout.detach(), **TOL[dtype])
    g = getattr(K, "max_unpool{}d_backward".format(nd))(make(go, "t"), e_ind)
    assert_same(g, tp.grad, **TOL[dtype])


def test_unpool_output_size_rule():
    assert K.unpool_output_size((2, 3, 4, 5), 2, 2, 0) == [8, 10]
    assert K.unpool_output_size((2, 3, 4, 5), 3, 2, 1) == [7, 9]
    assert K.unpool_output_size((2, 3, 4, 5), 2, None, 0, (2, 3, 9, 11)) == [9, 11]
    with pytest.raises(ValueError, match=r'invalid output_size "\[10, 10\]" \(dim 0 must be between 6 and 10\)'):
        K.unpool_output_size((2, 3, 4, 5), 2, 2, 0, (10, 10))
    with pytest.raises(ValueError, match="output_size should be a sequence containing 2 or 4 elements"):
        K.unpool_output_size((2, 3, 4, 5), 2, 2, 0, (8, 10, 1))


def test_unpool_numpy_formula_and_bad_index():
    x = rng.randn(2, 4)
    ind = np.array([[0, 3, 5, 7], [1, 2, 4, 6]])
    out = K.max_unpool1d_forward(make(x), ember.LongTensor(ind), 8).numpy()
    exp = np.zeros((2, 8))
    np.put_along_axis(exp, ind, x, 1)
    np.testing.assert_array_equal(out, exp)
    bad = ind.copy()
    bad[1, 2] = 8
    with pytest.raises(RuntimeError, match=r"max_unpool1d: invalid max index 8 .*\[0, 8\)"):
        K.max_unpool1d_forward(make(x), ember.LongTensor(bad), 8)
    with pytest.raises(RuntimeError, match="max_unpool1d_backward: invalid max index 8"):
        K.max_unpool1d_backward(make(rng.randn(2, 8)), ember.LongTensor(bad))
    bad[0, 0] = -1
    with pytest.raises(RuntimeError, match="max_pool1d_backward: invalid max index -1"):
        K.max_pool1d_backward(make(x), (2, 8), ember.LongTensor(bad))


# ------------------------------------------------------------------------------------------- errors
def test_output_size_too_small():
    x = ember.FloatTensor(3, 4, 4).zero_()
    with pytest.raises(RuntimeError, match=r"max_pool2d: Given input size: \(3x4x4\). Calculated output size: "
                                           r"\(3x0x0\). Output size is too small"):
        K.max_pool2d_forward(x, 5)
    with pytest.raises(RuntimeError, match=r"avg_pool3d: Given input size: \(2x3x4x4\). Calculated output size: "
                                           r"\(2x0x1x1\)"):
        K.avg_pool3d_forward(ember.FloatTensor(2, 3, 4, 4).zero_(), 4)


def test_argument_errors():
    x = ember.DoubleTensor(rng.randn(1, 2, 6, 6))
    with pytest.raises(RuntimeError, match="pad should be smaller than half of kernel size, but got padW = 2, "
                                           "padH = 2, kW = 3, kH = 3"):
        K.max_pool2d_forward(x, 3, 1, 2)
    with pytest.raises(RuntimeError, match="avg_pool2d: pad should be smaller than half of kernel size"):
        K.avg_pool2d_forward(x, 2, 1, (0, 2))
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero, but got kW = 0, kH = 2"):
        K.max_pool2d_forward(x, (2, 0))
    with pytest.raises(RuntimeError, match="stride should be greater than zero"):
        K.avg_pool1d_forward(ember.DoubleTensor(2, 5).zero_(), 2, 0)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        K.max_pool3d_forward(ember.DoubleTensor(1, 4, 4, 4).zero_(), 2, dilation=(1, 0, 1))
    with pytest.raises(TypeError, match="expected kernel_size to be an int or a tuple of 2 ints"):
        K.max_pool2d_forward(x, (2, 2, 2))
    with pytest.raises(RuntimeError, match=r"max_pool2d: 3D or 4D input tensor expected but got: \[6 x 6\]"):
        K.max_pool2d_forward(ember.DoubleTensor(6, 6).zero_(), 2)
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool1d: 2D or 3D input tensor expected but got: \[\]"):
        K.adaptive_avg_pool1d_forward(ember.DoubleTensor(), 2)
    with pytest.raises(TypeError, match="max_pool2d: expected input to be a torch.FloatTensor or "
                                        "torch.DoubleTensor, got torch.LongTensor"):
        K.max_pool2d_forward(ember.LongTensor(1, 2, 4, 4).zero_(), 2)
    with pytest.raises(TypeError, match="expected input to be a tensor, got list"):
        K.avg_pool2d_forward([[1.0]], 2)
    with pytest.raises(RuntimeError, match="output_size must be positive"):
        K.adaptive_max_pool2d_forward(x, (0, 2))


def test_backward_argument_errors():
    x = ember.DoubleTensor(rng.randn(1, 2, 6, 6))
    out, ind = K.max_pool2d_forward(x, 2)
    with pytest.raises(TypeError, match="expected indices to be a torch.LongTensor, got torch.DoubleTensor"):
        K.max_pool2d_backward(out, x.size(), out)
    with pytest.raises(RuntimeError, match=r"grad_output and indices of the same size.*\[1 x 2 x 3 x 2\]"):
        K.max_pool2d_backward(out, x.size(), ind[:, :, :, :2])
    with pytest.raises(RuntimeError, match=r"avg_pool2d_backward: expected grad_output of size \[1 x 2 x 3 x 3\]"):
        K.avg_pool2d_backward(ember.DoubleTensor(1, 2, 2, 3).zero_(), x.size(), 2)
    with pytest.raises(TypeError, match="grad_output to be a torch.FloatTensor or torch.DoubleTensor"):
        K.avg_pool2d_backward(ember.LongTensor(1, 2, 3, 3).zero_(), x.size(), 2)
    with pytest.raises(RuntimeError, match="expected input_size to have 3 or 4 positive entries"):
        K.adaptive_avg_pool2d_backward(out, (6, 6))
    with pytest.raises(RuntimeError, match=r"max_unpool2d: expected indices of the input's size"):
        K.max_unpool2d_forward(out, ind[0], (6, 6))


def test_read_only_inputs():
    # tensors over read-only memory (np.frombuffer, mapped files) are valid kernel inputs
    x = rng.randn(1, 2, 6, 6)
    x.setflags(write=False)
    out, ind = K.max_pool2d_forward(ember.from_numpy(x), 2)
    np.testing.assert_array_equal(out.numpy(), x.reshape(1, 2, 3, 2, 3, 2).max(axis=(3, 5)))
    g = np.ones((1, 2, 3, 3))
    g.setflags(write=False)
    gx = K.max_pool2d_backward(ember.from_numpy(g), x.shape, ind)
    assert gx.numpy().sum() == 18
    assert K.avg_pool2d_backward(ember.from_numpy(g), x.shape, 2).numpy().sum() == pytest.approx(18)


# ------------------------------------------------------------------------------------------- CUDA
def cu(arr, layout="contig"):
    """A CUDA tensor with ``arr``'s values, laid out as ``make`` lays it out."""
    t = ember.from_numpy(np.ascontiguousarray(arr)).cuda()
    if layout == "t":
        return ember.from_numpy(np.ascontiguousarray(np.swapaxes(arr, -1, -2))).cuda().transpose(arr.ndim - 1,
                                                                                                 arr.ndim - 2)
    return t


def assert_cuda_same(got, want, dtype=None):
    """A CUDA result equal to the CPU kernel's (same type family; indices exactly)."""
    assert got.is_cuda and type(got).__name__ == type(want).__name__
    assert_same(got, want._a, **(TOL[dtype] if dtype else dict(rtol=0, atol=0)))


@pytest.mark.parametrize("nd,case", [(nd, i) for nd in MAX_CASES for i in range(len(MAX_CASES[nd]))])
def test_cuda_max_pool_matches_cpu(device_mode, nd, case):
    shape, kw = MAX_CASES[nd][case]
    fwd, bwd = MAX_FNS[nd]
    for dtype in DTYPES:
        x = values(shape, dtype, ties=case % 2 == 1)
        out, ind = fwd(make(x), **kw)
        cout, cind = fwd(cu(x, "t" if case == 2 else "contig"), **kw)
        assert_cuda_same(cout, out, dtype)
        assert_cuda_same(cind, ind)
        go = rng.randn(*out.size()).astype(dtype)
        assert_cuda_same(bwd(cu(go), x.shape, cind), bwd(make(go), x.shape, ind), dtype)


@pytest.mark.parametrize("nd,case", [(nd, i) for nd in AVG_CASES for i in range(len(AVG_CASES[nd]))])
def test_cuda_avg_pool_matches_cpu(device_mode, nd, case):
    shape, kw = AVG_CASES[nd][case]
    fwd, bwd = AVG_FNS[nd]
    for dtype in DTYPES:
        x = values(shape, dtype)
        out = fwd(make(x), **kw)
        assert_cuda_same(fwd(cu(x, "t" if case == 1 else "contig"), **kw), out, dtype)
        go = rng.randn(*out.size()).astype(dtype)
        assert_cuda_same(bwd(cu(go, "t"), x.shape, **kw), bwd(make(go), x.shape, **kw), dtype)


@pytest.mark.parametrize("include_pad", [True, False])
def test_cuda_avg_pool_disjoint_windows_with_padding(device_mode, include_pad):
    # stride >= kernel: the backward writes each window's share at once, padding and ceil_mode included
    kw = dict(kernel_size=(3, 2), stride=(3, 4), padding=1, ceil_mode=True, count_include_pad=include_pad)
    x = values((2, 3, 8, 11), np.float64)
    out = K.avg_pool2d_forward(make(x), **kw)
    assert_cuda_same(K.avg_pool2d_forward(cu(x), **kw), out, np.float64)
    go = rng.randn(*out.size())
    assert_cuda_same(K.avg_pool2d_backward(cu(go), x.shape, **kw), K.avg_pool2d_backward(make(go), x.shape, **kw),
                     np.float64)


@pytest.mark.parametrize("nd,case", [(nd, i) for nd in ADAPTIVE_CASES for i in range(len(ADAPTIVE_CASES[nd]))])
def test_cuda_adaptive_pool_matches_cpu(device_mode, nd, case):
    shape, osize = ADAPTIVE_CASES[nd][case]
    fmax, bmax, favg, bavg = (getattr(K, "adaptive_{}_pool{}d_{}".format(kind, nd, way))
                              for kind in ("max", "avg") for way in ("forward", "backward"))
    for dtype in DTYPES:
        x = values(shape, dtype, ties=case == 1)
        out, ind = fmax(make(x), osize)
        cout, cind = fmax(cu(x), osize)
        assert_cuda_same(cout, out, dtype)
        assert_cuda_same(cind, ind)
        go = rng.randn(*out.size()).astype(dtype)
        assert_cuda_same(bmax(cu(go), x.shape, cind), bmax(make(go), x.shape, ind), dtype)
        assert_cuda_same(favg(cu(x), osize), favg(make(x), osize), dtype)
        assert_cuda_same(bavg(cu(go), x.shape), bavg(make(go), x.shape), dtype)


@pytest.mark.parametrize("shape,kernel,kw", [
    ((2, 3, 11, 13), 2, dict(output_size=(5, 7))),
    ((1, 2, 9, 9), (3, 2), dict(output_size=(4, 6))),
    ((2, 2, 10, 12), 3, dict(output_ratio=(0.5, 0.6))),
    ((3, 8, 7), 2, dict(output_size=1)),
])
def test_cuda_fractional_max_pool_matches_cpu(device_mode, shape, kernel, kw):
    n, c = (1,) + shape[:1] if len(shape) == 3 else shape[:2]
    for dtype in DTYPES:
        x = values(shape, dtype, ties=True)
        u = rng.uniform(0, 1, (n, c, 2)).astype(dtype)
        out, ind = K.fractional_max_pool2d_forward(make(x), kernel, random_samples=make(u), **kw)
        cout, cind = K.fractional_max_pool2d_forward(cu(x), kernel, random_samples=cu(u), **kw)
        assert_cuda_same(cout, out, dtype)
        assert_cuda_same(cind, ind)
        go = rng.randn(*out.size()).astype(dtype)
        assert_cuda_same(K.fractional_max_pool2d_backward(cu(go), x.shape, cind),
                         K.fractional_max_pool2d_backward(make(go), x.shape, ind), dtype)


def test_cuda_fractional_max_pool_draws_samples_on_the_device(device_mode):
    x = rng.randn(2, 3, 12, 11).astype(np.float32)
    runs = []
    for seed in (3, 3, 4):
        ember.cuda.manual_seed(seed)  # the samples come from the CUDA generator
        runs.append(K.fractional_max_pool2d_forward(cu(x), 3, output_size=(5, 4)))
    (out, ind), (out2, ind2), (_, ind3) = runs
    assert out.is_cuda and ind.is_cuda and out.size() == (2, 3, 5, 4)
    np.testing.assert_array_equal(ind2.cpu().numpy(), ind.cpu().numpy())
    assert (ind3.cpu().numpy() != ind.cpu().numpy()).any()
    # each output is the input at its index
    flat, idx = x.reshape(6, -1), ind.cpu().numpy().reshape(6, -1)
    np.testing.assert_array_equal(out.cpu().numpy().reshape(6, -1), np.take_along_axis(flat, idx, 1))


@pytest.mark.parametrize("nd,case", [(nd, i) for nd in UNPOOL_CASES for i in range(2)])
def test_cuda_max_unpool_matches_cpu(device_mode, nd, case):
    shape, k, s, p = UNPOOL_CASES[nd][case]
    x = values(shape, np.float64)
    pooled, ind = MAX_FNS[nd][0](make(x), k, s, p)
    osize = shape[-nd:]
    fwd, bwd = (getattr(K, "max_unpool{}d_{}".format(nd, way)) for way in ("forward", "backward"))
    assert_cuda_same(fwd(cu(pooled.numpy()), ind.cuda(), osize), fwd(pooled, ind, osize), np.float64)
    go = rng.randn(*x.shape)
    assert_cuda_same(bwd(cu(go, "t"), ind.cuda()), bwd(make(go), ind), np.float64)


def test_cuda_half_matches_float(device_mode):
    r = np.random.RandomState(5)
    # values and samples exact in half: half and float pick the same elements
    x = cu((r.permutation(432).reshape(2, 3, 9, 8) / 16.0 - 13).astype(np.float32))
    size = x.size()
    samples = (r.randint(0, 1024, (2, 3, 2)) / 1024.0).astype(np.float32)
    # (forward, backward from grad_output and the forward's indices) of each kind of pooling
    pools = [
        (lambda t: K.max_pool2d_forward(t, 3, 2, 1, ceil_mode=True), lambda g, i: K.max_pool2d_backward(g, size, i)),
        (lambda t: K.avg_pool2d_forward(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
         lambda g, i: K.avg_pool2d_backward(g, size, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
        (lambda t: K.adaptive_max_pool2d_forward(t, (5, 4)), lambda g, i: K.adaptive_max_pool2d_backward(g, size, i)),
        (lambda t: K.adaptive_avg_pool2d_forward(t, (5, 4)), lambda g, i: K.adaptive_avg_pool2d_backward(g, size)),
        (lambda t: K.fractional_max_pool2d_forward(t, 2, (5, 4), random_samples=cu(samples).type(type(t))),
         lambda g, i: K.fractional_max_pool2d_backward(g, size, i)),
    ]
    for forward, backward in pools:
        want, got = forward(x), forward(x.half())
        (want, ind), (got, hind) = (r if isinstance(r, tuple) else (r, None) for r in (want, got))
        assert type(got) is ember.cuda.HalfTensor
        np.testing.assert_allclose(got.float().cpu().numpy(), want.cpu().numpy(), rtol=1e-2, atol=1e-3)
        if ind is not None:
            np.testing.assert_array_equal(hind.cpu().numpy(), ind.cpu().numpy())
        go = cu(r.randn(*want.size()).astype(np.float32))
        gh = backward(go.half(), hind)
        assert type(gh) is ember.cuda.HalfTensor
        np.testing.assert_allclose(gh.float().cpu().numpy(), backward(go, ind).cpu().numpy(), rtol=1e-2, atol=1e-3)
    pooled, ind = K.max_pool2d_forward(x, 2)
    out = K.max_unpool2d_forward(pooled.half(), ind, (9, 8))
    assert type(out) is ember.cuda.HalfTensor
    np.testing.assert_allclose(out.float().cpu().numpy(), K.max_unpool2d_forward(pooled, ind, (9, 8)).cpu().numpy(),
                               rtol=1e-2, atol=1e-3)
    np.testing.assert_allclose(K.max_unpool2d_backward(out, ind).float().cpu().numpy(),
                               pooled.cpu().numpy(), rtol=1e-2, atol=1e-3)


def test_cuda_max_pool_special_values(device_mode):
    x = rng.randn(1, 2, 5, 6)
    x[0, 0, 1, 0] = np.nan
    x[0, 1, :2, :] = -np.inf  # windows whose maximum is -inf: the index is their first tap in the input
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
               dict(kernel_size=2, stride=1, padding=1, dilation=2)):
        out, ind = K.max_pool2d_forward(make(x), **kw)
        cout, cind = K.max_pool2d_forward(cu(x), **kw)
        assert np.isnan(cout.cpu().numpy()[0, 0]).any()
        assert_cuda_same(cout, out, np.float64)
        assert_cuda_same(cind, ind)


def test_cuda_errors(device_mode):
    x = cu(rng.randn(1, 2, 6, 6))
    out, ind = K.max_pool2d_forward(x, 2)
    with pytest.raises(TypeError, match=r"max_pool2d_backward\(\): expected indices on GPU 0 \(where the input is\), "
                                        r"got torch.LongTensor"):
        K.max_pool2d_backward(out, x.size(), ind.cpu())
    with pytest.raises(TypeError, match=r"max_unpool2d\(\): expected indices on GPU 0 .*got torch.LongTensor"):
        K.max_unpool2d_forward(out, ind.cpu(), (6, 6))
    with pytest.raises(TypeError, match=r"max_pool2d_backward\(\): expected indices on the CPU .*got "
                                        r"torch.cuda.LongTensor"):
        K.max_pool2d_backward(out.cpu(), x.size(), ind)
    with pytest.raises(TypeError, match="max_pool2d: expected input to be a torch.cuda.FloatTensor, "
                                        "torch.cuda.DoubleTensor or torch.cuda.HalfTensor, got torch.cuda.LongTensor"):
        K.max_pool2d_forward(ind, 2)
    with pytest.raises(TypeError, match="random_samples to be a torch.cuda.DoubleTensor"):
        K.fractional_max_pool2d_forward(x, 2, output_size=3, random_samples=ember.DoubleTensor(1, 2, 2).fill_(0.5))
    # an index out of range: the CPU kernel's text, from one check on the device
    bad = ind.cpu().numpy()
    bad[0, 1, 2, 0] = 36
    bad = ember.LongTensor(bad).cuda()
    for call in (lambda: K.max_pool2d_backward(out, x.size(), bad), lambda: K.max_unpool2d_forward(out, bad, (6, 6)),
                 lambda: K.max_unpool2d_backward(x, bad)):
        with pytest.raises(RuntimeError, match=r"invalid max index 36 \(each index must lie in \[0, 36\)"):
            call()


def test_cuda_runs_on_the_device_of_its_input(fake_cuda):
    x = ember.from_numpy(rng.randn(2, 3, 7, 6)).cuda(1)  # the current device stays 0
    out, ind = K.max_pool2d_forward(x, 3, 2, 1)
    assert out.get_device() == ind.get_device() == 1
    assert K.max_pool2d_backward(out, x.size(), ind).get_device() == 1
    assert K.avg_pool2d_backward(K.avg_pool2d_forward(x, 2), x.size(), 2).get_device() == 1
    assert K.adaptive_avg_pool2d_backward(K.adaptive_avg_pool2d_forward(x, 4), x.size()).get_device() == 1
    assert K.max_unpool2d_backward(K.max_unpool2d_forward(out, ind, (7, 6)), ind).get_device() == 1
    assert all(t.get_device() == 1 for t in K.fractional_max_pool2d_forward(x, 2, (3, 3)))
    with pytest.raises(TypeError, match=r"max_pool2d_backward\(\): expected indices on GPU 1 \(where the input is\), "
                                        r"got torch.cuda.LongTensor on GPU 0"):
        K.max_pool2d_backward(out, x.size(), ind.cuda(0))
