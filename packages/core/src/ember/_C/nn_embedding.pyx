"""Embedding kernels, THNN's LookupTable (PyTorch 0.2): the weight gradient (an index_add of rows of
grad_output, optionally scaled by 1 / frequency) and the max-norm renormalisation of referenced rows.

Callers check indices first (``first_out_of_range``); the kernels then index without checks.
"""
import numpy as np
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport fabs, pow, sqrt
from libc.stdint cimport int64_t

ctypedef Py_ssize_t intp

DEF GRAIN = 16384


def first_out_of_range(int64_t[::1] idx, int64_t num):
    """Index of the first value outside [0, num), or -1."""
    cdef intp i, bad = -1
    with nogil:
        for i in range(idx.shape[0]):
            if idx[i] < 0 or idx[i] >= num:
                bad = i
                break
    return bad


def backward(int64_t[::1] idx, floating[:, ::1] go, floating[:, ::1] gw, int64_t padding_idx,
             bint scale_by_freq, int nthreads):
    """gw[idx[i]] += go[i] (divided by the count of idx[i] when ``scale_by_freq``) for every i with
    idx[i] != padding_idx. Threads own disjoint ranges of gw's rows, so no two threads add to one row."""
    cdef intp n = idx.shape[0], D = gw.shape[1], R = gw.shape[0], i, j, per
    cdef int nt = nthreads if n * D >= GRAIN and nthreads > 1 else 1
    cdef int64_t[::1] count
    cdef int64_t r
    cdef int tid
    cdef floating s
    cdef floating *src
    cdef floating *dst
    if go.shape[0] != n or go.shape[1] != D:
        raise ValueError("embedding backward: grad_output must be ({}, {})".format(n, D))
    if scale_by_freq:
        count = np.zeros(R, np.int64)
        with nogil:
            for i in range(n):
                count[idx[i]] += 1
    per = (R + nt - 1) // nt
    for tid in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        for i in range(n):
            r = idx[i]
            if r == padding_idx or r < tid * per or r >= (tid + 1) * per:
                continue
            s = <floating>(1.0 / count[r]) if scale_by_freq else 1
            src = &go[i, 0]
            dst = &gw[r, 0]
            for j in range(D):
                dst[j] += s * src[j]


def renorm(floating[:, :] w, int64_t[::1] rows, double max_norm, double norm_type, int nthreads):
    """Rows ``rows`` (distinct) of w whose norm_type-norm exceeds max_norm are scaled by
    max_norm / (norm + 1e-7)."""
    cdef intp n = rows.shape[0], D = w.shape[1], i, j
    cdef int nt = nthreads if n * D >= GRAIN and nthreads > 1 else 1
    cdef double norm, f
    cdef int64_t r
    for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
        r = rows[i]
        norm = 0
        for j in range(D):
            if norm_type == 1:
                norm = norm + fabs(w[r, j])
            elif norm_type == 2:
                norm = norm + w[r, j] * w[r, j]
            else:
                norm = norm + pow(fabs(w[r, j]), norm_type)
        if norm_type == 2:
            norm = sqrt(norm)
        elif norm_type != 1:
            norm = pow(norm, 1.0 / norm_type)
        if norm > max_norm:
            f = max_norm / (norm + 1e-7)
            for j in range(D):
                w[r, j] = <floating>(w[r, j] * f)
