"""Every optimizer step for step against torch.optim (parity env) and against 0.2's formulas."""
import copy
import math

import numpy as np
import pytest

import ember
import ember.optim as optim
from ember.autograd import Variable
from _helpers.oracle import require_torch


def rosenbrock_grad(xy):
    x, y = xy
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def _param(values):
    return Variable(ember.DoubleTensor(np.array(values, dtype=np.float64)), requires_grad=True)


def _set_grad(p, g):
    p.grad = Variable(ember.DoubleTensor(np.array(g, dtype=np.float64)))


# (name, ember factory, torch factory)
CASES = [
    ("sgd", lambda p: optim.SGD(p, lr=1e-3), lambda t, p: t.optim.SGD(p, lr=1e-3)),
    ("sgd_momentum", lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, dampening=0.1, weight_decay=0.01),
     lambda t, p: t.optim.SGD(p, lr=1e-3, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd_nesterov", lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
     lambda t, p: t.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True)),
    ("adam_eps0", lambda p: optim.Adam(p, lr=1e-2, eps=0, weight_decay=0.1),
     lambda t, p: t.optim.Adam(p, lr=1e-2, eps=0, weight_decay=0.1)),
    ("adadelta", lambda p: optim.Adadelta(p, lr=0.1, rho=0.9, weight_decay=0.01),
     lambda t, p: t.optim.Adadelta(p, lr=0.1, rho=0.9, weight_decay=0.01)),
    ("adagrad", lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01),
     lambda t, p: t.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01)),
    ("adamax", lambda p: optim.Adamax(p, lr=1e-2, weight_decay=0.01),
     lambda t, p: t.optim.Adamax(p, lr=1e-2, weight_decay=0.01)),
    ("asgd", lambda p: optim.ASGD(p, lr=1e-3, t0=50, weight_decay=0.01),
     lambda t, p: t.optim.ASGD(p, lr=1e-3, t0=50, weight_decay=0.01)),
    ("rmsprop", lambda p: optim.RMSprop(p, lr=1e-3, weight_decay=0.01),
     lambda t, p: t.optim.RMSprop(p, lr=1e-3, weight_decay=0.01)),
    ("rmsprop_centered_momentum", lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
     lambda t, p: t.optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True)),
    ("rprop", lambda p: optim.Rprop(p, lr=1e-3), lambda t, p: t.optim.Rprop(p, lr=1e-3)),
]


def _run_ember(factory, steps, start=(-1.5, 2.0), state_at=None):
    p = _param(start)
    opt = factory([p])
    for i in range(steps):
        if state_at is not None and i == state_at:  # reload the state into a fresh optimizer, continue
            sd = copy.deepcopy(opt.state_dict())
            p2 = _param(p.data.tolist())
            opt = factory([p2])
            opt.load_state_dict(sd)
            p = p2
        _set_grad(p, rosenbrock_grad(p.data.numpy()))
        opt.step()
    return p.data.numpy().copy()


@pytest.mark.parametrize("name,ember_opt,torch_opt", CASES, ids=[c[0] for c in CASES])
def test_rosenbrock_200_steps_match_torch(name, ember_opt, torch_opt):
    torch = require_torch()
    tp = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    topt = torch_opt(torch, [tp])
    for _ in range(200):
        tp.grad = torch.from_numpy(rosenbrock_grad(tp.detach().numpy()))
        topt.step()
    got = _run_ember(ember_opt, 200)
    np.testing.assert_allclose(got, tp.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,ember_opt,torch_opt", CASES, ids=[c[0] for c in CASES])
def test_state_dict_resume_is_identical(name, ember_opt, torch_opt):
    straight = _run_ember(ember_opt, 200)
    resumed = _run_ember(ember_opt, 200, state_at=100)
    np.testing.assert_array_equal(straight, resumed)


def test_adam_follows_0_2_formula():
    # 0.2: denom = sqrt(v) + eps; step = lr * sqrt(1 - b2^t) / (1 - b1^t)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-3
    x = np.array([-1.5, 2.0])
    m = np.zeros(2)
    v = np.zeros(2)
    p = _param(x)
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    for t in range(1, 51):
        g = rosenbrock_grad(x)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        _set_grad(p, rosenbrock_grad(p.data.numpy()))
        opt.step()
    np.testing.assert_allclose(p.data.numpy(), x, rtol=1e-12)


def test_lbfgs_matches_torch():
    torch = require_torch()
    kw = dict(lr=0.5, max_iter=5, history_size=4, tolerance_grad=-1, tolerance_change=-1)

    def ember_closure():
        opt.zero_grad()
        xy = p.data.numpy()
        _set_grad(p, rosenbrock_grad(xy))
        x, y = xy
        return Variable(ember.DoubleTensor([(1 - x) ** 2 + 100 * (y - x * x) ** 2]))

    def torch_closure():
        topt.zero_grad()
        loss = (1 - tp[0]) ** 2 + 100 * (tp[1] - tp[0] ** 2) ** 2
        loss.backward()
        return loss

    p = _param([-1.5, 2.0])
    opt = optim.LBFGS([p], **kw)
    tp = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.LBFGS([tp], **kw)
    for _ in range(10):
        opt.step(ember_closure)
        topt.step(torch_closure)
        np.testing.assert_allclose(p.data.numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-8)


def test_lbfgs_strong_wolfe_converges():
    def closure():
        opt.zero_grad()
        xy = p.data.numpy()
        _set_grad(p, rosenbrock_grad(xy))
        x, y = xy
        return Variable(ember.DoubleTensor([(1 - x) ** 2 + 100 * (y - x * x) ** 2]))

    p = _param([-1.5, 2.0])
    opt = optim.LBFGS([p], lr=1, max_iter=100, line_search_fn="strong_wolfe")
    for _ in range(5):
        opt.step(closure)
    np.testing.assert_allclose(p.data.numpy(), [1.0, 1.0], atol=1e-5)


def test_param_groups_and_per_group_options():
    a, b = _param([1.0]), _param([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 1e-1}], lr=1e-2, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 1e-2 and opt.param_groups[1]["lr"] == 1e-1
    assert opt.param_groups[1]["momentum"] == 0.9
    _set_grad(a, [1.0])
    _set_grad(b, [1.0])
    opt.step()
    assert a.data[0] == pytest.approx(1 - 1e-2) and b.data[0] == pytest.approx(1 - 1e-1)
    c = _param([0.0])
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["momentum"] == 0.9


def test_zero_grad():
    p = _param([1.0, 2.0])
    _set_grad(p, [3.0, 4.0])
    optim.SGD([p], lr=1).zero_grad()
    assert p.grad.data.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("make,match", [
    (lambda p: optim.SGD([p], lr=-1), "Invalid learning rate"),
    (lambda p: optim.SGD([p]), "didn't specify a value of required optimization parameter lr"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda p: optim.Adam([p], betas=(1.0, 0.999)), "Invalid beta parameter at index 0"),
    (lambda p: optim.Adam([p], eps=-1), "Invalid epsilon value"),
    (lambda p: optim.SGD([p, p], lr=0.1), "appears twice"),
    (lambda p: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), "more than one parameter group"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.Rprop([p], etas=(1.5, 1.2)), "Invalid eta values"),
    (lambda p: optim.LBFGS([{"params": [p]}, {"params": [_param([1.0])]}]), "doesn't support per-parameter"),
])
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(_param([1.0]))


def test_type_errors_and_leaf_rules():
    with pytest.raises(TypeError, match="should be an iterable of Variables or dicts"):
        optim.SGD(_param([1.0]), lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Variables"):
        optim.SGD([ember.DoubleTensor(1)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't require gradients"):
        optim.SGD([Variable(ember.DoubleTensor(1))], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([_param([1.0]) * 2], lr=0.1)
    with pytest.raises(ValueError, match="volatile"):
        v = Variable(ember.DoubleTensor(1), volatile=True)
        v.requires_grad = True  # not allowed in 0.2 anyway; either error is fine
        optim.SGD([v], lr=0.1)


@pytest.mark.parametrize("name,ember_opt,torch_opt", CASES, ids=[c[0] for c in CASES])
def test_small_mlp_200_steps_match_torch(name, ember_opt, torch_opt):
    torch = require_torch()
    rng = np.random.RandomState(0)
    x = rng.standard_normal((16, 5))
    y = rng.standard_normal((16, 3))
    w1, w2 = rng.standard_normal((5, 8)) * 0.5, rng.standard_normal((8, 3)) * 0.5
    ew = [Variable(ember.DoubleTensor(w.copy()), requires_grad=True) for w in (w1, w2)]
    tw = [torch.tensor(w.copy(), requires_grad=True) for w in (w1, w2)]
    eopt, topt = ember_opt(ew), torch_opt(torch, tw)
    ex, ey = Variable(ember.DoubleTensor(x)), Variable(ember.DoubleTensor(y))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(200):
        eopt.zero_grad()
        ((ex.mm(ew[0]).clamp(min=0).mm(ew[1]) - ey) ** 2).sum().backward()
        eopt.step()
        topt.zero_grad()
        ((tx.mm(tw[0]).clamp(min=0).mm(tw[1]) - ty) ** 2).sum().backward()
        topt.step()
    for e, t in zip(ew, tw):
        np.testing.assert_allclose(e.data.numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 3), (300, 250)])  # one thread; slices on every thread
@pytest.mark.parametrize("name", ["sgd_momentum", "sgd_nesterov", "adam_eps0"])
def test_fused_and_tensor_op_paths_agree(name, shape):
    """SGD and Adam take a fused kernel for dense float parameters and tensor ops otherwise (here: a
    transposed, non-contiguous parameter); both follow 0.2's arithmetic."""
    factory = dict((c[0], c[1]) for c in CASES)[name]
    rng = np.random.RandomState(3)
    start = rng.standard_normal(shape)
    dense = Variable(ember.DoubleTensor(start.copy()), requires_grad=True)
    strided = Variable(ember.DoubleTensor(start.T.copy()).t(), requires_grad=True)
    assert not strided.data.is_contiguous()
    opt_d, opt_s = factory([dense]), factory([strided])
    for _ in range(50 if shape == (4, 3) else 5):
        g = rng.standard_normal(shape)
        dense.grad = Variable(ember.DoubleTensor(g.copy()))
        strided.grad = Variable(ember.DoubleTensor(g.T.copy()).t())
        opt_d.step()
        opt_s.step()
    np.testing.assert_allclose(dense.data.numpy(), strided.data.numpy(), rtol=1e-12, atol=1e-12)
