"""F.pad (constant, reflect, replicate) and the padding modules against torch and real Lua nn results: values,
gradients (negative padding crops), double backward, 0.2's supported dimensionalities plus ember's extras,
and the errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable
from ember.autograd.gradcheck import gradcheck, gradgradcheck

from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch


def _check(shape, pad, mode, value=0, dtype=np.float64, transpose=False):
    torch = require_torch()
    x = np.random.RandomState(0).standard_normal(shape).astype(dtype)
    ev = Variable(ember.from_numpy(x.copy()), requires_grad=True)
    tv = torch.from_numpy(x.copy()).requires_grad_(True)
    e_in, t_in = (ev.transpose(-1, -2), tv.transpose(-1, -2)) if transpose else (ev, tv)
    y = F.pad(e_in, pad, mode, value) if mode == "constant" else F.pad(e_in, pad, mode)
    ty = torch.nn.functional.pad(t_in, pad, mode, value) if mode == "constant" else \
        torch.nn.functional.pad(t_in, pad, mode)
    assert_same(y.data, ty, rtol=0, atol=0)
    g = np.random.RandomState(1).standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(ev.grad.data, tv.grad, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pad,value", [((1, 2, 3, 0), 0), ((2, 2, 2, 2), -1.5), ((1, -1, -2, 1), 0.25),
                                       ((-1, -1, 0, 0), 0)])
def test_constant_pad_4d(pad, value, dtype):
    _check((2, 3, 4, 5), pad, "constant", value, dtype, transpose=True)


@pytest.mark.parametrize("shape,pad", [((5,), (2, 1)), ((3, 4), (1, 0, 0, 2)), ((2, 3, 4), (1, 1)),
                                       ((2, 3, 2, 3, 2), (1, 0, 1, 2, 0, 1)), ((2, 3), (1, 1, 1, 1))])
def test_constant_pad_any_dims_extra(shape, pad):
    _check(shape, pad, "constant", 2.0)


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pad", [(1, 2, 3, 0), (2, 2, 2, 2), (0, 3, 1, 1)])
def test_reflect_replicate_4d(mode, dtype, pad):
    _check((2, 3, 4, 5), pad, mode, dtype=dtype, transpose=True)


@pytest.mark.parametrize("pad", [(1, 2, 0, 1, 2, 1), (2, 2, 2, 2, 2, 2)])
def test_replicate_5d(pad):
    _check((2, 2, 3, 4, 3), pad, "replicate")


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape,pad", [((2, 3, 5), (2, 1)), ((3, 5), (1, 3)), ((3, 4, 5), (1, 2, 2, 1))])
def test_reflect_replicate_lower_dims_extra(mode, shape, pad):
    _check(shape, pad, mode)


@pytest.mark.parametrize("mode,pad", [("constant", (1, -1, 2, 0)), ("reflect", (1, 2, 2, 1)),
                                      ("replicate", (2, 0, 1, 1))])
def test_double_backward(mode, pad):
    x = Variable(ember.randn(1, 2, 3, 4).double(), requires_grad=True)

    def fn(v):
        return F.pad(v, pad, mode) ** 2  # a nonlinearity, so the second derivative is not trivially zero
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_constant_pad_other_types():
    x = Variable(ember.LongTensor([[1, 2], [3, 4]]))
    y = F.pad(x, (1, 0), value=7)
    assert y.data.type() == "torch.LongTensor"
    assert y.data.tolist() == [[7, 1, 2], [7, 3, 4]]


def test_modules():
    torch = require_torch()
    x = np.random.RandomState(0).standard_normal((1, 2, 3, 4))
    for m, tm in [(nn.ZeroPad2d(2), torch.nn.ZeroPad2d(2)),
                  (nn.ConstantPad2d((1, 0, 2, 1), -3), torch.nn.ConstantPad2d((1, 0, 2, 1), -3)),
                  (nn.ReflectionPad2d((2, 1, 0, 2)), torch.nn.ReflectionPad2d((2, 1, 0, 2))),
                  (nn.ReplicationPad2d(1), torch.nn.ReplicationPad2d(1))]:
        assert_same(m(Variable(ember.from_numpy(x.copy()))).data, tm(torch.from_numpy(x)))
    assert repr(nn.ZeroPad2d(2)) == "ZeroPad2d (2, 2, 2, 2)"
    assert repr(nn.ReplicationPad3d(1)) == "ReplicationPad3d (1, 1, 1, 1, 1, 1)"
    m = nn.ConstantPad2d(1, 0.5)
    assert m.value == 0.5 and m.padding == (1, 1, 1, 1)
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be an int or a tuple of 4 ints, got "
                                         r"\(1, 2\)"):
        nn.ReflectionPad2d((1, 2))


def test_errors():
    x4 = Variable(ember.randn(1, 2, 3, 4))
    with pytest.raises(ValueError, match="Padding length must be divisible by 2, got 3 values"):
        F.pad(x4, (1, 2, 3))
    with pytest.raises(ValueError, match=r"Padding length too large: 6 values for an input of size \[3 x 4\]"):
        F.pad(Variable(ember.randn(3, 4)), (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="mode must be 'constant', 'reflect' or 'replicate', got 'circular'"):
        F.pad(x4, (1, 1, 1, 1), "circular")
    with pytest.raises(ValueError, match="4D tensors expect 4 values for padding, got 6"):
        F.pad(x4, (1, 1, 1, 1, 1, 1), "reflect")
    with pytest.raises(ValueError, match="5D tensors expect 6 values for padding, got 4"):
        F.pad(Variable(ember.randn(1, 1, 2, 2, 2)), (1, 1, 1, 1), "replicate")
    with pytest.raises(NotImplementedError, match="reflect padding of 5D tensors is not implemented"):
        F.pad(Variable(ember.randn(1, 1, 2, 2, 2)), (1, 1, 1, 1, 1, 1), "reflect")
    with pytest.raises(NotImplementedError, match=r"Only 4D and 5D padding is supported for now.*\[3 x 4\]"):
        F.pad(Variable(ember.randn(3, 4)), (1, 1, 1, 1), "reflect")
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        F.pad(x4, (4, 0, 0, 0), "reflect")
    with pytest.raises(RuntimeError, match=r"too small for padding \(-2, -2, 0, 0\): dim 3 would have size 0"):
        F.pad(x4, (-2, -2, 0, 0))
    with pytest.raises(TypeError, match="pad must be a tuple of ints"):
        F.pad(x4, (1.5, 1, 1, 1))
    with pytest.raises(TypeError, match=r"pad\(\): expected input.*floating point.*torch.LongTensor"):
        F.pad(Variable(ember.LongTensor(1, 1, 2, 2).zero_()), (1, 1, 1, 1), "replicate")


# ---------------------------------------------------------------------- real Lua nn results (shared data)

def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


@pytest.mark.parametrize("name,args,make", [
    ("SpatialZeroPadding", "nn.SpatialZeroPadding(1, 2, 0, 1)", lambda: nn.ZeroPad2d((1, 2, 0, 1))),
    ("SpatialZeroPadding_negative", "nn.SpatialZeroPadding(-1, 2, 1, -2)", lambda: nn.ZeroPad2d((-1, 2, 1, -2))),
    ("SpatialReflectionPadding", "nn.SpatialReflectionPadding(1, 2, 2, 0)",
     lambda: nn.ReflectionPad2d((1, 2, 2, 0))),
    ("SpatialReflectionPadding_nobatch", "nn.SpatialReflectionPadding(2, 1, 1, 3)",
     lambda: nn.ReflectionPad2d((2, 1, 1, 3))),
    ("SpatialReplicationPadding", "nn.SpatialReplicationPadding(2, 1, 0, 3)",
     lambda: nn.ReplicationPad2d((2, 1, 0, 3))),
])
def test_matches_lua_nn(name, args, make):
    d = _lua(name)
    assert d["args"] == args
    x = Variable(d["input"].clone(), requires_grad=True)
    out = make()(x)
    out.backward(d["gradOutput"])
    assert_same(out.data, d["output"], 0, 0)
    assert_same(x.grad.data, d["gradInput"], 1e-12, 1e-12)


# ---------------------------------------------------------------------- CUDA, against the CPU

def _value_and_grads(f, x, go, r, move):
    """f(x), its gradient for go, and grad_output's gradient through that gradient along r (the double
    backward), with every tensor on move's device."""
    v = Variable(move(ember.from_numpy(x.copy())), requires_grad=True)
    ego = Variable(move(ember.from_numpy(go.copy())), requires_grad=True)
    y = f(v)
    (g,) = ember.autograd.grad(y, v, ego, create_graph=True)
    (g * Variable(move(ember.from_numpy(r.copy())))).sum().backward()
    return [t.data.cpu().numpy() for t in (y, g, ego.grad)]


@pytest.mark.parametrize("shape,pad,mode,value", [
    ((2, 3, 4, 5), (1, 2, -1, 3), "constant", 1.5), ((3, 4), (2, 0), "constant", 0),
    ((2, 3, 4, 5), (3, 1, 2, 2), "reflect", 0), ((2, 3, 6), (2, 4), "reflect", 0),
    ((2, 3, 4, 5), (2, 1, -1, 3), "replicate", 0), ((1, 2, 3, 4, 3), (1, 2, 0, 1, 2, 1), "replicate", 0),
])
def test_cuda_matches_cpu(device_mode, shape, pad, mode, value):
    rng = np.random.RandomState(4)
    x = rng.standard_normal(shape)

    def f(v):
        return F.pad(v, pad, mode, value)

    go = rng.standard_normal(tuple(f(Variable(ember.from_numpy(x))).size()))
    r = rng.standard_normal(shape)
    got = _value_and_grads(f, x, go, r, lambda t: t.cuda())
    for a, b in zip(got, _value_and_grads(f, x, go, r, lambda t: t)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
def test_cuda_pad_stays_on_the_input_gpu(fake_cuda, mode):  # the fake has two devices
    x = Variable(ember.randn(1, 2, 3, 4).cuda(1), requires_grad=True)
    y = F.pad(x, (1, 2, 2, 1), mode)
    y.sum().backward()
    assert y.data.get_device() == 1 and x.grad.data.get_device() == 1
    np.testing.assert_array_equal(y.data.cpu().numpy(), F.pad(Variable(x.data.cpu()), (1, 2, 2, 1), mode).data.numpy())
