"""Gradients of every differentiable op on Variables, in double precision:

- gradcheck (backward against central differences, by the plain and the graph-recording pass),
- gradgradcheck (double backward, i.e. the backward formulas are themselves differentiable),
- parity with PyTorch 2.13 (values and gradients on the same random inputs; skipped without torch).

Each case is ``f(lib, *inputs)`` written once for ember and torch (``lib`` is the module), with the
few spelling differences of the 0.2 API handled by ``E(lib)``. Inputs are described by ``Spec``:
shapes, value domains, and non-contiguous views (``t=True``: the transpose of a contiguous tensor).
"""
import numpy as np
import pytest

import ember
from ember.autograd import Variable, gradcheck
from ember.autograd.gradcheck import gradgradcheck

from _helpers.oracle import require_torch, to_numpy


class Spec(object):
    """An input: ``shape``; ``kind`` in {'any', 'pos' (> 0.5), 'unit' (-0.9..0.9), 'wellcond' (square, far from
    singular)}; ``t``: built as a transposed (non-contiguous) view; ``grad``: requires grad."""

    def __init__(self, *shape, kind="any", t=False, grad=True):
        self.shape, self.kind, self.t, self.grad = shape, kind, t, grad

    def array(self, rng):
        a = rng.randn(*self.shape)
        if self.kind == "pos":
            a = np.abs(a) + 0.5
        elif self.kind == "unit":
            a = np.tanh(a) * 0.9
        elif self.kind == "wellcond":
            a = a + 3 * np.eye(self.shape[0])
        elif self.kind == "zero":  # exact zeros: one in the first row, two in the last
            a.flat[1] = 0
            a.flat[-1] = a.flat[-2] = 0
        return a


S = Spec


def _is_ember(lib):
    return lib is ember


def long(lib, values):
    return ember.LongTensor(values) if _is_ember(lib) else lib.tensor(values, dtype=lib.int64)


def mask(lib, values):
    return ember.ByteTensor(values) if _is_ember(lib) else lib.tensor(values, dtype=lib.bool)


MASK = [[1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]]


def _setitem(lib, a, b):
    c = a * 1
    c[1, 1:3] = b
    c[0] = 2.0
    return c


def _blas(lib, name, m, a, b, beta=0.5, alpha=2.0):
    if _is_ember(lib):
        return getattr(m, name)(beta, alpha, a, b)
    return getattr(m, name)(a, b, beta=beta, alpha=alpha)


def _gesv(lib, b, a):
    return b.gesv(a)[0] if _is_ember(lib) else lib.linalg.solve(a, b)


def _resize(lib, a):
    return a.resize(4, 3) if _is_ember(lib) else a.reshape(4, 3)


# name: (f(lib, *inputs), [Spec...]) ; entries marked in NO_GRADGRAD skip the double-backward check
CASES = {
    # ---- arithmetic and broadcasting
    "add": (lambda L, a, b: a + b, [S(3, 4), S(3, 4, t=True)]),
    "add_broadcast": (lambda L, a, b: a + b, [S(3, 4), S(4)]),
    "add_scalar": (lambda L, a: 2.5 + a, [S(3, 4)]),
    "add_value_other": (lambda L, a, b: a.add(2, b) if _is_ember(L) else a.add(b, alpha=2), [S(3, 4), S(3, 1)]),
    "sub_broadcast": (lambda L, a, b: a - b, [S(3, 1), S(1, 4)]),
    "rsub": (lambda L, a: 2 - a, [S(3, 4)]),
    "mul": (lambda L, a, b: a * b, [S(3, 4, t=True), S(3, 4)]),
    "mul_broadcast": (lambda L, a, b: a * b, [S(2, 3, 4), S(3, 1)]),
    "mul_scalar": (lambda L, a: a * 3, [S(3, 4)]),
    "div": (lambda L, a, b: a / b, [S(3, 4), S(3, 4, kind="pos")]),
    "div_broadcast": (lambda L, a, b: a / b, [S(3, 4), S(4, kind="pos")]),
    "div_scalar": (lambda L, a: a / 4, [S(3, 4)]),
    "rdiv": (lambda L, a: 2 / a, [S(3, 4, kind="pos")]),
    "pow_scalar": (lambda L, a: a ** 3, [S(3, 4)]),
    "pow_fraction": (lambda L, a: a.pow(0.5), [S(3, 4, kind="pos")]),
    "pow_tensor": (lambda L, a, b: a ** b, [S(3, 4, kind="pos"), S(3, 4)]),
    "rpow": (lambda L, a: 2 ** a, [S(3, 4)]),
    "neg": (lambda L, a: -a, [S(3, 4, t=True)]),
    # ---- unary pointwise
    "exp": (lambda L, a: a.exp(), [S(3, 4, t=True)]),
    "log": (lambda L, a: a.log(), [S(3, 4, kind="pos")]),
    "log1p": (lambda L, a: a.log1p(), [S(3, 4, kind="pos")]),
    "tanh": (lambda L, a: a.tanh(), [S(3, 4)]),
    "sigmoid": (lambda L, a: a.sigmoid(), [S(3, 4)]),
    "sin": (lambda L, a: a.sin(), [S(3, 4)]),
    "cos": (lambda L, a: a.cos(), [S(3, 4)]),
    "tan": (lambda L, a: a.tan(), [S(3, 4, kind="unit")]),
    "asin": (lambda L, a: a.asin(), [S(3, 4, kind="unit")]),
    "acos": (lambda L, a: a.acos(), [S(3, 4, kind="unit")]),
    "atan": (lambda L, a: a.atan(), [S(3, 4)]),
    "sinh": (lambda L, a: a.sinh(), [S(3, 4)]),
    "cosh": (lambda L, a: a.cosh(), [S(3, 4)]),
    "abs": (lambda L, a: a.abs(), [S(3, 4)]),
    "sqrt": (lambda L, a: a.sqrt(), [S(3, 4, kind="pos")]),
    "rsqrt": (lambda L, a: a.rsqrt(), [S(3, 4, kind="pos")]),
    "reciprocal": (lambda L, a: a.reciprocal(), [S(3, 4, kind="pos")]),
    "lgamma": (lambda L, a: a.lgamma(), [S(3, 4, kind="pos")]),
    "floor": (lambda L, a: a.floor() + a, [S(3, 4)]),
    "ceil": (lambda L, a: a.ceil() * a, [S(3, 4)]),
    "round": (lambda L, a: a.round() + a, [S(3, 4)]),
    "trunc": (lambda L, a: a.trunc() + a, [S(3, 4)]),
    "sign": (lambda L, a: a.sign() * a, [S(3, 4)]),
    "frac": (lambda L, a: a.frac(), [S(3, 4)]),
    "clamp": (lambda L, a: a.clamp(-0.5, 0.5), [S(3, 4)]),
    "clamp_min": (lambda L, a: a.clamp(min=0), [S(3, 4, t=True)]),
    "clamp_max": (lambda L, a: a.clamp(max=0.3), [S(3, 4)]),
    "atan2": (lambda L, a, b: a.atan2(b), [S(3, 4), S(3, 4)]),
    "fmod_scalar": (lambda L, a: a.fmod(0.7), [S(3, 4)]),
    "fmod": (lambda L, a, b: a.fmod(b), [S(3, 4), S(3, 4, kind="pos")]),
    "remainder_scalar": (lambda L, a: a.remainder(0.7), [S(3, 4)]),
    "remainder": (lambda L, a, b: a.remainder(b), [S(3, 4), S(3, 4, kind="pos")]),
    "lerp": (lambda L, a, b: a.lerp(b, 0.3), [S(3, 4), S(3, 4)]),
    "addcmul": (lambda L, a, b, c: a.addcmul(0.5, b, c) if _is_ember(L) else a.addcmul(b, c, value=0.5),
                [S(3, 4), S(3, 4), S(4)]),
    "addcdiv": (lambda L, a, b, c: a.addcdiv(0.5, b, c) if _is_ember(L) else a.addcdiv(b, c, value=0.5),
                [S(3, 4), S(3, 4), S(3, 4, kind="pos")]),
    "max_elementwise": (lambda L, a, b: a.max(b), [S(3, 4), S(3, 4)]),
    "min_elementwise": (lambda L, a, b: a.min(b), [S(3, 4), S(3, 4)]),
    # ---- reductions
    "sum": (lambda L, a: a.sum(), [S(3, 4, t=True)]),
    "sum_dim": (lambda L, a: a.sum(1), [S(3, 4)]),
    "sum_keepdim": (lambda L, a: a.sum(-2, keepdim=True), [S(3, 4)]),
    "sum_1d": (lambda L, a: a.sum(0), [S(5)]),
    "mean": (lambda L, a: a.mean(), [S(3, 4)]),
    "mean_dim": (lambda L, a: a.mean(0), [S(3, 4, t=True)]),
    "prod": (lambda L, a: a.prod(), [S(3, 4)]),
    "prod_dim": (lambda L, a: a.prod(1), [S(3, 4)]),
    "prod_one_zero": (lambda L, a: a.narrow(0, 0, 2).prod(), [S(3, 4, kind="zero")]),
    "prod_zeros": (lambda L, a: a.prod(), [S(3, 4, kind="zero")]),
    "prod_dim_zeros": (lambda L, a: a.prod(1), [S(3, 4, kind="zero")]),
    "cumprod_zeros": (lambda L, a: a.cumprod(1), [S(3, 4, kind="zero")]),
    "max_all": (lambda L, a: a.max(), [S(3, 4)]),
    "max_dim": (lambda L, a: a.max(1)[0], [S(3, 4)]),
    "min_dim_keepdim": (lambda L, a: a.min(0, True)[0], [S(3, 4)]),
    "min_all": (lambda L, a: a.min(), [S(3, 4, t=True)]),
    "median_all": (lambda L, a: a.median(), [S(3, 5)]),
    "median_dim": (lambda L, a: a.median(1)[0], [S(3, 5)]),
    "mode_dim": (lambda L, a: a.mode(1)[0], [S(3, 5)]),
    "kthvalue": (lambda L, a: a.kthvalue(2, 1)[0], [S(3, 5)]),
    "sort": (lambda L, a: a.sort(1)[0], [S(3, 5)]),
    "sort_descending": (lambda L, a: a.sort(0, True)[0], [S(3, 5)]),
    "topk": (lambda L, a: a.topk(2, 1)[0], [S(3, 5)]),
    "cumsum": (lambda L, a: a.cumsum(1), [S(3, 5)]),
    "cumprod": (lambda L, a: a.cumprod(1), [S(3, 5)]),
    "var": (lambda L, a: a.var(), [S(3, 5)]),
    "var_dim": (lambda L, a: a.var(1), [S(3, 5)]),
    "std": (lambda L, a: a.std(), [S(3, 5)]),
    "std_dim_biased": (lambda L, a: a.std(0, False), [S(3, 5)]),
    "norm": (lambda L, a: a.norm(), [S(3, 5)]),
    "norm_1": (lambda L, a: a.norm(1), [S(3, 5)]),
    "norm_3_dim": (lambda L, a: a.norm(3, 1), [S(3, 5)]),
    "dist": (lambda L, a, b: a.dist(b), [S(3, 5), S(3, 5)]),
    "renorm": (lambda L, a: a.renorm(2, 0, 1.0), [S(3, 5)]),
    "trace": (lambda L, a: a.trace(), [S(3, 3)]),
    # ---- BLAS
    "mm": (lambda L, a, b: a.mm(b), [S(3, 4), S(4, 2)]),
    "mm_noncontiguous": (lambda L, a, b: a.mm(b), [S(3, 4, t=True), S(4, 2, t=True)]),
    "bmm": (lambda L, a, b: a.bmm(b), [S(2, 3, 4), S(2, 4, 2)]),
    "bmm_transposed": (lambda L, a, b: a.transpose(1, 2).bmm(b.transpose(1, 2)), [S(2, 4, 3), S(2, 2, 4)]),
    "mv": (lambda L, a, b: a.mv(b), [S(3, 4), S(4)]),
    "dot": (lambda L, a, b: a.dot(b), [S(4), S(4)]),
    "ger": (lambda L, a, b: a.ger(b) if _is_ember(L) else L.outer(a, b), [S(3), S(4)]),
    "addmm": (lambda L, m, a, b: _blas(L, "addmm", m, a, b), [S(3, 2), S(3, 4), S(4, 2)]),
    "addmm_transposed": (lambda L, m, a, b: _blas(L, "addmm", m, a.t(), b.t()), [S(3, 2), S(4, 3), S(2, 4)]),
    "addmm_broadcast": (lambda L, m, a, b: _blas(L, "addmm", m, a, b, 1, 1), [S(2), S(3, 4), S(4, 2)]),
    "addmv": (lambda L, m, a, b: _blas(L, "addmv", m, a, b), [S(3), S(3, 4), S(4)]),
    "addr": (lambda L, m, a, b: _blas(L, "addr", m, a, b), [S(3, 4), S(3), S(4)]),
    "addbmm": (lambda L, m, a, b: _blas(L, "addbmm", m, a, b), [S(3, 2), S(2, 3, 4), S(2, 4, 2)]),
    "baddbmm": (lambda L, m, a, b: _blas(L, "baddbmm", m, a, b), [S(2, 3, 2), S(2, 3, 4), S(2, 4, 2)]),
    "baddbmm_transposed": (lambda L, m, a, b: _blas(L, "baddbmm", m, a, b.transpose(1, 2)),
                           [S(2, 3, 2), S(2, 3, 4), S(2, 2, 4)]),
    "matmul_1d_1d": (lambda L, a, b: L.matmul(a, b), [S(4), S(4)]),
    "matmul_1d_2d": (lambda L, a, b: L.matmul(a, b), [S(4), S(4, 3)]),
    "matmul_3d_2d": (lambda L, a, b: a.matmul(b), [S(2, 3, 4), S(4, 2)]),
    "matmul_3d_1d": (lambda L, a, b: a.matmul(b), [S(2, 3, 4), S(4)]),
    "matmul_batched": (lambda L, a, b: L.matmul(a, b), [S(2, 1, 3, 4), S(3, 4, 2)]),
    "matmul_1d_3d": (lambda L, a, b: L.matmul(a, b), [S(4), S(2, 4, 3)]),
    "matmul_operator": (lambda L, a, b: a @ b, [S(3, 4), S(4, 2)]),
    # ---- views, indexing, joining
    "view": (lambda L, a: a.view(12), [S(3, 4)]),
    "view_as": (lambda L, a, b: a.view_as(b), [S(3, 4), S(2, 6, grad=False)]),
    "resize": (lambda L, a: _resize(L, a), [S(3, 4, t=True)]),
    "expand": (lambda L, a: a.expand(3, 4), [S(1, 4)]),
    "expand_new_dims": (lambda L, a: a.expand(2, 3, 4), [S(3, 1)]),
    "expand_as": (lambda L, a, b: a.expand_as(b), [S(4), S(3, 4, grad=False)]),
    "t": (lambda L, a: a.t() * 1, [S(3, 4)]),
    "transpose": (lambda L, a: a.transpose(0, 2), [S(2, 3, 4)]),
    "permute": (lambda L, a: a.permute(2, 0, 1), [S(2, 3, 4)]),
    "squeeze": (lambda L, a: a.squeeze(), [S(3, 1, 4)]),
    "squeeze_dim": (lambda L, a: a.squeeze(1), [S(3, 1, 4)]),
    "unsqueeze": (lambda L, a: a.unsqueeze(1), [S(3, 4)]),
    "narrow": (lambda L, a: a.narrow(1, 1, 2), [S(3, 4, t=True)]),
    "select": (lambda L, a: a.select(1, 2), [S(3, 4)]),
    "unfold": (lambda L, a: a.unfold(1, 2, 1), [S(3, 4)]),
    "unfold_step": (lambda L, a: a.unfold(0, 2, 2), [S(5, 2)]),
    "repeat": (lambda L, a: a.repeat(2, 1, 3), [S(3, 4)]),
    "getitem_slices": (lambda L, a: a[1:, ::2], [S(3, 4)]),
    "getitem_int": (lambda L, a: a[1], [S(3, 4, t=True)]),
    "getitem_none": (lambda L, a: a[None, 1:], [S(3, 4)]),
    "getitem_long": (lambda L, a: a[long(L, [0, 2, 0])], [S(3, 4)]),
    "getitem_mask": (lambda L, a: a[mask(L, MASK)], [S(3, 4)]),
    "setitem": (_setitem, [S(3, 4), S(2)]),
    "index_select": (lambda L, a: a.index_select(0, long(L, [0, 2, 2])), [S(3, 4, t=True)]),
    "index_add": (lambda L, a, b: a.index_add(0, long(L, [0, 2, 0]), b), [S(3, 4), S(3, 4)]),
    "index_copy": (lambda L, a, b: a.index_copy(0, long(L, [0, 2]), b), [S(3, 4), S(2, 4)]),
    "index_fill": (lambda L, a: a.index_fill(1, long(L, [0, 2]), 3.0), [S(3, 4)]),
    "gather": (lambda L, a: a.gather(1, long(L, [[0, 1], [2, 3], [1, 1]])), [S(3, 4)]),
    "scatter": (lambda L, a, b: a.scatter(1, long(L, [[0, 1], [2, 3], [1, 0]]), b), [S(3, 4), S(3, 2)]),
    "scatter_add": (lambda L, a, b: a.scatter_add(1, long(L, [[0, 1], [2, 3], [1, 1]]), b), [S(3, 4), S(3, 2)]),
    "masked_fill": (lambda L, a: a.masked_fill(mask(L, MASK), 2.0), [S(3, 4)]),
    "masked_scatter": (lambda L, a, b: a.masked_scatter(mask(L, MASK), b), [S(3, 4), S(8)]),
    "masked_select": (lambda L, a: a.masked_select(mask(L, MASK)), [S(3, 4, t=True)]),
    "cat": (lambda L, a, b: L.cat([a, b], 1), [S(3, 4), S(3, 2)]),
    "stack": (lambda L, a, b: L.stack([a, b], 1), [S(3, 4), S(3, 4)]),
    "split": (lambda L, a: a.split(2, 1)[1], [S(3, 4)]),
    "chunk": (lambda L, a: L.chunk(a, 2, 0)[1], [S(4, 3)]),
    "clone": (lambda L, a: a.clone(), [S(3, 4)]),
    "contiguous": (lambda L, a: a.contiguous() * 1, [S(3, 4, t=True)]),
    "diag_matrix": (lambda L, a: a.diag(), [S(3, 4)]),
    "diag_offset": (lambda L, a: a.diag(-1), [S(3, 4)]),
    "diag_vector": (lambda L, a: a.diag(1), [S(3)]),
    "tril": (lambda L, a: a.tril(), [S(3, 4)]),
    "triu": (lambda L, a: a.triu(1), [S(3, 4)]),
    "copy_": (lambda L, a, b: (a * 1).copy_(b), [S(3, 4, grad=False), S(3, 4)]),
    # ---- linear algebra
    "inverse": (lambda L, a: a.inverse(), [S(3, 3, kind="wellcond")]),
    "gesv": (lambda L, b, a: _gesv(L, b, a), [S(3, 2), S(3, 3, kind="wellcond")]),
    "cross": (lambda L, a, b: a.cross(b) if _is_ember(L) else L.cross(a, b, dim=1), [S(4, 3), S(4, 3)]),
    # ---- in-place forms
    "add_": (lambda L, a, b: (a * 1).add_(b), [S(3, 4), S(4)]),
    "sub_scalar_": (lambda L, a: (a * 1).sub_(2), [S(3, 4)]),
    "mul_scalar_": (lambda L, a: (a * 1).mul_(2), [S(3, 4)]),
    "div_scalar_": (lambda L, a: (a * 1).div_(2), [S(3, 4)]),
    "exp_": (lambda L, a: (a * 1).exp_(), [S(3, 4)]),
    "tanh_": (lambda L, a: (a * 1).tanh_(), [S(3, 4)]),
    "sigmoid_": (lambda L, a: (a * 1).sigmoid_(), [S(3, 4)]),
    "sin_": (lambda L, a: (a * 1).sin_(), [S(3, 4)]),
    "clamp_": (lambda L, a: (a * 1).clamp_(-0.5, 0.5), [S(3, 4)]),
    "neg_": (lambda L, a: (a * 1).neg_(), [S(3, 4)]),
    "masked_fill_": (lambda L, a: (a * 1).masked_fill_(mask(L, MASK), 0.5), [S(3, 4)]),
    "index_add_": (lambda L, a, b: (a * 1).index_add_(0, long(L, [0, 2, 0]), b), [S(3, 4), S(3, 4)]),
    "addmm_": (lambda L, m, a, b: _blas(L, "addmm_", m * 1, a, b), [S(3, 2), S(3, 4), S(4, 2)]),
    "zero_": (lambda L, a, b: (a * 1).zero_() + b, [S(3, 4, grad=False), S(3, 4)]),
}
# lgamma: digamma has no derivative here; prod/cumprod through exact zeros: the zero-safe first
# derivative is computed on tensors, so its own derivative is not recorded (both documented)
NO_GRADGRAD = {"lgamma", "prod_one_zero", "prod_zeros", "prod_dim_zeros", "cumprod_zeros"}
NO_TORCH = set()  # every case has a torch counterpart


def make_inputs(specs, seed):
    rng = np.random.RandomState(seed)
    arrays = [s.array(rng) for s in specs]
    return arrays


def ember_inputs(specs, arrays):
    out = []
    for s, a in zip(specs, arrays):
        if s.t:
            t = ember.from_numpy(np.ascontiguousarray(a.T)).t()  # a non-contiguous view with a's values
            assert not t.is_contiguous() or a.ndim < 2 or 1 in a.shape
        else:
            t = ember.from_numpy(a.copy())
        out.append(Variable(t, requires_grad=s.grad))
    return out


def _skip_missing(name):
    if name == "cross" and not hasattr(ember.DoubleTensor, "cross"):
        pytest.skip("Tensor.cross is not implemented yet")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    _skip_missing(name)
    f, specs = CASES[name]
    inputs = ember_inputs(specs, make_inputs(specs, 1))
    assert gradcheck(lambda *xs: f(ember, *xs), inputs, raise_exception=True)


@pytest.mark.parametrize("name", sorted(set(CASES) - NO_GRADGRAD))
def test_gradgradcheck(name):
    _skip_missing(name)
    f, specs = CASES[name]
    inputs = ember_inputs(specs, make_inputs(specs, 2))
    assert gradgradcheck(lambda *xs: f(ember, *xs), inputs, raise_exception=True)


@pytest.mark.parametrize("product", ["mm", "addmm", "bmm", "baddbmm"])
def test_product_gradient_keeps_the_layout_of_its_input(product):
    # Linear multiplies by weight.t(): the gradient reaching weight must be C-ordered again, or the
    # in-place accumulation into .grad runs strided
    rng = np.random.RandomState(5)
    batched = product in ("bmm", "baddbmm")
    lead = (2,) if batched else ()
    x = Variable(ember.from_numpy(rng.randn(*lead + (3, 4))), requires_grad=True)
    w = Variable(ember.from_numpy(rng.randn(*lead + (5, 4))), requires_grad=True)
    wt = w.transpose(-2, -1) if batched else w.t()
    seen = []
    for v in (x, w):
        v.register_hook(lambda g: seen.append((g.data.is_contiguous(), g.data.numpy().copy())))
    if product.startswith("add") or product.startswith("badd"):
        m = Variable(ember.from_numpy(rng.randn(*lead + (3, 5))))
        y = getattr(ember, product)(m, x, wt)
    else:
        y = getattr(x, product)(wt)
    g = rng.randn(*lead + (3, 5))
    y.backward(ember.from_numpy(g.copy()))
    (x_contiguous, gx), (w_contiguous, gw) = sorted(seen, key=lambda s: s[1].shape[-2])
    assert x_contiguous and w_contiguous
    np.testing.assert_allclose(gx, g @ w.data.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw, np.swapaxes(g, -2, -1) @ x.data.numpy(), rtol=1e-12)


@pytest.mark.parametrize("f, match", [
    (lambda x: x.lgamma(), "the derivative of digamma"),
    (lambda x: x.prod(), "the double backward of prod through exact zeros is not implemented"),
    (lambda x: x.cumprod(0), "the double backward of cumprod through exact zeros is not implemented")])
def test_unimplemented_double_backward_raises(f, match):
    x = Variable(ember.DoubleTensor([1.5, 0.0, 2.5]), requires_grad=True)
    gx, = ember.autograd.grad(f(x).sum(), x, create_graph=True)
    assert gx.requires_grad
    with pytest.raises(RuntimeError, match=match):
        gx.sum().backward()


@pytest.mark.parametrize("name", sorted(set(CASES) - NO_TORCH))
def test_parity_with_torch(name):
    torch = require_torch()
    _skip_missing(name)
    f, specs = CASES[name]
    arrays = make_inputs(specs, 3)
    ins = ember_inputs(specs, arrays)
    tins = [torch.from_numpy(a.copy()).requires_grad_(s.grad) for s, a in zip(specs, arrays)]
    out = f(ember, *ins)
    tout = f(torch, *tins)
    out_np = to_numpy(out.data)
    tout_np = tout.detach().numpy()
    if tout_np.ndim == 0:
        tout_np = tout_np.reshape(1)
    np.testing.assert_allclose(out_np, tout_np, rtol=1e-10, atol=1e-12)
    seed = np.random.RandomState(4).randn(*out_np.shape)
    out.backward(ember.from_numpy(seed.copy()))
    tout.backward(torch.from_numpy(seed.reshape(tout.shape)))
    for i, (v, t) in enumerate(zip(ins, tins)):
        if not v.requires_grad:
            continue
        assert v.grad is not None and t.grad is not None, "input {} got no gradient".format(i)
        np.testing.assert_allclose(to_numpy(v.grad.data), t.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg="gradient of input {}".format(i))
