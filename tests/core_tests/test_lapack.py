"""LAPACK family with 0.2's names: values against torch.linalg / SciPy (ORACLE.md) and the defining
identities (A X = B, Q R = A, U S V^T = A, u^T u = a ...), on contiguous and strided inputs."""
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.linalg.lapack as lapack

import ember
from _helpers.oracle import assert_same, require_torch, to_torch

FLOAT = ["FloatTensor", "DoubleTensor"]
TOL = {"FloatTensor": 2e-4, "DoubleTensor": 1e-10}


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def spd(n, seed=0):
    a = rand((n, n), seed)
    return a @ a.T + n * np.eye(n)


def make(arr, name="DoubleTensor", layout="contig"):
    """An ember tensor with ``arr``'s values: contiguous, a transposed view, or a narrowed view."""
    cls = getattr(ember, name)
    arr = np.asarray(arr, dtype=cls._dtype)
    if layout == "t" and arr.ndim >= 2:
        return cls(np.ascontiguousarray(arr.swapaxes(-1, -2))).transpose(arr.ndim - 1, arr.ndim - 2)
    if layout == "narrow":
        big = np.zeros(arr.shape[:-1] + (arr.shape[-1] + 2,), arr.dtype)
        big[..., 1:-1] = arr
        return ember.from_numpy(big).narrow(arr.ndim - 1, 1, arr.shape[-1])
    return cls(arr)


def close(got, expected, name="DoubleTensor", scale=1.0):
    tol = TOL[name] * scale
    got = got.numpy() if hasattr(got, "numpy") else got
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(expected, np.float64), rtol=tol, atol=tol)


def column_major(t):
    """0.2's LAPACK results are column-major: strides (1, rows)."""
    return t.stride() == (1, t.size(0))


# ---------------------------------------------------------------------- gesv, gels, trtrs

@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("layout", ["contig", "t", "narrow"])
def test_gesv(name, layout):
    A, B = rand((5, 5)) + 5 * np.eye(5), rand((5, 3), 1)
    tA, tB = make(A, name, layout), make(B, name, layout)
    X, LU = ember.gesv(tB, tA)
    assert X.size() == (5, 3) and LU.size() == (5, 5) and column_major(X) and column_major(LU)
    assert X.type() == "torch." + name
    close(A @ X.numpy(), B, name)
    close(LU, sla.lu_factor(A.astype(tA.numpy().dtype))[0], name)
    X2, LU2 = tB.gesv(tA)
    close(X2, X.numpy(), name)
    np.testing.assert_array_equal(tA.numpy(), A.astype(tA.numpy().dtype))  # inputs untouched


def test_gesv_vector_rhs_out_and_torch():
    A, B = make(rand((4, 4)) + 4 * np.eye(4)), make(rand((4, 2), 1))
    X, _ = ember.gesv(B, A)
    x, _ = ember.gesv(make(rand(4, 2)), A)  # a 1-D B is one column
    assert x.size() == (4, 1)
    close(A.numpy() @ x.numpy()[:, 0], rand(4, 2))
    outs = (ember.DoubleTensor(), ember.DoubleTensor())
    res = ember.gesv(B, A, out=outs)
    assert res[0] is outs[0] and res[1] is outs[1]
    close(outs[0], X.numpy())
    torch = require_torch()
    assert_same(X, torch.linalg.solve(to_torch(A), to_torch(B)), rtol=1e-10, atol=1e-10)


def test_gesv_errors():
    A = make(np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(RuntimeError, match=r"^Lapack Error in gesv : U\(2,2\) is zero, singular U\.$"):
        ember.gesv(make(np.ones((2, 1))), A)
    with pytest.raises(RuntimeError, match="A should be square, but is 2x3"):
        ember.gesv(make(np.ones((2, 1))), make(np.ones((2, 3))))
    with pytest.raises(RuntimeError, match="A,B size incompatible - A has 2 rows, B has 3"):
        ember.gesv(make(np.ones((3, 1))), A)
    with pytest.raises(RuntimeError, match="A should be 2 dimensional"):
        ember.gesv(make(np.ones((2, 1))), make(np.ones(2)))
    with pytest.raises(TypeError, match="mixed"):
        ember.gesv(make(np.ones((2, 1)), "FloatTensor"), A)
    with pytest.raises(TypeError, match="not implemented for torch.LongTensor"):
        ember.gesv(ember.LongTensor(2, 1), ember.LongTensor(2, 2))
    with pytest.raises(TypeError, match="expected a torch.FloatTensor or torch.DoubleTensor as B, got int"):
        ember.gesv(3, A)
    with pytest.raises(TypeError, match="out must be a tuple of 2 tensors"):
        ember.gesv(make(np.ones((2, 1))), make(np.eye(2)), out=ember.DoubleTensor())


@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("m,n", [(6, 3), (3, 5)])
def test_gels(name, m, n):
    A, B = rand((m, n)), rand((m, 2), 1)
    tA, tB = make(A, name, "t"), make(B, name, "narrow")
    X, QR = ember.gels(tB, tA)
    assert X.size() == (n, 2) and QR.size() == (m, n)  # 0.2's CPU gels: the n-row solution
    assert X.stride()[0] == 1
    close(X, np.linalg.lstsq(A, B, rcond=None)[0], name, scale=10)  # least squares / least norm
    dt = tA.numpy().dtype
    bb = np.zeros((max(m, n), 2), dt)
    bb[:m] = B
    qr_ref, _, _ = getattr(lapack, "sgels" if name == "FloatTensor" else "dgels")(A.astype(dt), bb)
    close(QR, qr_ref, name)


def test_gels_vs_torch_and_docs_example():
    A = make([[1, 1, 1], [2, 3, 4], [3, 5, 2], [4, 2, 5], [5, 4, 3]], "FloatTensor")
    B = make([[-10, -3], [12, 14], [14, 12], [16, 16], [18, 16]], "FloatTensor")
    X, _ = ember.gels(B, A)
    close(X, [[2, 1], [1, 1], [1, 2]], "FloatTensor")  # the 0.2 docs' example
    with pytest.raises(RuntimeError, match="A,B size incompatible - A has 5 rows, B has 4"):
        ember.gels(make(np.ones((4, 2)), "FloatTensor"), A)
    torch = require_torch()
    assert_same(X, torch.linalg.lstsq(to_torch(A), to_torch(B), driver="gels").solution, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_trtrs(name, upper, transpose, unit):
    full = rand((4, 4)) + 4 * np.eye(4)  # the other triangle holds values trtrs must ignore
    tA, tb = make(full, name, "t"), make(rand((4, 3), 1), name)
    X, Ac = ember.trtrs(tb, tA, upper, transpose, unit)
    assert column_major(X) and column_major(Ac)
    close(Ac, tA.numpy(), name)  # a clone of A, not a view
    assert Ac.data_ptr() != tA.data_ptr()
    tri = np.triu(tA.numpy()) if upper else np.tril(tA.numpy())
    if unit:
        np.fill_diagonal(tri, 1)
    op = tri.T if transpose else tri
    close(op @ X.numpy(), tb.numpy(), name)
    X2, _ = tb.trtrs(tA, upper=upper, transpose=transpose, unitriangular=unit)
    close(X2, X.numpy(), name)
    torch = require_torch()
    expected = torch.linalg.solve_triangular(torch.from_numpy(op), to_torch(tb), upper=upper != transpose)
    assert_same(X, expected, rtol=TOL[name], atol=TOL[name])


def test_trtrs_singular():
    A = make(np.triu(np.ones((3, 3))) - np.diag([0, 0, 1.0]))
    with pytest.raises(RuntimeError, match=r"^Lapack Error in trtrs : A\(3,3\) is zero, singular A$"):
        ember.trtrs(make(np.ones((3, 1))), A)


# ---------------------------------------------------------------------- Cholesky family

@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("upper", [True, False])
def test_potrf_potri_potrs(name, upper):
    a = spd(5)
    ta = make(a, name, "t")
    u = ember.potrf(ta, upper) if not upper else ember.potrf(ta)
    assert column_major(u)
    un = u.numpy()
    assert not (np.tril(un, -1) if upper else np.triu(un, 1)).any()  # the other triangle is zero
    close(un.T @ un if upper else un @ un.T, a, name, scale=10)
    inv = ember.potri(u, upper)
    close(inv, np.linalg.inv(a), name, scale=10)
    b = make(rand((5, 2), 1), name, "narrow")
    c = ember.potrs(b, u, upper)
    close(c, np.linalg.solve(a, b.numpy()), name, scale=10)
    close(b.potrs(u, upper=upper), c.numpy(), name)
    close(ta.potrf(upper=upper), un, name)
    close(u.potri(upper=upper), inv.numpy(), name)
    torch = require_torch()
    L = torch.linalg.cholesky(to_torch(ta))
    assert_same(u, L.mT if upper else L, rtol=TOL[name], atol=TOL[name])
    assert_same(inv, torch.cholesky_inverse(to_torch(u), upper=upper), rtol=TOL[name], atol=TOL[name])
    assert_same(c, torch.cholesky_solve(to_torch(b), to_torch(u), upper=upper), rtol=TOL[name], atol=TOL[name])


def test_potrf_errors_and_out():
    with pytest.raises(RuntimeError, match=r"^Lapack Error potrf : A\(2,2\) is 0, A cannot be factorized$"):
        ember.potrf(make([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(RuntimeError, match="should be square"):
        ember.potrf(make(np.ones((2, 3))))
    with pytest.raises(TypeError, match="not implemented for torch.HalfTensor"):
        ember.potrf(ember.HalfTensor(2, 2))
    out = ember.DoubleTensor(9)
    assert ember.potrf(make(spd(3)), out=out) is out
    close(out, np.linalg.cholesky(spd(3)).T)


@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("upper", [True, False])
def test_pstrf(name, upper):
    a = spd(5, 3)
    ta = make(a, name, "narrow")
    u, piv = ember.pstrf(ta, upper)
    assert piv.type() == "torch.IntTensor" and u.type() == "torch." + name
    p = piv.numpy()
    assert sorted(p) == list(range(5))  # 0-based, as 0.2 returns it
    un = u.numpy()
    assert not (np.tril(un, -1) if upper else np.triu(un, 1)).any()
    close(un.T @ un if upper else un @ un.T, a[np.ix_(p, p)], name, scale=10)
    dt = ta.numpy().dtype
    c_ref, piv_ref, _, _ = getattr(lapack, ("s" if name == "FloatTensor" else "d") + "pstrf")(
        a.astype(dt), lower=0 if upper else 1)
    np.testing.assert_array_equal(p, piv_ref - 1)
    u2, piv2 = ta.pstrf(upper=upper, tol=-1)
    np.testing.assert_array_equal(piv2.numpy(), p)


def test_pstrf_rank_deficient():
    v = rand((4, 2))
    with pytest.raises(RuntimeError, match="^Lapack Error pstrf : matrix is rank deficient or not positive "
                                           "semidefinite$"):
        ember.pstrf(make(v @ v.T))


# ---------------------------------------------------------------------- QR family

@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("shape", [(6, 4), (4, 4), (3, 5)])
def test_qr(name, shape):
    a = make(rand(shape), name, "t")
    q, r = ember.qr(a)
    k = min(shape)
    assert q.size() == (shape[0], k) and r.size() == (k, shape[1]) and column_major(q)
    close(q.numpy() @ r.numpy(), a.numpy(), name)
    close(q.numpy().T @ q.numpy(), np.eye(k), name)
    assert not np.tril(r.numpy(), -1).any()
    torch = require_torch()
    tq, tr = torch.linalg.qr(to_torch(a))  # the same LAPACK Householder convention (signs)
    assert_same(q, tq, rtol=TOL[name], atol=TOL[name])
    assert_same(r, tr, rtol=TOL[name], atol=TOL[name])


def test_qr_docs_example():
    q, r = ember.qr(make([[12, -51, 4], [6, 167, -68], [-4, 24, -41]], "FloatTensor"))
    close(q, [[-0.8571, 0.3943, 0.3314], [-0.4286, -0.9029, -0.0343], [0.2857, -0.1714, 0.9429]],
          "FloatTensor", scale=1)
    close(r, [[-14, -21, 14], [0, -175, 70], [0, 0, -35]], "FloatTensor", scale=100)


@pytest.mark.parametrize("name", FLOAT)
def test_geqrf_orgqr_ormqr(name):
    A = make(rand((6, 4)), name, "narrow")
    a, tau = ember.geqrf(A)
    ref_a, ref_tau, _, _ = getattr(lapack, ("s" if name == "FloatTensor" else "d") + "geqrf")(A.numpy())
    close(a, ref_a, name)
    close(tau, ref_tau, name)
    Q = ember.orgqr(a, tau)
    close(Q.numpy() @ np.triu(a.numpy()[:4]), A.numpy(), name)
    close(Q.numpy().T @ Q.numpy(), np.eye(4), name)
    close(a.orgqr(tau), Q.numpy(), name)
    q_full = sla.qr(A.numpy())[0]  # the complete Q of the same reflectors
    cases = {}
    for left in (True, False):
        for transpose in (False, True):
            c = make(rand((6, 3) if left else (3, 6), 2), name, "t")
            got = ember.ormqr(a, tau, c, left, transpose)
            q = q_full.T if transpose else q_full
            close(got, q @ c.numpy() if left else c.numpy() @ q, name)
            close(a.ormqr(tau, c, left=left, transpose=transpose), got.numpy(), name)
            cases[left, transpose] = (c, got)
    torch = require_torch()
    ta, ttau = torch.geqrf(to_torch(A))
    assert_same(a, ta, rtol=TOL[name], atol=TOL[name])
    assert_same(tau, ttau, rtol=TOL[name], atol=TOL[name])
    assert_same(Q, torch.linalg.householder_product(ta, ttau), rtol=TOL[name], atol=TOL[name])
    for (left, transpose), (c, got) in cases.items():
        expected = torch.ormqr(ta, ttau, to_torch(c), left=left, transpose=transpose)
        assert_same(got, expected, rtol=TOL[name], atol=TOL[name])


def test_orgqr_partial_reflectors_keep_other_columns():
    # 0.2 calls LAPACK orgqr with N = K = tau.numel(): the columns after the k-th keep a's values
    a, tau = ember.geqrf(make(rand((5, 4))))
    tau2 = make(tau.numpy()[:2])
    q = ember.orgqr(a, tau2).numpy()
    q_ref, _, _ = lapack.dorgqr(a.numpy()[:, :2], tau2.numpy())
    close(q[:, :2], q_ref)
    np.testing.assert_array_equal(q[:, 2:], a.numpy()[:, 2:])
    with pytest.raises(RuntimeError, match="tau should be a 1-D tensor"):
        ember.orgqr(a, make(np.ones(6)))
    with pytest.raises(RuntimeError, match="reflectors have 5 rows but c has 3 rows"):
        ember.ormqr(a, tau, make(np.ones((3, 3))))


# ---------------------------------------------------------------------- SVD and eigenproblems

@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("shape", [(6, 5), (3, 5)])
def test_svd(name, shape):
    a = make(rand(shape), name, "t")
    m, n = shape
    k = min(shape)
    U, S, V = ember.svd(a)
    assert U.size() == (m, k) and S.size() == (k,) and V.size() == (n, k) and column_major(U)
    an = a.numpy()
    close(U.numpy() @ np.diag(S.numpy()) @ V.numpy().T, an, name)
    close(an @ V.numpy(), U.numpy() * S.numpy(), name)  # V, not V^T
    close(S, np.linalg.svd(an.astype(np.float64), compute_uv=False), name)
    Uf, Sf, Vf = a.svd(some=False)
    assert Uf.size() == (m, m) and Vf.size() == (n, n)
    close(Uf.numpy().T @ Uf.numpy(), np.eye(m), name)
    close(Vf.numpy().T @ Vf.numpy(), np.eye(n), name)
    close(Sf, S.numpy(), name)
    torch = require_torch()
    assert_same(S, torch.linalg.svdvals(to_torch(a)), rtol=TOL[name], atol=TOL[name])


@pytest.mark.parametrize("name", FLOAT)
def test_eig(name):
    a = make(rand((5, 5), 4), name, "t")
    an = a.numpy().astype(np.float64)
    e, v = ember.eig(a)
    assert e.size() == (5, 2) and v.numel() == 0
    expected = np.linalg.eigvals(an)
    got = (e.numpy()[:, 0] + 1j * e.numpy()[:, 1]).astype(np.complex128)
    close(np.sort_complex(got).view(np.float64), np.sort_complex(expected).view(np.float64), name, scale=10)
    e, v = a.eig(eigenvectors=True)
    vn, er, ei = v.numpy().astype(np.float64), e.numpy()[:, 0], e.numpy()[:, 1]
    assert v.size() == (5, 5) and column_major(v)
    j = 0
    while j < 5:  # LAPACK's packing: a complex pair's real and imaginary parts in consecutive columns
        if ei[j] == 0:
            close(an @ vn[:, j], er[j] * vn[:, j], name, scale=10)
            j += 1
        else:
            z = vn[:, j] + 1j * vn[:, j + 1]
            close((an @ z).view(np.float64), ((er[j] + 1j * ei[j]) * z).view(np.float64), name, scale=10)
            j += 2


@pytest.mark.parametrize("name", FLOAT)
@pytest.mark.parametrize("upper", [True, False])
def test_symeig(name, upper):
    s = spd(5) - 5 * np.eye(5)
    garbage = np.triu(s) + np.tril(rand((5, 5), 9), -1) if upper else np.tril(s) + np.triu(rand((5, 5), 9), 1)
    a = make(garbage, name, "t")  # only the chosen triangle is read
    e, V = ember.symeig(a, True, upper)
    assert (np.diff(e.numpy()) >= 0).all()  # ascending
    close(s @ V.numpy(), V.numpy() * e.numpy(), name, scale=10)
    assert column_major(V)
    e2, V2 = a.symeig(upper=upper)
    close(e2, e.numpy(), name)
    assert V2.numel() == 0
    torch = require_torch()
    assert_same(e, torch.linalg.eigvalsh(torch.from_numpy(s.astype(a.numpy().dtype))),
                rtol=TOL[name] * 10, atol=TOL[name] * 10)


@pytest.mark.parametrize("name", FLOAT)
def test_inverse(name):
    a = make(rand((6, 6)) + 6 * np.eye(6), name, "narrow")
    inv = ember.inverse(a)
    assert column_major(inv)
    close(inv.numpy() @ a.numpy(), np.eye(6), name)
    out = getattr(ember, name)()
    assert a.inverse(out=out) is out
    close(out, inv.numpy(), name)
    torch = require_torch()
    assert_same(inv, torch.linalg.inv(to_torch(a)), rtol=TOL[name], atol=TOL[name])


def test_inverse_errors():
    with pytest.raises(RuntimeError, match=r"^Lapack Error getrf : U\(2,2\) is 0, U is singular$"):
        ember.inverse(make([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(RuntimeError, match="should be square, but is 2x3"):
        ember.inverse(make(np.ones((2, 3))))
    with pytest.raises(TypeError, match="not implemented for torch.IntTensor"):
        ember.inverse(ember.IntTensor(2, 2))


# ---------------------------------------------------------------------- batched LU

@pytest.mark.parametrize("name", FLOAT)
def test_btrifact_btrisolve_btriunpack(name):
    A = make(rand((3, 4, 4)), name, "t")
    LU, piv = ember.btrifact(A)
    assert piv.type() == "torch.IntTensor" and piv.size() == (3, 4) and LU.is_contiguous()
    for i in range(3):
        ref_lu, ref_piv = sla.lu_factor(A.numpy()[i])
        close(LU.numpy()[i], ref_lu, name)
        np.testing.assert_array_equal(piv.numpy()[i], ref_piv + 1)  # 1-based
    b = make(rand((3, 4), 1), name)
    x = ember.btrisolve(b, LU, piv)
    assert x.size() == (3, 4)
    close(np.einsum("bij,bj->bi", A.numpy(), x.numpy()), b.numpy(), name, scale=10)
    b3 = make(rand((3, 4, 2), 2), name, "t")
    x3 = b3.btrisolve(LU, piv)
    close(A.numpy() @ x3.numpy(), b3.numpy(), name, scale=10)
    P, L, U = ember.btriunpack(LU, piv)
    close(P.numpy() @ L.numpy() @ U.numpy(), A.numpy(), name)
    assert (np.triu(L.numpy(), 1) == 0).all() and (np.diagonal(L.numpy(), axis1=1, axis2=2) == 1).all()
    assert (np.tril(U.numpy(), -1) == 0).all() and P.type() == "torch." + name
    P2, L2, U2 = ember.btriunpack(LU, piv, unpack_data=False)
    assert L2 is None and U2 is None and P2.size() == (3, 4, 4)
    assert ember.btriunpack(LU, piv, unpack_pivots=False)[0] is None
    LU2, piv2 = A.btrifact()
    close(LU2, LU.numpy(), name)
    torch = require_torch()
    tLU, tpiv = torch.linalg.lu_factor(to_torch(A))
    assert_same(LU, tLU, rtol=TOL[name], atol=TOL[name])
    assert_same(piv, tpiv)
    assert_same(x, torch.linalg.lu_solve(tLU, tpiv, to_torch(b).unsqueeze(-1)).squeeze(-1),
                rtol=TOL[name], atol=TOL[name])
    for got, exp in zip((P, L, U), torch.lu_unpack(tLU, tpiv)):
        assert_same(got, exp, rtol=TOL[name], atol=TOL[name])


def test_btrifact_info_and_errors():
    A = np.stack([np.eye(3), np.array([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])])
    info = ember.IntTensor()
    LU, piv = ember.btrifact(make(A), info=info)
    assert info.size() == (2,) and info[0] == 0 and info[1] > 0
    with pytest.raises(RuntimeError, match=r"failed to factorize batch element 1 \(info == \d\)"):
        ember.btrifact(make(A))
    with pytest.raises(RuntimeError, match="btrifact without pivoting is not implemented on the CPU"):
        ember.btrifact(make(A), pivot=False)
    with pytest.raises(RuntimeError, match="expected 3D tensor, got 2D"):
        ember.btrifact(make(np.eye(3)))
    with pytest.raises(RuntimeError, match="only implemented for square matrices"):
        ember.btrifact(make(np.ones((2, 3, 4))))
    with pytest.raises(TypeError, match="info must be a torch.IntTensor"):
        ember.btrifact(make(A), info=ember.LongTensor())
    LU, piv = ember.btrifact(make(rand((2, 3, 3))))
    with pytest.raises(RuntimeError, match="number of batches must be equal"):
        ember.btrisolve(make(np.ones((3, 3))), LU, piv)
    with pytest.raises(RuntimeError, match="dimensions of A and b must be equal"):
        ember.btrisolve(make(np.ones((2, 4))), LU, piv)
    with pytest.raises(RuntimeError, match="expected 2D or 3D tensor"):
        ember.btrisolve(make(np.ones(2)), LU, piv)
    with pytest.raises(TypeError, match="LU_pivots must be a torch.IntTensor"):
        ember.btrisolve(make(np.ones((2, 3))), LU, piv.long())


@pytest.mark.parametrize("op,args", [
    ("svd", ()), ("qr", ()), ("geqrf", ()), ("symeig", ()), ("eig", ()), ("potrf", ()), ("pstrf", ()),
    ("inverse", ()), ("btrifact", ())])
@pytest.mark.parametrize("name", ["LongTensor", "IntTensor", "ByteTensor", "HalfTensor"])
def test_float_and_double_only(op, args, name):
    t = getattr(ember, name)(2, 2, 2) if op == "btrifact" else getattr(ember, name)(2, 2)
    with pytest.raises(TypeError, match="{}.*not implemented for torch.{}".format(op, name)):
        getattr(ember, op)(t, *args)
