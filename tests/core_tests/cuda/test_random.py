"""The GPU generator (ember.cuda._random): Philox4x32-10 against the Random123 known-answer vector and a
Python transcription of the algorithm, its state save/restore, and the samplers' laws (the same kernels on
the fake CUDA and on a GPU, so the same numbers)."""
import math

import numpy as np
import pytest

import ember
import ember.cuda
from ember.cuda import _random

_M = 0xFFFFFFFF


def _philox_words(counter, key):
    """Philox4x32-10 written from the Random123 paper, in Python."""
    c, (k0, k1) = list(counter), key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k0, p1 & _M, (p0 >> 32) ^ c[3] ^ k1, p0 & _M]
        k0, k1 = (k0 + 0x9E3779B9) & _M, (k1 + 0xBB67AE85) & _M
    return c


def test_python_transcription_matches_random123_known_answer():
    assert _philox_words([0, 0, 0, 0], (0, 0)) == [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]


def _draw_words(seed, offset, n):
    """The first two words of elements offset .. offset+n-1 as the kernel draws them (randint over 2**64)."""
    g = _random.generator()
    g.set_state(seed.to_bytes(8, "little") + offset.to_bytes(8, "little"))
    x = ember.cuda.LongTensor._make(g.randint(0, 1 << 64, (n,))).cpu().numpy().view(np.uint64)
    return [(int(v) & _M, int(v) >> 32) for v in x]


@pytest.mark.parametrize("seed,offset", [(0, 0), (0x0123456789ABCDEF, 0xFFFFFFFFFFFFFFF0), (42, 1 << 40)])
def test_kernel_draws_the_philox_words(device_mode, seed, offset):
    got = _draw_words(seed, offset, 20)
    for i, words in enumerate(got):
        c = (offset + i) & 0xFFFFFFFFFFFFFFFF
        want = _philox_words([c & _M, c >> 32, 0, 0], (seed & _M, seed >> 32))
        assert words == (want[0], want[1]), i


def test_state_is_seed_and_offset_and_restores_exactly(device_mode):
    ember.cuda.manual_seed(7)
    assert ember.cuda.get_rng_state().tolist() == [7] + [0] * 15
    ember.cuda.FloatTensor(10).uniform_()
    state = ember.cuda.get_rng_state()
    assert state.tolist()[8] == 10  # ten numbers drawn: the counter moved on by ten
    draws = [ember.cuda.DoubleTensor(5).normal_(), ember.cuda.LongTensor(6).random_(0, 100),
             ember.cuda.FloatTensor(4).bernoulli_(0.5)]
    ember.cuda.set_rng_state(state)
    again = [ember.cuda.DoubleTensor(5).normal_(), ember.cuda.LongTensor(6).random_(0, 100),
             ember.cuda.FloatTensor(4).bernoulli_(0.5)]
    for a, b in zip(draws, again):
        assert a.tolist() == b.tolist()


def test_each_device_has_its_own_generator(fake_cuda):
    ember.cuda.manual_seed_all(3)
    with ember.cuda.device(1):
        ember.cuda.FloatTensor(100).uniform_()
        assert ember.cuda.get_rng_state().tolist()[8] == 100
    assert ember.cuda.get_rng_state().tolist()[8] == 0
    assert ember.cuda.get_rng_state(1).tolist()[8] == 100


def _ks_uniform(u):
    u = np.sort(u)
    n = len(u)
    return max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n))


@pytest.mark.parametrize("dtype", ["FloatTensor", "DoubleTensor"])
def test_samplers_follow_their_laws(device_mode, dtype):
    ember.cuda.manual_seed(11)
    n = 40000
    make = getattr(ember.cuda, dtype)
    u = make(n).uniform_(-2, 3).cpu().numpy()
    assert u.min() >= -2 and u.max() < 3 and _ks_uniform((u + 2) / 5) < 1.63 / math.sqrt(n)  # KS at 1%
    z = make(n).normal_(1, 2).cpu().numpy()
    assert abs(z.mean() - 1) < 4 * 2 / math.sqrt(n) and abs(z.std() - 2) < 0.05
    from math import erf
    cdf = np.array([0.5 * (1 + erf((v - 1) / (2 * math.sqrt(2)))) for v in z[:5000]])
    assert _ks_uniform(cdf) < 1.63 / math.sqrt(5000)
    e = make(n).exponential_(4).cpu().numpy()
    assert e.min() >= 0 and _ks_uniform(1 - np.exp(-4 * e[:5000].astype(np.float64))) < 1.63 / math.sqrt(5000)
    c = make(n).cauchy_(0.5, 2).cpu().numpy()
    assert abs(np.median(c) - 0.5) < 0.1 and abs(np.percentile(c, 75) - np.percentile(c, 25) - 4) < 0.3
    ln = make(n).log_normal_(0.2, 0.5).cpu().numpy()
    assert abs(np.log(ln).mean() - 0.2) < 0.02 and abs(np.log(ln).std() - 0.5) < 0.02
    g = make(n).geometric_(0.25).cpu().numpy()
    assert g.min() >= 1 and abs(g.mean() - 4) < 0.1 and abs((g == 1).mean() - 0.25) < 0.02


def test_integers_are_uniform_over_any_range(device_mode):
    ember.cuda.manual_seed(5)
    r = ember.cuda.LongTensor(60000).random_(-3, 7).cpu().numpy()
    counts = np.bincount(r + 3, minlength=10)
    assert r.min() == -3 and r.max() == 6
    chi2 = ((counts - 6000) ** 2 / 6000).sum()
    assert chi2 < 21.7  # chi-square, 9 degrees of freedom, 1%
    # a range just over half of 2**63: plain modulo would make the low half twice as likely
    span = (1 << 62) + (1 << 61)
    big = ember.cuda.LongTensor(20000).random_(0, span).cpu().numpy()
    assert big.min() >= 0 and big.max() < span and abs((big < span // 2).mean() - 0.5) < 0.02
    full = ember.cuda.LongTensor(20000).random_().cpu().numpy()  # [0, 2**63)
    assert full.min() >= 0 and abs((full >= 1 << 62).mean() - 0.5) < 0.02
