"""Tensor ops, ember against PyTorch CPU in the same process (both on 2 threads).

Usage: python benchmarks/bench_tensor.py [--quick]

Prints one row per op: the best time per call of each library, their ratio ember/torch (lower is better
for ember) and the median of the ratios measured round by round (steadier when other jobs load the
machine). A row whose op ember does not have yet (or that fails) prints "n/a" with the reason.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import best_of, print_table  # noqa: E402

THREADS = 2


def _pair(arr):
    """The same data as an ember tensor and a torch tensor (separate copies)."""
    import ember
    import torch
    return ember.from_numpy(arr.copy()), torch.from_numpy(arr.copy())


def cases():
    """(name, setup) pairs; setup() returns (ember_fn, torch_fn)."""
    rng = np.random.RandomState(0)
    big = 4 << 20

    def binary(op):
        def setup():
            ea, ta = _pair(rng.randn(big).astype(np.float32))
            eb, tb = _pair(rng.randn(big).astype(np.float32))
            return (lambda: op(ea, eb)), (lambda: op(ta, tb))
        return setup

    def unary(op):
        def setup():
            ea, ta = _pair(rng.randn(big).astype(np.float32))
            return (lambda: op(ea)), (lambda: op(ta))
        return setup

    def reduce(op):
        def setup():
            ea, ta = _pair(rng.randn(4096, 1024).astype(np.float32))
            return (lambda: op(ea)), (lambda: op(ta))
        return setup

    def mm():
        import ember
        import torch
        ea, ta = _pair(rng.randn(1024, 1024).astype(np.float32))
        eb, tb = _pair(rng.randn(1024, 1024).astype(np.float32))
        return (lambda: ember.mm(ea, eb)), (lambda: torch.mm(ta, tb))

    def index_add():
        # 1M source elements (8192 x 128) added into 1024 rows
        ed, td = _pair(np.zeros((1024, 128), np.float32))
        es, ts = _pair(rng.randn(8192, 128).astype(np.float32))
        ei, ti = _pair(rng.randint(0, 1024, 8192).astype(np.int64))
        return (lambda: ed.index_add_(0, ei, es)), (lambda: td.index_add_(0, ti, ts))

    def scatter():
        ed, td = _pair(np.zeros((1024, 1024), np.float32))
        es, ts = _pair(rng.randn(1024, 1024).astype(np.float32))
        ei, ti = _pair(rng.randint(0, 1024, (1024, 1024)).astype(np.int64))
        return (lambda: ed.scatter_(1, ei, es)), (lambda: td.scatter_(1, ti, ts))

    def gather():
        ex, tx = _pair(rng.randn(1024, 1024).astype(np.float32))
        ei, ti = _pair(rng.randint(0, 1024, (1024, 1024)).astype(np.int64))
        return (lambda: ex.gather(1, ei)), (lambda: tx.gather(1, ti))

    def broadcast(op, other_shape):
        def setup():
            ea, ta = _pair(rng.randn(4096, 1024).astype(np.float32))
            eb, tb = _pair(rng.randn(*other_shape).astype(np.float32))
            return (lambda: op(ea, eb)), (lambda: op(ta, tb))
        return setup

    def addcmul():
        ea, ta = _pair(rng.randn(big).astype(np.float32))
        eb, tb = _pair(rng.randn(big).astype(np.float32))
        return (lambda: ea.addcmul(0.5, eb, eb)), (lambda: ta.addcmul(tb, tb, value=0.5))

    def add_value():
        ea, ta = _pair(rng.randn(big).astype(np.float32))
        eb, tb = _pair(rng.randn(big).astype(np.float32))
        return (lambda: ea.add_(-0.01, eb)), (lambda: ta.add_(tb, alpha=-0.01))

    def nonzero():
        mask = rng.rand(big) > 0.5
        em, tm = _pair(mask.astype(np.uint8))
        return (lambda: em.nonzero()), (lambda: tm.bool().nonzero())

    def cat_chunks():
        import ember
        import torch
        ea, ta = _pair(rng.randn(2048, 2048).astype(np.float32))
        return (lambda: ember.cat(ea.chunk(4, 1), 0)), (lambda: torch.cat(ta.chunk(4, 1), 0))

    def bytes_to_float():
        ea, ta = _pair(rng.randint(0, 256, big).astype(np.uint8))
        return (lambda: ea.float()), (lambda: ta.float())

    def tiny_add():
        ea, ta = _pair(np.ones(1, np.float32))
        eb, tb = _pair(np.ones(1, np.float32))
        return (lambda: ea + eb), (lambda: ta + tb)

    return [
        ("add 4M float32", binary(lambda a, b: a + b)),
        ("mul 4M float32", binary(lambda a, b: a * b)),
        ("exp 4M float32", unary(lambda a: a.exp())),
        ("clamp 4M float32", unary(lambda a: a.clamp(-0.5, 0.5))),
        ("sigmoid 4M float32", unary(lambda a: a.sigmoid())),
        ("sign 4M float32", unary(lambda a: a.sign())),
        ("pow(3) 4M float32", unary(lambda a: a.pow(3))),
        ("fmod(0.3) 4M float32", unary(lambda a: a.fmod(0.3))),
        ("addcmul 4M float32", addcmul),
        ("add_(value, other) 4M float32", add_value),
        ("4096x1024 * (4096, 1)", broadcast(lambda a, b: a * b, (4096, 1))),
        ("4096x1024 + (1024,)", broadcast(lambda a, b: a + b, (1024,))),
        ("fill_ 4M float32", unary(lambda a: a.fill_(2))),
        ("ByteTensor.float() 4M", bytes_to_float),
        ("nonzero 4M bytes", nonzero),
        ("sum(1) 4096x1024", reduce(lambda a: a.sum(1))),
        ("var(1) 4096x1024", reduce(lambda a: a.var(1))),
        ("prod() 4096x1024", reduce(lambda a: a.prod())),
        ("median(1) 4096x1024", reduce(lambda a: a.median(1))),
        ("max(1) 4096x1024", reduce(lambda a: a.max(1))),
        ("cumsum(1) 4096x1024", reduce(lambda a: a.cumsum(1))),
        ("topk(10, 1) 4096x1024", reduce(lambda a: a.topk(10, 1))),
        ("sort(1) 4096x1024", reduce(lambda a: a.sort(1))),
        ("t().contiguous() 4096x1024", reduce(lambda a: a.t().contiguous())),
        ("narrow(1, 1, 1000).clone() 4096x1024", reduce(lambda a: a.narrow(1, 1, 1000).clone())),
        ("cat(chunk(4, 1), 0) 2048x2048", cat_chunks),
        ("mm 1024^3 float32", mm),
        ("index_add_ 1M", index_add),
        ("scatter_ 1M", scatter),
        ("gather 1M", gather),
        ("a + b, 1 element", tiny_add),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to compare with")
        return 1
    import ember
    torch.set_num_threads(THREADS)
    ember.set_num_threads(THREADS)
    repeat, target = (10, 0.002) if args.quick else (60, 0.002)
    rows = []
    for name, setup in cases():
        try:
            ember_fn, torch_fn = setup()
            ember_fn()  # a missing op fails here, before any timing
        except Exception as e:  # noqa: BLE001 - any failure of one row must not stop the table
            rows.append((name, None, None, None,
                         "{}: {}".format(type(e).__name__, (str(e) or "-").splitlines()[0][:60])))
            continue
        e, t, ratio = best_of(ember_fn, torch_fn, repeat=repeat, target_s=target)
        rows.append((name, e, t, ratio, ""))
    print_table(rows, title="ember {} vs torch {}, {} threads each, {} interleaved rounds"
                .format(ember.__version__, torch.__version__, THREADS, repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
