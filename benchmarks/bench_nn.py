"""ember.nn against torch.nn on CPU, side by side (2 threads each), printing time per step and the ratio
ember / torch.

    python benchmarks/bench_nn.py [--threads 2] [--repeat 20] [--profile]

Cases and goals (the nn issue's):
- mlp: one training step of a 784-512-512-10 MLP at batch 64 (Linear, ReLU, Dropout, cross-entropy loss,
  zero_grad, backward, SGD step) <= 1.3x;
- softmax / log_softmax forward + backward on 256 x 4096 (through autograd) <= 1.5x;
- BatchNorm1d forward + backward on 256 x 4096 (training mode) <= 1.5x;
and, without goals: glu, normalize, pairwise_distance forward + backward on 256 x 4096, pixel_shuffle, and
the per-call cost of small functional calls (relu, leaky_relu, log_softmax, linear, cross_entropy on 8 x 16).
A row whose layer is missing from ember prints n/a. ``--profile`` runs ember's MLP step under cProfile
and prints where its time goes. On a machine shared with other jobs, run with ``OMP_WAIT_POLICY=passive``:
OpenMP threads that spin-wait at barriers otherwise starve each other and the timings mean little.
"""
import argparse
import cProfile
import os
import pstats
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import NA, best_of, print_table  # noqa: E402

import ember  # noqa: E402
import ember.nn as enn  # noqa: E402
import ember.nn.functional as EF  # noqa: E402
import ember.optim  # noqa: E402
from ember.autograd import Variable  # noqa: E402

def _mlp(nn, p=0.5):
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(p), nn.Linear(512, 512), nn.ReLU(),
                         nn.Dropout(p), nn.Linear(512, 10))


def _copy_params(src, dst, torch):
    for (_, a), (_, b) in zip(src.named_parameters(), dst.named_parameters()):
        b.data.copy_(torch.from_numpy(a.data.numpy().copy()))


def _ember_loss(out, target):
    """Cross-entropy: the loss layer when ember.nn has it, else log_softmax and a gathered NLL."""
    if hasattr(EF, "cross_entropy"):
        return EF.cross_entropy(out, target)
    return -EF.log_softmax(out).gather(1, target.view(-1, 1)).mean()


def mlp_steps(torch, batch=64):
    rng = np.random.RandomState(0)
    x = rng.rand(batch, 784).astype(np.float32)
    y = rng.randint(0, 10, batch).astype(np.int64)
    em = _mlp(enn)
    ex, ey = Variable(ember.from_numpy(x)), Variable(ember.from_numpy(y))
    eopt = ember.optim.SGD(em.parameters(), lr=0.01, momentum=0.9)

    def e_step():
        eopt.zero_grad()
        _ember_loss(em(ex), ey).backward()
        eopt.step()

    if torch is None:
        return e_step, None
    tm = _mlp(torch.nn)
    _copy_params(em, tm, torch)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    topt = torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9)

    def t_step():
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tm(tx), ty).backward()
        topt.step()
    return e_step, t_step


def softmax_steps(torch, log):
    rng = np.random.RandomState(1)
    x = rng.randn(256, 4096).astype(np.float32)
    g = rng.randn(256, 4096).astype(np.float32)
    ex = Variable(ember.from_numpy(x), requires_grad=True)
    eg = ember.from_numpy(g)
    efn = EF.log_softmax if log else EF.softmax

    def e_step():
        ex.grad = None
        efn(ex).backward(eg)

    if torch is None:
        return e_step, None
    tx = torch.from_numpy(x).requires_grad_(True)
    tg = torch.from_numpy(g)
    tfn = torch.nn.functional.log_softmax if log else torch.nn.functional.softmax

    def t_step():
        tx.grad = None
        tfn(tx, 1).backward(tg)
    return e_step, t_step


def batchnorm_steps(torch):
    if not hasattr(enn, "BatchNorm1d"):
        return None, None
    rng = np.random.RandomState(2)
    x = rng.randn(256, 4096).astype(np.float32)
    g = rng.randn(256, 4096).astype(np.float32)
    em = enn.BatchNorm1d(4096)
    ex = Variable(ember.from_numpy(x), requires_grad=True)
    eg = ember.from_numpy(g)

    def e_step():
        ex.grad = None
        em(ex).backward(eg)

    if torch is None:
        return e_step, None
    tm = torch.nn.BatchNorm1d(4096)
    tx = torch.from_numpy(x).requires_grad_(True)
    tg = torch.from_numpy(g)

    def t_step():
        tx.grad = None
        tm(tx).backward(tg)
    return e_step, t_step


def functional_steps(torch, name, shapes, grad=True, targets=None):
    """F.<name> forward (+ backward when ``grad``) on Variables of ``shapes`` (``targets``: a class-index
    target of that many rows as the last argument); ``name`` may be (ember's args, torch's args) kwargs."""
    rng = np.random.RandomState(3)
    arrays = [rng.randn(*s).astype(np.float32) for s in shapes]
    t = rng.randint(0, shapes[0][-1], targets).astype(np.int64) if targets else None
    name, kwargs = name if isinstance(name, tuple) else (name, {})
    evs = [Variable(ember.from_numpy(a.copy()), requires_grad=grad) for a in arrays]
    eargs = evs + ([Variable(ember.from_numpy(t))] if targets else [])
    efn = getattr(EF, name)

    def e_step():
        y = efn(*eargs, **kwargs)
        if grad:
            y.sum().backward()

    if torch is None:
        return e_step, None
    tvs = [torch.from_numpy(a.copy()).requires_grad_(grad) for a in arrays]
    targs = tvs + ([torch.from_numpy(t)] if targets else [])
    tfn = getattr(torch.nn.functional, name)
    tkw = dict(kwargs, dim=1) if name in ("log_softmax", "softmax") else kwargs

    def t_step():
        y = tfn(*targs, **tkw)
        if grad:
            y.sum().backward()
    return e_step, t_step


def profile_mlp(n=200):
    e_step, _ = mlp_steps(None)
    e_step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        e_step()
    prof.disable()
    print("\ncProfile of {} ember MLP steps (tottime, top 25):".format(n))
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads of each library")
    parser.add_argument("--repeat", type=int, default=20, help="interleaved samples (best of N)")
    parser.add_argument("--profile", action="store_true", help="cProfile ember's MLP step")
    args = parser.parse_args()
    ember.set_num_threads(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    ember.manual_seed(0)
    rows = []
    cases = [("mlp 784-512-512-10 train step, batch 64", "goal <= 1.3", lambda: mlp_steps(torch)),
             ("softmax fwd+bwd 256x4096", "goal <= 1.5", lambda: softmax_steps(torch, False)),
             ("log_softmax fwd+bwd 256x4096", "goal <= 1.5", lambda: softmax_steps(torch, True)),
             ("BatchNorm1d fwd+bwd 256x4096", "goal <= 1.5", lambda: batchnorm_steps(torch)),
             ("glu fwd+bwd 256x4096", "", lambda: functional_steps(torch, "glu", [(256, 4096)])),
             ("normalize fwd+bwd 256x4096", "", lambda: functional_steps(torch, "normalize", [(256, 4096)])),
             ("pairwise_distance fwd+bwd 256x4096", "",
              lambda: functional_steps(torch, "pairwise_distance", [(256, 4096), (256, 4096)])),
             ("pixel_shuffle(2) 16x256x28x28", "",
              lambda: functional_steps(torch, ("pixel_shuffle", dict(upscale_factor=2)), [(16, 256, 28, 28)],
                                       grad=False)),
             ("relu forward 8x16 (per call)", "", lambda: functional_steps(torch, "relu", [(8, 16)], grad=False)),
             ("leaky_relu forward 8x16", "", lambda: functional_steps(torch, "leaky_relu", [(8, 16)], grad=False)),
             ("log_softmax forward 8x16", "",
              lambda: functional_steps(torch, "log_softmax", [(8, 16)], grad=False)),
             ("linear forward 8x16 -> 16", "",
              lambda: functional_steps(torch, "linear", [(8, 16), (16, 16), (16,)], grad=False)),
             ("cross_entropy fwd+bwd 8x16", "",
              lambda: functional_steps(torch, "cross_entropy", [(8, 16)], targets=8))]
    for name, goal, make in cases:
        e_step, t_step = make()
        if e_step is None:
            rows.append((name, None, None, None, "ember layer missing"))
            continue
        if t_step is None:
            e, _, _ = best_of(e_step, e_step, repeat=args.repeat, target_s=0.02)
            rows.append((name, e, None, None, "torch " + NA))
            continue
        e, t, ratio = best_of(e_step, t_step, repeat=args.repeat, target_s=0.02)
        rows.append((name, e, t, ratio, goal))
    print_table(rows, "ember.nn vs torch.nn, {} threads each".format(args.threads))
    if args.profile:
        profile_mlp()


if __name__ == "__main__":
    main()
