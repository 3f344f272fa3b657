"""Dropout, Dropout2d/3d and AlphaDropout: statistics of the random masks (fraction zeroed, scaling), train
and eval behaviour, 0.2's training=False default, in-place forms, gradients and errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, grad

from _helpers.data import shared_data
from _helpers.oracle import assert_same, to_numpy

ALPHA_PRIME = -1.7580993408473766


def _var(arr, requires_grad=False):
    return Variable(ember.from_numpy(np.ascontiguousarray(arr).copy()), requires_grad=requires_grad)


def _binomial_ok(frac, p, n):
    """``frac`` is within 5 standard deviations of the mean of Binomial(n, p) / n."""
    return abs(frac - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_training_statistics_and_gradient(dtype, p):
    ember.manual_seed(1)
    x = np.random.RandomState(0).uniform(1, 2, (300, 200)).astype(dtype)
    xv = _var(x.T, requires_grad=True)  # non-contiguous view below
    xin = xv.t()
    y = F.dropout(xin, p, training=True)
    yd = to_numpy(y.data)
    dropped = yd == 0
    assert _binomial_ok(dropped.mean(), p, x.size)
    np.testing.assert_allclose(yd[~dropped], x[~dropped] / dtype(1 - p), rtol=1e-6)
    assert y.data.type() == xin.data.type() and y.data.is_contiguous()
    g = np.random.RandomState(1).standard_normal(x.shape)
    y.backward(ember.from_numpy(g.astype(dtype)))
    gx = to_numpy(xv.grad.data).T
    np.testing.assert_allclose(gx, np.where(dropped, 0, g / (1 - p)).astype(dtype), rtol=1e-6, atol=1e-7)


def test_dropout_defaults_to_eval_and_copies():
    x = _var(np.arange(12.).reshape(3, 4))
    y = F.dropout(x)  # 0.2: training=False by default
    np.testing.assert_array_equal(to_numpy(y.data), to_numpy(x.data))
    y.data.fill_(0)  # the result is a copy, not a view of the input
    assert float(x.data.sum()) == 66
    assert F.dropout2d(x).data.equal(x.data) and F.dropout3d(x).data.equal(x.data)
    assert F.alpha_dropout(x) is x


def test_dropout_p0_and_p1():
    x = _var(np.ones((20, 30)), requires_grad=True)
    y = F.dropout(x, 0, training=True)
    assert y.data.equal(x.data)
    y.sum().backward()
    assert float(x.grad.data.min()) == 1
    x.grad.data.zero_()
    z = F.dropout(x, 1, training=True)
    assert float(z.data.abs().max()) == 0
    z.sum().backward()
    assert float(x.grad.data.abs().max()) == 0


def test_dropout_inplace():
    ember.manual_seed(2)
    x = _var(np.ones((100, 50)), requires_grad=True)
    y = x * 1
    version = y._version
    r = F.dropout(y, 0.3, training=True, inplace=True)
    assert r is y and y._version == version + 1
    yd = to_numpy(y.data)
    assert _binomial_ok((yd == 0).mean(), 0.3, yd.size)
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad.data), yd)  # d(x * noise)/dx = noise = y for x = 1
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        F.dropout(x, 0.3, training=True, inplace=True)
    m = nn.Dropout(0.5, inplace=True)
    assert repr(m) == "Dropout (p = 0.5, inplace)"
    v = _var(np.ones((4, 5)))
    assert m(v) is v


def test_dropout_is_reproducible_with_manual_seed():
    x = _var(np.ones((30, 30)))
    ember.manual_seed(7)
    a = to_numpy(F.dropout(x, 0.5, True).data)
    ember.manual_seed(7)
    b = to_numpy(F.dropout(x, 0.5, True).data)
    c = to_numpy(F.dropout(x, 0.5, True).data)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


@pytest.mark.parametrize("fn,shape", [(F.dropout2d, (40, 50, 3, 4)), (F.dropout3d, (40, 50, 2, 3, 2)),
                                      (F.dropout2d, (300, 40))])
def test_feature_dropout_zeroes_whole_channels(fn, shape):
    ember.manual_seed(3)
    p = 0.4
    x = np.random.RandomState(0).uniform(1, 2, shape)
    xv = _var(x, requires_grad=True)
    y = fn(xv, p, training=True)
    yd = to_numpy(y.data).reshape(shape[0], shape[1], -1)
    dropped = (yd == 0).all(axis=2)
    kept = (yd != 0).all(axis=2)
    assert (dropped | kept).all()  # each (sample, channel) is dropped as a whole
    assert _binomial_ok(dropped.mean(), p, dropped.size)
    np.testing.assert_allclose(yd[kept], x.reshape(yd.shape)[kept] / (1 - p), rtol=1e-12)
    y.sum().backward()
    gx = to_numpy(xv.grad.data).reshape(yd.shape)
    np.testing.assert_allclose(gx, np.where(dropped[:, :, None], 0, 1 / (1 - p)) * np.ones_like(gx))


def test_feature_dropout_needs_two_dims():
    with pytest.raises(RuntimeError, match=r"at least 2 dimensions.*got size \[5\]"):
        F.dropout2d(_var(np.ones(5)), 0.5, training=True)


def test_dropout_modules_train_and_eval():
    ember.manual_seed(4)
    x = _var(np.ones((50, 40, 2, 2)))
    for m in (nn.Dropout(0.3), nn.Dropout2d(0.3), nn.Dropout3d(0.3)):
        y = to_numpy(m(x).data)
        assert (y == 0).any() and np.allclose(y[y != 0], 1 / 0.7)
        m.eval()
        assert m(x).data.equal(x.data)
    assert repr(nn.Dropout2d()) == "Dropout2d (p=0.5)" and repr(nn.Dropout3d(0.1, True)) == "Dropout3d (p=0.1, inplace)"


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_dropout_probability_checks(bad):
    msg = "dropout probability has to be between 0 and 1, but got {}".format(bad)
    for cls in (nn.Dropout, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout):
        with pytest.raises(ValueError, match=msg):
            cls(bad)
    for fn in (F.dropout, F.dropout2d, F.dropout3d, F.alpha_dropout):
        with pytest.raises(ValueError, match=msg):
            fn(_var(np.ones((2, 3))), bad, True)


def test_dropout_rejects_integer_tensors():
    with pytest.raises(TypeError, match=r"dropout\(\): expected input.*floating point.*torch.LongTensor"):
        F.dropout(Variable(ember.LongTensor(3, 4).zero_()), 0.5, True)


def test_dropout_backward_is_differentiable_in_grad_output():
    ember.manual_seed(5)
    x = _var(np.ones((10, 10)), requires_grad=True)
    y = F.dropout(x, 0.5, training=True)
    go = _var(np.full((10, 10), 2.0), requires_grad=True)
    gx, = grad([y], [x], [go], create_graph=True)
    np.testing.assert_allclose(to_numpy(gx.data), 2 * to_numpy(y.data))
    gx.sum().backward()
    np.testing.assert_allclose(to_numpy(go.grad.data), to_numpy(y.data))


def test_alpha_dropout_statistics_and_gradient():
    ember.manual_seed(6)
    p = 0.2
    x = np.random.RandomState(0).standard_normal((400, 500))
    xv = _var(x, requires_grad=True)
    y = to_numpy(F.alpha_dropout(xv, p, training=True).data)
    q = 1 - p
    a = (q + ALPHA_PRIME ** 2 * q * p) ** -0.5
    b = -a * ALPHA_PRIME * p
    dropped = np.isclose(y, a * ALPHA_PRIME + b, rtol=0, atol=1e-12)
    assert _binomial_ok(dropped.mean(), p, x.size)
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=1e-12, atol=1e-15)
    # zero mean and unit variance are kept for standard normal input
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    F.alpha_dropout(xv, p, training=True).sum().backward()
    gx = to_numpy(xv.grad.data)
    assert set(np.unique(np.round(gx, 12))) == {0.0, round(a, 12)}
    assert _binomial_ok((gx == 0).mean(), p, x.size)


def test_alpha_dropout_module_and_p1():
    m = nn.AlphaDropout(0.3)
    assert repr(m) == "AlphaDropout (p = 0.3)"
    x = _var(np.random.RandomState(0).standard_normal((50, 50)))
    assert not m(x).data.equal(x.data)
    m.eval()
    assert m(x) is x
    xv = _var(np.ones((3, 4)), requires_grad=True)
    y = F.alpha_dropout(xv, 1, training=True)
    assert float(y.data.abs().max()) == 0
    y.sum().backward()
    assert float(xv.grad.data.abs().max()) == 0


# ---------------------------------------------------------------------- CUDA (the noise is the GPU's own)

def _cuda_var(arr, cls, requires_grad=False):
    return Variable(ember.from_numpy(np.ascontiguousarray(arr)).cuda().type(cls), requires_grad=requires_grad)


@pytest.mark.parametrize("cls_name, rtol", [("FloatTensor", 1e-6), ("DoubleTensor", 1e-12), ("HalfTensor", 1e-2)])
def test_dropout_on_cuda_statistics_and_gradient(device_mode, cls_name, rtol):
    cls = getattr(ember.cuda, cls_name)
    p = 0.3
    x = np.random.RandomState(0).uniform(1, 2, (300, 200))
    xv = _cuda_var(x, cls, requires_grad=True)
    y = F.dropout(xv, p, training=True)
    assert type(y.data) is cls
    yd = to_numpy(y.data).astype(np.float64)
    dropped = yd == 0
    assert _binomial_ok(dropped.mean(), p, x.size)
    np.testing.assert_allclose(yd[~dropped], x[~dropped] / (1 - p), rtol=rtol)
    g = np.random.RandomState(1).standard_normal(x.shape)
    y.backward(_cuda_var(g, cls).data)
    assert type(xv.grad.data) is cls
    np.testing.assert_allclose(to_numpy(xv.grad.data), np.where(dropped, 0, g / (1 - p)), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("fn, shape", [(F.dropout2d, (40, 50, 3, 4)), (F.dropout3d, (40, 50, 2, 3, 2))])
def test_feature_dropout_on_cuda_zeroes_whole_channels(device_mode, fn, shape):
    p = 0.4
    x = np.random.RandomState(0).uniform(1, 2, shape)
    xv = _cuda_var(x, ember.cuda.DoubleTensor, requires_grad=True)
    y = fn(xv, p, training=True)
    yd = to_numpy(y.data).reshape(shape[0], shape[1], -1)
    dropped, kept = (yd == 0).all(axis=2), (yd != 0).all(axis=2)
    assert (dropped | kept).all() and _binomial_ok(dropped.mean(), p, dropped.size)
    np.testing.assert_allclose(yd[kept], x.reshape(yd.shape)[kept] / (1 - p), rtol=1e-12)
    y.sum().backward()
    gx = to_numpy(xv.grad.data).reshape(yd.shape)
    np.testing.assert_allclose(gx, np.where(dropped[:, :, None], 0, 1 / (1 - p)) * np.ones_like(gx))


def test_dropout_on_cuda_eval_p0_p1_and_inplace(device_mode):
    x = _cuda_var(np.arange(12.).reshape(3, 4), ember.cuda.FloatTensor, requires_grad=True)
    for fn in (F.dropout, F.dropout2d, F.dropout3d):
        y = fn(x)  # training=False: a copy
        assert type(y.data) is ember.cuda.FloatTensor and y.data.equal(x.data)
    y.data.fill_(0)
    assert float(x.data.sum()) == 66
    assert F.dropout(x, 0, training=True).data.equal(x.data)
    z = F.dropout(x, 1, training=True)
    assert float(z.data.abs().max()) == 0
    z.sum().backward()
    assert float(x.grad.data.abs().max()) == 0
    w = x * 1
    assert F.dropout(w, 0.5, training=True, inplace=True) is w
    wd = to_numpy(w.data)
    assert np.all((wd == 0) | (wd == 2 * np.arange(12.).reshape(3, 4)))


def test_alpha_dropout_on_cuda_statistics_and_gradient(device_mode):
    p = 0.2
    x = np.random.RandomState(0).standard_normal((400, 500))
    xv = _cuda_var(x, ember.cuda.DoubleTensor, requires_grad=True)
    y = F.alpha_dropout(xv, p, training=True)
    assert type(y.data) is ember.cuda.DoubleTensor
    yd = to_numpy(y.data)
    q = 1 - p
    a = (q + ALPHA_PRIME ** 2 * q * p) ** -0.5
    b = -a * ALPHA_PRIME * p
    dropped = np.isclose(yd, a * ALPHA_PRIME + b, rtol=0, atol=1e-12)
    assert _binomial_ok(dropped.mean(), p, x.size)
    np.testing.assert_allclose(yd[~dropped], a * x[~dropped] + b, rtol=1e-12, atol=1e-15)
    y.sum().backward()
    gx = to_numpy(xv.grad.data)
    np.testing.assert_allclose(gx, np.where(dropped, 0, a), rtol=1e-12)


def test_dropout_on_another_gpu(fake_cuda):
    """The noise and the output are made on the input's GPU, not the current one."""
    x = Variable(ember.cuda.FloatTensor(6, 5).fill_(1).cuda(1), requires_grad=True)
    for fn in (lambda v: F.dropout(v, 0.5, True), lambda v: F.dropout2d(v, 0.5, True),
               lambda v: F.alpha_dropout(v, 0.5, True)):
        y = fn(x)
        assert y.get_device() == 1
        y.sum().backward()
        assert x.grad.get_device() == 1


# ---------------------------------------------------------------------- real Lua nn results (shared data)

def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


def test_eval_mode_matches_lua_nn():
    d = _lua("Dropout_eval")
    assert d["args"] == "nn.Dropout(0.4)" and d["mode"] == "evaluate"
    x = Variable(d["input"].clone(), requires_grad=True)
    out = nn.Dropout(0.4).eval()(x)
    out.backward(d["gradOutput"])
    assert_same(out.data, d["output"], 0, 0)
    assert_same(x.grad.data, d["gradInput"], 0, 0)
