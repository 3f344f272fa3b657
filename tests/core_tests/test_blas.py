"""BLAS family: mm, mv, bmm, dot, ger, matmul / @, addmm, addmv, addr, addbmm, baddbmm (+ in-place),
checked against NumPy formulas (every dtype, contiguous and strided operands) and PyTorch."""
import math

import numpy as np
import pytest

import ember
from _helpers.oracle import assert_same, require_torch, to_torch

FLOAT = ["FloatTensor", "DoubleTensor"]
INT = ["LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor"]
ALL = FLOAT + INT
LAYOUTS = ["contig", "t", "step", "narrow"]
TOL = {"FloatTensor": 1e-4, "DoubleTensor": 1e-10}


def values(shape, name, seed=0):
    """Random values for a type: normal floats, or small ints whose products never overflow."""
    rng = np.random.default_rng(seed)
    cls = getattr(ember, name)
    if cls._is_floating:
        return rng.standard_normal(shape).astype(cls._dtype)
    lo = 0 if name == "ByteTensor" else -3
    return rng.integers(lo, 4, size=shape).astype(cls._dtype)


def make(arr, name, layout="contig"):
    """An ember tensor holding ``arr``'s values in the given memory layout."""
    cls = getattr(ember, name)
    if layout == "contig" or arr.ndim == 0:
        return cls(arr)
    if layout == "t":  # memory of the transpose, viewed back (a BLAS transpose flag)
        if arr.ndim < 2:
            return make(arr, name, "step")
        t = cls(np.ascontiguousarray(arr.swapaxes(-1, -2)))
        return t.transpose(arr.ndim - 1, arr.ndim - 2)
    if layout == "step":  # every other element of the last dimension: not BLAS-able, NumPy copies
        big = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), arr.dtype)
        big[..., ::2] = arr
        return ember.from_numpy(big[..., ::2])
    big = np.zeros(arr.shape[:-1] + (arr.shape[-1] + 3,), arr.dtype)  # narrow: padded rows
    big[..., 1:1 + arr.shape[-1]] = arr
    return ember.from_numpy(big).narrow(arr.ndim - 1, 1, arr.shape[-1])


def ref_matmul(a, b):
    """NumPy product in a wide type, cast back like C arithmetic."""
    wide = np.float64 if a.dtype.kind == "f" else np.int64
    return (a.astype(wide) @ b.astype(wide)).astype(a.dtype)


def check(got, expected, name):
    assert got.type() == "torch." + name
    if name in TOL:
        np.testing.assert_allclose(got.numpy(), expected, rtol=TOL[name], atol=TOL[name])
    else:
        np.testing.assert_array_equal(got.numpy(), expected)


# ---------------------------------------------------------------------- mm, mv, bmm, ger, dot

@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("la", LAYOUTS)
@pytest.mark.parametrize("lb", ["contig", "t", "step"])
def test_mm_dtypes_and_layouts(name, la, lb):
    a, b = values((5, 7), name, 1), values((7, 4), name, 2)
    ta, tb = make(a, name, la), make(b, name, lb)
    check(ember.mm(ta, tb), ref_matmul(a, b), name)
    check(ta.mm(tb), ref_matmul(a, b), name)
    assert ember.mm(ta, tb).is_contiguous()
    np.testing.assert_array_equal(ta.numpy(), a)  # inputs untouched


def test_mm_of_transposed_views_larger_than_blas_blocks():
    a = values((64, 32), "FloatTensor")
    ta = ember.FloatTensor(a).t()
    r = ember.mm(ta, ember.FloatTensor(a))
    np.testing.assert_allclose(r.numpy(), a.T.astype(np.float64) @ a, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", FLOAT)
def test_mm_matches_torch(name):
    torch = require_torch()
    a, b = make(values((6, 3), name), name, "t"), make(values((3, 5), name, 3), name, "narrow")
    assert_same(ember.mm(a, b), torch.mm(to_torch(a), to_torch(b)), rtol=1e-5, atol=1e-5)


def test_mm_out_forms():
    a, b = values((3, 4), "DoubleTensor"), values((4, 2), "DoubleTensor", 1)
    ta, tb = ember.DoubleTensor(a), ember.DoubleTensor(b)
    out = ember.DoubleTensor(3, 2)
    ptr = out.data_ptr()
    assert ember.mm(ta, tb, out=out) is out and out.data_ptr() == ptr  # written in place
    np.testing.assert_allclose(out.numpy(), a @ b)
    out = ember.DoubleTensor(7)  # wrong size: resized
    ember.mm(ta, tb, out=out)
    assert out.size() == (3, 2)
    np.testing.assert_allclose(out.numpy(), a @ b)
    sq = ember.DoubleTensor(values((4, 4), "DoubleTensor", 5))
    expect = sq.numpy() @ sq.numpy()
    ember.mm(sq, sq, out=sq)  # out aliasing both inputs
    np.testing.assert_allclose(sq.numpy(), expect)
    with pytest.raises(TypeError, match="out"):
        ember.mm(ta, tb, out=ember.FloatTensor(3, 2))


def test_mm_errors():
    a = ember.FloatTensor(2, 3)
    with pytest.raises(RuntimeError, match=r"^size mismatch, m1: \[2 x 3\], m2: \[4 x 5\]$"):
        ember.mm(a, ember.FloatTensor(4, 5))
    with pytest.raises(RuntimeError, match=r"matrices expected, got 3D, 2D tensors"):
        ember.mm(ember.FloatTensor(2, 3, 4), ember.FloatTensor(4, 5))
    with pytest.raises(RuntimeError, match=r"matrices expected, got 1D, 2D tensors"):
        ember.mm(ember.FloatTensor(3), ember.FloatTensor(3, 5))
    with pytest.raises(TypeError, match="torch.DoubleTensor.*torch.FloatTensor"):
        ember.mm(a, ember.DoubleTensor(3, 2))
    with pytest.raises(TypeError, match="mm"):
        ember.mm(a, 3)
    with pytest.raises(TypeError, match=r"mm\(\): expected a tensor as mat1, got int"):
        ember.mm(3, a)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("layout", ["contig", "t", "step"])
def test_mv(name, layout):
    m, v = values((4, 6), name), values((6,), name, 1)
    tm, tv = make(m, name, layout), make(v, name, "step" if layout != "contig" else "contig")
    r = ember.mv(tm, tv)
    assert r.size() == (4,)
    check(r, ref_matmul(m, v), name)
    out = getattr(ember, name)()
    assert tm.mv(tv, out=out) is out
    check(out, ref_matmul(m, v), name)
    with pytest.raises(RuntimeError, match=r"size mismatch, \[4 x 6\], \[5\]"):
        ember.mv(tm, make(values((5,), name), name))
    with pytest.raises(RuntimeError, match="matrix and vector expected, got 2D, 2D"):
        ember.mv(tm, tm)


@pytest.mark.parametrize("name", ALL)
def test_bmm(name):
    b1, b2 = values((3, 4, 5), name), values((3, 5, 2), name, 1)
    for l1, l2 in [("contig", "contig"), ("t", "step"), ("narrow", "t")]:
        r = ember.bmm(make(b1, name, l1), make(b2, name, l2))
        assert r.size() == (3, 4, 2)
        check(r, ref_matmul(b1, b2), name)
    t1 = make(b1, name)
    with pytest.raises(RuntimeError, match="expected 3D tensor, got 2D"):
        ember.bmm(t1, make(values((5, 2), name), name))
    with pytest.raises(RuntimeError, match="equal number of batches expected, got 3, 2"):
        t1.bmm(make(values((2, 5, 2), name), name))
    with pytest.raises(RuntimeError, match="wrong matrix size, batch1: 4x5, batch2: 4x2"):
        t1.bmm(make(values((3, 4, 2), name), name))


@pytest.mark.parametrize("name", ALL)
def test_ger(name):
    v1, v2 = values((4,), name), values((3,), name, 1)
    r = ember.ger(make(v1, name, "step"), make(v2, name))
    check(r, np.multiply.outer(v1, v2).astype(v1.dtype), name)
    out = getattr(ember, name)(4, 3)
    make(v1, name).ger(make(v2, name), out=out)
    check(out, np.multiply.outer(v1, v2).astype(v1.dtype), name)
    with pytest.raises(RuntimeError, match="vector and vector expected, got 2D, 1D tensors"):
        ember.ger(make(values((2, 2), name), name), make(v2, name))


@pytest.mark.parametrize("name", ALL)
def test_dot_returns_number(name):
    a, b = values((6,), name), values((6,), name, 1)
    r = ember.dot(make(a, name, "step"), make(b, name))
    expected = np.dot(a.astype(np.float64), b.astype(np.float64))
    if name in FLOAT:
        assert isinstance(r, float) and math.isclose(r, expected, rel_tol=1e-5, abs_tol=1e-5)
    else:
        assert isinstance(r, int) and r == int(expected)
    # TH's dot only needs equal element counts: a 2x3 and a 3x2 tensor combine elementwise
    m1, m2 = values((2, 3), name), values((3, 2), name, 1)
    r = make(m1, name, "t").dot(make(m2, name))
    assert r == pytest.approx(float(np.dot(m1.ravel().astype(np.float64), m2.ravel().astype(np.float64))), rel=1e-5)
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size, expected tensor \[6\] and src \[5\] to have "
                                           r"the same number of elements, but got 6 and 5 elements respectively"):
        ember.dot(make(a, name), make(values((5,), name), name))


def test_dot_matches_torch():
    torch = require_torch()
    a, b = ember.FloatTensor(values((10,), "FloatTensor")), ember.FloatTensor(values((10,), "FloatTensor", 2))
    assert ember.dot(a, b) == pytest.approx(torch.dot(to_torch(a), to_torch(b)).item(), rel=1e-6)


# ---------------------------------------------------------------------- matmul and @

MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4,)),
                 ((2, 3, 4), (4, 5)), ((4,), (2, 4, 5)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (6, 4, 2))]


@pytest.mark.parametrize("s1,s2", MATMUL_SHAPES)
@pytest.mark.parametrize("layout", ["contig", "t"])
def test_matmul_shapes_match_torch(s1, s2, layout):
    torch = require_torch()
    a = make(values(s1, "DoubleTensor"), "DoubleTensor", layout)
    b = make(values(s2, "DoubleTensor", 1), "DoubleTensor", layout)
    expected = torch.matmul(to_torch(a), to_torch(b))
    got = ember.matmul(a, b)
    if len(s1) == 1 and len(s2) == 1:
        assert isinstance(got, float)  # 0.2: 1-D x 1-D is dot, a number
        assert got == pytest.approx(expected.item())
        return
    assert_same(got, expected, rtol=1e-10, atol=1e-10)
    assert_same(a @ b, expected, rtol=1e-10, atol=1e-10)
    assert_same(a.matmul(b), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("s1,s2", MATMUL_SHAPES[1:])
def test_matmul_numpy_and_out(s1, s2):
    a, b = values(s1, "LongTensor"), values(s2, "LongTensor", 1)
    out = ember.LongTensor(1)
    r = ember.matmul(ember.LongTensor(a), ember.LongTensor(b), out=out)
    assert r is out
    np.testing.assert_array_equal(out.numpy(), np.matmul(a, b))


def test_matmul_errors():
    v = ember.FloatTensor(values((4,), "FloatTensor"))
    with pytest.raises(ValueError, match="out must be None for 1-d tensor matmul"):
        ember.matmul(v, v, out=ember.FloatTensor())
    with pytest.raises(ValueError, match="at least 1D, but they are 0D and 1D"):
        ember.matmul(ember.FloatTensor(), v)
    with pytest.raises(RuntimeError, match=r"size mismatch, m1: \[6 x 4\], m2: \[3 x 2\]"):
        ember.matmul(ember.FloatTensor(2, 3, 4), ember.FloatTensor(3, 2))
    with pytest.raises(RuntimeError, match="not broadcastable"):
        ember.matmul(ember.FloatTensor(2, 3, 4), ember.FloatTensor(3, 4, 2))
    with pytest.raises(RuntimeError, match="last dimension of tensor1 \\(4\\)"):
        ember.matmul(ember.FloatTensor(2, 3, 4), ember.FloatTensor(2, 3, 2))
    with pytest.raises(TypeError):
        v @ 3
    with pytest.raises(TypeError, match="torch.FloatTensor"):
        v @ ember.DoubleTensor(4)


# ---------------------------------------------------------------------- the add family

FAMILY = {
    # name: (mat shape, x1 shape, x2 shape, the product in NumPy)
    "addmm": ((3, 5), (3, 4), (4, 5), lambda a, b: a @ b),
    "addmv": ((3,), (3, 4), (4,), lambda a, b: a @ b),
    "addr": ((3, 4), (3,), (4,), lambda a, b: np.multiply.outer(a, b)),
    "addbmm": ((3, 5), (2, 3, 4), (2, 4, 5), lambda a, b: (a @ b).sum(0)),
    "baddbmm": ((2, 3, 5), (2, 3, 4), (2, 4, 5), lambda a, b: a @ b),
}


def _family_ref(name, M, x1, x2, beta=1, alpha=1):
    wide = np.float64 if M.dtype.kind == "f" else np.int64
    prod = FAMILY[name][3](x1.astype(wide), x2.astype(wide))
    return (beta * M.astype(wide) + alpha * prod).astype(M.dtype)


@pytest.mark.parametrize("op", sorted(FAMILY))
@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor"])
def test_add_family_overloads(op, name):
    ms, s1, s2, _ = FAMILY[op]
    M, x1, x2 = values(ms, name), values(s1, name, 1), values(s2, name, 2)
    tM, t1, t2 = make(M, name, "t"), make(x1, name, "step"), make(x2, name, "t")
    f = getattr(ember, op)
    ref = lambda beta=1, alpha=1: _family_ref(op, M, x1, x2, beta, alpha)  # noqa: E731
    check(f(tM, t1, t2), ref(), name)
    check(f(2, tM, t1, t2), ref(beta=2), name)
    check(f(tM, 3, t1, t2), ref(alpha=3), name)
    check(f(2, tM, 3, t1, t2), ref(2, 3), name)
    check(f(tM, t1, t2, beta=2, alpha=3), ref(2, 3), name)
    check(f(2, tM, t1, t2, alpha=-1), ref(2, -1), name)
    check(getattr(tM, op)(t1, t2), ref(), name)
    check(getattr(tM, op)(2, t1, t2), ref(beta=2), name)  # one number: beta
    check(getattr(tM, op)(2, 3, t1, t2), ref(2, 3), name)
    check(getattr(tM, op)(t1, t2, alpha=3), ref(alpha=3), name)
    out = getattr(ember, name)()
    assert f(2, tM, 3, t1, t2, out=out) is out
    check(out, ref(2, 3), name)
    np.testing.assert_array_equal(tM.numpy(), M)  # out-of-place leaves mat alone
    r = getattr(tM, op + "_")(2, 3, t1, t2)
    assert r is tM
    check(tM, ref(2, 3), name)
    t = make(M, name, "narrow")
    getattr(t, op + "_")(t1, t2, beta=0)
    check(t, ref(beta=0), name)


@pytest.mark.parametrize("op", sorted(FAMILY))
def test_add_family_matches_torch(op):
    torch = require_torch()
    ms, s1, s2, _ = FAMILY[op]
    tM, t1, t2 = (make(values(s, "DoubleTensor", i), "DoubleTensor", lay)
                  for i, (s, lay) in enumerate([(ms, "contig"), (s1, "t"), (s2, "step")]))
    expected = getattr(torch, op)(to_torch(tM), to_torch(t1), to_torch(t2), beta=0.5, alpha=-2)
    assert_same(getattr(ember, op)(0.5, tM, -2, t1, t2), expected, rtol=1e-10, atol=1e-10)
    assert_same(getattr(tM, op)(0.5, -2, t1, t2), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("op", sorted(FAMILY))
def test_add_family_broadcasts_mat_out_of_place_only(op):
    ms, s1, s2, _ = FAMILY[op]
    x1, x2 = values(s1, "DoubleTensor", 1), values(s2, "DoubleTensor", 2)
    bias = values(ms[-1:], "DoubleTensor")  # a bias vector, as nn.Linear passes it
    full = np.broadcast_to(bias, ms).copy()
    r = getattr(ember, op)(ember.DoubleTensor(bias), ember.DoubleTensor(x1), ember.DoubleTensor(x2))
    check(r, _family_ref(op, full, x1, x2), "DoubleTensor")
    if len(ms) > 1:
        with pytest.raises(RuntimeError):
            getattr(ember.DoubleTensor(bias), op + "_")(ember.DoubleTensor(x1), ember.DoubleTensor(x2))


def test_beta_zero_ignores_mat():
    M = ember.FloatTensor(2, 2).fill_(float("nan"))
    a = ember.FloatTensor(values((2, 3), "FloatTensor"))
    r = ember.addmm(0, M, a, a.t())
    assert not np.isnan(r.numpy()).any()
    M.addmm_(0, 1, a, a.t())
    np.testing.assert_allclose(M.numpy(), a.numpy() @ a.numpy().T, rtol=1e-5)


def test_add_family_errors():
    M, a, b = ember.FloatTensor(2, 5), ember.FloatTensor(2, 3), ember.FloatTensor(3, 5)
    with pytest.raises(RuntimeError, match=r"^size mismatch, t: \[4 x 4\], m1: \[2 x 3\], m2: \[3 x 5\]$"):
        ember.addmm(ember.FloatTensor(4, 4), a, b)
    with pytest.raises(RuntimeError, match=r"size mismatch, t: \[2 x 4\], m1"):
        ember.FloatTensor(2, 4).addmm_(a, b)
    with pytest.raises(RuntimeError, match="matrix expected, got 1D tensor for t"):
        ember.FloatTensor(5).addmm_(a, b)
    with pytest.raises(RuntimeError, match=r"size mismatch, m1: \[2 x 3\], m2: \[2 x 3\]"):
        ember.addmm(M, a, a)
    with pytest.raises(RuntimeError, match=r"size mismatch, t: \[4\], mat: \[2 x 3\]"):
        ember.FloatTensor(4).addmv_(a, ember.FloatTensor(3))
    with pytest.raises(RuntimeError, match="vector expected, got t: 2D"):
        ember.FloatTensor(2, 2).addmv_(a, ember.FloatTensor(3))
    with pytest.raises(RuntimeError, match=r"size mismatch, t: \[3 x 3\], vec1: \[2\], vec2: \[3\]"):
        ember.FloatTensor(3, 3).addr_(ember.FloatTensor(2), ember.FloatTensor(3))
    with pytest.raises(RuntimeError, match="expected matrix, got 1D tensor for t"):
        ember.FloatTensor(3).addr_(ember.FloatTensor(2), ember.FloatTensor(3))
    with pytest.raises(RuntimeError, match="output tensor of incorrect size"):
        ember.FloatTensor(2, 3, 3).baddbmm_(ember.FloatTensor(2, 3, 4), ember.FloatTensor(2, 4, 2))
    with pytest.raises(RuntimeError, match="expected 3D tensor, got 2D"):
        ember.addbmm(M, a, b)
    with pytest.raises(TypeError, match=r"torch.addmm received an invalid combination of arguments - got "
                                        r"\(int, int, torch.FloatTensor"):
        ember.addmm(1, 2, M, a, b)
    with pytest.raises(TypeError, match="invalid combination"):
        ember.addmm(M, a)
    with pytest.raises(TypeError, match="invalid combination"):
        M.addmm(1, 2, 3, a, b)
    with pytest.raises(TypeError, match="invalid combination"):
        ember.addmm(0.5, M, a, b, beta=2)
    with pytest.raises(TypeError, match="invalid combination"):
        M.addmm(a, b, gamma=2)
    with pytest.raises(TypeError, match="torch.DoubleTensor"):
        ember.addmm(M, a, ember.DoubleTensor(3, 5))
    with pytest.raises(TypeError, match="addmm_"):
        M.addmm_(a, b.double())


def test_integer_scalars_cast_like_c():
    # beta/alpha are cast to the tensor's C type: 2.7 truncates to 2 for a LongTensor
    M, a, b = values((2, 2), "LongTensor"), values((2, 3), "LongTensor", 1), values((3, 2), "LongTensor", 2)
    r = ember.addmm(2.7, ember.LongTensor(M), 1.9, ember.LongTensor(a), ember.LongTensor(b))
    np.testing.assert_array_equal(r.numpy(), 2 * M + a @ b)


# ---------------------------------------------------------------------- cross

@pytest.mark.parametrize("shape,dim", [((3,), -1), ((4, 3), 1), ((3, 5), 0), ((2, 3, 3), 1), ((2, 3, 3), 2)])
def test_cross_against_numpy_and_torch(shape, dim):
    rng = np.random.RandomState(0)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    a, b = ember.DoubleTensor(x), ember.DoubleTensor(y)
    d = [i for i, n in enumerate(shape) if n == 3][0] if dim == -1 else dim
    want = np.cross(x, y, axis=d)
    np.testing.assert_allclose(a.cross(b, dim).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(ember.cross(a, b, dim=dim).numpy(), want, rtol=1e-12)
    out = ember.DoubleTensor()
    ember.cross(a, b, dim, out=out)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)
    try:
        import torch
    except ImportError:
        return
    np.testing.assert_allclose(a.cross(b, dim).numpy(),
                               torch.cross(torch.from_numpy(x), torch.from_numpy(y), dim=d).numpy(), rtol=1e-12)


def test_cross_default_dim_is_the_first_of_size_3():
    # 0.2: dim=-1 picks the first dimension of size 3, not the last dimension
    x = np.random.RandomState(1).standard_normal((3, 3))
    y = np.random.RandomState(2).standard_normal((3, 3))
    np.testing.assert_allclose(ember.DoubleTensor(x).cross(ember.DoubleTensor(y)).numpy(), np.cross(x, y, axis=0))


def test_cross_errors():
    with pytest.raises(RuntimeError, match="no dimension of size 3"):
        ember.DoubleTensor(2, 4).cross(ember.DoubleTensor(2, 4))
    with pytest.raises(RuntimeError, match="inconsistent tensor sizes"):
        ember.DoubleTensor(2, 3).cross(ember.DoubleTensor(3, 3))
    with pytest.raises(RuntimeError, match="does not have size 3"):
        ember.DoubleTensor(4, 3).cross(ember.DoubleTensor(4, 3), 0)
    with pytest.raises(TypeError):
        ember.DoubleTensor(3).cross(ember.FloatTensor(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_add_family_passes_on_every_thread(dtype):
    # from 2^17 elements the outer product and the scaling/adding passes run NumPy's loops on every thread
    # (Loop.binary / Loop.broadcast): the same numbers as NumPy's single-threaded sequence
    rng = np.random.RandomState(60)
    n, m = 700, 400
    v1, v2 = rng.standard_normal(n).astype(dtype), rng.standard_normal(m).astype(dtype)
    mat, row = rng.standard_normal((n, m)).astype(dtype), rng.standard_normal(m).astype(dtype)
    cls = ember.FloatTensor if dtype == np.float32 else ember.DoubleTensor
    t1, t2, tm, tr = cls(v1), cls(v2), cls(mat), cls(row)
    outer = v1[:, None] * v2
    np.testing.assert_array_equal(ember.ger(t1, t2).numpy(), outer)
    np.testing.assert_array_equal(ember.addr(tm, t1, t2).numpy(), outer + mat)
    np.testing.assert_array_equal(ember.addr(0.5, tm, 2, t1, t2).numpy(),
                                  outer * dtype(2) + mat * dtype(0.5))
    np.testing.assert_array_equal(ember.addr(tr, t1, t2).numpy(), outer + row)  # t broadcast
    y = tm.clone()
    assert y.addr_(0.5, 2, t1, t2) is y
    np.testing.assert_array_equal(y.numpy(), mat * dtype(0.5) + outer * dtype(2))
    y = tm.clone()
    y.addr_(t1, t1[:m])  # an operand that is not part of self
    np.testing.assert_array_equal(y.numpy(), mat + v1[:, None] * v1[:m])
    # a strided vec2 takes NumPy's path: the same numbers
    strided = cls(np.repeat(v2, 2))[::2]
    np.testing.assert_array_equal(ember.ger(t1, strided).numpy(), outer)
    a, b = rng.standard_normal((n, 64)).astype(dtype), rng.standard_normal((64, m)).astype(dtype)
    got = ember.addmm(tr, cls(a), cls(b)).numpy()
    np.testing.assert_allclose(got, a @ b + row, rtol=1e-5 if dtype == np.float32 else 1e-12)
