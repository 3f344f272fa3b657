"""Fused optimizer updates: one pass over parameter, gradient and state per step (PyTorch 0.2's SGD and
Adam arithmetic, evaluated in the same order as its sequence of tensor ops)."""
from cython.parallel cimport prange
from libc.math cimport sqrt, sqrtf

ctypedef fused real:
    float
    double


def sgd_step(real[::1] p, real[::1] g, real[::1] buf, double lr, double momentum, double dampening,
             double weight_decay, bint nesterov, bint first, int num_threads):
    """d = g (+= wd * p, in place as 0.2); buf = first ? d : m * buf + (1 - dampening) * d;
    d = nesterov ? d + m * buf : buf; p -= lr * d. With momentum 0, buf is unused (pass p)."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef real d, b
    cdef real wd = <real>weight_decay, m = <real>momentum, damp = <real>(1 - dampening), nlr = <real>(-lr)
    with nogil:
        for i in prange(n, num_threads=num_threads, schedule="static"):
            d = g[i]
            if weight_decay != 0:
                d = d + wd * p[i]
                g[i] = d
            if momentum != 0:
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


def adam_step(real[::1] p, real[::1] g, real[::1] exp_avg, real[::1] exp_avg_sq, double beta1, double beta2,
              double eps, double step_size, double weight_decay, int num_threads):
    """0.2's Adam: g' = g + wd * p; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g' g';
    p -= step_size * m / (sqrt(v) + eps)."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef real gi, m, v, denom
    cdef real b1 = <real>beta1, b2 = <real>beta2, c1 = <real>(1 - beta1), c2 = <real>(1 - beta2)
    cdef real e = <real>eps, wd = <real>weight_decay, nss = <real>(-step_size)
    cdef bint decay = weight_decay != 0
    with nogil:
        for i in prange(n, num_threads=num_threads, schedule="static"):
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
