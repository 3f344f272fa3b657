"""The fused optimizer updates of ``ember.kernels.optim`` on the GPU: 0.2's SGD and Adam arithmetic (the
order of ``_C/optim.pyx``) as one CUDA kernel per parameter (``_raw``), on flat C-contiguous arrays of the
parameter and its state. Half arrays are updated through float32 working copies, rounded back once at the
end.
"""
import numpy as np

from ember import _backend

from . import widened
from ._raw import Kernel

# d = g (+= wd * p, in place as 0.2); buf = first ? d : m * buf + (1 - dampening) * d;
# d = nesterov ? d + m * buf : buf; p -= lr * d
_sgd = Kernel("sgd_step", r"""
extern "C" __global__ void sgd_step(scalar_t* p, scalar_t* g, scalar_t* buf, index_t n, scalar_t lr,
                                    scalar_t momentum, scalar_t dampening, scalar_t weight_decay, int nesterov,
                                    int first) {
    EMBER_LOOP(i, n) {
        scalar_t d = g[i];
        if (weight_decay != 0) {
            d += weight_decay * p[i];
            g[i] = d;
        }
        if (momentum != 0) {
            scalar_t b = first ? d : buf[i] * momentum + (1 - dampening) * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] -= lr * d;
    }
}
""")

# g' = g + wd * p; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g' g'; p -= step_size * m / (sqrt(v) + eps)
_adam = Kernel("adam_step", r"""
extern "C" __global__ void adam_step(scalar_t* p, const scalar_t* g, scalar_t* m, scalar_t* v, index_t n,
                                     scalar_t beta1, scalar_t beta2, scalar_t eps, scalar_t step_size,
                                     scalar_t weight_decay) {
    EMBER_LOOP(i, n) {
        scalar_t grad = g[i];
        if (weight_decay != 0)
            grad = grad + weight_decay * p[i];
        scalar_t mi = m[i] * beta1 + (1 - beta1) * grad;
        scalar_t vi = v[i] * beta2 + (1 - beta2) * grad * grad;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step_size * (mi / (sqrt(vi) + eps));
    }
}
""")


def _write_back(arrays, work):
    """Round the float32 working copies back into the half arrays they stand for (others are their own)."""
    for a, w in zip(arrays, work):
        if w is not a:
            a[...] = w


def sgd_step(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, first):
    """One SGD update of p in place (and of g with weight decay, and of buf, None without momentum)."""
    arrays = (p, g) if buf is None else (p, g, buf)
    work = [widened(a) for a in arrays]
    wp, wg = work[0], work[1]
    # without momentum the kernel never reads buf: a one-element stand-in
    wb = work[2] if buf is not None else _backend.get_array_module(wp).empty(1, wp.dtype)
    _sgd(wp.size, wp, wg, wb, wp.size, float(lr), float(momentum), float(dampening), float(weight_decay),
         np.int32(bool(nesterov)), np.int32(bool(first)), dtype=wp.dtype)
    _write_back(arrays, work)


def adam_step(xp, p, g, exp_avg, exp_avg_sq, beta1, beta2, eps, step_size, weight_decay):
    """One Adam update of p, exp_avg and exp_avg_sq in place."""
    arrays = (p, exp_avg, exp_avg_sq)
    work = [widened(a) for a in arrays]
    wp, m, v = work
    _adam(wp.size, wp, widened(g), m, v, wp.size, float(beta1), float(beta2), float(eps), float(step_size),
          float(weight_decay), dtype=wp.dtype)
    _write_back(arrays, work)

