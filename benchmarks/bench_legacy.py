"""ember.legacy: reading Lua Torch7 .t7 files, and legacy.nn's convolution against ember.nn's.

1. ember's load_lua against the PyPI reader `torchfile`, in one process: loads the largest binary model in
   shared/data/t7 (and a small file, for per-call overhead) with both readers, interleaved best-of-N, and
   prints the time of each and the ratio ember / torchfile (lower is better for ember). torchfile is
   optional (``pip install torchfile``); without it the ember times are printed alone.
2. legacy.nn.SpatialConvolution forward + backward (explicit, on tensors) against ember.nn.Conv2d forward +
   backward (autograd) on the same weights and input: both run ember.kernels' convolution, so the ratio
   legacy / nn shows what each API layer costs around it (skipped when ember.nn is not installed).
Run: ``python benchmarks/bench_legacy.py [--quick]``.
"""
import argparse
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import best_of, fmt_ratio, fmt_time  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("EMBER_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))


def largest_binary_model():
    best = None
    for path in glob.glob(os.path.join(DATA, "t7", "*", "*")):
        if path.endswith((".md", ".tsv")) or "cf46076" in path:  # the damaged 2011 file
            continue
        with open(path, "rb") as f:
            if f.read(1).isdigit():  # ASCII: torchfile reads binary files only
                continue
        if best is None or os.path.getsize(path) > os.path.getsize(best):
            best = path
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    from ember.legacy.serialization import load_lua
    try:
        import torchfile
    except ImportError:
        torchfile = None
    repeat = 3 if args.quick else 9
    files = [largest_binary_model(), os.path.join(DATA, "t7", "lua_nn_reference", "Linear.t7")]
    rows = []
    for path in files:
        name = "{} ({} KB)".format(os.path.basename(path), os.path.getsize(path) // 1024)

        def ember_fn(path=path):
            load_lua(path, unknown_classes=True)

        if torchfile is None:
            e, _, _ = best_of(ember_fn, ember_fn, repeat=repeat, target_s=0.05)
            rows.append((name, e, None))
            continue

        def torchfile_fn(path=path):
            # its list heuristic fails on tables holding arrays with NumPy 2
            torchfile.load(path, use_list_heuristic=False)

        e, t, _ = best_of(ember_fn, torchfile_fn, repeat=repeat, target_s=0.05)
        rows.append((name, e, t))
    if torchfile is None:
        print("torchfile is not installed (pip install torchfile): ember's times only")
    width = max(len(r[0]) for r in rows)
    print("{:<{w}}  {:>10}  {:>10}  {}".format("file", "ember", "torchfile", "ember/torchfile", w=width))
    for name, e, t in rows:
        print("{:<{w}}  {:>10}  {:>10}  {}".format(name, fmt_time(e), fmt_time(t), fmt_ratio(e, t), w=width))
    print()
    bench_convolution(args.quick)


def bench_convolution(quick):
    """legacy SpatialConvolution forward + backward against ember.nn.Conv2d's, same kernel and data."""
    import ember
    import ember.legacy.nn as lnn
    try:
        from ember.autograd import Variable
        from ember.nn import Conv2d
    except ImportError:
        print("ember.nn is not installed (pip install ember-nn): no convolution comparison")
        return
    n, cin, cout, size = (8, 16, 32, 16) if quick else (16, 32, 64, 32)
    ember.manual_seed(0)
    legacy = lnn.SpatialConvolution(cin, cout, 3, 3, 1, 1, 1, 1)
    conv = Conv2d(cin, cout, 3, padding=1)
    conv.weight.data.copy_(legacy.weight)
    conv.bias.data.copy_(legacy.bias)
    x = ember.FloatTensor(n, cin, size, size).normal_()
    grad = ember.FloatTensor(n, cout, size, size).normal_()
    xv = Variable(x, requires_grad=True)

    def legacy_fn():
        legacy.forward(x)
        legacy.backward(x, grad)

    def nn_fn():
        conv.zero_grad()
        xv.grad = None
        conv(xv).backward(grad)

    e, t, med = best_of(legacy_fn, nn_fn, repeat=3 if quick else 9, target_s=0.05)
    name = "SpatialConvolution {}x{}x{}x{} -> {}, 3x3 pad 1, forward + backward".format(n, cin, size, size, cout)
    print("{}  {:>10}  {:>10}  {}".format(" " * len(name), "legacy", "nn.Conv2d", "legacy/nn (median)"))
    print("{}  {:>10}  {:>10}  {} ({})".format(name, fmt_time(e), fmt_time(t), fmt_ratio(e, t), fmt_ratio(med)))


if __name__ == "__main__":
    main()
