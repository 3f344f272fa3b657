"""Timing helpers shared by the benchmarks: ember and PyTorch timed side by side in one process.

Each comparison runs many short interleaved rounds (ember then torch, then torch then ember, ...) and
keeps the best sample of each: on a machine shared with other jobs, short samples make it likely that
both sides get some rounds without interference, so the ratio ember/torch stays meaningful.
"""
import os
import time

# Both libraries in one process on 2 cores: PyTorch's OpenMP workers spin after each op by default and
# then steal the cores from the ember call timed right after it (ember itself defaults to sleeping
# waiters). One wait policy for both keeps the interleaved comparison fair; set OMP_WAIT_POLICY=ACTIVE to
# see the other regime. Must run before either library loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

NA = "n/a"


def calls_per_sample(fn, target_s):
    """How many calls of ``fn`` make one sample of about ``target_s`` seconds (at least one)."""
    fn()  # warm up: first-call costs (imports, allocator growth) are not what we measure
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target_s / 4 or n >= 1 << 20:
            return max(1, int(n * target_s / max(dt, 1e-9)))
        n *= 4


def _sample(fn, n):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def best_of(ember_fn, torch_fn, repeat=30, target_s=0.002):
    """Time ``ember_fn`` and ``torch_fn`` in interleaved rounds. Returns (best ember seconds per call,
    best torch seconds per call, median over rounds of the ratio ember/torch within each round): the
    best times show each side unhindered, the median ratio is steadier under a changing load."""
    ne = calls_per_sample(ember_fn, target_s)
    nt = calls_per_sample(torch_fn, target_s)
    es, ts = [], []
    for r in range(repeat):
        if r % 2:
            ts.append(_sample(torch_fn, nt))
            es.append(_sample(ember_fn, ne))
        else:
            es.append(_sample(ember_fn, ne))
            ts.append(_sample(torch_fn, nt))
    ratios = sorted(e / t for e, t in zip(es, ts))
    return min(es), min(ts), ratios[len(ratios) // 2]


def fmt_time(s):
    if s is None:
        return NA
    if s >= 1e-3:
        return "{:.3f} ms".format(s * 1e3)
    return "{:.2f} us".format(s * 1e6)


_ONE = object()


def fmt_ratio(e, t=_ONE):
    """``fmt_ratio(ember_s, torch_s)`` or ``fmt_ratio(ratio)``; n/a where a value is None."""
    if t is not _ONE:
        e = None if e is None or t is None else e / t
    return NA if e is None else "{:.2f}".format(e)


def print_table(rows, title=None):
    """rows: (name, ember seconds, torch seconds, median ratio, note), or without the median ratio
    (name, ember seconds, torch seconds, note); None prints as n/a."""
    header = ("op", "ember", "torch", "best/best", "median ratio", "")
    rows = [r if len(r) == 5 else (r[0], r[1], r[2], None, r[3]) for r in rows]
    body = [(name, fmt_time(e), fmt_time(t), fmt_ratio(e, t), fmt_ratio(m), note)
            for name, e, t, m, note in rows]
    widths = [max(len(str(r[i])) for r in [header] + body) for i in range(len(header))]
    if title:
        print(title)
    line = "  ".join("{:<%d}" % w for w in widths)
    print(line.format(*header).rstrip())
    print("  ".join("-" * w for w in widths[:5]))
    for r in body:
        print(line.format(*r).rstrip())
