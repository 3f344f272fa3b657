"""ember.kernels losses against torch.nn.functional (forward, and gradients from torch autograd) and
NumPy versions of THNN's formulas where 0.2 differs from PyTorch 2.13."""
import numpy as np
import pytest

import ember
from ember import kernels as K

from _helpers.oracle import assert_same, require_torch

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-11, atol=1e-12)}
rng = np.random.RandomState(0)


def E(a):
    return ember.from_numpy(a)


def L(a):
    return ember.from_numpy(np.asarray(a, dtype=np.int64))


def _torch():
    torch = require_torch()
    return torch, torch.nn.functional


def _reduction(size_average):
    return "mean" if size_average else "sum"


def _grad(torch, fn, x, go, *args, **kwargs):
    """torch's loss value and d(loss * go)/dx."""
    tx = torch.from_numpy(np.array(x)).requires_grad_()
    out = fn(tx, *args, **kwargs)
    (out * go).backward()
    return out.detach(), tx.grad


# ---------------------------------------------------------------------- nll_loss

NLL_SHAPES = [(7, 5), (3, 4, 6), (2, 3, 4, 5), (2, 3, 2, 3, 2), (3000, 8)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", NLL_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("size_average", [True, False])
def test_nll_loss_matches_torch(dtype, shape, weighted, size_average):
    torch, F = _torch()
    C = shape[1]
    x = rng.randn(*shape).astype(dtype)
    t = rng.randint(0, C, (shape[0],) + shape[2:])
    t.reshape(-1)[::4] = 1  # class 1 is ignored below; some of every shape
    w = rng.rand(C).astype(dtype) + 0.1 if weighted else None
    kw = dict(weight=None if w is None else E(w), size_average=size_average, ignore_index=1)
    out, total = K.nll_loss_forward(E(x), L(t), **kw)
    tout, tgrad = _grad(torch, F.nll_loss, x, 0.7, torch.from_numpy(t), reduction=_reduction(size_average),
                        ignore_index=1, weight=None if w is None else torch.from_numpy(w))
    assert_same(out, tout.reshape(1), **TOL[dtype])
    keep = t != 1
    expected_total = (w[t[keep]].astype(np.float64).sum() if weighted else keep.sum())
    np.testing.assert_allclose(total._a, [expected_total], rtol=1e-5)
    g = K.nll_loss_backward(0.7, E(x), L(t), total_weight=total, **kw)
    assert_same(g, tgrad, **TOL[dtype])
    g2 = K.nll_loss_backward(ember.from_numpy(np.array([0.7], dtype)), E(x), L(t), **kw)  # total recomputed
    assert_same(g2, tgrad, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_loss_one_sample_and_non_contiguous(dtype):
    torch, F = _torch()
    x = rng.randn(6).astype(dtype)
    out, total = K.nll_loss_forward(E(x), L([4]))
    assert_same(out, torch.from_numpy(-x[4:5]), **TOL[dtype])
    assert total._a[0] == 1
    g = K.nll_loss_backward(None, E(x), L([4]))
    np.testing.assert_array_equal(g._a, -(np.arange(6) == 4).astype(dtype))
    base = rng.randn(5, 9).astype(dtype)
    xt = base.T[::2]  # (5, 5) strided, transposed
    t = np.array([0, 4, 2, 2, 3])
    out, _ = K.nll_loss_forward(E(xt), L(t), size_average=False)
    tout, tgrad = _grad(torch, F.nll_loss, xt, 1.3, torch.from_numpy(t), reduction="sum")
    assert_same(out, tout.reshape(1), **TOL[dtype])
    assert_same(K.nll_loss_backward(1.3, E(xt), L(t), size_average=False), tgrad, **TOL[dtype])


def test_nll_loss_all_targets_ignored_follows_thnn():
    # 0.2 (THNN): nothing to divide by, so the output stays 0 and the gradient is zero (torch 2 gives NaN)
    x = rng.randn(3, 4).astype(np.float32)
    out, total = K.nll_loss_forward(E(x), L([2, 2, 2]), ignore_index=2)
    assert out._a[0] == 0 and total._a[0] == 0
    g = K.nll_loss_backward(1.0, E(x), L([2, 2, 2]), ignore_index=2, total_weight=total)
    np.testing.assert_array_equal(g._a, np.zeros((3, 4), np.float32))


def test_nll_loss_errors():
    x = E(rng.randn(3, 4).astype(np.float32))
    with pytest.raises(IndexError, match=r"nll_loss_forward\(\): target 4 is out of bounds: expected a class index "
                                         r"in \[0, 4\) \(C = 4\)"):
        K.nll_loss_forward(x, L([0, 4, 1]))
    with pytest.raises(IndexError, match=r"nll_loss_backward\(\): target -3 is out of bounds"):
        K.nll_loss_backward(1, x, L([0, -3, 1]))
    with pytest.raises(TypeError, match=r"nll_loss_forward\(\): expected target to be a torch.LongTensor, "
                                        r"got torch.IntTensor"):
        K.nll_loss_forward(x, ember.IntTensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"nll_loss_forward\(\): expected target of size \[3\] for input of size "
                                         r"\[3 x 4\], got \[3 x 1\]"):
        K.nll_loss_forward(x, L([[0], [1], [2]]))
    with pytest.raises(ValueError, match=r"weight should have 4 elements .* got size \[3\]"):
        K.nll_loss_forward(x, L([0, 1, 2]), weight=E(np.ones(3, np.float32)))
    with pytest.raises(TypeError, match=r"expected weight to be a torch.FloatTensor \(the input's type\), "
                                        r"got torch.DoubleTensor"):
        K.nll_loss_forward(x, L([0, 1, 2]), weight=E(np.ones(4)))
    with pytest.raises(ValueError, match=r"grad_output of a loss must have one element"):
        K.nll_loss_backward(E(np.ones(2, np.float32)), x, L([0, 1, 2]))


# ---------------------------------------------------------------------- fused cross entropy

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(6, 5), (1, 3), (300, 200)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("size_average", [True, False])
def test_cross_entropy_matches_torch(dtype, shape, weighted, size_average):
    torch, F = _torch()
    x = (rng.randn(*shape) * 3).astype(dtype)
    t = rng.randint(0, shape[1], shape[0])
    t[::3] = 0  # ignored
    w = rng.rand(shape[1]).astype(dtype) + 0.1 if weighted else None
    kw = dict(weight=None if w is None else E(w), size_average=size_average, ignore_index=0)
    out, total, logp = K.cross_entropy_forward(E(x), L(t), **kw)
    tout, tgrad = _grad(torch, F.cross_entropy, x, 0.6, torch.from_numpy(t), reduction=_reduction(size_average),
                        ignore_index=0, weight=None if w is None else torch.from_numpy(w))
    if not (t != 0).any() and size_average:
        # 0.2: nothing to average over leaves zeros (torch 2: NaN)
        tout, tgrad = torch.zeros((), dtype=tgrad.dtype), torch.zeros(shape, dtype=tgrad.dtype)
    assert_same(out, tout.reshape(1), **TOL[dtype])
    assert_same(logp, torch.log_softmax(torch.from_numpy(x), 1), **TOL[dtype])
    for tw in (total, None):
        g = K.cross_entropy_backward(0.6, logp, L(t), total_weight=tw, **kw)
        assert_same(g, tgrad, **TOL[dtype])


def test_cross_entropy_errors():
    with pytest.raises(ValueError, match=r"cross_entropy_forward\(\): expected a 2D input \(N x C\), got size "
                                         r"\[2 x 3 x 4\]"):
        K.cross_entropy_forward(E(np.ones((2, 3, 4), np.float32)), L([0, 1]))
    with pytest.raises(IndexError, match=r"cross_entropy_forward\(\): target 3 is out of bounds"):
        K.cross_entropy_forward(E(np.ones((2, 3), np.float32)), L([0, 3]))


# ---------------------------------------------------------------------- pointwise criteria

POINTWISE = [
    ("mse_loss", "mse_loss", lambda s: rng.randn(*s)),
    ("l1_loss", "l1_loss", lambda s: rng.randn(*s)),
    ("smooth_l1_loss", "smooth_l1_loss", lambda s: rng.randn(*s) * 2),
    ("soft_margin_loss", "soft_margin_loss", lambda s: np.sign(rng.randn(*s))),
    ("kl_div", "kl_div", lambda s: rng.rand(*s) * (rng.rand(*s) > 0.2)),  # some zero targets
    ("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits", lambda s: rng.rand(*s)),
    ("binary_cross_entropy", "binary_cross_entropy", lambda s: rng.rand(*s)),
]


def _pointwise_input(name, shape, dtype):
    if name == "binary_cross_entropy":
        return (rng.rand(*shape) * 0.9 + 0.05).astype(dtype)
    scale = 30 if name == "binary_cross_entropy_with_logits" else 2  # logits far from 0: the stable form
    return (rng.randn(*shape) * scale).astype(dtype)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,tname,target", POINTWISE)
@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 7), (50000,)])
@pytest.mark.parametrize("size_average", [True, False])
def test_pointwise_losses_match_torch(dtype, name, tname, target, shape, size_average):
    torch, F = _torch()
    x = _pointwise_input(name, shape, dtype)
    t = target(shape).astype(dtype)
    out = getattr(K, name + "_forward")(E(x), E(t), size_average=size_average)
    tout, tgrad = _grad(torch, getattr(F, tname), x, 1.7, torch.from_numpy(t), reduction=_reduction(size_average))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else TOL[dtype]
    if name == "binary_cross_entropy" and dtype == np.float64:
        tol = dict(rtol=1e-9, atol=1e-12)  # THNN's +1e-12 inside the logs moves the 11th digit
    assert_same(out, tout.reshape(1), **tol)
    g = getattr(K, name + "_backward")(1.7, E(x), E(t), size_average=size_average)
    assert_same(g, tgrad, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("wshape", [(4, 5), (5,), (4, 1), (20,)])
def test_bce_weights_match_torch(dtype, name, wshape):
    torch, F = _torch()
    x = _pointwise_input(name, (4, 5), dtype)
    t = rng.rand(4, 5).astype(dtype)
    w = (rng.rand(*wshape) + 0.2).astype(dtype)
    tw = torch.from_numpy(w.reshape(4, 5) if w.size == 20 else w)  # same element count: viewed as the input
    out = getattr(K, name + "_forward")(E(x), E(t), E(w))
    tout, tgrad = _grad(torch, getattr(F, name), x, 0.5, torch.from_numpy(t), weight=tw)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else TOL[dtype]
    assert_same(out, tout.reshape(1), **tol)
    assert_same(getattr(K, name + "_backward")(0.5, E(x), E(t), E(w)), tgrad, **tol)


def test_bce_uses_thnn_clamped_logs():
    # 0.2 adds 1e-12 inside the logs (torch 2 clamps the log at -100 instead): check THNN's formula
    x = np.array([0.0, 1.0, 0.3, 1.0, 0.0], np.float64)
    t = np.array([1.0, 0.0, 0.5, 1.0, 0.0], np.float64)
    eps = 1e-12
    per = -(np.log(x + eps) * t + np.log(1 - x + eps) * (1 - t))
    out = K.binary_cross_entropy_forward(E(x), E(t), size_average=False)
    np.testing.assert_allclose(out._a, [per.sum()], rtol=1e-12)
    g = K.binary_cross_entropy_backward(2.0, E(x), E(t))
    np.testing.assert_allclose(g._a, 2.0 / 5 * -(t - x) / ((1 - x + eps) * (x + eps)), rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss"])
def test_plain_pointwise_losses_follow_the_formulas_at_any_value(dtype, name):
    # their vectorised loops (ember._C.nn_loss): differences in double, edges of the lanes, |d| at 1,
    # infinities and NaN as the per-element formulas
    formula = {"mse_loss": (lambda d: d * d, lambda d: 2 * d),
               "l1_loss": (np.abs, lambda d: np.where(d >= 0, 1.0, -1.0)),
               "smooth_l1_loss": (lambda d: np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5),
                                  lambda d: np.clip(d, -1, 1))}[name]
    for n in (1, 7, 8, 9, 1000):
        x = (rng.randn(n) * 2).astype(dtype)
        t = (rng.randn(n) * 2).astype(dtype)
        x[:3] = [1.0, -1.0, 0.25][:min(3, n)]
        t[:3] = [0.0, 0.0, 0.25][:min(3, n)]
        d = x.astype(np.float64) - t
        out = getattr(K, name + "_forward")(E(x), E(t), size_average=False)
        np.testing.assert_allclose(out._a, [formula[0](d).sum()], rtol=1e-12 if dtype == np.float64 else 1e-6)
        g = getattr(K, name + "_backward")(1.0, E(x), E(t), size_average=False)
        np.testing.assert_array_equal(g._a, formula[1](d).astype(dtype))
    x = np.array([np.inf, 1.0, np.nan, 2.0, 0.0, 1.0, 3.0, -np.inf, 5.0], dtype)
    t = np.zeros(9, dtype)
    with np.errstate(invalid="ignore"):
        out = getattr(K, name + "_forward")(E(x[[0, 1, 3]]), E(t[:3]), size_average=False)
        assert np.isinf(out._a[0])
        assert np.isnan(getattr(K, name + "_forward")(E(x), E(t), size_average=False)._a[0])


def test_l1_gradient_at_zero_difference_is_plus_one():
    # THNN's AbsCriterion: (x - t) >= 0 ? norm : -norm (torch 2 uses sign, 0 at equality)
    x = np.array([1.0, 2.0, 3.0])
    g = K.l1_loss_backward(1.0, E(x), E(np.array([1.0, 3.0, 2.0])), size_average=False)
    np.testing.assert_array_equal(g._a, [1.0, -1.0, 1.0])


def test_kl_div_negative_target_contributes_nothing():
    x = np.array([-1.0, -2.0, -0.5])
    t = np.array([0.5, -0.25, 0.0])
    out = K.kl_div_forward(E(x), E(t), size_average=False)
    np.testing.assert_allclose(out._a, [0.5 * (np.log(0.5) + 1.0)], rtol=1e-12)
    np.testing.assert_array_equal(K.kl_div_backward(1.0, E(x), E(t), size_average=False)._a, [-0.5, 0, 0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x", [1e4, -1e4, 800.0, -800.0, 95.0])
def test_logit_losses_stay_finite(dtype, x):
    # exp(|x|) overflows here; the kernels use softplus(z) = max(z, 0) + log1p(exp(-|z|))
    xs = np.array([x, -x, 0.5], dtype)
    ts = np.array([1.0, 0.0, 1.0], dtype)
    xd = xs.astype(np.float64)
    for name in ("binary_cross_entropy_with_logits", "soft_margin_loss"):
        if name.startswith("binary"):
            t = ts
            per = np.logaddexp(0, xd) - xd * t
            grad = 0.5 * (1 + np.tanh(xd / 2)) - t
        else:
            t = ts * 2 - 1
            per = np.logaddexp(0, -t * xd)
            grad = -t * 0.5 * (1 + np.tanh(-t * xd / 2))
        out = getattr(K, name + "_forward")(E(xs), E(t))
        g = getattr(K, name + "_backward")(1.0, E(xs), E(t))
        assert np.isfinite(out._a).all() and np.isfinite(g._a).all()
        np.testing.assert_allclose(out._a, [per.mean()], rtol=1e-6 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(g._a, grad / 3, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-30)


def test_pointwise_non_contiguous_and_grad_output_forms():
    torch, F = _torch()
    base = rng.randn(6, 8)
    x = base.T[::2]  # (4, 6)
    t = rng.randn(6, 4).T
    go = ember.DoubleTensor([0.25])
    out = K.smooth_l1_loss_forward(E(x), E(t))
    tout, tgrad = _grad(torch, F.smooth_l1_loss, x, 0.25, torch.from_numpy(np.array(t)))
    assert_same(out, tout.reshape(1), rtol=1e-12, atol=1e-12)
    assert_same(K.smooth_l1_loss_backward(go, E(x), E(t)), tgrad, rtol=1e-12, atol=1e-12)
    assert_same(K.smooth_l1_loss_backward(None, E(x), E(t)), tgrad * 4, rtol=1e-12, atol=1e-12)


def test_pointwise_errors():
    x = E(rng.rand(2, 3).astype(np.float32))
    with pytest.raises(ValueError, match=r"mse_loss_forward\(\): input and target must have the same number of "
                                         r"elements, but input \[2 x 3\] has 6 and target \[5\] has 5"):
        K.mse_loss_forward(x, E(np.ones(5, np.float32)))
    with pytest.raises(TypeError, match=r"l1_loss_backward\(\): expected target to be a torch.FloatTensor"):
        K.l1_loss_backward(1, x, E(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_forward\(\): input values should be between 0 "
                                         r"and 1 \(probabilities\), but got 1.5"):
        K.binary_cross_entropy_forward(E(np.array([0.5, 1.5], np.float32)), E(np.ones(2, np.float32)))
    with pytest.raises(ValueError, match=r"but got nan"):
        K.binary_cross_entropy_forward(E(np.array([np.nan], np.float32)), E(np.ones(1, np.float32)))
    with pytest.raises(ValueError, match=r"weight of size \[4\] cannot be broadcast to the input's size \[2 x 3\]"):
        K.binary_cross_entropy_forward(x, x, E(np.ones(4, np.float32)))
    with pytest.raises(TypeError, match=r"grad_output must be a number or a one-element tensor, got str"):
        K.mse_loss_backward("1", x, x)


# ---------------------------------------------------------------------- margin criteria

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,margin", [(1, 1.0), (2, 0.5), (1, 2.5)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("shape", [(6, 5), (5,), (400, 60)])
def test_multi_margin_loss_matches_torch(dtype, p, margin, weighted, size_average, shape):
    torch, F = _torch()
    x = rng.randn(*shape).astype(dtype)
    C = shape[-1]
    t = rng.randint(0, C, shape[0] if len(shape) == 2 else 1)
    w = (rng.rand(C) + 0.3).astype(dtype) if weighted else None
    kw = dict(p=p, margin=margin, weight=None if w is None else E(w), size_average=size_average)
    out = K.multi_margin_loss_forward(E(x), L(t), **kw)
    tt = torch.from_numpy(t if len(shape) == 2 else t.reshape(()))
    tout, tgrad = _grad(torch, F.multi_margin_loss, x, 0.9, tt, p=p, margin=margin,
                        weight=None if w is None else torch.from_numpy(w), reduction=_reduction(size_average))
    assert_same(out, tout.reshape(1), **TOL[dtype])
    assert_same(K.multi_margin_loss_backward(0.9, E(x), L(t), **kw), tgrad, **TOL[dtype])


def test_multi_margin_errors():
    x = E(rng.randn(2, 3).astype(np.float32))
    with pytest.raises(ValueError, match=r"only p == 1 and p == 2 supported, got p = 3"):
        K.multi_margin_loss_forward(x, L([0, 1]), p=3)
    with pytest.raises(IndexError, match=r"multi_margin_loss_forward\(\): target 3 is out of range: expected a "
                                         r"class index in \[0, 3\)"):
        K.multi_margin_loss_forward(x, L([0, 3]))
    with pytest.raises(ValueError, match=r"expected target of size \[2\]"):
        K.multi_margin_loss_forward(x, L([0, 1, 2]))


def _multilabel_target(N, C):
    t = np.full((N, C), -1, np.int64)
    for n in range(N):
        k = rng.randint(0, C + 1)
        t[n, :k] = rng.permutation(C)[:k]
        if k < C - 1:
            t[n, k + 1:] = rng.randint(0, C, C - k - 1)  # entries after the -1 are ignored
    return t


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size_average", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (7,), (300, 40)])
def test_multilabel_margin_loss_matches_torch(dtype, size_average, shape):
    torch, F = _torch()
    x = rng.randn(*shape).astype(dtype)
    t = _multilabel_target(1 if len(shape) == 1 else shape[0], shape[-1]).reshape(shape)
    out = K.multilabel_margin_loss_forward(E(x), L(t), size_average=size_average)
    tout, tgrad = _grad(torch, F.multilabel_margin_loss, x, 1.1, torch.from_numpy(t),
                        reduction=_reduction(size_average))
    assert_same(out, tout.reshape(1), **TOL[dtype])
    assert_same(K.multilabel_margin_loss_backward(1.1, E(x), L(t), size_average=size_average), tgrad, **TOL[dtype])


def test_multilabel_margin_errors():
    x = E(rng.randn(2, 3).astype(np.float32))
    with pytest.raises(IndexError, match=r"multilabel_margin_loss_forward\(\): target 3 is out of range"):
        K.multilabel_margin_loss_forward(x, L([[0, 3, -1], [1, -1, 0]]))
    with pytest.raises(IndexError, match=r"target -2 is out of range"):
        K.multilabel_margin_loss_backward(1, x, L([[0, -2, -1], [1, -1, 0]]))
    with pytest.raises(ValueError, match=r"expected target of the input's size \[2 x 3\], got \[3\]"):
        K.multilabel_margin_loss_forward(x, L([0, 1, 2]))


# ---------------------------------------------------------------------- without torch: NumPy formulas and
# finite differences (what the core env, which has no torch, checks)

def _numgrad(f, x, h=1e-6):
    num = np.empty_like(x)
    for i in np.ndindex(*x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        num[i] = (f(xp) - f(xm)) / (2 * h)
    return num


def _loss_cases():
    x2 = rng.randn(5, 4)
    t2 = np.array([0, 3, 1, 1, 2])
    w4 = rng.rand(4) + 0.2
    x4 = rng.randn(2, 3, 2, 3)
    t4 = rng.randint(0, 3, (2, 2, 3))
    probs = rng.rand(3, 4) * 0.8 + 0.1
    y34 = rng.rand(3, 4)
    ml = np.array([[2, 0, -1, 1], [3, -1, 3, 3], [0, 1, 2, 3]])
    return [
        ("nll_loss", x2, (L(t2),), dict(weight=E(w4), ignore_index=1)),
        ("nll_loss", x4, (L(t4),), dict(size_average=False, ignore_index=0)),
        ("cross_entropy", x2, (L(t2),), dict(weight=E(w4))),
        ("mse_loss", rng.randn(3, 4), (E(y34),), {}),
        ("l1_loss", rng.randn(3, 4), (E(y34),), dict(size_average=False)),
        ("smooth_l1_loss", rng.randn(3, 4) * 2, (E(y34),), {}),
        ("soft_margin_loss", rng.randn(3, 4) * 3, (E(np.sign(rng.randn(3, 4))),), {}),
        ("kl_div", rng.randn(3, 4), (E(y34 * (y34 > 0.3)),), {}),
        ("binary_cross_entropy", probs, (E(y34), E(rng.rand(4) + 0.5)), {}),
        ("binary_cross_entropy_with_logits", rng.randn(3, 4) * 3, (E(y34), E(rng.rand(3, 4))), {}),
        ("multi_margin_loss", x2, (L(t2),), dict(p=2, margin=0.7, weight=E(w4))),
        ("multi_margin_loss", x2, (L(t2),), dict(p=1, size_average=False)),
        ("multilabel_margin_loss", rng.randn(3, 4), (L(ml),), {}),
    ]


@pytest.mark.parametrize("case", range(13))
def test_backward_matches_finite_differences(case):
    name, x, args, kw = _loss_cases()[case]
    fwd = getattr(K, name + "_forward")

    def f(xv):
        out = fwd(E(xv), *args, **kw)
        return float((out[0] if isinstance(out, tuple) else out)._a[0])
    if name == "cross_entropy":
        _, total, logp = fwd(E(x), *args, **kw)
        g = K.cross_entropy_backward(0.8, logp, *args, total_weight=total, **kw)
    else:
        g = getattr(K, name + "_backward")(0.8, E(x), *args, **kw)
    np.testing.assert_allclose(g._a, 0.8 * _numgrad(f, x), rtol=1e-5, atol=1e-7)


def test_forward_numpy_formulas():
    x = rng.randn(6, 5)
    t = np.array([0, 4, 2, 2, 1, 3])
    w = rng.rand(5) + 0.1
    out, total = K.nll_loss_forward(E(x), L(t), E(w), ignore_index=2)
    keep = t != 2
    ref = -(x[np.arange(6), t] * w[t])[keep].sum() / w[t][keep].sum()
    np.testing.assert_allclose(out._a, [ref], rtol=1e-12)
    np.testing.assert_allclose(total._a, [w[t][keep].sum()], rtol=1e-12)
    out, _, logp = K.cross_entropy_forward(E(x), L(t))
    lp = x - x.max(1, keepdims=True)
    lp -= np.log(np.exp(lp).sum(1, keepdims=True))
    np.testing.assert_allclose(logp._a, lp, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out._a, [-lp[np.arange(6), t].mean()], rtol=1e-12)
    # multi-margin, p = 2, weighted: sum over d != t of max(0, m - x[t] + x[d])^2 w[t] / C, mean over N
    z = np.maximum(0, 0.6 - x[np.arange(6), t][:, None] + x)
    z[np.arange(6), t] = 0
    ref = ((z ** 2).sum(1) * w[t]).sum() / 5 / 6
    np.testing.assert_allclose(K.multi_margin_loss_forward(E(x), L(t), 2, 0.6, E(w))._a, [ref], rtol=1e-12)
    # multilabel margin: labels before the first -1 against the other classes
    tl = np.array([[1, 3, -1, 0, 0], [4, -1, 1, 1, 1], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0], [2, 2, -1, 4, 4],
                   [3, 0, 1, -1, 2]])
    total = 0.0
    for n in range(6):
        labels = []
        for v in tl[n]:
            if v < 0:
                break
            labels.append(v)
        others = [d for d in range(5) if d not in labels]
        total += sum(max(0.0, 1 - x[n, j] + x[n, d]) for j in labels for d in others)
    np.testing.assert_allclose(K.multilabel_margin_loss_forward(E(x), L(tl))._a, [total / 5 / 6], rtol=1e-12)
    y = rng.randn(6, 5)
    d = x - y
    np.testing.assert_allclose(K.smooth_l1_loss_forward(E(x), E(y), size_average=False)._a,
                               [np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5).sum()], rtol=1e-12)
    np.testing.assert_allclose(K.mse_loss_forward(E(x), E(y))._a, [(d * d).mean()], rtol=1e-12)


# ---------------------------------------------------------------------- CUDA (ember.kernels.cuda.loss)

def _cuda(v):
    """``v`` moved to the GPU when it is a tensor (tuples and dicts of them too)."""
    if isinstance(v, tuple):
        return tuple(_cuda(e) for e in v)
    if isinstance(v, dict):
        return {k: _cuda(e) for k, e in v.items()}
    return v.cuda() if hasattr(v, "_typename") else v


def _as_type(v, dtype):
    """Float tensors (tuples and dicts of them too) cast to ``dtype``; index tensors stay."""
    if isinstance(v, tuple):
        return tuple(_as_type(e, dtype) for e in v)
    if isinstance(v, dict):
        return {k: _as_type(e, dtype) for k, e in v.items()}
    if hasattr(v, "_typename") and v._a.dtype.kind == "f":
        return ember.from_numpy(v._a.astype(dtype))
    return v


def _forward_backward(name, x, args, kw, go):
    """(loss, gradient) of a loss kernel; cross_entropy's backward runs on the log-probabilities."""
    out = getattr(K, name + "_forward")(x, *args, **kw)
    if name == "cross_entropy":
        loss, total, logp = out
        return loss, K.cross_entropy_backward(go, logp, *args, total_weight=total, **kw)
    loss = out[0] if isinstance(out, tuple) else out
    return loss, getattr(K, name + "_backward")(go, x, *args, **kw)


@pytest.mark.parametrize("case", range(13))
@pytest.mark.parametrize("dtype", DTYPES)
def test_cuda_matches_cpu(device_mode, case, dtype):
    name, x, args, kw = _loss_cases()[case]
    x, args, kw = E(x.astype(dtype)), _as_type(args, dtype), _as_type(kw, dtype)
    loss, g = _forward_backward(name, x, args, kw, 0.8)
    cx, cargs, ckw = _cuda((x, args, kw))
    for go in (0.8, ember.from_numpy(np.array([0.8], dtype)).cuda()):  # a CUDA grad_output stays on the device
        closs, cg = _forward_backward(name, cx, cargs, ckw, go)
        assert type(closs) is type(cg) is type(cx) and closs.size() == ember.Size([1])
        assert_same(closs, loss._a, **TOL[dtype])
        assert_same(cg, g._a, **TOL[dtype])


@pytest.mark.parametrize("shape", [(6,), (7, 5), (3, 4, 6), (2, 3, 4, 5), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("size_average", [True, False])
def test_cuda_nll_loss_options(device_mode, shape, weighted, size_average):
    C = shape[0] if len(shape) == 1 else shape[1]
    x = rng.randn(*shape)
    t = np.array([2]) if len(shape) == 1 else rng.randint(0, C, (shape[0],) + shape[2:])
    t.reshape(-1)[::3] = 1  # ignored
    kw = dict(weight=E(rng.rand(C) + 0.1) if weighted else None, size_average=size_average, ignore_index=1)
    out, total = K.nll_loss_forward(E(x), L(t), **kw)
    ckw = _cuda(kw)
    cout, ctotal = K.nll_loss_forward(E(x).cuda(), L(t).cuda(), **ckw)
    assert_same(cout, out._a, rtol=1e-12, atol=1e-14)
    assert_same(ctotal, total._a, rtol=1e-12, atol=1e-14)
    g = K.nll_loss_backward(1.3, E(x), L(t), total_weight=total, **kw)
    for tw in (ctotal, None, float(total._a[0])):  # the forward's total weight, recomputed, or a number
        assert_same(K.nll_loss_backward(1.3, E(x).cuda(), L(t).cuda(), total_weight=tw, **ckw), g._a,
                    rtol=1e-12, atol=1e-14)


def test_cuda_class_losses_non_contiguous_and_all_ignored(device_mode):
    x = rng.randn(5, 9).T[::2]  # (5, 5), strided and transposed
    t = np.array([0, 4, 2, 2, 3])
    for name in ("nll_loss", "cross_entropy"):
        loss, g = _forward_backward(name, E(x), (L(t),), {}, 0.6)
        closs, cg = _forward_backward(name, E(x).cuda().t().t(), (L(t).cuda(),), {}, 0.6)
        assert_same(closs, loss._a, rtol=1e-12, atol=1e-14)
        assert_same(cg, g._a, rtol=1e-12, atol=1e-14)
        # THNN: nothing to average over leaves a zero loss and gradient
        closs, cg = _forward_backward(name, E(x).cuda(), (L([2] * 5).cuda(),), dict(ignore_index=2), 0.6)
        assert closs.cpu().numpy()[0] == 0 and not cg.cpu().numpy().any()
    x[0, 0] = -np.inf  # an ignored target may point at it: it must not turn the loss into NaN
    out, _ = K.nll_loss_forward(E(x).cuda(), L([0, 1, 1, 1, 1]).cuda(), ignore_index=0)
    assert_same(out, [-x[1:, 1].mean()], rtol=1e-12)


def test_cuda_pointwise_broadcast_weight_and_non_contiguous(device_mode):
    x = rng.rand(6, 4).T  # (4, 6), non-contiguous
    t = rng.rand(4, 6)
    for w in (rng.rand(6) + 0.5, rng.rand(4, 1) + 0.5, rng.rand(24) + 0.5):
        for name in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
            loss, g = _forward_backward(name, E(x), (E(t), E(w)), {}, 1.5)
            closs, cg = _forward_backward(name, E(x).cuda().t().t(), (E(t).cuda(), E(w).cuda()), {}, 1.5)
            assert_same(closs, loss._a, rtol=1e-12, atol=1e-14)
            assert_same(cg, g._a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("x", [1e4, -1e4, 800.0, -800.0])
def test_cuda_logit_losses_stay_finite(device_mode, x):
    xs = ember.FloatTensor([x, -x, 0.5]).cuda()
    for name, t in (("binary_cross_entropy_with_logits", [1.0, 0.0, 1.0]), ("soft_margin_loss", [1.0, -1.0, 1.0])):
        t = ember.FloatTensor(t).cuda()
        loss, g = _forward_backward(name, xs, (t,), {}, 1.0)
        cpu_loss, cpu_g = _forward_backward(name, xs.cpu(), (t.cpu(),), {}, 1.0)
        assert np.isfinite(loss.cpu().numpy()).all() and np.isfinite(g.cpu().numpy()).all()
        assert_same(loss, cpu_loss._a, rtol=1e-6)
        assert_same(g, cpu_g._a, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("case", range(13))
def test_cuda_half_matches_float(device_mode, case):
    name, x, args, kw = _loss_cases()[case]
    x, args, kw = _cuda((E(x.astype(np.float32)), _as_type(args, np.float32), _as_type(kw, np.float32)))
    loss, g = _forward_backward(name, x, args, kw, 0.8)
    hloss, hg = _forward_backward(name, x.half(), _half(args), _half(kw), 0.8)
    assert type(hloss) is type(hg) is ember.cuda.HalfTensor
    np.testing.assert_allclose(hloss.float().cpu().numpy(), loss.cpu().numpy(), rtol=1e-2, atol=1e-3)
    np.testing.assert_allclose(hg.float().cpu().numpy(), g.cpu().numpy(), rtol=1e-2, atol=1e-3)


def _half(v):
    if isinstance(v, tuple):
        return tuple(_half(e) for e in v)
    if isinstance(v, dict):
        return {k: _half(e) for k, e in v.items()}
    return v.half() if type(v) is ember.cuda.FloatTensor else v


def test_cuda_errors(device_mode):
    x = ember.cuda.FloatTensor(3, 4).fill_(0.5)
    t = ember.cuda.LongTensor([0, 1, 2])
    with pytest.raises(TypeError, match=r"^nll_loss_forward\(\): expected target on GPU 0 \(where the input is\), "
                                        r"got torch.LongTensor$"):
        K.nll_loss_forward(x, ember.LongTensor([0, 1, 2]))
    with pytest.raises(TypeError, match=r"^cross_entropy_backward\(\): expected target on GPU 0"):
        K.cross_entropy_backward(1.0, x, ember.LongTensor([0, 1, 2]))
    with pytest.raises(TypeError, match=r"^multi_margin_loss_forward\(\): expected target on GPU 0"):
        K.multi_margin_loss_forward(x, ember.LongTensor([0, 1, 2]))
    with pytest.raises(TypeError, match=r"^mse_loss_forward\(\): expected target to be a torch.cuda.FloatTensor "
                                        r"\(the input's type\), got torch.FloatTensor$"):
        K.mse_loss_forward(x, ember.FloatTensor(3, 4))
    with pytest.raises(TypeError, match=r"^nll_loss_forward\(\): expected weight to be a torch.cuda.FloatTensor "
                                        r"\(the input's type\), got torch.FloatTensor$"):
        K.nll_loss_forward(x, t, weight=ember.FloatTensor(4).fill_(1))
    with pytest.raises(TypeError, match=r"^nll_loss_forward\(\): expected input to be a torch.cuda.FloatTensor, "
                                        r"torch.cuda.DoubleTensor or torch.cuda.HalfTensor, "
                                        r"got torch.cuda.LongTensor$"):
        K.nll_loss_forward(t, t)
    with pytest.raises(TypeError, match=r"^nll_loss_forward\(\): expected target on the CPU \(where the input is\), "
                                        r"got torch.cuda.LongTensor on GPU 0$"):
        K.nll_loss_forward(x.cpu(), t)
    # value checks: the CPU's texts
    with pytest.raises(IndexError, match=r"^nll_loss_forward\(\): target 4 is out of bounds: expected a class index "
                                         r"in \[0, 4\) \(C = 4\) or ignore_index \(-100\)$"):
        K.nll_loss_forward(x, ember.LongTensor([0, 4, 1]).cuda())
    with pytest.raises(IndexError, match=r"^nll_loss_backward\(\): target -3 is out of bounds"):
        K.nll_loss_backward(1.0, x, ember.LongTensor([0, -3, 1]).cuda())
    with pytest.raises(IndexError, match=r"^cross_entropy_forward\(\): target 7 is out of bounds"):
        K.cross_entropy_forward(x, ember.LongTensor([0, 7, 1]).cuda())
    with pytest.raises(IndexError, match=r"^cross_entropy_backward\(\): target -2 is out of bounds"):
        K.cross_entropy_backward(1.0, x, ember.LongTensor([0, -2, 1]).cuda())
    with pytest.raises(IndexError, match=r"^multi_margin_loss_forward\(\): target 4 is out of range: expected a "
                                         r"class index in \[0, 4\)$"):
        K.multi_margin_loss_forward(x, ember.LongTensor([0, 4, 1]).cuda())
    with pytest.raises(IndexError, match=r"^multi_margin_loss_backward\(\): target -1 is out of range"):
        K.multi_margin_loss_backward(1.0, x, ember.LongTensor([0, -1, 5]).cuda())
    with pytest.raises(IndexError, match=r"^multilabel_margin_loss_forward\(\): target -2 is out of range: expected "
                                         r"class indices in \[0, 4\) or -1 \(end of labels\)$"):
        K.multilabel_margin_loss_forward(x, ember.LongTensor([[0, -1, 0, 0], [-2, 1, 9, 0], [1, 2, 3, 0]]).cuda())
    with pytest.raises(ValueError, match=r"^binary_cross_entropy_forward\(\): input values should be between 0 and 1 "
                                         r"\(probabilities\), but got 1.5$"):
        K.binary_cross_entropy_forward(ember.FloatTensor([0.5, 1.5, -1]).cuda(), ember.FloatTensor(3).cuda())
    with pytest.raises(ValueError, match=r"but got nan"):
        K.binary_cross_entropy_forward(ember.FloatTensor([float("nan")]).cuda(), ember.FloatTensor(1).cuda())


def test_cuda_runs_on_the_device_of_its_input(fake_cuda):
    x = ember.from_numpy(rng.randn(4, 3)).cuda(1)  # the current device stays 0
    t = L([0, 2, 1, 1]).cuda(1)
    loss, total, logp = K.cross_entropy_forward(x, t)
    assert loss.get_device() == total.get_device() == logp.get_device() == 1
    assert K.cross_entropy_backward(ember.DoubleTensor([1.0]).cuda(1), logp, t).get_device() == 1
    for name, args in (("nll_loss", (t,)), ("multi_margin_loss", (t,)), ("mse_loss", (x.clone(),)),
                       ("multilabel_margin_loss", (L([[0, -1, 1]] * 4).cuda(1),))):
        loss, g = _forward_backward(name, x, args, {}, 1.0)
        cpu_loss, cpu_g = _forward_backward(name, x.cpu(), tuple(a.cpu() for a in args), {}, 1.0)
        assert loss.get_device() == g.get_device() == 1
        assert_same(loss, cpu_loss._a, rtol=1e-12)
        assert_same(g, cpu_g._a, rtol=1e-12)
    with pytest.raises(TypeError, match=r"^nll_loss_forward\(\): expected target on GPU 1 \(where the input is\), "
                                        r"got torch.cuda.LongTensor on GPU 0$"):
        K.nll_loss_forward(x, t.cuda(0))
    with pytest.raises(TypeError, match=r"^nll_loss_forward\(\): expected weight on GPU 1"):
        K.nll_loss_forward(x, t, weight=ember.DoubleTensor(3).fill_(1).cuda(0))
    with pytest.raises(TypeError, match=r"^mse_loss_backward\(\): expected grad_output on GPU 1"):
        K.mse_loss_backward(ember.DoubleTensor([1.0]).cuda(0), x, x)


@pytest.fixture
def host_reads(fake_cuda, monkeypatch):
    """Counts the fake's device-to-host reads (each one would make a real GPU's host wait)."""
    from ember.cuda import _fake
    reads = []

    def counting(name):
        original = getattr(_fake.ndarray, name)

        def read(self, *args, **kwargs):
            reads.append(name)
            return original(self, *args, **kwargs)
        return read
    for name in ("__bool__", "__int__", "__float__", "__index__", "get"):
        monkeypatch.setattr(_fake.ndarray, name, counting(name))
    return reads


@pytest.mark.parametrize("case", range(13))
def test_cuda_reads_back_only_the_value_checks(host_reads, case):
    name, x, args, kw = _loss_cases()[case]
    x, args, kw = _cuda((E(x), args, kw))
    go = ember.DoubleTensor([0.8]).cuda()
    out = getattr(K, name + "_forward")(x, *args, **kw)
    checked = name in ("nll_loss", "cross_entropy", "multi_margin_loss", "multilabel_margin_loss")
    assert len(host_reads) == (1 if checked or name == "binary_cross_entropy" else 0), host_reads
    del host_reads[:]
    if name == "cross_entropy":
        K.cross_entropy_backward(go, out[2], *args, total_weight=out[1], **kw)
    else:
        getattr(K, name + "_backward")(go, x, *args, **kw)
    assert len(host_reads) == (1 if checked else 0), host_reads


def test_cuda_class_losses_treat_zero_weights_and_ignored_targets_as_the_cpu(device_mode):
    # a target whose class weight is 0 still multiplies its input (-inf * 0: NaN, as THNN), an ignored one
    # is never read; the GPU kernels keep both rules, forward and backward
    x = rng.randn(3, 4, 2)
    x[0, 1, 0] = -np.inf  # target (0, 0) is class 1, weighted 0
    x[1, 2, 1] = -np.inf  # target (1, 1) is ignored
    t = L([[1, 3], [0, -100], [2, 2]])
    w = E(np.array([1.0, 0.0, 2.0, 0.5]))
    for size_average in (True, False):
        want = K.nll_loss_forward(E(x), t, weight=w, size_average=size_average)
        got = K.nll_loss_forward(E(x).cuda(), t.cuda(), weight=w.cuda(), size_average=size_average)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.cpu().numpy(), b.numpy(), rtol=1e-12)
        want = K.nll_loss_backward(0.5, E(x), t, weight=w, size_average=size_average, total_weight=want[1])
        got = K.nll_loss_backward(0.5, E(x).cuda(), t.cuda(), weight=w.cuda(), size_average=size_average,
                                  total_weight=got[1])
        np.testing.assert_array_equal(np.signbit(got.cpu().numpy()), np.signbit(want.numpy()))
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-12)
    x2 = x[:, :, 0].copy()
    x2[1, 0] = -np.inf
    t2 = L([1, -100, 2])
    want = K.cross_entropy_forward(E(x2), t2, weight=w)
    got = K.cross_entropy_forward(E(x2).cuda(), t2.cuda(), weight=w.cuda())
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.cpu().numpy(), b.numpy(), rtol=1e-12)
    want = K.cross_entropy_backward(0.5, want[2], t2, weight=w, total_weight=want[1])
    got = K.cross_entropy_backward(0.5, got[2], t2.cuda(), weight=w.cuda(), total_weight=got[1])
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-12)
