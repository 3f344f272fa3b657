"""Random sampling: Generator, seeding and RNG state, the in-place samplers, bernoulli, multinomial,
normal, rand, randn and randperm.

References: the distributions' laws (scipy.stats: Kolmogorov-Smirnov, chi-square and binomial tests on
~10k samples from fixed seeds, so every run is the same), exact formulas for the Box-Muller kernel and
for sampling without replacement, and PyTorch 2.13 (the oracle, where installed) through two-sample tests
that pin each sampler's parameterisation to torch's."""
import numpy as np
import pytest
from scipy import stats

import ember as torch
from ember._C import random as _k
from _helpers.oracle import require_torch

FLOAT_TYPES = [torch.FloatTensor, torch.DoubleTensor, torch.HalfTensor]
INT_TYPES = [torch.LongTensor, torch.IntTensor, torch.ShortTensor, torch.CharTensor, torch.ByteTensor]
ALL_TYPES = FLOAT_TYPES + INT_TYPES
N = 10000
ALPHA = 1e-3  # fixed seeds make these deterministic; the level only guards against a wrong law


def gen(seed=1234):
    return torch.Generator().manual_seed(seed)


def samples(cls, fill, n=N, seed=1234):
    """n values of ``fill(tensor, generator)`` on a fresh ``cls`` tensor, as float64."""
    t = cls(n)
    fill(t, gen(seed))
    return t.numpy().astype(np.float64)


@pytest.fixture
def double_default():
    torch.set_default_tensor_type("torch.DoubleTensor")
    yield
    torch.set_default_tensor_type("torch.FloatTensor")


# ---------------------------------------------------------------------------- seeding and state

SAMPLERS = {
    "uniform_": lambda g: torch.FloatTensor(7, 3).uniform_(-1, 2, generator=g),
    "normal_": lambda g: torch.DoubleTensor(9).normal_(1, 3, generator=g),
    "normal_odd_f32": lambda g: torch.FloatTensor(5, 3).normal_(generator=g),
    "log_normal_": lambda g: torch.FloatTensor(8).log_normal_(generator=g),
    "exponential_": lambda g: torch.FloatTensor(8).exponential_(generator=g),
    "cauchy_": lambda g: torch.DoubleTensor(8).cauchy_(generator=g),
    "geometric_": lambda g: torch.IntTensor(8).geometric_(0.2, generator=g),
    "bernoulli_": lambda g: torch.ByteTensor(33).bernoulli_(0.3, generator=g),
    "random_": lambda g: torch.LongTensor(8).random_(-100, 100, generator=g),
    "bernoulli": lambda g: torch.bernoulli(torch.FloatTensor(10).fill_(0.5), generator=g),
    "multinomial": lambda g: torch.multinomial(torch.FloatTensor(20).fill_(1), 10, generator=g),
    "multinomial_repl": lambda g: torch.multinomial(torch.DoubleTensor([[1, 2], [3, 4]]), 9, True, generator=g),
    "normal": lambda g: torch.normal(torch.zeros(6), 2.0, generator=g),
    "rand": lambda g: torch.rand(3, 4, generator=g),
    "randn": lambda g: torch.randn(11, generator=g),
    "randperm": lambda g: torch.randperm(20, generator=g),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_same_seed_same_numbers(name):
    fn = SAMPLERS[name]
    a = fn(gen(7)).numpy().copy()
    b = fn(gen(7)).numpy()
    c = fn(gen(8)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_default_generator_is_used_and_seeded_by_manual_seed(name):
    fn = SAMPLERS[name]
    torch.manual_seed(99)
    a = fn(None).numpy().copy()
    torch.manual_seed(99)
    b = fn(None).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, fn(gen(99)).numpy())  # the default generator is a Generator like any


def test_manual_seed_returns_default_generator_and_sets_initial_seed():
    assert torch.manual_seed(5) is torch.default_generator
    assert torch.initial_seed() == 5
    g = torch.Generator()
    assert g.manual_seed(17) is g
    assert g.initial_seed() == 17
    torch.manual_seed(-1)  # a C unsigned long cast, as 0.2
    assert torch.initial_seed() == 2 ** 64 - 1
    torch.manual_seed(np.int64(3))
    assert torch.initial_seed() == 3


@pytest.mark.parametrize("bad, exc, match", [
    (1.5, RuntimeError, "manual_seed expected a long, but got float"),
    ("1", RuntimeError, "manual_seed expected a long, but got str"),
    (2 ** 64, RuntimeError, "does not fit in 64 bits"),
    (-2 ** 63 - 1, RuntimeError, "does not fit in 64 bits"),
])
def test_manual_seed_errors(bad, exc, match):
    with pytest.raises(exc, match=match):
        torch.manual_seed(bad)
    with pytest.raises(exc, match=match):
        torch.Generator().manual_seed(bad)


def test_new_generators_are_seeded_from_the_clock():
    g1, g2 = torch.Generator(), torch.Generator()
    s1, s2 = g1.initial_seed(), g2.initial_seed()
    assert s1 != s2 and 0 <= s1 < 2 ** 64 and 0 <= s2 < 2 ** 64
    # initial_seed() really is the seed the generator started from
    a = torch.rand(5, generator=g1).numpy()
    np.testing.assert_array_equal(a, torch.rand(5, generator=gen(s1)).numpy())
    assert isinstance(torch.default_generator.initial_seed(), int)


def test_seed_reseeds_from_the_clock():
    g = gen(3)
    s = g.seed()
    assert g.initial_seed() == s != 3
    np.testing.assert_array_equal(torch.rand(4, generator=g).numpy(), torch.rand(4, generator=gen(s)).numpy())
    s2 = torch.seed()
    assert torch.initial_seed() == s2
    np.testing.assert_array_equal(torch.rand(4).numpy(), torch.rand(4, generator=gen(s2)).numpy())


def _draw_everything(g=None):
    # odd-sized and 8/16/32-bit draws leave half of a 64-bit word buffered: the state must carry it
    return [torch.ByteTensor(3).random_(generator=g).numpy().copy(),
            torch.FloatTensor(5).normal_(generator=g).numpy().copy(),
            torch.rand(3, generator=g).numpy().copy(),
            torch.DoubleTensor(2).normal_(generator=g).numpy().copy(),
            torch.randperm(7, generator=g).numpy().copy()]


@pytest.mark.parametrize("skew", [0, 1, 2])
def test_rng_state_round_trip(skew):
    torch.manual_seed(11)
    torch.ShortTensor(skew).random_() if skew else None
    state = torch.get_rng_state()
    assert type(state) is torch.ByteTensor and state.size() == torch.Size([56])
    first = _draw_everything()
    torch.manual_seed(12345)  # a different seed and stream...
    torch.set_rng_state(state)  # ...restored, including initial_seed
    assert torch.initial_seed() == 11
    for a, b in zip(first, _draw_everything()):
        np.testing.assert_array_equal(a, b)


def test_generator_state_moves_between_generators():
    g = gen(21)
    torch.rand(3, generator=g)
    st = g.get_state()
    h = torch.Generator()
    assert h.set_state(st) is h
    assert h.initial_seed() == 21
    for a, b in zip(_draw_everything(g), _draw_everything(h)):
        np.testing.assert_array_equal(a, b)
    st2 = h.get_state()
    np.testing.assert_array_equal(st2.numpy(), g.get_state().numpy())
    assert not np.array_equal(st2.numpy(), st.numpy())


def test_separate_generators_are_independent():
    g1, g2 = gen(5), gen(5)
    torch.manual_seed(0)
    before = torch.get_rng_state().numpy().copy()
    a = torch.rand(6, generator=g1).numpy().copy()
    torch.randn(100, generator=g2)  # advancing g2 ...
    torch.rand(100)  # ... or the default generator ...
    b = torch.rand(6, generator=g1).numpy()  # ... leaves g1's stream alone
    np.testing.assert_array_equal(np.concatenate([a, b]), torch.rand(12, generator=gen(5)).numpy())
    torch.manual_seed(0)
    torch.rand(6, generator=g1)
    np.testing.assert_array_equal(torch.get_rng_state().numpy(), before)  # generator= leaves the default alone


def test_set_state_rejects_bad_states():
    good = torch.get_rng_state()
    with pytest.raises(TypeError, match="expected a torch.ByteTensor, but got torch.FloatTensor"):
        torch.set_rng_state(torch.FloatTensor(56))
    with pytest.raises(TypeError, match="expected a torch.ByteTensor, but got bytes"):
        torch.set_rng_state(bytes(56))
    with pytest.raises(RuntimeError, match="RNG state is wrong size: expected 56 bytes.*got 5048"):
        torch.set_rng_state(torch.ByteTensor(5048).zero_())  # the size of a 0.2 state
    bad = good.clone()
    bad[0] = ord("X")
    with pytest.raises(RuntimeError, match="does not start with ember's header"):
        torch.set_rng_state(bad)
    bad = good.clone()
    bad[32] = bad[32] & 0xFE  # PCG64's increment is odd
    with pytest.raises(RuntimeError, match="corrupt PCG64 fields"):
        torch.set_rng_state(bad)
    bad = good.clone()
    bad[48] = 7
    with pytest.raises(RuntimeError, match="corrupt PCG64 fields"):
        torch.Generator().set_state(bad)
    np.testing.assert_array_equal(torch.get_rng_state().numpy(), good.numpy())  # failed sets changed nothing


def test_generator_argument_type_is_checked():
    for call in (lambda: torch.rand(2, generator=5), lambda: torch.FloatTensor(2).normal_(generator="g"),
                 lambda: torch.randperm(3, generator=np.random.default_rng())):
        with pytest.raises(TypeError, match="generator must be a torch.Generator"):
            call()


# ---------------------------------------------------------------------------- continuous laws

CONTINUOUS = [
    ("uniform_", lambda t, g: t.uniform_(-2, 3, generator=g), stats.uniform(-2, 5)),
    ("uniform_default", lambda t, g: t.uniform_(generator=g), stats.uniform(0, 1)),
    ("normal_", lambda t, g: t.normal_(1.5, 0.5, generator=g), stats.norm(1.5, 0.5)),
    ("normal_default", lambda t, g: t.normal_(generator=g), stats.norm(0, 1)),
    ("exponential_", lambda t, g: t.exponential_(2.5, generator=g), stats.expon(scale=1 / 2.5)),
    ("exponential_default", lambda t, g: t.exponential_(generator=g), stats.expon()),
    ("log_normal_", lambda t, g: t.log_normal_(0.5, 0.75, generator=g), stats.lognorm(s=0.75, scale=np.exp(0.5))),
    ("log_normal_default", lambda t, g: t.log_normal_(generator=g), stats.lognorm(s=2, scale=np.exp(1))),
    ("cauchy_", lambda t, g: t.cauchy_(1, 2, generator=g), stats.cauchy(1, 2)),
    ("cauchy_default", lambda t, g: t.cauchy_(generator=g), stats.cauchy()),
]


@pytest.mark.parametrize("cls", FLOAT_TYPES)
@pytest.mark.parametrize("name, fill, law", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_laws(cls, name, fill, law):
    x = samples(cls, fill, N + 1)  # odd: the Box-Muller tail
    if cls is torch.HalfTensor:
        x = x[np.isfinite(x)]  # a half overflows in the far tails of the heavy-tailed laws
        assert x.size > N - 5
    assert stats.kstest(x, law.cdf).pvalue > ALPHA


@pytest.mark.parametrize("cls", FLOAT_TYPES)
def test_uniform_range(cls):
    x = samples(cls, lambda t, g: t.uniform_(-2, 3, generator=g))
    assert x.min() >= -2 and x.max() <= 3 and x.min() < -1.99 and x.max() > 2.99
    x = samples(cls, lambda t, g: t.uniform_(generator=g))
    assert x.min() >= 0 and (x.max() < 1 or cls is torch.HalfTensor and x.max() == 1)  # half rounds up


def test_rand_and_randn_laws():
    assert stats.kstest(torch.rand(N, generator=gen()).numpy(), "uniform").pvalue > ALPHA
    assert stats.kstest(torch.randn(N, generator=gen()).numpy(), "norm").pvalue > ALPHA
    x = torch.randn(100, 101, generator=gen(3)).numpy().ravel()
    assert stats.kstest(x, "norm").pvalue > ALPHA


def test_normal_pairs_are_independent():
    # Box-Muller makes samples in pairs: consecutive values must still be uncorrelated
    x = torch.randn(2 * N, generator=gen()).numpy().astype(np.float64)
    r = np.corrcoef(x[0::2], x[1::2])[0, 1]
    assert abs(r) < 4 / np.sqrt(N)
    r2 = np.corrcoef(x[0::2] ** 2, x[1::2] ** 2)[0, 1]
    assert abs(r2) < 4 / np.sqrt(N)


def test_box_muller_kernel_matches_the_exact_transform():
    rng = np.random.default_rng(0)
    u = rng.random(2 * N + 1, dtype=np.float32)
    u[:4] = [0, 0.25, 0.5, 0.75]  # the ends of the ranges: radius 0, quadrant boundaries
    u[4:8] = [np.float32(1 - 2 ** -24), 0.999999, 0.125, 0.999]
    tail = 0.3
    a = u.copy()
    _k.normal_f32(a, 0.5, 2.0, tail, 2)
    u64 = u.astype(np.float64)
    r = np.sqrt(-2 * np.log1p(-u64[0::2]))
    ang = 2 * np.pi * np.append(u64[1::2], np.float64(np.float32(tail)))
    ref = np.empty(2 * N + 1)
    ref[0::2] = r * np.cos(ang)
    ref[1::2] = r[:N] * np.sin(ang[:N])
    ref = 0.5 + 2.0 * ref
    assert np.isfinite(a).all()
    np.testing.assert_allclose(a, ref, rtol=2e-6, atol=4e-6)


# ---------------------------------------------------------------------------- discrete laws

@pytest.mark.parametrize("cls", ALL_TYPES)
@pytest.mark.parametrize("p", [0.3, 0.05])
def test_geometric_law(cls, p):
    x = samples(cls, lambda t, g: t.geometric_(p, generator=g))
    assert (x >= 1).all() and (x == np.floor(x)).all()
    kmax = min(int(stats.geom(p).ppf(0.999)), 100)  # CharTensor saturates at 127, inside the last bin
    k = np.arange(1, kmax + 1)
    observed = np.array([(x == i).sum() for i in k] + [(x > kmax).sum()])
    expected = np.append(stats.geom(p).pmf(k), stats.geom(p).sf(kmax)) * x.size
    keep = expected >= 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    assert stats.chisquare(observed, expected).pvalue > ALPHA


def test_geometric_saturates_integer_types():
    x = torch.CharTensor(2000).geometric_(0.01, generator=gen()).numpy()
    assert x.min() >= 1 and x.max() == 127  # P(X > 127) = 0.99^127 ~ 0.28: many clip, none wrap


@pytest.mark.parametrize("cls", ALL_TYPES)
@pytest.mark.parametrize("p", [0.5, 0.3, 0.0, 1.0])
def test_bernoulli_scalar_p(cls, p):
    x = samples(cls, lambda t, g: t.bernoulli_(p, generator=g))
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert stats.binomtest(int(x.sum()), x.size, p).pvalue > ALPHA


def test_bernoulli_default_p_is_half():
    x = samples(torch.FloatTensor, lambda t, g: t.bernoulli_(generator=g))
    assert stats.binomtest(int(x.sum()), x.size, 0.5).pvalue > ALPHA


@pytest.mark.parametrize("cls", [torch.FloatTensor, torch.ByteTensor, torch.LongTensor, torch.DoubleTensor])
@pytest.mark.parametrize("ptype", [torch.FloatTensor, torch.DoubleTensor])
def test_bernoulli_tensor_p(cls, ptype):
    probs = np.array([0, 1, 0.25, 0.75, 0.5])
    p = ptype(np.tile(probs, (2000, 1)))
    t = cls(2000, 5)
    assert t.bernoulli_(p, generator=gen()) is t
    x = t.numpy()
    np.testing.assert_array_equal(x[:, 0], 0)
    np.testing.assert_array_equal(x[:, 1], 1)
    for j in (2, 3, 4):
        assert set(np.unique(x[:, j])) <= {0, 1}
        assert stats.binomtest(int(x[:, j].sum()), 2000, probs[j]).pvalue > ALPHA


def test_bernoulli_tensor_p_sizes():
    # same number of elements: paired in order (0.2); otherwise broadcast (ember extra)
    t = torch.FloatTensor(2, 3).bernoulli_(torch.FloatTensor([0, 1, 0, 1, 0, 1]), generator=gen())
    np.testing.assert_array_equal(t.numpy(), [[0, 1, 0], [1, 0, 1]])
    t = torch.FloatTensor(4, 3).bernoulli_(torch.FloatTensor([[1, 0, 1]]), generator=gen())
    np.testing.assert_array_equal(t.numpy(), np.tile([1, 0, 1], (4, 1)))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        torch.FloatTensor(4, 3).bernoulli_(torch.FloatTensor([0.5, 0.5]))


@pytest.mark.parametrize("cls", FLOAT_TYPES)
def test_bernoulli_function(cls):
    probs = cls(np.tile([0, 1, 0.3, 0.9], (N // 4, 1)))
    r = torch.bernoulli(probs, generator=gen())
    assert type(r) is cls and r.size() == probs.size()
    x = r.numpy().astype(np.float64)
    np.testing.assert_array_equal(x[:, 0], 0)
    np.testing.assert_array_equal(x[:, 1], 1)
    for j, p in ((2, 0.3), (3, 0.9)):
        assert stats.binomtest(int(x[:, j].sum()), N // 4, p).pvalue > ALPHA
    m = probs.bernoulli(generator=gen())  # the method form, same stream
    np.testing.assert_array_equal(m.numpy(), r.numpy())
    out = cls()
    assert torch.bernoulli(probs, generator=gen(), out=out) is out
    np.testing.assert_array_equal(out.numpy(), r.numpy())


@pytest.mark.parametrize("cls, lo, hi", [
    (torch.ByteTensor, 0, 255), (torch.CharTensor, 0, 127), (torch.ShortTensor, 0, 2 ** 15 - 1),
    (torch.IntTensor, 0, 2 ** 31 - 1), (torch.LongTensor, 0, 2 ** 63 - 1), (torch.FloatTensor, 0, 2 ** 24),
    (torch.DoubleTensor, 0, 2 ** 53), (torch.HalfTensor, 0, 2 ** 11)])
def test_random_default_range(cls, lo, hi):
    t = cls(N).random_(generator=gen())
    x = t.numpy()
    assert x.min() >= lo and x.max() <= hi
    assert (x == np.floor(x)).all()
    if hi <= 255:
        assert x.min() == lo and x.max() == hi  # every value is hit in 10k draws
    else:
        assert x.max() > hi // 2 and x.min() < hi // 2 ** 10  # spread over the whole range
    if cls is torch.ByteTensor:
        counts = np.bincount(x, minlength=256)
        assert stats.chisquare(counts).pvalue > ALPHA


@pytest.mark.parametrize("cls", ALL_TYPES)
@pytest.mark.parametrize("args, lo, hi", [((10,), 0, 10), ((-5, 5), -5, 5), ((3, 4), 3, 4), ((0, 100), 0, 100)])
def test_random_bounds(cls, args, lo, hi):
    if lo < 0 and cls is torch.ByteTensor:
        with pytest.raises(RuntimeError, match=r"the range \[-5, 5\) does not fit torch.ByteTensor"):
            cls(3).random_(*args)
        return
    x = cls(N).random_(*args, generator=gen()).numpy().astype(np.int64)
    assert x.min() == lo and x.max() == hi - 1
    if hi - lo > 1:
        counts = np.bincount(x - lo, minlength=hi - lo)
        assert stats.chisquare(counts).pvalue > ALPHA


def test_random_wide_ranges():
    x = torch.LongTensor(N).random_(-2 ** 63, 2 ** 63 - 1, generator=gen()).numpy()
    assert x.min() < -2 ** 61 and x.max() > 2 ** 61
    x = torch.DoubleTensor(1000).random_(-2 ** 40, 2 ** 40, generator=gen()).numpy()
    assert (x == np.floor(x)).all() and x.min() >= -2 ** 40 and x.max() < 2 ** 40
    x = torch.CharTensor(N).random_(-128, 128, generator=gen()).numpy()
    assert x.min() == -128 and x.max() == 127


# ---------------------------------------------------------------------------- multinomial

@pytest.mark.parametrize("cls", FLOAT_TYPES)
def test_multinomial_with_replacement_law(cls):
    w = np.array([0.1, 0, 0.4, 0.2, 0, 0.3])
    r = torch.multinomial(cls(w * 7), N, replacement=True, generator=gen())  # weights need not sum to 1
    assert type(r) is torch.LongTensor and r.size() == torch.Size([N])
    counts = np.bincount(r.numpy(), minlength=6)
    assert counts[1] == 0 and counts[4] == 0
    assert stats.chisquare(counts[w > 0], w[w > 0] * N).pvalue > ALPHA


def test_multinomial_2d_rows_are_separate_distributions():
    w = np.array([[1, 0, 0, 0], [0, 0, 0, 1], [1, 1, 2, 0]], np.float32)
    p = torch.FloatTensor(w).t().contiguous().t()  # non-contiguous rows
    r = p.multinomial(3000, True, generator=gen())
    assert r.size() == torch.Size([3, 3000])
    x = r.numpy()
    assert (x[0] == 0).all() and (x[1] == 3).all()
    assert stats.chisquare(np.bincount(x[2], minlength=3), [750, 750, 1500]).pvalue > ALPHA


def test_multinomial_kernel_never_picks_zero_weight():
    cum = np.cumsum([[0.0, 1.0, 0.0, 2.0, 0.0, 0.0]], axis=1)
    # u = 1 cannot come from the generator; it stands for u * total rounding up to the total
    u = np.array([[0.0, 1 / 3 - 1e-12, 0.5, 1 - 2 ** -53, 1.0]])
    out = np.empty((1, 5), np.int64)
    _k.multinomial_with_replacement(cum, u, out, 1)
    np.testing.assert_array_equal(out, [[1, 1, 3, 3, 3]])
    cum = np.full((2, 3), 0.1)  # only the first category has weight
    out = np.empty((2, 2), np.int64)
    _k.multinomial_with_replacement(cum, np.array([[0.0, 1.0], [0.5, 1 - 2 ** -53]]), out, 2)
    np.testing.assert_array_equal(out, 0)


def test_multinomial_without_replacement_law():
    p = np.array([0.5, 0.2, 0.0, 0.3])
    w = torch.DoubleTensor(np.tile(p, (N, 1)))
    r = torch.multinomial(w, 2, generator=gen()).numpy()
    assert r.shape == (N, 2)
    assert (r[:, 0] != r[:, 1]).all() and not (r == 2).any()
    # first draw ~ p; second draw j: sum over i != j of p_i p_j / (1 - p_i)
    assert stats.chisquare(np.bincount(r[:, 0], minlength=4)[[0, 1, 3]], p[[0, 1, 3]] * N).pvalue > ALPHA
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)])
    assert stats.chisquare(np.bincount(r[:, 1], minlength=4)[[0, 1, 3]], second[[0, 1, 3]] * N).pvalue > ALPHA


@pytest.mark.parametrize("cls", FLOAT_TYPES)
def test_multinomial_without_replacement_draws_each_category_once(cls):
    w = cls(np.random.default_rng(0).random((50, 30)) + 0.01)
    r = torch.multinomial(w, 30, generator=gen()).numpy()
    np.testing.assert_array_equal(np.sort(r, axis=1), np.tile(np.arange(30), (50, 1)))
    w = cls([0, 3, 0, 1, 0, 0, 2])
    r = torch.multinomial(w, 3, generator=gen()).numpy()
    assert sorted(r) == [1, 3, 6]
    r = w.multinomial(1, generator=gen())
    assert r.size() == torch.Size([1]) and r[0] in (1, 3, 6)


def test_multinomial_out():
    out = torch.LongTensor(2, 2)
    r = torch.multinomial(torch.FloatTensor([1, 1, 1]), 5, True, generator=gen(), out=out)
    assert r is out and out.size() == torch.Size([5])
    np.testing.assert_array_equal(out.numpy(), torch.multinomial(torch.FloatTensor([1, 1, 1]), 5, True,
                                                                 generator=gen()).numpy())


@pytest.mark.parametrize("w, n, repl, exc, match", [
    (np.ones((2, 2, 2)), 1, False, RuntimeError, "prob_dist must be 1 or 2 dim"),
    (np.ones(3), 0, False, RuntimeError, "cannot sample n_sample <= 0 samples"),
    (np.ones(3), 4, False, RuntimeError, "cannot sample n_sample > prob_dist:size\\(1\\) samples without"),
    (np.zeros(3), 1, True, RuntimeError, "sum of probabilities <= 0"),
    (np.zeros(3), 1, False, RuntimeError, "sum of probabilities <= 0"),
    (np.array([[1, 1], [0, 0]]), 1, True, RuntimeError, "sum of probabilities <= 0"),
    (np.array([1, -1, 1]), 1, True, RuntimeError, "weights must be finite and >= 0"),
    (np.array([1, np.nan, 1]), 1, False, RuntimeError, "weights must be finite and >= 0"),
    (np.array([1, np.inf]), 1, True, RuntimeError, "weights must be finite and >= 0"),
    (np.array([1, 0, 1]), 3, False, RuntimeError, "only 2 categories of non-zero probability"),
    (np.ones(3), 1.5, False, TypeError, "num_samples must be an int"),
])
def test_multinomial_errors(w, n, repl, exc, match):
    with pytest.raises(exc, match=match):
        torch.multinomial(torch.DoubleTensor(w), n, repl)


def test_multinomial_needs_floating_weights():
    with pytest.raises(TypeError, match="multinomial\\(\\): not implemented for torch.LongTensor"):
        torch.LongTensor([1, 2]).multinomial(1)


# ---------------------------------------------------------------------------- torch.normal

def test_normal_tensor_means_float_std():
    means = torch.FloatTensor(np.repeat([-3.0, 0.0, 10.0], N // 3))
    r = torch.normal(means, 2.0, generator=gen())
    assert type(r) is torch.FloatTensor and r.size() == means.size()
    z = (r.numpy().astype(np.float64) - means.numpy()) / 2.0
    assert stats.kstest(z, "norm").pvalue > ALPHA
    r1 = torch.normal(means, generator=gen())  # std defaults to 1
    np.testing.assert_allclose(r1.numpy() - means.numpy(), (r.numpy() - means.numpy()) / 2, atol=1e-5)


def test_normal_float_mean_tensor_std():
    std = torch.DoubleTensor(np.repeat([0.5, 1.0, 4.0], N // 3)).view(3, -1)
    r = torch.normal(1.5, std, generator=gen())
    assert type(r) is torch.DoubleTensor and r.size() == std.size()
    assert stats.kstest(((r.numpy() - 1.5) / std.numpy()).ravel(), "norm").pvalue > ALPHA
    r2 = torch.normal(mean=1.5, std=std, generator=gen())
    np.testing.assert_array_equal(r2.numpy(), r.numpy())
    r0 = torch.normal(std=std, generator=gen())  # mean defaults to 0
    np.testing.assert_allclose(r0.numpy(), r.numpy() - 1.5, atol=1e-12)


def test_normal_tensor_means_tensor_std():
    means = torch.FloatTensor(N).uniform_(-5, 5, generator=gen(1))
    std = torch.FloatTensor(N).uniform_(0.5, 3, generator=gen(2))
    r = torch.normal(means, std, generator=gen())
    z = (r.numpy().astype(np.float64) - means.numpy()) / std.numpy()
    assert stats.kstest(z, "norm").pvalue > ALPHA
    # 0.2 pairs the elements of same-numel tensors in order, sized like means; broadcasting is an extra
    r = torch.normal(torch.zeros(2, 3), torch.FloatTensor(6).fill_(1e-3), generator=gen())
    assert r.size() == torch.Size([2, 3]) and np.abs(r.numpy()).max() < 0.01
    r = torch.normal(torch.FloatTensor([[0], [100]]), torch.FloatTensor([1e-3, 1e-3, 1e-3]), generator=gen())
    assert r.size() == torch.Size([2, 3])
    np.testing.assert_allclose(r.numpy(), [[0, 0, 0], [100, 100, 100]], atol=0.01)


def test_normal_out_and_half():
    out = torch.FloatTensor(1)
    r = torch.normal(torch.zeros(4, 4), 1.0, generator=gen(), out=out)
    assert r is out and out.size() == torch.Size([4, 4])
    np.testing.assert_array_equal(out.numpy(), torch.normal(torch.zeros(4, 4), 1.0, generator=gen()).numpy())
    h = torch.normal(torch.HalfTensor(N).zero_(), 1.0, generator=gen())
    assert type(h) is torch.HalfTensor
    assert stats.kstest(h.numpy().astype(np.float64), "norm").pvalue > ALPHA


@pytest.mark.parametrize("call, exc, match", [
    (lambda: torch.normal(), TypeError, "torch.normal received an invalid combination of arguments - got \\(\\)"),
    (lambda: torch.normal(0.5, 2.0), TypeError, "got \\(float, float\\), but expected one of"),
    (lambda: torch.normal(torch.zeros(2), torch.DoubleTensor(2).fill_(1)), TypeError, "same type"),
    (lambda: torch.normal(torch.zeros(2), 0.0), RuntimeError, "standard deviation must be strictly positive"),
    (lambda: torch.normal(0.0, torch.FloatTensor([1, 0])), RuntimeError, "strictly positive"),
    (lambda: torch.normal(torch.LongTensor(2).zero_()), TypeError, "normal\\(\\): not implemented for torch.Long"),
    (lambda: torch.normal(torch.zeros(2), torch.ones(3)), RuntimeError, "must match the size of tensor b"),
    (lambda: torch.normal(torch.zeros(2), "1"), TypeError, "std must be a number, got str"),
])
def test_normal_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------------------- rand, randn, randperm

@pytest.mark.parametrize("fn", [torch.rand, torch.randn])
@pytest.mark.parametrize("sizes", [(2, 3), ((2, 3),), ([2, 3],), (torch.Size([2, 3]),)])
def test_rand_randn_size_forms(fn, sizes):
    t = fn(*sizes)
    assert type(t) is torch.FloatTensor and t.size() == torch.Size([2, 3]) and t.is_contiguous()


@pytest.mark.parametrize("fn", [torch.rand, torch.randn])
def test_rand_randn_types_and_out(fn, double_default):
    assert type(fn(3)) is torch.DoubleTensor
    for cls in FLOAT_TYPES:
        out = cls(1)
        r = fn(2, 5, out=out, generator=gen())
        assert r is out and out.size() == torch.Size([2, 5])
        assert np.isfinite(out.numpy()).all()
    a = fn(3, 4, generator=gen()).numpy()
    out = torch.DoubleTensor(4, 3).t()  # a non-contiguous out of the right size is filled in place
    fn(3, 4, out=out, generator=gen())
    np.testing.assert_array_equal(out.numpy(), a)
    assert fn(0).numel() == 0 and fn(2, 0).size() == torch.Size([]) and fn().numel() == 0


@pytest.mark.parametrize("fn", [torch.rand, torch.randn])
def test_rand_randn_errors(fn):
    with pytest.raises(RuntimeError, match="sizes must be non-negative"):
        fn(2, -1)
    with pytest.raises(TypeError, match="not implemented for torch.LongTensor"):
        fn(2, out=torch.LongTensor())
    with pytest.raises(TypeError, match="sizes"):
        fn(2.5)
    with pytest.raises(TypeError, match="sizes must be ints"):
        fn(2, 2.5)
    with pytest.raises(TypeError, match="out must be a tensor"):
        fn(2, out=np.zeros(2))


def test_randperm():
    r = torch.randperm(1000, generator=gen())
    assert type(r) is torch.LongTensor and r.size() == torch.Size([1000])
    np.testing.assert_array_equal(np.sort(r.numpy()), np.arange(1000))
    assert torch.randperm(1).numpy().tolist() == [0]
    out = torch.FloatTensor()
    assert torch.randperm(5, generator=gen(), out=out) is out
    np.testing.assert_array_equal(out.numpy(), torch.randperm(5, generator=gen()).numpy())


def test_randperm_is_uniform():
    g = gen()
    perms = np.array([torch.randperm(4, generator=g).numpy() for _ in range(2400)])
    codes = perms @ np.array([64, 16, 4, 1])
    counts = np.unique(codes, return_counts=True)[1]
    assert counts.size == 24  # all 4! permutations occur, equally often
    assert stats.chisquare(counts).pvalue > ALPHA
    big = torch.randperm(50, generator=g).numpy()
    positions = np.array([torch.randperm(50, generator=g).numpy() for _ in range(2000)])
    assert stats.chisquare(np.bincount(positions[:, 0], minlength=50)).pvalue > ALPHA
    assert stats.chisquare(np.bincount(positions[:, -1], minlength=50)).pvalue > ALPHA
    assert not np.array_equal(big, np.arange(50))


def test_randperm_errors():
    with pytest.raises(RuntimeError, match="must be strictly positive \\(got n=0\\)"):
        torch.randperm(0)
    with pytest.raises(TypeError, match="n must be an int, got float"):
        torch.randperm(2.5)


# ---------------------------------------------------------------------------- layouts and types

INPLACE = [
    ("uniform_", lambda t, g: t.uniform_(-1, 1, generator=g)),
    ("normal_", lambda t, g: t.normal_(2, 3, generator=g)),
    ("log_normal_", lambda t, g: t.log_normal_(generator=g)),
    ("exponential_", lambda t, g: t.exponential_(3, generator=g)),
    ("cauchy_", lambda t, g: t.cauchy_(generator=g)),
    ("geometric_", lambda t, g: t.geometric_(0.4, generator=g)),
    ("bernoulli_", lambda t, g: t.bernoulli_(0.4, generator=g)),
    ("bernoulli_tensor", lambda t, g: t.bernoulli_(torch.DoubleTensor(t.size()).fill_(0.4), generator=g)),
    ("random_", lambda t, g: t.random_(0, 50, generator=g)),
]


@pytest.mark.parametrize("cls", [torch.FloatTensor, torch.DoubleTensor, torch.HalfTensor])
@pytest.mark.parametrize("name, fill", INPLACE, ids=[c[0] for c in INPLACE])
def test_non_contiguous_targets_get_the_contiguous_values(cls, name, fill):
    # values land in logical order whatever the strides; memory outside the view is untouched
    ref = cls(5, 7)
    fill(ref, gen())
    transposed = cls(7, 5).fill_(-7).t()
    inner = cls(7, 9).fill_(-7)
    for view in (transposed, inner[1:6, 1:8]):
        assert not view.is_contiguous()
        assert fill(view, gen()) is view
        np.testing.assert_array_equal(view.numpy(), ref.numpy())
    outside = np.ones((7, 9), bool)
    outside[1:6, 1:8] = False
    assert (inner.numpy()[outside] == -7).all()


@pytest.mark.parametrize("cls", INT_TYPES)
@pytest.mark.parametrize("name, fill", [c for c in INPLACE if c[0] in ("geometric_", "bernoulli_",
                                                                       "bernoulli_tensor", "random_")],
                         ids=["geometric_", "bernoulli_", "bernoulli_tensor", "random_"])
def test_non_contiguous_integer_targets(cls, name, fill):
    ref = cls(6, 4)
    fill(ref, gen())
    base = cls(4, 6).fill_(99)
    view = base.t()
    fill(view, gen())
    np.testing.assert_array_equal(view.numpy(), ref.numpy())
    wide = cls(6, 10).fill_(99)
    fill(wide[:, 3:7], gen())
    np.testing.assert_array_equal(wide.numpy()[:, 3:7], ref.numpy())
    assert (wide.numpy()[:, :3] == 99).all() and (wide.numpy()[:, 7:] == 99).all()


@pytest.mark.parametrize("name, fill", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_samplers_return_self_and_accept_empty(name, fill):
    t = torch.DoubleTensor(3)
    assert fill(t, None) is t
    e = torch.FloatTensor()
    assert fill(e, None) is e and e.numel() == 0


@pytest.mark.parametrize("cls", INT_TYPES)
@pytest.mark.parametrize("call", ["uniform_()", "normal_()", "log_normal_()", "exponential_()", "cauchy_()",
                                  "bernoulli()"])
def test_floating_only_samplers_reject_integer_types(cls, call):
    t = cls(3)
    with pytest.raises(TypeError, match="{}\\(\\): not implemented for {}".format(call[:-2], cls._typename)):
        eval("t." + call)


@pytest.mark.parametrize("call, exc, match", [
    ("normal_(0, 0)", RuntimeError, "normal_\\(\\): invalid argument 2: standard deviation must be strictly"),
    ("normal_(0, -1)", RuntimeError, "standard deviation must be strictly positive \\(got -1\\)"),
    ("log_normal_(1, 0)", RuntimeError, "log_normal_\\(\\): invalid argument 2: standard deviation"),
    ("exponential_(0)", RuntimeError, "exponential_\\(\\): invalid argument 1: lambd must be positive"),
    ("exponential_(-2)", RuntimeError, "lambd must be positive \\(got -2\\)"),
    ("geometric_(0)", RuntimeError, "geometric_\\(\\): invalid argument 1: must be > 0 and < 1 \\(got p=0\\)"),
    ("geometric_(1)", RuntimeError, "must be > 0 and < 1"),
    ("geometric_()", TypeError, "missing 1 required positional argument: 'p'"),
    ("bernoulli_(1.5)", RuntimeError, "bernoulli_\\(\\): invalid argument 1: must be >= 0 and <= 1 \\(got p=1.5\\)"),
    ("bernoulli_(-0.1)", RuntimeError, "must be >= 0 and <= 1"),
    ("bernoulli_(torch.FloatTensor([0.5, 1.2, 0]))", RuntimeError, "probabilities must be in \\[0, 1\\]"),
    ("bernoulli_(torch.FloatTensor([0.5, float('nan'), 0]))", RuntimeError, "probabilities must be in"),
    ("bernoulli_(torch.LongTensor([0, 1, 0]))", TypeError, "p must be a number or a torch.FloatTensor"),
    ("random_(5, 5)", RuntimeError, "from must be less than to \\(got from=5, to=5\\)"),
    ("random_(0)", RuntimeError, "from must be less than to"),
    ("random_(1.5)", TypeError, "random_\\(\\): to must be an int, got float"),
    ("random_(0.5, 3)", TypeError, "random_\\(\\): from must be an int, got float"),
    ("random_(0, 2 ** 64)", RuntimeError, "does not fit torch.DoubleTensor"),
    ("uniform_('a')", TypeError, "uniform_\\(\\): from must be a number, got str"),
    ("uniform_(0, torch.FloatTensor(1))", TypeError, "to must be a number, got torch.FloatTensor"),
    ("normal_(torch.FloatTensor(1))", TypeError, "mean must be a number"),
    ("cauchy_(0, 'x')", TypeError, "sigma must be a number"),
])
def test_argument_errors(call, exc, match):
    t = torch.DoubleTensor(3)
    with pytest.raises(exc, match=match):
        eval("t." + call)


def test_random_integer_range_errors():
    with pytest.raises(RuntimeError, match=r"the range \[0, 257\) does not fit torch.ByteTensor \(values in \[0, 255"):
        torch.ByteTensor(2).random_(257)
    with pytest.raises(RuntimeError, match=r"does not fit torch.CharTensor"):
        torch.CharTensor(2).random_(-129, 0)
    with pytest.raises(RuntimeError, match=r"does not fit torch.IntTensor"):
        torch.IntTensor(2).random_(0, 2 ** 31 + 1)
    torch.ByteTensor(2).random_(256)  # [0, 256) fits
    torch.IntTensor(2).random_(-2 ** 31, 2 ** 31)


# ---------------------------------------------------------------------------- PyTorch as the oracle

ORACLE = [
    ("uniform_(-1, 3)", "uniform_", (-1, 3)),
    ("normal_(2, 0.5)", "normal_", (2, 0.5)),
    ("exponential_(4)", "exponential_", (4,)),
    ("log_normal_(0.2, 0.6)", "log_normal_", (0.2, 0.6)),
    ("cauchy_(-1, 0.5)", "cauchy_", (-1, 0.5)),
]


@pytest.mark.parametrize("label, method, args", ORACLE, ids=[o[0] for o in ORACLE])
def test_same_laws_as_torch(label, method, args):
    torch_ = require_torch()
    g = torch_.Generator().manual_seed(0)
    theirs = getattr(torch_.empty(N, dtype=torch_.float64), method)(*args, generator=g).numpy()
    ours = getattr(torch.DoubleTensor(N), method)(*args, generator=gen()).numpy()
    assert stats.ks_2samp(ours, theirs).pvalue > ALPHA


def test_discrete_laws_as_torch():
    torch_ = require_torch()
    g = torch_.Generator().manual_seed(0)
    theirs = torch_.empty(N).geometric_(0.25, generator=g).numpy().astype(np.int64)
    ours = torch.FloatTensor(N).geometric_(0.25, generator=gen()).numpy().astype(np.int64)
    top = 12
    table = [np.bincount(np.minimum(x, top), minlength=top + 1)[1:] for x in (ours, theirs)]
    assert stats.chi2_contingency(table).pvalue > ALPHA
    w = [0.5, 0.0, 2.0, 1.5]
    theirs = torch_.multinomial(torch_.tensor(w), N, True, generator=g).numpy()
    ours = torch.multinomial(torch.FloatTensor(w), N, True, generator=gen()).numpy()
    table = [np.bincount(x, minlength=4)[[0, 2, 3]] for x in (ours, theirs)]
    assert stats.chi2_contingency(table).pvalue > ALPHA
    theirs = torch_.multinomial(torch_.tensor(w).expand(N, 4), 2, generator=g).numpy()
    ours = torch.multinomial(torch.FloatTensor(w).expand(N, 4), 2, generator=gen()).numpy()
    table = [np.bincount(x[:, 1], minlength=4)[[0, 2, 3]] for x in (ours, theirs)]  # the second draws
    assert stats.chi2_contingency(table).pvalue > ALPHA
