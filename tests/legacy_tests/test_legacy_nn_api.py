"""ember.legacy.nn beyond the Lua reference corpus: modules built in Python (0-based arguments) checked by
finite differences and against PyTorch 2.13 / NumPy; the Lua API (getParameters flattening and sharing,
updateParameters, accUpdateGradParameters, share / clone, type conversion, clearState, training / evaluate,
findModules / listModules / apply / replace); 0.2's reprs; .t7 round trips of 1-based fields; errors."""
import io
import math
import sys

import numpy as np
import pytest

import ember
import ember.legacy.nn as nn
from ember.legacy import load_lua, save_lua

from _helpers.oracle import require_torch, to_torch


def randn(*size):
    return ember.DoubleTensor(*size).normal_()


def flat(x):
    """A (nested) list of tensors or a tensor as one NumPy vector."""
    if isinstance(x, list):
        return np.concatenate([flat(v) for v in x]) if x else np.zeros(0)
    return x.numpy().reshape(-1).astype(np.float64)


def leaves(x):
    return [t for v in x for t in leaves(v)] if isinstance(x, list) else [x]


def like(x):
    """Random tensors shaped like a (nested) list of tensors."""
    return [like(v) for v in x] if isinstance(x, list) else randn(*x.size())


def fd_check(module, input, eps=1e-6, tol=1e-6, check_params=True):
    """backward() against central finite differences of <forward(x), gradOutput>, for the input and the
    parameters."""
    out = module.forward(input)
    go = like(out)
    gof = flat(go)

    def objective():
        return float(flat(module.forward(input)) @ gof)

    module.zeroGradParameters()
    module.forward(input)
    gin = module.backward(input, go)
    targets = [(t, g) for t, g in zip(leaves(input), leaves(gin)) if isinstance(t, (ember.DoubleTensor,))]
    if check_params and module.parameters() is not None:
        targets += list(zip(*module.parameters()))
    assert targets
    for t, g in targets:
        analytic = g.numpy().reshape(-1).copy()
        view = t.view(-1) if t.is_contiguous() else None
        assert view is not None
        numeric = np.zeros(t.numel())
        for i in range(t.numel()):
            orig = float(view[i])
            view[i] = orig + eps
            fp = objective()
            view[i] = orig - eps
            fm = objective()
            view[i] = orig
            numeric[i] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=tol, atol=tol)


def pos(*size):
    return ember.DoubleTensor(*size).uniform_(0.5, 2)


def away_from_zero(*size):
    t = randn(*size)
    return t.add_(t.sign().mul_(0.2))


def evaluating(module):
    module.evaluate()
    return module


GRAD_CASES = [
    ("Linear", lambda: nn.Linear(4, 3), lambda: randn(2, 4)),
    ("Linear_vector", lambda: nn.Linear(4, 3), lambda: randn(4)),
    ("Linear_nobias", lambda: nn.Linear(4, 3, bias=False), lambda: randn(2, 4)),
    ("Bilinear", lambda: nn.Bilinear(3, 2, 4), lambda: [randn(2, 3), randn(2, 2)]),
    ("Add", lambda: nn.Add(4), lambda: randn(3, 4)),
    ("Add_scalar", lambda: nn.Add(4, True), lambda: randn(3, 4)),
    ("CAdd", lambda: nn.CAdd(1, 3, 1), lambda: randn(2, 3, 2)),
    ("CMul", lambda: nn.CMul(4), lambda: randn(3, 4)),
    ("CMul_broadcast", lambda: nn.CMul(1, 3, 1), lambda: randn(2, 3, 2)),
    ("Mul", lambda: nn.Mul(), lambda: randn(3, 4)),
    ("PReLU", lambda: nn.PReLU(), lambda: away_from_zero(2, 3, 2)),
    ("PReLU_channels", lambda: nn.PReLU(3), lambda: away_from_zero(2, 3, 2)),
    ("Euclidean", lambda: nn.Euclidean(4, 3), lambda: randn(2, 4)),
    ("WeightedEuclidean", lambda: nn.WeightedEuclidean(4, 3), lambda: randn(2, 4)),
    ("Cosine", lambda: nn.Cosine(4, 3), lambda: randn(2, 4)),
    ("Cosine_vector", lambda: nn.Cosine(4, 3), lambda: randn(4)),
    ("Tanh", nn.Tanh, lambda: randn(2, 3)),
    ("Sigmoid", nn.Sigmoid, lambda: randn(2, 3)),
    ("ELU", lambda: nn.ELU(0.7), lambda: away_from_zero(2, 3)),
    ("LeakyReLU", lambda: nn.LeakyReLU(0.1), lambda: away_from_zero(2, 3)),
    ("Threshold", lambda: nn.Threshold(0.1, -2), lambda: away_from_zero(2, 3).add_(0.1)),
    ("HardTanh", lambda: nn.HardTanh(-0.5, 0.5), lambda: randn(3, 4)),
    ("SoftPlus", lambda: nn.SoftPlus(2), lambda: randn(2, 3)),
    ("SoftShrink", lambda: nn.SoftShrink(0.3), lambda: away_from_zero(3, 4)),
    ("SoftSign", nn.SoftSign, lambda: randn(2, 3)),
    ("LogSigmoid", nn.LogSigmoid, lambda: randn(2, 3)),
    ("TanhShrink", nn.TanhShrink, lambda: randn(2, 3)),
    ("Abs", nn.Abs, lambda: away_from_zero(2, 3)),
    ("Sqrt", nn.Sqrt, lambda: pos(2, 3)),
    ("Square", nn.Square, lambda: randn(2, 3)),
    ("Power", lambda: nn.Power(3), lambda: randn(2, 3)),
    ("Exp", nn.Exp, lambda: randn(2, 3)),
    ("Log", nn.Log, lambda: pos(2, 3)),
    ("SoftMax", nn.SoftMax, lambda: randn(2, 4)),
    ("SoftMax_3d", nn.SoftMax, lambda: randn(3, 2, 2)),
    ("LogSoftMax", nn.LogSoftMax, lambda: randn(2, 4)),
    ("SoftMin", nn.SoftMin, lambda: randn(2, 4)),
    ("Normalize_2", lambda: nn.Normalize(2), lambda: randn(2, 4)),
    ("Normalize_1.5", lambda: nn.Normalize(1.5), lambda: away_from_zero(2, 4)),
    ("Normalize_3", lambda: nn.Normalize(3), lambda: away_from_zero(4)),
    ("Normalize_inf", lambda: nn.Normalize(math.inf), lambda: randn(2, 4)),
    ("Sum", lambda: nn.Sum(1), lambda: randn(2, 3, 2)),
    ("Mean_negative", lambda: nn.Mean(-1), lambda: randn(2, 3)),
    ("Max", lambda: nn.Max(1), lambda: randn(2, 4)),
    ("Min_batch", lambda: nn.Min(0, 1), lambda: randn(2, 4)),
    ("Narrow", lambda: nn.Narrow(1, 1, 2), lambda: randn(2, 4)),
    ("Select", lambda: nn.Select(1, 2), lambda: randn(2, 4)),
    ("Padding", lambda: nn.Padding(0, -2, 0.5, 1), lambda: randn(3, 2)),
    ("Replicate", lambda: nn.Replicate(3, 1), lambda: randn(2, 2)),
    ("Transpose", lambda: nn.Transpose((0, 1), (1, 2)), lambda: randn(2, 3, 2)),
    ("View", lambda: nn.View(-1), lambda: randn(2, 3)),
    ("Reshape", lambda: nn.Reshape(3, 2), lambda: randn(2, 6)),
    ("Squeeze", lambda: nn.Squeeze(1), lambda: randn(2, 1, 3)),
    ("Unsqueeze", lambda: nn.Unsqueeze(1), lambda: randn(2, 3)),
    ("MM", lambda: nn.MM(True, False), lambda: [randn(3, 2), randn(3, 4)]),
    ("MM_batch", lambda: nn.MM(False, True), lambda: [randn(2, 2, 3), randn(2, 4, 3)]),
    ("MV", lambda: nn.MV(), lambda: [randn(2, 3, 4), randn(2, 4)]),
    ("DotProduct", nn.DotProduct, lambda: [randn(2, 3), randn(2, 3)]),
    ("CosineDistance", nn.CosineDistance, lambda: [randn(2, 3), randn(2, 3)]),
    ("PairwiseDistance", lambda: nn.PairwiseDistance(3), lambda: [randn(2, 3), randn(2, 3)]),
    ("CAddTable", nn.CAddTable, lambda: [randn(2, 3), randn(2, 3)]),
    ("CSubTable", nn.CSubTable, lambda: [randn(2, 3), randn(2, 3)]),
    ("CMulTable", nn.CMulTable, lambda: [randn(2, 3), randn(2, 3), randn(2, 3)]),
    ("CDivTable", nn.CDivTable, lambda: [randn(2, 3), pos(2, 3)]),
    ("JoinTable", lambda: nn.JoinTable(1), lambda: [randn(2, 3), randn(2, 1)]),
    ("SplitTable", lambda: nn.SplitTable(0), lambda: randn(2, 3)),
    ("SelectTable", lambda: nn.SelectTable(-1), lambda: [randn(2), [randn(3), randn(1)]]),
    ("NarrowTable", lambda: nn.NarrowTable(1, 2), lambda: [randn(2), randn(3), randn(1)]),
    ("FlattenTable", nn.FlattenTable, lambda: [randn(2), [randn(3), [randn(1)]]]),
    ("MixtureTable_list", nn.MixtureTable, lambda: [randn(2, 3), [randn(2, 2) for _ in range(3)]]),
    ("MixtureTable_tensor", nn.MixtureTable, lambda: [randn(2, 3), randn(2, 3, 2)]),
    ("MixtureTable_one", nn.MixtureTable, lambda: [randn(3), [randn(2) for _ in range(3)]]),
    ("Sequential", lambda: nn.Sequential().add(nn.Linear(3, 4)).add(nn.Tanh()).add(nn.Linear(4, 2)),
     lambda: randn(2, 3)),
    ("Concat", lambda: nn.Concat(1).add(nn.Linear(3, 2)).add(nn.Identity()), lambda: randn(2, 3)),
    ("ConcatTable", lambda: nn.ConcatTable().add(nn.Linear(3, 2)).add(nn.Linear(3, 1)), lambda: randn(2, 3)),
    ("ConcatTable_of_list", lambda: nn.ConcatTable().add(nn.CAddTable()).add(nn.Identity()),
     lambda: [randn(2), randn(2)]),
    ("ParallelTable", lambda: nn.ParallelTable().add(nn.Linear(3, 2)).add(nn.Tanh()),
     lambda: [randn(2, 3), randn(4)]),
    ("Parallel", lambda: nn.Parallel(0, 1).add(nn.Linear(3, 2)).add(nn.Linear(3, 1)), lambda: randn(2, 4, 3)),
    ("DepthConcat", lambda: nn.DepthConcat(1).add(nn.Identity()).add(nn.Narrow(2, 1, 2)).add(nn.Narrow(2, 0, 1)),
     lambda: randn(2, 3, 4)),
    ("Index", lambda: nn.Index(1), lambda: [randn(2, 4), ember.LongTensor([3, 0, 3])]),
    ("MaskedSelect", nn.MaskedSelect, lambda: [randn(3, 2), ember.ByteTensor([[1, 0], [0, 0], [1, 1]])]),
    ("RReLU_eval", lambda: evaluating(nn.RReLU(0.1, 0.3)), lambda: away_from_zero(3, 4)),
]


@pytest.mark.parametrize("name,make,data", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_by_finite_differences(name, make, data):
    ember.manual_seed(1)
    module = make().double()
    fd_check(module, data())


CRITERIA = [
    ("MSE", lambda: nn.MSECriterion(), lambda: (randn(2, 3), randn(2, 3))),
    ("Abs", lambda: nn.AbsCriterion(False), lambda: (randn(2, 3), randn(2, 3))),
    ("SmoothL1", lambda: nn.SmoothL1Criterion(), lambda: (randn(2, 3).mul_(2), randn(2, 3))),
    ("SoftMargin", lambda: nn.SoftMarginCriterion(), lambda: (randn(2, 3), randn(2, 3).sign_())),
    ("DistKLDiv", lambda: nn.DistKLDivCriterion(), lambda: (randn(2, 3), pos(2, 3))),
    ("BCE", lambda: nn.BCECriterion(pos(3)), lambda: (pos(2, 3).div_(3), pos(2, 3).div_(3))),
    ("ClassNLL", lambda: nn.ClassNLLCriterion(pos(4)), lambda: (randn(3, 4), ember.LongTensor([0, 3, 1]))),
    ("CrossEntropy", lambda: nn.CrossEntropyCriterion(), lambda: (randn(3, 4), ember.LongTensor([2, 0, 3]))),
    ("MultiMargin", lambda: nn.MultiMarginCriterion(2, pos(4), 0.5),
     lambda: (randn(3, 4), ember.LongTensor([2, 0, 3]))),
    ("MultiLabelMargin", lambda: nn.MultiLabelMarginCriterion(),
     lambda: (randn(2, 4), ember.LongTensor([[3, 0, -1, 1], [1, -1, 0, 0]]))),
    ("MultiLabelSoftMargin", lambda: nn.MultiLabelSoftMarginCriterion(pos(3)),
     lambda: (randn(2, 3), randn(2, 3).gt(0).double())),
    ("WeightedMSE", lambda: nn.WeightedMSECriterion(pos(3)), lambda: (randn(2, 3), randn(2, 3))),
    ("ClassSimplex", lambda: nn.ClassSimplexCriterion(4), lambda: (randn(3, 4), ember.LongTensor([0, 3, 1]))),
    ("Margin", lambda: nn.MarginCriterion(0.5), lambda: (randn(2, 3), randn(2, 3).sign_())),
    ("HingeEmbedding", lambda: nn.HingeEmbeddingCriterion(0.5), lambda: (randn(6), randn(6).sign_())),
    ("MarginRanking", lambda: nn.MarginRankingCriterion(0.3), lambda: ([randn(4), randn(4)], randn(4).sign_())),
    ("CosineEmbedding", lambda: nn.CosineEmbeddingCriterion(-0.5),
     lambda: ([randn(4, 3), randn(4, 3)], ember.DoubleTensor([1, -1, 1, -1]))),
    ("L1HingeEmbedding", lambda: nn.L1HingeEmbeddingCriterion(100), lambda: ([randn(4), randn(4)], -1)),
    ("Multi", lambda: nn.MultiCriterion().add(nn.MSECriterion(), 0.5).add(nn.AbsCriterion()),
     lambda: (randn(2, 3), randn(2, 3))),
    ("Parallel", lambda: nn.ParallelCriterion().add(nn.ClassNLLCriterion(), 0.5).add(nn.MSECriterion(), 2),
     lambda: ([randn(2, 3), randn(2, 2)], [ember.LongTensor([2, 0]), randn(2, 2)])),
    ("L1Cost", lambda: nn.L1Cost(), lambda: (away_from_zero(2, 3), None)),
    ("SpatialClassNLL", lambda: nn.SpatialClassNLLCriterion(),
     lambda: (randn(2, 3, 2, 2), ember.LongTensor(2, 2, 2).random_(0, 3))),
]


@pytest.mark.parametrize("name,make,data", CRITERIA, ids=[c[0] for c in CRITERIA])
def test_criterion_gradients_by_finite_differences(name, make, data):
    ember.manual_seed(2)
    crit = make().double()
    input, target = data()
    loss = crit.forward(input, target)
    assert isinstance(loss, float)
    grad = crit.backward(input, target)
    for t, g in zip(leaves(input), leaves(grad)):
        view = t.view(-1)
        numeric = np.zeros(t.numel())
        for i in range(t.numel()):
            orig = float(view[i])
            view[i] = orig + 1e-6
            fp = crit.forward(input, target)
            view[i] = orig - 1e-6
            fm = crit.forward(input, target)
            view[i] = orig
            numeric[i] = (fp - fm) / 2e-6
        np.testing.assert_allclose(g.numpy().reshape(-1), numeric, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- against PyTorch 2.13

def test_against_pytorch_linear_bilinear_and_losses():
    torch = require_torch()
    F = torch.nn.functional
    ember.manual_seed(3)
    lin = nn.Linear(5, 3).double()
    x = randn(4, 5)
    go = randn(4, 3)
    out = lin.forward(x)
    lin.zeroGradParameters()
    gin = lin.backward(x, go)
    tx = to_torch(x).requires_grad_()
    tw = to_torch(lin.weight).requires_grad_()
    tb = to_torch(lin.bias).requires_grad_()
    tout = F.linear(tx, tw, tb)
    tout.backward(to_torch(go))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gin.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.gradWeight.numpy(), tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.gradBias.numpy(), tb.grad.numpy(), rtol=1e-12)

    bil = nn.Bilinear(3, 2, 4).double()
    a, b = randn(5, 3), randn(5, 2)
    tout = F.bilinear(to_torch(a), to_torch(b), to_torch(bil.weight), to_torch(bil.bias))
    np.testing.assert_allclose(bil.forward([a, b]).numpy(), tout.numpy(), rtol=1e-12)

    logits, target = randn(6, 4), ember.LongTensor([0, 3, 1, 1, 2, 3])
    w = pos(4)
    ce = nn.CrossEntropyCriterion(w).double()
    assert ce.forward(logits, target) == pytest.approx(
        F.cross_entropy(to_torch(logits), to_torch(target), weight=to_torch(w)).item(), rel=1e-12)
    nll = nn.ClassNLLCriterion(None, True, 3).double()
    assert nll.forward(logits, target) == pytest.approx(
        F.nll_loss(to_torch(logits), to_torch(target), ignore_index=3).item(), rel=1e-12)
    mm = nn.MultiMarginCriterion(1, w, 0.7).double()
    assert mm.forward(logits, target) == pytest.approx(
        F.multi_margin_loss(to_torch(logits), to_torch(target), p=1, margin=0.7, weight=to_torch(w)).item(),
        rel=1e-12)
    labels = ember.LongTensor([[3, 0, -1, 2], [1, -1, 0, 0], [0, 1, 2, 3], [2, -1, -1, -1], [0, -1, 1, 1],
                               [3, 2, -1, 0]])
    ml = nn.MultiLabelMarginCriterion().double()
    assert ml.forward(logits, labels) == pytest.approx(
        F.multilabel_margin_loss(to_torch(logits), to_torch(labels)).item(), rel=1e-12)
    y = randn(6, 4).gt(0).double()
    mls = nn.MultiLabelSoftMarginCriterion(w).double()
    assert mls.forward(logits, y) == pytest.approx(
        F.binary_cross_entropy_with_logits(to_torch(logits), to_torch(y), weight=to_torch(w)).item(), rel=1e-12)
    e1, e2, sim = randn(6, 4), randn(6, 4), ember.DoubleTensor([1, -1, 1, 1, -1, -1])
    cec = nn.CosineEmbeddingCriterion(0.1).double()
    assert cec.forward([e1, e2], sim) == pytest.approx(
        F.cosine_embedding_loss(to_torch(e1), to_torch(e2), to_torch(sim), margin=0.1).item(), rel=1e-9)
    hinge = nn.HingeEmbeddingCriterion(0.8).double()
    d = randn(6).abs_()
    assert hinge.forward(d, sim) == pytest.approx(
        F.hinge_embedding_loss(to_torch(d), to_torch(sim), margin=0.8).item(), rel=1e-12)
    mr = nn.MarginRankingCriterion(0.2).double()
    assert mr.forward([e1[0], e2[0]], sim.narrow(0, 0, 4)) == pytest.approx(
        F.margin_ranking_loss(to_torch(e1[0]), to_torch(e2[0]), to_torch(sim.narrow(0, 0, 4)),
                              margin=0.2).item(), rel=1e-12)


def test_against_pytorch_activations():
    torch = require_torch()
    F = torch.nn.functional
    x = randn(3, 5)
    tx = to_torch(x)
    pairs = [
        (nn.ELU(0.5), F.elu(tx, 0.5)), (nn.LeakyReLU(0.2), F.leaky_relu(tx, 0.2)),
        (nn.ReLU6(), F.relu6(tx)), (nn.HardShrink(0.4), F.hardshrink(tx, 0.4)),
        (nn.SoftShrink(0.4), F.softshrink(tx, 0.4)), (nn.SoftPlus(2), F.softplus(tx, 2)),
        (nn.LogSigmoid(), F.logsigmoid(tx)), (nn.SoftSign(), F.softsign(tx)),
        (nn.TanhShrink(), F.tanhshrink(tx)), (nn.Threshold(0.2, -1), F.threshold(tx, 0.2, -1)),
        (nn.LogSoftMax(), F.log_softmax(tx, 1)), (nn.SoftMin(), F.softmin(tx, 1)),
        (nn.Normalize(3), F.normalize(tx, 3, 1, 0)), (nn.PairwiseDistance(2),
                                                      F.pairwise_distance(tx, tx.flip(0), 2, eps=0)),
    ]
    for module, want in pairs:
        arg = [x, x.index_select(0, ember.LongTensor([2, 1, 0]))] if isinstance(module, nn.PairwiseDistance) else x
        np.testing.assert_allclose(module.forward(arg).numpy(), want.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=repr(module))


def test_lookup_table_against_pytorch_embedding():
    torch = require_torch()
    ember.manual_seed(4)
    lt = nn.LookupTable(6, 3, paddingValue=2).double()
    idx = ember.LongTensor([[0, 2, 5], [5, 5, 1]])
    out = lt.forward(idx)
    go = randn(2, 3, 3)
    lt.zeroGradParameters()
    gin = lt.backward(idx, go)
    tw = to_torch(lt.weight).requires_grad_()
    tout = torch.nn.functional.embedding(to_torch(idx), tw, padding_idx=2)
    tout.backward(to_torch(go))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy())
    np.testing.assert_allclose(lt.gradWeight.numpy(), tw.grad.numpy(), rtol=1e-12)
    assert isinstance(gin, ember.LongTensor) and gin.size() == idx.size() and gin.sum() == 0
    # maxNorm renormalises the rows referred to, in place
    lt = nn.LookupTable(6, 3, -1, 1.0, 2).double()
    lt.weight.mul_(5)
    before = lt.weight.clone()
    lt.forward(ember.LongTensor([1, 4]))
    norms = lt.weight.norm(2, 1).numpy()
    assert np.all(norms[[1, 4]] <= 1 + 1e-6)
    np.testing.assert_array_equal(lt.weight.numpy()[[0, 2, 3, 5]], before.numpy()[[0, 2, 3, 5]])
    with pytest.raises(IndexError, match=r"LookupTable: indices must be in \[0, 6\)"):
        lt.forward(ember.LongTensor([6]))


# ---------------------------------------------------------------------- 0-based arguments

def test_zero_based_python_arguments():
    x = randn(3, 5)
    np.testing.assert_array_equal(nn.Narrow(1, 1, 3).forward(x).numpy(), x.numpy()[:, 1:4])
    np.testing.assert_array_equal(nn.Narrow(-1, 2, -1).forward(x).numpy(), x.numpy()[:, 2:])
    np.testing.assert_array_equal(nn.Select(0, -1).forward(x).numpy(), x.numpy()[-1])
    parts = nn.SplitTable(1).forward(x)
    assert len(parts) == 5 and parts[4].storage().data_ptr() == x.storage().data_ptr()  # views
    np.testing.assert_array_equal(nn.JoinTable(0).forward([x, x]).numpy(), np.concatenate([x.numpy()] * 2))
    np.testing.assert_array_equal(nn.JoinTable(0, 1).forward([x, x]).numpy(),
                                  np.concatenate([x.numpy()] * 2, 1))  # batch mode shifts the dimension
    pad = nn.Padding(1, 2, -1, 0).forward(x).numpy()   # pad > 0, index 0: after the end
    np.testing.assert_array_equal(pad[:, :5], x.numpy())
    assert (pad[:, 5:] == -1).all()
    pad = nn.Padding(1, -1, 7, 2).forward(x).numpy()   # pad < 0, index 2: before element 2
    np.testing.assert_array_equal(pad[:, [0, 1, 3, 4, 5]], x.numpy())
    assert (pad[:, 2] == 7).all()
    assert nn.Max(0).forward(x).size() == ember.Size([5])
    np.testing.assert_array_equal(nn.Sum(1, True).forward(x).numpy(), x.numpy().mean(1))
    assert nn.Sum(1, False, None, False).forward(x).size() == ember.Size([3, 1])
    assert nn.Replicate(2, 0, 1).forward(x).size() == ember.Size([3, 2, 5])  # ndim=1: a batch of vectors
    assert nn.Unsqueeze(0, 1).forward(x).size() == ember.Size([3, 1, 5])
    assert nn.Squeeze(0, 2).forward(randn(2, 1, 3)).size() == ember.Size([2, 3])  # batch mode shifts dim
    assert nn.View(5).forward(x).size() == ember.Size([3, 5])
    assert nn.View(-1).setNumInputDims(1).forward(x).size() == ember.Size([3, 5])
    assert nn.Reshape(5, 3).forward(randn(15)).size() == ember.Size([5, 3])
    assert nn.Reshape(5, 3, True).forward(randn(1, 15)).size() == ember.Size([1, 5, 3])
    table = [randn(1), randn(2), randn(3)]
    assert nn.SelectTable(1).forward(table) is table[1]
    assert nn.NarrowTable(1, -1).forward(table) == table[1:]
    logp = randn(4)
    assert nn.ClassNLLCriterion().double().forward(logp, 3) == pytest.approx(-float(logp[3]))


# ---------------------------------------------------------------------- the Lua API

def make_mlp():
    ember.manual_seed(5)
    return nn.Sequential().add(nn.Linear(4, 3)).add(nn.Tanh()).add(nn.Linear(3, 2)).double()


def test_get_parameters_flattens_into_one_storage():
    mlp = make_mlp()
    x = randn(5, 4)
    before = mlp.forward(x).clone()
    weights = [p.clone() for p in mlp.parameters()[0]]
    params, grads = mlp.getParameters()
    assert params.numel() == grads.numel() == 4 * 3 + 3 + 3 * 2 + 2
    assert params.is_contiguous() and params.dim() == 1
    np.testing.assert_array_equal(params.numpy(), np.concatenate([w.numpy().reshape(-1) for w in weights]))
    for p in mlp.parameters()[0]:
        assert p.storage().data_ptr() == params.storage().data_ptr()
    for g in mlp.parameters()[1]:
        assert g.storage().data_ptr() == grads.storage().data_ptr()
    np.testing.assert_array_equal(mlp.forward(x).numpy(), before.numpy())
    params.fill_(0.5)  # the flat tensor is the module's memory
    assert (mlp.modules[0].weight.numpy() == 0.5).all() and (mlp.modules[2].bias.numpy() == 0.5).all()
    grads.zero_()
    mlp.backward(x, randn(5, 2))
    assert grads.abs().sum() > 0
    np.testing.assert_array_equal(grads.narrow(0, 0, 12).numpy(), mlp.modules[0].gradWeight.numpy().reshape(-1))
    assert 'flattenParameters' in dir(mlp)
    empty = nn.Tanh().getParameters()
    assert empty[0].numel() == 0 and empty[1].numel() == 0


def test_get_parameters_keeps_shared_parameters_shared():
    ember.manual_seed(6)
    a, b = nn.Linear(3, 3).double(), nn.Linear(3, 3).double()
    b.share(a, "weight", "bias", "gradWeight", "gradBias")
    net = nn.Sequential().add(a).add(b)
    params, grads = net.getParameters()
    assert params.numel() == 12  # the shared storage is counted once
    a.weight.fill_(2)
    assert (b.weight.numpy() == 2).all()
    # a weight that views part of a larger tensor: the unused part is squeezed out
    c = nn.Linear(2, 2).double()
    big = ember.DoubleTensor(4, 3).fill_(7)
    c.weight.set_(big.narrow(1, 1, 2).narrow(0, 1, 2))
    c.weight.copy_(ember.DoubleTensor([[1, 2], [3, 4]]))
    params, grads = c.getParameters()
    assert params.numel() == 6
    np.testing.assert_array_equal(c.weight.numpy(), [[1, 2], [3, 4]])


def test_get_parameters_rejects_mixed_types():
    net = nn.Sequential().add(nn.Linear(2, 2).double()).add(nn.Linear(2, 2).float())
    with pytest.raises(TypeError, match="getParameters: all parameters must have one type"):
        net.getParameters()


def test_update_parameters_and_acc_update():
    mlp = make_mlp()
    x, go = randn(3, 4), randn(3, 2)
    mlp.zeroGradParameters()
    mlp.forward(x)
    mlp.backward(x, go)
    old = [p.clone() for p in mlp.parameters()[0]]
    grads = [g.clone() for g in mlp.parameters()[1]]
    mlp.updateParameters(0.1)
    for p, o, g in zip(mlp.parameters()[0], old, grads):
        np.testing.assert_allclose(p.numpy(), o.numpy() - 0.1 * g.numpy(), rtol=1e-12)
    # accUpdateGradParameters: the same step, straight into the weights, gradients untouched
    lin = nn.Linear(4, 3).double()
    ref = lin.clone()
    x, go = randn(2, 4), randn(2, 3)
    ref.zeroGradParameters()
    ref.forward(x)
    ref.backward(x, go)
    ref.updateParameters(0.3)
    lin.zeroGradParameters()
    lin.forward(x)
    lin.updateGradInput(x, go)
    lin.accUpdateGradParameters(x, go, 0.3)
    np.testing.assert_allclose(lin.weight.numpy(), ref.weight.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lin.bias.numpy(), ref.bias.numpy(), rtol=1e-12)
    assert lin.gradWeight.abs().sum() == 0
    # backward's scale multiplies the parameter gradients only
    lin.zeroGradParameters()
    gin = lin.backward(x, go, 2).clone()
    np.testing.assert_allclose(lin.gradWeight.numpy(), 2 * ref.gradWeight.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gin.numpy(), go.numpy() @ lin.weight.numpy(), rtol=1e-12)


def test_clone_and_share():
    mlp = make_mlp()
    copy = mlp.clone()
    copy.modules[0].weight.fill_(0)
    assert mlp.modules[0].weight.abs().sum() > 0
    shared = mlp.modules[0].clone("weight", "bias")
    shared.weight.fill_(3)
    assert (mlp.modules[0].weight.numpy() == 3).all()
    assert shared.gradWeight.storage().data_ptr() != mlp.modules[0].gradWeight.storage().data_ptr()
    with pytest.raises(TypeError, match="share: field 'weight' is a torch.FloatTensor here"):
        nn.Linear(4, 3).share(mlp.modules[0], "weight")


def test_type_conversion():
    ember.manual_seed(7)
    net = nn.Sequential().add(nn.Linear(3, 2)).add(nn.LookupTable(4, 2))
    assert net.type() == "torch.FloatTensor" and isinstance(net.modules[0].weight, ember.FloatTensor)
    lin = net.modules[0]
    lin.bias.set_(lin.weight.storage(), 0, ember.Size([2]))  # a bias sharing the weight's memory
    lin.forward(ember.FloatTensor(1, 3).fill_(1))
    assert net.double() is net and net.type() == "torch.DoubleTensor"
    assert isinstance(lin.weight, ember.DoubleTensor) and isinstance(lin.output, ember.DoubleTensor)
    assert isinstance(net.modules[1].weight, ember.DoubleTensor)
    assert lin.bias.storage().data_ptr() == lin.weight.storage().data_ptr()  # still shared
    lin.weight.fill_(1.5)
    assert (lin.bias.numpy() == 1.5).all()
    net.modules[1].forward(ember.LongTensor([1, 2]))
    net.float()
    assert isinstance(net.modules[1]._input, ember.LongTensor)  # indices keep their type
    assert isinstance(lin.weight, ember.FloatTensor) and lin.type() == "torch.FloatTensor"
    crit = nn.ClassNLLCriterion(ember.FloatTensor(3).fill_(1)).double()
    assert isinstance(crit.weights, ember.DoubleTensor) and crit.type() == "torch.DoubleTensor"
    with pytest.raises(ValueError, match="unknown tensor type 'torch.NopeTensor'"):
        nn.Linear(2, 2).type("torch.NopeTensor")
    # Copy converts between types and stays put under type() with dontCast
    cp = nn.Copy("torch.DoubleTensor", "torch.FloatTensor", True)
    out = cp.forward(randn(2, 2))
    assert isinstance(out, ember.FloatTensor)
    assert isinstance(cp.backward(randn(2, 2), out), ember.DoubleTensor)
    cp.double()
    assert isinstance(cp.output, ember.FloatTensor)


def test_clear_state_training_and_tree_walks():
    mlp = make_mlp()
    mlp.forward(randn(3, 4))
    mlp.backward(randn(3, 4), randn(3, 2))
    assert mlp.clearState() is mlp
    for m in mlp.modules:
        assert m.output.numel() == 0 and m.gradInput.numel() == 0
        assert isinstance(m.output, ember.DoubleTensor)
    net = nn.Sequential().add(nn.Dropout(0.3)).add(nn.ConcatTable().add(nn.Dropout()).add(nn.Linear(2, 2)))
    net.evaluate()
    assert all(not m.train for m in net.listModules())
    net.training()
    assert all(m.train for m in net.listModules())
    assert [type(m).__name__ for m in net.listModules()] == ["Sequential", "Dropout", "ConcatTable", "Dropout",
                                                             "Linear"]
    nodes, containers = net.findModules("nn.Dropout")
    assert len(nodes) == 2 and containers == [net, net.modules[1]]
    assert net.findModules(nn.Linear)[0] == [net.modules[1].modules[1]]
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[0] == "Sequential" and len(seen) == 5
    net.replace(lambda m: nn.Identity() if isinstance(m, nn.Dropout) else m)
    assert [type(m).__name__ for m in net.listModules()] == ["Sequential", "Identity", "ConcatTable", "Identity",
                                                             "Linear"]


def test_rrelu_and_penalties():
    ember.manual_seed(10)
    r = nn.RReLU(0.1, 0.3).double()
    x = randn(50, 40)
    out = r.forward(x).numpy()
    neg = x.numpy() <= 0
    slopes = out[neg] / x.numpy()[neg]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03  # drawn per element
    np.testing.assert_array_equal(out[~neg], x.numpy()[~neg])
    go = randn(50, 40)
    np.testing.assert_allclose(r.backward(x, go).numpy(), go.numpy() * (out / x.numpy()), rtol=1e-12)
    r.evaluate()
    np.testing.assert_allclose(r.forward(x).numpy(), np.where(neg, 0.2 * x.numpy(), x.numpy()), rtol=1e-12)
    pen = nn.L1Penalty(0.5).double()
    assert pen.forward(x) is x and pen.loss == pytest.approx(0.5 * np.abs(x.numpy()).sum())
    np.testing.assert_allclose(pen.backward(x, go).numpy(), go.numpy() + 0.5 * np.sign(x.numpy()))
    pen = nn.L1Penalty(0.5, True, False).double()
    pen.forward(x)
    assert pen.loss == pytest.approx(0.5 * np.abs(x.numpy()).mean())
    np.testing.assert_allclose(pen.backward(x, go).numpy(), 0.5 / x.numel() * np.sign(x.numpy()))
    table = nn.CriterionTable(nn.MSECriterion()).double()
    a, b = randn(3), randn(3)
    assert table.forward([a, b]) == pytest.approx(((a.numpy() - b.numpy()) ** 2).mean())
    np.testing.assert_allclose(table.backward([a, b], None)[0].numpy(), 2 * (a.numpy() - b.numpy()) / 3)


def test_dropout():
    ember.manual_seed(8)
    d = nn.Dropout(0.25).double()
    x = randn(200, 50).abs_().add_(1)
    out = d.forward(x).numpy()
    kept = out != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(out[kept], x.numpy()[kept] / 0.75)
    go = randn(200, 50)
    np.testing.assert_allclose(d.backward(x, go).numpy(), go.numpy() * kept / 0.75)
    d.evaluate()
    np.testing.assert_array_equal(d.forward(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\)"):
        nn.Dropout(1)


def test_inplace_variants():
    for module in (nn.ReLU(True), nn.Threshold(0.5, 0, True), nn.HardTanh(-1, 1, True), nn.LeakyReLU(0.1, True),
                   nn.ELU(1.0, True), nn.AddConstant(2, True), nn.MulConstant(3, True), nn.CAddTable(True)):
        x = randn(3, 4)
        inp = [x, randn(3, 4)] if isinstance(module, nn.CAddTable) else x
        ref = type(module).__new__(type(module))
        ref.__dict__.update(module.__dict__)
        ref.inplace = False
        data = [t.clone() for t in inp] if isinstance(inp, list) else inp.clone()
        want = ref.forward(data).clone()
        want_grad = ref.backward(data, randn(3, 4).fill_(1))
        want_grad = [g.clone() for g in want_grad] if isinstance(want_grad, list) else want_grad.clone()
        out = module.forward(inp)
        assert out is (inp[0] if isinstance(inp, list) else inp)
        np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-12)
        grad = module.backward(inp, randn(3, 4).fill_(1))
        np.testing.assert_allclose(flat(grad), flat(want_grad), rtol=1e-12, err_msg=repr(module))
    with pytest.raises(RuntimeError, match=r"in-place processing requires value \(1\) not to exceed threshold"):
        nn.Threshold(0, 1, True)


def test_reprs():
    assert repr(nn.Linear(10, 20)) == "nn.Linear(10 -> 20)"
    assert repr(nn.Linear(10, 20, False)) == "nn.Linear(10 -> 20) without bias"
    assert repr(nn.Tanh()) == "nn.Tanh"
    assert repr(nn.Dropout(0.3)) == "nn.Dropout(0.3000)"
    assert repr(nn.Reshape(5, 3)) == "nn.Reshape(5x3)"
    assert repr(nn.View(-1, 3)) == "nn.View(-1, 3)"
    assert repr(nn.MSECriterion()) == "nn.MSECriterion"
    seq = nn.Sequential().add(nn.Linear(2, 3)).add(nn.Sequential().add(nn.Tanh()))
    assert repr(seq) == ("nn.Sequential {\n"
                         "  [input -> (0) -> (1) -> output]\n"
                         "  (0): nn.Linear(2 -> 3)\n"
                         "  (1): nn.Sequential {\n"
                         "    [input -> (0) -> output]\n"
                         "    (0): nn.Tanh\n"
                         "  }\n"
                         "}")
    cat = nn.ConcatTable().add(nn.Identity()).add(nn.Linear(2, 1))
    assert repr(cat) == ("nn.ConcatTable {\n"
                         "  input\n"
                         "    |`-> (0): nn.Identity\n"
                         "     `-> (1): nn.Linear(2 -> 1)\n"
                         "     ... -> output\n"
                         "}")


def test_sequential_editing():
    seq = nn.Sequential().add(nn.Linear(2, 3)).add(nn.Tanh())
    seq.insert(nn.Identity(), 1)
    assert [type(m).__name__ for m in seq.modules] == ["Linear", "Identity", "Tanh"]
    seq.remove(0)
    assert len(seq) == 2 and seq.size() == 2 and isinstance(seq.get(0), nn.Identity)
    x = randn(2, 3)
    assert seq.double().forward(x) is seq.modules[1].output


def test_t7_round_trip_keeps_lua_indices(monkeypatch):
    net = nn.Sequential().add(nn.JoinTable(1, 1)).add(nn.Narrow(0, 1, -1)).add(nn.LookupTable(3, 2, 0))
    crit = nn.ClassNLLCriterion(None, True, 2)
    buf = io.BytesIO()
    save_lua(buf, [net, crit])
    # read back: the fields come back 0-based
    j, n, lt = load_lua(io.BytesIO(buf.getvalue()))[0].modules
    back_crit = load_lua(io.BytesIO(buf.getvalue()))[1]
    assert (j.dimension, n.dimension, n.index, lt.paddingValue, back_crit.ignore_index) == (1, 0, 1, 0, 2)
    assert isinstance(back_crit, nn.ClassNLLCriterion) and back_crit.sizeAverage is True
    # in the file they are as Lua has them (1-based), seen without legacy.nn
    monkeypatch.setitem(sys.modules, "ember.legacy.nn", None)
    lua_net, lua_crit = load_lua(io.BytesIO(buf.getvalue()), unknown_classes=True)
    mods = lua_net._obj["modules"]
    assert (mods[0]._obj["dimension"], mods[1]._obj["dimension"], mods[1]._obj["index"]) == (2, 1, 2)
    assert mods[2]._obj["paddingValue"] == 1 and lua_crit._obj["ignoreIndex"] == 3


def test_write_and_read():
    ember.manual_seed(11)
    lin = nn.Linear(3, 2).double()
    buf = io.BytesIO()
    lin.write(buf)
    buf.seek(0)
    other = nn.Linear(1, 1).read(buf)
    np.testing.assert_array_equal(other.weight.numpy(), lin.weight.numpy())
    assert repr(other) == "nn.Linear(3 -> 2)"
    buf.seek(0)
    with pytest.raises(TypeError, match="read: the file holds a .*Linear, not a nn.Tanh"):
        nn.Tanh().read(buf)


def test_errors():
    with pytest.raises(ValueError, match=r"Linear: size mismatch, input: \[2 x 5\], weight: \[3 x 4\]"):
        nn.Linear(4, 3).forward(ember.FloatTensor(2, 5))
    with pytest.raises(ValueError, match="Bilinear: input should be a list of two tensors"):
        nn.Bilinear(2, 2, 2).forward(ember.FloatTensor(2, 2))
    with pytest.raises(ValueError, match="Narrow: offset 3 and length 4 out of range for dimension 1 of size 5"):
        nn.Narrow(1, 3, 4).forward(randn(2, 5))
    with pytest.raises(IndexError, match="SelectTable: index 3 does not exist in an input list of 2"):
        nn.SelectTable(3).forward([randn(1), randn(1)])
    with pytest.raises(ValueError, match=r"View: input view \(2x5\) and desired view \(3\) do not match"):
        nn.View(3).forward(randn(2, 5))
    with pytest.raises(ValueError, match="View: only one dimension can be -1"):
        nn.View(-1, -1)
    with pytest.raises(ValueError, match="PReLU: wrong number of input planes, expected 3 but got 4"):
        nn.PReLU(3).double().forward(randn(2, 4))
    with pytest.raises(ValueError, match="MM: matrix sizes do not match"):
        nn.MM().forward([randn(2, 3), randn(2, 3)])
    with pytest.raises(ValueError, match="CMul: parameter of size \\[3\\] doesn't match an input of size \\[2, 4\\]"):
        nn.CMul(3).double().forward(randn(2, 4))
    with pytest.raises(ValueError, match="SoftMax: expected a 1-D, 2-D, 3-D or 4-D input, got a 5-D one"):
        nn.SoftMax().forward(randn(1, 1, 1, 1, 2))
    with pytest.raises(IndexError, match="out of bounds"):
        nn.ClassNLLCriterion().double().forward(randn(2, 3), ember.LongTensor([0, 3]))
    with pytest.raises(ValueError, match="MultiMarginCriterion: only p = 1 and p = 2"):
        nn.MultiMarginCriterion(3)
    with pytest.raises(ValueError, match="ClassSimplexCriterion: nClasses must be an integer > 1"):
        nn.ClassSimplexCriterion(1)
    with pytest.raises(ValueError, match="BCECriterion: input and target size mismatch"):
        nn.BCECriterion().forward(randn(2), randn(3))
    with pytest.raises(ValueError, match="ParallelTable: an input list of 2 elements for 1 modules"):
        nn.ParallelTable().add(nn.Identity()).forward([randn(1), randn(1)])


def test_real_2013_model_runs():
    """road-net's classifier (Lua nn of 2013: Reshape without batchMode, Threshold with Lua's field names and
    no gradInput) loads and computes what its stored weights say (a NumPy forward)."""
    from _helpers.data import shared_data
    model = load_lua(shared_data("t7", "torch_demos", "road-net_unsup-cl-30.net_57c827e"))
    assert [type(m).__name__ for m in model.modules] == ["Reshape", "Linear", "Threshold", "Linear", "LogSoftMax"]
    assert model.modules[2].value == 0 and model.modules[2].threshold == pytest.approx(1e-6)
    ember.manual_seed(9)
    x = ember.FloatTensor(2, 3, 24, 24).normal_()
    out = model.forward(x)
    w1, b1 = model.modules[1].weight.numpy(), model.modules[1].bias.numpy()
    w2, b2 = model.modules[3].weight.numpy(), model.modules[3].bias.numpy()
    h = x.numpy().reshape(2, -1).astype(np.float64) @ w1.T + b1
    h = np.where(h > 1e-6, h, 0)
    z = h @ w2.T + b2
    want = z - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)) - z.max(1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-4)
    gin = model.backward(x, ember.FloatTensor(2, 8).fill_(1))
    assert gin.size() == x.size() and isinstance(gin, ember.FloatTensor)
