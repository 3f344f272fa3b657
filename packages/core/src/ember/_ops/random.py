"""Random sampling: ``torch.Generator``, the default generator and seeding (manual_seed, initial_seed, seed,
get_rng_state, set_rng_state), the in-place samplers (uniform_, normal_, bernoulli_, exponential_,
geometric_, log_normal_, cauchy_, random_), bernoulli, multinomial, normal, rand, randn and randperm.

Bit generator: NumPy's PCG64 behind ``numpy.random.Generator``. Chosen over MT19937 (what TH used) because
it fills float32 ~1.5x faster and its state is two 128-bit words; a seed reproduces ember's own
sequence, never 0.2's (0.2's samplers differ too, so no choice of bit generator could). The state travels as a
56-byte ByteTensor: b"EMBRPCG1", the initial seed, PCG64's 128-bit state and increment, and the
buffered half of a 64-bit draw NumPy keeps for 32-bit requests (all little-endian).

As in 0.2, the default generator is seeded from the clock at import (``initial_seed()`` returns that seed)
and so is each new ``Generator()``. Samples fill a tensor in its logical (row-major) order, whatever its
strides, so a transposed or sliced tensor gets the values a contiguous one would.

Per type, as 0.2's TH: uniform_, normal_, exponential_, log_normal_, cauchy_, bernoulli(), multinomial
and normal are for floating-point types; random_, bernoulli_ and geometric_ work on every type.
HalfTensor (which 0.2 left without math on the CPU) samples in float32 and rounds: an ember extra.
"""
import numbers
import operator
import os
import time

import numpy as np

from ember.tensor import ByteTensor, LongTensor, _TensorBase, _default, _sizes_arg, _typename_of
from ember._threads import get_num_threads
from ember._C import random as _k
from . import TORCH_FUNCTIONS, both, tensor_method, torch_function
from ._util import broadcast_error, finish, long_cls, write_out

_f16, _f32, _f64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_u64 = np.dtype(np.uint64)
_MASK64 = (1 << 64) - 1
_STATE_MAGIC = b"EMBRPCG1"
_STATE_SIZE = 56
_PARALLEL_MIN = 1 << 16  # below this many samples a kernel runs on one thread


# ---------------------------------------------------------------------------- generators

def _clock_seed():
    # 0.2 used time(0); nanoseconds (and the pid) keep processes started together apart
    return (time.time_ns() ^ (os.getpid() << 40)) & _MASK64


def _seed_arg(seed, op):
    if not isinstance(seed, numbers.Integral):
        raise RuntimeError("{} expected a long, but got {}".format(op, _typename_of(seed)))
    s = int(seed)
    if not -(1 << 63) <= s <= _MASK64:
        raise RuntimeError("{}: seed {} does not fit in 64 bits".format(op, s))
    return s & _MASK64  # a negative seed is taken as C's unsigned long cast did


class Generator(object):
    """A random number generator (0.2's ``torch.Generator``): pass it as ``generator=`` to any sampler."""
    __slots__ = ("_g", "_seed")

    def __init__(self):
        self._reseed(_clock_seed())

    def _reseed(self, seed):
        self._seed = seed
        self._g = np.random.Generator(np.random.PCG64(seed))

    def manual_seed(self, seed):
        """Seed with the integer ``seed``; returns this generator."""
        self._reseed(_seed_arg(seed, "manual_seed"))
        return self

    def seed(self):
        """Seed from the clock; returns the new seed."""
        s = _clock_seed()
        self._reseed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The whole state as a ByteTensor (see the module docstring for its layout)."""
        st = self._g.bit_generator.state
        data = b"".join((_STATE_MAGIC, self._seed.to_bytes(8, "little"),
                         st["state"]["state"].to_bytes(16, "little"), st["state"]["inc"].to_bytes(16, "little"),
                         int(st["has_uint32"]).to_bytes(4, "little"), int(st["uinteger"]).to_bytes(4, "little")))
        return ByteTensor._make(np.frombuffer(data, np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state()`` (of this or any Generator); returns this generator."""
        if type(new_state) is not ByteTensor:
            raise TypeError("expected a torch.ByteTensor, but got {}".format(_typename_of(new_state)))
        data = new_state._a.tobytes()
        if len(data) != _STATE_SIZE:
            raise RuntimeError("RNG state is wrong size: expected {} bytes (a state from ember's get_rng_state()), "
                               "got {}".format(_STATE_SIZE, len(data)))
        if data[:8] != _STATE_MAGIC:
            raise RuntimeError("invalid RNG state: it does not start with ember's header {!r}; pass a ByteTensor "
                               "returned by get_rng_state() / Generator.get_state()".format(_STATE_MAGIC))
        word = int.from_bytes
        state, inc = word(data[16:32], "little"), word(data[32:48], "little")
        has_uint32, uinteger = word(data[48:52], "little"), word(data[52:56], "little")
        if not inc & 1 or has_uint32 > 1 or uinteger >> 32:
            raise RuntimeError("invalid RNG state: corrupt PCG64 fields (increment {:#x}, buffered flag {})"
                               .format(inc, has_uint32))
        self._g.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                                       "has_uint32": has_uint32, "uinteger": uinteger}
        self._seed = word(data[8:16], "little")
        return self


default_generator = Generator()
# not functions: straight into the export table (torch_function would wrap them for Variable dispatch)
TORCH_FUNCTIONS["Generator"] = Generator
TORCH_FUNCTIONS["default_generator"] = default_generator


def _gen(generator):
    if generator is None:
        return default_generator._g
    if type(generator) is Generator:
        return generator._g
    raise TypeError("generator must be a torch.Generator, got {}".format(_typename_of(generator)))


@torch_function
def manual_seed(seed):
    """Seed the default generator (and every CUDA device's); returns the default generator."""
    s = _seed_arg(seed, "manual_seed")
    from ember import cuda
    cuda.manual_seed_all(s)
    return default_generator.manual_seed(s)


@torch_function
def seed():
    """Seed the default generator (and the CUDA devices') from the clock; returns the seed. (An ember extra,
    as later PyTorch has it; 0.2 had only ``Generator.seed``.)"""
    s = default_generator.seed()
    from ember import cuda
    cuda.manual_seed_all(s)
    return s


@torch_function
def initial_seed():
    return default_generator.initial_seed()


@torch_function
def get_rng_state():
    return default_generator.get_state()


@torch_function
def set_rng_state(new_state):
    default_generator.set_state(new_state)


# ---------------------------------------------------------------------------- helpers

def _real(value, op, name):
    if type(value) is float or type(value) is int or isinstance(value, numbers.Real):
        return value
    raise TypeError("{}(): {} must be a number, got {}".format(op, name, _typename_of(value)))


def _float_only(self, op):
    cls = type(self)
    if not cls._is_floating:
        raise TypeError("{}(): not implemented for {} (floating-point tensor types only)".format(op, cls._typename))


def _dev_random(generator, op):
    """The current device's generator (ember.cuda._random: Philox, seeded by ember.cuda.manual_seed), for
    CUDA tensors."""
    if generator is not None:
        raise NotImplementedError("{}(): generator= applies to CPU tensors; CUDA tensors draw from the device's "
                                  "generator (seed it with ember.cuda.manual_seed)".format(op))
    from ember.cuda import _random
    return _random.generator()


def _dev_dtype(a):
    return _f32 if a.dtype == _f16 else a.dtype


def _buffer(a):
    """Where a float sampler writes: ``a`` itself when NumPy can fill it in logical order (C-contiguous,
    float32/float64), else a fresh C-contiguous buffer (float32 for half) for ``_commit``."""
    dt = a.dtype
    if dt == _f32 or dt == _f64:
        if a.flags.c_contiguous:
            return a
        return np.empty(a.shape, dt)
    return np.empty(a.shape, _f32)


def _commit(a, buf):
    if buf is not a:
        np.copyto(a, buf, casting="unsafe")


def _threads(n):
    return get_num_threads() if n >= _PARALLEL_MIN else 1


def _std_normal_into(g, buf, mean=0.0, std=1.0):
    """Fill ``buf`` (C-contiguous float32/float64) with normal(mean, std) samples."""
    n = buf.size
    if buf.dtype == _f32:
        g.random(dtype=_f32, out=buf)
        _k.normal_f32(buf.reshape(-1), mean, std, g.random(dtype=_f32) if n & 1 else 0.0, _threads(n))
    else:
        g.standard_normal(dtype=_f64, out=buf)
        if std != 1:
            buf *= std
        if mean != 0:
            buf += mean


def _positive_std(std, op):
    if not std > 0:
        raise RuntimeError("{}(): invalid argument 2: standard deviation must be strictly positive (got {})"
                           .format(op, std))


# ---------------------------------------------------------------------------- in-place samplers

@tensor_method
def uniform_(self, from_=0, to=1, *, generator=None):
    """Fill with samples from the continuous uniform distribution on [from, to)."""
    _float_only(self, "uniform_")
    _real(from_, "uniform_", "from")
    _real(to, "uniform_", "to")
    if self.is_cuda:
        a = self._a
        a[...] = _dev_random(generator, "uniform_").uniform(from_, to, a.shape, _dev_dtype(a))
        return self
    g = _gen(generator)
    a = self._a
    buf = _buffer(a)
    g.random(dtype=buf.dtype, out=buf)
    if from_ != 0 or to != 1:
        buf *= to - from_
        buf += from_
    _commit(a, buf)
    return self


@tensor_method
def normal_(self, mean=0, std=1, *, generator=None):
    """Fill with samples from the normal distribution N(mean, std^2)."""
    _float_only(self, "normal_")
    _real(mean, "normal_", "mean")
    _positive_std(_real(std, "normal_", "std"), "normal_")
    if self.is_cuda:
        a = self._a
        a[...] = _dev_random(generator, "normal_").normal(mean, std, a.shape, _dev_dtype(a))
        return self
    g = _gen(generator)
    a = self._a
    buf = _buffer(a)
    _std_normal_into(g, buf, mean, std)
    _commit(a, buf)
    return self


@tensor_method
def log_normal_(self, mean=1, std=2, *, generator=None):
    """Fill with exp(X), X ~ N(mean, std^2) (``mean``/``std`` are the underlying normal's, as in 0.2)."""
    _float_only(self, "log_normal_")
    _real(mean, "log_normal_", "mean")
    _positive_std(_real(std, "log_normal_", "std"), "log_normal_")
    if self.is_cuda:
        a = self._a
        a[...] = _dev_random(generator, "log_normal_").lognormal(mean, std, a.shape, _dev_dtype(a))
        return self
    g = _gen(generator)
    a = self._a
    buf = _buffer(a)
    _std_normal_into(g, buf, mean, std)
    np.exp(buf, out=buf)
    _commit(a, buf)
    return self


@tensor_method
def exponential_(self, lambd=1, *, generator=None):
    """Fill with samples from the exponential distribution of rate ``lambd`` (density lambd*exp(-lambd*x))."""
    _float_only(self, "exponential_")
    if not _real(lambd, "exponential_", "lambd") > 0:
        raise RuntimeError("exponential_(): invalid argument 1: lambd must be positive (got {})".format(lambd))
    if self.is_cuda:
        a = self._a
        a[...] = _dev_random(generator, "exponential_").exponential(1.0 / lambd, a.shape, _dev_dtype(a))
        return self
    g = _gen(generator)
    a = self._a
    buf = _buffer(a)
    g.standard_exponential(dtype=buf.dtype, out=buf)
    if lambd != 1:
        buf *= 1.0 / lambd
    _commit(a, buf)
    return self


@tensor_method
def cauchy_(self, median=0, sigma=1, *, generator=None):
    """Fill with samples from the Cauchy distribution: median + sigma * tan(pi * (U - 1/2))."""
    _float_only(self, "cauchy_")
    _real(median, "cauchy_", "median")
    _real(sigma, "cauchy_", "sigma")
    if self.is_cuda:
        a = self._a
        c = _dev_random(generator, "cauchy_").standard_cauchy(a.shape, _dev_dtype(a))
        a[...] = c * sigma + median
        return self
    g = _gen(generator)
    a = self._a
    buf = _buffer(a)
    g.random(dtype=buf.dtype, out=buf)
    buf -= 0.5
    buf *= np.pi
    np.tan(buf, out=buf)
    if sigma != 1:
        buf *= sigma
    if median != 0:
        buf += median
    _commit(a, buf)
    return self


@tensor_method
def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to and including the first success:
    P(X = k) = (1-p)^(k-1) p, k = 1, 2, ... (0.2's documented law). Integer types saturate at their maximum."""
    cls = type(self)
    if not 0 < _real(p, "geometric_", "p") < 1:
        raise RuntimeError("geometric_(): invalid argument 1: must be > 0 and < 1 (got p={})".format(p))
    if cls.is_cuda:
        a = self._a
        x = _dev_random(generator, "geometric_").geometric(p, a.shape)
        a[...] = x if cls._is_floating else np.minimum(x, int(cls._iinfo.max))
        return self
    g = _gen(generator)
    a = self._a
    if not a.size:
        return self
    # floor(E / -ln(1-p)) + 1 with E ~ Exp(1): P(X > k) = P(E >= -k ln(1-p)) = (1-p)^k
    scale = -1.0 / np.log1p(-p)
    if a.dtype == _f32 or a.dtype == _f64:
        buf = _buffer(a)
        g.standard_exponential(dtype=buf.dtype, out=buf)
        buf *= scale
        np.floor(buf, out=buf)
        buf += 1
        _commit(a, buf)
        return self
    x = g.standard_exponential(a.shape)
    x *= scale
    np.floor(x, out=x)
    x += 1
    top = float(cls._iinfo.max) if not cls._is_floating else np.inf
    np.minimum(x, top, out=x)
    np.copyto(a, x, casting="unsafe")
    return self


def _check_probs(pa, op):
    lo, hi = pa.min(), pa.max()
    if not (lo >= 0 and hi <= 1):
        raise RuntimeError("{}(): probabilities must be in [0, 1], got values in [{}, {}]".format(op, lo, hi))


@tensor_method
def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 where a uniform draw falls below ``p`` (a number, or a Float/Double tensor of
    probabilities with self's number of elements or broadcastable to its size), else 0."""
    cls = type(self)
    g = _gen(generator) if not cls.is_cuda else None
    a = self._a
    if not a.size:
        return self
    if isinstance(p, _TensorBase):
        if not type(p)._is_floating or p.is_cuda != cls.is_cuda:
            raise TypeError("bernoulli_(): p must be a number or a torch.FloatTensor / torch.DoubleTensor of "
                            "probabilities, got {}".format(p._typename))
        pa = p._a
        if pa.shape != a.shape:
            if pa.size == a.size:
                pa = pa.reshape(a.shape)  # 0.2 pairs elements in order when the sizes differ
            else:
                try:
                    pa = np.broadcast_to(pa, a.shape)
                except ValueError:
                    raise broadcast_error(a.shape, pa.shape) from None
        _check_probs(pa, "bernoulli_")
        if cls.is_cuda:
            a[...] = _dev_random(generator, "bernoulli_").random_sample(a.shape, _dev_dtype(pa)) < pa
            return self
        u = g.random(a.shape, dtype=_f64 if pa.dtype == _f64 else _f32)
        np.less(u, pa, out=a, casting="unsafe")
        return self
    if not 0 <= _real(p, "bernoulli_", "p") <= 1:
        raise RuntimeError("bernoulli_(): invalid argument 1: must be >= 0 and <= 1 (got p={})".format(p))
    if cls.is_cuda:
        a[...] = _dev_random(generator, "bernoulli_").random_sample(a.shape, _f32) < p
        return self
    if a.dtype == _f32 or a.dtype == _f64:
        buf = _buffer(a)
        g.random(dtype=buf.dtype, out=buf)
        np.less(buf, p, out=buf)
        _commit(a, buf)
        return self
    u = g.random(a.shape, dtype=_f32)
    np.less(u, p, out=a, casting="unsafe")
    return self


_RANDOM_TOP = {_f32: 1 << 24, _f64: 1 << 53, _f16: 1 << 11}  # 2^significand bits: all integers below are exact


def _int_arg(v, op, name):
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError("{}(): {} must be an int, got {}".format(op, name, _typename_of(v))) from None


@tensor_method
def random_(self, from_=None, to=None, *, generator=None):
    """random_() | random_(to) | random_(from, to): integers uniform on [from, to). With no bounds:
    [0, 2^mantissa] for floating types (2^24 float, 2^53 double) and [0, max] for integer types, as TH."""
    cls = type(self)
    a = self._a
    if to is None and from_ is None:
        lo = 0
        hi = _RANDOM_TOP[a.dtype] + 1 if cls._is_floating else int(cls._iinfo.max) + 1
    else:
        if to is None:
            lo, hi = 0, _int_arg(from_, "random_", "to")
        else:
            lo = 0 if from_ is None else _int_arg(from_, "random_", "from")
            hi = _int_arg(to, "random_", "to")
        if lo >= hi:
            raise RuntimeError("random_(): invalid argument: from must be less than to (got from={}, to={})"
                               .format(lo, hi))
        info = cls._iinfo or np.iinfo(np.int64)
        if lo < info.min or hi - 1 > info.max:
            raise RuntimeError("random_(): the range [{}, {}) does not fit {} (values in [{}, {}])"
                               .format(lo, hi, cls._typename, info.min, info.max))
    if cls.is_cuda:
        a[...] = _dev_random(generator, "random_").randint(lo, hi, a.shape, np.int64)
        return self
    g = _gen(generator)
    if not a.size:
        return self
    if cls._is_floating:
        dt = np.int32 if -(1 << 31) <= lo and hi <= 1 << 31 else np.int64
    else:
        dt = a.dtype
    vals = g.integers(lo, hi, a.shape, dtype=dt)
    np.copyto(a, vals, casting="unsafe")
    return self


# ---------------------------------------------------------------------------- new tensors

@both
def bernoulli(input, *, generator=None, out=None):
    """A tensor of input's type and size with 1 where a uniform draw falls below input's probability, else 0."""
    _float_only(input, "bernoulli")
    pa = input._a
    if pa.size:
        _check_probs(pa, "bernoulli")
    if input.is_cuda:
        u = _dev_random(generator, "bernoulli").random_sample(pa.shape, _dev_dtype(pa))
    else:
        u = _gen(generator).random(pa.shape, dtype=_f64 if pa.dtype == _f64 else _f32)
    return finish(type(input), np.less(u, pa).astype(pa.dtype), out, "bernoulli")


@both
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices (LongTensor) drawn from the distribution(s) given by the non-negative weights in
    each row of ``input`` (1-D: one distribution, 2-D: one per row). Without replacement a category is
    drawn at most once per row and one of weight 0 never is."""
    op = "multinomial"
    _float_only(input, op)
    a = input._a
    nd = a.ndim if a.size else 0
    if nd not in (1, 2):
        raise RuntimeError("multinomial(): invalid argument 1: prob_dist must be 1 or 2 dim (got {}D)".format(nd))
    n = _int_arg(num_samples, op, "num_samples")
    if n <= 0:
        raise RuntimeError("multinomial(): invalid argument 2: cannot sample n_sample <= 0 samples (got {})"
                           .format(n))
    if input.is_cuda:
        return _dev_multinomial(input, n, replacement, generator, out)
    w = np.array(a.reshape(1, -1) if nd == 1 else a, dtype=_f64, order="C")
    rows, ncat = w.shape
    if not replacement and n > ncat:
        raise RuntimeError("multinomial(): invalid argument 2: cannot sample n_sample > prob_dist:size(1) samples "
                           "without replacement (n_sample={}, {} categories)".format(n, ncat))
    if not np.isfinite(w).all() or (w < 0).any():
        raise RuntimeError("multinomial(): invalid multinomial distribution (weights must be finite and >= 0)")
    g = _gen(generator)
    if replacement:
        cum = np.cumsum(w, axis=1)
        if not (cum[:, -1] > 0).all():
            raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
        res = np.empty((rows, n), np.int64)
        # threads pay off by the work: samples x binary-search steps
        _k.multinomial_with_replacement(cum, g.random((rows, n)), res, _threads(rows * n * ncat.bit_length()))
    else:
        positive = w > 0
        short = np.count_nonzero(positive, axis=1).min()
        if short == 0:
            raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
        if short < n:
            raise RuntimeError("multinomial(): invalid multinomial distribution: without replacement, a row has "
                               "only {} categories of non-zero probability, fewer than n_sample={}".format(short, n))
        # Successive draws without replacement are the categories in increasing order of E_i / w_i,
        # E_i ~ Exp(1) (the exponential race: the first to finish wins with probability w_i / sum w)
        keys = g.standard_exponential((rows, ncat))
        np.divide(keys, w, out=keys, where=positive)
        keys[~positive] = np.inf
        if n < ncat:
            part = np.argpartition(keys, n - 1, axis=1)[:, :n]
            order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1)
            res = np.take_along_axis(part, order, axis=1)
        else:
            res = np.argsort(keys, axis=1)
    return finish(LongTensor, res[0] if nd == 1 else res, out, op)


def _dev_multinomial(input, n, replacement, generator, out):
    """multinomial on the device: inverse CDF with replacement, the exponential race without (as on the CPU)."""
    op = "multinomial"
    a = input._a
    xp = type(input)._xp
    rnd = _dev_random(generator, op)
    w = (a.reshape(1, -1) if a.ndim == 1 else a).astype(_f64)
    rows, ncat = w.shape
    if not replacement and n > ncat:
        raise RuntimeError("multinomial(): invalid argument 2: cannot sample n_sample > prob_dist:size(1) samples "
                           "without replacement (n_sample={}, {} categories)".format(n, ncat))
    if not bool(xp.isfinite(w).all()) or bool((w < 0).any()):
        raise RuntimeError("multinomial(): invalid multinomial distribution (weights must be finite and >= 0)")
    if replacement:
        cum = xp.cumsum(w, axis=1)
        if not bool((cum[:, -1] > 0).all()):
            raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
        u = rnd.random_sample((rows, n), _f64) * cum[:, -1:]
        res = xp.minimum((cum[:, None, :] <= u[:, :, None]).sum(axis=2), ncat - 1)
    else:
        positive = w > 0
        short = int(xp.count_nonzero(positive, axis=1).min())
        if short == 0:
            raise RuntimeError("multinomial(): invalid multinomial distribution (sum of probabilities <= 0)")
        if short < n:
            raise RuntimeError("multinomial(): invalid multinomial distribution: without replacement, a row has "
                               "only {} categories of non-zero probability, fewer than n_sample={}".format(short, n))
        keys = xp.where(positive, rnd.standard_exponential((rows, ncat), _f64) / xp.where(positive, w, 1.0), xp.inf)
        res = xp.argsort(keys, axis=1)[:, :n]
    long = long_cls(type(input))
    return finish(long, (res[0] if a.ndim == 1 else res).astype(np.int64), out, op)


def _normal_args_error(means, std):
    got = ", ".join(_typename_of(x) for x in (means, std) if x is not None)
    return TypeError("torch.normal received an invalid combination of arguments - got ({}), but expected one of:\n"
                     " * (torch.FloatTensor means, float std, *, torch.Generator generator)\n"
                     " * (float mean, torch.FloatTensor std, *, torch.Generator generator)\n"
                     " * (torch.FloatTensor means, torch.FloatTensor std, *, torch.Generator generator)\n"
                     .format(got))


@torch_function
def normal(means=None, std=None, *, mean=None, generator=None, out=None):
    """normal(means, std=1.0) | normal(mean=0.0, std) | normal(means, std): a tensor of samples, element i
    from N(means[i], std[i]^2), sized like the tensor argument (``means`` when both are tensors)."""
    if mean is not None:
        if means is not None:
            raise TypeError("normal(): got both means and mean")
        means = mean
    m_tensor = isinstance(means, _TensorBase)
    s_tensor = isinstance(std, _TensorBase)
    if m_tensor:
        cls = type(means)
        if std is None:
            std = 1.0
        elif s_tensor and type(std) is not cls:
            raise TypeError("normal(): means and std must be tensors of the same type, got {} and {}"
                            .format(means._typename, std._typename))
    elif s_tensor:
        cls = type(std)
        if means is None:
            means = 0.0
    else:
        raise _normal_args_error(means, std)
    _float_only(means if m_tensor else std, "normal")
    g = _gen(generator) if not cls.is_cuda else None
    ma = means._a if m_tensor else _real(means, "normal", "mean")
    if s_tensor:
        sa = std._a
        if sa.size and not sa.min() > 0:
            raise RuntimeError("normal(): invalid argument 2: standard deviation must be strictly positive "
                               "(got a minimum of {})".format(sa.min()))
    else:
        _positive_std(_real(std, "normal", "std"), "normal")
        sa = std
    shape = ma.shape if m_tensor else sa.shape
    if m_tensor and s_tensor and sa.shape != shape:
        if sa.size == ma.size:
            sa = sa.reshape(shape)  # 0.2 pairs elements in order
        else:
            try:
                shape = np.broadcast_shapes(shape, sa.shape)
            except ValueError:
                raise broadcast_error(ma.shape, sa.shape) from None
    if cls.is_cuda:
        z = _dev_random(generator, "normal").standard_normal(shape, _f64 if cls._dtype == _f64 else _f32)
    else:
        z = np.empty(shape, _f64 if cls._dtype == _f64 else _f32)
        _std_normal_into(g, z)
    z *= sa
    z += ma
    return finish(cls, z if z.dtype == cls._dtype else z.astype(cls._dtype), out, "normal")


def _new_float(sizes, out, op):
    """The (class, shape) of a rand/randn result: out's type when given, else the default tensor type."""
    shape = _sizes_arg(sizes, op)
    if any(s < 0 for s in shape):
        raise RuntimeError("{}(): sizes must be non-negative, got {}".format(op, list(shape)))
    if out is not None and not isinstance(out, _TensorBase):
        raise TypeError("{}(): out must be a tensor, got {}".format(op, _typename_of(out)))
    cls = _default["tensor"] if out is None else type(out)
    if not cls._is_floating:
        raise TypeError("{}(): not implemented for {} (floating-point tensor types only)".format(op, cls._typename))
    return cls, (shape if shape and all(shape) else (0,))


def _sized(out, shape):
    # an out of the right size keeps its strides (0.2's resize_ changed nothing then)
    return out if out._a.shape == shape else out.resize_(shape)


@torch_function
def rand(*sizes, generator=None, out=None):
    """A tensor of the given sizes with samples uniform on [0, 1)."""
    cls, shape = _new_float(sizes, out, "rand")
    if out is None and (cls._dtype == _f32 or cls._dtype == _f64) and not cls.is_cuda:
        return cls._make(_gen(generator).random(shape, dtype=cls._dtype))
    return uniform_(cls(*shape) if out is None else _sized(out, shape), generator=generator)


@torch_function
def randn(*sizes, generator=None, out=None):
    """A tensor of the given sizes with samples from the standard normal distribution."""
    cls, shape = _new_float(sizes, out, "randn")
    if out is None and (cls._dtype == _f32 or cls._dtype == _f64) and not cls.is_cuda:
        z = np.empty(shape, cls._dtype)
        _std_normal_into(_gen(generator), z)
        return cls._make(z)
    return normal_(cls(*shape) if out is None else _sized(out, shape), generator=generator)


@torch_function
def randperm(n, *, generator=None, out=None):
    """A random permutation of 0 .. n-1 (a LongTensor, or out's type)."""
    n = _int_arg(n, "randperm", "n")
    if n <= 0:
        raise RuntimeError("randperm(): invalid argument 1: must be strictly positive (got n={})".format(n))
    g = _gen(generator)
    if n < 1 << 32:
        perm = np.empty(n, np.int64)
        _k.permutation(perm, g.integers(0, _MASK64, n, dtype=_u64, endpoint=True))
    else:
        perm = g.permutation(n)
    if out is None:
        return LongTensor._make(perm)
    if not isinstance(out, _TensorBase):
        raise TypeError("randperm(): out must be a tensor, got {}".format(_typename_of(out)))
    if out.is_cuda:
        perm = out._xp.asarray(perm)
    return write_out(out, type(out), perm, "randperm")
