"""F.linear / F.bilinear and the Linear / Bilinear modules against torch.nn.functional and real Lua nn results,
their default initialisation, double backward and errors."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck

from _helpers.cuda_fixtures import assert_cuda_matches_cpu
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch, to_numpy


def _arr(shape, dtype=np.float64, seed=0):
    return np.random.RandomState(seed).standard_normal(shape).astype(dtype)


def _pair(arr, torch, transpose=False):
    """(ember Variable, torch tensor) holding ``arr`` (transposed views when asked), both requiring grad."""
    e = Variable(ember.from_numpy(arr.copy()), requires_grad=True)
    t = torch.from_numpy(arr.copy()).requires_grad_(True)
    return (e, t, e.t(), t.t()) if transpose else (e, t, e, t)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("in_shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("transposed", [False, True])
def test_linear_against_torch(dtype, in_shape, bias, transposed):
    torch = require_torch()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    x = _arr(in_shape, dtype, 1)
    # the weight is stored transposed in the non-contiguous case
    w_store = _arr((4, 3) if transposed else (3, 4), dtype, 2)
    ex, tx, ex_in, tx_in = _pair(x, torch)
    ew, tw, ew_in, tw_in = _pair(w_store, torch, transposed)
    eb = tb = None
    if bias:
        eb, tb, _, _ = _pair(_arr((3,), dtype, 3), torch)
    ey = F.linear(ex_in, ew_in, eb)
    ty = torch.nn.functional.linear(tx_in, tw_in, tb)
    assert_same(ey.data, ty, **tol)
    g = _arr(tuple(ty.shape), dtype, 4)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(ex.grad.data, tx.grad, **tol)
    assert_same(ew.grad.data, tw.grad, **tol)
    if bias:
        assert_same(eb.grad.data, tb.grad, **tol)


def test_linear_module_parameters_and_init():
    ember.manual_seed(0)
    m = nn.Linear(100, 30)
    assert repr(m) == "Linear (100 -> 30)"
    assert m.weight.size() == ember.Size([30, 100]) and m.bias.size() == ember.Size([30])
    assert list(m.state_dict().keys()) == ["weight", "bias"]
    bound = 1 / math.sqrt(100)
    w = to_numpy(m.weight.data)
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.mean()) < 0.05 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(to_numpy(m.bias.data)).max() <= bound
    nb = nn.Linear(3, 2, bias=False)
    assert nb.bias is None and list(nb.state_dict().keys()) == ["weight"]
    assert len(list(nb.parameters())) == 1


def test_linear_module_backward_against_numpy():
    m = nn.Linear(4, 3).double()
    x = _arr((5, 4))
    xv = Variable(ember.from_numpy(x.copy()), requires_grad=True)
    y = m(xv)
    w, b = to_numpy(m.weight.data), to_numpy(m.bias.data)
    np.testing.assert_allclose(to_numpy(y.data), x @ w.T + b, rtol=1e-12)
    g = _arr((5, 3), seed=1)
    y.backward(ember.from_numpy(g.copy()))
    np.testing.assert_allclose(to_numpy(xv.grad.data), g @ w, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(m.weight.grad.data), g.T @ x, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(m.bias.grad.data), g.sum(0), rtol=1e-12)


def test_linear_double_backward():
    x = Variable(ember.from_numpy(_arr((3, 4))), requires_grad=True)
    w = Variable(ember.from_numpy(_arr((2, 4), seed=1)), requires_grad=True)
    b = Variable(ember.from_numpy(_arr((2,), seed=2)), requires_grad=True)
    assert gradgradcheck(F.linear, (x, w, b))
    assert gradgradcheck(lambda x_, w_: F.linear(x_, w_) ** 2, (x, w))


def test_linear_size_mismatch_errors():
    m = nn.Linear(4, 5)
    with pytest.raises(RuntimeError, match=r"^Linear \(4 -> 5\): size mismatch, m1: \[2 x 3\], m2: \[4 x 5\]"):
        m(Variable(ember.randn(2, 3)))
    with pytest.raises(RuntimeError, match=r"^size mismatch, m1: \[2 x 3\], m2: \[4 x 5\]"):
        F.linear(Variable(ember.randn(2, 3)), m.weight, m.bias)
    with pytest.raises(TypeError, match="torch.DoubleTensor"):
        m(Variable(ember.randn(2, 4).double()))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bilinear_against_torch(bias, dtype):
    torch = require_torch()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    e1, t1, e1_in, t1_in = _pair(_arr((3, 6), dtype, 1), torch, transpose=True)  # input1 (6, 3), non-contiguous
    e2, t2, e2_in, t2_in = _pair(_arr((6, 4), dtype, 2), torch)
    ew, tw, _, _ = _pair(_arr((5, 3, 4), dtype, 3), torch)
    eb = tb = None
    if bias:
        eb, tb, _, _ = _pair(_arr((5,), dtype, 4), torch)
    ey = F.bilinear(e1_in, e2_in, ew, eb)
    ty = torch.nn.functional.bilinear(t1_in, t2_in, tw, tb)
    assert_same(ey.data, ty, **tol)
    g = _arr((6, 5), dtype, 5)
    ey.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    for e, t in [(e1, t1), (e2, t2), (ew, tw)] + ([(eb, tb)] if bias else []):
        assert_same(e.grad.data, t.grad, **tol)


def test_bilinear_module_and_double_backward():
    ember.manual_seed(1)
    m = nn.Bilinear(3, 2, 4)
    assert repr(m) == "Bilinear (in1_features=3, in2_features=2, out_features=4)"
    assert m.weight.size() == ember.Size([4, 3, 2]) and m.bias.size() == ember.Size([4])
    assert np.abs(to_numpy(m.weight.data)).max() <= 1 / math.sqrt(3)
    m.double()
    x1 = Variable(ember.from_numpy(_arr((2, 3))), requires_grad=True)
    x2 = Variable(ember.from_numpy(_arr((2, 2), seed=1)), requires_grad=True)
    assert gradcheck(lambda a, b: m(a, b), (x1, x2))
    assert gradgradcheck(lambda a, b, w: F.bilinear(a, b, w), (x1, x2, m.weight))
    assert nn.Bilinear(3, 2, 4, bias=False).bias is None


def test_bilinear_errors():
    w = Variable(ember.randn(5, 3, 4))
    with pytest.raises(RuntimeError, match=r"size mismatch, input1: \[6 x 2\], input2: \[6 x 4\], weight: "
                                           r"\[5 x 3 x 4\]"):
        F.bilinear(Variable(ember.randn(6, 2)), Variable(ember.randn(6, 4)), w)
    with pytest.raises(RuntimeError, match=r"size mismatch, input1: \[6 x 3\], input2: \[5 x 4\]"):
        F.bilinear(Variable(ember.randn(6, 3)), Variable(ember.randn(5, 4)), w)
    with pytest.raises(RuntimeError, match=r"expected 2-D inputs and a 3-D weight, got input1 of size \[3\]"):
        F.bilinear(Variable(ember.randn(3)), Variable(ember.randn(6, 4)), w)
    with pytest.raises(RuntimeError, match=r"expected a bias of 5 elements, got size \[4\]"):
        F.bilinear(Variable(ember.randn(6, 3)), Variable(ember.randn(6, 4)), w, Variable(ember.randn(4)))


# ---------------------------------------------------------------------- real Lua nn results (shared data)

def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


@pytest.mark.parametrize("name,args,make", [
    ("Linear", "nn.Linear(5, 4)", lambda: nn.Linear(5, 4)),
    ("Linear_float", "nn.Linear(5, 4) then :float()", lambda: nn.Linear(5, 4)),
    ("Linear_ascii", "nn.Linear(5, 4)", lambda: nn.Linear(5, 4)),
    ("Linear_nobatch", "nn.Linear(5, 4)", lambda: nn.Linear(5, 4)),
    ("Linear_nobias", "nn.Linear(5, 4, false)", lambda: nn.Linear(5, 4, bias=False)),
    ("Bilinear", "nn.Bilinear(5, 4, 4)", lambda: nn.Bilinear(5, 4, 4)),
    ("Bilinear_nobias", "nn.Bilinear(5, 4, 4, false)", lambda: nn.Bilinear(5, 4, 4, bias=False)),
])
def test_matches_lua_nn(name, args, make):
    d = _lua(name)
    assert d["args"] == args
    m = make().type(d["tensorType"])
    m.load_state_dict(dict(d["params"]))
    inputs = d["input"] if isinstance(d["input"], list) else [d["input"]]
    xs = [Variable(t.clone(), requires_grad=True) for t in inputs]
    out = m(*xs)
    out.backward(d["gradOutput"])
    tol = 1e-5 if d["tensorType"] == "torch.FloatTensor" else 1e-10
    assert_same(out.data, d["output"], tol, tol)
    grads = d["gradInput"] if isinstance(d["gradInput"], list) else [d["gradInput"]]
    for x, g in zip(xs, grads):
        assert_same(x.grad.data, g, tol, tol)
    assert_same(m.weight.grad.data, d["gradWeight"], tol, tol)
    if "gradBias" in d:
        assert_same(m.bias.grad.data, d["gradBias"], tol, tol)


# ---------------------------------------------------------------------- CUDA

@pytest.mark.parametrize("f, shapes", [
    (lambda x, w, b: F.linear(x, w, b), [(5, 4), (3, 4), (3,)]),
    (lambda x, w: F.linear(x, w), [(5, 4), (3, 4)]),
    (lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (3, 4), (3,)]),
    (lambda x, w, b: F.linear(x, w, b), [(4,), (3, 4), (3,)]),
    (lambda x, w: F.linear(x.t(), w.t()), [(4, 5), (4, 3)]),
    (lambda a, b, w, bias: F.bilinear(a, b, w, bias), [(6, 3), (6, 4), (5, 3, 4), (5,)]),
    (lambda a, b, w: F.bilinear(a, b, w), [(6, 3), (6, 4), (5, 3, 4)]),
], ids=["linear", "linear_no_bias", "linear_3d", "linear_1d", "linear_transposed", "bilinear", "bilinear_no_bias"])
def test_functional_on_cuda_matches_cpu(device_mode, f, shapes):
    assert_cuda_matches_cpu(f, [_arr(s, seed=i) for i, s in enumerate(shapes)])


@pytest.mark.parametrize("f, shapes", [
    (lambda x, w, b: F.linear(x, w, b), [(5, 4), (3, 4), (3,)]),
    (lambda a, b, w, bias: F.bilinear(a, b, w, bias), [(6, 3), (6, 4), (5, 3, 4), (5,)]),
], ids=["linear", "bilinear"])
def test_half_on_cuda_follows_double(device_mode, f, shapes):
    assert_cuda_matches_cpu(f, [_arr(s, seed=i) for i, s in enumerate(shapes)], half=True)


def test_linear_on_cuda_rejects_cpu_weight(device_mode):
    x = Variable(ember.cuda.FloatTensor(2, 3).zero_())
    w = Variable(ember.FloatTensor(4, 3).zero_())
    with pytest.raises(TypeError, match=r"expected \(torch.cuda.FloatTensor mat2\)"):
        F.linear(x, w)
