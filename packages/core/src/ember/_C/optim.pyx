"""Fused optimizer updates: one pass over parameter, gradient and state per step (PyTorch 0.2's SGD and
Adam arithmetic, evaluated in the same order as its sequence of tensor ops). Several threads take
contiguous slices; one thread runs without a parallel region (libgomp's barriers make system calls that
cost more than a small parameter's update)."""
from cython.parallel cimport prange
from libc.math cimport sqrt, sqrtf

ctypedef fused real:
    float
    double


cdef void _sgd_range(real *p, real *g, real *buf, Py_ssize_t i0, Py_ssize_t i1, real wd, real m, real damp,
                     real nlr, bint decay, bint has_momentum, bint nesterov, bint first) noexcept nogil:
    cdef Py_ssize_t i
    cdef real d, b
    for i in range(i0, i1):
        d = g[i]
        if decay:
            d = d + wd * p[i]
            g[i] = d
        if has_momentum:
            if first:
                b = d
            else:
                b = buf[i] * m
                b = b + damp * d
            buf[i] = b
            if nesterov:
                d = d + m * b
            else:
                d = b
        p[i] = p[i] + nlr * d


def sgd_step(real[::1] p, real[::1] g, real[::1] buf, double lr, double momentum, double dampening,
             double weight_decay, bint nesterov, bint first, int num_threads):
    """d = g (+= wd * p, in place as 0.2); buf = first ? d : m * buf + (1 - dampening) * d;
    d = nesterov ? d + m * buf : buf; p -= lr * d. With momentum 0, buf is unused (pass p)."""
    cdef Py_ssize_t n = p.shape[0], c
    cdef real wd = <real>weight_decay, m = <real>momentum, damp = <real>(1 - dampening), nlr = <real>(-lr)
    cdef bint decay = weight_decay != 0, has_momentum = momentum != 0
    if g.shape[0] != n or buf.shape[0] != n:
        raise ValueError("sgd_step: parameter, gradient and buffer must have one size")
    if n == 0:
        return
    if num_threads <= 1:
        _sgd_range(&p[0], &g[0], &buf[0], 0, n, wd, m, damp, nlr, decay, has_momentum, nesterov, first)
        return
    for c in prange(num_threads, nogil=True, num_threads=num_threads, schedule="static", chunksize=1):
        _sgd_range(&p[0], &g[0], &buf[0], c * n // num_threads, (c + 1) * n // num_threads, wd, m, damp, nlr,
                   decay, has_momentum, nesterov, first)


cdef void _adam_range(real *p, real *g, real *exp_avg, real *exp_avg_sq, Py_ssize_t i0, Py_ssize_t i1, real b1,
                      real b2, real c1, real c2, real e, real wd, real nss, bint decay) noexcept nogil:
    cdef Py_ssize_t i
    cdef real gi, m, v, denom
    for i in range(i0, i1):
        gi = g[i]
        if decay:
            gi = gi + wd * p[i]
        m = exp_avg[i] * b1
        m = m + c1 * gi
        exp_avg[i] = m
        v = exp_avg_sq[i] * b2
        v = v + c2 * gi * gi
        exp_avg_sq[i] = v
        if real is float:
            denom = sqrtf(v) + e
        else:
            denom = sqrt(v) + e
        p[i] = p[i] + nss * (m / denom)


def adam_step(real[::1] p, real[::1] g, real[::1] exp_avg, real[::1] exp_avg_sq, double beta1, double beta2,
              double eps, double step_size, double weight_decay, int num_threads):
    """0.2's Adam: g' = g + wd * p; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g' g';
    p -= step_size * m / (sqrt(v) + eps)."""
    cdef Py_ssize_t n = p.shape[0], c
    cdef real b1 = <real>beta1, b2 = <real>beta2, c1 = <real>(1 - beta1), c2 = <real>(1 - beta2)
    cdef real e = <real>eps, wd = <real>weight_decay, nss = <real>(-step_size)
    cdef bint decay = weight_decay != 0
    if g.shape[0] != n or exp_avg.shape[0] != n or exp_avg_sq.shape[0] != n:
        raise ValueError("adam_step: parameter, gradient and state must have one size")
    if n == 0:
        return
    if num_threads <= 1:
        _adam_range(&p[0], &g[0], &exp_avg[0], &exp_avg_sq[0], 0, n, b1, b2, c1, c2, e, wd, nss, decay)
        return
    for c in prange(num_threads, nogil=True, num_threads=num_threads, schedule="static", chunksize=1):
        _adam_range(&p[0], &g[0], &exp_avg[0], &exp_avg_sq[0], c * n // num_threads, (c + 1) * n // num_threads,
                    b1, b2, c1, c2, e, wd, nss, decay)
