"""Pooling functions and layers: against torch.nn.functional (parity; values, indices and gradients, float and
double, non-contiguous and unbatched inputs), double backward against torch's and by gradgradcheck, real Lua nn
results (shared/data), the reference docs' examples, reprs/attributes of layers returning indices, errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable
from ember.autograd import grad as autograd_grad
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch

TOL = {np.float64: (1e-10, 1e-12), np.float32: (1e-5, 1e-6)}


def _spread(rng, shape, dtype=np.float64):
    """Distinct, well separated values (no ties for the max poolings, none closer than gradcheck's step)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * (4.0 / n) - 2.0).astype(dtype)


def _noncontig(a):
    """An ember tensor with a's values, laid out in memory with its last two dims swapped."""
    return ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, -1, -2)).copy()).transpose(a.ndim - 2, a.ndim - 1)


# (function name, input size, keyword arguments); max poolings are compared with indices
POOLS = [
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ("max_pool1d", (1, 2, 7), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (3, 8, 7), dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))),
    ("max_pool3d", (1, 2, 5, 6, 4), dict(kernel_size=(2, 3, 2), stride=(2, 1, 2), padding=(1, 1, 0))),
    ("max_pool3d", (2, 4, 5, 5), dict(kernel_size=2, ceil_mode=True)),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 7, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (3, 7, 8), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True,
                                   count_include_pad=False)),
    ("avg_pool3d", (1, 2, 5, 6, 4), dict(kernel_size=(2, 3, 2), stride=(1, 2, 1))),
    ("avg_pool3d", (1, 2, 5, 6, 4), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                         count_include_pad=False)),
    ("adaptive_max_pool1d", (2, 3, 10), dict(output_size=4)),
    ("adaptive_max_pool2d", (2, 3, 7, 5), dict(output_size=(3, 4))),
    ("adaptive_max_pool2d", (3, 4, 9), dict(output_size=5)),
    ("adaptive_avg_pool1d", (2, 3, 10), dict(output_size=7)),
    ("adaptive_avg_pool2d", (2, 3, 7, 5), dict(output_size=(3, 2))),
    ("lp_pool2d", (2, 3, 7, 6), dict(norm_type=2, kernel_size=3, stride=2)),
    ("lp_pool2d", (1, 3, 7, 6), dict(norm_type=3, kernel_size=(2, 3), ceil_mode=True)),
]
_INDICES = ("max_pool", "adaptive_max_pool")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(POOLS)))
def test_functional_matches_torch(case, dtype):
    torch = require_torch()
    name, shape, kw = POOLS[case]
    rng = np.random.RandomState(case)
    x = _spread(rng, shape, dtype)
    if name == "lp_pool2d":
        x = np.abs(x) + 0.5
    ex = Variable(_noncontig(x), requires_grad=True)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    indexed = name.startswith(_INDICES)
    if indexed:
        kw = dict(kw, return_indices=True)
    out = getattr(F, name)(ex, **kw)
    tout = getattr(torch.nn.functional, name)(tx, **kw)
    rtol, atol = TOL[dtype]
    if indexed:
        assert_same(out[1].data, tout[1])
        assert out[1].requires_grad is False
        out, tout = out[0], tout[0]
    assert_same(out.data, tout, rtol, atol)
    go = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    out.backward(ember.from_numpy(go.copy()))
    tout.backward(torch.from_numpy(go))
    assert_same(ex.grad.data, tx.grad, rtol, atol)


@pytest.mark.parametrize("case", [0, 2, 4, 7, 9, 12, 15, 16])
def test_double_backward_matches_torch(case):
    """grad_input recorded (create_graph), then differentiated against the input and grad_output."""
    torch = require_torch()
    name, shape, kw = POOLS[case]
    rng = np.random.RandomState(100 + case)
    x = _spread(rng, shape)
    if name == "lp_pool2d":
        x = np.abs(x) + 0.5
    tx = torch.from_numpy(x.copy()).requires_grad_()
    tout = getattr(torch.nn.functional, name)(tx, **kw)
    go = rng.standard_normal(tuple(tout.shape))
    r = rng.standard_normal(shape)
    tgo = torch.from_numpy(go.copy()).requires_grad_()
    (tg,) = torch.autograd.grad(tout, tx, tgo, create_graph=True)
    (tg * torch.from_numpy(r)).sum().backward()

    ex = Variable(ember.from_numpy(x.copy()), requires_grad=True)
    ego = Variable(ember.from_numpy(go.copy()), requires_grad=True)
    (eg,) = autograd_grad(getattr(F, name)(ex, **kw), ex, ego, create_graph=True)
    (eg * Variable(ember.from_numpy(r.copy()))).sum().backward()
    assert_same(ego.grad.data, tgo.grad, 1e-10, 1e-12)
    # the piecewise-linear poolings have no second derivative through the input: None or zeros
    got = np.zeros(shape) if ex.grad is None else ex.grad.data.numpy()
    np.testing.assert_allclose(got, np.zeros(shape) if tx.grad is None else tx.grad.numpy(), 1e-10, 1e-12)


@pytest.mark.parametrize("name,shape,kw", [
    ("max_pool1d", (1, 2, 7), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (1, 2, 5, 4), dict(kernel_size=2, stride=1, dilation=(1, 2))),
    ("max_pool3d", (1, 1, 3, 4, 4), dict(kernel_size=2, ceil_mode=True)),
    ("avg_pool1d", (1, 2, 7), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (1, 2, 5, 4), dict(kernel_size=(2, 3), stride=1, padding=(1, 1))),
    ("avg_pool3d", (1, 1, 3, 4, 4), dict(kernel_size=2, stride=1)),
    ("adaptive_max_pool1d", (1, 2, 7), dict(output_size=3)),
    ("adaptive_max_pool2d", (1, 2, 5, 4), dict(output_size=(2, 3))),
    ("adaptive_avg_pool1d", (1, 2, 7), dict(output_size=3)),
    ("adaptive_avg_pool2d", (1, 2, 5, 4), dict(output_size=(2, 3))),
    ("lp_pool2d", (1, 2, 5, 4), dict(norm_type=2, kernel_size=2)),
])
def test_gradcheck_and_gradgradcheck(name, shape, kw):
    rng = np.random.RandomState(7)
    x = _spread(rng, shape)
    if name == "lp_pool2d":
        x = np.abs(x) + 0.5
    v = Variable(ember.from_numpy(x), requires_grad=True)

    def f(t):
        return getattr(F, name)(t, **kw)
    assert gradcheck(f, (v,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(f, (v,), eps=1e-6, atol=1e-5, rtol=1e-3)


# ---------------------------------------------------------------------- unpooling

@pytest.mark.parametrize("nd,shape,kw", [
    (1, (2, 3, 9), dict(kernel_size=2, stride=2)),
    (2, (2, 3, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
    (2, (1, 2, 6, 4), dict(kernel_size=(2, 3), stride=(2, 3), padding=(1, 1))),
    (3, (1, 2, 5, 6, 4), dict(kernel_size=2, stride=(2, 2, 1))),
])
def test_max_unpool_matches_torch(nd, shape, kw):
    torch = require_torch()
    rng = np.random.RandomState(nd)
    x = _spread(rng, shape)
    pool, unpool = "max_pool{}d".format(nd), "max_unpool{}d".format(nd)
    out, ind = getattr(F, pool)(Variable(ember.from_numpy(x.copy())), return_indices=True, **kw)
    tout, tind = getattr(torch.nn.functional, pool)(torch.from_numpy(x.copy()), return_indices=True, **kw)
    for output_size in (None, shape):
        ev = Variable(out.data.clone(), requires_grad=True)
        tv = tout.clone().requires_grad_()
        u = getattr(F, unpool)(ev, ind, output_size=output_size, **kw)
        tu = getattr(torch.nn.functional, unpool)(tv, tind, output_size=output_size, **kw)
        assert_same(u.data, tu, 1e-12, 1e-12)
        go = rng.standard_normal(tuple(tu.shape))
        u.backward(ember.from_numpy(go.copy()))
        tu.backward(torch.from_numpy(go))
        assert_same(ev.grad.data, tv.grad, 1e-12, 1e-12)
    # gradcheck / gradgradcheck through the values (the indices are constants). Overlapping windows can
    # pick one element twice: unpooling then writes it once but its gradient (0.2's, torch's) reads it twice
    rows = ind.data.numpy().reshape(shape[0] * shape[1], -1)
    if any(len(np.unique(row)) < row.size for row in rows):
        return
    v = Variable(out.data.clone(), requires_grad=True)

    def f(t):
        return getattr(F, unpool)(t, ind, **kw)
    assert gradcheck(f, (v,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(f, (v,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_reference_docs_unpool_examples():
    pool = nn.MaxPool1d(2, stride=2, return_indices=True)
    unpool = nn.MaxUnpool1d(2, stride=2)
    input = Variable(ember.Tensor([[[1, 2, 3, 4, 5, 6, 7, 8]]]))
    output, indices = pool(input)
    np.testing.assert_array_equal(unpool(output, indices).data.numpy(), [[[0, 2, 0, 4, 0, 6, 0, 8]]])
    input = Variable(ember.Tensor([[[1, 2, 3, 4, 5, 6, 7, 8, 9]]]))
    output, indices = pool(input)
    np.testing.assert_array_equal(unpool(output, indices, output_size=input.size()).data.numpy(),
                                  [[[0, 2, 0, 4, 0, 6, 0, 8, 0]]])
    np.testing.assert_array_equal(unpool(output, indices).data.numpy(), [[[0, 2, 0, 4, 0, 6, 0, 8]]])

    pool = nn.MaxPool2d(2, stride=2, return_indices=True)
    unpool = nn.MaxUnpool2d(2, stride=2)
    input = Variable(ember.Tensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]]))
    output, indices = pool(input)
    np.testing.assert_array_equal(unpool(output, indices).data.numpy(),
                                  [[[[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]]])
    # specify a different output size than input size
    np.testing.assert_array_equal(unpool(output, indices, output_size=ember.Size([1, 1, 5, 5])).data.numpy(),
                                  [[[[0, 0, 0, 0, 0], [6, 0, 8, 0, 0], [0, 0, 0, 14, 0], [16, 0, 0, 0, 0],
                                     [0, 0, 0, 0, 0]]]])

    pool = nn.MaxPool3d(3, stride=2, return_indices=True)
    unpool = nn.MaxUnpool3d(3, stride=2)
    output, indices = pool(Variable(ember.randn(20, 16, 51, 33, 15), volatile=True))
    assert unpool(output, indices).size() == ember.Size([20, 16, 51, 33, 15])


def test_unpool_output_size_errors():
    unpool = nn.MaxUnpool2d(2, stride=2)
    out, ind = F.max_pool2d(Variable(ember.randn(1, 1, 4, 4)), 2, return_indices=True)
    with pytest.raises(ValueError, match=r'^MaxUnpool2d: invalid output_size "\[6, 4\]" \(dim 0 must be between 2 '
                                         r'and 6\)'):
        unpool(out, ind, output_size=(6, 4))
    with pytest.raises(ValueError, match="output_size should be a sequence containing 2 or 4 elements, but it has a "
                                         "length of '3'"):
        unpool(out, ind, output_size=(1, 4, 4))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3 dimensions\)"):
        F.max_unpool2d(out[0], ind[0], 2)


# ---------------------------------------------------------------------- the reference docs' examples

def _size(m, *size):
    return m(Variable(ember.randn(*size), volatile=True)).size()


def test_reference_docs_pooling_examples():
    assert _size(nn.MaxPool1d(3, stride=2), 20, 16, 50) == ember.Size([20, 16, 24])
    assert _size(nn.MaxPool2d(3, stride=2), 20, 16, 50, 32) == ember.Size([20, 16, 24, 15])
    assert _size(nn.MaxPool2d((3, 2), stride=(2, 1)), 20, 16, 50, 32) == ember.Size([20, 16, 24, 31])
    assert _size(nn.MaxPool3d((3, 2, 2), stride=(2, 1, 2)), 2, 16, 50, 44, 31) == ember.Size([2, 16, 24, 43, 15])
    assert _size(nn.AvgPool2d((3, 2), stride=(2, 1)), 20, 16, 50, 32) == ember.Size([20, 16, 24, 31])
    assert _size(nn.AvgPool3d((3, 2, 2), stride=(2, 1, 2)), 2, 16, 50, 44, 31) == ember.Size([2, 16, 24, 43, 15])
    assert _size(nn.FractionalMaxPool2d(3, output_size=(13, 12)), 20, 16, 50, 32) == ember.Size([20, 16, 13, 12])
    assert _size(nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5)), 20, 16, 50, 32) == ember.Size([20, 16, 25, 16])
    assert _size(nn.LPPool2d(2, 3, stride=2), 20, 16, 50, 32) == ember.Size([20, 16, 24, 15])
    assert _size(nn.AdaptiveMaxPool1d(5), 1, 64, 8) == ember.Size([1, 64, 5])
    assert _size(nn.AdaptiveMaxPool2d((5, 7)), 1, 64, 8, 9) == ember.Size([1, 64, 5, 7])
    assert _size(nn.AdaptiveMaxPool2d(7), 1, 64, 10, 9) == ember.Size([1, 64, 7, 7])
    assert _size(nn.AdaptiveAvgPool1d(5), 1, 64, 8) == ember.Size([1, 64, 5])
    assert _size(nn.AdaptiveAvgPool2d((5, 7)), 1, 64, 8, 9) == ember.Size([1, 64, 5, 7])
    assert _size(nn.AdaptiveAvgPool2d(7), 1, 64, 10, 9) == ember.Size([1, 64, 7, 7])
    out = nn.AvgPool1d(3, stride=2)(Variable(ember.Tensor([[[1, 2, 3, 4, 5, 6, 7]]])))
    np.testing.assert_array_equal(out.data.numpy(), [[[2, 4, 6]]])


# ---------------------------------------------------------------------- layers returning indices

@pytest.mark.parametrize("cls,args,shape", [
    (nn.MaxPool1d, (3, 2), (2, 3, 9)), (nn.MaxPool2d, (2,), (2, 3, 6, 5)), (nn.MaxPool3d, (2,), (1, 2, 4, 4, 5)),
    (nn.AdaptiveMaxPool1d, (4,), (2, 3, 9)), (nn.AdaptiveMaxPool2d, ((2, 3),), (2, 3, 6, 5)),
])
def test_layers_return_indices(cls, args, shape):
    x = Variable(ember.randn(*shape), requires_grad=True)
    plain = cls(*args)(x)
    values, indices = cls(*args, return_indices=True)(x)
    np.testing.assert_array_equal(values.data.numpy(), plain.data.numpy())
    assert indices.data.type() == "torch.LongTensor" and indices.size() == values.size()
    # each value is the input at its index (flat within its plane)
    nd = len(shape) - 2
    planes = x.data.numpy().reshape(shape[0] * shape[1], -1)
    picked = np.take_along_axis(planes, indices.data.numpy().reshape(planes.shape[0], -1), 1)
    np.testing.assert_array_equal(picked.reshape(values.size()), values.data.numpy())
    assert nd >= 1


def test_fractional_max_pool_samples():
    torch = require_torch()
    rng = np.random.RandomState(4)
    x = _spread(rng, (2, 3, 11, 9))
    samples = rng.uniform(size=(2, 3, 2))
    m = nn.FractionalMaxPool2d((3, 2), output_size=(5, 4), return_indices=True,
                               _random_samples=ember.from_numpy(samples.copy()))
    tm = torch.nn.FractionalMaxPool2d((3, 2), output_size=(5, 4), return_indices=True,
                                      _random_samples=torch.from_numpy(samples.copy()))
    (out, ind), (tout, tind) = m.double()(Variable(ember.from_numpy(x.copy()))), tm(torch.from_numpy(x.copy()))
    assert_same(out.data, tout, 0, 0)
    assert_same(ind.data, tind)
    # without samples: fresh draws each call, always a valid pooling of the input
    free = nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True)
    xv = Variable(ember.from_numpy(x.astype(np.float32)), requires_grad=True)
    out, ind = free(xv)
    assert out.size() == ember.Size([2, 3, 5, 4])
    planes = x.astype(np.float32).reshape(6, -1)
    np.testing.assert_array_equal(np.take_along_axis(planes, ind.data.numpy().reshape(6, -1), 1).reshape(out.size()),
                                  out.data.numpy())
    out.sum().backward()
    assert float(xv.grad.data.sum()) == out.numel()
    # gradgradcheck with fixed samples
    v = Variable(ember.from_numpy(_spread(rng, (1, 2, 7, 6))), requires_grad=True)
    s = ember.from_numpy(rng.uniform(size=(1, 2, 2)))
    fm = nn.FractionalMaxPool2d(2, output_size=(3, 4), _random_samples=s)
    assert gradgradcheck(fm, (v,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_fractional_max_pool_arguments():
    with pytest.raises(ValueError, match="FractionalMaxPool2d requires specifying either an output size, or a "
                                         "pooling ratio"):
        nn.FractionalMaxPool2d(3)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio may be specified"):
        nn.FractionalMaxPool2d(3, output_size=4, output_ratio=0.5)
    with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
        nn.FractionalMaxPool2d(3, output_ratio=1.5)
    m = nn.FractionalMaxPool2d(3, output_size=4)
    assert (m.kh, m.kw, m.outh, m.outw, m.ratioh, m.return_indices) == (3, 3, 4, 4, None, False)
    assert list(m.state_dict()) == []


# ---------------------------------------------------------------------- attributes and reprs

def test_attributes_as_0_2():
    m = nn.MaxPool2d(3)
    assert (m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, m.return_indices) == (3, 3, 0, 1, False,
                                                                                               False)
    a1 = nn.AvgPool1d(3)
    assert (a1.kernel_size, a1.stride, a1.padding) == ((3,), (3,), (0,))
    a2 = nn.AvgPool2d((2, 3))
    assert (a2.kernel_size, a2.stride) == ((2, 3), (2, 3))
    a3 = nn.AvgPool3d(2)
    assert (a3.kernel_size, a3.stride) == (2, None)
    u = nn.MaxUnpool3d(2, padding=1)
    assert (u.kernel_size, u.stride, u.padding) == ((2, 2, 2), (2, 2, 2), (1, 1, 1))
    assert repr(nn.MaxPool2d(3, 2, padding=1, dilation=2)) == \
        "MaxPool2d (size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2))"
    assert repr(nn.AdaptiveMaxPool2d(3, return_indices=True)) == "AdaptiveMaxPool2d (output_size=3)"


def test_avg_pool3d_defaults_stride_to_kernel():
    x = Variable(ember.randn(1, 2, 4, 6, 4))
    np.testing.assert_array_equal(nn.AvgPool3d(2)(x).data.numpy(), F.avg_pool3d(x, 2, 2).data.numpy())


# ---------------------------------------------------------------------- real Lua nn results

def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


def _spatial(m, names, prefix, default):
    return tuple(getattr(m, prefix + n, default) for n in names)


def _lua_layer(name, m):
    """The ember layer for a Lua nn pooling module (Lua lists W before H)."""
    if name.startswith("SpatialMaxPooling"):
        return nn.MaxPool2d(_spatial(m, "HW", "k", 1), _spatial(m, "HW", "d", 1), _spatial(m, "HW", "pad", 0),
                            ceil_mode=m.ceil_mode)
    if name.startswith("SpatialAveragePooling"):
        return nn.AvgPool2d(_spatial(m, "HW", "k", 1), _spatial(m, "HW", "d", 1), _spatial(m, "HW", "pad", 0),
                            ceil_mode=m.ceil_mode, count_include_pad=m.count_include_pad)
    if name.startswith("VolumetricMaxPooling"):
        return nn.MaxPool3d(_spatial(m, "THW", "k", 1), _spatial(m, "THW", "d", 1), _spatial(m, "THW", "pad", 0),
                            ceil_mode=m.ceil_mode)
    if name.startswith("VolumetricAveragePooling"):
        return nn.AvgPool3d(_spatial(m, "THW", "k", 1), _spatial(m, "THW", "d", 1))
    if name.startswith("SpatialAdaptiveMaxPooling"):
        return nn.AdaptiveMaxPool2d((m.H, m.W))
    if name.startswith("SpatialLPPooling"):
        return nn.LPPool2d(int(name[-1]), (m.kH, m.kW), (m.dH, m.dW))
    raise AssertionError(name)


@pytest.mark.parametrize("name", [
    "SpatialMaxPooling", "SpatialMaxPooling_pad", "SpatialMaxPooling_ceil", "SpatialMaxPooling_ceil_pad",
    "SpatialMaxPooling_nobatch", "SpatialAveragePooling", "SpatialAveragePooling_pad_include",
    "SpatialAveragePooling_pad_exclude", "SpatialAveragePooling_ceil_pad", "SpatialAveragePooling_ceil_exclude",
    "SpatialAdaptiveMaxPooling", "SpatialAdaptiveMaxPooling_nobatch", "SpatialLPPooling_p2", "SpatialLPPooling_p3",
    "VolumetricMaxPooling", "VolumetricMaxPooling_pad_ceil", "VolumetricAveragePooling",
    "VolumetricAveragePooling_overlap",
])
def test_matches_lua_nn(name):
    rec = _lua(name)
    layer = _lua_layer(name, rec["module"])
    x = Variable(rec["input"], requires_grad=True)
    out = layer(x)
    assert_same(out.data, rec["output"].numpy(), 1e-10, 1e-12)
    out.backward(rec["gradOutput"])
    assert_same(x.grad.data, rec["gradInput"].numpy(), 1e-10, 1e-12)


@pytest.mark.parametrize("name", ["TemporalMaxPooling", "TemporalMaxPooling_overlap_nobatch"])
def test_matches_lua_temporal_max_pooling(name):
    """Lua's TemporalMaxPooling pools (N, L, C) frames over L: max_pool1d on the transposed input."""
    rec = _lua(name)
    m = rec["module"]
    x = Variable(rec["input"], requires_grad=True)
    batched = x.dim() == 3
    xt = (x if batched else x.unsqueeze(0)).transpose(1, 2)
    out = F.max_pool1d(xt, m.kW, m.dW).transpose(1, 2)
    out = out if batched else out.squeeze(0)
    assert_same(out.data, rec["output"].numpy(), 1e-12, 1e-12)
    out.backward(rec["gradOutput"])
    assert_same(x.grad.data, rec["gradInput"].numpy(), 1e-12, 1e-12)


def test_matches_lua_max_unpooling():
    rec = _lua("SpatialMaxUnpooling")
    p = rec["module"].pooling
    values, indices = F.max_pool2d(Variable(rec["extra"]["poolInput"]), (p.kH, p.kW), (p.dH, p.dW),
                                   return_indices=True)
    assert_same(values.data, rec["input"].numpy(), 0, 0)
    x = Variable(rec["input"], requires_grad=True)
    out = F.max_unpool2d(x, indices, (p.kH, p.kW), (p.dH, p.dW), output_size=rec["output"].size())
    assert_same(out.data, rec["output"].numpy(), 0, 0)
    out.backward(rec["gradOutput"])
    assert_same(x.grad.data, rec["gradInput"].numpy(), 0, 0)

    pair = _lua("SpatialMaxUnpooling_pair")  # SpatialMaxPooling(3, 2, 3, 2):ceil() then its unpooling
    x = Variable(pair["input"], requires_grad=True)
    values, indices = F.max_pool2d(x, (2, 3), (2, 3), ceil_mode=True, return_indices=True)
    out = F.max_unpool2d(values, indices, (2, 3), (2, 3), output_size=x.size())
    assert_same(out.data, pair["output"].numpy(), 0, 0)
    out.backward(pair["gradOutput"])
    assert_same(x.grad.data, pair["gradInput"].numpy(), 0, 0)


# ---------------------------------------------------------------------- errors

def test_input_smaller_than_kernel_names_layer_and_sizes():
    with pytest.raises(RuntimeError, match=r"^MaxPool2d: .*Given input size: \(3x2x32\)\. Calculated output size: "
                                           r"\(3x0x10\)\. Output size is too small"):
        nn.MaxPool2d(3)(Variable(ember.randn(1, 3, 2, 32)))
    with pytest.raises(RuntimeError, match=r"^AvgPool3d: .*Given input size: \(2x1x4x4\)"):
        nn.AvgPool3d(2)(Variable(ember.randn(1, 2, 1, 4, 4)))


def test_wrong_dims():
    with pytest.raises(ValueError, match=r"^MaxPool1d: expected 3D input \(got 4 dimensions\)"):
        nn.MaxPool1d(2)(Variable(ember.randn(1, 2, 3, 4)))
    with pytest.raises(ValueError, match=r"expected 3D input \(got 2 dimensions\)"):
        F.avg_pool1d(Variable(ember.randn(2, 8)), 2)
    with pytest.raises(ValueError, match=r"expected 3D input \(got 4D input\)"):
        F.adaptive_avg_pool1d(Variable(ember.randn(1, 2, 3, 4)), 2)
    with pytest.raises(RuntimeError, match=r"^MaxPool2d: .*3D or 4D input tensor expected but got: \[2 x 8\]"):
        nn.MaxPool2d(2)(Variable(ember.randn(2, 8)))


def test_padding_larger_than_half_kernel():
    with pytest.raises(RuntimeError, match="pad should be smaller than half of kernel size"):
        F.max_pool2d(Variable(ember.randn(1, 1, 6, 6)), 2, padding=2)


def test_integer_input_rejected():
    with pytest.raises(TypeError, match="torch.FloatTensor or torch.DoubleTensor, got torch.LongTensor"):
        F.max_pool2d(Variable(ember.LongTensor(1, 1, 4, 4).zero_()), 2)


# ---------------------------------------------------------------------- CUDA

def _on_cuda_and_cpu(fn, *arrays):
    """fn's outputs and the inputs' gradients (for the same random grad_outputs) on the CPU and on CUDA, as
    NumPy arrays: ([CPU results], [CUDA results]), a missing gradient as zeros; the outputs must stay on the
    inputs' side."""
    rng = np.random.RandomState(11)
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        xs = [Variable(to(ember.from_numpy(a.copy())), requires_grad=True) for a in arrays]
        outs = fn(*xs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        rng.seed(11)
        values = [o for o in outs if o.requires_grad]
        ember.autograd.backward(values, [to(ember.from_numpy(rng.standard_normal(tuple(o.size()))))
                                         for o in values])
        assert all(o.data.is_cuda == xs[0].data.is_cuda for o in outs)
        results.append([o.data.cpu().numpy() for o in outs] +
                       [np.zeros(x.size()) if x.grad is None else x.grad.data.cpu().numpy() for x in xs])
    return results


@pytest.mark.parametrize("case", range(len(POOLS)))
def test_cuda_functional_matches_cpu(device_mode, case):
    name, shape, kw = POOLS[case]
    x = _spread(np.random.RandomState(case), shape)
    if name == "lp_pool2d":
        x = np.abs(x) + 0.5
    if name.startswith(_INDICES):
        kw = dict(kw, return_indices=True)
    want, got = _on_cuda_and_cpu(lambda v: getattr(F, name)(v, **kw), x)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("nd,shape,kw", [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2)),
    (2, (2, 3, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
    (3, (1, 2, 5, 6, 4), dict(kernel_size=2, stride=(2, 2, 1))),
])
def test_cuda_max_unpool_matches_cpu(device_mode, nd, shape, kw):
    x = _spread(np.random.RandomState(nd), shape)

    def pool_unpool(v):
        out, ind = getattr(F, "max_pool{}d".format(nd))(v, return_indices=True, **kw)
        return getattr(F, "max_unpool{}d".format(nd))(out, ind, output_size=v.size(), **kw)
    want, got = _on_cuda_and_cpu(pool_unpool, x)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,kw", [("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
                                     ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
                                     ("adaptive_max_pool2d", dict(output_size=(3, 2))),
                                     ("adaptive_avg_pool2d", dict(output_size=(4, 3)))])
def test_cuda_double_backward_matches_cpu(device_mode, name, kw):
    """grad_input recorded (create_graph) and differentiated against grad_output: the index scatter/gather and
    adjoint kernels on the device."""
    rng = np.random.RandomState(3)
    x, r = _spread(rng, (2, 3, 7, 6)), rng.standard_normal((2, 3, 7, 6))

    def grad_of_grad(v, go):
        (g,) = autograd_grad(getattr(F, name)(v, **kw), v, go, create_graph=True)
        return (g * Variable(ember.from_numpy(r.copy()).type(type(v.data)))).sum()
    go = rng.standard_normal(tuple(getattr(F, name)(Variable(ember.from_numpy(x)), **kw).size()))
    want, got = _on_cuda_and_cpu(grad_of_grad, x, go)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_cuda_half_layers_match_float(device_mode):
    x = np.random.RandomState(2).permutation(2 * 3 * 8 * 8).reshape(2, 3, 8, 8) / 32.0  # exact in half
    for layer in (nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2, count_include_pad=False), nn.AdaptiveAvgPool2d(3),
                  nn.AdaptiveMaxPool2d((3, 5))):
        grads = []
        for cast in ("float", "half"):
            v = Variable(getattr(ember.from_numpy(x).cuda(), cast)(), requires_grad=True)
            out = layer(v)
            out.backward(getattr(ember.cuda.FloatTensor(*out.size()).fill_(1), cast)())
            grads.append((out.data.float().cpu().numpy(), v.grad.data.float().cpu().numpy()))
            assert type(out.data) is type(v.data)
        for a, b in zip(*grads):
            np.testing.assert_allclose(b, a, rtol=1e-2, atol=1e-3)


def test_cuda_fractional_max_pool_layer(device_mode):
    x = _spread(np.random.RandomState(6), (2, 3, 11, 9))
    samples = np.random.RandomState(7).uniform(size=(2, 3, 2))
    m = nn.FractionalMaxPool2d((3, 2), output_size=(5, 4), return_indices=True,
                               _random_samples=ember.from_numpy(samples.copy()))
    (out, ind), (cout, cind) = m(Variable(ember.from_numpy(x.copy()))), m.cuda()(Variable(ember.from_numpy(x).cuda()))
    np.testing.assert_array_equal(cout.data.cpu().numpy(), out.data.numpy())
    np.testing.assert_array_equal(cind.data.cpu().numpy(), ind.data.numpy())
    # without samples: drawn on the device each call; the gradient reaches the picked elements
    v = Variable(ember.from_numpy(x).cuda(), requires_grad=True)
    out, ind = nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True)(v)
    assert out.size() == ember.Size([2, 3, 5, 4]) and ind.data.is_cuda
    out.sum().backward()
    grad, picked = v.grad.data.cpu().numpy().reshape(6, -1), ind.data.cpu().numpy().reshape(6, -1)
    assert grad.sum() == out.numel()
    for plane in range(6):
        np.testing.assert_array_equal(np.nonzero(grad[plane])[0], np.unique(picked[plane]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_max_pool_nans_and_padding_match_cpu(device_mode, dtype):
    """Windows holding several NaNs, -inf, and taps in the padding: the GPU kernel picks the CPU kernel's
    values and indices."""
    x = np.random.RandomState(4).standard_normal((2, 3, 7, 6)).astype(dtype)
    x[0, 0, 1:3, 1:3] = np.nan
    x[1, 2] = -np.inf
    x[0, 1, :, 0] = np.nan
    kw = dict(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True, return_indices=True)
    want = F.max_pool2d(Variable(ember.from_numpy(x.copy())), **kw)
    got = F.max_pool2d(Variable(ember.from_numpy(x.copy()).cuda()), **kw)
    np.testing.assert_array_equal(got[0].data.cpu().numpy(), want[0].data.numpy())
    np.testing.assert_array_equal(got[1].data.cpu().numpy(), want[1].data.numpy())
