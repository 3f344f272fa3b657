"""ember.optim on CUDA parameters: every optimizer follows the CPU's trajectory, keeps its state on the
parameter's device, and its state_dict round-trips."""
import io

import numpy as np
import pytest

import ember
import ember.optim as optim
from ember.autograd import Variable
from ember.kernels import optim as fused
from ember.optim import lr_scheduler

# (name, factory): options chosen to reach every branch of the updates
OPTIMIZERS = [
    ("sgd", lambda p: optim.SGD(p, lr=0.05)),
    ("sgd_momentum", lambda p: optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd_nesterov", lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    ("adam", lambda p: optim.Adam(p, lr=0.05, weight_decay=0.1)),
    ("adadelta", lambda p: optim.Adadelta(p, lr=0.5, weight_decay=0.01)),
    ("adagrad", lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01)),
    ("adamax", lambda p: optim.Adamax(p, lr=0.05, weight_decay=0.01)),
    ("asgd", lambda p: optim.ASGD(p, lr=0.05, t0=2, weight_decay=0.01)),
    ("rmsprop", lambda p: optim.RMSprop(p, lr=0.01, weight_decay=0.01)),
    ("rmsprop_centered_momentum", lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True)),
    ("rprop", lambda p: optim.Rprop(p, lr=0.01)),
    ("lbfgs", lambda p: optim.LBFGS(p, lr=0.5, max_iter=4, history_size=3)),
]
IDS = [name for name, _ in OPTIMIZERS]
STEPS = 4

_rng = np.random.RandomState(0)
X, Y = _rng.randn(8, 3), _rng.randn(8, 1)
W0, B0 = _rng.randn(3, 1), _rng.randn(1)


class Regression(object):
    """Least squares on (X, Y) with parameters w, b of tensor type ``cls`` on ``gpu`` (None: the CPU)."""

    def __init__(self, cls, gpu=None):
        def place(a, grad):
            t = ember.from_numpy(a.copy()).type(cls)
            return Variable(t if gpu is None else t.cuda(gpu), requires_grad=grad)
        self.x, self.y = place(X, False), place(Y, False)
        self.params = [place(W0, True), place(B0, True)]

    def closure(self, opt):
        def f():
            opt.zero_grad()
            w, b = self.params
            loss = ((self.x.mm(w) + b.expand(8, 1) - self.y) ** 2).mean()
            loss.backward()
            return loss
        return f

    def values(self):
        return [p.data.cpu().double().numpy().copy() for p in self.params]


def _trajectory(factory, problem, steps=STEPS, schedule=False):
    opt = factory(problem.params)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if schedule else None
    out = []
    for _ in range(steps):
        if sched is not None:
            sched.step()
        opt.step(problem.closure(opt))
        out.append(problem.values())
    return out


def _assert_same(got, want, **tol):
    for step, (g, w) in enumerate(zip(got, want)):
        for i, (a, b) in enumerate(zip(g, w)):
            np.testing.assert_allclose(a, b, err_msg="step {}, parameter {}".format(step + 1, i), **tol)


@pytest.mark.parametrize("name,factory", OPTIMIZERS, ids=IDS)
def test_trajectory_matches_cpu(name, factory, device_mode):
    want = _trajectory(factory, Regression(ember.DoubleTensor), schedule=True)
    problem = Regression(ember.DoubleTensor, gpu=0)
    got = _trajectory(factory, problem, schedule=True)
    assert all(type(p.data) is ember.cuda.DoubleTensor for p in problem.params)
    _assert_same(got, want, rtol=1e-9, atol=1e-12)
    assert not np.allclose(got[-1][0], W0)  # it moved


@pytest.mark.parametrize("name,factory", [OPTIMIZERS[1], OPTIMIZERS[3]], ids=["sgd_momentum", "adam"])
def test_half_parameters_follow_float(name, factory, device_mode):
    """The fused updates of half parameters compute in float32 and round once."""
    want = _trajectory(factory, Regression(ember.FloatTensor), steps=2)
    problem = Regression(ember.FloatTensor, gpu=0)
    problem.params = [Variable(p.data.half(), requires_grad=True) for p in problem.params]
    opt = factory(problem.params)
    got = []
    for _ in range(2):
        for p, g in zip(problem.params, _float_grads(problem)):
            p.grad = Variable(g.half())
        opt.step()
        got.append(problem.values())
    assert type(problem.params[0].data) is ember.cuda.HalfTensor
    _assert_same(got, want, rtol=1e-2, atol=2e-3)


def _float_grads(problem):
    """The gradients at the (half) parameters of ``problem``, computed in float32."""
    params = [Variable(p.data.float(), requires_grad=True) for p in problem.params]
    w, b = params
    ((problem.x.mm(w) + b.expand(8, 1) - problem.y) ** 2).mean().backward()
    return [p.grad.data for p in params]


def test_fused_updates_take_cuda_tensors(device_mode):
    for cls in (ember.cuda.FloatTensor, ember.cuda.DoubleTensor, ember.cuda.HalfTensor):
        a, b = cls(4).zero_(), cls(4).zero_()
        assert fused.fusable(a, b)
    assert not fused.fusable(ember.cuda.FloatTensor(4).zero_(), ember.cuda.DoubleTensor(4).zero_())
    assert not fused.fusable(ember.cuda.FloatTensor(4).zero_(), ember.FloatTensor(4).zero_())


def test_parameters_on_two_gpus(fake_cuda):
    """Parameters on two GPUs: each update runs on its own parameter's device."""
    p0 = Variable(ember.DoubleTensor([1.0, 2.0]).cuda(0), requires_grad=True)
    p1 = Variable(ember.DoubleTensor([3.0, -1.0]).cuda(1), requires_grad=True)
    assert not fused.fusable(p0.data, p1.data)
    opt = optim.Adam([p0, p1], lr=0.1)
    for _ in range(2):
        p0.grad = Variable(p0.data * 2)
        p1.grad = Variable(p1.data * 2)
        opt.step()
    ref = Variable(ember.DoubleTensor([1.0, 2.0, 3.0, -1.0]), requires_grad=True)
    ref_opt = optim.Adam([ref], lr=0.1)
    for _ in range(2):
        ref.grad = Variable(ref.data * 2)
        ref_opt.step()
    got = np.concatenate([p0.data.cpu().numpy(), p1.data.cpu().numpy()])
    np.testing.assert_allclose(got, ref.data.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name,factory", OPTIMIZERS[1:], ids=IDS[1:])  # plain SGD keeps no state
def test_state_lives_on_the_parameters_device(name, factory, fake_cuda):
    """GPU 1 while GPU 0 is current: every state tensor is made beside its parameter."""
    problem = Regression(ember.FloatTensor, gpu=1)
    opt = factory(problem.params)
    opt.step(problem.closure(opt))
    tensors = [v for state in opt.state.values() for v in state.values() if ember.is_tensor(v)]
    assert tensors
    for t in tensors:
        assert type(t) is ember.cuda.FloatTensor and t.get_device() == 1


@pytest.mark.parametrize("name,factory", OPTIMIZERS, ids=IDS)
def test_state_dict_round_trips(name, factory, device_mode):
    """Save the state of CUDA parameters after two steps, load it into a fresh optimizer: the next two
    steps are those of the uninterrupted run."""
    want = _trajectory(factory, Regression(ember.DoubleTensor, gpu=0))
    problem = Regression(ember.DoubleTensor, gpu=0)
    opt = factory(problem.params)
    for _ in range(2):
        opt.step(problem.closure(opt))
    buf = io.BytesIO()
    ember.save(opt.state_dict(), buf)
    buf.seek(0)
    resumed = factory(problem.params)
    resumed.load_state_dict(ember.load(buf))
    for state in resumed.state.values():
        for v in state.values():
            if ember.is_tensor(v):
                assert v.is_cuda
    got = []
    for _ in range(2):
        resumed.step(problem.closure(resumed))
        got.append(problem.values())
    _assert_same(got, want[2:], rtol=1e-12, atol=1e-14)


def test_cpu_state_loads_for_cuda_parameters(device_mode):
    """An ember extra (as 0.3): state tensors follow the parameters to their device and type."""
    cpu = Regression(ember.DoubleTensor)
    opt = optim.SGD(cpu.params, lr=0.05, momentum=0.9)
    opt.step(cpu.closure(opt))
    gpu = Regression(ember.FloatTensor, gpu=0)
    moved = optim.SGD(gpu.params, lr=0.05, momentum=0.9)
    moved.load_state_dict(opt.state_dict())
    buf = moved.state[gpu.params[0]]["momentum_buffer"]
    assert type(buf) is ember.cuda.FloatTensor
    np.testing.assert_allclose(buf.cpu().numpy(), opt.state[cpu.params[0]]["momentum_buffer"].numpy(), rtol=1e-6)
    moved.step(gpu.closure(moved))
