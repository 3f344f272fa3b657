"""lr_scheduler: each schedule's learning-rate sequence against PyTorch's."""
import pytest

import ember
import ember.optim as optim
from ember.autograd import Variable
from ember.optim import lr_scheduler
from _helpers.oracle import require_torch


def _opts(torch):
    p = Variable(ember.DoubleTensor([1.0]), requires_grad=True)
    tp = torch.zeros(1, requires_grad=True)
    return optim.SGD([p], lr=0.5), torch.optim.SGD([tp], lr=0.5)


SCHEDULES = [
    ("lambda", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e)),
    ("step", lambda m, o: m.StepLR(o, step_size=3, gamma=0.5)),
    ("multistep", lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3)),
    ("exponential", lambda m, o: m.ExponentialLR(o, gamma=0.9)),
]


@pytest.mark.parametrize("name,make", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_matches_torch(name, make):
    torch = require_torch()
    opt, topt = _opts(torch)
    sched, tsched = make(lr_scheduler, opt), make(torch.optim.lr_scheduler, topt)
    for epoch in range(15):
        sched.step()  # 0.2's usage: step() at the start of each epoch (its constructor leaves last_epoch -1)
        assert sched.last_epoch == epoch
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12), epoch
        topt.step()
        tsched.step()  # PyTorch >= 1.1: step() at the end of each epoch


def test_cosine_annealing_closed_form():
    import math
    p = Variable(ember.DoubleTensor([1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.1)
    for epoch in range(10):
        sched.step()
        want = 0.1 + (0.5 - 0.1) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert opt.param_groups[0]["lr"] == pytest.approx(want)


@pytest.mark.parametrize("mode,threshold_mode", [("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs")])
def test_reduce_on_plateau_matches_torch(mode, threshold_mode):
    torch = require_torch()
    opt, topt = _opts(torch)
    kw = dict(mode=mode, factor=0.5, patience=2, threshold=0.01, threshold_mode=threshold_mode, cooldown=1,
              min_lr=0.01)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kw)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49, 0.5, 0.5, 0.5, 0.5]
    for m in metrics:
        sched.step(m)
        tsched.step(m)
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])


def test_scheduler_errors():
    p = Variable(ember.DoubleTensor([1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    with pytest.raises(ValueError, match="Milestones should be a list of increasing integers"):
        lr_scheduler.MultiStepLR(opt, [5, 2])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=2)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), 2)
    with pytest.raises(ValueError, match="mode maxi is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="maxi")
