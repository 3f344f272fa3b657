"""Reduction family: sum prod mean var std max min norm renorm dist cumsum cumprod sort topk kthvalue median
mode histc all any trace, checked against PyTorch (adapted per ORACLE.md: 0-dim results compare as numbers,
integer sums compare with torch's same-dtype accumulation) and NumPy formulas, for every applicable dtype,
negative dims, keepdim, out=, and contiguous, transposed and narrowed inputs. Inputs large enough to reach
the Cython kernels (and their threaded and SIMD paths) are checked against NumPy."""
import math
import warnings

import numpy as np
import pytest

import ember
from _helpers.oracle import assert_same, require_torch, to_torch

FLOAT = ["DoubleTensor", "FloatTensor", "HalfTensor"]
INT = ["LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor"]
ALL = FLOAT + INT
LAYOUTS = ["contig", "t", "narrow"]
TOL = {"DoubleTensor": 1e-10, "FloatTensor": 2e-5, "HalfTensor": 2e-2}


def tol(name):
    return TOL.get(name, 0)


def distinct(shape, name, seed=0):
    """Distinct values (no ties anywhere) that every type holds exactly enough: a shuffled range."""
    cls = getattr(ember, name)
    n = math.prod(shape)
    v = np.random.RandomState(seed).permutation(n)
    if name != "ByteTensor":
        v = v - n // 2
    if cls._is_floating:
        return (v * 0.25 + 0.1).astype(cls._dtype).reshape(shape)
    return v.astype(cls._dtype).reshape(shape)


def small_ints(shape, name, lo, hi, seed=0):
    return np.random.RandomState(seed).randint(lo, hi, size=shape).astype(getattr(ember, name)._dtype)


def make(arr, name, layout="contig"):
    """An ember tensor holding ``arr``'s values in the given memory layout."""
    cls = getattr(ember, name)
    if layout == "contig" or arr.ndim < 2:
        return cls(arr)
    if layout == "t":  # memory of the transpose, viewed back
        return cls(np.ascontiguousarray(arr.swapaxes(0, -1))).transpose(0, arr.ndim - 1)
    big = np.zeros(arr.shape[:-1] + (arr.shape[-1] + 3,), arr.dtype)
    big[..., 1:-2] = arr
    t = cls(big).narrow(arr.ndim - 1, 1, arr.shape[-1])
    assert not t.is_contiguous()
    return t


def torch_dtype(name):
    torch = require_torch()
    return {"DoubleTensor": torch.float64, "FloatTensor": torch.float32, "HalfTensor": torch.float16,
            "LongTensor": torch.int64, "IntTensor": torch.int32, "ShortTensor": torch.int16,
            "CharTensor": torch.int8, "ByteTensor": torch.uint8}[name]


def assert_pair(result, values, indices, rtol=0, atol=0):
    assert isinstance(result, tuple) and len(result) == 2
    assert_same(result[0], values, rtol=rtol, atol=atol)
    assert result[1].type() == "torch.LongTensor"
    assert_same(result[1], indices)


def assert_consistent_indices(x, d, result):
    """The indices of a (values, indices) result point at the values (for ops with unspecified tie choice)."""
    vals, idx = result
    a, i = x.numpy(), idx.numpy()
    v = vals.numpy()
    if i.ndim < a.ndim:
        i, v = np.expand_dims(i, d), np.expand_dims(v, d)
    np.testing.assert_array_equal(np.take_along_axis(a, i, d), v)


# ---------------------------------------------------------------- sum prod

@pytest.mark.parametrize("name", ALL)
def test_sum_all_elements_is_a_number(name):
    torch = require_torch()
    arr = distinct((4, 5, 6), name)
    x = make(arr, name, "t")
    r = x.sum()
    assert isinstance(r, float if name in FLOAT else int)
    expected = torch.sum(to_torch(x).double()).item()  # TH's accreal: double / int64, no wrapping
    assert math.isclose(r, expected, rel_tol=tol(name), abs_tol=tol(name))
    assert ember.sum(x) == r


def test_sum_of_bytes_wraps_over_a_dim_but_not_over_all():
    x = ember.ByteTensor([[200, 100], [255, 1]])
    assert x.sum() == 556  # accumulated as int64
    s = x.sum(1)
    assert s.type() == "torch.ByteTensor"
    assert s.tolist() == [(300) % 256, 0]
    assert ember.CharTensor([100, 100]).sum(0).tolist() == [-56]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sum_dim_matches_torch(name, layout):
    torch = require_torch()
    arr = distinct((4, 5, 6), name)
    x = make(arr, name, layout)
    tx = to_torch(x)
    for dim in (0, 1, 2, -1, -3):
        for keepdim in (False, True):
            r = x.sum(dim, keepdim=keepdim)
            # integer types keep their type and wrap, as torch's same-dtype accumulation does
            assert_same(r, torch.sum(tx, dim, keepdim=keepdim, dtype=tx.dtype), rtol=tol(name), atol=tol(name))
    assert_same(ember.sum(x, -2), torch.sum(tx, -2, dtype=tx.dtype), rtol=tol(name), atol=tol(name))


@pytest.mark.parametrize("name", ALL)
def test_prod_matches_torch(name):
    torch = require_torch()
    lo = 0 if name == "ByteTensor" else -2
    arr = small_ints((3, 4, 5), name, lo, 3)
    x = make(arr, name, "narrow")
    tx = to_torch(x)
    for dim in (0, -1, 1):
        assert_same(x.prod(dim), torch.prod(tx, dim, dtype=tx.dtype))
        assert_same(x.prod(dim, True), torch.prod(tx, dim, keepdim=True, dtype=tx.dtype))
    small = make(small_ints((3, 4), name, 1, 3), name)
    p = small.prod()
    assert isinstance(p, float if name in FLOAT else int)
    assert p == torch.prod(to_torch(small).double()).item()


def test_reducing_the_only_dim_keeps_size_one():
    x = ember.FloatTensor([1, 2, 3])
    for r in (x.sum(0), x.prod(0), x.mean(0), x.var(0), x.std(0), x.norm(2, 0), x.max(0)[0], x.min(0)[1],
              x.median(0)[0], x.mode(0)[0], x.kthvalue(1, 0)[0]):
        assert r.size() == ember.Size([1])
    assert x.sum(0, keepdim=True).size() == ember.Size([1])


# ---------------------------------------------------------------- mean var std

@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_mean_var_std_match_torch(name, layout):
    torch = require_torch()
    arr = np.random.RandomState(1).standard_normal((4, 5, 6)).astype(getattr(ember, name)._dtype)
    x = make(arr, name, layout)
    tx = to_torch(x)
    t = tol(name) * 5
    assert math.isclose(x.mean(), tx.double().mean().item(), rel_tol=t, abs_tol=t)
    for unbiased in (True, False):
        assert math.isclose(x.var(unbiased), tx.double().var(unbiased=unbiased).item(), rel_tol=t)
        assert math.isclose(x.std(unbiased=unbiased), tx.double().std(unbiased=unbiased).item(), rel_tol=t)
    for dim in (0, 2, -2):
        for keepdim in (False, True):
            assert_same(x.mean(dim, keepdim=keepdim), tx.mean(dim, keepdim=keepdim), rtol=t, atol=t)
            for unbiased in (True, False):
                assert_same(x.var(dim, unbiased, keepdim), tx.var(dim, unbiased=unbiased, keepdim=keepdim),
                            rtol=t, atol=t)
                assert_same(ember.std(x, dim, unbiased=unbiased, keepdim=keepdim),
                            tx.std(dim, unbiased=unbiased, keepdim=keepdim), rtol=t, atol=t)


def test_var_std_against_numpy_formula():
    a = np.random.RandomState(2).standard_normal((7, 9))
    x = ember.DoubleTensor(a)
    np.testing.assert_allclose(x.var(1).numpy(), a.var(1, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(x.std(0, False).numpy(), a.std(0), rtol=1e-12)
    assert math.isclose(x.std(), a.std(ddof=1), rel_tol=1e-12)
    # one element: the unbiased estimate divides by zero -> nan, the biased one is 0
    one = ember.DoubleTensor([[3.0], [4.0]])
    assert np.isnan(one.var(1).numpy()).all()
    assert one.var(1, False).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("op", ["mean", "var", "std", "norm", "histc"])
@pytest.mark.parametrize("name", INT)
def test_float_only_reductions_reject_integer_types(op, name):
    x = getattr(ember, name)([1, 2, 3])
    with pytest.raises(TypeError, match=r"{}\(\).*{}".format(op, name)):
        getattr(x, op)()
    with pytest.raises(TypeError, match=op):
        getattr(ember, op)(x)


# ---------------------------------------------------------------- max min

@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_max_min_dim_match_torch(name, layout):
    torch = require_torch()
    x = make(distinct((4, 5, 6), name, seed=3), name, layout)
    tx = to_torch(x)
    for dim in (0, 1, 2, -1):
        for keepdim in (False, True):
            tv, ti = torch.max(tx, dim, keepdim=keepdim)
            assert_pair(x.max(dim, keepdim=keepdim), tv, ti)
            tv, ti = torch.min(tx, dim, keepdim=keepdim)
            assert_pair(ember.min(x, dim, keepdim), tv, ti)
    assert x.max() == tx.max().item() and x.min() == tx.min().item()
    assert isinstance(x.max(), float if name in FLOAT else int)


@pytest.mark.parametrize("name", ["FloatTensor", "LongTensor", "ByteTensor"])
def test_max_min_elementwise_with_broadcasting(name):
    torch = require_torch()
    a = make(distinct((3, 4), name, seed=4), name, "t")
    b = make(distinct((4,), name, seed=5), name)
    assert_same(a.max(b), torch.maximum(to_torch(a), to_torch(b)))
    assert_same(ember.min(a, b), torch.minimum(to_torch(a), to_torch(b)))
    assert_same(ember.max(a, other=b), torch.maximum(to_torch(a), to_torch(b)))
    out = getattr(ember, name)()
    assert ember.max(a, b, out=out) is out
    assert_same(out, torch.maximum(to_torch(a), to_torch(b)))
    with pytest.raises(TypeError, match="max"):
        a.max(ember.DoubleTensor(4))


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor"])
def test_large_elementwise_max_min_are_numpys(name):
    # max(other) / min(other) above the size threshold: NumPy's maximum/minimum loops on every thread (NaN
    # propagates), broadcasting and out= included
    rng = np.random.RandomState(24)
    dt = getattr(ember, name)._dtype
    a, b = rng.standard_normal((400, 500)).astype(dt), rng.standard_normal((400, 500)).astype(dt)
    a[::7, ::3] = np.nan
    row = rng.standard_normal(500).astype(dt)
    x, y, r = getattr(ember, name)(a), getattr(ember, name)(b), getattr(ember, name)(row)
    np.testing.assert_array_equal(x.max(y).numpy(), np.maximum(a, b))
    np.testing.assert_array_equal(ember.min(x, y).numpy(), np.minimum(a, b))
    np.testing.assert_array_equal(x.max(r).numpy(), np.maximum(a, row))
    out = getattr(ember, name)()
    assert ember.max(x, y, out=out) is out
    np.testing.assert_array_equal(out.numpy(), np.maximum(a, b))


def test_max_min_ties_return_the_first_index():
    # TH's scan replaces only on a strictly better value, as NumPy's argmax/argmin document
    x = ember.FloatTensor([[1, 3, 3, 0, 3], [2, 2, 2, 2, 2]])
    assert x.max(1)[1].tolist() == [1, 0]
    assert x.min(1)[1].tolist() == [3, 0]
    y = ember.FloatTensor([[2, 1], [2, 1], [0, 1]])
    assert y.max(0)[1].tolist() == [0, 0]
    assert y.min(0)[1].tolist() == [2, 0]
    assert ember.LongTensor([5, 1, 1, 5]).min(0)[1].tolist() == [1]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape,dim", [((70, 600), 1), ((70, 600), 0), ((600, 70), -1), ((6, 900, 9), 1)])
def test_max_min_kernel_paths_with_ties_against_numpy(name, shape, dim):
    # large enough for the threaded kernel; few distinct values give many ties; rows >= 16 take the SIMD path
    arr = small_ints(shape, name, 0, 7, seed=6)
    for layout in ("contig", "t"):
        x = make(arr, name, layout)
        a = x.numpy()
        v, i = x.max(dim)
        np.testing.assert_array_equal(i.numpy(), a.argmax(dim))
        np.testing.assert_array_equal(v.numpy(), a.max(dim))
        v, i = x.min(dim, keepdim=True)
        np.testing.assert_array_equal(i.numpy(), np.expand_dims(a.argmin(dim), dim))
        np.testing.assert_array_equal(v.numpy(), a.min(dim, keepdims=True))


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor"])
@pytest.mark.parametrize("n", [5, 40, 2000])
def test_max_min_nan_is_the_extreme_and_the_first_nan_wins(name, n):
    # TH: a NaN beats every number and stops the scan; NumPy's argmax/argmin follow the same rule
    a = np.random.RandomState(7).standard_normal((3, n)).astype(getattr(ember, name)._dtype)
    a[0, n // 2] = np.nan
    a[0, n - 1] = np.nan
    a[2, 0] = np.nan
    for x in (make(a, name), make(a, name, "t")):
        for op in ("max", "min"):
            v, i = getattr(x, op)(1)
            np.testing.assert_array_equal(i.numpy(), getattr(a, "arg" + op)(1))
            np.testing.assert_array_equal(v.numpy(), getattr(a, op)(1))
        v, i = x.max(0)
        np.testing.assert_array_equal(i.numpy(), a.argmax(0))
    assert math.isnan(make(a, name).max())


# ---------------------------------------------------------------- large inputs: Cython sum kernel

@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor"])
@pytest.mark.parametrize("shape,dim", [((90, 1000), 1), ((90, 1000), 0), ((1000, 90), -1), ((5, 800, 11), 1),
                                       ((40000,), 0)])
def test_sum_mean_kernel_paths_against_numpy(name, shape, dim):
    a = np.random.RandomState(8).standard_normal(shape).astype(getattr(ember, name)._dtype)
    t = 1e-5 if name == "FloatTensor" else 1e-12
    for layout in ("contig", "t", "narrow"):
        x = make(a, name, layout)
        ref = x.numpy().astype(np.float64)
        r = x.sum(dim)
        assert r.type() == "torch." + name
        np.testing.assert_allclose(r.numpy(), ref.sum(dim).reshape(r.numpy().shape), rtol=t, atol=t * 10)
        np.testing.assert_allclose(x.mean(dim).numpy(), ref.mean(dim).reshape(r.numpy().shape), rtol=t,
                                   atol=t)
        # partials of 16 numbers in the input type, then double: the error is bounded by sum |x|, not |sum|
        assert abs(x.sum() - ref.sum()) <= t * 0.1 * np.abs(ref).sum()


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor"])
@pytest.mark.parametrize("shape,dim", [((90, 1000), 1), ((90, 1000), 0), ((5, 800, 11), 1), ((5, 800, 11), 2),
                                       ((40000,), 0)])
def test_prod_var_std_kernel_paths_against_numpy(name, shape, dim):
    # ember._C.reduce.accumulate_dim's PRODUCT and SQUARES-with-shift modes: products in double, and var as
    # the mean, then squared deviations from it, all in double; on every layout (the transposed ones reduce
    # in memory order, with the shift permuted to match)
    rng = np.random.RandomState(21)
    dtype = getattr(ember, name)._dtype
    near_one = (1 + 0.01 * rng.standard_normal(shape)).astype(dtype)  # products stay finite
    a = (3 + rng.standard_normal(shape)).astype(dtype)  # an offset mean: a one-pass formula would lose digits
    t = 1e-6 if name == "FloatTensor" else 1e-12
    for layout in ("contig", "t", "narrow"):
        x, y = make(near_one, name, layout), make(a, name, layout)
        w, v = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
        r = x.prod(dim)
        assert r.type() == "torch." + name
        np.testing.assert_allclose(r.numpy(), w.prod(dim).reshape(r.numpy().shape), rtol=t)
        assert math.isclose(x.prod(), w.prod(), rel_tol=1e-9)
        for unbiased in (True, False):
            ddof = int(unbiased)
            got = y.var(dim, unbiased)
            np.testing.assert_allclose(got.numpy(), v.var(dim, ddof=ddof).reshape(got.numpy().shape), rtol=t)
            got = y.std(dim, unbiased, keepdim=True)
            np.testing.assert_allclose(got.numpy(), v.std(dim, ddof=ddof, keepdims=True), rtol=t)
            assert math.isclose(y.var(unbiased), v.var(ddof=ddof), rel_tol=1e-11)
            assert math.isclose(y.std(unbiased), v.std(ddof=ddof), rel_tol=1e-11)


def test_large_prod_and_var_propagate_nan_inf_and_zero():
    a = np.full(50000, 1.0, np.float32)
    a[123] = 0
    a[40000] = np.inf
    assert math.isnan(ember.FloatTensor(a).prod())  # 0 * inf, as in sequential double products
    a[123] = 2
    assert ember.FloatTensor(a).prod() == math.inf
    a[40000] = np.nan
    x = ember.FloatTensor(a)
    assert math.isnan(x.prod()) and math.isnan(x.var()) and math.isnan(x.std())
    assert np.isnan(x.view(500, 100).var(0).numpy()).sum() == 1


# ---------------------------------------------------------------- norm renorm dist

@pytest.mark.parametrize("name", ["DoubleTensor", "FloatTensor"])
@pytest.mark.parametrize("p", [0, 1, 2, 3, 1.5, float("inf")])
def test_norm_matches_torch(name, p):
    torch = require_torch()
    arr = np.random.RandomState(9).standard_normal((4, 5, 6)).astype(getattr(ember, name)._dtype)
    arr[0, 0, :3] = 0
    x = make(arr, name, "t")
    tx = to_torch(x)
    t = tol(name) * 5
    assert math.isclose(x.norm(p), torch.linalg.vector_norm(tx.double(), p).item(), rel_tol=t)
    for dim in (0, -1):
        for keepdim in (False, True):
            assert_same(x.norm(p, dim, keepdim), torch.linalg.vector_norm(tx, p, dim, keepdim=keepdim),
                        rtol=t, atol=t)
    assert math.isclose(ember.norm(x), math.sqrt(float((arr.astype(np.float64) ** 2).sum())), rel_tol=t)


@pytest.mark.parametrize("name", ["DoubleTensor", "FloatTensor"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_large_2_norms_square_and_sum_in_double(name, layout):
    # above the kernel threshold (ember._C.reduce.sum_dim with square): TH's pow(fabs(x), 2) in double,
    # summed in double, along every dim and over everything
    torch = require_torch()
    arr = np.random.RandomState(20).standard_normal((30, 40, 50)).astype(getattr(ember, name)._dtype)
    x = make(arr, name, layout)
    wide = arr.astype(np.float64)
    for dim in (0, 1, 2):
        for keepdim in (False, True):
            got = x.norm(2, dim, keepdim)
            want = np.sqrt((wide * wide).sum(dim, keepdims=keepdim)).astype(arr.dtype)
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-15 if name == "DoubleTensor" else 1e-7)
            assert_same(got, torch.linalg.vector_norm(to_torch(x), 2, dim, keepdim=keepdim), rtol=tol(name),
                        atol=tol(name))
    assert math.isclose(x.norm(), math.sqrt(float((wide * wide).sum())), rel_tol=1e-14)


@pytest.mark.parametrize("name", ["DoubleTensor", "FloatTensor"])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_renorm_matches_torch(name, p):
    torch = require_torch()
    arr = np.random.RandomState(10).standard_normal((4, 5, 3)).astype(getattr(ember, name)._dtype)
    x = make(arr, name, "narrow")
    tx = to_torch(x)
    for dim in (0, 1, -1):
        assert_same(x.renorm(p, dim, 1.5), torch.renorm(tx, p, dim, 1.5), rtol=1e-5, atol=1e-6)
    out = getattr(ember, name)()
    assert ember.renorm(x, p, 0, 1.0, out=out) is out
    assert_same(out, torch.renorm(tx, p, 0, 1.0), rtol=1e-5, atol=1e-6)
    y = x.clone()
    assert y.renorm_(p, 2, 0.5) is y
    assert_same(y, torch.renorm(tx, p, 2, 0.5), rtol=1e-5, atol=1e-6)
    # sub-tensors within maxnorm are copied unchanged
    assert_same(x.renorm(p, 0, 1e6), tx)


@pytest.mark.parametrize("name", ["DoubleTensor", "FloatTensor"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_large_renorm_2_against_formula(name, layout):
    # above the kernel threshold: each slice's sum of squares in double, then TH's scaling by
    # maxnorm / (norm + 1e-7) in the tensor's type where the norm exceeds maxnorm
    arr = np.random.RandomState(22).standard_normal((30, 40, 50)).astype(getattr(ember, name)._dtype)
    x = make(arr, name, layout)
    wide = x.numpy().astype(np.float64)
    for dim in (0, 1, 2):
        axes = tuple(i for i in range(3) if i != dim)
        norms = np.sqrt((wide * wide).sum(axes, keepdims=True))
        maxnorm = float(np.median(norms))
        scale = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0).astype(arr.dtype)
        np.testing.assert_allclose(x.renorm(2, dim, maxnorm).numpy(), x.numpy() * scale,
                                   rtol=1e-14 if name == "DoubleTensor" else 1e-6)


def test_renorm_errors():
    with pytest.raises(RuntimeError, match="need at least 2 dimensions, got 1"):
        ember.FloatTensor([1, 2]).renorm(2, 0, 1)
    with pytest.raises(RuntimeError, match="non-positive-norm"):
        ember.FloatTensor(2, 2).fill_(1).renorm(0, 0, 1)


@pytest.mark.parametrize("p", [1, 2, 3.5, 0])
def test_dist_matches_torch_with_broadcasting(p):
    torch = require_torch()
    a = make(np.random.RandomState(11).standard_normal((3, 4)).astype(np.float32), "FloatTensor", "t")
    b = ember.FloatTensor(np.random.RandomState(12).standard_normal(4).astype(np.float32))
    d = a.dist(b, p)
    assert isinstance(d, float)
    assert math.isclose(d, torch.dist(to_torch(a), to_torch(b), p).item(), rel_tol=1e-5)
    assert math.isclose(ember.dist(a, a, p), 0.0, abs_tol=0)
    with pytest.raises(TypeError, match="dist"):
        a.dist(ember.DoubleTensor(4))


# ---------------------------------------------------------------- cumsum cumprod

@pytest.mark.parametrize("name", ALL)
def test_cumsum_cumprod_match_torch(name):
    torch = require_torch()
    x = make(small_ints((3, 4, 5), name, 0 if name == "ByteTensor" else -2, 3, seed=13), name, "t")
    tx = to_torch(x)
    for dim in (0, 1, -1):
        assert_same(x.cumsum(dim), torch.cumsum(tx, dim, dtype=tx.dtype), rtol=tol(name), atol=tol(name))
        assert_same(ember.cumprod(x, dim), torch.cumprod(tx, dim, dtype=tx.dtype), rtol=tol(name),
                    atol=tol(name))
    out = getattr(ember, name)()
    assert ember.cumsum(x, 1, out=out) is out
    assert_same(out, torch.cumsum(tx, 1, dtype=tx.dtype), rtol=tol(name), atol=tol(name))


@pytest.mark.parametrize("name", ["DoubleTensor", "FloatTensor"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_large_cumsum_cumprod_accumulate_in_double(name, layout):
    # above the kernel threshold (ember._C.reduce.cumulate): every dim, running totals in double as TH's
    # accreal, then rounded to the type once
    torch = require_torch()
    rng = np.random.RandomState(14)
    arr = rng.uniform(-1, 1, (24, 40, 70))
    x = make(arr.astype(getattr(ember, name)._dtype), name, layout)
    v = x.numpy() if x.is_contiguous() else x.contiguous().numpy()
    for dim in (0, 1, 2):
        for op in ("cumsum", "cumprod"):
            got = getattr(x, op)(dim)
            want = getattr(np, op)(v.astype(np.float64), axis=dim).astype(v.dtype)
            np.testing.assert_array_equal(got.numpy(), want)
            assert_same(got, getattr(torch, op)(to_torch(x), dim), rtol=1e-4 if name == "FloatTensor" else 1e-12,
                        atol=1e-5 if name == "FloatTensor" else 1e-12)
    out = getattr(ember, name)(3)
    assert ember.cumsum(x, 2, out=out) is out
    np.testing.assert_array_equal(out.numpy(), np.cumsum(v.astype(np.float64), axis=2).astype(v.dtype))


def test_cumsum_of_bytes_wraps():
    assert ember.ByteTensor([200, 100, 10]).cumsum(0).tolist() == [200, 44, 54]


# ---------------------------------------------------------------- sort topk kthvalue median mode

@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_sort_is_stable_and_matches_torch(name, layout):
    torch = require_torch()
    x = make(small_ints((4, 5, 6), name, 0, 4, seed=14), name, layout)  # many ties
    tx = to_torch(x)
    for dim in (0, 1, -1, None):
        for descending in (False, True):
            d = -1 if dim is None else dim
            tv, ti = torch.sort(tx, stable=True, dim=d, descending=descending)
            r = x.sort(descending=descending) if dim is None else ember.sort(x, dim, descending)
            assert_pair(r, tv, ti)


def test_sort_puts_nan_as_the_largest_value():
    torch = require_torch()
    a = np.array([3, np.nan, 1, 2, np.nan, 0], np.float32)
    x = ember.FloatTensor(a)
    for descending in (False, True):
        tv, ti = torch.sort(torch.from_numpy(a), stable=True, descending=descending)
        assert_pair(x.sort(0, descending), tv, ti)


def test_sort_out_and_empty():
    torch = require_torch()
    x = make(distinct((3, 5), "DoubleTensor"), "DoubleTensor", "t")
    v, i = ember.DoubleTensor(), ember.LongTensor()
    r = ember.sort(x, 1, True, out=(v, i))
    assert r[0] is v and r[1] is i
    assert_pair((v, i), *torch.sort(to_torch(x), 1, True))
    e = ember.FloatTensor().sort()
    assert e[0].numel() == 0 and e[1].type() == "torch.LongTensor"
    with pytest.raises(TypeError, match="out must be a tuple"):
        x.sort(out=v)


@pytest.mark.parametrize("name", ALL)
def test_topk_matches_torch(name):
    torch = require_torch()
    x = make(distinct((4, 5, 7), name, seed=15), name, "t")
    tx = to_torch(x)
    for dim in (None, 0, 1, -1):
        d = -1 if dim is None else dim
        for k in (1, 3, tx.shape[d]):
            for largest in (True, False):
                tv, ti = torch.topk(tx, k, d, largest=largest, sorted=True)
                r = x.topk(k, largest=largest) if dim is None else x.topk(k, dim, largest, True)
                assert_pair(r, tv, ti)
                # sorted=False: the same set of elements
                uv, ui = ember.topk(x, k, d, largest, False)
                np.testing.assert_array_equal(np.sort(uv.numpy(), d), np.sort(tv.numpy(), d))
                assert_consistent_indices(x, d, (uv, ui))


def _topk_reference(row, k, largest, sorted_):
    """topk of one row by its definition: greatest (smallest) first, NaN the greatest, equal values by index;
    the first k of that order, kept in it when sorted, else in index order."""
    def key(i):
        v = float(row[i])
        if v != v:
            return (0 if largest else 1, 0.0, i)
        return (1 if largest else 0, -v if largest else v, i)
    order = sorted(range(len(row)), key=key)[:k]
    if not sorted_:
        order.sort()
    return row[order], np.array(order, np.int64)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor"])
@pytest.mark.parametrize("case", ["random", "ties", "nan", "ascending", "descending"])
def test_large_topk_every_path(name, case):
    # rows long enough for ember._C.reduce.topk_rows' paths: the sorted buffer for small k (and its fall
    # back to selection on sorted rows), selection with three-way partitions, and k = n (a whole sort)
    cls = getattr(ember, name)
    rng = np.random.RandomState(17)
    n = 700
    if case == "ties":
        arr = rng.randint(0, 4, (6, n))
    elif case in ("ascending", "descending"):
        arr = np.sort(rng.randint(0, 200, (6, n)), 1)
        arr = arr if case == "ascending" else arr[:, ::-1]
    else:
        arr = rng.uniform(0, 100, (6, n))
    arr = arr.astype(cls._dtype)
    if case == "nan":
        if not cls._is_floating:
            pytest.skip("integers have no NaN")
        arr[rng.rand(6, n) < 0.05] = np.nan
    for layout in ("contig", "t"):
        x = make(arr, name, layout) if layout == "contig" else cls(np.ascontiguousarray(arr.T)).t()
        for k in (1, 5, 64, 87, 350, n):
            for largest in (True, False):
                for sorted_ in (True, False):
                    v, i = x.topk(k, 1, largest, sorted_)
                    for r in range(arr.shape[0]):
                        wv, wi = _topk_reference(arr[r], k, largest, sorted_)
                        np.testing.assert_array_equal(i.numpy()[r], wi)
                        np.testing.assert_array_equal(v.numpy()[r], wv)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor"])
def test_large_sort_matches_torch_stable_sort(name):
    torch = require_torch()
    rng = np.random.RandomState(18)
    arr = rng.randint(0, 50, (40, 30, 60)).astype(getattr(ember, name)._dtype)
    if name != "LongTensor":
        arr[rng.rand(*arr.shape) < 0.03] = np.nan
    for layout in LAYOUTS:
        x = make(arr, name, layout)
        for dim in (0, 1, 2):
            for descending in (False, True):
                tv, ti = torch.sort(torch.from_numpy(arr), stable=True, dim=dim, descending=descending)
                assert_pair(x.sort(dim, descending), tv, ti)


def test_topk_ties_and_errors():
    x = ember.FloatTensor([1, 3, 3, 2, 3])
    v, i = x.topk(2)
    assert v.tolist() == [3, 3] and len(set(i.tolist())) == 2 and set(i.tolist()) <= {1, 2, 4}
    assert x.topk(5)[1].tolist() == [1, 2, 4, 3, 0]  # all elements: a stable descending sort
    with pytest.raises(RuntimeError, match="k out of range"):
        x.topk(6)
    with pytest.raises(RuntimeError, match="k out of range"):
        x.topk(-1)
    e = x.topk(0)
    assert e[0].numel() == 0 and e[1].numel() == 0


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_kthvalue_matches_torch(name, layout):
    torch = require_torch()
    x = make(distinct((4, 5, 6), name, seed=16), name, layout)
    tx = to_torch(x)
    for dim in (0, -1, 1):
        for k in (1, 3):
            for keepdim in (False, True):
                assert_pair(x.kthvalue(k, dim, keepdim), *torch.kthvalue(tx, k, dim, keepdim))
    assert_pair(ember.kthvalue(x, 2), *torch.kthvalue(tx, 2))  # dim defaults to the last
    assert_pair(x.kthvalue(2, True), *torch.kthvalue(tx, 2, -1, True))  # 0.2's (k, keepdim) overload
    with pytest.raises(RuntimeError, match="k out of range"):
        x.kthvalue(7)
    with pytest.raises(RuntimeError, match="k out of range"):
        x.kthvalue(0, 0)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "ByteTensor"])
def test_large_kthvalue_and_median_against_numpy(name):
    # ember._C.reduce.kth_rows on every thread: a quickselect per row; the value is NumPy's sorted one
    # (NaN the greatest), the index the first where the value occurs
    arr = small_ints((60, 300, 7), name, 0, 50, seed=23)  # many ties
    if name in FLOAT:
        arr = arr.astype(getattr(ember, name)._dtype)
        arr[3, 5:40, 2] = np.nan
    for layout in ("contig", "t"):
        x = make(arr, name, layout)
        a = x.numpy()
        for dim in (0, 1, 2):
            n = a.shape[dim]
            for k in (1, n // 3, (n + 1) // 2, n):
                vals, idx = x.kthvalue(k, dim)
                want = np.take(np.sort(a, axis=dim), k - 1, axis=dim)
                np.testing.assert_array_equal(vals.numpy(), want)
                hit = (a == np.expand_dims(want, dim)) | (np.isnan(a) & np.isnan(np.expand_dims(want, dim))
                                                           if name in FLOAT else False)
                np.testing.assert_array_equal(idx.numpy(), hit.argmax(dim))
            vals, idx = x.median(dim)
            np.testing.assert_array_equal(vals.numpy(), np.take(np.sort(a, axis=dim), (n - 1) // 2, axis=dim))


def test_kthvalue_with_ties_points_at_the_value():
    x = ember.LongTensor([[3, 1, 1, 1, 2], [0, 0, 5, 5, 5]])
    r = x.kthvalue(2, 1)
    assert r[0].tolist() == [1, 0]
    assert_consistent_indices(x, 1, r)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_median_matches_torch(name, layout):
    torch = require_torch()
    x = make(distinct((4, 5, 6), name, seed=17), name, layout)  # even sizes: the lower median
    tx = to_torch(x)
    m = x.median()
    assert m == torch.median(tx).item() and isinstance(m, float if name in FLOAT else int)
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            assert_pair(x.median(dim, keepdim), *torch.median(tx, dim, keepdim))
    assert_pair(ember.median(x, True), *torch.median(tx, -1, True))  # 0.2's (keepdim) overload
    v, i = getattr(ember, name)(), ember.LongTensor()
    r = x.median(0, values=v, indices=i)
    assert r[0] is v and r[1] is i
    assert_pair(r, *torch.median(tx, 0))
    r = x.median(1, out=(v, i))
    assert r[0] is v
    assert_pair(r, *torch.median(tx, 1))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_mode_matches_torch(name, layout):
    # most frequent value, ties -> the smallest value; index: the last occurrence (as torch's CPU mode)
    torch = require_torch()
    x = make(small_ints((4, 5, 9), name, 0, 4, seed=18), name, layout)
    tx = to_torch(x)
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            assert_pair(x.mode(dim, keepdim), *torch.mode(tx, dim, keepdim))
    assert_pair(ember.mode(x), *torch.mode(tx))
    v = getattr(ember, name)()
    r = x.mode(1, values=v)
    assert r[0] is v
    assert_pair(r, *torch.mode(tx, 1))


def test_mode_documented_choices_and_large_input():
    x = ember.FloatTensor([[1, 3, 3, 0, 3, 1, 1], [2, 2, 1, 1, 5, 5, 9]])
    v, i = x.mode(1)
    assert v.tolist() == [1, 1] and i.tolist() == [6, 3]
    # the threaded kernel path, checked against a NumPy count
    a = np.random.RandomState(19).randint(0, 50, size=(300, 200)).astype(np.int32)
    v, i = ember.IntTensor(a).mode(1)
    for r in range(0, 300, 37):
        counts = np.bincount(a[r])
        assert v[r] == counts.argmax()
        assert i[r] == np.nonzero(a[r] == counts.argmax())[0][-1]


# ---------------------------------------------------------------- histc trace all any

def th_histc(a, bins, lo, hi):
    """TH's histc formula, in the array's precision (float32 for half, which ember computes in float32)."""
    out_dtype = a.dtype
    a = a.astype(np.float32) if a.dtype == np.float16 else a
    real = a.dtype.type
    lo, hi = real(lo), real(hi)
    if lo == hi:
        lo, hi = a.min(), a.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    h = np.zeros(bins, out_dtype)
    for v in a.reshape(-1):
        if lo <= v <= hi:
            h[min(int((v - lo) / (hi - lo) * real(bins)), bins - 1)] += 1
    return h


@pytest.mark.parametrize("name", FLOAT)
def test_histc_matches_th_formula_and_torch(name):
    torch = require_torch()
    a = np.random.RandomState(20).uniform(-3, 3, size=(20, 30)).astype(getattr(ember, name)._dtype)
    x = make(a, name, "t")
    for bins, lo, hi in ((10, -2, 2), (7, 0, 0), (100, -3, 3), (3, 5, 6)):
        h = x.histc(bins, lo, hi)
        assert h.type() == "torch." + name and h.size() == (bins,)
        np.testing.assert_array_equal(h.numpy(), th_histc(x.numpy(), bins, lo, hi))
        inside = a.size if lo == hi else ((x.numpy() >= lo) & (x.numpy() <= hi)).sum()
        assert h.numpy().sum() == inside
    if name != "HalfTensor":
        assert_same(ember.histc(x, 8, -2.5, 2.5), torch.histc(to_torch(x), 8, -2.5, 2.5))
    assert x.histc().size() == (100,)
    # all elements equal: the range becomes [v - 1, v + 1]
    assert ember.FloatTensor([2, 2, 2]).histc(4).tolist() == [0, 0, 3, 0]
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        x.histc(0)


@pytest.mark.parametrize("name", ALL)
def test_trace_matches_torch(name):
    torch = require_torch()
    x = make(distinct((5, 4), name, seed=21), name, "t")
    r = x.trace()
    assert isinstance(r, float if name in FLOAT else int)
    assert math.isclose(r, torch.trace(to_torch(x).double()).item(), rel_tol=1e-6)
    with pytest.raises(RuntimeError, match="expected a matrix"):
        ember.trace(getattr(ember, name)(2, 2, 2))


def test_all_any():
    b = ember.ByteTensor([[1, 2], [3, 0]])
    assert b.all() is False and b.any() is True
    assert b[0].all() is True and ember.ByteTensor([0, 0]).any() is False
    assert ember.ByteTensor().all() is True and ember.ByteTensor().any() is False
    assert b.t().narrow(0, 0, 1).all() is True
    assert (ember.FloatTensor([1, 2]) > 0).all() is True
    with pytest.raises(TypeError, match=r"all\(\).*ByteTensor.*torch.FloatTensor"):
        ember.FloatTensor([1]).all()
    with pytest.raises(TypeError, match="any"):
        ember.LongTensor([1]).any()


# ---------------------------------------------------------------- keepdim warning, out=, errors

def test_keepdim_backcompat_warning():
    x = ember.FloatTensor(2, 3).fill_(1)
    w = ember.utils.backcompat.keepdim_warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.sum(1)  # disabled by default
    w.enabled = True
    try:
        with pytest.warns(UserWarning, match=r'call to "sum" uses default value for keepdim'):
            x.sum(1)
        with pytest.warns(UserWarning, match=r'"max".*changed default to False') as rec:
            ember.max(x, 0)
        assert rec[0].filename == __file__  # points at the caller
        with pytest.warns(UserWarning, match=r'"std"') as rec:
            x.std(1)
        assert rec[0].filename == __file__
        with pytest.warns(UserWarning, match=r'"median"') as rec:
            ember.median(x, 1)
        assert rec[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            x.sum(1, keepdim=False)
            ember.FloatTensor([1, 2]).sum(0)  # 1-D: keepdim makes no difference
            x.sum()
    finally:
        w.enabled = False


@pytest.mark.parametrize("op", ["sum", "prod", "mean", "var", "std", "norm"])
def test_dim_reductions_write_out(op):
    torch = require_torch()
    x = make(distinct((3, 4), "FloatTensor", seed=22), "FloatTensor", "t")
    out = ember.FloatTensor(7)  # resized
    args = (2, 1) if op == "norm" else (1,)
    r = getattr(ember, op)(x, *args, out=out)
    assert r is out
    expected = getattr(torch, op)(to_torch(x), *args)
    assert_same(out, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="out"):
        getattr(ember, op)(x, *args, out=ember.DoubleTensor())
    with pytest.raises(TypeError, match="need a dim"):
        getattr(ember, op)(x, out=out)


def test_max_out_pair():
    torch = require_torch()
    x = make(distinct((3, 4), "LongTensor", seed=23), "LongTensor", "narrow")
    v, i = ember.LongTensor(), ember.LongTensor(9)
    r = ember.max(x, 1, out=(v, i))
    assert r[0] is v and r[1] is i
    assert_pair(r, *torch.max(to_torch(x), 1))
    r = ember.min(x, 0, True, out=(v, i))
    assert_pair(r, *torch.min(to_torch(x), 0, True))
    with pytest.raises(TypeError, match="LongTensor"):
        x.max(1, out=(v, ember.IntTensor()))


def test_reduction_errors():
    x = ember.FloatTensor(2, 3).fill_(1)
    e = ember.FloatTensor()
    with pytest.raises(IndexError, match="dimension out of range"):
        x.sum(2)
    with pytest.raises(IndexError, match="dimension out of range"):
        x.max(-3)
    with pytest.raises(RuntimeError, match="empty tensor"):
        e.sum(0)
    with pytest.raises(RuntimeError, match="empty tensor"):
        e.max()
    with pytest.raises(RuntimeError, match="empty tensor"):
        e.mean()
    with pytest.raises(RuntimeError, match="empty tensor"):
        e.median()
    assert e.sum() == 0 and e.prod() == 1 and e.norm() == 0
    with pytest.raises(TypeError, match="need a dim"):
        x.sum(keepdim=True)
    with pytest.raises(TypeError, match="keepdim must be a bool"):
        x.sum(1, "yes")
    with pytest.raises(TypeError, match="dim must be an int"):
        x.sum(1.5)
    with pytest.raises(TypeError, match="p must be a number"):
        x.norm("fro")
