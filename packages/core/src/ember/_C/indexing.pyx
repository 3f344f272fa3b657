"""Gather/scatter and triangle kernels for the indexing family (ember/_ops/indexing.py).

Every op is reduced to three dimensions (outer, indexed, inner): ``gather`` reads
``out[o, j, i] = src[o, idx[o, j, i], i]`` and ``scatter`` writes ``dst[o, idx[o, j, i], i]``.
index_select / index_copy_ / index_add_ / index_fill_ pass their 1-D index as a 3-D view with zero
strides (an index read once per row, then a contiguous row copy or add); take / put_ pass flat
(1, n, 1) views. Any strides work (views need no copy).

Pure data movement runs on same-size integer views of the data (a float32 tensor moves as int32,
float16 as int16). Out-of-range indices are skipped and reported in ``err``: err[1] = 1 and
err[0] = one offending value (threads may race to write it; any of them is a correct report).

With a separate index per element and an inner dim (o, j, i with i > 1), the work goes in blocks of
BLOCK_BYTES along i, walking all j inside a block: the random rows ``idx`` picks are then reused
across a whole cache line instead of being fetched once per element.
"""
from cython.parallel cimport prange

import numpy as np
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t

ctypedef fused moved:
    int8_t
    int16_t
    int32_t
    int64_t

ctypedef fused scalar_t:
    float
    double
    int64_t
    int32_t
    int16_t
    int8_t
    uint8_t

cdef enum:
    COPY = 0  # scatter modes
    FILL = 1
    ADD = 2
    SERIAL_BELOW = 32768  # below this many elements one thread beats waking the pool
    BLOCK_BYTES = 256


cdef inline Py_ssize_t _cdiv(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    return (a + b - 1) // b


def gather(const moved[:, :, :] src, const int64_t[:, :, :] idx, moved[:, :, :] out,
           int64_t[::1] err, int nthreads):
    cdef Py_ssize_t O = idx.shape[0], N = idx.shape[1], I = idx.shape[2], S = src.shape[1]
    cdef Py_ssize_t c, nc, k, k1, u, o, j, j0, j1, i, i0, i1, B, nb, nj
    cdef Py_ssize_t ss0, ss1, ss2, is0, is1, is2, os0, os1, os2
    cdef const moved* sp
    cdef const moved* sb
    cdef const moved* srow
    cdef const int64_t* ip
    cdef const int64_t* ib
    cdef moved* op
    cdef moved* ob
    cdef moved* orow
    cdef int64_t v
    if O * N * I == 0:
        return
    if O * N * I < SERIAL_BELOW:
        nthreads = 1
    sp, ip, op = &src[0, 0, 0], &idx[0, 0, 0], &out[0, 0, 0]
    ss0 = src.strides[0] // sizeof(moved)
    ss1 = src.strides[1] // sizeof(moved)
    ss2 = src.strides[2] // sizeof(moved)
    is0 = idx.strides[0] // 8
    is1 = idx.strides[1] // 8
    is2 = idx.strides[2] // 8
    os0 = out.strides[0] // sizeof(moved)
    os1 = out.strides[1] // sizeof(moved)
    os2 = out.strides[2] // sizeof(moved)

    if I > 1 and is2 != 0:
        # an index per element: units of (o, inner block, run of j); every output element is written once,
        # so any split is safe
        B = BLOCK_BYTES // sizeof(moved)
        if B > I:
            B = I
        nb = _cdiv(I, B)
        nj = 1
        if O * nb < 4 * nthreads:
            nj = _cdiv(4 * nthreads, O * nb)
            if nj > N:
                nj = N
        for u in prange(O * nb * nj, nogil=True, num_threads=nthreads, schedule="static"):
            o = u // (nb * nj)
            i0 = (u // nj) % nb * B
            i1 = i0 + B
            if i1 > I:
                i1 = I
            j0 = (u % nj) * N // nj
            j1 = (u % nj + 1) * N // nj
            ib = ip + o * is0
            sb = sp + o * ss0
            ob = op + o * os0
            for j in range(j0, j1):
                for i in range(i0, i1):
                    v = ib[j * is1 + i * is2]
                    if v < 0 or v >= S:
                        err[0] = v
                        err[1] = 1
                    else:
                        ob[j * os1 + i * os2] = sb[v * ss1 + i * ss2]
        return

    # one index per (o, j) row: each thread takes a contiguous run of the O * N rows
    nc = nthreads * 4 if O * N >= nthreads * 4 else 1
    for c in prange(nc, nogil=True, num_threads=nthreads, schedule="static"):
        k = c * (O * N) // nc
        k1 = (c + 1) * (O * N) // nc
        while k < k1:
            o = k // N
            j0 = k % N
            j1 = j0 + (k1 - k)
            if j1 > N:
                j1 = N
            k = k + (j1 - j0)
            ib = ip + o * is0
            sb = sp + o * ss0
            ob = op + o * os0
            if I == 1:
                for j in range(j0, j1):
                    v = ib[j * is1]
                    if v < 0 or v >= S:
                        err[0] = v
                        err[1] = 1
                    else:
                        ob[j * os1] = sb[v * ss1]
            else:
                for j in range(j0, j1):
                    v = ib[j * is1]
                    if v < 0 or v >= S:
                        err[0] = v
                        err[1] = 1
                        continue
                    srow = sb + v * ss1
                    orow = ob + j * os1
                    if ss2 == 1 and os2 == 1:
                        for i in range(I):
                            orow[i] = srow[i]
                    else:
                        for i in range(I):
                            orow[i * os2] = srow[i * ss2]


def scatter(scalar_t[:, :, :] dst, const int64_t[:, :, :] idx, const scalar_t[:, :, :] src, scalar_t value,
            int mode, int64_t[::1] err, int nthreads):
    """dst[o, idx[o, j, i], i] = src[o, j, i] (mode 0), = value (mode 1), += src[o, j, i] (mode 2);
    ``src`` is not read in mode 1. Threads split (o, inner block) pairs and every thread walks j in
    order, so no two threads write one element and duplicate indices resolve as a serial loop would
    (the last j wins; sums accumulate in index order). Filling, where the order cannot matter, also
    splits j."""
    cdef Py_ssize_t O = idx.shape[0], N = idx.shape[1], I = idx.shape[2], D = dst.shape[1]
    cdef Py_ssize_t u, o, j, j0, j1, i, i0, i1, B, nb, nj
    cdef Py_ssize_t ds0, ds1, ds2, is0, is1, is2, ss0, ss1, ss2
    cdef scalar_t* dp
    cdef scalar_t* db
    cdef scalar_t* drow
    cdef const scalar_t* sp
    cdef const scalar_t* sb
    cdef const scalar_t* srow
    cdef const int64_t* ip
    cdef const int64_t* ib
    cdef int64_t v
    if O * N * I == 0:
        return
    if O * N * I < SERIAL_BELOW:
        nthreads = 1
    dp, ip, sp = &dst[0, 0, 0], &idx[0, 0, 0], &src[0, 0, 0]
    ds0 = dst.strides[0] // sizeof(scalar_t)
    ds1 = dst.strides[1] // sizeof(scalar_t)
    ds2 = dst.strides[2] // sizeof(scalar_t)
    is0 = idx.strides[0] // 8
    is1 = idx.strides[1] // 8
    is2 = idx.strides[2] // 8
    ss0 = src.strides[0] // sizeof(scalar_t)
    ss1 = src.strides[1] // sizeof(scalar_t)
    ss2 = src.strides[2] // sizeof(scalar_t)
    if I > 1 and is2 != 0:
        B = BLOCK_BYTES // sizeof(scalar_t)  # cache blocking, see the module docstring
    else:
        # rows: whole inner rows per unit when the outer dim alone feeds every thread, else split the
        # inner dim (at least 16 elements, a cache line of floats, per block)
        B = I
        if O < nthreads and I > 16:
            B = _cdiv(I * O, nthreads)
            if B < 16:
                B = 16
    if B > I:
        B = I
    nb = _cdiv(I, B)
    nj = 1
    if mode == FILL and O * nb < nthreads:
        nj = nthreads
    for u in prange(O * nb * nj, nogil=True, num_threads=nthreads, schedule="static"):
        o = u // (nb * nj)
        i0 = (u // nj) % nb * B
        i1 = i0 + B
        if i1 > I:
            i1 = I
        j0 = (u % nj) * N // nj
        j1 = (u % nj + 1) * N // nj
        db = dp + o * ds0
        ib = ip + o * is0
        sb = sp + o * ss0
        if I == 1:
            if mode == COPY:
                for j in range(j0, j1):
                    v = ib[j * is1]
                    if v < 0 or v >= D:
                        err[0] = v
                        err[1] = 1
                    else:
                        db[v * ds1] = sb[j * ss1]
            elif mode == FILL:
                for j in range(j0, j1):
                    v = ib[j * is1]
                    if v < 0 or v >= D:
                        err[0] = v
                        err[1] = 1
                    else:
                        db[v * ds1] = value
            else:
                for j in range(j0, j1):
                    v = ib[j * is1]
                    if v < 0 or v >= D:
                        err[0] = v
                        err[1] = 1
                    else:
                        db[v * ds1] = db[v * ds1] + sb[j * ss1]
        elif is2 == 0:
            # one index per row: a contiguous (vectorisable) row operation
            for j in range(j0, j1):
                v = ib[j * is1]
                if v < 0 or v >= D:
                    err[0] = v
                    err[1] = 1
                    continue
                drow = db + v * ds1
                srow = sb + j * ss1
                if mode == FILL:
                    for i in range(i0, i1):
                        drow[i * ds2] = value
                elif ds2 == 1 and ss2 == 1:
                    if mode == COPY:
                        for i in range(i0, i1):
                            drow[i] = srow[i]
                    else:
                        for i in range(i0, i1):
                            drow[i] = drow[i] + srow[i]
                elif mode == COPY:
                    for i in range(i0, i1):
                        drow[i * ds2] = srow[i * ss2]
                else:
                    for i in range(i0, i1):
                        drow[i * ds2] = drow[i * ds2] + srow[i * ss2]
        else:
            for j in range(j0, j1):
                for i in range(i0, i1):
                    v = ib[j * is1 + i * is2]
                    if v < 0 or v >= D:
                        err[0] = v
                        err[1] = 1
                    elif mode == COPY:
                        db[v * ds1 + i * ds2] = sb[j * ss1 + i * ss2]
                    elif mode == FILL:
                        db[v * ds1 + i * ds2] = value
                    else:
                        db[v * ds1 + i * ds2] = db[v * ds1 + i * ds2] + sb[j * ss1 + i * ss2]


def triangle(const moved[:, :] src, moved[:, :] dst, Py_ssize_t k, bint lower, int nthreads):
    """dst = tril(src, k) when ``lower``, else triu(src, k). ``dst`` may be ``src`` itself (in place): then
    only the zeros are written."""
    cdef Py_ssize_t R = src.shape[0], C = src.shape[1], r, c, split
    cdef bint inplace = &src[0, 0] == &dst[0, 0]
    if R * C < SERIAL_BELOW:
        nthreads = 1
    for r in prange(R, nogil=True, num_threads=nthreads, schedule="static"):
        # row r keeps columns c <= r + k (lower) or c >= r + k (upper); ``split`` starts the upper part
        split = r + k + 1 if lower else r + k
        if split < 0:
            split = 0
        elif split > C:
            split = C
        if lower:
            if not inplace:
                for c in range(split):
                    dst[r, c] = src[r, c]
            for c in range(split, C):
                dst[r, c] = 0
        else:
            for c in range(split):
                dst[r, c] = 0
            if not inplace:
                for c in range(split, C):
                    dst[r, c] = src[r, c]


ctypedef fused addable_t:
    float
    double


def index_add_rows(addable_t[:, ::1] dst, const int64_t[::1] idx, const addable_t[:, ::1] src,
                   int64_t[::1] err, int nthreads):
    """dst[idx[j], :] += src[j, :] for C-contiguous rows (index_add_ along dim 0, the common case).

    Threads split the columns, so no two write one element and each element sees the adds in index
    order (the result does not depend on the thread count); rows stay contiguous for the compiler."""
    cdef Py_ssize_t N = idx.shape[0], R = dst.shape[0], C = dst.shape[1]
    cdef Py_ssize_t nt = nthreads if N * C >= SERIAL_BELOW else 1
    cdef Py_ssize_t t, j, k, c0, c1, per
    cdef int64_t r
    cdef addable_t* drow
    cdef const addable_t* srow
    if nt > C:
        nt = C if C > 0 else 1
    per = _cdiv(C, nt) if nt > 0 else C
    for t in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        c0 = t * per
        c1 = c0 + per
        if c1 > C:
            c1 = C
        for j in range(N):
            r = idx[j]
            if r < 0 or r >= R:
                err[0] = r
                err[1] = 1
                continue
            drow = &dst[r, 0]
            srow = &src[j, 0]
            for k in range(c0, c1):
                drow[k] += srow[k]


def bounds(const int64_t[:] idx):
    """(smallest, largest) of a non-empty index vector, in one pass (two NumPy reductions cost 3 us on
    the few indices of a small take/put_)."""
    cdef Py_ssize_t i, n = idx.shape[0]
    cdef int64_t lo, hi, v
    if n == 0:
        raise ValueError("bounds: empty index")
    lo = hi = idx[0]
    with nogil:
        for i in range(1, n):
            v = idx[i]
            if v < lo:
                lo = v
            if v > hi:
                hi = v
    return lo, hi


ctypedef fused counted_t:
    uint8_t
    int8_t
    int16_t
    int32_t
    int64_t
    float
    double


def nonzero(const counted_t[::1] flat, tuple shape, int nthreads):
    """The multi-indices (into ``shape``, C order) of the nonzero elements of ``flat`` (NaN counts as
    nonzero, -0.0 as zero): an (n, len(shape)) int64 array. Each thread counts its chunk, then writes its
    rows from its offset (see _write_nonzero)."""
    cdef Py_ssize_t n = flat.shape[0], nd = len(shape), c, i, k, nchunks, chunk, total = 0
    cdef int64_t[::1] dims = np.array(shape, dtype=np.int64)
    cdef int64_t[::1] counts
    cdef int64_t[:, ::1] out
    if n != (np.prod(shape, dtype=np.int64) if nd else 1) or nd > 32:
        raise ValueError("nonzero: {} elements in shape {} (at most 32 dims)".format(n, shape))
    if n == 0:
        return np.empty((0, nd), np.int64)
    nchunks = max(1, min(64, n // 65536)) if nthreads > 1 else 1
    if nchunks == 1:
        nthreads = 1
    chunk = (n + nchunks - 1) // nchunks
    counts = np.zeros(nchunks + 1, np.int64)
    for c in prange(nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        counts[c + 1] = _count_nonzero(&flat[0], c * chunk, min(n, (c + 1) * chunk))
    for c in range(nchunks):
        counts[c + 1] += counts[c]
    out = np.empty((counts[nchunks], nd), np.int64)
    if counts[nchunks] == 0 or nd == 0:
        return np.asarray(out)
    for c in prange(nchunks, nogil=True, num_threads=nthreads, schedule="static"):
        _write_nonzero(&flat[0], c * chunk, min(n, (c + 1) * chunk), &dims[0], nd, &out[0, 0] + counts[c] * nd,
                       &out[0, 0] + counts[c + 1] * nd)
    return np.asarray(out)


cdef Py_ssize_t _count_nonzero(const counted_t* p, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t i, m = 0
    for i in range(start, stop):
        m += p[i] != 0
    return m


cdef void _write_nonzero(const counted_t* p, Py_ssize_t start, Py_ssize_t stop, const int64_t* dims, Py_ssize_t nd,
                         int64_t* row, int64_t* end) noexcept nogil:
    """Rows [row, end) get the multi-indices of the nonzero elements of p[start:stop]. Every element writes
    its multi-index at ``row``, which only a nonzero one moves on (no branch to mispredict on random data);
    the loop stops when the last row is written, so no write lands past ``end``."""
    cdef int64_t pos[32]
    cdef Py_ssize_t i, k
    cdef int64_t rem = start
    for k in range(nd - 1, -1, -1):  # the multi-index of element ``start``
        pos[k] = rem % dims[k]
        rem = rem // dims[k]
    for i in range(start, stop):
        if row == end:
            break
        for k in range(nd):
            row[k] = pos[k]
        row += nd * (p[i] != 0)
        k = nd - 1  # step the multi-index to element i + 1
        pos[k] += 1
        while pos[k] == dims[k] and k > 0:
            pos[k] = 0
            k -= 1
            pos[k] += 1
