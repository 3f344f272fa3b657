"""ember.legacy.optim (Lua's optim, 0.2's torch.legacy.optim): the functional ``x, fx = algo(opfunc, x, config,
state)`` API on the Rosenbrock function. Algorithms that ember.optim also has must follow the same trajectory
as ember.optim's class (driven by autograd); the others are checked against NumPy transcriptions of their
update rules (nag, sgd's per-parameter options) or by convergence (cg, lbfgs)."""
import math

import numpy as np
import pytest

import ember
from ember.autograd import Variable
from ember.legacy import optim


class _EmberOptim(object):
    """ember.optim, imported when first used: it is another distribution (ember-optim), absent from the
    tox env that tests ember-legacy alone, where the comparisons with it skip."""

    def __getattr__(self, name):
        if name.startswith("_"):  # pytest's introspection of module attributes
            raise AttributeError(name)
        return getattr(pytest.importorskip("ember.optim", exc_type=ImportError), name)


eoptim = _EmberOptim()

START = [-1.2, 1.0]


def rosenbrock(x):
    """(f, df/dx) of the 2-D Rosenbrock function at the tensor x (a NumPy formula)."""
    a, b = x.numpy().tolist()
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    g = x.new([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
    return f, g


def counting(opfunc):
    calls = []

    def f(x):
        calls.append(x.clone())
        return opfunc(x)
    return f, calls


def ember_trajectory(make, steps):
    x = Variable(ember.DoubleTensor(START), requires_grad=True)
    opt = make([x])

    def closure():
        opt.zero_grad()
        a, b = x[0], x[1]
        loss = (1 - a) ** 2 + 100 * (b - a * a) ** 2
        loss.backward()
        return loss

    out = []
    for _ in range(steps):
        opt.step(closure)
        out.append(x.data.numpy().copy())
    return out, opt


def legacy_trajectory(name, config, steps, cls=ember.DoubleTensor):
    x = cls(START)
    state = {}
    out, fxs = [], []
    for _ in range(steps):
        before = rosenbrock(x)[0]
        result = getattr(optim, name)(rosenbrock, x, config, state)
        assert result[0] is x  # updated in place and returned
        fx = result[1]
        if name not in ("rprop",):
            assert fx == pytest.approx(before, rel=1e-12)  # f before the update
        fxs.append(fx)
        out.append(x.numpy().copy())
    return out, state, fxs


MATCHING = [
    ("sgd", dict(learningRate=1e-3), lambda p: eoptim.SGD(p, lr=1e-3)),
    ("sgd", dict(learningRate=5e-4, momentum=0.9, dampening=0.1), lambda p: eoptim.SGD(p, lr=5e-4, momentum=0.9,
                                                                                       dampening=0.1)),
    ("sgd", dict(learningRate=5e-4, momentum=0.9, dampening=0, nesterov=True),
     lambda p: eoptim.SGD(p, lr=5e-4, momentum=0.9, nesterov=True)),
    ("sgd", dict(learningRate=1e-3, weightDecay=0.1), lambda p: eoptim.SGD(p, lr=1e-3, weight_decay=0.1)),
    ("adam", dict(learningRate=0.01), lambda p: eoptim.Adam(p, lr=0.01)),
    ("adam", dict(learningRate=0.02, beta1=0.8, beta2=0.99, epsilon=1e-6, weightDecay=0.01),
     lambda p: eoptim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ("adagrad", dict(learningRate=0.1, learningRateDecay=0.01, weightDecay=0.05),
     lambda p: eoptim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.05)),
    ("adadelta", dict(rho=0.95, eps=1e-5), lambda p: eoptim.Adadelta(p, rho=0.95, eps=1e-5)),
    ("adamax", dict(learningRate=0.01, epsilon=1e-8), lambda p: eoptim.Adamax(p, lr=0.01, eps=1e-8)),
    ("asgd", dict(eta0=1e-3, t0=5), lambda p: eoptim.ASGD(p, lr=1e-3, t0=5)),
    ("rmsprop", dict(learningRate=1e-3, alpha=0.9), lambda p: eoptim.RMSprop(p, lr=1e-3, alpha=0.9)),
    ("rprop", dict(stepsize=0.01), lambda p: eoptim.Rprop(p, lr=0.01)),
]


@pytest.mark.parametrize("name,config,make", MATCHING,
                         ids=["{}-{}".format(m[0], i) for i, m in enumerate(MATCHING)])
def test_same_trajectory_as_ember_optim(name, config, make):
    steps = 30
    got, state, _ = legacy_trajectory(name, dict(config), steps)
    want, _ = ember_trajectory(make, steps)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-11, atol=1e-12)


def test_asgd_returns_the_average_like_ember_optim():
    x = ember.DoubleTensor(START)
    state = {}
    for _ in range(12):
        _, _, ax = optim.asgd(rosenbrock, x, dict(eta0=1e-3, t0=5), state)
    _, opt = ember_trajectory(lambda p: eoptim.ASGD(p, lr=1e-3, t0=5), 12)
    (p,) = opt.param_groups[0]["params"]
    np.testing.assert_allclose(ax.numpy(), opt.state[p]["ax"].numpy(), rtol=1e-12)
    assert ax is state["ax"]
    assert not np.allclose(ax.numpy(), x.numpy())  # averaging started after t0 steps


def test_lbfgs_matches_ember_optim_and_converges():
    x = ember.DoubleTensor(START)
    f, calls = counting(rosenbrock)
    _, f_hist, n = optim.lbfgs(f, x, dict(maxIter=40, learningRate=0.5))
    want, _ = ember_trajectory(lambda p: eoptim.LBFGS(p, lr=0.5, max_iter=40), 1)
    np.testing.assert_allclose(x.numpy(), want[0], rtol=1e-10, atol=1e-12)
    assert n == len(calls) == len(f_hist)
    assert f_hist[0] == pytest.approx(rosenbrock(ember.DoubleTensor(START))[0])
    # later calls continue from the stored history and reach the minimum
    state = {}
    x = ember.DoubleTensor(START)
    for _ in range(10):
        optim.lbfgs(rosenbrock, x, dict(maxIter=20), state)
    np.testing.assert_allclose(x.numpy(), [1, 1], atol=1e-6)
    assert state["funcEval"] > 20 and state["nIter"] >= 20


def test_lbfgs_stops_at_an_optimum_and_uses_a_line_search():
    x = ember.DoubleTensor([1.0, 1.0])
    _, f_hist, n = optim.lbfgs(rosenbrock, x, {})
    assert n == 1 and f_hist == [0.0]
    seen = []

    def fixed(opfunc, x, t, d, f, g, gtd, opts):
        seen.append(opts)
        x.add_(t * 0.5, d)
        f, g = opfunc(x)
        return f, g, x, t * 0.5, 1

    x = ember.DoubleTensor(START)
    _, f_hist, n = optim.lbfgs(rosenbrock, x, dict(maxIter=3, lineSearch=fixed, lineSearchOptions="opts"))
    assert seen == ["opts"] * 3 and n == 4 and len(f_hist) == 4


def test_cg_converges_and_counts_evaluations():
    x = ember.DoubleTensor(START)
    f, calls = counting(rosenbrock)
    state = {}
    _, fx, n = optim.cg(f, x, dict(maxEval=100), state)
    assert n == len(calls) <= 101
    assert all(b <= a for a, b in zip(fx, fx[1:]))  # each successful line search decreases f
    np.testing.assert_allclose(x.numpy(), [1, 1], atol=1e-4)
    assert fx[-1] == pytest.approx(rosenbrock(x)[0], abs=1e-12)


def test_cg_on_a_quadratic_finds_the_minimum():
    # f(x) = 0.5 x'Ax - b'x: the minimum solves Ax = b
    rng = np.random.RandomState(0)
    m = rng.randn(6, 6)
    A = m @ m.T + 6 * np.eye(6)
    b = rng.randn(6)

    def quad(x):
        v = x.numpy()
        return 0.5 * v @ A @ v - b @ v, x.new((A @ v - b).tolist())

    x = ember.DoubleTensor(6).zero_()
    optim.cg(quad, x, dict(maxEval=60))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), rtol=1e-6, atol=1e-8)


def test_nag_follows_its_update_rule():
    lr, mom = 1e-4, 0.9
    x = ember.DoubleTensor(START)
    state = {}
    ref = np.array(START)
    vel = None
    for _ in range(25):
        optim.nag(rosenbrock, x, dict(learningRate=lr, momentum=mom), state)
        # NumPy transcription of Lua's optim.nag
        if vel is not None:
            ref = ref + mom * vel
        g = rosenbrock(ember.DoubleTensor(ref.tolist()))[1].numpy()
        vel = np.zeros(2) if vel is None else vel * mom
        ref = ref - lr * g
        vel = vel - lr * g
        np.testing.assert_allclose(x.numpy(), ref, rtol=1e-12)
    assert state["evalCounter"] == 25


def test_sgd_learning_rate_decay_and_per_parameter_options():
    lrs = ember.DoubleTensor([1.0, 0.5])
    wds = ember.DoubleTensor([0.1, 0.0])
    x = ember.DoubleTensor(START)
    config = dict(learningRate=1e-3, learningRateDecay=0.1, learningRates=lrs, weightDecays=wds)
    ref = np.array(START)
    for k in range(10):
        _, fx = optim.sgd(rosenbrock, x, config)
        g = rosenbrock(ember.DoubleTensor(ref.tolist()))[1].numpy() + wds.numpy() * ref
        ref = ref - 1e-3 / (1 + k * 0.1) * lrs.numpy() * g
        np.testing.assert_allclose(x.numpy(), ref, rtol=1e-12)
    assert config["evalCounter"] == 10  # state defaults to config


def test_rprop_several_iterations_per_call():
    x = ember.DoubleTensor(START)
    _, hfx = optim.rprop(rosenbrock, x, dict(stepsize=0.01, niter=4))
    assert len(hfx) == 4
    want, _ = ember_trajectory(lambda p: eoptim.Rprop(p, lr=0.01), 4)
    np.testing.assert_allclose(x.numpy(), want[-1], rtol=1e-12)


def test_defaults_match_lua():
    x = ember.DoubleTensor(START)
    g = rosenbrock(x)[1].numpy()
    optim.sgd(rosenbrock, x, {})
    np.testing.assert_allclose(x.numpy(), np.array(START) - 1e-3 * g, rtol=1e-12)
    x = ember.DoubleTensor(START)
    optim.rmsprop(rosenbrock, x, {})
    step = 1e-2 * g / (np.sqrt(0.01 * g * g) + 1e-8)
    np.testing.assert_allclose(x.numpy(), np.array(START) - step, rtol=1e-12)
    x = ember.DoubleTensor(START)
    optim.adamax(rosenbrock, x, {})
    np.testing.assert_allclose(x.numpy(), np.array(START) - 0.002 * np.sign(g), rtol=1e-9)


def test_float_tensors():
    x = ember.FloatTensor(START)
    state = {}
    for _ in range(5):
        optim.adam(rosenbrock, x, dict(learningRate=0.01), state)
    assert isinstance(x, ember.FloatTensor) and isinstance(state["m"], ember.FloatTensor)
    want, _ = ember_trajectory(lambda p: eoptim.Adam(p, lr=0.01), 5)
    np.testing.assert_allclose(x.numpy(), want[-1], rtol=1e-5)


def test_errors():
    x = ember.DoubleTensor(START)
    with pytest.raises(ValueError, match="sgd: Nesterov momentum requires a momentum and zero dampening"):
        optim.sgd(rosenbrock, x, dict(nesterov=True, momentum=0.9))
    with pytest.raises(ValueError, match="sgd: only one of weightDecay and weightDecays"):
        optim.sgd(rosenbrock, x, dict(weightDecay=0.1, weightDecays=ember.DoubleTensor([1, 1])))
    with pytest.raises(ValueError, match="nag: momentum must be positive"):
        optim.nag(rosenbrock, x, dict(momentum=0))
    with pytest.raises(TypeError, match="adam: opfunc must return"):
        optim.adam(lambda x: 1.0, x, {})
    with pytest.raises(ValueError, match="adagrad: opfunc returned a gradient of 3 elements for x of 2"):
        optim.adagrad(lambda x: (1.0, ember.DoubleTensor(3)), x, {})
    with pytest.raises(TypeError, match="rprop: config must be a dict"):
        optim.rprop(rosenbrock, x, [1])
    assert x.tolist() == START  # nothing moved


def test_works_on_module_parameters():
    """The usual Lua training loop: getParameters, an opfunc running forward/backward, optim.sgd."""
    nn = ember.legacy.nn
    ember.manual_seed(0)
    model = nn.Sequential().add(nn.Linear(3, 4)).add(nn.Tanh()).add(nn.Linear(4, 1)).double()
    crit = nn.MSECriterion().double()
    params, grads = model.getParameters()
    data = ember.DoubleTensor(16, 3).normal_()
    target = data.sum(1).view(16, 1).mul_(0.3)

    def feval(p):
        assert p is params
        grads.zero_()
        out = model.forward(data)
        loss = crit.forward(out, target)
        model.backward(data, crit.backward(out, target))
        return loss, grads

    losses = [optim.sgd(feval, params, dict(learningRate=0.1, momentum=0.5))[1] for _ in range(60)]
    assert losses[-1] < 0.2 * losses[0]
    assert math.isfinite(losses[-1])
