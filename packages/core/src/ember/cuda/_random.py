"""The GPU's random numbers: one Philox4x32-10 generator per device (counter-based, the generator of
cuRAND's and PyTorch's later CUDA samplers), as CUDA kernels (``ember.kernels.cuda._raw``).

A generator's whole state is (seed, offset): element i of a draw of n numbers comes from the counter
offset + i, and the draw moves the offset on by n, so ``ember.cuda.get_rng_state()`` / ``set_rng_state()``
save and restore it exactly (0.2's MTGP32 state does not survive a change of generator anyway), and the
fake CUDA, running the same kernels on the host, draws the very numbers a GPU draws. The methods have the
names and arguments of ``cupy.random`` that ember's samplers (``ember._ops.random``) call.

Uniform floats take 24 random bits (float) or 53 (double), in [0, 1); normals are Box-Muller on two
uniforms of one counter; exponentials, Cauchy and log-normal transform them; integers in a range use
rejection (up to 32 tries, each on its own counter stream) so that every value is equally likely.
"""
import random as _pyrandom
import struct

import numpy as np

from ember import _backend
from ember.kernels.cuda._raw import Kernel

_PHILOX = r"""
__device__ __forceinline__ unsigned int mul_hi_lo(unsigned int a, unsigned int b, unsigned int* hi) {
    unsigned long long p = (unsigned long long)a * b;
    *hi = (unsigned int)(p >> 32);
    return (unsigned int)p;
}

// Philox4x32-10 of counter w (in place) under key (seed low, seed high)
__device__ __forceinline__ void philox(unsigned int w[4], unsigned long long seed) {
    unsigned int k0 = (unsigned int)seed, k1 = (unsigned int)(seed >> 32);
    for (int r = 0; r < 10; ++r) {
        unsigned int hi0, hi1;
        unsigned int lo0 = mul_hi_lo(0xD2511F53u, w[0], &hi0);
        unsigned int lo1 = mul_hi_lo(0xCD9E8D57u, w[2], &hi1);
        w[0] = hi1 ^ w[1] ^ k0;
        w[1] = lo1;
        w[2] = hi0 ^ w[3] ^ k1;
        w[3] = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

// the four random words of element i of a draw starting at ``offset``, on counter stream ``stream``
__device__ __forceinline__ void words(unsigned long long seed, unsigned long long offset, index_t i,
                                      unsigned int stream, unsigned int w[4]) {
    unsigned long long c = offset + (unsigned long long)i;
    w[0] = (unsigned int)c;
    w[1] = (unsigned int)(c >> 32);
    w[2] = stream;
    w[3] = 0;
    philox(w, seed);
}

// uniform in [0, 1): 24 random bits for float, 53 for double
__device__ __forceinline__ scalar_t unit(unsigned int a, unsigned int b) {
    if (sizeof(scalar_t) == 4)
        return (scalar_t)(a >> 8) * (scalar_t)5.9604644775390625e-08;
    return (scalar_t)(((unsigned long long)(a >> 5) << 26) | (b >> 6)) * (scalar_t)1.1102230246251565e-16;
}
"""

_UNIFORM, _NORMAL, _LOG_NORMAL, _EXPONENTIAL, _CAUCHY = range(5)

_real = Kernel("philox_real", _PHILOX + r"""
extern "C" __global__ void philox_real(scalar_t* out, index_t n, unsigned long long seed, unsigned long long offset,
                                       int kind, scalar_t a, scalar_t b) {
    const scalar_t pi = (scalar_t)3.14159265358979323846;
    EMBER_LOOP(i, n) {
        unsigned int w[4];
        words(seed, offset, i, 0, w);
        scalar_t u = unit(w[0], w[1]), v;
        if (kind == 0) {
            v = (b - a) * u + a;
        } else if (kind == 1 || kind == 2) {
            scalar_t r = sqrt((scalar_t)-2 * log((scalar_t)1 - u));  // 1 - u in (0, 1]
            v = r * cos(2 * pi * unit(w[2], w[3])) * b + a;
            if (kind == 2)
                v = exp(v);
        } else if (kind == 3) {
            v = -log((scalar_t)1 - u) * a;
        } else {
            v = tan(pi * (u - (scalar_t)0.5)) * b + a;
        }
        out[i] = v;
    }
}
""")

_RANDINT, _GEOMETRIC = range(2)

# randint: low + x % range for the first 64-bit x at or above (2^64 - range) % range (range 0: all 2^64
# values); geometric(p): floor(log(1 - u) / log(1 - p)) + 1 trials, saturating at the largest long
_integer = Kernel("philox_integer", _PHILOX + r"""
extern "C" __global__ void philox_integer(long long* out, index_t n, unsigned long long seed,
                                          unsigned long long offset, int kind, long long low,
                                          unsigned long long range, double p) {
    EMBER_LOOP(i, n) {
        unsigned int w[4];
        words(seed, offset, i, 0, w);
        if (kind == 0) {
            unsigned long long x = ((unsigned long long)w[1] << 32) | w[0];
            if (range != 0) {
                unsigned long long threshold = (0 - range) % range;
                for (unsigned int attempt = 1; x < threshold && attempt < 32; ++attempt) {
                    words(seed, offset, i, attempt, w);
                    x = ((unsigned long long)w[1] << 32) | w[0];
                }
                x %= range;
            }
            out[i] = (long long)((unsigned long long)low + x);
        } else {
            double u = (double)(((unsigned long long)(w[0] >> 5) << 26) | (w[1] >> 6)) * 1.1102230246251565e-16;
            double trials = floor(log(1.0 - u) / log1p(-p)) + 1;
            out[i] = trials >= 9.2233720368547758e18 ? 0x7fffffffffffffffLL : (long long)trials;
        }
    }
}
""")


class PhiloxGenerator(object):
    """One device's generator: ``seed`` (64 bits) and ``offset`` (the next counter)."""

    def __init__(self, seed):
        self.seed, self.offset = int(seed) & 0xFFFFFFFFFFFFFFFF, 0

    def _take(self, n):
        offset = self.offset
        self.offset = (offset + n) & 0xFFFFFFFFFFFFFFFF
        return np.uint64(offset)

    def _reals(self, kind, size, dtype, a=0.0, b=0.0):
        xp = _backend.cupy
        compute = np.float64 if np.dtype(dtype) == np.float64 else np.float32
        out = xp.empty(size if size is not None else (), compute)
        _real(out.size, out, out.size, np.uint64(self.seed), self._take(out.size), np.int32(kind), float(a),
              float(b), dtype=compute)
        return out if out.dtype == np.dtype(dtype) else out.astype(dtype)

    def _integers(self, kind, size, low=0, span=0, p=0.0):
        xp = _backend.cupy
        out = xp.empty(size if size is not None else (), np.int64)
        _integer(out.size, out, out.size, np.uint64(self.seed), self._take(out.size), np.int32(kind), np.int64(low),
                 np.uint64(span), np.float64(p), dtype=np.float64)
        return out

    # --- cupy.random's names
    def random_sample(self, size=None, dtype=float):
        return self._reals(_UNIFORM, size, dtype, 0.0, 1.0)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        return self._reals(_UNIFORM, size, dtype, low, high)

    def standard_normal(self, size=None, dtype=float):
        return self._reals(_NORMAL, size, dtype, 0.0, 1.0)

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        return self._reals(_NORMAL, size, dtype, loc, scale)

    def lognormal(self, mean=0.0, sigma=1.0, size=None, dtype=float):
        return self._reals(_LOG_NORMAL, size, dtype, mean, sigma)

    def standard_exponential(self, size=None, dtype=float):
        return self._reals(_EXPONENTIAL, size, dtype, 1.0)

    def exponential(self, scale=1.0, size=None, dtype=float):
        return self._reals(_EXPONENTIAL, size, dtype, scale)

    def standard_cauchy(self, size=None, dtype=float):
        return self._reals(_CAUCHY, size, dtype, 0.0, 1.0)

    def randint(self, low, high=None, size=None, dtype=np.int64):
        """Integers in [low, high) (high - low up to 2**64)."""
        if high is None:
            low, high = 0, low
        out = self._integers(_RANDINT, size, low, (int(high) - int(low)) & 0xFFFFFFFFFFFFFFFF)
        return out if np.dtype(dtype) == np.int64 else out.astype(dtype)

    def geometric(self, p, size=None, dtype=np.int64):
        out = self._integers(_GEOMETRIC, size, p=float(p))
        return out if np.dtype(dtype) == np.int64 else out.astype(dtype)

    # --- state
    def get_state(self):
        """The state as 16 bytes: seed and offset, little-endian."""
        return struct.pack("<QQ", self.seed, self.offset)

    def set_state(self, state):
        self.seed, self.offset = struct.unpack("<QQ", bytes(state))


_generators = {}  # (fake CUDA or not, device) -> PhiloxGenerator


def generator(device=None):
    """The generator of ``device`` (the current one by default), made on first use with a random seed
    (ember.cuda.manual_seed replaces it)."""
    if device is None:
        device = _backend.cupy.cuda.runtime.getDevice()
    key = (_backend.fake, device)
    g = _generators.get(key)
    if g is None:
        g = _generators[key] = PhiloxGenerator(_pyrandom.getrandbits(64))
    return g
