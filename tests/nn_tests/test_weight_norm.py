"""nn.utils.weight_norm / remove_weight_norm (0.2: parameters {name}_g and {name}_v, the weight recomputed
by a forward pre-hook) against torch.nn.utils.weight_norm and the NumPy formula; Module's forward pre-hooks."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import Variable
from ember.nn.utils.weight_norm import WeightNorm
from _helpers.oracle import assert_same, require_torch, to_numpy


class Affine(nn.Module):
    """x (N x prod(shape[1:])) times the flattened weight (shape[0] x ...), plus a bias."""

    def __init__(self, shape):
        super(Affine, self).__init__()
        self.bias = nn.Parameter(ember.randn(shape[0]).double())
        self.weight = nn.Parameter(ember.randn(*shape).double())

    def forward(self, x):
        w = self.weight.view(self.weight.size(0), -1)
        return x.mm(w.t()) + self.bias.view(1, -1).expand(x.size(0), w.size(0))


def _torch_affine(torch, m):
    class TAffine(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.from_numpy(to_numpy(m.bias.data)))
            self.weight = torch.nn.Parameter(torch.from_numpy(to_numpy(m.weight.data)))

        def forward(self, x):
            return x.mm(self.weight.reshape(self.weight.shape[0], -1).t()) + self.bias
    return TAffine()


def _numpy_norm_except(w, dim):
    if dim is None:
        return np.sqrt((w ** 2).sum())
    axes = tuple(a for a in range(w.ndim) if a != dim % w.ndim)
    return np.sqrt((w ** 2).sum(axes, keepdims=True))


@pytest.mark.parametrize("shape,dim", [((4, 3), 0), ((4, 3), 1), ((3, 2, 2), 0), ((3, 2, 2), 2), ((3, 2, 2), None)])
def test_matches_torch(shape, dim):
    torch = require_torch()
    ember.manual_seed(0)
    m = Affine(shape)
    tm = _torch_affine(torch, m)
    w0 = to_numpy(m.weight.data).copy()
    assert nn.utils.weight_norm(m, dim=dim) is m
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates weight_norm in favour of parametrizations
        torch.nn.utils.weight_norm(tm, dim=dim)
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_g", "weight_v"]
    assert list(m.state_dict().keys()) == ["bias", "weight_g", "weight_v"]
    g = to_numpy(m.weight_g.data)
    expect_g = _numpy_norm_except(w0, dim)
    np.testing.assert_allclose(g, np.reshape(expect_g, g.shape), rtol=1e-12)
    assert g.shape == ((1,) if dim is None else expect_g.shape)
    np.testing.assert_array_equal(to_numpy(m.weight_v.data), w0)

    rng = np.random.RandomState(1)
    m.weight_g.data.mul_(1.5)  # the pre-hook must pick the new g up
    tm.weight_g.data.mul_(1.5)
    x = rng.standard_normal((5, int(np.prod(shape[1:]))))
    out = m(Variable(ember.from_numpy(x.copy())))
    tout = tm(torch.from_numpy(x.copy()))
    assert_same(out.data, tout, 1e-12, 1e-12)
    assert_same(m.weight.data, tm.weight, 1e-12, 1e-12)
    go = rng.standard_normal(out.size())
    out.backward(ember.from_numpy(go.copy()))
    tout.backward(torch.from_numpy(go.copy()))
    assert_same(m.weight_g.grad.data.view(-1), tm.weight_g.grad.reshape(-1), 1e-10, 1e-12)
    assert_same(m.weight_v.grad.data, tm.weight_v.grad, 1e-10, 1e-12)


def test_negative_dim_is_0_2s_transpose():
    """0.2 transposes dim to the front, so dim=-1 keeps the last dim (later PyTorch reads -1 as 'all')."""
    ember.manual_seed(2)
    m = nn.utils.weight_norm(Affine((2, 3, 4)), dim=-1)
    v = to_numpy(m.weight_v.data)
    g = to_numpy(m.weight_g.data)
    assert g.shape == (1, 1, 4)
    np.testing.assert_allclose(g, _numpy_norm_except(v, -1), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(m.weight.data), v * g / _numpy_norm_except(v, -1), rtol=1e-12)


def test_weight_follows_g_and_v():
    ember.manual_seed(3)
    m = nn.utils.weight_norm(Affine((3, 2)), name="weight")
    m.weight_v.data.copy_(ember.from_numpy(np.array([[3.0, 4.0], [0.0, 2.0], [1.0, 0.0]])))
    m.weight_g.data.copy_(ember.from_numpy(np.array([[1.0], [2.0], [-3.0]])))
    m(Variable(ember.randn(1, 2).double()))
    np.testing.assert_allclose(to_numpy(m.weight.data), [[0.6, 0.8], [0.0, 2.0], [-3.0, 0.0]], rtol=1e-12)
    assert isinstance(m.weight, Variable) and not isinstance(m.weight, nn.Parameter)


def test_remove_weight_norm():
    ember.manual_seed(4)
    m = nn.utils.weight_norm(Affine((3, 2)))
    m.weight_g.data.fill_(2)
    m(Variable(ember.randn(1, 2).double()))
    w = to_numpy(m.weight.data).copy()
    assert nn.utils.remove_weight_norm(m) is m
    assert isinstance(m.weight, nn.Parameter)
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight"]
    assert len(m._forward_pre_hooks) == 0
    np.testing.assert_allclose(to_numpy(m.weight.data), w, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt((w ** 2).sum(1)), [2, 2, 2], rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in Affine"):
        nn.utils.remove_weight_norm(m)


def test_other_parameter_names_and_errors():
    m = nn.utils.weight_norm(Affine((3, 2)), name="bias", dim=None)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias_g", "bias_v"]
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter bias"):
        nn.utils.weight_norm(m, name="bias")
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'nothing'"):
        nn.utils.weight_norm(m, name="nothing")
    hook = next(iter(m._forward_pre_hooks.values()))
    assert isinstance(hook, WeightNorm) and hook.name == "bias" and hook.dim is None


def test_forward_pre_hooks():
    calls = []
    m = Affine((2, 2))

    def hook(module, input):
        calls.append((module, input))

    handle = m.register_forward_pre_hook(hook)
    x = Variable(ember.randn(1, 2).double())
    m(x)
    assert len(calls) == 1 and calls[0][0] is m and calls[0][1][0] is x
    handle.remove()
    m(x)
    assert len(calls) == 1
