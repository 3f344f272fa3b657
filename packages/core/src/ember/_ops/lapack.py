"""LAPACK family with 0.2's names and conventions: gesv, gels, trtrs, potrf, potri, potrs, pstrf, qr,
geqrf, orgqr, ormqr, svd, eig, symeig, inverse, and the batched LU trio btrifact, btrisolve,
btriunpack. FloatTensor and DoubleTensor only (LAPACK's s/d routines through scipy.linalg.lapack).

As in 0.2 (whose docs say so), the matrices that come back from LAPACK are column-major: they have
strides ``(1, m)`` rather than ``(m, 1)`` (``is_contiguous()`` is False; call ``.contiguous()`` before
``view``). LAPACK failures raise 0.2's texts, e.g. ``Lapack Error in gesv : U(2,2) is zero, singular U.``
"""
import functools as _functools

import numpy as np

from ember.tensor import IntTensor, _TensorBase, _typename_of
from . import both, torch_function
from ._util import via_host, write_out

_PREFIX = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}
_routines = {}


def _cuda_on_host(f):
    """CUDA tensors run these on the host (LAPACK through SciPy) and get their results back on the device,
    contiguous (0.2 used MAGMA on the GPU)."""
    @_functools.wraps(f)
    def g(*args, **kwargs):
        if args and getattr(args[0], "is_cuda", False):
            return via_host(f, args, kwargs)
        return f(*args, **kwargs)
    return g


def _lapack_fn(name, dtype):
    key = (name, dtype)
    f = _routines.get(key)
    if f is None:
        import scipy.linalg.lapack  # imported on first use: scipy.linalg is slow to import
        f = _routines[key] = getattr(scipy.linalg.lapack, _PREFIX[dtype] + name)
    return f


def _matrix(t, op, name="input"):
    """t's array, after checking that t is a FloatTensor or DoubleTensor."""
    if not isinstance(t, _TensorBase):
        raise TypeError("{}(): expected a torch.FloatTensor or torch.DoubleTensor as {}, got {}"
                        .format(op, name, _typename_of(t)))
    a = t._a
    if a.dtype not in _PREFIX or t.is_cuda:
        raise TypeError("{}(): not implemented for {} (LAPACK functions take torch.FloatTensor or "
                        "torch.DoubleTensor)".format(op, type(t)._typename))
    return a


def _same(t, other, op, name):
    if not isinstance(other, _TensorBase) or type(other) is not type(t):
        raise TypeError("{} received an invalid combination of arguments - got ({}, {}), but expected ({} {}) "
                        "(tensor types can't be mixed)".format(op, type(t)._typename, _typename_of(other),
                                                              type(t)._typename, name))
    return other._a


def _dim(a):
    return a.ndim if a.size else 0


def _check_2d(a, op, name="A"):
    if _dim(a) != 2:
        raise RuntimeError("{}(): {} should be 2 dimensional, but has {} dimensions".format(op, name, _dim(a)))


def _check_square(a, op, name="A"):
    _check_2d(a, op, name)
    if a.shape[0] != a.shape[1]:
        raise RuntimeError("{}(): {} should be square, but is {}x{}".format(op, name, a.shape[0], a.shape[1]))


def _rhs(b, a, op, name="B"):
    """B as a matrix: 1 or 2 dimensions, a 1-D B is one column; as many rows as A."""
    if _dim(b) not in (1, 2):
        raise RuntimeError("{}(): {} should have 1 or 2 dimensions, but has {}".format(op, name, _dim(b)))
    if a.shape[0] != b.shape[0]:
        raise RuntimeError("{}(): A,{} size incompatible - A has {} rows, {} has {}"
                           .format(op, name, a.shape[0], name, b.shape[0]))
    return b[:, None] if b.ndim == 1 else b


def _lapack_check(info, func, msg):
    """0.2's THLapackCheck: info < 0 is an illegal argument, info > 0 the routine's own failure
    (``msg`` formatted with the routine's name and info)."""
    if info < 0:
        raise RuntimeError("Lapack Error in {} : Illegal Argument {}".format(func, -info))
    if info > 0:
        raise RuntimeError(msg.format(func=func, info=info))


def _results(arrays, out, op):
    """Wrap the result arrays (as they are: column-major ones stay so), or write them into ``out``.
    ``arrays`` holds (array, class) pairs."""
    if out is None:
        res = tuple(c._make(a) for a, c in arrays)
        return res[0] if len(res) == 1 else res
    if len(arrays) == 1:
        if isinstance(out, (tuple, list)) and len(out) == 1:
            out = out[0]
        return write_out(out, arrays[0][1], arrays[0][0], op)
    if not isinstance(out, (tuple, list)) or len(out) != len(arrays):
        raise TypeError("{}(): out must be a tuple of {} tensors, got {}".format(op, len(arrays), _typename_of(out)))
    return tuple(write_out(o, c, a, op) for o, (a, c) in zip(out, arrays))


def _fcopy(a):
    return np.array(a, order="F", copy=True)


# ---------------------------------------------------------------------- linear systems

@both
@_cuda_on_host
def gesv(B, A, out=None):
    """X, LU = gesv(B, A): the solution of A X = B and A's LU factors (L below the diagonal, unit
    diagonal implied, U on and above)."""
    cls = type(B)
    b = _matrix(B, "gesv", "B")
    a = _same(B, A, "gesv", "A")
    _check_square(a, "gesv")
    b = _rhs(b, a, "gesv")
    lu, piv, x, info = _lapack_fn("gesv", a.dtype)(a, b)
    _lapack_check(info, "gesv", "Lapack Error in {func} : U({info},{info}) is zero, singular U.")
    return _results(((x, cls), (lu, cls)), out, "gesv")


@both
@_cuda_on_host
def gels(B, A, out=None):
    """X, QR = gels(B, A): least squares (m >= n) or least norm (m < n) solution of A X = B for the
    m x n matrix A. X has n rows (0.2's CPU result, as its docs example shows); QR holds LAPACK's
    factorization of A."""
    cls = type(B)
    b = _matrix(B, "gels", "B")
    a = _same(B, A, "gels", "A")
    _check_2d(a, "gels")
    b = _rhs(b, a, "gels")
    m, n = a.shape
    if m < n:  # LAPACK needs room for the n-row solution
        bb = np.zeros((n, b.shape[1]), a.dtype, order="F")
        bb[:m] = b
        b = bb
    qr, x, info = _lapack_fn("gels", a.dtype)(a, b)
    _lapack_check(info, "gels",
                  "Lapack Error in {func} : The {info}-th diagonal element of the triangular factor of A is zero")
    return _results(((x[:n], cls), (qr, cls)), out, "gels")


@both
@_cuda_on_host
def trtrs(b, A, upper=True, transpose=False, unitriangular=False, out=None):
    """X, A_clone = trtrs(b, A, ...): the solution of A X = b (A^T X = b with transpose) for a triangular
    A, read from its upper (default) or lower triangle, with a unit diagonal if unitriangular."""
    cls = type(b)
    rhs = _matrix(b, "trtrs", "b")
    a = _same(b, A, "trtrs", "A")
    _check_square(a, "trtrs")
    rhs = _rhs(rhs, a, "trtrs", "b")
    x, info = _lapack_fn("trtrs", a.dtype)(a, rhs, lower=0 if upper else 1, trans=1 if transpose else 0,
                                            unitdiag=1 if unitriangular else 0)
    _lapack_check(info, "trtrs", "Lapack Error in {func} : A({info},{info}) is zero, singular A")
    return _results(((x, cls), (_fcopy(a), cls)), out, "trtrs")


# ---------------------------------------------------------------------- Cholesky

@both
@_cuda_on_host
def potrf(a, upper=True, out=None):
    """The Cholesky factor u of a symmetric positive definite matrix: a = u^T u (upper, default) or
    a = u u^T (lower); the other triangle is zero."""
    cls = type(a)
    a = _matrix(a, "potrf", "a")
    _check_square(a, "potrf")
    c, info = _lapack_fn("potrf", a.dtype)(a, lower=0 if upper else 1, clean=1)
    _lapack_check(info, "potrf", "Lapack Error {func} : A({info},{info}) is 0, A cannot be factorized")
    return _results(((c, cls),), out, "potrf")


@both
@_cuda_on_host
def potri(u, upper=True, out=None):
    """The inverse of a = u^T u (or u u^T) from its Cholesky factor u (the full symmetric matrix)."""
    cls = type(u)
    u = _matrix(u, "potri", "u")
    _check_square(u, "potri")
    inv, info = _lapack_fn("potri", u.dtype)(u, lower=0 if upper else 1)
    _lapack_check(info, "potri", "Lapack Error {func} : A({info},{info}) is 0, A cannot be factorized")
    # LAPACK fills one triangle; 0.2 mirrors it into the other
    return _results(((_mirror(inv, upper), cls),), out, "potri")


def _mirror(m, upper):
    """m with the triangle opposite to the given one copied from it (a full symmetric matrix)."""
    iu = np.triu_indices(m.shape[0], 1)
    r = _fcopy(m)
    if upper:
        r[iu[1], iu[0]] = r[iu]
    else:
        r[iu] = r[iu[1], iu[0]]
    return r


@both
@_cuda_on_host
def potrs(b, u, upper=True, out=None):
    """The solution c of a c = b given the Cholesky factor u of a (a = u^T u, or u u^T when lower)."""
    cls = type(b)
    rhs = _matrix(b, "potrs", "b")
    c = _same(b, u, "potrs", "u")
    _check_square(c, "potrs", "u")
    rhs = _rhs(rhs, c, "potrs", "b")
    x, info = _lapack_fn("potrs", c.dtype)(c, rhs, lower=0 if upper else 1)
    _lapack_check(info, "potrs", "Lapack Error in {func} : A({info},{info}) is zero, singular A")
    return _results(((x, cls),), out, "potrs")


@both
@_cuda_on_host
def pstrf(a, upper=True, tol=-1, out=None):
    """u, piv = pstrf(a): Cholesky with complete pivoting of a positive semidefinite matrix,
    a[piv][:, piv] = u^T u (upper) or u u^T (lower). piv is a 0-based IntTensor, as 0.2 returns it
    (LAPACK's 1-based pivots minus one); tol < 0 lets LAPACK choose the tolerance."""
    cls = type(a)
    a = _matrix(a, "pstrf", "a")
    _check_square(a, "pstrf")
    c, piv, rank, info = _lapack_fn("pstrf", a.dtype)(a, tol=float(tol), lower=0 if upper else 1)
    _lapack_check(info, "pstrf", "Lapack Error {func} : matrix is rank deficient or not positive semidefinite")
    c = np.asfortranarray(np.triu(c) if upper else np.tril(c))  # LAPACK leaves the other triangle as it was
    return _results(((c, cls), ((piv - 1).astype(np.int32), IntTensor)), out, "pstrf")


# ---------------------------------------------------------------------- QR

@both
@_cuda_on_host
def geqrf(input, out=None):
    """a, tau = geqrf(input): LAPACK's QR factorization, R on and above the diagonal and the Householder
    reflectors below it, with their scales tau."""
    cls = type(input)
    a = _matrix(input, "geqrf")
    _check_2d(a, "geqrf", "input")
    qr, tau, work, info = _lapack_fn("geqrf", a.dtype)(a)
    _lapack_check(info, "geqrf", "Lapack Error {func} : unknown Lapack error. info = {info}")
    return _results(((qr, cls), (tau, cls)), out, "geqrf")


@both
@_cuda_on_host
def orgqr(input, input2, out=None):
    """Q from geqrf's (a, tau): the first k = tau.numel() columns become Q's columns (LAPACK orgqr with
    N = K = k, as 0.2 calls it); columns after the k-th keep a's values. For the usual m >= n input
    that is the reduced Q."""
    cls = type(input)
    a = _matrix(input, "orgqr")
    tau = _same(input, input2, "orgqr", "input2")
    _check_2d(a, "orgqr")
    m, n = a.shape
    k = tau.size
    if _dim(tau) != 1 or k > n or k > m:
        raise RuntimeError("orgqr(): tau should be a 1-D tensor of at most min(m, n) = {} elements for a {}x{} "
                           "matrix, but has size {}".format(min(m, n), m, n, list(tau.shape) if tau.size else []))
    r = _fcopy(a)
    q, work, info = _lapack_fn("orgqr", a.dtype)(r[:, :k], tau)
    _lapack_check(info, "orgqr", "Lapack Error {func} : unknown Lapack error. info = {info}")
    r[:, :k] = q
    return _results(((r, cls),), out, "orgqr")


@both
@_cuda_on_host
def ormqr(input, input2, input3, left=True, transpose=False, out=None):
    """Q c, Q^T c, c Q or c Q^T (left/transpose) with Q given by geqrf's reflectors (input, input2)."""
    cls = type(input)
    a = _matrix(input, "ormqr")
    tau = _same(input, input2, "ormqr", "input2")
    c = _same(input, input3, "ormqr", "input3")
    _check_2d(a, "ormqr")
    _check_2d(c, "ormqr", "c")
    k = tau.size
    rows = c.shape[0] if left else c.shape[1]
    if a.shape[0] != rows:
        raise RuntimeError("ormqr(): the reflectors have {} rows but c has {} {} (left={})"
                           .format(a.shape[0], rows, "rows" if left else "columns", left))
    if _dim(tau) != 1 or k > a.shape[1] or k > rows:
        raise RuntimeError("ormqr(): tau should be a 1-D tensor of at most {} elements, but has size {}"
                           .format(min(a.shape[1], rows), list(tau.shape) if tau.size else []))
    f = _lapack_fn("ormqr", a.dtype)
    side, trans = ("L" if left else "R"), ("T" if transpose else "N")
    refl = a[:, :k]
    _, work, info = f(side, trans, refl, tau, c, -1)
    cq, work, info = f(side, trans, refl, tau, c, max(1, int(work[0])))
    _lapack_check(info, "ormqr", "Lapack Error {func} : unknown Lapack error. info = {info}")
    return _results(((cq, cls),), out, "ormqr")


@both
@_cuda_on_host
def qr(input, out=None):
    """q, r = qr(input): the reduced QR factorization, q m x k with orthonormal columns, r k x n upper
    triangular, k = min(m, n)."""
    cls = type(input)
    a = _matrix(input, "qr")
    _check_2d(a, "qr", "input")
    m, n = a.shape
    k = min(m, n)
    qr_, tau, work, info = _lapack_fn("geqrf", a.dtype)(a)
    _lapack_check(info, "geqrf", "Lapack Error {func} : unknown Lapack error. info = {info}")
    r = np.triu(qr_[:k])
    q, work, info = _lapack_fn("orgqr", a.dtype)(qr_[:, :k], tau)
    _lapack_check(info, "orgqr", "Lapack Error {func} : unknown Lapack error. info = {info}")
    return _results(((q, cls), (r, cls)), out, "qr")


# ---------------------------------------------------------------------- SVD and eigenproblems

@both
@_cuda_on_host
def svd(input, some=True, out=None):
    """U, S, V = svd(A) with A = U diag(S) V^T (V, not V^T). some=True gives the reduced factors
    (U m x k, V n x k, k = min(m, n)); some=False the full ones."""
    cls = type(input)
    a = _matrix(input, "svd")
    _check_2d(a, "svd", "input")
    u, s, vt, info = _lapack_fn("gesvd", a.dtype)(a, compute_uv=1, full_matrices=0 if some else 1)
    _lapack_check(info, "gesvd", "Lapack Error {func} : {info} superdiagonals failed to converge.")
    return _results(((u, cls), (s, cls), (np.ascontiguousarray(vt.T), cls)), out, "svd")


@both
@_cuda_on_host
def eig(a, eigenvectors=False, out=None):
    """e, v = eig(a): e is n x 2 (real and imaginary parts of the eigenvalues); v holds the right
    eigenvectors in LAPACK's packed real form (a complex pair's real and imaginary parts in two
    consecutive columns), or is empty when eigenvectors=False."""
    cls = type(a)
    a = _matrix(a, "eig", "a")
    _check_square(a, "eig")
    wr, wi, vl, vr, info = _lapack_fn("geev", a.dtype)(a, compute_vl=0, compute_vr=1 if eigenvectors else 0)
    _lapack_check(info, "geev",
                  "Lapack Error in {func} : {info} off-diagonal elements of an didn't converge to zero")
    e = np.stack((wr, wi), axis=1)
    v = vr if eigenvectors else np.empty(0, a.dtype)
    return _results(((e, cls), (v, cls)), out, "eig")


@both
@_cuda_on_host
def symeig(input, eigenvectors=False, upper=True, out=None):
    """e, V = symeig(a): eigenvalues (ascending) of a symmetric matrix read from its upper (default) or
    lower triangle, and the eigenvectors as V's columns (an empty tensor when eigenvectors=False)."""
    cls = type(input)
    a = _matrix(input, "symeig")
    _check_square(a, "symeig")
    w, v, info = _lapack_fn("syev", a.dtype)(a, compute_v=1 if eigenvectors else 0, lower=0 if upper else 1)
    _lapack_check(info, "syev", "Lapack Error {func} : {info} off-diagonal elements didn't converge to zero")
    return _results(((w, cls), (v if eigenvectors else np.empty(0, a.dtype), cls)), out, "symeig")


@both
@_cuda_on_host
def inverse(input, out=None):
    """The inverse of a square matrix (LAPACK getrf + getri)."""
    cls = type(input)
    a = _matrix(input, "inverse")
    _check_square(a, "inverse", "input")
    lu, piv, info = _lapack_fn("getrf", a.dtype)(a)
    _lapack_check(info, "getrf", "Lapack Error {func} : U({info},{info}) is 0, U is singular")
    inv, info = _lapack_fn("getri", a.dtype)(lu, piv)
    _lapack_check(info, "getri", "Lapack Error {func} : U({info},{info}) is 0, U is singular")
    return _results(((inv, cls),), out, "inverse")


# ---------------------------------------------------------------------- batched LU

@both
@_cuda_on_host
def btrifact(A, info=None, pivot=True, out=None):
    """A_LU, pivots = btrifact(A): the LU factorization of each matrix of a batch (B x n x n), L and U
    packed as in getrf, pivots a B x n IntTensor of 1-based row interchanges. With an IntTensor
    ``info``, it receives each factorization's LAPACK info (non-zero: singular) instead of an error."""
    cls = type(A)
    a = _matrix(A, "btrifact", "A")
    if _dim(a) != 3:
        raise RuntimeError("btrifact(): invalid argument 1: expected 3D tensor, got {}D".format(_dim(a)))
    if not pivot:
        raise RuntimeError("btrifact without pivoting is not implemented on the CPU")
    nb, m, n = a.shape
    if m != n:
        raise RuntimeError("btrifact is only implemented for square matrices (got {}x{})".format(m, n))
    if info is not None and type(info) is not IntTensor:
        raise TypeError("btrifact(): info must be a torch.IntTensor, got {}".format(_typename_of(info)))
    f = _lapack_fn("getrf", a.dtype)
    lu = np.empty(a.shape, a.dtype)
    piv = np.empty((nb, n), np.int32)
    infos = np.zeros(nb, np.int32)
    for i in range(nb):
        lu_i, piv_i, inf = f(a[i])
        lu[i] = lu_i
        piv[i] = piv_i
        infos[i] = inf
        if inf < 0 or (inf != 0 and info is None):
            raise RuntimeError("failed to factorize batch element {} (info == {})".format(i, inf))
    piv += 1
    if info is not None:
        write_out(info, IntTensor, infos, "btrifact")
    return _results(((lu, cls), (piv, IntTensor)), out, "btrifact")


@both
@_cuda_on_host
def btrisolve(b, LU_data, LU_pivots, out=None):
    """x = btrisolve(b, LU_data, LU_pivots): solves A x = b for each batch element, given btrifact's
    factorization of A; b is B x n (one right-hand side per matrix) or B x n x k."""
    cls = type(b)
    rhs = _matrix(b, "btrisolve", "b")
    lu = _same(b, LU_data, "btrisolve", "LU_data")
    if not isinstance(LU_pivots, _TensorBase) or type(LU_pivots) is not IntTensor:
        raise TypeError("btrisolve(): LU_pivots must be a torch.IntTensor, got {}".format(_typename_of(LU_pivots)))
    piv = LU_pivots._a
    if _dim(lu) != 3:
        raise RuntimeError("btrisolve(): invalid argument 1: expected 3D tensor, got {}D".format(_dim(lu)))
    if _dim(rhs) not in (2, 3):
        raise RuntimeError("btrisolve(): invalid argument 4: expected 2D or 3D tensor, got {}D".format(_dim(rhs)))
    if lu.shape[0] != rhs.shape[0]:
        raise RuntimeError("btrisolve(): invalid argument 3: number of batches must be equal ({} and {})"
                           .format(lu.shape[0], rhs.shape[0]))
    if lu.shape[1] != lu.shape[2]:
        raise RuntimeError("btrisolve(): invalid argument 3: A matrices must be square, got {}x{}"
                           .format(lu.shape[1], lu.shape[2]))
    if lu.shape[1] != rhs.shape[1]:
        raise RuntimeError("btrisolve(): invalid argument 3: dimensions of A and b must be equal ({} and {})"
                           .format(lu.shape[1], rhs.shape[1]))
    if piv.shape != lu.shape[:2]:
        raise RuntimeError("btrisolve(): LU_pivots should have size [{} x {}], got {}"
                           .format(lu.shape[0], lu.shape[1], list(piv.shape) if piv.size else []))
    f = _lapack_fn("getrs", lu.dtype)
    x = np.empty(rhs.shape, rhs.dtype)
    piv0 = piv - 1
    for i in range(lu.shape[0]):
        bi = rhs[i] if rhs.ndim == 3 else rhs[i][:, None]
        xi, inf = f(lu[i], piv0[i], bi)
        if inf != 0:
            raise RuntimeError("Error during multi-LU solve (info == {})".format(inf))
        x[i] = xi if rhs.ndim == 3 else xi[:, 0]
    return _results(((x, cls),), out, "btrisolve")


@torch_function
@_cuda_on_host
def btriunpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """P, L, U = btriunpack(*btrifact(A)) with A[i] = P[i] L[i] U[i]; L has a unit diagonal. P is None
    unless unpack_pivots, L and U are None unless unpack_data."""
    lu = _matrix(LU_data, "btriunpack", "LU_data")
    if _dim(lu) != 3 or lu.shape[1] != lu.shape[2]:
        raise RuntimeError("btriunpack(): LU_data should be a batch of square matrices (B x n x n), got {}"
                           .format(list(lu.shape) if lu.size else []))
    cls = type(LU_data)
    nb, n, _ = lu.shape
    L = U = P = None
    if unpack_data:
        U = cls._make(np.triu(lu))
        low = np.tril(lu, -1)
        low[:, np.arange(n), np.arange(n)] = 1
        L = cls._make(low)
    if unpack_pivots:
        if not isinstance(LU_pivots, _TensorBase) or type(LU_pivots) is not IntTensor:
            raise TypeError("btriunpack(): LU_pivots must be a torch.IntTensor, got {}"
                            .format(_typename_of(LU_pivots)))
        piv = LU_pivots._a
        if piv.shape != (nb, n):
            raise RuntimeError("btriunpack(): LU_pivots should have size [{} x {}], got {}"
                               .format(nb, n, list(piv.shape) if piv.size else []))
        # apply the row interchanges in order to the identity's columns (as 0.2 does, batch-wise)
        perm = np.tile(np.arange(n), (nb, 1))
        rows = np.arange(nb)
        for j in range(n):
            k = piv[:, j].astype(np.intp) - 1
            pj = perm[:, j].copy()
            perm[:, j] = perm[rows, k]
            perm[rows, k] = pj
        p = np.zeros(lu.shape, lu.dtype)
        p[rows[:, None], perm, np.arange(n)[None, :]] = 1
        P = cls._make(p)
    return P, L, U
