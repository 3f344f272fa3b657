"""Pooling, upsampling, padding and grid-sampling kernels: ember.kernels against PyTorch's CPU kernels (aten
ops, no autograd on either side), both on the same number of threads, printing the ratio ember / torch.

    python benchmarks/bench_pool.py [--threads 2] [--quick]

Target (issue 5): max-pool 2x2 forward+backward on conv A's output (batch 64, 64 channels, 32x32) within
1.5x of PyTorch. The other rows (average pooling, bilinear / nearest upsampling, padding, grid_sample)
are reported for reference. Timings are the best of interleaved samples (benchmarks/_common.py).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import best_of, print_table  # noqa: E402

N, C, H, W = 64, 64, 32, 32  # conv A's output


def cases(torch):
    """(name, setup) pairs; setup() returns (ember_fn, torch_fn)."""
    import ember
    from ember import kernels as K
    aten = torch.ops.aten
    rng = np.random.RandomState(0)
    x = rng.randn(N, C, H, W).astype(np.float32)
    ex, tx = ember.from_numpy(x), torch.from_numpy(x)

    def grad_like(shape):
        g = rng.randn(*shape).astype(np.float32)
        return ember.from_numpy(g), torch.from_numpy(g)

    def max_pool(k, s, p, backward=True):
        def setup():
            eo, _ = K.max_pool2d_forward(ex, k, s, p)
            ego, tgo = grad_like(tuple(eo.size()))

            def e():
                out, ind = K.max_pool2d_forward(ex, k, s, p)
                if backward:
                    K.max_pool2d_backward(ego, ex.size(), ind)

            def t():
                out, ind = aten.max_pool2d_with_indices(tx, [k, k], [s, s], [p, p], [1, 1], False)
                if backward:
                    aten.max_pool2d_with_indices_backward(tgo, tx, [k, k], [s, s], [p, p], [1, 1], False, ind)
            return e, t
        return setup

    def avg_pool(k, s, p):
        def setup():
            ego, tgo = grad_like(tuple(K.avg_pool2d_forward(ex, k, s, p).size()))

            def e():
                K.avg_pool2d_forward(ex, k, s, p)
                K.avg_pool2d_backward(ego, ex.size(), k, s, p)

            def t():
                aten.avg_pool2d(tx, [k, k], [s, s], [p, p], False, True)
                aten.avg_pool2d_backward(tgo, tx, [k, k], [s, s], [p, p], False, True, None)
            return e, t
        return setup

    def bilinear():
        ego, tgo = grad_like((N, C, 2 * H, 2 * W))

        def e():
            K.upsample_bilinear2d_forward(ex, scale_factor=2)
            K.upsample_bilinear2d_backward(ego, ex.size())

        def t():
            aten.upsample_bilinear2d(tx, [2 * H, 2 * W], True)
            aten.upsample_bilinear2d_backward(tgo, [2 * H, 2 * W], [N, C, H, W], True)
        return e, t

    def nearest():
        ego, tgo = grad_like((N, C, 2 * H, 2 * W))

        def e():
            K.upsample_nearest_forward(ex, scale_factor=2)
            K.upsample_nearest_backward(ego, ex.size())

        def t():
            aten.upsample_nearest2d(tx, [2 * H, 2 * W])
            aten.upsample_nearest2d_backward(tgo, [2 * H, 2 * W], [N, C, H, W])
        return e, t

    def reflection_pad():
        ego, tgo = grad_like((N, C, H + 2, W + 2))

        def e():
            K.reflection_pad2d_forward(ex, 1)
            K.reflection_pad2d_backward(ego, ex.size(), 1)

        def t():
            aten.reflection_pad2d(tx, [1, 1, 1, 1])
            aten.reflection_pad2d_backward(tgo, tx, [1, 1, 1, 1])
        return e, t

    def grid_sample():
        xs = rng.randn(16, 16, H, W).astype(np.float32)
        grid = rng.uniform(-1, 1, (16, H, W, 2)).astype(np.float32)
        exs, txs = ember.from_numpy(xs), torch.from_numpy(xs)
        eg, tg = ember.from_numpy(grid), torch.from_numpy(grid)
        ego, tgo = grad_like((16, 16, H, W))

        def e():
            K.grid_sample_forward(exs, eg)
            K.grid_sample_backward(ego, exs, eg)

        def t():
            aten.grid_sampler_2d(txs, tg, 0, 0, True)
            aten.grid_sampler_2d_backward(tgo, txs, tg, 0, 0, True, [True, True])
        return e, t

    return [
        ("max_pool2d 2x2 fwd+bwd 64x64x32x32", max_pool(2, 2, 0)),
        ("max_pool2d 2x2 fwd", max_pool(2, 2, 0, backward=False)),
        ("max_pool2d 3x3 s2 p1 fwd+bwd", max_pool(3, 2, 1)),
        ("avg_pool2d 2x2 fwd+bwd", avg_pool(2, 2, 0)),
        ("avg_pool2d 3x3 s2 p1 fwd+bwd", avg_pool(3, 2, 1)),
        ("upsample bilinear x2 fwd+bwd", bilinear),
        ("upsample nearest x2 fwd+bwd", nearest),
        ("reflection_pad2d 1 fwd+bwd", reflection_pad),
        ("grid_sample 16x16x32x32 fwd+bwd", grid_sample),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to compare with")
        return 1
    import ember
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    repeat, target = (5, 0.05) if args.quick else (15, 0.1)
    rows = []
    for name, setup in cases(torch):
        try:
            ember_fn, torch_fn = setup()
            ember_fn()  # a failing kernel fails here, before any timing
        except Exception as e:  # noqa: BLE001 - one failing row must not stop the table
            rows.append((name, None, None, "{}: {}".format(type(e).__name__, (str(e) or "-").splitlines()[0][:60])))
            continue
        e, t, _ = best_of(ember_fn, torch_fn, repeat=repeat, target_s=target)
        rows.append((name, e, t, ""))
    print_table(rows, title="ember.kernels vs torch {} (aten), {} threads each, best of {} interleaved samples"
                .format(torch.__version__, args.threads, repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
