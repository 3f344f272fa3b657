"""The CUDA op harness: every case runs on CPU tensors and on their CUDA copies, and the CUDA results
(types, sizes, values, and the inputs that in-place ops change) must match the CPU ones.

It runs twice: on fake CUDA (``ember.cuda._fake``, NumPy behind CuPy's API and restrictions, every
machine) and on a real GPU (marked ``gpu``). The CPU results are themselves checked against PyTorch and
NumPy by the family tests, so matching them is the reference here."""
import numpy as np
import pytest

import ember

_KINDS = {"f": "FloatTensor", "d": "DoubleTensor", "h": "HalfTensor", "l": "LongTensor", "i": "IntTensor",
          "s": "ShortTensor", "c": "CharTensor", "b": "ByteTensor"}


class Dev(object):
    """What a case gets as its first argument: builds extra tensors on the case's side (CPU or CUDA)."""

    def __init__(self, cuda):
        self.cuda = cuda

    def cls(self, kind):
        cls = getattr(ember, _KINDS.get(kind, kind))
        return getattr(ember.cuda, cls.__name__) if self.cuda else cls

    def t(self, kind, values):
        t = getattr(ember, _KINDS[kind])(np.asarray(values, dtype=getattr(ember, _KINDS[kind])._dtype))
        return t.cuda() if self.cuda else t

    def long(self, values):
        return self.t("l", values)

    def byte(self, values):
        return self.t("b", values)


def _values(kind, shape, mods, rng):
    cls = getattr(ember, _KINDS[kind])
    if "u" in mods:
        v = rng.uniform(0.05, 0.95, shape)
    elif cls._is_floating:
        v = rng.standard_normal(shape) * 2
        if "+" in mods:
            v = np.abs(v) + 0.5
        if kind == "h":
            v = np.round(v * 8) / 8
    else:
        hi = 2 if kind == "b" and "m" in mods else 7
        lo = 1 if "+" in mods else (0 if kind == "b" or "m" in mods else -5)
        v = rng.integers(lo, hi, shape)
    return v.astype(cls._dtype)


def build(spec, rng, cuda):
    """``kind:shape[:mods]``: mods T (a transposed view), S (a strided view), + (positive), u (in (0, 1)),
    m (0/1 mask values)."""
    parts = spec.split(":")
    kind, shape = parts[0], tuple(int(s) for s in parts[1].split("x"))
    mods = parts[2] if len(parts) > 2 else ""
    v = _values(kind, shape, mods, rng)
    cls = getattr(ember, _KINDS[kind])
    if "T" in mods:
        base = cls(np.ascontiguousarray(np.swapaxes(v, 0, -1)))
        base = base.cuda() if cuda else base
        return base.transpose(0, len(shape) - 1)
    if "S" in mods:
        wide = np.zeros(shape[:-1] + (2 * shape[-1],), v.dtype)
        wide[..., ::2] = v
        base = cls(wide)
        base = base.cuda() if cuda else base
        return base[..., ::2] if len(shape) > 1 else base[::2]
    t = cls(v)
    return t.cuda() if cuda else t


CASES = []


def case(name, specs, fn, tol=None, random=False, marks=()):
    CASES.append(pytest.param(specs, fn, tol, random, id=name, marks=marks))


# ---------------------------------------------------------------- pointwise
for k in "fdlib":
    case("add_" + k, [k + ":3x4", k + ":3x4"], lambda d, x, y: x + y)
    case("add_scalar_" + k, [k + ":3x4:T"], lambda d, x: x.add(3))
    case("sub_bcast_" + k, [k + ":3x4", k + ":4"], lambda d, x, y: x - y)
    case("mul_inplace_" + k, [k + ":3x4:S", k + ":3x4"], lambda d, x, y: x.mul_(y))
case("add_value_other", ["f:3x4", "f:3x4"], lambda d, x, y: x.add(2, y))
case("add_out", ["f:2x5", "f:2x5"], lambda d, x, y: ember.add(x, y, out=d.cls("f")()))
case("div_float", ["f:3x4", "f:3x4:+"], lambda d, x, y: x / y)
case("div_int_trunc", ["l:3x4", "l:3x4:+"], lambda d, x, y: x / y)
case("div_int_scalar", ["i:3x4"], lambda d, x: x / 3)
case("fmod", ["f:3x4", "f:3x4:+"], lambda d, x, y: ember.fmod(x, y))
case("remainder_int", ["l:3x4"], lambda d, x: x.remainder(3))
case("remainder_float", ["d:3x4"], lambda d, x: x % 1.5)
case("pow_scalar", ["f:3x4:+"], lambda d, x: x.pow(2.5))
case("pow_tensor", ["d:3x4:+", "d:3x4"], lambda d, x, y: ember.pow(x, y))
case("rpow", ["f:3x4"], lambda d, x: 2 ** x)
case("neg_int", ["i:5"], lambda d, x: -x)
for fn_name in ["exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh",
                "sigmoid", "abs", "ceil", "floor", "round", "trunc", "frac", "sign", "reciprocal", "neg"]:
    case(fn_name, ["f:3x4:+T"], lambda d, x, n=fn_name: getattr(x, n)(), tol=1e-5)
    case(fn_name + "_", ["d:3x4:+S"], lambda d, x, n=fn_name: getattr(x, n + "_")(), tol=1e-12)
case("asin", ["f:3x4:u"], lambda d, x: x.asin(), tol=1e-5)
case("acos", ["d:3x4:u"], lambda d, x: ember.acos(x))
case("lgamma", ["d:3x4:+"], lambda d, x: x.lgamma())
case("atan2", ["f:3x4", "f:3x4"], lambda d, x, y: x.atan2(y), tol=1e-5)
case("abs_int", ["l:3x4"], lambda d, x: x.abs())
case("sign_int", ["i:3x4"], lambda d, x: x.sign())
case("clamp", ["f:3x4"], lambda d, x: x.clamp(-1, 1))
case("clamp_min_", ["l:3x4"], lambda d, x: x.clamp_(min=0))
case("lerp", ["f:3x4", "f:3x4"], lambda d, x, y: x.lerp(y, 0.3))
case("addcmul", ["f:3x4", "f:3x4", "f:3x4"], lambda d, x, y, z: x.addcmul(0.5, y, z))
case("addcdiv_", ["d:3x4", "d:3x4", "d:3x4:+"], lambda d, x, y, z: x.addcdiv_(2, y, z))
case("bitwise", ["l:3x4", "l:3x4"], lambda d, x, y: ((x & y) | (x ^ 3), x << 2, (x + 8) >> 1))
case("equal_numel_fallback", ["f:2x3", "f:3x2:T"], lambda d, x, y: (x + y, x.mul_(y)),
     marks=pytest.mark.filterwarnings("ignore:.*not broadcastable"))
case("half_add", ["h:3x4", "h:3x4"], lambda d, x, y: x + y, tol=1e-2)
case("fill_zero", ["f:3x4:T"], lambda d, x: (x.clone().fill_(2.5), x.zero_()))

# ---------------------------------------------------------------- comparisons
for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    case(op, ["f:3x4", "f:3x4"], lambda d, x, y, op=op: (getattr(x, op)(y), getattr(ember, op)(x, 0.5)))
case("cmp_int_bcast", ["i:3x4", "i:4"], lambda d, x, y: x > y)
case("cmp_operators", ["l:3x4", "l:3x4"], lambda d, x, y: (x == y, x != 2, x < y, x >= 1))
case("eq_out_", ["d:3x4", "d:3x4"], lambda d, x, y: (x.eq_(y), x))
case("equal", ["f:3x4", "f:3x4"], lambda d, x, y: (ember.equal(x, x.clone()), x.equal(y)))
case("max_min_elementwise", ["f:3x4", "f:3x4"], lambda d, x, y: (ember.max(x, y), ember.min(x, y)))

# ---------------------------------------------------------------- reductions
for k in "fdl":
    case("sum_all_" + k, [k + ":3x4:T"], lambda d, x: x.sum())
    case("sum_dim_" + k, [k + ":3x4x2"], lambda d, x: (x.sum(1), x.sum(-1, keepdim=True)))
    case("prod_" + k, [k + ":3x4"], lambda d, x: (x.prod(), x.prod(0)), tol=1e-4)
    case("max_dim_" + k, [k + ":3x5"], lambda d, x: (x.max(1), x.min(0), x.max(), x.min()))
case("mean_var_std", ["d:4x5:S"], lambda d, x: (x.mean(), x.mean(0), x.var(), x.var(1), x.std(1, unbiased=False),
                                               x.std()))
case("mean_float", ["f:4x5"], lambda d, x: (x.mean(1, keepdim=True), x.var(0)), tol=1e-5)
case("cumsum_cumprod", ["f:3x4", "l:3x4"], lambda d, x, y: (x.cumsum(1), x.cumprod(0), y.cumsum(0)), tol=1e-5)
case("norm", ["f:3x4"], lambda d, x: (x.norm(), x.norm(1), x.norm(3, 1), x.norm(0), x.norm(float("inf"), 0)),
     tol=1e-5)
case("dist", ["d:3x4", "d:3x4"], lambda d, x, y: (x.dist(y), ember.dist(x, y, 1)))
case("renorm", ["d:3x4"], lambda d, x: x.renorm(2, 0, 1.0))
case("median_mode_kth", ["l:3x7"], lambda d, x: (x.median(1), x.mode(1), x.kthvalue(2, 1), x.median()))
case("median_float", ["f:3x5"], lambda d, x: (x.median(0), x.kthvalue(3, 1)))
case("sort", ["f:3x5"], lambda d, x: (x.sort(1), x.sort(0, descending=True)))
case("topk", ["d:3x6"], lambda d, x: (x.topk(2), x.topk(3, 0, largest=False)))
case("trace", ["f:4x4", "l:3x5"], lambda d, x, y: (x.trace(), y.trace()))
case("sum_byte", ["b:6x4:m"], lambda d, x: (x.sum(), x.sum(0), x.float().sum()))

# ---------------------------------------------------------------- indexing
case("index_select", ["f:4x5:T"], lambda d, x: x.index_select(1, d.long([4, 0, 2, 0])))
case("index_add_", ["d:4x5", "d:3x5"], lambda d, x, s: x.index_add_(0, d.long([3, 0, 3]), s))
case("index_copy_", ["f:4x5", "f:4x2"], lambda d, x, s: x.index_copy_(1, d.long([4, 1]), s))
case("index_fill_", ["l:4x5"], lambda d, x: x.index_fill_(0, d.long([1, 3]), -7))
case("gather", ["f:3x4"], lambda d, x: x.gather(1, d.long([[0, 0], [3, 1], [2, 2]])))
case("scatter_", ["d:3x4", "d:2x4"], lambda d, x, s: x.scatter_(0, d.long([[2, 1, 0, 2], [0, 0, 1, 1]]), s))
case("scatter_value", ["i:3x4"], lambda d, x: x.scatter_(1, d.long([[3], [0], [1]]), 9))
case("scatter_add_", ["f:3x4", "f:3x4"], lambda d, x, s: x.scatter_add_(0, d.long([[0, 1, 2, 0]] * 3), s))
case("masked_fill_", ["f:3x4", "b:3x4:m"], lambda d, x, m: x.masked_fill_(m, -1.5))
case("masked_select", ["l:3x4", "b:3x4:m"], lambda d, x, m: x.masked_select(m))
case("masked_scatter_", ["d:3x4", "b:3x4:m", "d:12"], lambda d, x, m, s: x.masked_scatter_(m, s))
case("nonzero", ["l:4x5"], lambda d, x: x.nonzero())
case("take_put_", ["f:3x4", "f:3"], lambda d, x, s: (x.take(d.long([0, 11, 5])), x.put_(d.long([1, 7, 2]), s)))
case("diag_tril_triu", ["f:4x4", "f:4"], lambda d, x, v: (x.diag(), x.diag(1), v.diag(), x.tril(), x.triu(-1)))
case("getitem_basic", ["f:4x5x3"], lambda d, x: (x[1], x[1:3, ::2], x[..., 1], x[None, 2], x[-1, -1, -1]))
case("getitem_advanced", ["d:4x5"], lambda d, x: (x[d.long([3, 0, 3])], x[:, d.long([1, 4])],
                                                  x[x > 0], x[[0, 2], [1, 3]]))
case("setitem", ["f:4x5", "f:5"], lambda d, x, v: _setitems(d, x, v))


def _setitems(d, x, v):
    x[0] = 7
    x[1] = v
    x[2, 1:3] = -1
    x[d.long([3])] = 0.5
    x[x > 6] = 3
    return x


# ---------------------------------------------------------------- BLAS and LAPACK
case("mm", ["f:3x4", "f:4x5:T"], lambda d, x, y: (x.mm(y), ember.mm(x, y)), tol=1e-5)
case("mm_double", ["d:3x4:S", "d:4x2"], lambda d, x, y: x @ y)
case("bmm_baddbmm", ["f:2x3x4", "f:2x4x2", "f:2x3x2"],
     lambda d, x, y, z: (x.bmm(y), z.baddbmm(0.5, 2, x, y), ember.addbmm(z[0], x, y)), tol=1e-5)
case("mv_addmv_dot", ["d:3x4", "d:4", "d:3"], lambda d, m, v, w: (m.mv(v), w.addmv(m, v), v.dot(v)))
case("addmm_", ["f:3x5", "f:3x4", "f:4x5"], lambda d, c, a, b: c.addmm_(0.5, 2, a, b), tol=1e-5)
case("addr_ger", ["d:3x4", "d:3", "d:4"], lambda d, m, u, v: (m.addr(u, v), u.ger(v)))
case("matmul", ["f:2x3x4", "f:4"], lambda d, x, v: (x.matmul(v), ember.matmul(v, x.transpose(1, 2))), tol=1e-5)
case("mm_int", ["l:3x4", "l:4x2"], lambda d, x, y: x.mm(y))
case("inverse", ["d:4x4"], lambda d, x: (x + 4 * d.cls("d")(4).fill_(1).diag()).inverse(), tol=1e-10)
case("gesv", ["d:4x4", "d:4x2"], lambda d, a, b: ember.gesv(b, a + 6 * ember.eye(4).double().type(a.type())),
     tol=1e-10)



def _spd(d, a):
    """A symmetric positive definite matrix from ``a`` (same type and side)."""
    return a.mm(a.t()) + 4 * d.cls("d")(a.size(0)).fill_(1).diag().type(a.type())


# LAPACK runs on the host for CUDA tensors: results must equal the CPU's and come back on the device
case("gels", ["d:5x3", "d:5x2"], lambda d, a, b: ember.gels(b, a)[0], tol=1e-10)
case("trtrs", ["d:4x4", "d:4x2"], lambda d, a, b: ember.trtrs(b, _spd(d, a).triu()), tol=1e-10)
case("potrf_potrs_potri", ["d:4x4", "d:4x2"],
     lambda d, a, b: (_spd(d, a).potrf(), b.potrs(_spd(d, a).potrf()), _spd(d, a).potrf().potri()), tol=1e-10)
case("pstrf", ["d:4x4"], lambda d, a: _spd(d, a).pstrf(), tol=1e-10)
case("qr_geqrf_orgqr_ormqr", ["d:5x3", "d:5x2"],
     lambda d, a, b: (a.qr(), a.geqrf(), ember.orgqr(*a.geqrf()), ember.ormqr(*(a.geqrf() + (b,)))), tol=1e-10)
case("svd_eig_symeig", ["f:4x4"], lambda d, a: (a.svd(), a.eig(), _spd(d, a).symeig(eigenvectors=True)), tol=1e-4)
case("btrifact_btrisolve", ["d:2x3x3", "d:2x3"],
     lambda d, a, b: (a.btrifact(), b.btrisolve(*a.btrifact())), tol=1e-10)
case("histc_cross_renorm", ["f:4x3", "f:4x3"],
     lambda d, x, y: (x.histc(6, -2, 2), ember.cross(x, y), x.renorm(2, 0, 1.5), x.clone().renorm_(1, 1, 2)),
     tol=1e-5)
case("any_all", ["b:3x4:m"], lambda d, m: (m.any(), m.all()))
# ---------------------------------------------------------------- shape
case("cat_stack", ["f:2x3", "f:4x3:T"], lambda d, x, y: (ember.cat([x, y]), ember.stack([x, x], 1),
                                                       ember.cat((x, y), 0)))
case("split_chunk", ["d:5x4"], lambda d, x: (x.split(2), x.chunk(2, 1), ember.unbind(x, 1)))
case("views", ["f:2x3x4"], lambda d, x: (x.view(6, 4), x.view(-1), x.transpose(0, 2).contiguous(),
                                         x.permute(2, 0, 1).clone(), x.narrow(1, 1, 2), x.unsqueeze(1),
                                         x[:, :1].squeeze(), x.t_() if False else x.select(2, 1)))
case("expand_repeat", ["f:3x1"], lambda d, x: (x.expand(3, 4), x.expand(2, 3, 2).contiguous(), x.repeat(2, 3)))
case("unfold", ["d:3x7"], lambda d, x: x.unfold(1, 3, 2))
case("resize_set", ["f:3x4"], lambda d, x: (x.clone().resize_(2, 2), x.storage_offset(), list(x.stride()),
                                            d.cls("f")().set_(x)))
case("storage_views", ["l:3x4"], lambda d, x: (x.t().storage().tolist(), x[1].storage_offset(),
                                               x[:, 1].storage_offset(), x.unfold(1, 2, 2).storage_offset(),
                                               x[1].unfold(0, 2, 1).storage_offset(),
                                               x[2].view(2, 2).t().storage_offset(), x.t()[1:].storage().size()))
case("contiguous_types", ["f:3x4:T"], lambda d, x: (x.is_contiguous(), x.contiguous().is_contiguous(), x.double(),
                                                    x.long(), x.byte(), x.half(), x.int(), x.type_as(x.double())))
case("copy_cast_bcast", ["f:3x4", "l:4"], lambda d, x, y: (x.copy_(y), x.copy_(y.double().view(1, 4))))
case("tolist_items", ["l:2x3"], lambda d, x: (x.tolist(), x[1][2], int(x[0][1]), float(x.float()[1][1]),
                                              len(x), [r.sum() for r in x]))

# ---------------------------------------------------------------- factories (out= of the case's type)
case("factories", [], lambda d: (ember.zeros(2, 3, out=d.cls("f")()), ember.ones(4, out=d.cls("l")()),
                                 ember.arange(1, 7, 2, out=d.cls("d")()), ember.range(0, 3, out=d.cls("i")()),
                                 ember.linspace(0, 1, 5, out=d.cls("f")()), ember.eye(3, 2, out=d.cls("d")()),
                                 ember.logspace(0, 2, 3, out=d.cls("d")())))
case("like", ["f:2x3"], lambda d, x: (ember.zeros_like(x), ember.ones_like(x), x.new(2, 2).zero_(), x.new([1, 2])))

# ---------------------------------------------------------------- random (sizes and types only)
case("uniform_normal", ["f:30x4", "d:50"], lambda d, x, y: (x.uniform_(2, 3), y.normal_(1, 2)), random=True)
case("samplers", ["f:40", "d:40"], lambda d, x, y: (x.exponential_(), y.log_normal_(), x.clone().cauchy_(),
                                                  y.clone().geometric_(0.3), x.clone().bernoulli_(0.5)), random=True)
case("random_", ["l:30", "b:30"], lambda d, x, y: (x.random_(0, 10), y.random_(), x.clone().random_(5)), random=True)
case("multinomial", ["f:3x5:+"], lambda d, p: (p.multinomial(3), p.multinomial(7, True), ember.bernoulli(p / 9)),
     random=True)
case("rand_out", [], lambda d: (ember.rand(3, 4, out=d.cls("f")()), ember.randn(5, out=d.cls("d")()),
                                ember.randperm(6, out=d.cls("l")()), ember.normal(d.cls("f")(3).fill_(1), 2.0)),
     random=True)


def _flatten(r):
    if isinstance(r, (tuple, list)):
        out = []
        for e in r:
            out.extend(_flatten(e))
        return out
    return [r]


def _check_same(cpu, dev, tol, random, what):
    if isinstance(cpu, ember._TensorBase):
        assert isinstance(dev, ember._TensorBase) and dev.is_cuda, "{}: got {!r}".format(what, type(dev))
        assert dev.type() == cpu.type().replace("torch.", "torch.cuda."), what
        assert dev.size() == cpu.size(), what
        if random:
            v = dev.cpu().numpy()
            assert np.isfinite(v.astype(np.float64)).all() or not type(cpu)._is_floating, what
            return
        a, b = dev.cpu().numpy().astype(np.float64), cpu.numpy().astype(np.float64)
        if tol is None:
            tol = 1e-3 if cpu._dtype == np.float16 else 1e-6 if cpu._dtype == np.float32 else 1e-12
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
    elif isinstance(cpu, float) and not random:
        assert dev == pytest.approx(cpu, rel=tol or 1e-6, abs=tol or 1e-6, nan_ok=True), what
    elif not random:
        assert type(dev) is type(cpu) and dev == cpu, "{}: {!r} != {!r}".format(what, dev, cpu)


@pytest.mark.parametrize("specs, fn, tol, random", CASES)
def test_cuda_matches_cpu(device_mode, specs, fn, tol, random):
    cpu_in = [build(s, np.random.default_rng(i), False) for i, s in enumerate(specs)]
    dev_in = [build(s, np.random.default_rng(i), True) for i, s in enumerate(specs)]
    for t in dev_in:
        assert t.is_cuda
    cpu_out = _flatten(fn(Dev(False), *cpu_in))
    dev_out = _flatten(fn(Dev(True), *dev_in))
    assert len(cpu_out) == len(dev_out)
    for i, (c, g) in enumerate(zip(cpu_out, dev_out)):
        _check_same(c, g, tol, random, "result {}".format(i))
    for i, (c, g) in enumerate(zip(cpu_in, dev_in)):  # what in-place ops left in the inputs
        _check_same(c, g, tol, random, "input {}".format(i))
