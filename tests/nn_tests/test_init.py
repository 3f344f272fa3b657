"""nn.init: distributions (Kolmogorov-Smirnov against scipy.stats), properties (orthogonality, sparsity,
Dirac identity), gains against PyTorch, and the Tensor-or-Variable contract."""
import math

import numpy as np
import pytest
from scipy import stats

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable
from _helpers.oracle import require_torch

P_MIN = 1e-3  # fixed seeds: a correct sampler passes, a wrong scale or law fails by far


def _sample(fn, shape, **kwargs):
    ember.manual_seed(7)
    t = ember.DoubleTensor(*shape)
    r = fn(t, **kwargs)
    assert r is t
    return t.numpy().ravel()


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2)])
def test_calculate_gain_matches_torch(name, param):
    torch = require_torch()
    assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("softmax")
    with pytest.raises(ValueError, match="not a valid number"):
        nn.init.calculate_gain("leaky_relu", "x")


def test_uniform_and_normal_and_constant():
    x = _sample(nn.init.uniform, (100, 50), a=-2, b=3)
    assert stats.kstest(x, stats.uniform(loc=-2, scale=5).cdf).pvalue > P_MIN
    x = _sample(nn.init.normal, (100, 50), mean=1.5, std=0.5)
    assert stats.kstest(x, stats.norm(loc=1.5, scale=0.5).cdf).pvalue > P_MIN
    x = _sample(nn.init.constant, (3, 4), val=2.5)
    assert (x == 2.5).all()


@pytest.mark.parametrize("shape", [(200, 100), (64, 16, 3, 3)])
def test_xavier(shape):
    fan_in = shape[1] * int(np.prod(shape[2:]))
    fan_out = shape[0] * int(np.prod(shape[2:]))
    std = 2.0 * math.sqrt(2.0 / (fan_in + fan_out))
    x = _sample(nn.init.xavier_uniform, shape, gain=2.0)
    a = math.sqrt(3.0) * std
    assert stats.kstest(x, stats.uniform(loc=-a, scale=2 * a).cdf).pvalue > P_MIN
    x = _sample(nn.init.xavier_normal, shape, gain=2.0)
    assert stats.kstest(x, stats.norm(scale=std).cdf).pvalue > P_MIN


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming(mode):
    shape = (120, 40, 3)
    fan = (40 if mode == "fan_in" else 120) * 3
    std = math.sqrt(2.0 / (1 + 0.1 ** 2)) / math.sqrt(fan)
    x = _sample(nn.init.kaiming_normal, shape, a=0.1, mode=mode)
    assert stats.kstest(x, stats.norm(scale=std).cdf).pvalue > P_MIN
    x = _sample(nn.init.kaiming_uniform, shape, a=0.1, mode=mode)
    b = math.sqrt(3.0) * std
    assert stats.kstest(x, stats.uniform(loc=-b, scale=2 * b).cdf).pvalue > P_MIN
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_normal(ember.DoubleTensor(3, 3), mode="fan_avg")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    ember.manual_seed(3)
    t = nn.init.orthogonal(ember.DoubleTensor(*shape), gain=1.5)
    m = t.numpy().reshape(shape[0], -1) / 1.5
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal(ember.DoubleTensor(3))


def test_sparse():
    ember.manual_seed(5)
    t = nn.init.sparse(ember.DoubleTensor(20, 30), sparsity=0.3, std=0.05)
    zeros = (t.numpy() == 0).sum(axis=0)
    assert (zeros == math.ceil(0.3 * 20)).all()  # that fraction of every column, exactly
    nonzero = t.numpy()[t.numpy() != 0]
    assert stats.kstest(nonzero, stats.norm(scale=0.05).cdf).pvalue > P_MIN
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.sparse(ember.DoubleTensor(2, 2, 2), 0.1)


def test_eye_and_dirac():
    t = nn.init.eye(ember.FloatTensor(3, 5))
    np.testing.assert_array_equal(t.numpy(), np.eye(3, 5))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.eye(ember.FloatTensor(2, 2, 2))
    # a Dirac-initialised convolution passes its input through unchanged
    w = nn.init.dirac(ember.DoubleTensor(4, 4, 3, 3))
    x = Variable(ember.DoubleTensor(np.random.RandomState(0).standard_normal((2, 4, 6, 6))))
    y = F.conv2d(x, Variable(w), padding=1)
    np.testing.assert_allclose(y.data.numpy(), x.data.numpy(), atol=1e-12)
    w1 = nn.init.dirac(ember.DoubleTensor(3, 2, 5))
    assert w1.sum() == 2 and w1[0][0][2] == 1 and w1[1][1][2] == 1
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        nn.init.dirac(ember.DoubleTensor(3, 3))


def test_accepts_variables_and_parameters():
    p = nn.Parameter(ember.DoubleTensor(4, 4))
    assert nn.init.constant(p, 0.5) is p and (p.data.numpy() == 0.5).all()
    v = Variable(ember.DoubleTensor(10, 10))
    nn.init.xavier_uniform(v)
    assert np.abs(v.data.numpy()).max() <= math.sqrt(6.0 / 20) + 1e-12
    with pytest.raises(ValueError, match="less than 2 dimensions"):
        nn.init.xavier_normal(ember.DoubleTensor(5))
