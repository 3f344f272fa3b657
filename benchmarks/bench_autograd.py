"""Autograd overhead, side by side with PyTorch CPU (2 threads each), interleaved best-of-N.

Cases:
- scalar: ``(a * b + c).sum().backward()`` on 1-element Variables (per-op Python overhead);
- mlp: ``x.mm(W1).clamp(min=0).mm(W2).sum().backward()``, 784-256-10 at batch 64 (the whole
  forward + backward of a small network; leaf gradients reset to None every iteration).

Prints the time per iteration of each library and the ratio ember / torch; the goals are <= 2.5x
(scalar) and <= 1.3x (mlp). Run: ``python benchmarks/bench_autograd.py [--rounds N]``.
"""
import argparse
import time

import numpy as np

import ember
from ember.autograd import Variable


def _best(fn, number, best):
    """Time ``number`` calls of fn; the minimum of this round and the best so far (per call)."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    dt = (time.perf_counter() - t0) / number
    return dt if best is None else min(best, dt)


def scalar_case(lib, V):
    a, b, c = (V(lib.ones(1) * v, requires_grad=True) for v in (0.5, 1.5, 2.0))

    def step():
        (a * b + c).sum().backward()
    return step


def mlp_case(lib, V, x, w1, w2):
    X = V(lib.from_numpy(x))
    W1 = V(lib.from_numpy(w1.copy()), requires_grad=True)
    W2 = V(lib.from_numpy(w2.copy()), requires_grad=True)

    def step():
        W1.grad = None
        W2.grad = None
        X.mm(W1).clamp(min=0).mm(W2).sum().backward()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (best of N)")
    args = parser.parse_args()
    ember.set_num_threads(2)
    rng = np.random.RandomState(0)
    x = rng.randn(64, 784).astype(np.float32)
    w1 = (rng.randn(784, 256) * 0.05).astype(np.float32)
    w2 = (rng.randn(256, 10) * 0.05).astype(np.float32)
    cases = [("scalar (a*b+c).sum().backward()", 2.5, 2000, lambda lib, V: scalar_case(lib, V)),
             ("mlp 784-256-10 batch 64 fwd+bwd", 1.3, 40, lambda lib, V: mlp_case(lib, V, x, w1, w2))]
    try:
        import torch
        torch.set_num_threads(2)

        def torch_var(t, requires_grad=False):
            return t.requires_grad_(requires_grad)
    except ImportError:
        torch = None
    print("{:<36} {:>12} {:>12} {:>8} {:>6}".format("case", "ember", "torch", "ratio", "goal"))
    for name, goal, number, make in cases:
        fe = make(ember, Variable)
        ft = make(torch, torch_var) if torch is not None else None
        fe()
        if ft is not None:
            ft()
        be = bt = None
        for _ in range(args.rounds):  # interleaved, so both see the same machine load
            be = _best(fe, number, be)
            if ft is not None:
                bt = _best(ft, number, bt)
        if bt is None:
            print("{:<36} {:>10.1f}us {:>12} {:>8} {:>6}".format(name, be * 1e6, "n/a", "n/a", goal))
        else:
            print("{:<36} {:>10.1f}us {:>10.1f}us {:>7.2f}x {:>5}x".format(name, be * 1e6, bt * 1e6, be / bt, goal))


if __name__ == "__main__":
    main()
