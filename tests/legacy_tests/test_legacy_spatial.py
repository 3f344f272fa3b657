"""ember.legacy.nn's convolution, pooling, padding and normalization modules beyond the Lua reference corpus
(test_lua_nn_reference.py): modules built in Python checked by finite differences, against PyTorch 2.13
and against NumPy formulas; the Lua API on them (accumulation with scale, accUpdateGradParameters,
gradInput = None, type conversion, clearState, getParameters); 0.2's constructor defaults and reprs;
fields of old .t7 files; .t7 round trips; errors."""
import io
import math

import numpy as np
import pytest

import ember
import ember.legacy.nn as nn
from ember.legacy import load_lua, save_lua

from _helpers.data import shared_data
from _helpers.oracle import require_torch, to_torch


def randn(*size):
    return ember.DoubleTensor(*size).normal_()


def fd_check(module, input, eps=1e-6, tol=1e-6):
    """backward() against central finite differences of <forward(x), gradOutput>, for the input (a tensor or
    a list whose first element is differentiated) and every parameter."""
    go = randn(*module.forward(input).size())
    weights = go.numpy().reshape(-1).copy()

    def objective():
        return float(module.forward(input).numpy().reshape(-1) @ weights)

    module.zeroGradParameters()
    module.forward(input)
    gin = module.backward(input, go)
    x, gx = (input[0], gin[0]) if isinstance(input, list) else (input, gin)
    targets = [(x, gx.clone())]
    params = module.parameters()
    if params is not None:
        targets += [(p, g.clone()) for p, g in zip(*params)]
    for t, g in targets:
        view = t.view(-1)
        numeric = np.zeros(t.numel())
        for i in range(t.numel()):
            orig = float(view[i])
            view[i] = orig + eps
            fp = objective()
            view[i] = orig - eps
            fm = objective()
            view[i] = orig
            numeric[i] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(g.numpy().reshape(-1), numeric, rtol=tol, atol=tol)


def _random_kernel(*size):
    return ember.DoubleTensor(*size).uniform_(0.5, 1.5)


# (id, module factory, input factory); every module in double precision
FD_CASES = [
    ("SpatialConvolution", lambda: nn.SpatialConvolution(3, 2, 3, 2, 2, 1, 1, 0), lambda: randn(2, 3, 5, 6)),
    ("SpatialConvolution_nobatch_nobias", lambda: nn.SpatialConvolution(2, 2, 2, 3, 1, 2, 0, 1).noBias(),
     lambda: randn(2, 5, 4)),
    ("SpatialConvolutionMM", lambda: nn.SpatialConvolutionMM(2, 3, 3, 3, 1, 1, 1), lambda: randn(2, 2, 4, 4)),
    ("SpatialDilatedConvolution", lambda: nn.SpatialDilatedConvolution(2, 2, 3, 2, 1, 1, 1, 0, 1, 2),
     lambda: randn(2, 2, 5, 6)),
    ("SpatialFullConvolution", lambda: nn.SpatialFullConvolution(2, 3, 3, 3, 2, 2, 1, 1, 1, 0),
     lambda: randn(2, 2, 3, 3)),
    ("SpatialFullConvolution_target", lambda: nn.SpatialFullConvolution(2, 2, 3, 3, 2, 2, 1, 1),
     lambda: [randn(2, 2, 3, 3), randn(2, 2, 6, 5)]),
    ("SpatialConvolutionMap", lambda: nn.SpatialConvolutionMap(
        ember.DoubleTensor([[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [0, 2]]), 3, 2, 2, 1), lambda: randn(2, 3, 5, 6)),
    ("SpatialSubSampling", lambda: nn.SpatialSubSampling(3, 2, 2, 2, 1), lambda: randn(2, 3, 5, 4)),
    ("TemporalConvolution", lambda: nn.TemporalConvolution(4, 3, 3, 2), lambda: randn(2, 7, 4)),
    ("TemporalConvolution_nobatch", lambda: nn.TemporalConvolution(3, 2, 2), lambda: randn(5, 3)),
    ("VolumetricConvolution", lambda: nn.VolumetricConvolution(2, 2, 2, 3, 2, 1, 2, 1, 1, 0, 1),
     lambda: randn(2, 2, 3, 4, 3)),
    ("VolumetricFullConvolution", lambda: nn.VolumetricFullConvolution(2, 2, 2, 2, 2, 2, 1, 1, 1, 0, 0, 1, 0, 0),
     lambda: randn(1, 2, 2, 3, 2)),
    ("SpatialMaxPooling_ceil_pad", lambda: nn.SpatialMaxPooling(3, 2, 2, 1, 1, 0).ceil(), lambda: randn(2, 2, 5, 6)),
    ("SpatialAveragePooling_exclude", lambda: nn.SpatialAveragePooling(3, 3, 2, 2, 1, 1).setCountExcludePad(),
     lambda: randn(2, 2, 5, 6)),
    ("SpatialAdaptiveMaxPooling", lambda: nn.SpatialAdaptiveMaxPooling(3, 2), lambda: randn(2, 5, 7)),
    ("SpatialMaxUnpooling_pair", lambda: nn.Sequential().add(nn.SpatialMaxPooling(2, 2)).add(
        nn.SpatialMaxUnpooling(nn.SpatialMaxPooling(2, 2))), None),
    ("TemporalMaxPooling", lambda: nn.TemporalMaxPooling(2, 1), lambda: randn(2, 6, 3)),
    ("VolumetricMaxPooling", lambda: nn.VolumetricMaxPooling(2, 2, 2, 1, 2, 1, 1, 0, 1).ceil(),
     lambda: randn(2, 3, 4, 3)),
    ("VolumetricAveragePooling", lambda: nn.VolumetricAveragePooling(2, 2, 2, 1, 1, 2), lambda: randn(2, 3, 4, 4)),
    ("SpatialLPPooling_p3", lambda: nn.SpatialLPPooling(2, 3, 2, 2), lambda: _random_kernel(2, 4, 4)),
    ("SpatialZeroPadding", lambda: nn.SpatialZeroPadding(2, -1, 1, 0), lambda: randn(2, 2, 3, 4)),
    ("SpatialReflectionPadding", lambda: nn.SpatialReflectionPadding(1, 2, 0, 1), lambda: randn(2, 3, 4)),
    ("SpatialReplicationPadding", lambda: nn.SpatialReplicationPadding(2, 0, 1, 3), lambda: randn(2, 2, 3, 4)),
    ("SpatialUpSamplingNearest", lambda: nn.SpatialUpSamplingNearest(2), lambda: randn(2, 3, 2)),
    ("SpatialSoftMax", lambda: nn.SpatialSoftMax(), lambda: randn(2, 3, 2, 3)),
    ("SpatialCrossMapLRN", lambda: nn.SpatialCrossMapLRN(3, 0.1, 0.75, 2), lambda: randn(2, 4, 2, 3)),
    ("SpatialSubtractiveNormalization", lambda: nn.SpatialSubtractiveNormalization(2, _random_kernel(3, 5)),
     lambda: randn(2, 2, 4, 5)),
    ("SpatialDivisiveNormalization_1d", lambda: nn.SpatialDivisiveNormalization(3, _random_kernel(3), 0.3, 0.5),
     lambda: randn(3, 4, 4)),
    ("SpatialContrastiveNormalization", lambda: nn.SpatialContrastiveNormalization(2, _random_kernel(3, 3)),
     lambda: randn(2, 2, 4, 3)),
    ("BatchNormalization", lambda: nn.BatchNormalization(3), lambda: randn(5, 3)),
    ("SpatialBatchNormalization_noaffine", lambda: nn.SpatialBatchNormalization(2, 1e-3, 0.3, False),
     lambda: randn(3, 2, 2, 3)),
]


@pytest.mark.parametrize("make,make_input", [c[1:] for c in FD_CASES], ids=[c[0] for c in FD_CASES])
def test_gradients_by_finite_differences(make, make_input):
    ember.manual_seed(3)
    module = make().double()
    if make_input is None:  # the pair: the unpooling module uses the first module's indices
        module.modules[1] = nn.SpatialMaxUnpooling(module.modules[0])
        make_input = lambda: randn(2, 2, 4, 6)  # noqa: E731
    fd_check(module, make_input())


def test_batch_normalization_evaluate_gradients():
    ember.manual_seed(0)
    m = nn.VolumetricBatchNormalization(2).double()
    m.running_mean.normal_()
    m.running_var.uniform_(0.5, 2)
    m.evaluate()
    fd_check(m, randn(2, 2, 2, 3, 2))


# ----------------------------------------------------------------------------------- against PyTorch
def _torch_grads(fn, x, *params):
    """fn's output and the gradients of <output, g> for x and params, g random (returned first)."""
    torch = require_torch()
    xs = [to_torch(t).requires_grad_() for t in (x,) + params]
    y = fn(*xs)
    g = torch.randn(y.shape, dtype=y.dtype)
    (y * g).sum().backward()
    return g, y, [t.grad for t in xs]


def _ember(t):
    return ember.DoubleTensor(t.detach().numpy().copy()) if t.dtype.is_floating_point and \
        t.dtype.itemsize == 8 else ember.FloatTensor(t.detach().numpy().copy())


@pytest.mark.parametrize("cls", [ember.DoubleTensor, ember.FloatTensor])
def test_spatial_convolution_matches_torch_on_strided_input(cls):
    torch = require_torch()
    F = torch.nn.functional
    ember.manual_seed(1)
    m = nn.SpatialConvolution(3, 4, 3, 2, 2, 1, 1, 2).type(cls._typename)
    base = cls(2, 6, 3, 7).normal_()
    x = base.transpose(1, 2).narrow(3, 1, 5)  # 2 x 3 x 6 x 5, not contiguous
    assert not x.is_contiguous()
    g, y, (gx, gw, gb) = _torch_grads(lambda a, w, b: F.conv2d(a, w, b, (1, 2), (2, 1)), x, m.weight, m.bias)
    tol = 1e-10 if cls is ember.DoubleTensor else 1e-4
    np.testing.assert_allclose(m.forward(x).numpy(), y.detach().numpy(), rtol=tol, atol=tol)
    m.zeroGradParameters()
    m.backward(x, _ember(g), 0.5)
    np.testing.assert_allclose(m.gradInput.numpy(), gx.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(m.gradWeight.numpy(), 0.5 * gw.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(m.gradBias.numpy(), 0.5 * gb.numpy(), rtol=tol, atol=tol)


def test_full_convolution_with_target_size_matches_torch():
    torch = require_torch()
    F = torch.nn.functional
    ember.manual_seed(2)
    m = nn.SpatialFullConvolution(3, 2, 3, 3, 2, 3, 1, 0).double()
    x, target = randn(2, 3, 2, 4), randn(2, 2, 7, 8)
    # adj = (target + 2 pad - k) % stride per dim: height (7 + 0 - 3) % 3 = 1, width (8 + 2 - 3) % 2 = 1
    g, y, (gx, gw, gb) = _torch_grads(lambda a, w, b: F.conv_transpose2d(a, w, b, (3, 2), (0, 1), (1, 1)), x,
                                      m.weight, m.bias)
    out = m.forward([x, target])
    assert list(out.size()) == [2, 2, 7, 8]
    np.testing.assert_allclose(out.numpy(), y.detach().numpy(), rtol=1e-10, atol=1e-10)
    m.zeroGradParameters()
    gin = m.backward([x, target], _ember(g))
    assert isinstance(gin, list) and len(gin) == 2
    np.testing.assert_allclose(gin[0].numpy(), gx.numpy(), rtol=1e-10, atol=1e-10)
    assert gin[1].size() == target.size() and float(gin[1].abs().sum()) == 0
    np.testing.assert_allclose(m.gradWeight.numpy(), gw.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(m.gradBias.numpy(), gb.numpy(), rtol=1e-10, atol=1e-10)


def test_volumetric_modules_match_torch():
    torch = require_torch()
    F = torch.nn.functional
    ember.manual_seed(4)
    x = randn(2, 2, 5, 6, 7)
    conv = nn.VolumetricConvolution(2, 3, 3, 2, 2, 2, 1, 2, 1, 0, 1).double()  # kT kW kH, dT dW dH, padT padW padH
    y = F.conv3d(to_torch(x), to_torch(conv.weight), to_torch(conv.bias), (2, 2, 1), (1, 1, 0))
    np.testing.assert_allclose(conv.forward(x).numpy(), y.numpy(), rtol=1e-10, atol=1e-10)
    pool = nn.VolumetricMaxPooling(2, 3, 2, 2, 2, 1, 1, 1, 0).ceil()
    y = F.max_pool3d(to_torch(x), (2, 2, 3), (2, 1, 2), (1, 0, 1), ceil_mode=True)
    np.testing.assert_allclose(pool.forward(x).numpy(), y.numpy())
    avg = nn.VolumetricAveragePooling(2, 3, 2, 1, 2, 1)
    y = F.avg_pool3d(to_torch(x), (2, 2, 3), (1, 1, 2))
    np.testing.assert_allclose(avg.forward(x).numpy(), y.numpy(), rtol=1e-12)


def test_adaptive_max_pooling_matches_torch():
    torch = require_torch()
    x = randn(2, 3, 7, 10)
    m = nn.SpatialAdaptiveMaxPooling(4, 3)  # w, h
    y = torch.nn.functional.adaptive_max_pool2d(to_torch(x), (3, 4))
    np.testing.assert_allclose(m.forward(x).numpy(), y.numpy())


def test_temporal_modules_match_numpy():
    ember.manual_seed(5)
    conv = nn.TemporalConvolution(3, 4, 3, 2).double()
    x = randn(2, 8, 3)
    w = conv.weight.numpy()
    xs = x.numpy()
    # frames t*dW ... t*dW + kW - 1, one after the other, times each weight row
    expected = np.stack([np.stack([w @ xs[n, t * 2:t * 2 + 3].reshape(-1) + conv.bias.numpy() for t in range(3)])
                         for n in range(2)])
    np.testing.assert_allclose(conv.forward(x).numpy(), expected, rtol=1e-12)
    assert conv.output.is_contiguous()
    pool = nn.TemporalMaxPooling(3, 2)
    expected = np.stack([xs[:, t * 2:t * 2 + 3].max(1) for t in range(3)], 1)
    np.testing.assert_allclose(pool.forward(x).numpy(), expected)
    np.testing.assert_allclose(pool.forward(x[0]).numpy(), expected[0])


def test_convolution_map_matches_numpy_loops():
    ember.manual_seed(6)
    table = nn.SpatialConvolutionMap.maps.random(4, 3, 2)
    m = nn.SpatialConvolutionMap(table, 3, 2, 1, 2).double()
    x = randn(4, 7, 6)
    xs, w = x.numpy(), m.weight.numpy()
    out = np.zeros((3, 3, 4)) + m.bias.numpy()[:, None, None]
    for k, (i, o) in enumerate(table.long().tolist()):
        for r in range(3):
            for c in range(4):
                out[o, r, c] += (xs[i, r * 2:r * 2 + 2, c:c + 3] * w[k]).sum()
    np.testing.assert_allclose(m.forward(x).numpy(), out, rtol=1e-12)


def test_convolution_map_tables():
    full = nn.SpatialConvolutionMap.maps.full(3, 2)
    assert full.long().tolist() == [[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]]
    assert nn.SpatialConvolutionMap.maps.oneToOne(3).long().tolist() == [[0, 0], [1, 1], [2, 2]]
    ember.manual_seed(7)
    rnd = nn.SpatialConvolutionMap.maps.random(5, 4, 2).long()
    assert rnd.size() == ember.Size([8, 2])
    for o in range(4):
        sources = rnd[rnd[:, 1].eq(o).nonzero().view(-1)][:, 0].tolist()
        assert len(set(sources)) == 2 and all(0 <= s < 5 for s in sources)
    m = nn.SpatialConvolutionMap(full, 3, 3)
    assert (m.nInputPlane, m.nOutputPlane) == (3, 2)
    assert tuple(m.weight.size()) == (6, 3, 3) and tuple(m.bias.size()) == (2,)


def test_subsampling_matches_numpy():
    m = nn.SpatialSubSampling(2, 3, 2, 1, 2).double()
    x = randn(2, 2, 6, 5)
    xs = x.numpy()
    expected = np.zeros((2, 2, 3, 3))
    for r in range(3):
        for c in range(3):
            expected[:, :, r, c] = xs[:, :, 2 * r:2 * r + 2, c:c + 3].sum((2, 3))
    expected = expected * m.weight.numpy()[:, None, None] + m.bias.numpy()[:, None, None]
    np.testing.assert_allclose(m.forward(x).numpy(), expected, rtol=1e-12)


def test_lp_pooling_is_the_p_norm_of_each_window():
    x = ember.DoubleTensor(2, 4, 6).uniform_(0.1, 2)
    for p in (2, 3):
        m = nn.SpatialLPPooling(2, p, 3, 2, 3, 2)
        xs = x.numpy()
        expected = np.stack([np.stack([(xs[:, 2 * r:2 * r + 2, 3 * c:3 * c + 3] ** p).sum((1, 2)) ** (1 / p)
                                       for c in range(2)], -1) for r in range(2)], 1)
        np.testing.assert_allclose(m.forward(x).numpy(), expected, rtol=1e-12)
    assert m.parameters() is None


def test_one_sample_equals_a_batch_of_one():
    ember.manual_seed(8)
    for m in (nn.SpatialConvolution(2, 3, 3, 3, 1, 1, 1), nn.SpatialMaxPooling(2, 2), nn.SpatialZeroPadding(1, 0, 2),
              nn.SpatialUpSamplingNearest(3), nn.SpatialCrossMapLRN(3), nn.SpatialSubtractiveNormalization(2)):
        m = m.double()
        x = randn(2, 5, 4)
        single = m.forward(x).clone()
        batch = m.forward(x.view(1, 2, 5, 4))
        np.testing.assert_allclose(single.numpy(), batch[0].numpy(), rtol=1e-12, err_msg=repr(m))


def test_batch_normalization_running_statistics_and_single_sample_in_evaluation():
    m = nn.BatchNormalization(3, 1e-5, 0.25).double()
    x = randn(6, 3)
    m.forward(x)
    xs = x.numpy()
    np.testing.assert_allclose(m.running_mean.numpy(), 0.25 * xs.mean(0), rtol=1e-12)
    np.testing.assert_allclose(m.running_var.numpy(), 0.75 + 0.25 * xs.var(0, ddof=1), rtol=1e-12)
    m.evaluate()
    expected = (xs[2] - m.running_mean.numpy()) / np.sqrt(m.running_var.numpy() + 1e-5) * m.weight.numpy() \
        + m.bias.numpy()
    np.testing.assert_allclose(m.forward(x[2]).numpy(), expected, rtol=1e-12)
    m.training()
    with pytest.raises(RuntimeError, match=r"only mini-batch supported \(2D tensor\), got 1D tensor instead"):
        m.forward(x[2])
    with pytest.raises(RuntimeError, match="got 4-feature tensor, expected 3"):
        m.forward(randn(5, 4))


# ----------------------------------------------------------------------------------- the Lua API
def test_gradients_accumulate_with_scale_and_acc_update():
    ember.manual_seed(9)
    x = randn(2, 2, 5, 5)
    for make in (lambda: nn.SpatialConvolution(2, 3, 3, 3), lambda: nn.SpatialFullConvolution(2, 3, 2, 2),
                 lambda: nn.SpatialSubSampling(2, 2, 2), lambda: nn.SpatialBatchNormalization(2),
                 lambda: nn.SpatialConvolutionMap(nn.SpatialConvolutionMap.maps.full(2, 2), 2, 2)):
        m = make().double()
        go = randn(*m.forward(x).size())
        m.zeroGradParameters()
        m.backward(x, go)
        once = [g.clone() for g in m.parameters()[1]]
        m.backward(x, go, 0.5)
        for g, g1 in zip(m.parameters()[1], once):
            np.testing.assert_allclose(g.numpy(), 1.5 * g1.numpy(), rtol=1e-12, err_msg=repr(m))
        # accGradParameters alone gives the same as the parameter part of backward
        m.zeroGradParameters()
        m.accGradParameters(x, go, 2)
        for g, g1 in zip(m.parameters()[1], once):
            np.testing.assert_allclose(g.numpy(), 2 * g1.numpy(), rtol=1e-12, err_msg=repr(m))
        # accUpdateGradParameters: parameters -= lr * gradient, gradient buffers untouched
        before = [p.clone() for p in m.parameters()[0]]
        grads = [g.clone() for g in m.parameters()[1]]
        m.accUpdateGradParameters(x, go, 0.1)
        for p, p0, g1 in zip(m.parameters()[0], before, once):
            np.testing.assert_allclose(p.numpy(), p0.numpy() - 0.1 * g1.numpy(), rtol=1e-10, atol=1e-12)
        for g, g0 in zip(m.parameters()[1], grads):
            np.testing.assert_array_equal(g.numpy(), g0.numpy())


def test_no_grad_input_when_gradInput_is_none():
    m = nn.SpatialConvolution(2, 2, 3, 3).double()
    x = randn(1, 2, 4, 4)
    go = randn(*m.forward(x).size())
    m.gradInput = None
    m.zeroGradParameters()
    assert m.backward(x, go) is None
    assert float(m.gradWeight.abs().sum()) > 0


def test_type_conversion_and_clear_state():
    m = nn.Sequential().add(nn.SpatialConvolution(1, 2, 3, 3)).add(nn.SpatialMaxPooling(2, 2)) \
        .add(nn.SpatialBatchNormalization(2))
    m.double()
    x = randn(2, 1, 6, 6)
    y = m.forward(x).clone()
    m.float()
    assert m.modules[0].weight.type() == "torch.FloatTensor"
    assert m.modules[2].running_mean.type() == "torch.FloatTensor"
    assert m.modules[1].indices.type() == "torch.LongTensor"
    m.evaluate()
    yf = m.forward(x.float())
    assert yf.type() == "torch.FloatTensor"
    m.clearState()
    assert m.modules[0].output.numel() == 0 and m.modules[1].indices.numel() == 0
    m.double().training()
    assert m.forward(x).size() == y.size()


def test_get_parameters_flattens_convolution_and_batch_norm():
    m = nn.Sequential().add(nn.SpatialConvolution(2, 3, 3, 3)).add(nn.SpatialBatchNormalization(3)) \
        .add(nn.VolumetricConvolution(1, 1, 1, 1, 1)).double()
    flat, gflat = m.getParameters()
    assert flat.numel() == 3 * 2 * 9 + 3 + 3 + 3 + 1 + 1
    flat.fill_(0.5)
    assert float(m.modules[0].weight.sum()) == 0.5 * 54 and float(m.modules[1].bias.sum()) == 1.5
    gflat.fill_(2)
    assert float(m.modules[0].gradBias.sum()) == 6


def test_reset_ranges():
    ember.manual_seed(10)
    for m, fan_in in ((nn.SpatialConvolution(3, 4, 5, 2), 30), (nn.SpatialFullConvolution(3, 4, 2, 2), 12),
                      (nn.VolumetricConvolution(2, 2, 2, 3, 3), 36), (nn.TemporalConvolution(5, 2, 3), 15),
                      (nn.SpatialSubSampling(2, 3, 3), 9)):
        bound = 1 / math.sqrt(fan_in)
        assert float(m.weight.abs().max()) <= bound and float(m.bias.abs().max()) <= bound
        assert float(m.weight.abs().max()) > bound / 2, repr(m)
        m.reset(0.01)
        assert float(m.weight.abs().max()) <= 0.01 * math.sqrt(3)
    bn = nn.BatchNormalization(4)
    assert float(bn.bias.abs().sum()) == 0 and 0 <= float(bn.weight.min()) <= float(bn.weight.max()) <= 1
    assert bn.running_var.tolist() == [1] * 4


# ----------------------------------------------------------------------------------- 0.2's defaults and reprs
@pytest.mark.parametrize("module,text", [
    (lambda: nn.SpatialConvolution(3, 16, 5, 5), "nn.SpatialConvolution(3 -> 16, 5x5)"),
    (lambda: nn.SpatialConvolution(3, 16, 5, 3, 2, 1, 1), "nn.SpatialConvolution(3 -> 16, 5x3, 2, 1, 1, 1)"),
    (lambda: nn.SpatialConvolution(3, 16, 5, 5, 1, 1, 0, 0).noBias(),
     "nn.SpatialConvolution(3 -> 16, 5x5) without bias"),
    (lambda: nn.SpatialConvolutionMM(1, 8, 5, 5, 2, 2), "nn.SpatialConvolutionMM(1 -> 8, 5x5, 2, 2)"),
    (lambda: nn.SpatialDilatedConvolution(2, 4, 3, 3, 1, 1, 2, 2, 2), "nn.SpatialDilatedConvolution(2 -> 4, 3x3, "
                                                                      "1, 1, 2, 2, 2, 2)"),
    (lambda: nn.SpatialFullConvolution(4, 2, 3, 3, 2, 2, 1, 1, 1, 1),
     "nn.SpatialFullConvolution(4 -> 2, 3x3, 2, 2, 1, 1, 1, 1)"),
    (lambda: nn.VolumetricConvolution(2, 3, 3, 3, 3), "nn.VolumetricConvolution(2 -> 3, 3x3x3)"),
    (lambda: nn.VolumetricConvolution(2, 3, 3, 3, 3, 1, 1, 1, 1),
     "nn.VolumetricConvolution(2 -> 3, 3x3x3, 1, 1, 1, 1, 1, 1)"),
    (lambda: nn.VolumetricFullConvolution(2, 3, 3, 3, 3, 2, 2, 2, 0, 0, 0, 1, 1, 1),
     "nn.VolumetricFullConvolution(2 -> 3, 3x3x3, 2, 2, 2, 1, 1, 1)"),
    (lambda: nn.SpatialMaxPooling(2, 2), "nn.SpatialMaxPooling(2x2, 2, 2)"),
    (lambda: nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1), "nn.SpatialMaxPooling(3x3, 2, 2, 1, 1)"),
    (lambda: nn.SpatialAveragePooling(2, 2), "nn.SpatialAveragePooling(2x2, 1, 1)"),
    (lambda: nn.VolumetricMaxPooling(2, 2, 2), "nn.VolumetricMaxPooling(2x2x2, 2, 2, 2)"),
    (lambda: nn.VolumetricAveragePooling(2, 3, 3), "nn.VolumetricAveragePooling(2x3x3, 2, 3, 3)"),
    (lambda: nn.SpatialZeroPadding(1, 2), "nn.SpatialZeroPadding(l=1, r=2, t=1, b=1)"),
    (lambda: nn.SpatialReflectionPadding(1, 2, 3, 4), "nn.SpatialReflectionPadding(l=1, r=2, t=3, b=4)"),
    (lambda: nn.SpatialReplicationPadding(2), "nn.SpatialReplicationPadding(l=2, r=2, t=2, b=2)"),
    (lambda: nn.SpatialMaxUnpooling(nn.SpatialMaxPooling(2, 2)),
     "nn.SpatialMaxUnpooling associated to nn.SpatialMaxPooling(2x2, 2, 2)"),
    (lambda: nn.SpatialBatchNormalization(3), "nn.SpatialBatchNormalization"),
    (lambda: nn.TemporalConvolution(3, 4, 2), "nn.TemporalConvolution"),
    (lambda: nn.SpatialCrossMapLRN(3), "nn.SpatialCrossMapLRN"),
])
def test_reprs(module, text):
    assert repr(module()) == text


def test_constructor_defaults():
    c = nn.SpatialConvolution(1, 1, 3, 3, 1, 1, 2)
    assert (c.padW, c.padH) == (2, 2)
    v = nn.VolumetricConvolution(1, 1, 3, 3, 3, 1, 1, 1, 2)
    assert (v.padT, v.padW, v.padH) == (2, 2, 2)
    d = nn.SpatialDilatedConvolution(1, 1, 3, 3, 1, 1, 0, 0, 3)
    assert (d.dilationH, d.dilationW) == (3, 3)
    p = nn.SpatialMaxPooling(3, 2)
    assert (p.dW, p.dH, p.padW, p.padH, p.ceil_mode) == (3, 2, 0, 0, False)
    t = nn.TemporalMaxPooling(4)
    assert t.dW == 4
    z = nn.SpatialZeroPadding(1, 2, 3)
    assert (z.pad_l, z.pad_r, z.pad_t, z.pad_b) == (1, 2, 3, 1)
    a = nn.SpatialAveragePooling(2, 2)
    assert (a.dW, a.count_include_pad, a.divide) == (1, True, True)
    n = nn.SpatialDivisiveNormalization(2)
    assert n.kernel.size() == ember.Size([9, 9]) and n.thresval == n.threshold == 1e-4
    np.testing.assert_allclose(float(n.kernel.sum()), 1 / 2, rtol=1e-6)
    lp = nn.SpatialLPPooling(3, 2, 2, 2)
    assert [type(c).__name__ for c in lp.modules] == ["Square", "SpatialAveragePooling", "MulConstant", "Sqrt"]


# ----------------------------------------------------------------------------------- old .t7 fields, round trips
def _as_read(cls, **fields):
    """An object as the .t7 reader makes it: __new__, the Lua fields, then _from_lua."""
    obj = cls.__new__(cls)
    obj.__dict__.update(fields)
    obj._from_lua(0)
    return obj


def test_old_convolution_mm_fields_get_lua_defaults():
    ember.manual_seed(11)
    w, b = randn(8, 25), randn(8)
    m = _as_read(nn.SpatialConvolutionMM, nInputPlane=1, nOutputPlane=8, kW=5, kH=5, weight=w, bias=b,
                 output=ember.DoubleTensor(), gradInput=ember.DoubleTensor())
    assert (m.dW, m.dH, m.padW, m.padH) == (1, 1, 0, 0)
    assert m.gradWeight.size() == w.size() and float(m.gradWeight.abs().sum()) == 0
    ref = nn.SpatialConvolution(1, 8, 5, 5).double()
    ref.weight.copy_(w.view(8, 1, 5, 5))
    ref.bias.copy_(b)
    x = randn(1, 9, 7)
    np.testing.assert_array_equal(m.forward(x).numpy(), ref.forward(x).numpy())
    old = _as_read(nn.SpatialConvolutionMM, nInputPlane=1, nOutputPlane=8, kW=5, kH=5, weight=w, bias=b, padding=2)
    assert (old.padW, old.padH) == (2, 2)


def test_old_average_pooling_sums_and_old_batch_norm_std():
    x = randn(1, 4, 4)
    summing = _as_read(nn.SpatialAveragePooling, kW=2, kH=2, dW=2, dH=2)
    np.testing.assert_allclose(summing.forward(x).numpy(), x.numpy().reshape(1, 2, 2, 2, 2).sum((2, 4)), rtol=1e-12)
    std = ember.DoubleTensor([0.5, 2.0])
    bn = _as_read(nn.BatchNormalization, running_mean=ember.DoubleTensor(2).zero_(), running_std=std, eps=1e-5,
                  momentum=0.1, weight=None, bias=None)
    np.testing.assert_allclose(bn.running_var.numpy(), [4 - 1e-5, 0.25 - 1e-5])
    assert "running_std" not in bn.__dict__ and bn.affine is False


def test_lua_indices_and_conn_table_are_zero_based():
    out = randn(1, 2, 2)
    pool = _as_read(nn.SpatialMaxPooling, kW=2, kH=2, dW=2, dH=2, output=out,
                    indices=ember.LongTensor([[[1, 4], [9, 16]]]))
    assert pool.indices.tolist() == [[[0, 3], [8, 15]]]
    assert pool._to_lua()["indices"].tolist() == [[[1, 4], [9, 16]]]
    assert (pool.padW, pool.ceil_mode) == (0, False)
    old = _as_read(nn.SpatialMaxPooling, kW=2, kH=2, dW=2, dH=2, output=out, indices=ember.FloatTensor(2, 1, 2, 2))
    assert old.indices.numel() == 0
    cmap = _as_read(nn.SpatialConvolutionMap, kW=3, kH=3, nInputPlane=2, nOutputPlane=2,
                    connTable=ember.DoubleTensor([[1, 1], [2, 1], [2, 2]]), connTableRev=ember.DoubleTensor(2, 2, 2),
                    weight=randn(3, 3, 3), bias=randn(2))
    assert cmap.connTable.tolist() == [[0, 0], [1, 0], [1, 1]] and "connTableRev" not in cmap.__dict__
    assert cmap._to_lua()["connTable"].tolist() == [[1, 1], [2, 1], [2, 2]]


def test_t7_round_trip_keeps_the_computation():
    ember.manual_seed(12)
    m = nn.Sequential().add(nn.SpatialConvolutionMap(nn.SpatialConvolutionMap.maps.oneToOne(2), 3, 3)) \
        .add(nn.SpatialMaxPooling(2, 2, 1, 1).ceil()).add(nn.SpatialBatchNormalization(2)) \
        .add(nn.SpatialLPPooling(2, 2, 2, 2)).double()
    x = randn(2, 2, 7, 7)
    y = m.forward(x).clone()
    buf = io.BytesIO()
    save_lua(buf, m)
    buf.seek(0)
    back = load_lua(buf)
    assert repr(back) == repr(m)
    # written 1-based as Lua has them, read back 0-based
    assert back.modules[0].connTable.tolist() == m.modules[0].connTable.long().tolist()
    assert back.modules[1].indices.tolist() == m.modules[1].indices.tolist()
    np.testing.assert_array_equal(back.forward(x).numpy(), y.numpy())


def test_tracker_model_first_layer_matches_numpy():
    """A real 2014 model: SpatialConvolutionMap with a 1-based DoubleTensor table, FloatTensor weights."""
    model = load_lua(shared_data("t7", "torch_demos", "tracker_random.net_e1624d4")).double()
    cmap = model.modules[0]
    assert (cmap.nInputPlane, cmap.nOutputPlane, tuple(cmap.connTable.size())) == (3, 32, (32, 2))
    assert int(cmap.connTable.min()) == 0 and int(cmap.connTable.select(1, 0).max()) == 2
    ember.manual_seed(13)
    x = randn(3, 22, 22)
    xs, w = x.numpy(), cmap.weight.numpy()
    out = np.zeros((32, 16, 16)) + cmap.bias.numpy()[:, None, None]
    windows = np.lib.stride_tricks.sliding_window_view(xs, (7, 7), axis=(1, 2))  # 3 x 16 x 16 x 7 x 7
    for k, (i, o) in enumerate(cmap.connTable.tolist()):
        out[o] += np.einsum("rcij,ij->rc", windows[i], w[k])
    np.testing.assert_allclose(cmap.forward(x).numpy(), out, rtol=1e-10, atol=1e-12)
    # the old SpatialLPPooling: Square, SpatialSubSampling (weight 1/4), Sqrt: the RMS of each 2 x 2 window
    assert [type(c).__name__ for c in model.modules[2].modules] == ["Square", "SpatialSubSampling", "Sqrt"]
    y = model.forward(x)
    assert list(y.size()) == [32, 1, 1]
    t = np.tanh(model.modules[3].output.numpy())
    np.testing.assert_allclose(y.numpy()[:, 0, 0], np.sqrt((t ** 2).mean((1, 2)) + model.modules[5].modules[1]
                                                                .bias.numpy()), rtol=1e-10)


# ----------------------------------------------------------------------------------- errors
def test_errors():
    x = randn(1, 2, 5, 5)
    with pytest.raises(ValueError, match="kernel must be equal to its stride"):
        nn.SpatialMaxUnpooling(nn.SpatialMaxPooling(2, 2, 1, 1))
    with pytest.raises(TypeError, match="must be a nn.SpatialMaxPooling module"):
        nn.SpatialMaxUnpooling(nn.SpatialAveragePooling(2, 2))
    with pytest.raises(RuntimeError, match="must run forward first"):
        nn.SpatialMaxUnpooling(nn.SpatialMaxPooling(2, 2)).forward(x)
    with pytest.raises(ValueError, match="adjW and adjH must be smaller"):
        nn.SpatialFullConvolution(1, 1, 3, 3, 2, 2, 0, 0, 2, 0)
    with pytest.raises(ValueError, match="ODD dimensions"):
        nn.SpatialSubtractiveNormalization(2, ember.ones(4, 3))
    with pytest.raises(ValueError, match="must be 2D or 1D"):
        nn.SpatialDivisiveNormalization(2, ember.ones(3, 3, 3))
    with pytest.raises(RuntimeError, match="invalid input frame size: expected 4, got 3"):
        nn.TemporalConvolution(4, 2, 2).double().forward(randn(5, 3))
    with pytest.raises(RuntimeError, match=r"nn.SpatialZeroPadding: 3D or 4D input tensor expected but got: \[5 x 5\]"):
        nn.SpatialZeroPadding(1).forward(randn(5, 5))
    with pytest.raises(RuntimeError, match="too small"):
        nn.SpatialZeroPadding(-3, -3, 0, 0).forward(x)
    with pytest.raises(ValueError, match="scale must be a positive integer"):
        nn.SpatialUpSamplingNearest(1.5)
    with pytest.raises(RuntimeError, match="expected input.* to have 3 channels, but got 2"):
        nn.SpatialConvolution(3, 2, 3, 3).double().forward(x)
    with pytest.raises(TypeError, match="torch.FloatTensor"):
        nn.SpatialConvolution(2, 2, 3, 3).forward(x)  # float weights, double input
    with pytest.raises(RuntimeError, match="Output size is too small"):
        nn.SpatialMaxPooling(6, 6).forward(x)
