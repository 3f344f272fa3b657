"""nn.functional activations against torch.nn.functional (float and double, non-contiguous inputs, in-place
forms) and against real Lua nn results (shared data), double backward, 0.2's implicit softmax dims, RReLU's
random slopes, and the errors."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck

from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch, to_numpy

DTYPES = [np.float32, np.float64]


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def _data(shape, dtype, scale=2.0, seed=0):
    return (np.random.RandomState(seed).standard_normal(shape) * scale).astype(dtype)


# name: (ember call, torch call, input scale)
FUNCS = {
    "relu": (lambda x: F.relu(x), lambda t, x: t.nn.functional.relu(x), 2),
    "relu6": (lambda x: F.relu6(x), lambda t, x: t.nn.functional.relu6(x), 5),
    "threshold": (lambda x: F.threshold(x, 0.3, -1.5), lambda t, x: t.nn.functional.threshold(x, 0.3, -1.5), 2),
    "hardtanh": (lambda x: F.hardtanh(x, -0.4, 1.2), lambda t, x: t.nn.functional.hardtanh(x, -0.4, 1.2), 2),
    "elu": (lambda x: F.elu(x, 0.8), lambda t, x: t.nn.functional.elu(x, 0.8), 3),
    "selu": (lambda x: F.selu(x), lambda t, x: t.nn.functional.selu(x), 3),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.15), lambda t, x: t.nn.functional.leaky_relu(x, 0.15), 2),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.1, 0.4), lambda t, x: t.nn.functional.rrelu(x, 0.1, 0.4, training=False), 2),
    "glu": (lambda x: F.glu(x), lambda t, x: t.nn.functional.glu(x), 1),
    "glu_dim0": (lambda x: F.glu(x, 0), lambda t, x: t.nn.functional.glu(x, 0), 1),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda t, x: t.nn.functional.logsigmoid(x), 20),
    "hardshrink": (lambda x: F.hardshrink(x, 0.7), lambda t, x: t.nn.functional.hardshrink(x, 0.7), 2),
    "tanhshrink": (lambda x: F.tanhshrink(x), lambda t, x: t.nn.functional.tanhshrink(x), 2),
    "softsign": (lambda x: F.softsign(x), lambda t, x: t.nn.functional.softsign(x), 2),
    "softplus": (lambda x: F.softplus(x), lambda t, x: t.nn.functional.softplus(x), 30),
    "softplus_beta": (lambda x: F.softplus(x, 3, 4), lambda t, x: t.nn.functional.softplus(x, 3, 4), 3),
    "softshrink": (lambda x: F.softshrink(x, 0.3), lambda t, x: t.nn.functional.softshrink(x, 0.3), 2),
    "softmin": (lambda x: F.softmin(x), lambda t, x: t.nn.functional.softmin(x, 1), 3),
    "softmax": (lambda x: F.softmax(x), lambda t, x: t.nn.functional.softmax(x, 1), 3),
    "log_softmax": (lambda x: F.log_softmax(x), lambda t, x: t.nn.functional.log_softmax(x, 1), 3),
    "tanh": (lambda x: F.tanh(x), lambda t, x: t.tanh(x), 2),
    "sigmoid": (lambda x: F.sigmoid(x), lambda t, x: t.sigmoid(x), 2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_against_torch(name, dtype):
    torch = require_torch()
    efn, tfn, scale = FUNCS[name]
    base = _data((6, 8), dtype, scale)
    for transpose in (False, True):  # contiguous and non-contiguous inputs
        ex = Variable(ember.from_numpy(base.copy()), requires_grad=True)
        tx = torch.from_numpy(base.copy()).requires_grad_(True)
        ey = efn(ex.t() if transpose else ex)
        ty = tfn(torch, tx.t() if transpose else tx)
        assert_same(ey.data, ty, **_tol(dtype))
        gout = _data(tuple(ty.shape), dtype, 1, seed=1)
        ey.backward(ember.from_numpy(gout.copy()))
        ty.backward(torch.from_numpy(gout))
        assert_same(ex.grad.data, tx.grad, **_tol(dtype))


# in-place forms: (ember call with inplace=True, out-of-place torch reference)
INPLACE = {
    "relu": (lambda x: F.relu(x, inplace=True), lambda t, x: t.nn.functional.relu(x)),
    "relu6": (lambda x: F.relu6(x, inplace=True), lambda t, x: t.nn.functional.relu6(x)),
    "threshold": (lambda x: F.threshold(x, 0.2, -1.0, inplace=True), lambda t, x: t.nn.functional.threshold(x, 0.2, -1.)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.5, inplace=True), lambda t, x: t.nn.functional.hardtanh(x, -.5, .5)),
    "elu": (lambda x: F.elu(x, 1.3, inplace=True), lambda t, x: t.nn.functional.elu(x, 1.3)),
    "selu": (lambda x: F.selu(x, inplace=True), lambda t, x: t.nn.functional.selu(x)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.3, inplace=True), lambda t, x: t.nn.functional.leaky_relu(x, 0.3)),
    "rrelu_eval": (lambda x: F.rrelu(x, 0.2, 0.3, inplace=True),
                   lambda t, x: t.nn.functional.rrelu(x, 0.2, 0.3, training=False)),
    "dropout_eval": (lambda x: F.dropout(x, 0.5, False, inplace=True), lambda t, x: x * 1),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace(name):
    torch = require_torch()
    efn, tfn = INPLACE[name]
    base = _data((5, 7), np.float64, 2)
    ex = Variable(ember.from_numpy(base.copy()), requires_grad=True)
    y = ex * 1
    version = y._version
    r = efn(y)
    assert r is y and y._version == version + 1  # the same Variable, modified in place
    tx = torch.from_numpy(base.copy()).requires_grad_(True)
    ty = tfn(torch, tx)
    assert_same(y.data, ty, rtol=1e-12, atol=1e-12)
    gout = _data((5, 7), np.float64, 1, seed=3)
    y.backward(ember.from_numpy(gout.copy()))
    ty.backward(torch.from_numpy(gout))
    assert_same(ex.grad.data, tx.grad, rtol=1e-12, atol=1e-12)


def test_inplace_threshold_needs_a_value_not_above_the_threshold():
    x = Variable(ember.randn(3, 4))
    with pytest.raises(RuntimeError, match=r"in-place processing requires value \(5.0\) to not exceed threshold "
                                           r"\(0.2\)"):
        F.threshold(x, 0.2, 5.0, inplace=True)
    assert F.threshold(x, 0.2, 5.0).size() == x.size()  # out of place: any value


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_on_non_contiguous_data(name):
    torch = require_torch()
    efn, tfn = INPLACE[name]
    base = _data((4, 6), np.float32, 2)
    data = ember.from_numpy(base.copy())
    v = Variable(data.t())  # no gradient needed: in-place is allowed on this leaf
    r = efn(v)
    assert r is v and not v.data.is_contiguous()
    assert_same(data.t(), tfn(torch, torch.from_numpy(base.copy()).t()), rtol=1e-6, atol=1e-6)


def test_inplace_on_leaf_requiring_grad_raises():
    x = Variable(ember.randn(3, 4), requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        F.relu(x, inplace=True)


def test_inplace_module_flags_and_reprs():
    assert repr(nn.ReLU(inplace=True)) == "ReLU (inplace)"
    assert repr(nn.ReLU6(True)) == "ReLU6 (inplace)"
    assert repr(nn.Threshold(0.5, 2, True)) == "Threshold (0.5, 2, inplace)"
    assert repr(nn.Hardtanh(-2, 3, True)) == "Hardtanh (min_val=-2, max_val=3, inplace)"
    assert repr(nn.ELU(0.5, True)) == "ELU (alpha=0.5, inplace)"
    assert repr(nn.SELU(True)) == "SELU (inplace)"
    assert repr(nn.LeakyReLU(0.1, True)) == "LeakyReLU (0.1, inplace)"
    assert repr(nn.RReLU(0.1, 0.2, True)) == "RReLU (0.1, 0.2, inplace)"
    x = Variable(ember.randn(3, 4))
    y = nn.ReLU(inplace=True)(x)
    assert y is x and float(x.data.min()) >= 0


# ---------------------------------------------------------------------- double backward

GRADGRAD = {
    "relu": lambda x: F.relu(x),
    "threshold": lambda x: F.threshold(x, 0.1, 2.0),
    "hardtanh": lambda x: F.hardtanh(x, -0.5, 0.8),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "elu": lambda x: F.elu(x, 0.7),
    "selu": lambda x: F.selu(x),
    "softplus": lambda x: F.softplus(x, 2, 3),
    "logsigmoid": lambda x: F.logsigmoid(x),
    "hardshrink": lambda x: F.hardshrink(x, 0.3),
    "softshrink": lambda x: F.softshrink(x, 0.3),
    "softsign": lambda x: F.softsign(x),
    "tanhshrink": lambda x: F.tanhshrink(x),
    "glu": lambda x: F.glu(x, 1),
    "softmax": lambda x: F.softmax(x),
    "log_softmax": lambda x: F.log_softmax(x),
    "softmin": lambda x: F.softmin(x),
    "rrelu_eval": lambda x: F.rrelu(x, 0.2, 0.4),
}


@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_gradcheck_and_gradgradcheck(name):
    fn = GRADGRAD[name]
    x = Variable(ember.from_numpy(_data((3, 4), np.float64, 1.5, seed=5)), requires_grad=True)
    assert gradcheck(fn, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 2)])
def test_prelu_gradgradcheck(shape):
    x = Variable(ember.from_numpy(_data(shape, np.float64, 1.5, seed=6)), requires_grad=True)
    n = shape[1] if len(shape) > 1 else shape[0]
    w = Variable(ember.from_numpy(np.linspace(0.1, 0.5, n)), requires_grad=True)
    assert gradcheck(F.prelu, (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(F.prelu, (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)


# ---------------------------------------------------------------------- softmax family: 0.2's implicit dim

@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((3, 4, 2), 0), ((2, 3, 2, 4), 1)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "softmin"])
def test_softmax_implicit_dim(shape, dim, fn):
    torch = require_torch()
    x = _data(shape, np.float32, 3)
    ev = Variable(ember.from_numpy(x.copy()), requires_grad=True)
    tv = torch.from_numpy(x.copy()).requires_grad_(True)
    ey = getattr(F, fn)(ev)
    ty = getattr(torch.nn.functional, fn)(tv, dim)
    assert_same(ey.data, ty, rtol=1e-5, atol=1e-6)
    g = _data(shape, np.float32, 1, seed=2)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(ev.grad.data, tv.grad, rtol=1e-5, atol=1e-6)


def test_softmax_explicit_dim_extra():
    torch = require_torch()
    x = _data((2, 3, 4, 2, 2), np.float64, 2)
    for d in (0, 2, -1):
        assert_same(F.softmax(Variable(ember.from_numpy(x.copy())), dim=d).data,
                    torch.nn.functional.softmax(torch.from_numpy(x), d))
        assert_same(F.log_softmax(Variable(ember.from_numpy(x.copy())), d).data,
                    torch.nn.functional.log_softmax(torch.from_numpy(x), d))
    assert_same(nn.Softmax(dim=2)(Variable(ember.from_numpy(x.copy()))).data,
                torch.nn.functional.softmax(torch.from_numpy(x), 2))


def test_softmax_errors():
    x5 = Variable(ember.randn(2, 2, 2, 2, 2))
    for fn in (F.softmax, F.log_softmax, F.softmin):
        with pytest.raises(RuntimeError, match=r"1D, 2D, 3D or 4D tensor expected, got a 5D tensor of size "
                                               r"\[2 x 2 x 2 x 2 x 2\]"):
            fn(x5)
    with pytest.raises(RuntimeError, match="1D, 2D, 3D or 4D tensor expected, got a 0D"):
        F.softmax(Variable(ember.FloatTensor()))
    with pytest.raises(RuntimeError, match=r"Softmax requires a 2D tensor as input, got input of size \[2 x 3 x 4\]"):
        nn.Softmax()(Variable(ember.randn(2, 3, 4)))
    with pytest.raises(RuntimeError, match=r"Softmax2d requires a 4D tensor as input, got input of size \[2 x 3\]"):
        nn.Softmax2d()(Variable(ember.randn(2, 3)))
    with pytest.raises(TypeError, match="softmax.*floating point.*torch.LongTensor"):
        F.softmax(Variable(ember.LongTensor(2, 3).zero_()))


def test_softmax_is_stable_for_large_inputs():
    x = Variable(ember.FloatTensor([[1000., 0., -1000.], [-1e30, 1e30, 0.]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.softmax(x).data
        ly = F.log_softmax(x).data
    np.testing.assert_allclose(to_numpy(y), [[1, 0, 0], [0, 1, 0]], atol=1e-7)
    assert np.isfinite(to_numpy(ly)).all() or np.isneginf(to_numpy(ly)).any()
    assert float(ly[0][0]) == 0


# ---------------------------------------------------------------------- PReLU

def test_prelu_per_channel_1d_input_against_numpy():
    # 0.2 (THNN) takes dim 0 as the channel dim of a 1-D input
    x = _data((4,), np.float64, 2)
    w = np.array([0.1, 0.2, 0.3, 0.4])
    xv = Variable(ember.from_numpy(x.copy()), requires_grad=True)
    wv = Variable(ember.from_numpy(w.copy()), requires_grad=True)
    y = F.prelu(xv, wv)
    np.testing.assert_allclose(to_numpy(y.data), np.where(x > 0, x, w * x))
    g = _data((4,), np.float64, 1, seed=1)
    y.backward(ember.from_numpy(g.copy()))
    np.testing.assert_allclose(to_numpy(xv.grad.data), np.where(x > 0, g, w * g))
    np.testing.assert_allclose(to_numpy(wv.grad.data), np.where(x > 0, 0, g * x))


def test_prelu_module_float_against_torch():
    torch = require_torch()
    m = nn.PReLU(3, init=0.3)
    m.weight.data.copy_(ember.FloatTensor([0.1, -0.2, 0.5]))
    tm = torch.nn.PReLU(3)
    tm.weight.data.copy_(torch.tensor([0.1, -0.2, 0.5]))
    x = _data((2, 3, 4, 5), np.float32, 2)
    xv = Variable(ember.from_numpy(x.copy()).transpose(2, 3), requires_grad=True)
    tx = torch.from_numpy(x.copy()).transpose(2, 3).requires_grad_(True)
    y, ty = m(xv), tm(tx)
    assert_same(y.data, ty, rtol=1e-5, atol=1e-6)
    g = _data(tuple(ty.shape), np.float32, 1, seed=4)
    y.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(xv.grad.data, tx.grad, rtol=1e-5, atol=1e-6)
    assert_same(m.weight.grad.data, tm.weight.grad, rtol=1e-4, atol=1e-5)


def test_prelu_errors():
    with pytest.raises(RuntimeError, match=r"Wrong number of input planes. Expected 3 but got 4.*\[2 x 4 x 5\]"):
        nn.PReLU(3)(Variable(ember.randn(2, 4, 5)))
    with pytest.raises(TypeError, match="expected weight to be a torch.DoubleTensor"):
        nn.PReLU()(Variable(ember.randn(2, 4).double()))


# ---------------------------------------------------------------------- RReLU training: random slopes

def test_rrelu_training_slopes():
    lower, upper = 0.1, 0.3
    ember.manual_seed(3)
    x = np.concatenate([-np.linspace(0.5, 3, 20000), np.linspace(0.5, 3, 20000)])
    xv = Variable(ember.from_numpy(x.copy()), requires_grad=True)
    y = F.rrelu(xv, lower, upper, training=True)
    slopes = to_numpy(y.data) / x
    neg = slopes[:20000]
    assert (neg >= lower).all() and (neg <= upper).all()
    assert abs(neg.mean() - (lower + upper) / 2) < 0.005  # U(0.1, 0.3): mean 0.2, sd of the mean ~4e-4
    assert abs(neg.std() - (upper - lower) / np.sqrt(12)) < 0.005
    assert len(np.unique(neg)) > 19000  # one draw per element
    np.testing.assert_array_equal(slopes[20000:], 1)
    y.backward(ember.from_numpy(np.ones_like(x)))
    np.testing.assert_allclose(to_numpy(xv.grad.data), slopes, rtol=1e-12)
    # same seed, same slopes; the module draws only in training mode
    ember.manual_seed(3)
    again = F.rrelu(Variable(ember.from_numpy(x.copy())), lower, upper, training=True)
    np.testing.assert_array_equal(to_numpy(again.data), to_numpy(y.data))
    m = nn.RReLU(lower, upper).eval()
    np.testing.assert_allclose(to_numpy(m(Variable(ember.from_numpy(x.copy()))).data)[:20000], x[:20000] * 0.2)


def test_rrelu_training_inplace():
    ember.manual_seed(0)
    x = Variable(ember.randn(50, 40), requires_grad=True)
    y = x * 1
    F.rrelu(y, training=True, inplace=True)
    xd, yd = to_numpy(x.data), to_numpy(y.data)
    s = yd[xd < 0] / xd[xd < 0]
    assert (s >= 1 / 8).all() and (s <= 1 / 3).all()
    np.testing.assert_array_equal(yd[xd > 0], xd[xd > 0])
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad.data)[xd < 0], s, rtol=1e-6)


def test_rrelu_bad_bounds():
    with pytest.raises(ValueError, match="lower <= upper"):
        F.rrelu(Variable(ember.randn(3)), 0.5, 0.1, training=True)


# ---------------------------------------------------------------------- other checks and errors

def test_glu_errors():
    with pytest.raises(RuntimeError, match=r"Halving dimension must be even, but dimension 1 is size 5"):
        F.glu(Variable(ember.randn(2, 5)))
    with pytest.raises(IndexError, match=r"dim 2 is out of boundary"):
        F.glu(Variable(ember.randn(2, 4)), 2)


def test_non_float_input_raises():
    x = Variable(ember.LongTensor([1, -2, 3]))
    for fn in (F.relu, F.elu, F.selu, F.softplus, F.logsigmoid, lambda v: F.leaky_relu(v, 0.1),
               lambda v: F.hardtanh(v), lambda v: F.hardshrink(v), lambda v: F.softshrink(v)):
        with pytest.raises(TypeError, match=r"expected input to be a Variable of a floating point tensor.*"
                                            r"got torch.LongTensor"):
            fn(x)
    with pytest.raises(TypeError, match="threshold must be a number"):
        F.threshold(Variable(ember.randn(3)), "a", 0)


def test_hardtanh_module_arguments():
    with pytest.raises(ValueError, match="max_val must be greater than min_val"):
        nn.Hardtanh(1, -1)
    with pytest.warns(UserWarning, match="keyword argument min_value is deprecated and renamed to min_val"):
        m = nn.Hardtanh(min_value=-2)
    assert m.min_val == -2 and repr(m) == "Hardtanh (min_val=-2, max_val=1)"
    with pytest.warns(UserWarning, match="max_value is deprecated"):
        assert nn.Hardtanh(max_value=3).max_val == 3


def test_extreme_inputs_stay_finite_without_warnings():
    x = Variable(ember.FloatTensor([-1e4, -100., -20., 0., 20., 100., 1e4]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (F.elu, F.selu, F.softplus, F.logsigmoid, lambda v: F.softplus(v, 2, 100)):
            y = fn(x)
            y.backward(ember.ones(7))
            assert np.isfinite(to_numpy(y.data)).all() and np.isfinite(to_numpy(x.grad.data)).all()
            x.grad.data.zero_()


def test_empty_input():
    y = F.relu(Variable(ember.FloatTensor()))
    assert y.dim() == 0 and y.numel() == 0


def test_softmax_modules_pickled_without_dim_still_work():
    # modules pickled by 0.2 have no ``dim`` attribute (an ember extra): they use the implicit dim
    x = Variable(ember.randn(3, 4))
    for cls, fn in ((nn.Softmax, F.softmax), (nn.LogSoftmax, F.log_softmax), (nn.Softmin, F.softmin)):
        m = cls()
        del m.__dict__["dim"]
        np.testing.assert_array_equal(to_numpy(m(x).data), to_numpy(fn(x).data))


# ---------------------------------------------------------------------- real Lua nn results (shared data)

def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


# case: (Lua constructor, as recorded in the file; the ember layer)
LUA_CASES = {
    "ReLU": ("nn.ReLU()", lambda: nn.ReLU()),
    "ReLU_float": ("nn.ReLU() then :float()", lambda: nn.ReLU()),
    "ReLU6": ("nn.ReLU6()", lambda: nn.ReLU6()),
    "Threshold": ("nn.Threshold(0.3, -1.5)", lambda: nn.Threshold(0.3, -1.5)),
    "HardTanh": ("nn.HardTanh()", lambda: nn.Hardtanh()),
    "HardTanh_minmax": ("nn.HardTanh(-0.5, 1.5)", lambda: nn.Hardtanh(-0.5, 1.5)),
    "ELU": ("nn.ELU()", lambda: nn.ELU()),
    "ELU_alpha": ("nn.ELU(0.5)", lambda: nn.ELU(0.5)),
    "LeakyReLU": ("nn.LeakyReLU()", lambda: nn.LeakyReLU()),
    "LeakyReLU_negval": ("nn.LeakyReLU(0.2)", lambda: nn.LeakyReLU(0.2)),
    "LogSigmoid": ("nn.LogSigmoid()", lambda: nn.LogSigmoid()),
    "SoftMax": ("nn.SoftMax()", lambda: nn.Softmax()),
    "SoftMax_nobatch": ("nn.SoftMax()", lambda: F.softmax),
    "SoftMax_4d": ("nn.SoftMax()", lambda: nn.Softmax2d()),
    "LogSoftMax": ("nn.LogSoftMax()", lambda: nn.LogSoftmax()),
    "LogSoftMax_nobatch": ("nn.LogSoftMax()", lambda: nn.LogSoftmax()),
    "SoftMin": ("nn.SoftMin()", lambda: nn.Softmin()),
    "SoftPlus": ("nn.SoftPlus()", lambda: nn.Softplus()),
    "SoftPlus_beta": ("nn.SoftPlus(2)", lambda: nn.Softplus(2)),
    "SoftShrink": ("nn.SoftShrink(0.5)", lambda: nn.Softshrink(0.5)),
    "HardShrink": ("nn.HardShrink(0.5)", lambda: nn.Hardshrink(0.5)),
    "SoftSign": ("nn.SoftSign()", lambda: nn.Softsign()),
    "Sigmoid": ("nn.Sigmoid()", lambda: nn.Sigmoid()),
    "Sigmoid_float": ("nn.Sigmoid() then :float()", lambda: nn.Sigmoid()),
    "Tanh": ("nn.Tanh()", lambda: nn.Tanh()),
    "Tanh_ascii": ("nn.Tanh()", lambda: nn.Tanh()),
    "PReLU_shared": ("nn.PReLU() (weight:fill(0.3))", lambda: nn.PReLU()),
    "PReLU_channelwise": ("nn.PReLU(3) (weight set to rand)", lambda: nn.PReLU(3)),
    "PReLU_channelwise_1d": ("nn.PReLU(5) (weight set to rand)", lambda: nn.PReLU(5)),
}


@pytest.mark.parametrize("name", sorted(LUA_CASES))
def test_matches_lua_nn(name):
    d = _lua(name)
    args, make = LUA_CASES[name]
    assert d["args"] == args
    layer = make()
    if isinstance(layer, nn.Module):
        layer = layer.type(d["tensorType"])
        if "params" in d:
            layer.load_state_dict({"weight": d["params"]["weight"]})
    x = Variable(d["input"].clone(), requires_grad=True)
    out = layer(x)
    out.backward(d["gradOutput"])
    tol = 1e-5 if d["tensorType"] == "torch.FloatTensor" else 1e-10
    assert_same(out.data, d["output"], tol, tol)
    assert_same(x.grad.data, d["gradInput"], tol, tol)
    if "gradWeight" in d:
        assert_same(layer.weight.grad.data, d["gradWeight"], tol, tol)


# ---------------------------------------------------------------------- CUDA (fake CUDA here; a real GPU under `gpu`)

def _prelu(x, per_channel):
    n = x.size(1) if per_channel else 1
    return F.prelu(x, Variable(x.data.new(n).copy_(ember.from_numpy(np.linspace(0.1, 0.5, n, dtype=np.float32)))))


def _on_copy(fn):
    """``fn`` applied to a copy of its input (an in-place form cannot modify a leaf that requires grad)."""
    return lambda x: fn(x * 1)


# every activation of nn.functional
CUDA_FUNCS = dict(
    {name: efn for name, (efn, _, _) in FUNCS.items()},
    **{name + "_inplace": _on_copy(efn) for name, (efn, _) in INPLACE.items()},
    prelu=lambda x: _prelu(x, False),
    prelu_channels=lambda x: _prelu(x, True),
    softmax_dim0=lambda x: F.softmax(x, dim=0),
    log_softmax_dim0=lambda x: F.log_softmax(x, 0),
    softmin_dim0=lambda x: F.softmin(x, 0),
)


def _cpu_and_cuda(fn, base, transpose=False, dtype=np.float32):
    """fn's output and input gradient (for a fixed random upstream gradient) on the CPU and on CUDA."""
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        x = Variable(to(ember.from_numpy(base.astype(dtype))), requires_grad=True)
        y = fn(x.t() if transpose else x)
        y.backward(to(ember.from_numpy(_data(tuple(y.size()), dtype, 1, seed=1))))
        results.append((y.data, x.grad.data))
    return results


@pytest.mark.parametrize("name", sorted(CUDA_FUNCS))
def test_cuda_matches_cpu(device_mode, name):
    base = _data((6, 8), np.float32, 2)
    for transpose in (False, True):
        (y, gx), (cy, cgx) = _cpu_and_cuda(CUDA_FUNCS[name], base, transpose)
        assert cy.is_cuda and cgx.is_cuda and cy.type() == "torch.cuda.FloatTensor"
        assert_same(cy, to_numpy(y), rtol=1e-5, atol=1e-6)
        assert_same(cgx, to_numpy(gx), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_cuda_softmax_half_matches_float(device_mode, name):
    base = _data((3, 4, 5), np.float32, 3)
    fn = CUDA_FUNCS[name]
    _, (y, gx) = _cpu_and_cuda(fn, base)
    x = Variable(ember.from_numpy(base).cuda().half(), requires_grad=True)
    yh = fn(x)
    yh.backward(ember.from_numpy(_data((3, 4, 5), np.float32, 1, seed=1)).cuda().half())
    assert yh.data.type() == x.grad.data.type() == "torch.cuda.HalfTensor"
    np.testing.assert_allclose(to_numpy(yh.data).astype(np.float32), to_numpy(y), rtol=1e-2, atol=1e-3)
    np.testing.assert_allclose(to_numpy(x.grad.data).astype(np.float32), to_numpy(gx), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_cuda_softmax_double_backward_matches_cpu(device_mode, name):
    base = _data((3, 4), np.float64, 1.5, seed=5)
    go = _data((3, 4), np.float64, 1, seed=6)
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        x = Variable(to(ember.from_numpy(base.copy())), requires_grad=True)
        g, = ember.autograd.grad([GRADGRAD[name](x)], [x], [to(ember.from_numpy(go.copy()))], create_graph=True)
        (g * g).sum().backward()
        results.append((g.data, x.grad.data))
    for cuda_value, cpu_value in zip(results[1], results[0]):
        assert cuda_value.is_cuda
        assert_same(cuda_value, to_numpy(cpu_value), rtol=1e-10, atol=1e-12)


def test_cuda_rrelu_training_slopes_in_bounds(device_mode):
    lower, upper = 0.1, 0.3
    x = np.concatenate([-np.linspace(0.5, 3, 2000), np.linspace(0.5, 3, 2000)]).astype(np.float32)
    xv = Variable(ember.from_numpy(x.copy()).cuda(), requires_grad=True)
    y = F.rrelu(xv, lower, upper, training=True)
    slopes = to_numpy(y.data) / x
    neg = slopes[:2000]
    assert y.data.is_cuda and (neg >= lower * (1 - 1e-6)).all() and (neg <= upper * (1 + 1e-6)).all()
    assert len(np.unique(neg)) > 1900  # one draw per element
    np.testing.assert_array_equal(slopes[2000:], 1)
    y.backward(ember.from_numpy(np.ones_like(x)).cuda())
    np.testing.assert_allclose(to_numpy(xv.grad.data), slopes, rtol=1e-6)
    # evaluation: the fixed slope, as on the CPU
    ev = F.rrelu(Variable(ember.from_numpy(x.copy()).cuda()), lower, upper)
    assert_same(ev.data, to_numpy(F.rrelu(Variable(ember.from_numpy(x.copy())), lower, upper).data))


@pytest.mark.parametrize("shape,dim", [((2, 3, 4, 5), 1), ((4, 7), 1), ((3, 2000), 1), ((2000, 3), 0),
                                       ((2, 1500, 3), 1)])
@pytest.mark.parametrize("log", [False, True])
def test_cuda_softmax_kernel_and_long_rows_match_cpu(device_mode, shape, dim, log):
    """Slices of any layout in the kernel, and long last-dim rows through the array reductions, agree with
    the CPU kernel (outputs and gradients, float64)."""
    fn = (lambda v: F.log_softmax(v, dim=dim)) if log else (lambda v: F.softmax(v, dim=dim))
    base = _data(shape, np.float64, 4, seed=3)
    results = []
    for to in (lambda t: t, lambda t: t.cuda()):
        x = Variable(to(ember.from_numpy(base.copy())), requires_grad=True)
        y = fn(x)
        y.backward(to(ember.from_numpy(_data(shape, np.float64, 1, seed=4))))
        results.append((y.data, x.grad.data))
    for g, w in zip(results[1], results[0]):
        assert g.is_cuda
        assert_same(g, to_numpy(w), rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------- large inputs: ember.kernels.activation

LARGE = {  # name: (ember call, torch call, in place in ember, in place in torch)
    "relu": (lambda x: F.relu(x), lambda t, x: t.nn.functional.relu(x), lambda x: F.relu(x, True)),
    "threshold": (lambda x: F.threshold(x, 0.3, -1.5), lambda t, x: t.nn.functional.threshold(x, 0.3, -1.5),
                  lambda x: F.threshold(x, 0.3, -1.5, True)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda t, x: t.nn.functional.leaky_relu(x, 0.2),
                   lambda x: F.leaky_relu(x, 0.2, True)),
    "leaky_relu_negative": (lambda x: F.leaky_relu(x, -0.5), lambda t, x: t.nn.functional.leaky_relu(x, -0.5),
                            None),
    "elu": (lambda x: F.elu(x, 0.8), lambda t, x: t.nn.functional.elu(x, 0.8), lambda x: F.elu(x, 0.8, True)),
    "selu": (lambda x: F.selu(x), lambda t, x: t.nn.functional.selu(x), lambda x: F.selu(x, True)),
    "softplus": (lambda x: F.softplus(x), lambda t, x: t.nn.functional.softplus(x), None),
    "softplus_beta": (lambda x: F.softplus(x, 2, 5), lambda t, x: t.nn.functional.softplus(x, 2, 5), None),
    "logsigmoid": (lambda x: F.logsigmoid(x), lambda t, x: t.nn.functional.logsigmoid(x), None),
    "hardshrink": (lambda x: F.hardshrink(x, 0.7), lambda t, x: t.nn.functional.hardshrink(x, 0.7), None),
    "softshrink": (lambda x: F.softshrink(x, 0.3), lambda t, x: t.nn.functional.softshrink(x, 0.3), None),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LARGE))
def test_large_activations_match_torch(name, dtype):
    # above ember.kernels.activation.MIN_SIZE: the CPU kernels, forward and backward (out of place and in
    # place), with zeros, large values and NaN among the inputs
    torch = require_torch()
    efn, tfn, inplace = LARGE[name]
    base = _data((70, 90), dtype, 4, seed=5)
    base[0, :6] = [0, -0.0, 40, -40, 1e4, -1e4]
    base[1, :2] = np.nan
    gout = _data((70, 90), dtype, 1, seed=6)
    tx = torch.from_numpy(base.copy()).requires_grad_(True)
    ty = tfn(torch, tx)
    ty.backward(torch.from_numpy(gout))
    # threshold and relu at NaN: THNN's x > threshold is false there (value, and no gradient), where later
    # PyTorch passes NaN and its gradient through; ember's relu (a clamp) passes NaN, as 0.2's in place did
    # the shrinks at NaN: THNN's comparisons are false there too (0, and no gradient)
    number = ~np.isnan(base) if name in ("relu", "threshold", "hardshrink", "softshrink") \
        else np.ones(base.shape, bool)
    forms = [efn] + ([lambda x: inplace(x * 1)] if inplace is not None else [])
    for form in forms:
        ex = Variable(ember.from_numpy(base.copy()), requires_grad=True)
        ey = form(ex)
        ey.backward(ember.from_numpy(gout.copy()))
        y, g = to_numpy(ey.data), to_numpy(ex.grad.data)
        np.testing.assert_allclose(y[number], ty.detach().numpy()[number], equal_nan=True, **_tol(dtype))
        np.testing.assert_allclose(g[number], tx.grad.numpy()[number], equal_nan=True, **_tol(dtype))
        if name == "threshold":
            assert (y[~number] == -1.5).all() and (g[~number] == 0).all()
        if name == "relu":
            assert np.isnan(y[~number]).all() and (g[~number] == 0).all()
        if name in ("hardshrink", "softshrink"):
            assert (y[~number] == 0).all() and (g[~number] == 0).all()


@pytest.mark.parametrize("name", ["elu", "selu", "softplus_beta", "logsigmoid"])
def test_large_activations_double_backward(name):
    # create_graph=True takes the differentiable formulas (the kernels serve plain backward passes only)
    torch = require_torch()
    efn, tfn, _ = LARGE[name]
    base = _data((70, 90), np.float64, 3, seed=7)
    ex = Variable(ember.from_numpy(base.copy()), requires_grad=True)
    tx = torch.from_numpy(base.copy()).requires_grad_(True)
    eg, = ember.autograd.grad(efn(ex).sum(), ex, create_graph=True)
    tg, = torch.autograd.grad(tfn(torch, tx).sum(), tx, create_graph=True)
    np.testing.assert_allclose(to_numpy(eg.data), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    (eg * eg).sum().backward()
    (tg * tg).sum().backward()
    np.testing.assert_allclose(to_numpy(ex.grad.data), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,channels", [((8, 16, 10, 9), 16), ((64, 100), 100), ((30, 7, 40), 1), ((5000,), 1)])
def test_large_prelu_matches_torch(shape, channels, dtype):
    # the CPU kernels (per-channel or one weight), forward and both gradients
    torch = require_torch()
    base = _data(shape, dtype, 3, seed=8)
    w = np.linspace(-0.5, 0.7, channels).astype(dtype)
    gout = _data(shape, dtype, 1, seed=9)
    ex, ew = Variable(ember.from_numpy(base.copy()), requires_grad=True), Variable(ember.from_numpy(w.copy()),
                                                                                  requires_grad=True)
    tx, tw = torch.from_numpy(base.copy()).requires_grad_(True), torch.from_numpy(w.copy()).requires_grad_(True)
    ey, ty = F.prelu(ex, ew), torch.nn.functional.prelu(tx, tw)
    ey.backward(ember.from_numpy(gout.copy()))
    ty.backward(torch.from_numpy(gout))
    np.testing.assert_allclose(to_numpy(ey.data), ty.detach().numpy(), **_tol(dtype))
    np.testing.assert_allclose(to_numpy(ex.grad.data), tx.grad.numpy(), **_tol(dtype))
    np.testing.assert_allclose(to_numpy(ew.grad.data), tw.grad.numpy(), rtol=1e-4 if dtype == np.float32 else 1e-10,
                               atol=1e-3 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", [((70, 180), 1), ((70, 600), -1), ((64, 90), 0), ((4, 6, 30, 31), 1),
                                       ((3, 5000, 2), 1), ((5000, 4), 1), ((3, 600), 1)])
def test_large_glu_matches_torch(shape, dim, dtype):
    # the CPU kernel (runs of L elements split in blocks, several per thread) forward and backward; the last
    # shape's runs are too short for it (the array formula); large values and NaN among the inputs
    torch = require_torch()
    base = _data(shape, dtype, 4, seed=10)
    base.reshape(-1)[:5] = [0, 40, -40, 1e4, -1e4]
    base.reshape(-1)[-1] = np.nan
    gshape = list(shape)
    gshape[dim] //= 2
    gout = _data(tuple(gshape), dtype, 1, seed=11)
    ex = Variable(ember.from_numpy(base.copy()), requires_grad=True)
    tx = torch.from_numpy(base.copy()).requires_grad_(True)
    ey, ty = F.glu(ex, dim), torch.nn.functional.glu(tx, dim)
    assert type(ey.grad_fn).__name__ == "GatedLinearBackward"
    ey.backward(ember.from_numpy(gout.copy()))
    ty.backward(torch.from_numpy(gout))
    np.testing.assert_allclose(to_numpy(ey.data), ty.detach().numpy(), equal_nan=True, **_tol(dtype))
    np.testing.assert_allclose(to_numpy(ex.grad.data), tx.grad.numpy(), equal_nan=True, **_tol(dtype))


def test_large_glu_double_backward():
    torch = require_torch()
    base = _data((40, 300), np.float64, 2, seed=12)
    ex = Variable(ember.from_numpy(base.copy()), requires_grad=True)
    tx = torch.from_numpy(base.copy()).requires_grad_(True)
    eg, = ember.autograd.grad(F.glu(ex).sum(), ex, create_graph=True)
    tg, = torch.autograd.grad(torch.nn.functional.glu(tx).sum(), tx, create_graph=True)
    np.testing.assert_allclose(to_numpy(eg.data), tg.detach().numpy(), rtol=1e-10, atol=1e-12)
    (eg * eg).sum().backward()
    (tg * tg).sum().backward()
    np.testing.assert_allclose(to_numpy(ex.grad.data), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [6, 6000])
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_is_thnn_threshold_at_zero_and_nan(n, dtype):
    # x <= 0 gives 0 (so -0.0 gives +0.0, as THNN's threshold), NaN passes (as 0.2's in-place threshold
    # did), out of place and in place, small and above the kernels' thread threshold
    base = np.tile(np.array([-0.0, np.nan, -2, 3, 0.0, -1e-30], dtype), n // 6)
    for inplace in (False, True):
        y = F.relu(Variable(ember.from_numpy(base.copy())), inplace=inplace).data.numpy()
        assert not np.signbit(y[::6]).any() and (y[::6] == 0).all()
        assert np.isnan(y[1::6]).all()
        np.testing.assert_array_equal(y[2::6], 0)
        np.testing.assert_array_equal(y[3::6], 3)
