"""Convolution kernels, ember.kernels.conv against torch.nn.functional in the same process (2 threads each).

Usage: python benchmarks/bench_conv.py [--quick] [--profile]

Rows: forward, and forward + backward (gradients of input, weight and bias), for
    conv A: batch 64, 3 -> 64 channels, 32x32, 3x3 kernel, padding 1
    conv B: batch 32, 64 -> 128 channels, 56x56, 3x3 kernel, padding 1
    depthwise: batch 8, 128 -> 128 channels in 128 groups, 56x56, 3x3 kernel, padding 1 (MobileNet's)
timed in interleaved rounds (best of each side, and the median of the per-round ratios); a ratio
below 1 means ember is faster.
--profile runs cProfile over the slowest row and prints where its time goes.
"""
import argparse
import cProfile
import os
import pstats
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import best_of, print_table  # noqa: E402

THREADS = 2
CASES = {  # name: (batch, in channels, out channels, size, kernel, padding, groups)
    "conv A": (64, 3, 64, 32, 3, 1, 1),
    "conv B": (32, 64, 128, 56, 3, 1, 1),
    "depthwise": (8, 128, 128, 56, 3, 1, 128),
}


def setup(case, backward):
    """(ember_fn, torch_fn) for one row; both compute the same thing from the same data."""
    import ember
    import torch
    import torch.nn.functional as F
    from ember.kernels import conv as K

    n, c, o, size, k, pad, groups = CASES[case]
    rng = np.random.RandomState(0)
    x = rng.randn(n, c, size, size).astype(np.float32)
    w = (rng.randn(o, c // groups, k, k) / np.sqrt(c // groups * k * k)).astype(np.float32)
    b = rng.randn(o).astype(np.float32)
    ex, ew, eb = (ember.from_numpy(a.copy()) for a in (x, w, b))
    tx, tw, tb = (torch.from_numpy(a.copy()) for a in (x, w, b))
    if not backward:
        return (lambda: K.conv_forward(ex, ew, eb, 1, pad, 1, groups)), (lambda: F.conv2d(tx, tw, tb, 1, pad, 1, groups))

    tx.requires_grad_()
    tw.requires_grad_()
    tb.requires_grad_()
    gy = np.ones((n, o, size, size), np.float32)
    egy, tgy = ember.from_numpy(gy), torch.from_numpy(gy)

    def ember_fn():
        K.conv_forward(ex, ew, eb, 1, pad, 1, groups)
        return K.conv_backward(egy, ex, ew, 1, pad, 1, groups)

    def torch_fn():
        tx.grad = tw.grad = tb.grad = None
        F.conv2d(tx, tw, tb, 1, pad, 1, groups).backward(tgy)

    return ember_fn, torch_fn


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    ap.add_argument("--profile", action="store_true", help="cProfile the slowest row")
    args = ap.parse_args()

    import ember
    import torch
    ember.set_num_threads(THREADS)
    torch.set_num_threads(THREADS)

    # one call per sample for all but conv A's forward: many short samples ride out bursts of load
    repeat, target = (4, 0.01) if args.quick else (20, 0.01)
    rows, fns = [], []
    for case in CASES:
        for backward in (False, True):
            name = "{} {}".format(case, "fwd+bwd" if backward else "fwd")
            fe, ft = setup(case, backward)
            te, tt, ratio = best_of(fe, ft, repeat=repeat, target_s=target)
            rows.append((name, te, tt, ratio, ""))
            fns.append(fe)
    print_table(rows, title="ember.kernels.conv vs torch.nn.functional ({} threads)".format(THREADS))

    if args.profile:
        i = max(range(len(rows)), key=lambda j: rows[j][3])
        name, fe = rows[i][0], fns[i]
        print("\nprofile of the slowest row ({}, median ember/torch {:.2f}):".format(name, rows[i][3]))
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            fe()
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(8)


if __name__ == "__main__":
    main()
