"""Losses: ember.nn.functional's loss functions against torch.nn.functional (parity, adapted to 0.2 where
the two differ) and against NumPy formulas of 0.2's definitions; double backward (gradgradcheck) of every
loss; the criteria modules' options, buffers and reprs; 0.2's errors."""
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck
from _helpers.oracle import assert_same, require_torch, to_numpy

# PyTorch 2's notices about its own kl_div reduction and size_average arguments
pytestmark = pytest.mark.filterwarnings("ignore:reduction.*batchmean:UserWarning")

DTYPES = [np.float64, np.float32]
TOL = {np.float64: (1e-9, 1e-11), np.float32: (2e-5, 2e-6)}
GO = 0.7  # the gradient given to every loss's backward


def _var(a, dtype=np.float64, grad=False, transpose=False):
    """An ember Variable of ``a`` (floats cast to ``dtype``); a non-contiguous leaf with ``transpose``
    (2-D: stored transposed; more dims: stored with the first two dims swapped)."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(dtype)
    if transpose and a.ndim >= 2:
        t = ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, 1))).transpose(0, 1)
        assert not t.is_contiguous()
    else:
        t = ember.from_numpy(np.ascontiguousarray(a).copy())
    return Variable(t, requires_grad=grad)


def _torch(a, dtype=np.float64, grad=False):
    torch = require_torch()
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(dtype)
    t = torch.from_numpy(np.ascontiguousarray(a).copy())
    return t.requires_grad_(True) if grad else t


def _reduction(size_average):
    return "mean" if size_average else "sum"


def _run(fn, diff, const, dtype=np.float64, transpose=False):
    """The loss fn(*diff, *const) and the gradients of GO * loss w.r.t. the ``diff`` arrays."""
    vs = [_var(a, dtype, True, transpose) for a in diff]
    cs = [_var(a, dtype, False, transpose) for a in const]
    out = fn(*(vs + cs))
    assert isinstance(out, Variable) and out.size() == ember.Size([1]), out
    out.backward(ember.from_numpy(np.array([GO], dtype)))
    return out.data, [v.grad.data for v in vs]


def _parity(efn, tfn, diff, const, dtype=np.float64, transpose=False, tol=None):
    """ember's loss and input gradients equal torch's."""
    out, grads = _run(efn, diff, const, dtype, transpose)
    tv = [_torch(a, dtype, True) for a in diff]
    tout = tfn(*(tv + [_torch(a, dtype) for a in const]))
    (tout * GO).backward()
    rtol, atol = tol or TOL[dtype]
    assert_same(out, tout.detach().reshape(1), rtol, atol)
    for g, t in zip(grads, tv):
        assert_same(g, t.grad, rtol, atol)


def _numeric(fn, diff, const, formula, dtype=np.float64, tol=None):
    """ember's loss equals the NumPy ``formula(*diff, *const)`` and its gradient equals central finite
    differences of that formula (in double)."""
    out, grads = _run(fn, diff, const, dtype)
    rtol, atol = tol or TOL[dtype]
    args = [np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in diff + const]
    assert_same(out, np.array([formula(*args)]), rtol, atol, check_type=False)
    for i, g in enumerate(grads):
        num = np.zeros(args[i].shape)
        for j in range(num.size):
            hi = [a.copy() for a in args]
            lo = [a.copy() for a in args]
            hi[i].reshape(-1)[j] += 1e-6
            lo[i].reshape(-1)[j] -= 1e-6
            num.reshape(-1)[j] = GO * (formula(*hi) - formula(*lo)) / 2e-6
        assert_same(g, num, max(rtol, 1e-5), max(atol, 1e-6), check_type=False)


rng = np.random.RandomState(7)


def _log_probs(*size):
    x = rng.standard_normal(size)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def _signs(*size):
    return rng.choice([-1.0, 1.0], size)


# ---------------------------------------------------------------------- elementwise criteria

def _elementwise(name):
    """(ember fn, torch fn, input, target) of an elementwise criterion on 3 x 4 data."""
    tf = require_torch().nn.functional
    x = rng.standard_normal((3, 4))
    t = rng.standard_normal((3, 4)) * 2
    if name == "soft_margin_loss":
        t = _signs(3, 4)
    elif name == "kl_div":
        x = _log_probs(3, 4)
        t = rng.uniform(0.1, 1, (3, 4))
        t[0, 1] = t[2, 3] = 0
    elif name == "binary_cross_entropy":
        x = rng.uniform(0.05, 0.95, (3, 4))
        t = rng.uniform(0, 1, (3, 4))
    elif name == "binary_cross_entropy_with_logits":
        t = rng.uniform(0, 1, (3, 4))
    return getattr(F, name), getattr(tf, name), x, t


ELEMENTWISE = ["mse_loss", "l1_loss", "smooth_l1_loss", "soft_margin_loss", "kl_div", "binary_cross_entropy",
               "binary_cross_entropy_with_logits"]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("size_average", [True, False])
def test_elementwise_parity(name, dtype, transpose, size_average):
    efn, tfn, x, t = _elementwise(name)
    _parity(lambda a, b: efn(a, b, size_average=size_average),
            lambda a, b: tfn(a, b, reduction=_reduction(size_average)), [x], [t], dtype, transpose)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "soft_margin_loss", "kl_div",
                                  "binary_cross_entropy"])
def test_elementwise_target_of_other_shape_same_numel(name):
    # THNN's criteria pair the elements in order when the shapes differ (0.2)
    efn, tfn, x, t = _elementwise(name)
    _parity(lambda a, b: efn(a, b.view(12)), lambda a, b: tfn(a, b), [x], [t])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_bce_weight(name, dtype):
    efn, tfn, x, t = _elementwise(name)
    for w in (rng.uniform(0.1, 2, (4,)), rng.uniform(0.1, 2, (3, 1)), rng.uniform(0.1, 2, (3, 4))):
        for as_var in (False, True):
            ew = _var(w, dtype) if as_var else _var(w, dtype).data
            for avg in (True, False):
                _parity(lambda a, b: efn(a, b, weight=ew, size_average=avg),
                        lambda a, b: tfn(a, b, weight=_torch(w, dtype), reduction=_reduction(avg)), [x], [t], dtype)
    # a weight with the input's number of elements pairs in order (THNN)
    w = rng.uniform(0.1, 2, (12,))
    _parity(lambda a, b: efn(a, b, weight=_var(w).data), lambda a, b: tfn(a, b, weight=_torch(w).reshape(3, 4)),
            [x], [t])


def test_bce_clamps_logs_as_thnn():
    x = np.array([0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 1.0])
    out, grads = _run(F.binary_cross_entropy, [x], [t])
    expected = -(t * np.log(x + 1e-12) + (1 - t) * np.log(1 - x + 1e-12)).mean()
    assert_same(out, np.array([expected]), 1e-12, 0)
    assert np.isfinite(grads[0].numpy()).all()


def test_bce_with_logits_is_stable():
    x = np.array([-800.0, 800.0, 30.0, -30.0])
    t = np.array([1.0, 0.0, 0.25, 1.0])
    expected = (np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))).sum()
    out, grads = _run(lambda a, b: F.binary_cross_entropy_with_logits(a, b, size_average=False), [x], [t])
    assert_same(out, np.array([expected]), 1e-12, 0)
    sigmoid = np.array([0.0, 1.0, 1 / (1 + np.exp(-30.0)), 1 / (1 + np.exp(30.0))])
    assert_same(grads[0], GO * (sigmoid - t), 1e-12, 1e-300, check_type=False)


def test_kl_div_weight_is_ignored_as_in_0_2():
    _, _, x, t = _elementwise("kl_div")
    plain, _ = _run(F.kl_div, [x], [t])
    with pytest.warns(UserWarning, match="kl_div: weight has no effect"):
        weighted, _ = _run(lambda a, b: F.kl_div(a, b, weight=_var(np.full((3, 4), 3.0)).data), [x], [t])
    assert_same(weighted, plain, 0, 0)


# ---------------------------------------------------------------------- nll / cross entropy

def _class_data(shape, n_classes, ignore=None):
    x = rng.standard_normal(shape)
    tshape = shape[:1] + shape[2:]
    t = rng.randint(0, n_classes, tshape).astype(np.int64)
    if ignore is not None:
        t[rng.uniform(size=tshape) < 0.3] = ignore
        t.reshape(-1)[0] = (ignore + 1) % n_classes
    return x, t


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("transpose", [False, True])
def test_class_losses_parity(name, shape, dtype, transpose):
    tf = require_torch().nn.functional
    efn, tfn = getattr(F, name), getattr(tf, name)
    c = shape[1]
    w = rng.uniform(0.1, 2, c)
    for weight in (None, w):
        for avg in (True, False):
            for ignore in (-100, 1):
                x, t = _class_data(shape, c, None if ignore < 0 else ignore)
                ew = None if weight is None else _var(weight, dtype).data
                tw = None if weight is None else _torch(weight, dtype)
                _parity(lambda a, b: efn(a, b, ew, avg, ignore),
                        lambda a, b: tfn(a, b, tw, reduction=_reduction(avg), ignore_index=ignore),
                        [x], [t], dtype, transpose)


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_losses_keyword_weight_as_variable(name):
    tf = require_torch().nn.functional
    x, t = _class_data((5, 3), 3)
    w = np.array([0.2, 1.0, 3.0])
    _parity(lambda a, b: getattr(F, name)(a, b, weight=_var(w)),
            lambda a, b: getattr(tf, name)(a, b, weight=_torch(w)), [x], [t])


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2, 2)])
def test_everything_ignored_gives_zero_as_thnn(name, shape):
    # THNN divides by the total weight only when it is not 0 (PyTorch 2 gives nan)
    x, t = _class_data(shape, 3)
    t[...] = 2
    out, grads = _run(lambda a, b: getattr(F, name)(a, b, ignore_index=2), [x], [t])
    assert out.tolist() == [0.0]
    assert not grads[0].numpy().any()


def test_cross_entropy_is_log_softmax_then_nll():
    x, t = _class_data((2, 4, 3, 2), 4)
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    w = np.array([0.5, 1.0, 2.0, 1.5])
    picked = np.take_along_axis(logp, t[:, None], axis=1)[:, 0]

    def formula(x_, t_):
        lp = x_ - np.log(np.exp(x_).sum(axis=1, keepdims=True))
        pk = np.take_along_axis(lp, t_[:, None], axis=1)[:, 0]
        return -(pk * w[t_]).sum() / w[t_].sum()
    assert np.isclose(formula(x, t), -(picked * w[t]).sum() / w[t].sum())
    _numeric(lambda a, b: F.cross_entropy(a, b, weight=_var(w).data), [x], [t], formula)


# ---------------------------------------------------------------------- margin criteria

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_parity(dtype, p):
    tf = require_torch().nn.functional
    x = rng.standard_normal((6, 4))
    t = rng.randint(0, 4, 6).astype(np.int64)
    w = rng.uniform(0.2, 2, 4)
    for weight in (None, w):
        for margin in (1, 0.5):
            for avg in (True, False):
                ew = None if weight is None else _var(weight, dtype).data
                tw = None if weight is None else _torch(weight, dtype)
                _parity(lambda a, b: F.multi_margin_loss(a, b, p, margin, ew, avg),
                        lambda a, b: tf.multi_margin_loss(a, b, p, margin, tw, reduction=_reduction(avg)),
                        [x], [t], dtype, transpose=True)
    # one sample as a 1-D input
    _parity(lambda a, b: F.multi_margin_loss(a, b, p), lambda a, b: tf.multi_margin_loss(a, b, p),
            [rng.standard_normal(5)], [np.array([3])], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_margin_parity(dtype):
    tf = require_torch().nn.functional
    x = rng.standard_normal((3, 5))
    t = np.array([[3, 0, -1, 1, 1], [4, 1, 2, 0, 3], [-1, 2, 2, 2, 2]])
    for avg in (True, False):
        _parity(lambda a, b: F.multilabel_margin_loss(a, b, avg),
                lambda a, b: tf.multilabel_margin_loss(a, b, reduction=_reduction(avg)), [x], [t], dtype, True)
    _parity(F.multilabel_margin_loss, tf.multilabel_margin_loss, [x[0]], [t[0]], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel_soft_margin(dtype):
    tf = require_torch().nn.functional
    x = rng.standard_normal((3, 5))
    t = rng.randint(0, 2, (3, 5)).astype(np.float64)
    w = rng.uniform(0.2, 2, 5)
    _parity(F.multilabel_soft_margin_loss, tf.multilabel_soft_margin_loss, [x], [t], dtype, transpose=True)
    _parity(lambda a, b: F.multilabel_soft_margin_loss(a, b, _var(w, dtype).data),
            lambda a, b: tf.multilabel_soft_margin_loss(a, b, _torch(w, dtype)), [x], [t], dtype)

    # 0.2 is BCE of the sigmoid: size_average=False sums over every element (PyTorch 2: the per-sample means)
    def formula(x_, t_):
        s = 1 / (1 + np.exp(-x_))
        return -(w * (t_ * np.log(s + 1e-12) + (1 - t_) * np.log(1 - s + 1e-12))).sum()
    _numeric(lambda a, b: F.multilabel_soft_margin_loss(a, b, _var(w, dtype).data, size_average=False),
             [x], [t], formula, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_hinge_embedding(dtype):
    tf = require_torch().nn.functional
    x = rng.standard_normal((4, 3))
    y = _signs(4, 3)
    for margin in (1.0, 0.4):
        for avg in (True, False):
            _parity(lambda a, b: F.hinge_embedding_loss(a, b, margin, avg),
                    lambda a, b: tf.hinge_embedding_loss(a, b, margin, reduction=_reduction(avg)),
                    [x], [y], dtype, transpose=True)

    # 0.2's formula for targets other than +-1: x counts unless the target is -1, the hinge unless it is 1
    y0 = y.copy()
    y0[0] = 0

    def formula(x_, y_):
        return (np.where(y_ != -1, x_, 0) + np.where(y_ != 1, np.maximum(0, 0.4 - x_), 0)).sum() / x_.size
    _numeric(lambda a, b: F.hinge_embedding_loss(a, b, 0.4), [x], [y0], formula, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_margin_ranking(dtype):
    tf = require_torch().nn.functional
    x1, x2, y = rng.standard_normal(7), rng.standard_normal(7), _signs(7)
    for margin in (0, 0.5):
        for avg in (True, False):
            _parity(lambda a, b, c: F.margin_ranking_loss(a, b, c, margin, avg),
                    lambda a, b, c: tf.margin_ranking_loss(a, b, c, margin, reduction=_reduction(avg)),
                    [x1, x2], [y], dtype)

    # 0.2 divides the sum by target.size(0)
    def formula(a, b, c):
        return np.maximum(0, -c.reshape(-1) * (a - b).reshape(-1) + 0.2).sum() / c.shape[0]
    _numeric(lambda a, b, c: F.margin_ranking_loss(a, b, c, 0.2), [x1.reshape(7, 1), x2.reshape(7, 1)],
             [y.reshape(7, 1)], formula, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_embedding(dtype):
    tf = require_torch().nn.functional
    x1, x2, y = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), _signs(5)
    for margin in (0, -0.2, 0.3):
        for avg in (True, False):
            _parity(lambda a, b, c: F.cosine_embedding_loss(a, b, c, margin, avg),
                    lambda a, b, c: tf.cosine_embedding_loss(a, b, c, margin, reduction=_reduction(avg)),
                    [x1, x2], [y], dtype, transpose=True)

    # 0.2: cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)); other target values add nothing
    y0 = y.copy()
    y0[1] = 0

    def formula(a, b, c):
        cos = (a * b).sum(1) / np.sqrt(((a * a).sum(1) + 1e-12) * ((b * b).sum(1) + 1e-12))
        return (np.where(c == 1, 1 - cos, 0) + np.where(c == -1, np.maximum(0, cos - 0.1), 0)).sum() / len(c)
    _numeric(lambda a, b, c: F.cosine_embedding_loss(a, b, c, 0.1), [x1, x2], [y0], formula, dtype)


# ---------------------------------------------------------------------- poisson, triplet

@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_nll(dtype):
    tf = require_torch().nn.functional
    t = rng.poisson(2.0, (3, 4)).astype(np.float64)
    t[0, 0], t[0, 1] = 0, 1
    for log_input, x in ((True, rng.standard_normal((3, 4)) * 0.5), (False, rng.uniform(0.5, 3, (3, 4)))):
        for full in (False, True):
            for avg in (True, False):
                # 0.2 takes log(input) (PyTorch 2: log(input + eps)): the oracle runs with eps=0
                _parity(lambda a, b: F.poisson_nll_loss(a, b, log_input, full, avg),
                        lambda a, b: tf.poisson_nll_loss(a, b, log_input, full, reduction=_reduction(avg), eps=0.0),
                        [x], [t], dtype, transpose=True)

    def formula(x_, t_):
        stirling = np.where(t_ > 1, t_ * np.log(np.maximum(t_, 1)) - t_ + 0.5 * np.log(2 * math.pi * np.maximum(t_, 1)),
                            0)
        return (x_ - t_ * np.log(x_) + stirling).sum()
    x = rng.uniform(0.5, 3, (3, 4))
    _numeric(lambda a, b: F.poisson_nll_loss(a, b, log_input=False, full=True, size_average=False),
             [x], [t], formula, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin(dtype, p, swap):
    tf = require_torch().nn.functional
    a, pos, neg = (rng.standard_normal((5, 4)) for _ in range(3))
    # with eps=0 0.2's distance is the p-norm, as PyTorch 2's
    _parity(lambda x, y, z: F.triplet_margin_loss(x, y, z, 1.5, p, 0.0, swap),
            lambda x, y, z: tf.triplet_margin_loss(x, y, z, margin=1.5, p=p, eps=0.0, swap=swap),
            [a, pos, neg], [], dtype, transpose=True)

    # 0.2's pairwise_distance: (sum (|x1 - x2| + eps)^p)^(1/p); the loss is a mean over rows
    def formula(x, y, z):
        def d(u, v):
            return ((np.abs(u - v) + 1e-3) ** p).sum(1) ** (1.0 / p)
        dn = np.minimum(d(x, z), d(y, z)) if swap else d(x, z)
        return np.maximum(0, 1.5 + d(x, y) - dn).mean()
    _numeric(lambda x, y, z: F.triplet_margin_loss(x, y, z, 1.5, p, 1e-3, swap), [a, pos, neg], [], formula,
             dtype)


# ---------------------------------------------------------------------- double backward

def _class(n, c):
    return rng.randint(0, c, n).astype(np.int64)


_X = rng.standard_normal((4, 3))
DOUBLE_BACKWARD = {
    "mse_loss": (lambda a, b: F.mse_loss(a, b), [_X], [rng.standard_normal((4, 3))]),
    "l1_loss": (lambda a, b: F.l1_loss(a, b, False), [_X], [rng.standard_normal((4, 3))]),
    "smooth_l1_loss": (lambda a, b: F.smooth_l1_loss(a, b), [_X], [rng.standard_normal((4, 3)) * 2]),
    "soft_margin_loss": (lambda a, b: F.soft_margin_loss(a, b), [_X], [_signs(4, 3)]),
    "kl_div": (lambda a, b: F.kl_div(a, b), [_X], [rng.uniform(0, 1, (4, 3))]),
    "binary_cross_entropy": (lambda a, b: F.binary_cross_entropy(a, b, _var(np.array([1.0, 2.0, 0.5])).data),
                             [rng.uniform(0.1, 0.9, (4, 3))], [rng.uniform(0, 1, (4, 3))]),
    "binary_cross_entropy_with_logits": (lambda a, b: F.binary_cross_entropy_with_logits(a, b, size_average=False),
                                         [_X], [rng.uniform(0, 1, (4, 3))]),
    "nll_loss": (lambda a, b: F.nll_loss(a, b, _var(np.array([1.0, 2.0, 0.5])).data, ignore_index=0),
                 [_X], [np.array([0, 1, 2, 1])]),
    "cross_entropy": (lambda a, b: F.cross_entropy(a, b, _var(np.array([1.0, 2.0, 0.5])).data, ignore_index=0),
                      [_X], [np.array([0, 1, 2, 1])]),
    "cross_entropy_4d": (lambda a, b: F.cross_entropy(a, b, size_average=False), [rng.standard_normal((2, 3, 2, 2))],
                         [rng.randint(0, 3, (2, 2, 2))]),
    "multi_margin_loss_p1": (lambda a, b: F.multi_margin_loss(a, b), [_X], [_class(4, 3)]),
    "multi_margin_loss_p2": (lambda a, b: F.multi_margin_loss(a, b, 2, 0.8, _var(np.array([1.0, 2.0, 0.5])).data),
                             [_X], [_class(4, 3)]),
    "multi_margin_loss_p2_1d": (lambda a, b: F.multi_margin_loss(a, b, 2, size_average=False),
                                [rng.standard_normal(5) * 0.3], [np.array([2])]),
    "multilabel_margin_loss": (lambda a, b: F.multilabel_margin_loss(a, b), [_X],
                               [np.array([[0, -1, 0], [2, 1, -1], [1, 0, 2], [-1, 1, 1]])]),
    "multilabel_soft_margin_loss": (lambda a, b: F.multilabel_soft_margin_loss(a, b), [_X],
                                    [rng.randint(0, 2, (4, 3)).astype(np.float64)]),
    "hinge_embedding_loss": (lambda a, b: F.hinge_embedding_loss(a, b), [_X], [_signs(4, 3)]),
    "poisson_nll_loss": (lambda a, b: F.poisson_nll_loss(a, b), [_X], [rng.poisson(2.0, (4, 3)).astype(float)]),
    "poisson_nll_loss_no_log": (lambda a, b: F.poisson_nll_loss(a, b, log_input=False, full=True),
                                [rng.uniform(0.5, 2, (4, 3))], [rng.poisson(2.0, (4, 3)).astype(float)]),
    "margin_ranking_loss": (lambda a, b, c: F.margin_ranking_loss(a, b, c, 0.1), [_X[:, 0], _X[:, 1]],
                            [_signs(4)]),
    "cosine_embedding_loss": (lambda a, b, c: F.cosine_embedding_loss(a, b, c, 0.1), [_X, _X[::-1].copy()],
                              [_signs(4)]),
    "triplet_margin_loss": (lambda a, b, c: F.triplet_margin_loss(a, b, c, 2.0, swap=True),
                            [_X, rng.standard_normal((4, 3)), rng.standard_normal((4, 3))], []),
}


@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_gradcheck_and_gradgradcheck(name):
    fn, diff, const = DOUBLE_BACKWARD[name]
    vs = tuple(_var(a, grad=True) for a in diff)
    cs = [_var(a) for a in const]

    def f(*xs):
        return fn(*(list(xs) + cs))
    assert gradcheck(f, vs, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(f, vs, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy", "smooth_l1_loss", "mse_loss"])
def test_double_backward_against_torch(name):
    torch = require_torch()
    tf = torch.nn.functional
    fn, diff, const = DOUBLE_BACKWARD[name]
    x, c = _var(diff[0], grad=True), _var(const[0])
    tx, tc = _torch(diff[0], grad=True), _torch(const[0])
    w = np.array([1.0, 2.0, 0.5])
    tfn = {"cross_entropy": lambda a, b: tf.cross_entropy(a, b, _torch(w), ignore_index=0),
           "binary_cross_entropy": lambda a, b: tf.binary_cross_entropy(a, b, _torch(w)),
           "smooth_l1_loss": tf.smooth_l1_loss, "mse_loss": tf.mse_loss}[name]
    g, = ember.autograd.grad(fn(x, c), x, create_graph=True)
    (g * g).sum().backward()
    tg, = torch.autograd.grad(tfn(tx, tc), tx, create_graph=True)
    (tg * tg).sum().backward()
    assert_same(g.data, tg.detach(), 1e-9, 1e-12)
    assert_same(x.grad.data, tx.grad, 1e-9, 1e-12)


# ---------------------------------------------------------------------- modules

MODULES = ["L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "KLDivLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
           "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss", "SoftMarginLoss", "CrossEntropyLoss",
           "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss",
           "TripletMarginLoss"]


@pytest.mark.parametrize("name", MODULES)
def test_module_repr_and_exports(name):
    m = getattr(nn, name)()
    assert repr(m) == name + " (\n)"
    assert list(m.parameters()) == [] and name in nn.modules.loss.__all__


def test_module_defaults_0_2():
    assert nn.L1Loss().size_average is True
    nll = nn.NLLLoss()
    assert (nll.weight, nll.size_average, nll.ignore_index) == (None, True, -100)
    assert isinstance(nn.NLLLoss2d(), nn.NLLLoss) and nn.NLLLoss2d(ignore_index=3).ignore_index == 3
    assert nn.CrossEntropyLoss().ignore_index == -100
    p = nn.PoissonNLLLoss()
    assert (p.log_input, p.full, p.size_average) == (True, False, True)
    assert nn.HingeEmbeddingLoss().margin == 1.0 and nn.CosineEmbeddingLoss().margin == 0
    assert nn.MarginRankingLoss().margin == 0
    mm = nn.MultiMarginLoss()
    assert (mm.p, mm.margin, mm.weight, mm.size_average) == (1, 1, None, True)
    t = nn.TripletMarginLoss()
    assert (t.margin, t.p, t.eps, t.swap) == (1.0, 2, 1e-6, False)


@pytest.mark.parametrize("name", ["NLLLoss", "NLLLoss2d", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
                                  "MultiLabelSoftMarginLoss"])
def test_weight_is_a_buffer(name):
    w = ember.FloatTensor([1, 2, 3])
    m = getattr(nn, name)(w)
    assert m.weight is w and list(m.state_dict()) == ["weight"]
    assert type(m.double().weight) is ember.DoubleTensor
    assert list(getattr(nn, name)().state_dict()) == []


def test_multi_margin_weight_is_an_attribute_as_0_2():
    w = ember.DoubleTensor([1, 2, 3])
    m = nn.MultiMarginLoss(weight=w)
    assert m.weight is w and list(m.state_dict()) == []
    x, t = _var(rng.standard_normal((4, 3))), _var(_class(4, 3))
    assert_same(m(x, t).data, F.multi_margin_loss(x, t, weight=w).data, 0, 0)


MODULE_CALLS = {
    "L1Loss": ((3,), "f"), "MSELoss": ((3,), "f"), "SmoothL1Loss": ((3,), "f"), "SoftMarginLoss": ((3,), "f"),
    "KLDivLoss": ((3,), "f"), "BCELoss": ((3,), "p"), "BCEWithLogitsLoss": ((3,), "p"),
    "MultiLabelSoftMarginLoss": ((2, 3), "p"), "PoissonNLLLoss": ((3,), "p"), "HingeEmbeddingLoss": ((3,), "f"),
    "NLLLoss": ((2, 3), "c"), "CrossEntropyLoss": ((2, 3), "c"), "NLLLoss2d": ((2, 3, 2, 2), "c"),
    "MultiMarginLoss": ((2, 3), "c"), "MultiLabelMarginLoss": ((2, 3), "m"),
    "MarginRankingLoss": ((3,), "2f"), "CosineEmbeddingLoss": ((2, 3), "2s"),
}


def _module_args(name, dtype=np.float64):
    shape, kind = MODULE_CALLS[name]
    x = rng.uniform(0.1, 0.9, shape)
    if kind == "c":
        t = rng.randint(0, 3, shape[:1] + shape[2:])
    elif kind == "m":
        t = np.array([[1, -1, 0], [2, 0, 1]])
    elif kind == "2s":
        return [_var(x, dtype, True), _var(x[::-1].copy(), dtype, True)], _var(_signs(2), dtype)
    else:
        t = rng.uniform(0.1, 0.9, shape)
    inputs = [_var(x, dtype, True)] + ([_var(x[::-1].copy(), dtype, True)] if kind == "2f" else [])
    return inputs, _var(t, dtype)


@pytest.mark.parametrize("name", sorted(MODULE_CALLS))
def test_module_refuses_target_requiring_grad(name):
    inputs, target = _module_args(name)
    m = getattr(nn, name)()
    out = m(*(inputs + [target]))
    assert out.size() == ember.Size([1])
    target.requires_grad = True
    with pytest.raises(AssertionError, match="^nn criterions don't compute the gradient w.r.t. targets - please mark "
                                             "these variables as volatile or not requiring gradients$"):
        m(*(inputs + [target]))


@pytest.mark.parametrize("name", sorted(MODULE_CALLS))
def test_module_float32_and_volatile(name):
    inputs, target = _module_args(name, np.float32)
    m = getattr(nn, name)()
    out = m(*(inputs + [target]))
    assert type(out.data) is ember.FloatTensor and out.requires_grad
    out.backward()
    assert all(type(v.grad.data) is ember.FloatTensor for v in inputs)
    vol = [Variable(v.data, volatile=True) for v in inputs]
    out = m(*(vol + [target]))
    assert out.volatile and out.grad_fn is None


def test_triplet_module_and_backward_twice():
    a, p, n = (_var(rng.standard_normal((3, 4)), grad=True) for _ in range(3))
    out = nn.TripletMarginLoss(margin=3.0)(a, p, n)
    assert out.size() == ember.Size([1])
    x, t = _var(rng.standard_normal((3, 4)), grad=True), _var(_class(3, 4))
    for loss in (F.cross_entropy(x, t), F.nll_loss(x, t), F.mse_loss(x, _var(rng.standard_normal((3, 4))))):
        loss.backward(retain_graph=True)
        loss.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            loss.backward()


def test_grad_fn_names():
    x, t = _var(rng.standard_normal((3, 4)), grad=True), _var(_class(3, 4))
    assert type(F.cross_entropy(x, t).grad_fn).__name__ == "CrossEntropyLossBackward"
    assert type(F.nll_loss(x, t).grad_fn).__name__ == "NLLLossBackward"
    assert type(F.mse_loss(x, x.detach()).grad_fn).__name__ == "MSELossBackward"


# ---------------------------------------------------------------------- errors

def _x(*size, dtype=np.float64):
    return _var(rng.standard_normal(size), dtype, True)


def test_class_loss_errors():
    x, t = _x(4, 3), _var(_class(4, 3))
    for name in ("nll_loss", "cross_entropy"):
        f = getattr(F, name)
        for bad in (_x(4), _x(4, 3, 2), _x(1, 2, 3, 4, 5)):
            with pytest.raises(ValueError, match=r"^Expected 2 or 4 dimensions \(got {}\)$".format(bad.dim())):
                f(bad, t)
        with pytest.raises(RuntimeError, match=r"^{}: expected target of size \[4\] for input of size \[4 x 3\], "
                                               r"got target of size \[5\]$".format(name)):
            f(x, _var(_class(5, 3)))
        with pytest.raises(RuntimeError, match=r"{}: expected target of size \[2 x 4 x 5\] for input of size "
                                               r"\[2 x 3 x 4 x 5\], got target of size \[2 x 5 x 4\]".format(name)):
            f(_x(2, 3, 4, 5), _var(rng.randint(0, 3, (2, 5, 4))))
        with pytest.raises(TypeError, match=r"{}: expected target to be a Variable of torch.LongTensor \(class "
                                            r"indices\), got torch.DoubleTensor".format(name)):
            f(x, _var(rng.standard_normal(4)))
        with pytest.raises(TypeError, match=name + r": expected input to be a Variable of torch.FloatTensor or "
                                                   r"torch.DoubleTensor, got torch.LongTensor"):
            f(_var(_class(12, 3).reshape(4, 3)), t)
        with pytest.raises(TypeError, match=name + r": expected weight to be a torch.DoubleTensor \(the input's "
                                                   r"type\), got torch.FloatTensor"):
            f(x, t, ember.FloatTensor([1, 2, 3]))
        with pytest.raises(ValueError, match=r"weight should have 3 elements.*got size \[2\]"):
            f(x, t, ember.DoubleTensor([1, 2]))
        with pytest.raises(IndexError, match=r"target 3 is out of bounds"):
            f(x, _var(np.array([0, 3, 1, 2])))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "soft_margin_loss", "kl_div",
                                  "binary_cross_entropy", "poisson_nll_loss", "hinge_embedding_loss"])
def test_elementwise_errors(name):
    f = getattr(F, name)
    x = _var(rng.uniform(0.1, 0.9, (2, 3)), grad=True)
    with pytest.raises(RuntimeError, match=r"^{}: input and target must have the same number of elements, got input "
                                           r"of size \[2 x 3\] and target of size \[5\]$".format(name)):
        f(x, _var(rng.uniform(0.1, 0.9, 5)))
    if name != "hinge_embedding_loss":  # 0.2 compares its target with -1 and 1, of any type
        with pytest.raises(TypeError, match=r"^{}: expected target to be a torch.DoubleTensor \(the input's type\), "
                                            r"got torch.FloatTensor$".format(name)):
            f(x, _var(rng.uniform(0.1, 0.9, (2, 3)), np.float32))
    with pytest.raises(TypeError, match=r"^{}: expected input to be a Variable of torch.FloatTensor or "
                                        r"torch.DoubleTensor, got torch.LongTensor$".format(name)):
        f(_var(np.ones((2, 3), np.int64)), _var(np.ones((2, 3), np.int64)))


def test_bce_errors():
    x, t = _var(np.array([0.2, 1.5, 0.3])), _var(np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="input values should be between 0 and 1"):
        F.binary_cross_entropy(x, t)
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: weight of size \[2\] cannot be broadcast to the "
                                           r"input's size \[3\]"):
        F.binary_cross_entropy(_var(np.array([0.2, 0.5, 0.3])), t, ember.DoubleTensor([1, 2]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: Target size \(torch.Size\(\[3\]\)\) must "
                                         r"be the same as input size \(torch.Size\(\[3, 1\]\)\)"):
        F.binary_cross_entropy_with_logits(_x(3, 1), t)


def test_margin_loss_errors():
    x = _x(4, 3)
    for p in (0, 3):
        with pytest.raises(ValueError, match="^only p == 1 and p == 2 supported$"):
            F.multi_margin_loss(x, _var(_class(4, 3)), p=p)
        with pytest.raises(ValueError, match="^only p == 1 and p == 2 supported$"):
            nn.MultiMarginLoss(p=p)
    with pytest.raises(ValueError, match="MultiMarginLoss: weight must be one-dimensional"):
        nn.MultiMarginLoss(weight=ember.DoubleTensor(2, 3))
    with pytest.raises(ValueError, match=r"multi_margin_loss: weight must be one-dimensional \(one value per "
                                         r"class\), got size \[1 x 3\]"):
        F.multi_margin_loss(x, _var(_class(4, 3)), weight=ember.DoubleTensor(1, 3).fill_(1))
    with pytest.raises(RuntimeError, match=r"multi_margin_loss: expected target of size \[4\] for input of size "
                                           r"\[4 x 3\], got target of size \[3\]"):
        F.multi_margin_loss(x, _var(_class(3, 3)))
    with pytest.raises(ValueError, match=r"multi_margin_loss: expected a 1D or 2D input \(C or N x C\), got size "
                                         r"\[2 x 2 x 3\]"):
        F.multi_margin_loss(_x(2, 2, 3), _var(_class(2, 3)))
    with pytest.raises(TypeError, match=r"multi_margin_loss: expected target to be a Variable of torch.LongTensor"):
        F.multi_margin_loss(x, _var(rng.standard_normal(4)))
    with pytest.raises(RuntimeError, match=r"multilabel_margin_loss: expected target of the input's size \[4 x 3\], "
                                           r"got target of size \[4\]"):
        F.multilabel_margin_loss(x, _var(_class(4, 3)))
    with pytest.raises(IndexError, match="out of range"):
        F.multilabel_margin_loss(x, _var(np.full((4, 3), 5)))


def test_pair_and_triplet_errors():
    x1, x2, y = _x(4, 3), _x(4, 3), _var(_signs(4))
    with pytest.raises(RuntimeError, match=r"cosine_embedding_loss: input1 and input2 must have the same size, got "
                                           r"input1 of size \[4 x 3\] and input2 of size \[4 x 2\]"):
        F.cosine_embedding_loss(x1, _x(4, 2), y)
    with pytest.raises(RuntimeError, match=r"cosine_embedding_loss: expected target of size \[4\] \(one per row of "
                                           r"the inputs of size \[4 x 3\]\), got target of size \[3\]"):
        F.cosine_embedding_loss(x1, x2, _var(_signs(3)))
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: expected 2D inputs \(N x D\), got size \[4\]"):
        F.cosine_embedding_loss(_x(4), _x(4), y)
    with pytest.raises(RuntimeError, match=r"margin_ranking_loss: input1 and input2 must have the same number of "
                                           r"elements, got input1 of size \[4\] and input2 of size \[3\]"):
        F.margin_ranking_loss(_x(4), _x(3), y)
    with pytest.raises(TypeError, match=r"margin_ranking_loss: expected target to be a torch.DoubleTensor"):
        F.margin_ranking_loss(_x(4), _x(4), _var(_signs(4), np.float32))
    with pytest.raises(RuntimeError, match=r"triplet_margin_loss: anchor and negative must have the same size, got "
                                           r"anchor of size \[4 x 3\] and negative of size \[3 x 3\]"):
        F.triplet_margin_loss(x1, x2, _x(3, 3))
    with pytest.raises(ValueError, match=r"triplet_margin_loss: expected 2D inputs \(N x D\), got size \[3\]"):
        F.triplet_margin_loss(_x(3), _x(3), _x(3))
    with pytest.raises(ValueError, match="triplet_margin_loss: margin should be a positive value, got 0"):
        F.triplet_margin_loss(x1, x2, x2, margin=0)


def test_no_numpy_warnings_on_edge_values():
    # log(0) of a zero target (KL, Poisson full) must not leak NumPy warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = _var(np.array([0.0, 0.5, 3.0]))
        F.kl_div(_x(3), t).backward()
        F.poisson_nll_loss(_x(3), t, full=True).backward()


# ---------------------------------------------------------------------- CUDA

_W3 = np.array([1.0, 2.0, 0.5])
_P = rng.uniform(0.1, 0.9, (4, 3))  # probabilities
# name: (fn(*inputs, *targets, weight), differentiable inputs, targets, weight (moved to the device) or None)
CUDA_CALLS = {
    "nll_loss_weight_ignore_index": (lambda x, t, w: F.nll_loss(x, t, w, ignore_index=0), [_X],
                                     [np.array([0, 1, 2, 1])], _W3),
    "nll_loss_4d_sum": (lambda x, t, w: F.nll_loss(x, t, w, size_average=False, ignore_index=2),
                        [rng.standard_normal((2, 3, 2, 2))], [rng.randint(0, 3, (2, 2, 2))], _W3),
    "cross_entropy_weight_ignore_index": (lambda x, t, w: F.cross_entropy(x, t, w, ignore_index=1), [_X],
                                          [np.array([0, 1, 2, 1])], _W3),
    "cross_entropy_4d_sum": (lambda x, t, w: F.cross_entropy(x, t, w, size_average=False),
                             [rng.standard_normal((2, 3, 2, 2))], [rng.randint(0, 3, (2, 2, 2))], _W3),
    "binary_cross_entropy_broadcast_weight_sum": (lambda x, t, w: F.binary_cross_entropy(x, t, w, False), [_P],
                                                  [rng.uniform(0, 1, (4, 3))], _W3),
    "binary_cross_entropy_with_logits_weight": (lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, w), [_X],
                                                [rng.uniform(0, 1, (4, 3))], rng.uniform(0.5, 2, (4, 3))),
    "kl_div_sum": (lambda x, t, w: F.kl_div(x, t, size_average=False), [_X], [_P * (_P > 0.3)], None),
    "mse_loss": (lambda x, t, w: F.mse_loss(x, t), [_X], [rng.standard_normal(12)], None),
    "l1_loss_sum": (lambda x, t, w: F.l1_loss(x, t, False), [_X], [rng.standard_normal((4, 3))], None),
    "smooth_l1_loss": (lambda x, t, w: F.smooth_l1_loss(x, t), [_X], [rng.standard_normal((4, 3)) * 2], None),
    "soft_margin_loss_sum": (lambda x, t, w: F.soft_margin_loss(x, t, False), [_X], [_signs(4, 3)], None),
    "multi_margin_loss_p2_weight": (lambda x, t, w: F.multi_margin_loss(x, t, 2, 0.8, w), [_X], [_class(4, 3)], _W3),
    "multi_margin_loss_1d_sum": (lambda x, t, w: F.multi_margin_loss(x, t, size_average=False),
                                 [rng.standard_normal(5) * 0.3], [np.array([2])], None),
    "multilabel_margin_loss": (lambda x, t, w: F.multilabel_margin_loss(x, t), [_X],
                               [np.array([[0, -1, 0], [2, 1, -1], [1, 0, 2], [-1, 1, 1]])], None),
    "multilabel_margin_loss_1d_sum": (lambda x, t, w: F.multilabel_margin_loss(x, t, False),
                                      [rng.standard_normal(4)], [np.array([3, 3, 0, -1])], None),
    "multilabel_soft_margin_loss_weight": (lambda x, t, w: F.multilabel_soft_margin_loss(x, t, w), [_X],
                                           [rng.randint(0, 2, (4, 3)).astype(np.float64)], _W3),
    "hinge_embedding_loss_margin_sum": (lambda x, t, w: F.hinge_embedding_loss(x, t, 0.5, False), [_X],
                                        [_signs(4, 3)], None),
    "poisson_nll_loss_full": (lambda x, t, w: F.poisson_nll_loss(x, t, full=True), [_X],
                              [rng.poisson(2.0, (4, 3)).astype(float)], None),
    "poisson_nll_loss_no_log_input_sum": (lambda x, t, w: F.poisson_nll_loss(x, t, False, size_average=False),
                                          [_P], [rng.poisson(2.0, (4, 3)).astype(float)], None),
    "margin_ranking_loss": (lambda a, b, t, w: F.margin_ranking_loss(a, b, t, 0.1), [_X[:, 0], _X[:, 1]],
                            [_signs(4)], None),
    "cosine_embedding_loss_sum": (lambda a, b, t, w: F.cosine_embedding_loss(a, b, t, -0.2, False),
                                  [_X, _X[::-1].copy()], [_signs(4)], None),
    "triplet_margin_loss_p1_swap": (lambda a, p, n, w: F.triplet_margin_loss(a, p, n, 2.0, 1, swap=True),
                                    [_X, rng.standard_normal((4, 3)), rng.standard_normal((4, 3))], [], None),
}


def _cuda_call(name, device, dtype=np.float64):
    """The loss of a CUDA_CALLS case on ``device`` ("cpu" or "cuda") with Variables of its inputs
    (requiring grad)."""
    fn, diff, const, weight = CUDA_CALLS[name]

    def put(a, grad=False):
        t = _var(a, dtype).data
        return Variable(t.cuda() if device == "cuda" else t, requires_grad=grad)
    xs = [put(a, True) for a in diff]
    w = None if weight is None else put(weight).data
    return fn(*(xs + [put(a) for a in const] + [w])), xs


def _cuda_results(name, device):
    """The loss, its input gradients (the kernel backward), and the input gradients again and the gradients
    of sum(g * g * x) over them (the backward built of Variable expressions, create_graph=True), as NumPy
    arrays."""
    out, xs = _cuda_call(name, device)
    go = ember.DoubleTensor([GO])
    out.backward(go.cuda() if device == "cuda" else go)
    results = [out.data] + [x.grad.data for x in xs]
    out, xs = _cuda_call(name, device)
    grads = ember.autograd.grad(out, xs, Variable(go.cuda() if device == "cuda" else go), create_graph=True)
    sum((g * g * x).sum() for g, x in zip(grads, xs)).backward()  # x: some gradients are constant in x
    results += [g.data for g in grads] + [x.grad.data for x in xs]
    assert all(r.is_cuda == (device == "cuda") for r in results)
    return [to_numpy(r) for r in results]


@pytest.mark.parametrize("name", sorted(CUDA_CALLS))
def test_cuda_matches_cpu(device_mode, name):
    for got, want in zip(_cuda_results(name, "cuda"), _cuda_results(name, "cpu")):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["nll_loss_4d_sum", "cross_entropy_weight_ignore_index", "mse_loss",
                                  "binary_cross_entropy_broadcast_weight_sum", "multi_margin_loss_p2_weight",
                                  "multilabel_margin_loss", "binary_cross_entropy_with_logits_weight"])
def test_cuda_half_matches_float(device_mode, name):
    out, xs = _cuda_call(name, "cuda", np.float32)
    out.backward()
    hout, hxs = _cuda_call(name, "cuda", np.float16)
    hout.backward()
    assert type(hout.data) is type(hxs[0].grad.data) is ember.cuda.HalfTensor
    np.testing.assert_allclose(to_numpy(hout.data), to_numpy(out.data), rtol=1e-2, atol=1e-3)
    np.testing.assert_allclose(to_numpy(hxs[0].grad.data), to_numpy(xs[0].grad.data), rtol=1e-2, atol=1e-3)


def test_cuda_criteria_modules_keep_their_weight_on_the_device(device_mode):
    x = Variable(ember.from_numpy(_X).cuda(), requires_grad=True)
    t = Variable(ember.LongTensor([0, 1, 2, 1]).cuda())
    m = nn.CrossEntropyLoss(ember.from_numpy(_W3), ignore_index=0).cuda()
    assert m.weight.is_cuda
    out = m(x, t)
    out.backward()
    ref = F.cross_entropy(_var(_X), _var(np.array([0, 1, 2, 1])), ember.from_numpy(_W3), ignore_index=0)
    assert out.data.is_cuda and x.grad.data.is_cuda
    np.testing.assert_allclose(to_numpy(out.data), to_numpy(ref.data), rtol=1e-12)


def test_cuda_errors(device_mode):
    x = Variable(ember.from_numpy(_X).cuda(), requires_grad=True)
    cpu_classes, cpu_signs = _var(np.array([0, 1, 2, 1])), _var(_signs(4, 3))
    for name, call in (("nll_loss", lambda: F.nll_loss(x, cpu_classes)),
                       ("cross_entropy", lambda: F.cross_entropy(x, cpu_classes)),
                       ("multi_margin_loss", lambda: F.multi_margin_loss(x, cpu_classes)),
                       ("multilabel_margin_loss", lambda: F.multilabel_margin_loss(x, _var(np.zeros((4, 3), int)))),
                       ("hinge_embedding_loss", lambda: F.hinge_embedding_loss(x, cpu_signs)),
                       ("cosine_embedding_loss", lambda: F.cosine_embedding_loss(x, x, _var(_signs(4))))):
        with pytest.raises(TypeError, match=r"^{}\(\): expected target on GPU 0 \(where the input is\), got "
                                            r"torch.(Long|Double)Tensor$".format(name)):
            call()
    with pytest.raises(TypeError, match=r"^mse_loss: expected target to be a torch.cuda.DoubleTensor \(the input's "
                                        r"type\), got torch.DoubleTensor$"):
        F.mse_loss(x, cpu_signs)
    with pytest.raises(TypeError, match=r"^nll_loss: expected target to be a Variable of torch.cuda.LongTensor \(class "
                                        r"indices\), got torch.cuda.IntTensor$"):
        F.nll_loss(x, Variable(ember.cuda.IntTensor([0, 1, 2, 1])))
    with pytest.raises(TypeError, match=r"^cross_entropy: expected weight to be a torch.cuda.DoubleTensor \(the "
                                        r"input's type\), got torch.DoubleTensor$"):
        F.cross_entropy(x, Variable(cpu_classes.data.cuda()), ember.from_numpy(_W3))
    with pytest.raises(TypeError, match=r"^nll_loss: expected input to be a Variable of torch.cuda.FloatTensor, "
                                        r"torch.cuda.DoubleTensor or torch.cuda.HalfTensor, "
                                        r"got torch.cuda.LongTensor$"):
        F.nll_loss(Variable(ember.cuda.LongTensor(4, 3).zero_()), Variable(cpu_classes.data.cuda()))
    with pytest.raises(IndexError, match=r"^nll_loss_forward\(\): target 3 is out of bounds: expected a class index in "
                                         r"\[0, 3\) \(C = 3\) or ignore_index \(-100\)$"):
        F.nll_loss(x, Variable(ember.LongTensor([0, 3, 1, 2]).cuda()))
