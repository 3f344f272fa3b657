"""ember.kernels against PyTorch's CPU kernels (aten's native ops, no autograd on either side), both on
the same number of threads, printing time per call and the ratio ember / torch.

    python benchmarks/bench_kernels.py [--threads 2] [--repeat 15] [--quick]

Targets (the nn issue's): BatchNorm1d forward+backward and softmax / log_softmax forward+backward on
256 x 4096 within 1.5x of PyTorch. Timings are the best of ``--repeat`` samples, ember and torch
interleaved; the ratio is the median over samples of ember's time / torch's time in the same turn,
which load from other processes on a shared machine disturbs least.
"""
import argparse
import time

import numpy as np

import ember
from ember import kernels as K


def _timed(fns, repeat, number):
    """Per function, the time per call (seconds) of each of ``repeat`` samples, the functions sampled
    in turns (so a sample of one and the same sample of the other saw similar machine load)."""
    samples = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            samples[i].append((time.perf_counter() - t0) / number)
    return samples


def cases(torch):
    rng = np.random.RandomState(0)
    x = rng.randn(256, 4096).astype(np.float32)
    go = rng.randn(256, 4096).astype(np.float32)
    ex, ego = ember.from_numpy(x), ember.from_numpy(go)
    tx, tgo = torch.from_numpy(x), torch.from_numpy(go)

    def softmax_pair(log):
        if log:
            efwd, ebwd = K.log_softmax_forward, K.log_softmax_backward
        else:
            efwd, ebwd = K.softmax_forward, K.softmax_backward
        tfwd = torch._log_softmax if log else torch._softmax
        tbwd = torch._log_softmax_backward_data if log else torch._softmax_backward_data

        def e():
            ebwd(ego, efwd(ex, 1), 1)

        def t():
            tbwd(tgo, tfwd(tx, 1, False), 1, torch.float32)
        return e, t

    C = 4096
    w, b = np.ones(C, np.float32), np.zeros(C, np.float32)
    ew, eb, erm, erv = (ember.from_numpy(a.copy()) for a in (w, b, b, w))
    tw, tb, trm, trv = (torch.from_numpy(a.copy()) for a in (w, b, b, w))

    def bn_pair(ex, ego, tx, tgo, ew, eb, erm, erv, tw, tb, trm, trv):
        def e():
            y, sm, si = K.batch_norm_forward(ex, ew, eb, erm, erv, True, 0.1, 1e-5)
            K.batch_norm_backward(ego, ex, ew, sm, si, True)

        def t():
            y, sm, si = torch.native_batch_norm(tx, tw, tb, trm, trv, True, 0.1, 1e-5)
            torch.ops.aten.native_batch_norm_backward(tgo, tx, tw, trm, trv, sm, si, True, 1e-5, [True, True, True])
        return e, t

    x4 = rng.randn(32, 64, 28, 28).astype(np.float32)
    g4 = rng.randn(32, 64, 28, 28).astype(np.float32)
    p64 = [np.ones(64, np.float32), np.zeros(64, np.float32)]
    bn2d = bn_pair(ember.from_numpy(x4), ember.from_numpy(g4), torch.from_numpy(x4), torch.from_numpy(g4),
                   *(ember.from_numpy(a.copy()) for a in (p64[0], p64[1], p64[1], p64[0])),
                   *(torch.from_numpy(a.copy()) for a in (p64[0], p64[1], p64[1], p64[0])))

    logits = rng.randn(512, 1000).astype(np.float32)
    target = rng.randint(0, 1000, 512)
    el, et = ember.from_numpy(logits), ember.from_numpy(target)
    tl, tt = torch.from_numpy(logits), torch.from_numpy(target)

    def ce_e():
        out, total, logp = K.cross_entropy_forward(el, et)
        K.cross_entropy_backward(1.0, logp, et, total_weight=total)

    def ce_t():
        logp = torch._log_softmax(tl, 1, False)
        out, total = torch.ops.aten.nll_loss_forward(logp, tt, None, 1, -100)
        g = torch.ops.aten.nll_loss_backward(torch.ones(()), logp, tt, None, 1, -100, total)
        torch._log_softmax_backward_data(g, logp, 1, torch.float32)

    idx = rng.randint(0, 10000, (64, 35))
    ego_e = rng.randn(64, 35, 256).astype(np.float32)
    ei, eg = ember.from_numpy(idx), ember.from_numpy(ego_e)
    ti, tg = torch.from_numpy(idx), torch.from_numpy(ego_e)

    return [
        ("softmax fwd+bwd 256x4096", *softmax_pair(False)),
        ("log_softmax fwd+bwd 256x4096", *softmax_pair(True)),
        ("BatchNorm1d fwd+bwd 256x4096", *bn_pair(ex, ego, tx, tgo, ew, eb, erm, erv, tw, tb, trm, trv)),
        ("BatchNorm2d fwd+bwd 32x64x28x28", *bn2d),
        ("cross_entropy fwd+bwd 512x1000", ce_e, ce_t),
        ("embedding_backward 64x35 of 10000x256", lambda: K.embedding_backward(eg, ei, 10000, None, False),
         lambda: torch.ops.aten.embedding_dense_backward(tg, ti, 10000, -1, False)),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="a few samples only (smoke test)")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        raise SystemExit("bench_kernels.py compares with PyTorch: install torch (CPU) to run it")
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    repeat = 2 if args.quick else args.repeat
    print("threads: {}   torch {}   best of {} samples".format(args.threads, torch.__version__, repeat))
    print("{:<40} {:>11} {:>11} {:>7}".format("kernel", "ember (us)", "torch (us)", "ratio"))
    for name, e, t in cases(torch):
        e(), t()  # warm up: first-touch allocations, thread pools
        se, st = _timed([e, t], repeat, 5 if not args.quick else 1)
        ratio = float(np.median(np.array(se) / np.array(st)))
        print("{:<40} {:>11.1f} {:>11.1f} {:>7.2f}".format(name, min(se) * 1e6, min(st) * 1e6, ratio))


if __name__ == "__main__":
    main()
