"""Pointwise math against PyTorch 2.13 (the oracle) and NumPy formulas, with 0.2's rules: integer
division truncates, ``%``/remainder has the divisor's sign, fmod the dividend's, round takes halves away
from zero, sign(nan) is 0, clamp is TH's ``x < min ? min : (x > max ? max : x)``, tensor types never mix.

The threaded kernels (ember._C.elementwise) run above a size threshold: ``BIG`` tensors exercise them,
checked against NumPy computing the same formula on one thread."""
import math
import warnings
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

import ember as torch
from _helpers.oracle import assert_same, require_torch, to_torch

FLOATS = [torch.FloatTensor, torch.DoubleTensor]
INTS = [torch.LongTensor, torch.IntTensor, torch.ShortTensor, torch.CharTensor, torch.ByteTensor]
ALL = FLOATS + INTS
NP = {torch.FloatTensor: np.float32, torch.DoubleTensor: np.float64, torch.HalfTensor: np.float16,
      torch.LongTensor: np.int64, torch.IntTensor: np.int32, torch.ShortTensor: np.int16,
      torch.CharTensor: np.int8, torch.ByteTensor: np.uint8}
BIG = (1 << 16) + 37  # above every kernel threshold, and not a multiple of the per-thread alignment


def data(cls, shape, lo=-5.0, hi=5.0, seed=0, avoid_zero=False):
    rng = np.random.RandomState(seed)
    if cls in FLOATS or cls is torch.HalfTensor:
        arr = rng.uniform(lo, hi, shape)
    else:
        lo = max(int(lo), 0) if cls is torch.ByteTensor else int(lo)
        arr = rng.randint(lo, int(hi) + 1, shape)
    if avoid_zero:
        arr[arr == 0] = 1
    return torch.from_numpy(np.ascontiguousarray(arr.astype(NP[cls])))


def cdiv(p, q):
    """C integer division of Python ints: truncation toward zero, exactly."""
    r = abs(p) // abs(q)
    return r if (p >= 0) == (q > 0) else -r


def tol(cls):
    return dict(rtol=1e-5, atol=1e-5) if cls is torch.FloatTensor else dict(rtol=1e-12, atol=1e-12)


def variants(x):
    """The values of the 2-D tensor ``x`` three ways: contiguous, transposed and narrowed (both
    non-contiguous)."""
    a = x.numpy()
    pad = np.zeros((a.shape[0], 1), a.dtype)
    wide = torch.from_numpy(np.concatenate([pad, a, pad], 1))
    return [("contiguous", x), ("transposed", torch.from_numpy(np.ascontiguousarray(a.T)).t()),
            ("narrowed", wide.narrow(1, 1, a.shape[1]))]


# ---------------------------------------------------------------------- unary functions

UNARY = {  # name: input range (the oracle is torch.<name>)
    "abs": (-5, 5), "neg": (-5, 5), "sign": (-5, 5), "exp": (-5, 5), "log": (0.1, 5), "log1p": (-0.9, 5),
    "sqrt": (0, 5), "rsqrt": (0.1, 5), "sin": (-4, 4), "cos": (-4, 4), "tan": (-1.5, 1.5), "asin": (-1, 1),
    "acos": (-1, 1), "atan": (-5, 5), "sinh": (-4, 4), "cosh": (-4, 4), "tanh": (-4, 4), "sigmoid": (-8, 8),
    "ceil": (-5, 5), "floor": (-5, 5), "trunc": (-5, 5), "frac": (-5, 5), "reciprocal": (0.5, 5),
    "lgamma": (0.1, 6),
}


@pytest.mark.parametrize("cls", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(name, cls):
    T = require_torch()
    lo, hi = UNARY[name]
    x = data(cls, (5, 7), lo, hi, avoid_zero=name == "reciprocal")
    expected = getattr(T, name)(to_torch(x))
    for kind, v in variants(x):
        assert_same(getattr(torch, name)(v), expected, **tol(cls))
        assert_same(getattr(v, name)(), expected, **tol(cls))
    # out= (resized from a wrong size) and the in-place form
    out = cls(3)
    assert getattr(torch, name)(x, out=out) is out
    assert_same(out, expected, **tol(cls))
    y = variants(x)[2][1]
    assert getattr(y, name + "_")() is y
    assert_same(y, expected, **tol(cls))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_threaded_kernels_match_numpy(name):
    """Above the threshold the result comes from the threaded kernels; NumPy on one thread must agree."""
    lo, hi = UNARY[name]
    for cls in FLOATS:
        x = data(cls, (BIG,), lo, hi, seed=1, avoid_zero=name == "reciprocal")
        a = x.numpy().astype(np.float64)
        ref = {
            "abs": np.abs, "neg": np.negative, "sign": np.sign, "exp": np.exp, "log": np.log, "log1p": np.log1p,
            "sqrt": np.sqrt, "rsqrt": lambda v: 1 / np.sqrt(v), "sin": np.sin, "cos": np.cos, "tan": np.tan,
            "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh,
            "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "ceil": np.ceil, "floor": np.floor,
            "trunc": np.trunc, "frac": lambda v: v - np.trunc(v), "reciprocal": lambda v: 1 / v,
            "lgamma": lambda v: np.array([math.lgamma(e) for e in v]),
        }[name](a)
        r = getattr(x, name)()
        assert type(r) is cls and r.is_contiguous()
        np.testing.assert_allclose(r.numpy(), ref, rtol=2e-6 if cls is torch.FloatTensor else 1e-12, atol=1e-6)
        y = x.clone()
        getattr(y, name + "_")()
        np.testing.assert_array_equal(y.numpy(), r.numpy())
        out = cls(BIG)
        getattr(torch, name)(x, out=out)
        np.testing.assert_array_equal(out.numpy(), r.numpy())


def test_float_sigmoid_kernel_within_2_ulp_everywhere():
    # ember._C.elementwise.sigmoid computes float sigmoid with an exp of its own: over a sweep of every
    # 1021st float bit pattern, within 2 ulp of the correctly rounded 1 / (1 + exp(-x)) where the result is
    # a normal float; NaN passes, +-inf give 1 and 0, and beyond -89 the result is 0 as expf's overflow gives
    x = np.arange(0, 1 << 32, 1021, dtype=np.uint64).astype(np.uint32).view(np.float32)
    got = torch.FloatTensor(x.copy()).sigmoid().numpy()
    with np.errstate(over="ignore", invalid="ignore"):
        want = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    normal = np.isfinite(x) & (x > -87)
    ulps = np.abs(got[normal].view(np.int32).astype(np.int64) - want[normal].view(np.int32).astype(np.int64))
    assert ulps.max() <= 2 and (ulps > 1).mean() < 0.005  # 0.15% of them are 2 ulp off (NumPy's formula: 3)
    assert np.isnan(got[np.isnan(x)]).all()
    special = torch.FloatTensor(np.float32([np.inf, -np.inf, -89.5, -200, 0, -0.0] * 30000)).sigmoid().numpy()
    np.testing.assert_array_equal(special[:6], np.float32([1, 0, 0, 0, 0.5, 0.5]))


@pytest.mark.parametrize("size", [7, 3000, BIG + 5])
def test_float_lgamma_is_within_an_ulp_of_the_correctly_rounded_value(size):
    # a formula in double (Stirling's series above 10, shifts, reflection below 0.5): against CPython's
    # math.lgamma (double) rounded to float, at every size (one thread, blocks, several threads)
    rng = np.random.RandomState(60)
    pools = [rng.uniform(-10, 30, size), rng.uniform(0.5, 3, size), rng.uniform(-6, 0, size),
             10.0 ** rng.uniform(-30, 38, size), -(10.0 ** rng.uniform(-30, 6.9, size))]
    x = np.concatenate(pools).astype(np.float32)
    got = torch.from_numpy(x).lgamma().numpy()
    want = np.array([math.lgamma(v) if not (v <= 0 and v.is_integer()) else math.inf for v in x.tolist()])
    with np.errstate(over="ignore"):
        want = want.astype(np.float32)
    assert np.isfinite(want).mean() > 0.95  # some overflow, and floats beyond -2^23 are integers (poles)
    ulps = np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))
    assert ulps.max() <= 1 and (ulps == 0).mean() > 0.999
    special = torch.FloatTensor([0, -0.0, -1, -7, -2.0 ** 23, math.inf, -math.inf, math.nan, 1, 2, 1e-40, 3e38])
    r = special.lgamma().tolist()
    assert r[:7] == [math.inf] * 7 and math.isnan(r[7]) and r[8:10] == [0, 0]
    assert r[10] == np.float32(math.lgamma(float(np.float32(1e-40)))) and r[11] == math.inf  # a denormal


def test_double_lgamma_is_c_lgamma():
    # TH's lgamma of doubles: C's (glibc's) lgamma, bit for bit
    import ctypes
    import ctypes.util
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    libm.lgamma.restype, libm.lgamma.argtypes = ctypes.c_double, [ctypes.c_double]
    x = np.concatenate([np.random.RandomState(61).uniform(-8, 40, 5000), [0.5, 1, 2, 1e-300, -2.5]])
    for size in (7, x.size):
        got = torch.from_numpy(x[:size].copy()).lgamma().numpy()
        np.testing.assert_array_equal(got, [libm.lgamma(v) for v in x[:size]])


@pytest.mark.parametrize("name", ["sigmoid", "round", "frac", "rsqrt", "lgamma"])
def test_typed_unary_kernels_on_large_views(name):
    # a view goes through a C-ordered copy and the kernel: the same values as the contiguous tensor's
    for cls in FLOATS:
        base = data(cls, (2 * BIG // 300 + 1, 300), 0.1, 5, seed=3)
        for view in (base.t(), base.narrow(1, 7, 200)):
            want = getattr(view.contiguous(), name)()
            before = view.clone()
            r = getattr(view, name)()
            assert type(r) is cls and r.is_contiguous()
            np.testing.assert_array_equal(r.numpy(), want.numpy())
            np.testing.assert_array_equal(view.contiguous().numpy(), before.numpy())  # the input is untouched


def test_unary_kernels_thread_counts_agree():
    x = data(torch.FloatTensor, (BIG,), -3, 3, seed=2)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = [x.exp().numpy(), x.sigmoid().numpy(), x.clamp(-1, 1).numpy(), (x + x).numpy()]
        torch.set_num_threads(2)
        two = [x.exp().numpy(), x.sigmoid().numpy(), x.clamp(-1, 1).numpy(), (x + x).numpy()]
    finally:
        torch.set_num_threads(old)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", INTS)
def test_abs_neg_sign_integers(cls):
    T = require_torch()
    x = data(cls, (4, 6), -9, 9)
    for name in ("abs", "neg", "sign"):
        assert_same(getattr(torch, name)(x), getattr(T, name)(to_torch(x)))
        y = x.clone()
        getattr(y, name + "_")()
        assert_same(y, getattr(T, name)(to_torch(x)))


@pytest.mark.parametrize("cls", INTS)
def test_float_only_functions_reject_integer_types(cls):
    x = data(cls, (3,))
    for name in ("exp", "log", "sqrt", "sigmoid", "round", "lgamma", "frac"):
        with pytest.raises(TypeError, match=r"{}.*floating-point".format(name)):
            getattr(torch, name)(x)
        with pytest.raises(TypeError, match="floating-point"):
            getattr(x, name + "_")()


@pytest.mark.parametrize("cls", FLOATS)
def test_round_takes_halves_away_from_zero(cls):
    vals = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49999997, -0.49999997, 0.4, -0.6, 1e7 + 0.5, -0.0, 0.0]
    x = cls(vals)
    expected = [float(Decimal(float(v)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                for v in x.numpy().tolist()]
    assert x.round().tolist() == expected
    rng = np.random.RandomState(3)
    big = torch.from_numpy((rng.randint(-400, 400, BIG) / 2.0 + rng.uniform(-1e-3, 1e-3, BIG)).astype(NP[cls]))
    big[::7] = torch.from_numpy((np.arange(0, BIG, 7) % 50 - 25.5).astype(NP[cls]))
    expected = [float(Decimal(float(v)).quantize(Decimal(1), rounding=ROUND_HALF_UP)) for v in big.numpy().tolist()]
    np.testing.assert_array_equal(big.round().numpy(), np.array(expected, NP[cls]))
    np.testing.assert_array_equal(big.clone().round_().numpy(), np.array(expected, NP[cls]))
    for n in (3, BIG):  # C's round keeps the sign of a zero result
        r = torch.from_numpy(np.full(n, -0.3, NP[cls])).round().numpy()
        assert np.signbit(r).all() and (r == 0).all()


@pytest.mark.parametrize("cls", FLOATS)
def test_sign_of_nan_is_zero_and_special_values(cls):
    special = [float("nan"), -0.0, 0.0, float("inf"), -float("inf"), -3, 1e-40]
    for n in (1, BIG // len(special) + 1):  # NumPy below the kernel threshold, the kernel above
        x = cls(special * n)
        want = [0, 0, 0, 1, -1, -1, 1] * n
        assert x.sign().tolist() == want and x.clone().sign_().tolist() == want


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's IEEE warnings, where pytest shows them
@pytest.mark.parametrize("size", [3, BIG])
def test_ieee_special_cases_give_inf_and_nan(size):
    a = np.zeros(size, np.float32)
    a[1], a[2] = -1, 1
    x = torch.from_numpy(a)
    r = x.log().tolist()
    assert r[0] == -math.inf and math.isnan(r[1])
    assert math.isnan(x.sqrt().tolist()[1])
    assert x.reciprocal().tolist()[0] == math.inf
    assert (x / 0).tolist()[1:3] == [-math.inf, math.inf]
    assert math.isnan((x / 0).tolist()[0])
    assert (x + 100).exp().tolist()[0] == math.inf


def test_half_tensor_keeps_its_type():
    x = torch.from_numpy(np.linspace(0.1, 3, 12).astype(np.float16))
    for name in ("sigmoid", "lgamma", "exp", "abs", "round"):
        r = getattr(x, name)()
        assert type(r) is torch.HalfTensor, name
    assert type(x + x) is torch.HalfTensor
    np.testing.assert_allclose(x.sigmoid().numpy(), 1 / (1 + np.exp(-x.numpy().astype(np.float64))), rtol=2e-3)


def test_unary_requires_a_tensor():
    with pytest.raises(TypeError, match=r"exp\(\): expected a tensor as first argument, got float"):
        torch.exp(3.0)
    with pytest.raises(TypeError, match=r"abs\(\): expected a tensor.*got list"):
        torch.abs([1, 2])


def test_unary_out_overlapping_input_goes_through_a_temporary():
    base = torch.from_numpy(np.linspace(-2, 2, BIG + 1).astype(np.float32))
    src, dst = base[1:], base[:-1]
    expected = np.exp(src.numpy().copy())
    torch.exp(src, out=dst)
    np.testing.assert_array_equal(dst.numpy(), expected)
    x = data(torch.FloatTensor, (BIG,), seed=4)
    expected = np.exp(x.numpy())
    assert torch.exp(x, out=x) is x  # exactly the input: in place
    np.testing.assert_array_equal(x.numpy(), expected)


# ---------------------------------------------------------------------- add, sub, mul, div

@pytest.mark.parametrize("cls", ALL)
def test_arithmetic_against_torch(cls):
    T = require_torch()
    x = data(cls, (4, 5), -20, 20)
    y = data(cls, (4, 5), 1, 9, seed=1)
    tx, ty = to_torch(x), to_torch(y)
    for kind, v in variants(x):
        assert_same(v + y, tx + ty)
        assert_same(v - y, tx - ty)
        assert_same(v * y, tx * ty)
        assert_same(torch.add(v, y), tx + ty)
        assert_same(v.sub(y), tx - ty)
        assert_same(torch.mul(v, y), tx * ty)
        assert_same(v + 3, tx + 3)
        assert_same(v - 3, tx - 3)
        assert_same(v * 3, tx * 3)
        assert_same(3 + v, 3 + tx)
        assert_same(3 * v, 3 * tx)
        assert_same(7 - v, 7 - tx)
        if cls in FLOATS:
            assert_same(v / y, tx / ty, **tol(cls))
            assert_same(v / 4, tx / 4, **tol(cls))
            assert_same(7 / y, 7 / ty, **tol(cls))
            assert_same(torch.div(v, y), tx / ty, **tol(cls))
        else:
            assert_same(v / y, T.div(tx, ty, rounding_mode="trunc"))
            assert_same(v / 4, T.div(tx, 4, rounding_mode="trunc"))
            assert_same(torch.div(v, y), T.div(tx, ty, rounding_mode="trunc"))


@pytest.mark.parametrize("cls", ALL)
def test_add_sub_value_other_forms(cls):
    T = require_torch()
    x = data(cls, (3, 4), 0, 20)
    y = data(cls, (3, 4), 0, 5, seed=1)
    tx, ty = to_torch(x), to_torch(y)
    assert_same(torch.add(x, 2, y), tx + 2 * ty)
    assert_same(x.add(value=2, other=y), tx + 2 * ty)
    assert_same(x.add(other=y), tx + ty)
    assert_same(x.sub(2, y), tx - 2 * ty)
    assert_same(x.clone().add_(2, y), tx + 2 * ty)
    assert_same(x.clone().sub_(2, y), tx - 2 * ty)
    assert_same(x.clone().add_(3), tx + 3)
    assert_same(x.clone().sub_(3), tx - 3)
    assert_same(x.clone().mul_(3), tx * 3)
    assert_same(torch.mul(x, other=y), tx * ty)
    assert_same(x.mul(other=y), tx * ty)
    if cls in FLOATS:
        assert_same(torch.div(x, other=y.add(1)), tx / (ty + 1), **tol(cls))
        assert_same(x.clone().div_(y.add(1)), tx / (ty + 1), **tol(cls))
    else:
        assert_same(x.clone().div_(y.add(1)), T.div(tx, ty + 1, rounding_mode="trunc"))
    with pytest.raises(TypeError, match="several values"):
        torch.mul(x, 2, other=y)
    with pytest.raises(TypeError, match="missing required argument"):
        x.mul()


def test_sub_is_not_a_torch_function_in_0_2():
    assert not hasattr(torch, "sub")
    assert hasattr(torch.FloatTensor, "sub") and hasattr(torch.FloatTensor, "sub_")


@pytest.mark.parametrize("cls", INTS)
def test_integer_division_truncates_toward_zero(cls):
    lo = 0 if cls is torch.ByteTensor else -50
    a = np.arange(lo, 51).astype(NP[cls])
    for d in ([3, 7] if cls is torch.ByteTensor else [3, -3, 7, -7, 1, -1]):
        got = (torch.from_numpy(a.copy()) / d).numpy()
        expected = np.array([cdiv(v, d) for v in a.tolist()]).astype(NP[cls])
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(torch.from_numpy(a.copy()).div_(d).numpy(), expected)
    # reflected: number / tensor
    b = np.array([1, 2, 3, 4, 7]).astype(NP[cls])
    np.testing.assert_array_equal((100 / torch.from_numpy(b)).numpy(), np.array([100, 50, 33, 25, 14], NP[cls]))


@pytest.mark.parametrize("cls", INTS)
def test_integer_division_kernel_matches_python(cls):
    rng = np.random.RandomState(5)
    lo = 0 if cls is torch.ByteTensor else -100
    a = rng.randint(lo, 100, BIG).astype(NP[cls])
    d = rng.randint(1, 9, BIG).astype(NP[cls])
    if cls is not torch.ByteTensor:
        d[::5] *= -1
        d[::11] = -1
    info = np.iinfo(NP[cls])
    if cls is not torch.ByteTensor:
        a[3], d[3] = info.min, -1  # wraps (C promotes the narrow types to int, then truncates)
    span = 1 << (8 * a.itemsize)
    expected = np.array([((cdiv(p, q)) - info.min) % span + info.min
                         for p, q in zip(a.tolist(), d.tolist())]).astype(NP[cls])
    x, y = torch.from_numpy(a.copy()), torch.from_numpy(d.copy())
    np.testing.assert_array_equal((x / y).numpy(), expected)
    np.testing.assert_array_equal((x / 3).numpy(), np.array([cdiv(v, 3) for v in a.tolist()]).astype(NP[cls]))
    z = x.clone()
    z /= y
    np.testing.assert_array_equal(z.numpy(), expected)


@pytest.mark.parametrize("size", [5, BIG])
def test_integer_division_by_zero_raises_and_leaves_self(size):
    x = torch.from_numpy(np.arange(1, size + 1).astype(np.int64))
    d = torch.from_numpy(np.ones(size, np.int64))
    d[size - 1] = 0
    before = x.numpy().copy()
    with pytest.raises(ZeroDivisionError, match=r"div\(\): integer division by zero"):
        x / d
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        x.div_(d)
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        x.div_(0)
    with pytest.raises(ZeroDivisionError, match=r"remainder\(\)"):
        x % 0
    with pytest.raises(ZeroDivisionError, match=r"fmod\(\)"):
        x.fmod(d)
    np.testing.assert_array_equal(x.numpy(), before)


@pytest.mark.parametrize("cls", FLOATS + [torch.LongTensor, torch.ByteTensor])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_threaded_kernels_match_numpy(cls, op):
    x = data(cls, (BIG,), -50, 50, seed=6)
    y = data(cls, (BIG,), 1, 9, seed=7)
    a, b = x.numpy(), y.numpy()
    if op == "div" and cls not in FLOATS:
        ref = lambda p, q: (np.trunc(p.astype(np.float64) / q)).astype(NP[cls])  # noqa: E731
    else:
        ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}[op]
    tensor_tensor = getattr(x, op)(y)
    np.testing.assert_array_equal(tensor_tensor.numpy(), ref(a, b))
    np.testing.assert_array_equal(getattr(x, op)(3).numpy(), ref(a, NP[cls](3)))
    z = x.clone()
    getattr(z, op + "_")(y)
    np.testing.assert_array_equal(z.numpy(), ref(a, b))
    out = cls(7)
    if op != "sub":
        assert getattr(torch, op)(x, y, out=out) is out
        np.testing.assert_array_equal(out.numpy(), ref(a, b))
    # reflected forms: number <op> tensor
    if op == "sub":
        np.testing.assert_array_equal((5 - y).numpy(), ref(NP[cls](5), b))
    if op == "div":
        np.testing.assert_array_equal((100 / y).numpy(), ref(np.full_like(b, 100), b))
    # non-contiguous operands take NumPy's path
    xs, ys = x[::2], y[::2]
    assert not xs.is_contiguous()
    np.testing.assert_array_equal(getattr(xs, op)(ys).numpy(), ref(a[::2], b[::2]))


def test_in_place_with_overlapping_operand():
    base = torch.from_numpy(np.arange(BIG + 1, dtype=np.float32))
    old = base.numpy().copy()
    base[:-1].add_(base[1:])
    np.testing.assert_array_equal(base.numpy()[:-1], old[:-1] + old[1:])
    x = torch.from_numpy(np.arange(BIG, dtype=np.float32))
    x.mul_(x)
    np.testing.assert_array_equal(x.numpy(), np.arange(BIG, dtype=np.float32) ** 2)
    base = torch.from_numpy(np.arange(BIG + 1, dtype=np.float32))
    old = base.numpy().copy()
    torch.add(base[1:], 1, out=base[:-1])
    np.testing.assert_array_equal(base.numpy()[:-1], old[1:] + 1)


def test_integer_scalars_are_cast_like_c():
    x = torch.LongTensor([1, 2, 3])
    assert (x + 2.7).tolist() == [3, 4, 5]  # the number is cast to the tensor's type first
    assert (x * 1.9).tolist() == [1, 2, 3]
    b = torch.ByteTensor([250, 3])
    assert (b + 10).tolist() == [4, 13]  # uint8 wraps
    assert (b - 4).tolist() == [246, 255]
    assert (torch.CharTensor([100]) * 2).tolist() == [-56]


# ---------------------------------------------------------------------- broadcasting

@pytest.mark.parametrize("sa,sb", [((3, 1, 4), (2, 4)), ((5, 1), (1, 6)), ((4,), (3, 4)), ((2, 3, 1), (3, 5)),
                                   ((1,), (4, 4))])
def test_broadcasting_against_torch(sa, sb):
    T = require_torch()
    x, y = data(torch.DoubleTensor, sa, 0.5, 2), data(torch.DoubleTensor, sb, 1, 5, seed=1)
    tx, ty = to_torch(x), to_torch(y)
    for mine, theirs in ((x + y, tx + ty), (x * y, tx * ty), (x - y, tx - ty), (x / y, tx / ty),
                         (torch.add(x, 2, y), tx + 2 * ty), (x.pow(y), tx.pow(ty)), (x.atan2(y), tx.atan2(ty)),
                         (x.fmod(y), tx.fmod(ty)), (x.lt(y), tx.lt(ty)), (x.lerp(y, 0.25), tx.lerp(ty, 0.25)),
                         (x.addcmul(2, x, y), tx.addcmul(tx, ty, value=2))):
        assert_same(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", FLOATS + [torch.LongTensor, torch.ByteTensor])
@pytest.mark.parametrize("sa,sb", [((600, 300), (600, 1)), ((600, 300), (300,)), ((600, 300), (1, 300)),
                                   ((8, 64, 30, 30), (1, 64, 1, 1)), ((64, 1, 900), (64, 5, 1)),
                                   ((300,), (600, 300)), ((2, 100000), (2, 1)), ((3, 1, 60000), (1, 2, 1)),
                                   ((1, 200000), (1,))])
def test_broadcasting_kernel_paths_match_numpy(cls, sa, sb):
    # above the size threshold broadcasting runs on every thread (ember._C.elementwise.Loop.broadcast:
    # NumPy's own inner loops over rows of the innermost dim), bit for bit NumPy's results
    x, y = data(cls, sa, 1, 50, seed=30), data(cls, sb, 1, 9, seed=31)
    a, b = x.numpy(), y.numpy()
    ops = {"add": np.add, "sub": np.subtract, "mul": np.multiply}
    if cls in FLOATS:
        ops.update(div=np.true_divide, pow=np.power, atan2=np.arctan2)
    for op, ref in ops.items():
        ref = np.errstate(over="ignore")(ref)  # 9 ** 50 in float32
        np.testing.assert_array_equal(getattr(x, op)(y).numpy(), ref(a, b), err_msg=op)
        np.testing.assert_array_equal(getattr(y, op)(x).numpy(), ref(b, a), err_msg=op)
        out = cls(3)
        if op != "sub":
            assert getattr(torch, op)(x, y, out=out) is out
            np.testing.assert_array_equal(out.numpy(), ref(a, b), err_msg=op)
        if np.broadcast_shapes(sa, sb) == sa:  # in place: y broadcasts into x
            z = x.clone()
            assert getattr(z, op + "_")(y) is z
            np.testing.assert_array_equal(z.numpy(), ref(a, b), err_msg=op)
    # an input whose innermost dim is strided (column-major memory) takes NumPy's path: the same result
    if x.dim() == 2 and min(x.size()) > 1:
        xf = x.t().contiguous().t()
        assert not xf.is_contiguous()
        np.testing.assert_array_equal((xf + y).numpy(), a + b)


@pytest.mark.parametrize("cls", FLOATS + [torch.IntTensor])
def test_same_shape_views_take_the_broadcast_kernel(cls):
    # operands of one shape that are not both C-contiguous (x / norm.expand_as(x), a narrowed half) run on
    # every thread through Loop.broadcast: bit for bit NumPy's; a strided innermost dim falls back to NumPy
    x = data(cls, (300, 400), 1, 50, seed=33)
    col = data(cls, (300, 1), 1, 9, seed=34)
    wide = data(cls, (300, 800), 1, 9, seed=35)
    a, c, w = x.numpy(), col.numpy(), wide.numpy()
    ops = {"add": np.add, "mul": np.multiply, "sub": np.subtract}
    if cls in FLOATS:
        ops["div"] = np.true_divide
    for op, ref in ops.items():
        e = col.expand_as(x)
        np.testing.assert_array_equal(getattr(x, op)(e).numpy(), ref(a, np.broadcast_to(c, a.shape)), err_msg=op)
        np.testing.assert_array_equal(getattr(e, op)(x).numpy(), ref(np.broadcast_to(c, a.shape), a), err_msg=op)
        half = wide.narrow(1, 400, 400)
        np.testing.assert_array_equal(getattr(half, op)(x).numpy(), ref(w[:, 400:], a), err_msg=op)
        np.testing.assert_array_equal(getattr(x, op)(half).numpy(), ref(a, w[:, 400:]), err_msg=op)
        t = wide.narrow(1, 0, 300).t()  # (300, 300), innermost dim strided
        sq = x.narrow(1, 0, 300)
        np.testing.assert_array_equal(getattr(sq, op)(t).numpy(), ref(a[:, :300], w[:, :300].T), err_msg=op)


def test_loop_broadcast_kernel_directly():
    from ember._C import elementwise as k
    rng = np.random.RandomState(36)
    sub = k.Loop(np.subtract, np.float64)
    for sa, sb in [((5, 7, 300), (7, 1)), ((3, 200000), (3, 1)), ((1, 1, 9), (1,)), ((4, 1, 6), (4, 5, 6)),
                   ((2, 3, 4, 5, 6), (3, 1, 5, 1))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        shape = np.broadcast_shapes(sa, sb)
        out = np.empty(shape)
        for nthreads in (1, 2, 3):
            out[...] = np.nan
            assert sub.broadcast(np.broadcast_to(a, shape), np.broadcast_to(b, shape), out, nthreads) is True
            np.testing.assert_array_equal(out, a - b)
    # an innermost dim that is neither contiguous nor broadcast: nothing written, False
    a = rng.standard_normal((40, 30)).T
    out = np.zeros((30, 40))
    assert sub.broadcast(a, np.broadcast_to(1.0, a.shape), out, 2) is False
    assert not out.any()
    with pytest.raises(ValueError, match="inputs must be float64 arrays of shape"):
        sub.broadcast(a, np.zeros((30, 41)), out, 2)
    with pytest.raises(TypeError, match="has dtype float32, expected float64"):
        sub.broadcast(a, a, out.astype(np.float32), 2)
    with pytest.raises(ValueError, match="must be C-contiguous"):
        sub.broadcast(a, a, a.copy(order="F"), 2)


def test_broadcasting_kernel_with_overlap_and_out():
    big = data(torch.FloatTensor, (700, 400), 0, 1, seed=32)
    a = big.numpy().copy()
    # the operand is part of self: NumPy's path (it buffers the overlap)
    big.add_(big[0])
    np.testing.assert_array_equal(big.numpy(), a + a[0])
    # out is the full-shape input: elementwise in place is safe
    x, row = data(torch.FloatTensor, (700, 400), seed=33), data(torch.FloatTensor, (400,), seed=34)
    xa = x.numpy().copy()
    assert torch.mul(x, row, out=x) is x
    np.testing.assert_array_equal(x.numpy(), xa * row.numpy())
    # out is the small input: the result goes through a new buffer
    col = data(torch.FloatTensor, (700, 1), seed=35)
    ca = col.numpy().copy()
    assert torch.add(col, x, out=col) is col
    np.testing.assert_array_equal(col.numpy(), ca + x.numpy())


def test_equal_numel_fallback_warns_and_combines_elementwise():
    x = data(torch.FloatTensor, (2, 3))
    y = data(torch.FloatTensor, (3, 2), seed=1)
    expected = x.numpy() + y.numpy().reshape(2, 3)
    for f in (lambda: x + y, lambda: torch.add(x, y), lambda: x.add(1, y)):
        with pytest.warns(UserWarning, match="not broadcastable, but have the same number of elements"):
            r = f()
        assert r.size() == torch.Size([2, 3])
        np.testing.assert_allclose(r.numpy(), expected, rtol=1e-6)
    with pytest.warns(UserWarning, match="Falling back to deprecated pointwise behavior"):
        z = x.clone().mul_(y)
    np.testing.assert_allclose(z.numpy(), x.numpy() * y.numpy().reshape(2, 3), rtol=1e-6)


def test_fallback_warning_for_integer_division():
    x = torch.LongTensor([[7, -7, 9], [1, 2, 3]])
    y = torch.LongTensor([[2, 2], [2, 2], [2, 2]])
    with pytest.warns(UserWarning, match="same number of elements"):
        r = x / y
    assert r.tolist() == [[3, -3, 4], [0, 1, 1]]


def test_backcompat_broadcast_warning():
    from ember.utils import backcompat
    x, y = data(torch.FloatTensor, (4, 1)), data(torch.FloatTensor, (1, 4), seed=1)
    backcompat.broadcast_warning.enabled = True
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            x + data(torch.FloatTensor, (4,))
            torch.add(data(torch.FloatTensor, (1, 4)), data(torch.FloatTensor, (4,)))
        assert len([m for m in w if "backwards incompatible" in str(m.message)]) == 2
    finally:
        backcompat.broadcast_warning.enabled = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x + y  # shapes differ, numel differs: plain broadcasting, no warning


def test_broadcast_and_in_place_errors():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(5\) at "
                                           r"non-singleton dimension 1"):
        torch.FloatTensor(2, 3).zero_() + torch.FloatTensor(4, 5).zero_()
    with pytest.raises(RuntimeError, match=r"in-place operation can't change the size of self \[3\]"):
        torch.FloatTensor(3).zero_().add_(torch.FloatTensor(2, 3).zero_())
    with pytest.raises(RuntimeError, match="must match the size"):
        torch.FloatTensor(3).zero_().mul_(torch.FloatTensor(4).zero_())


# ---------------------------------------------------------------------- type mixing and bad arguments

def test_mixing_tensor_types_raises_naming_both():
    f, d, l = torch.FloatTensor([1, 2]), torch.DoubleTensor([1, 2]), torch.LongTensor([1, 2])
    for fn in (lambda: f + d, lambda: f - d, lambda: f * d, lambda: f / d, lambda: torch.add(f, d),
               lambda: f.add_(d), lambda: f.mul(l), lambda: torch.div(f, l), lambda: f.pow(d), lambda: f % d,
               lambda: f.fmod(d), lambda: f.remainder_(l)):
        with pytest.raises(TypeError, match=r"torch\.(DoubleTensor|LongTensor).*torch\.FloatTensor|"
                                            r"torch\.FloatTensor.*torch\.(DoubleTensor|LongTensor)"):
            fn()
    for fn in (lambda: f.sub(2, d), lambda: f.atan2(d), lambda: f.lerp(d, 0.5), lambda: f.addcmul(1, d, f),
               lambda: f.addcdiv(f, d), lambda: torch.add(f, 1, d)):
        with pytest.raises(TypeError, match=r"got \(torch\.DoubleTensor\), but expected \(torch\.FloatTensor"):
            fn()
    with pytest.raises(TypeError):
        f += d


def test_bad_arguments():
    x = torch.FloatTensor([1, 2])
    with pytest.raises(TypeError, match=r"add\(\): expected a tensor as first argument, got int"):
        torch.add(1, x)
    with pytest.raises(TypeError, match="unsupported operand"):
        x + "a"
    with pytest.raises(TypeError, match="unsupported operand"):
        "a" - x
    with pytest.raises(TypeError, match=r"mul received an invalid combination of arguments - got \(str\)"):
        x.mul("a")
    with pytest.raises(TypeError, match=r"got \(str\), but expected a number or a torch\.LongTensor"):
        torch.LongTensor([1]).add("3")


# ---------------------------------------------------------------------- fmod, remainder, %

def _remainder_ref(a, b):
    a = a.astype(np.float64)
    return a - b * np.floor(a / b)


@pytest.mark.parametrize("cls", ALL)
def test_fmod_and_remainder(cls):
    T = require_torch()
    lo = 0 if cls is torch.ByteTensor else -20
    x = data(cls, (4, 6), lo, 20)
    d = np.random.RandomState(1).randint(1, 7, (4, 6))
    if cls is not torch.ByteTensor:
        d[::2] *= -1  # divisors of both signs
    y = torch.from_numpy(d.astype(NP[cls]))
    tx, ty = to_torch(x), to_torch(y)
    divisor = 3 if cls is torch.ByteTensor else -3
    for kind, v in variants(x):
        assert_same(v.fmod(y), T.fmod(tx, ty), **tol(cls) if cls in FLOATS else {})
        assert_same(torch.fmod(v, divisor), T.fmod(tx, divisor), **tol(cls) if cls in FLOATS else {})
        if cls in FLOATS:
            np.testing.assert_allclose((v % y).numpy(), _remainder_ref(v.numpy(), y.numpy()), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(v.remainder(divisor).numpy(), _remainder_ref(v.numpy(), divisor), atol=1e-5)
        else:
            assert_same(v % y, T.remainder(tx, ty))
            assert_same(torch.remainder(v, divisor), T.remainder(tx, divisor))
    assert_same(x.clone().fmod_(divisor), T.fmod(tx, divisor), **tol(cls) if cls in FLOATS else {})
    z = x.clone().remainder_(y)
    if cls in FLOATS:
        np.testing.assert_allclose(z.numpy(), _remainder_ref(x.numpy(), y.numpy()), rtol=1e-5, atol=1e-5)
    else:
        assert_same(z, T.remainder(tx, ty))
    assert_same(torch.fmod(x, divisor=2), T.fmod(tx, 2), **tol(cls) if cls in FLOATS else {})
    assert_same(x.remainder(value=2), T.remainder(tx, 2), **tol(cls) if cls in FLOATS else {})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's IEEE warnings, where pytest shows them
def test_remainder_sign_rules():
    x = torch.FloatTensor([-7, 7, -7, 7, 5.5])
    assert x.remainder(3).tolist() == [2, 1, 2, 1, 2.5]
    assert (x % -3).tolist() == [-1, -2, -1, -2, -0.5]
    assert x.fmod(3).tolist() == [-1, 1, -1, 1, 2.5]
    assert x.fmod(-3).tolist() == [-1, 1, -1, 1, 2.5]
    assert math.isnan(x.remainder(0).tolist()[0])
    assert (torch.LongTensor([-7, 7]) % 3).tolist() == [2, 1]
    assert (torch.LongTensor([-7, 7]) % -3).tolist() == [-1, -2]
    assert torch.LongTensor([-7, 7]).fmod(-3).tolist() == [-1, 1]


@pytest.mark.parametrize("cls", FLOATS)
def test_remainder_and_fmod_kernels_match_numpy(cls):
    x = data(cls, (BIG,), -100, 100, seed=8)
    y = data(cls, (BIG,), 0.5, 9, seed=9)
    y[::3] = y[::3].neg()
    ref = _remainder_ref(x.numpy(), y.numpy())
    np.testing.assert_allclose((x % y).numpy(), ref, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(x.remainder(2.5).numpy(), _remainder_ref(x.numpy(), 2.5), rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(x.clone().remainder_(y).numpy(), ref, rtol=1e-5, atol=2e-5)
    np.testing.assert_array_equal(x.fmod(y).numpy(), np.fmod(x.numpy(), y.numpy()))
    np.testing.assert_array_equal(x.clone().fmod_(3).numpy(), np.fmod(x.numpy(), NP[cls](3)))


def test_float_fmod_kernel_is_exact_everywhere():
    # ember._C.elementwise.fmod computes fmodf by way of double where the quotient is below 2^29 and with
    # fmodf elsewhere: bit for bit C's fmodf (NumPy's loop) on every magnitude, on dividends a few ulps
    # from a multiple (where the rounded quotient is one too large), on zeros, infinities and NaNs
    rng = np.random.RandomState(37)
    n = BIG

    def check(a, b):
        with np.errstate(invalid="ignore"):
            want = np.fmod(a, b)
        got = torch.from_numpy(a).fmod(torch.from_numpy(b) if b.size > 1 else float(b[0])).numpy()
        np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))  # NaN bits and zero signs
        z = torch.from_numpy(a.copy())
        z.fmod_(torch.from_numpy(b) if b.size > 1 else float(b[0]))
        np.testing.assert_array_equal(z.numpy().view(np.int32), want.view(np.int32))

    wide = lambda: (rng.standard_normal(n) * 2.0 ** rng.randint(-40, 40, n)).astype(np.float32)  # noqa: E731
    check(wide(), wide())
    d = rng.uniform(0.1, 10, n).astype(np.float32)
    near = np.nextafter((rng.randint(1, 1 << 22, n) * d).astype(np.float32),
                        np.where(rng.rand(n) < 0.5, np.inf, -np.inf).astype(np.float32))
    for a, b in ((near, d), (-near, d), (near, -d), (near, np.float32([0.3])), (near, np.float32([-np.inf])),
                 (near, np.float32([0.0])), (-near * 0, d)):
        check(a, b)
    special = np.float32([0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4e38, 1, -1, 6, -6, 0.3])
    a, b = (np.tile(np.repeat(special, 12), n // 144 + 1)[:n], np.tile(special, n // 12 + 1)[:n])
    check(a, b)


# ---------------------------------------------------------------------- pow, atan2

@pytest.mark.parametrize("cls", FLOATS)
def test_pow_forms(cls):
    T = require_torch()
    x = data(cls, (3, 5), 0.1, 3)
    e = data(cls, (3, 5), -2, 2, seed=1)
    tx, te = to_torch(x), to_torch(e)
    for kind, v in variants(x):
        assert_same(v.pow(2), T.pow(tx, 2), **tol(cls))
        assert_same(torch.pow(v, 0.5), T.pow(tx, 0.5), **tol(cls))
        assert_same(v ** e, tx ** te, **tol(cls))
        assert_same(torch.pow(2, v), T.pow(2, tx), **tol(cls))  # pow(base:float, input)
        assert_same(2 ** v, 2 ** tx, **tol(cls))
        assert_same(v.pow(base=3), T.pow(3, tx), **tol(cls))
    assert_same(x.clone().pow_(3), tx ** 3, **tol(cls))
    y = x.clone()
    y **= e
    assert_same(y, tx ** te, **tol(cls))
    out = cls()
    assert torch.pow(2.5, x, out=out) is out
    assert_same(out, T.pow(2.5, tx), **tol(cls))
    with pytest.raises(TypeError, match="both an exponent and a base"):
        x.pow(2, base=3)


# TH's pow formulas for the exponents it special-cases (as later PyTorch does, on CPU mostly)
TH_POW = {1: lambda x: x.copy(), 2: lambda x: x * x, 3: lambda x: x * x * x, 0.5: np.sqrt,
          -0.5: lambda x: 1 / np.sqrt(x), -1: lambda x: 1 / x, -2: lambda x: 1 / (x * x)}


@pytest.mark.parametrize("cls", FLOATS)
@pytest.mark.parametrize("e", [1, 2, 3, 0.5, -0.5, -1, -2, 1.5, -3])
def test_pow_special_exponents_as_th(cls, e):
    # signs of zero (sqrt(-0) is -0, pow(-0, 0.5) +0), infinities and roundings follow TH's formulas;
    # other exponents go through pow(), where PyTorch's vectorised pow and the C library's may differ
    # in the last place
    T = require_torch()
    special = [-0.0, 0.0, -1.0, 2.0, -2.5, float("inf"), float("-inf"), float("nan"), 1e-30, 3e20]

    def check(got, x):
        want = T.pow(to_torch(x), e).numpy()
        np.testing.assert_allclose(got, want, **tol(cls))
        if e in TH_POW:
            with np.errstate(all="ignore"):
                exact = TH_POW[e](x.numpy())
            np.testing.assert_array_equal(got, exact)
            number = ~np.isnan(exact)
            assert (np.signbit(got[number]) == np.signbit(exact[number])).all()

    for x in (cls(special), data(cls, (BIG,), -4, 4, seed=12)):
        with np.errstate(all="ignore"):  # overflow and sqrt(-1), as 0.2: silent
            results = [x.pow(e), torch.pow(x, e), x.clone().pow_(e), x ** e]
            out, y = cls(), x.clone()
            assert torch.pow(x, e, out=out) is out
            assert torch.pow(y, e, out=y) is y  # out is the input
        for got in results + [out, y]:
            check(got.numpy(), x)


@pytest.mark.parametrize("cls", INTS)
@pytest.mark.parametrize("e", [1, 2, 3])
def test_integer_pow_special_exponents(cls, e):
    T = require_torch()
    x = data(cls, (BIG,), -20 if cls is not torch.ByteTensor else 0, 20, seed=13)
    want = T.pow(to_torch(x), e).numpy()
    np.testing.assert_array_equal(x.pow(e).numpy(), want)
    np.testing.assert_array_equal(x.clone().pow_(e).numpy(), want)


@pytest.mark.parametrize("cls", FLOATS)
def test_pow_atan2_kernels_match_numpy(cls):
    x = data(cls, (BIG,), 0.1, 3, seed=10)
    e = data(cls, (BIG,), -2, 2, seed=11)
    np.testing.assert_array_equal(x.pow(e).numpy(), np.power(x.numpy(), e.numpy()))
    np.testing.assert_array_equal(x.pow(1.7).numpy(), np.power(x.numpy(), NP[cls](1.7)))
    np.testing.assert_array_equal(torch.pow(1.5, x).numpy(), np.power(NP[cls](1.5), x.numpy()))
    np.testing.assert_array_equal(x.atan2(e).numpy(), np.arctan2(x.numpy(), e.numpy()))
    z = x.clone()
    z.atan2_(e)
    np.testing.assert_array_equal(z.numpy(), np.arctan2(x.numpy(), e.numpy()))


@pytest.mark.parametrize("cls", INTS)
def test_integer_pow(cls):
    T = require_torch()
    x = data(cls, (8,), 0, 4)
    assert_same(x.pow(3), T.pow(to_torch(x), 3))
    assert_same(2 ** x, T.pow(2, to_torch(x)))
    assert_same(x ** x, T.pow(to_torch(x), to_torch(x)))
    if cls is not torch.ByteTensor:  # for bytes, -1 is cast to 255 first (as 0.2's C cast did)
        with pytest.raises(RuntimeError, match="negative integer powers"):
            x.pow(-1)
        with pytest.raises(RuntimeError, match="negative integer powers"):
            x.pow(x.neg().add(-1))
        with pytest.raises(RuntimeError, match="negative integer powers"):
            2 ** x.neg().add(-1)


@pytest.mark.parametrize("cls", FLOATS)
def test_atan2(cls):
    T = require_torch()
    x, y = data(cls, (4, 5)), data(cls, (4, 5), seed=1)
    for kind, v in variants(x):
        assert_same(torch.atan2(v, y), T.atan2(to_torch(x), to_torch(y)), **tol(cls))
    assert_same(x.clone().atan2_(y), T.atan2(to_torch(x), to_torch(y)), **tol(cls))
    with pytest.raises(TypeError, match="floating-point"):
        torch.LongTensor([1]).atan2(torch.LongTensor([1]))


# ---------------------------------------------------------------------- lerp, addcmul, addcdiv

@pytest.mark.parametrize("cls", FLOATS)
def test_lerp(cls):
    T = require_torch()
    x, y = data(cls, (4, 5)), data(cls, (4, 5), seed=1)
    tx, ty = to_torch(x), to_torch(y)
    for kind, v in variants(x):
        assert_same(torch.lerp(v, y, 0.3), T.lerp(tx, ty, 0.3), **tol(cls))
        assert_same(v.lerp(y, 0.3), T.lerp(tx, ty, 0.3), **tol(cls))
    assert_same(x.clone().lerp_(y, 0.75), T.lerp(tx, ty, 0.75), **tol(cls))
    assert_same(x.lerp(data(cls, (5,), seed=2), 0.5), T.lerp(tx, to_torch(data(cls, (5,), seed=2)), 0.5), **tol(cls))
    out = cls(2)
    assert torch.lerp(x, y, 0.5, out=out) is out
    assert_same(out, T.lerp(tx, ty, 0.5), **tol(cls))


@pytest.mark.parametrize("cls", ALL)
def test_addcmul_addcdiv(cls):
    T = require_torch()
    x, t1 = data(cls, (3, 4), 0, 9), data(cls, (3, 4), 0, 9, seed=1)
    t2 = data(cls, (3, 4), 1, 5, seed=2)
    tx, tt1, tt2 = to_torch(x), to_torch(t1), to_torch(t2)
    kw = tol(cls) if cls in FLOATS else {}
    assert_same(torch.addcmul(x, t1, t2), T.addcmul(tx, tt1, tt2), **kw)
    assert_same(torch.addcmul(x, 2, t1, t2), T.addcmul(tx, tt1, tt2, value=2), **kw)
    assert_same(x.addcmul(value=2, tensor1=t1, tensor2=t2), T.addcmul(tx, tt1, tt2, value=2), **kw)
    assert_same(x.clone().addcmul_(2, t1, t2), T.addcmul(tx, tt1, tt2, value=2), **kw)
    assert_same(x.t().addcmul(t1.t(), t2.t()), T.addcmul(tx.t(), tt1.t(), tt2.t()), **kw)
    if cls in FLOATS:
        assert_same(torch.addcdiv(x, t1, t2), T.addcdiv(tx, tt1, tt2), **kw)
        assert_same(x.addcdiv(0.5, t1, t2), T.addcdiv(tx, tt1, tt2, value=0.5), **kw)
        assert_same(x.clone().addcdiv_(0.5, t1, t2), T.addcdiv(tx, tt1, tt2, value=0.5), **kw)
    out = cls(1)
    assert torch.addcmul(x, 2, t1, t2, out=out) is out
    assert_same(out, T.addcmul(tx, tt1, tt2, value=2), **kw)


@pytest.mark.parametrize("cls", FLOATS)
def test_large_lerp_addcmul_addcdiv_are_th_formulas_bit_for_bit(cls):
    # above the size threshold one pass on every thread (ember._C.elementwise addcmul/addcdiv/lerp), with
    # TH's order of operations and every product rounded (no fused multiply-add on any machine)
    n = (1 << 17) + 37  # above the memory-bound ops' threshold
    x, t1, t2 = (data(cls, (n,), -3, 3, seed=s) for s in (40, 41, 42))
    a, b, c = x.numpy(), t1.numpy(), t2.numpy()
    f = NP[cls]
    v = f(0.3)  # not a power of two: v * b rounds
    np.testing.assert_array_equal(x.addcmul(0.3, t1, t2).numpy(), a + v * b * c)
    np.testing.assert_array_equal(x.addcmul(t1, t2).numpy(), a + b * c)
    np.testing.assert_array_equal(x.addcdiv(0.3, t1, t2).numpy(), a + v * b / c)
    np.testing.assert_array_equal(x.lerp(t1, 0.3).numpy(), a + v * (b - a))
    for fn, ref in (("addcmul_", a + v * b * c), ("addcdiv_", a + v * b / c)):
        z = x.clone()
        assert getattr(z, fn)(0.3, t1, t2) is z
        np.testing.assert_array_equal(z.numpy(), ref)
    z = x.clone()
    assert z.lerp_(t1, 0.3) is z
    np.testing.assert_array_equal(z.numpy(), a + v * (b - a))
    # add / sub with a value: TH's x + v * b (x - v * b)
    np.testing.assert_array_equal(x.add(0.3, t1).numpy(), a + v * b)
    np.testing.assert_array_equal(torch.add(x, 0.3, t1).numpy(), a + v * b)
    np.testing.assert_array_equal(x.sub(0.3, t1).numpy(), a - v * b)
    for fn, ref in (("add_", a + v * b), ("sub_", a - v * b)):
        z = x.clone()
        assert getattr(z, fn)(0.3, t1) is z
        np.testing.assert_array_equal(z.numpy(), ref)
    out = cls(3)
    assert torch.add(x, 0.3, t1, out=out) is out
    np.testing.assert_array_equal(out.numpy(), a + v * b)
    np.testing.assert_array_equal(x[::2].add(0.3, t1[::2]).numpy(), (a + v * b)[::2])
    # operands that are self, out= and the NumPy path on views give the same numbers
    np.testing.assert_array_equal(x.clone().addcmul_(0.3, x, x).numpy(), a + v * a * a)
    out = cls(5)
    assert torch.addcdiv(x, 0.3, t1, t2, out=out) is out
    np.testing.assert_array_equal(out.numpy(), a + v * b / c)
    np.testing.assert_array_equal(x[::2].addcmul(0.3, t1[::2], t2[::2]).numpy(), (a + v * b * c)[::2])
    np.testing.assert_array_equal(x[::2].lerp(t1[::2], 0.3).numpy(), (a + v * (b - a))[::2])
    np.testing.assert_array_equal(x[::2].addcdiv(0.3, t1[::2], t2[::2]).numpy(), (a + v * b / c)[::2])


@pytest.mark.parametrize("cls", INTS)
def test_integer_addcdiv_is_value_times_t1_then_c_division(cls):
    lo = 0 if cls is torch.ByteTensor else -9
    x, t1 = data(cls, (20,), 0, 9), data(cls, (20,), lo, 9, seed=1)
    t2 = data(cls, (20,), 1, 4, seed=2)
    value = 3
    expected = [a + cdiv(value * b, c) for a, b, c in zip(x.tolist(), t1.tolist(), t2.tolist())]
    info = np.iinfo(NP[cls])
    expected = [(e - info.min) % (info.max - info.min + 1) + info.min for e in expected]
    assert x.addcdiv(value, t1, t2).tolist() == expected
    assert x.clone().addcdiv_(value, t1, t2).tolist() == expected
    with pytest.raises(ZeroDivisionError):
        x.addcdiv(t1, t2.mul(0))


# ---------------------------------------------------------------------- clamp

@pytest.mark.parametrize("cls", ALL)
def test_clamp_forms(cls):
    T = require_torch()
    x = data(cls, (4, 6), 0 if cls is torch.ByteTensor else -10, 10)
    tx = to_torch(x)
    kw = tol(cls) if cls in FLOATS else {}
    for kind, v in variants(x):
        assert_same(v.clamp(2, 7), T.clamp(tx, 2, 7), **kw)
        assert_same(torch.clamp(v, min=3), T.clamp(tx, min=3), **kw)
        assert_same(torch.clamp(v, max=4), T.clamp(tx, max=4), **kw)
    assert_same(x.clone().clamp_(2, 7), T.clamp(tx, 2, 7), **kw)
    assert_same(x.clone().clamp_(min=5), T.clamp(tx, min=5), **kw)
    assert_same(x.clone().clamp_(max=5), T.clamp(tx, max=5), **kw)
    out = cls(1)
    assert torch.clamp(x, 1, 3, out=out) is out
    assert_same(out, T.clamp(tx, 1, 3), **kw)
    with pytest.raises(TypeError, match=r"clamp\(\) received an invalid combination of arguments - got no bounds"):
        x.clamp()


def test_clamp_float_bounds_on_integer_tensor_are_truncated():
    x = torch.LongTensor([-3, 0, 2, 5])
    assert x.clamp(-1.9, 2.9).tolist() == [-1, 0, 2, 2]


@pytest.mark.parametrize("size", [7, BIG])
def test_clamp_th_formula_nan_and_min_above_max(size):
    rng = np.random.RandomState(12)
    a = rng.uniform(-3, 3, size).astype(np.float32)
    a[::5] = np.nan
    x = torch.from_numpy(a)

    def th(v, lo, hi):  # TH: (x < min) ? min : ((x > max) ? max : x)
        return np.array([(lo if e < lo else (hi if e > hi else e)) for e in v.tolist()], np.float32)
    for lo, hi in [(-1.0, 1.0), (1.0, -1.0), (0.5, 0.5)]:
        np.testing.assert_array_equal(x.clamp(lo, hi).numpy(), th(a, lo, hi))
        np.testing.assert_array_equal(x.clone().clamp_(lo, hi).numpy(), th(a, lo, hi))
    np.testing.assert_array_equal(x.clamp(min=1).numpy(), th(a, 1.0, math.inf))
    np.testing.assert_array_equal(x.clamp(max=1).numpy(), th(a, -math.inf, 1.0))
    nan = float("nan")  # a NaN bound is never true in TH's comparisons
    for lo, hi in [(nan, 1.0), (-1.0, nan), (nan, nan)]:
        np.testing.assert_array_equal(x.clamp(lo, hi).numpy(), th(a, lo, hi))
    np.testing.assert_array_equal(x.clamp(min=nan).numpy(), a)


def test_clamp_kernel_double_and_out():
    x = data(torch.DoubleTensor, (BIG,), seed=13)
    a = x.numpy()
    out = torch.DoubleTensor(3, 3)
    torch.clamp(x, -1, 2, out=out)
    np.testing.assert_array_equal(out.numpy(), np.minimum(np.maximum(a, -1), 2))
    np.testing.assert_array_equal(torch.clamp(x, min=0.25).numpy(), np.maximum(a, 0.25))


# ---------------------------------------------------------------------- bitwise operators

@pytest.mark.parametrize("cls", INTS)
def test_bitwise_operators(cls):
    a = data(cls, (3, 5), 0, 100)
    b = data(cls, (3, 5), 0, 100, seed=1)
    x, y = a.numpy(), b.numpy()
    np.testing.assert_array_equal((a & b).numpy(), x & y)
    np.testing.assert_array_equal((a | b).numpy(), x | y)
    np.testing.assert_array_equal((a ^ b).numpy(), x ^ y)
    np.testing.assert_array_equal((a & 6).numpy(), x & 6)
    np.testing.assert_array_equal((a << 2).numpy(), x << NP[cls](2))
    np.testing.assert_array_equal((a >> 1).numpy(), x >> NP[cls](1))
    np.testing.assert_array_equal((a.t() | b.t()).numpy(), x.T | y.T)
    for op, ref in (("__iand__", x & y), ("__ior__", x | y), ("__ixor__", x ^ y)):
        z = a.clone()
        r = getattr(z, op)(b)
        assert r is z
        np.testing.assert_array_equal(z.numpy(), ref)
    z = a.clone()
    z <<= 1
    np.testing.assert_array_equal(z.numpy(), x << NP[cls](1))
    z >>= 1
    np.testing.assert_array_equal(z.numpy(), (x << NP[cls](1)) >> NP[cls](1))


def test_float_bitwise():
    x = torch.FloatTensor([1.5, -3, 8])
    assert (x << 2).tolist() == [6, -12, 32]  # TH multiplies floats by powers of two
    assert (x >> 1).tolist() == [0.75, -1.5, 4]
    y = x.clone()
    y <<= 1
    assert y.tolist() == [3, -6, 16]
    for f in (lambda: x & x, lambda: x | 1, lambda: x ^ x):
        with pytest.raises(RuntimeError, match="bitwise operations are only supported on integer tensors"):
            f()
    with pytest.raises(TypeError):
        torch.LongTensor([1]) & torch.IntTensor([1])


def test_invert_only_for_byte_tensors():
    assert (~torch.ByteTensor([0, 1, 1])).tolist() == [1, 0, 0]
    assert type(~torch.ByteTensor([1])) is torch.ByteTensor
    m = torch.ByteTensor([[0, 1], [1, 1]]).t()
    assert (~m).tolist() == [[1, 0], [0, 0]]
    for t in (torch.FloatTensor([1]), torch.LongTensor([1])):
        with pytest.raises(RuntimeError, match="logical operations are supported on ByteTensors only"):
            ~t


# ---------------------------------------------------------------------- Python operators

def test_operators_map_to_ops():
    T = require_torch()
    x = data(torch.DoubleTensor, (3, 4), 0.5, 3)
    y = data(torch.DoubleTensor, (3, 4), 0.5, 3, seed=1)
    tx, ty = to_torch(x), to_torch(y)
    assert_same(-x, -tx)
    assert_same(abs(-x), tx)
    assert +x is x
    assert_same(x ** 2, tx ** 2)
    assert_same(x % 1.5, T.remainder(tx, 1.5))
    assert_same(2 - x, 2 - tx)
    assert_same(2 / x, 2 / tx, rtol=1e-12)
    for op, ref in (("__iadd__", tx + ty), ("__isub__", tx - ty), ("__imul__", tx * ty), ("__itruediv__", tx / ty),
                    ("__ipow__", tx ** ty)):
        z = x.clone()
        r = getattr(z, op)(y)
        assert r is z
        assert_same(z, ref, rtol=1e-12)
    z = x.clone()
    alias = z
    z += 1
    assert z is alias
    z = torch.LongTensor([7, -7])
    z /= 2
    assert z.tolist() == [3, -3]


def test_results_are_contiguous_new_tensors():
    x = data(torch.FloatTensor, (4, 6))
    xt = x.t()
    for r in (xt + xt, xt * 2, xt.exp(), xt.clamp(0, 1), xt.sign(), xt.round(), xt % 2, -xt, xt.pow(2), 2 - xt):
        assert r.is_contiguous() and r.size() == torch.Size([6, 4])
        assert r.data_ptr() != x.data_ptr()


# ---------------------------------------------------------------------- the kernels' own checks

def test_loop_kernels_are_numpys_loops_and_check_their_arguments():
    from ember._C import elementwise as k
    x = np.random.RandomState(14).uniform(-3, 3, BIG).astype(np.float32)
    out = np.empty_like(x)
    exp = k.Loop(np.exp, np.float32)
    np.testing.assert_array_equal(exp.unary(x, out, 2), np.exp(x))  # bit for bit: the same SIMD loop
    add = k.Loop(np.add, np.float32)
    np.testing.assert_array_equal(add.binary(x, np.float32([2]), out, 2), x + np.float32(2))
    with pytest.raises(ValueError, match="must be C-contiguous"):
        exp.unary(x[::2], out[: (BIG + 1) // 2], 2)
    with pytest.raises(TypeError, match="has dtype float64, expected float32"):
        exp.unary(x.astype(np.float64), out, 2)
    with pytest.raises(ValueError, match="has 10 elements, expected"):
        add.binary(x, x[:10].copy(), out, 2)
    with pytest.raises(ValueError, match="read-only"):
        ro = np.empty_like(x)
        ro.flags.writeable = False
        exp.unary(x, ro, 2)
    with pytest.raises(TypeError, match="takes two inputs"):
        add.unary(x, out, 2)
    with pytest.raises(TypeError, match="has no loop for"):
        k.Loop(np.arctan2, np.int64)
    with pytest.raises(TypeError, match="expected float32 or float64"):
        k.clamp(x.astype(np.int32), np.empty(BIG, np.int32), 0, 1, 2)
    with pytest.raises(ValueError, match="input has 10 elements"):
        k.round_(x[:10].copy(), out, 2)
    assert k.int_div(np.arange(5), np.array([0]), np.empty(5, np.int64), 2) is False
    empty = np.empty(0, np.float32)
    assert exp.unary(empty, np.empty(0, np.float32), 2).size == 0
    assert k.round_(empty, np.empty(0, np.float32), 2).size == 0
