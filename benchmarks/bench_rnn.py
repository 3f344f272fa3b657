"""Recurrent layers, ember.nn against torch.nn in the same process (2 threads each).

Usage: python benchmarks/bench_rnn.py [--quick] [--profile]

Rows (sequence 35, batch 20, the word-language-model sizes; target: ember <= 1.5x torch on the LSTM rows):
    LSTM fwd           2-layer LSTM, input 128, hidden 256, forward only (volatile input / no_grad)
    LSTM fwd+bwd       the same, forward and backward (gradients of the input and of every parameter)
    GRU fwd+bwd        2-layer GRU of the same sizes
    biLSTM packed      1-layer bidirectional LSTM over a packed batch of lengths 35 ... 16, forward and backward
timed in interleaved rounds (best of each side, and the median of the per-round ratios); a ratio below 1
means ember is faster. --profile times ember's LSTM forward and backward piece by piece (the time loops of ember._C.rnn,
layer_forward / layer_backward; mm, the sequence-wide gemms; everything else) and runs cProfile over it.
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
SEQ, BATCH, INPUT, HIDDEN = 35, 20, 128, 256


def setup(cls, backward, layers=2, bidirectional=False, packed=False):
    """(ember_fn, torch_fn) for one row: the same module (weights copied) on the same data."""
    import ember
    import ember.nn as nn
    import torch
    from ember.autograd import Variable

    ember.manual_seed(0)
    m = getattr(nn, cls)(INPUT, HIDDEN, num_layers=layers, bidirectional=bidirectional)
    tm = getattr(torch.nn, cls)(INPUT, HIDDEN, num_layers=layers, bidirectional=bidirectional)
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    x = np.random.RandomState(0).randn(SEQ, BATCH, INPUT).astype(np.float32)
    lengths = list(np.linspace(SEQ, SEQ // 2 - 1, BATCH).astype(int)) if packed else None

    def ember_fn():
        ex = Variable(ember.from_numpy(x), requires_grad=backward, volatile=not backward)
        inp = nn.utils.rnn.pack_padded_sequence(ex, lengths) if packed else ex
        out, _ = m(inp)
        if backward:
            m.zero_grad()
            (out.data if packed else out).sum().backward()

    def torch_fn():
        tx = torch.from_numpy(x).requires_grad_(backward)
        with torch.set_grad_enabled(backward):
            inp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths) if packed else tx
            out, _ = tm(inp)
            if backward:
                tm.zero_grad()
                (out.data if packed else out).sum().backward()

    return ember_fn, torch_fn


ROWS = [
    ("LSTM fwd", dict(cls="LSTM", backward=False)),
    ("LSTM fwd+bwd", dict(cls="LSTM", backward=True)),
    ("GRU fwd+bwd", dict(cls="GRU", backward=True)),
    ("biLSTM packed fwd+bwd", dict(cls="LSTM", backward=True, layers=1, bidirectional=True, packed=True)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    ap.add_argument("--profile", action="store_true", help="cProfile ember's LSTM forward and backward")
    args = ap.parse_args()

    import ember
    import torch
    ember.set_num_threads(THREADS)
    torch.set_num_threads(THREADS)

    repeat, target = (4, 0.05) if args.quick else (20, 0.05)
    rows = []
    for name, kw in ROWS:
        fe, ft = setup(**kw)
        te, tt, ratio = best_of(fe, ft, repeat=repeat, target_s=target)
        rows.append((name, te, tt, ratio, ""))
    print_table(rows, title="nn recurrent layers vs torch.nn, seq {} batch {} input {} hidden {} ({} threads)"
                .format(SEQ, BATCH, INPUT, HIDDEN, THREADS))

    if args.profile:
        profile()


def profile(calls=10):
    """Where ember's LSTM fwd+bwd time goes: the kernel entry points of ember._C.rnn timed one by one
    (layer_forward / layer_backward: the time loops; mm: the sequence-wide gemms), the rest (autograd,
    gradient accumulation, allocation) by difference; then cProfile's view of the Python side."""
    import collections
    import time
    import ember.kernels.rnn as KR

    spent, count = collections.defaultdict(float), collections.Counter()
    originals = {name: getattr(KR._k, name) for name in ("layer_forward", "layer_backward", "mm")}

    def timed(name, fn):
        def call(*args):
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                spent[name] += time.perf_counter() - t0
                count[name] += 1
        return call

    fe, _ = setup("LSTM", True)
    fe()
    for name, fn in originals.items():
        setattr(KR._k, name, timed(name, fn))
    try:
        t0 = time.perf_counter()
        for _ in range(calls):
            fe()
        total = time.perf_counter() - t0
    finally:
        for name, fn in originals.items():
            setattr(KR._k, name, fn)
    print("\nwhere ember's LSTM fwd+bwd time goes ({:.2f} ms per call, mean of {}):".format(total / calls * 1e3, calls))
    for name in ("layer_forward", "layer_backward", "mm"):
        print("  {:<28} {:8.2f} ms  {:5.1f}%  ({} calls)".format(
            "ember._C.rnn." + name, spent[name] / calls * 1e3, 100 * spent[name] / total, count[name] // calls))
    rest = total - sum(spent.values())
    print("  {:<28} {:8.2f} ms  {:5.1f}%".format("everything else", rest / calls * 1e3, 100 * rest / total))
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        fe()
    prof.disable()
    print("\ncProfile (the kernels' time shows under kernels/rnn.py's _forward_cpu / _backward_cpu):")
    pstats.Stats(prof).sort_stats("tottime").print_stats(10)

if __name__ == "__main__":
    main()
