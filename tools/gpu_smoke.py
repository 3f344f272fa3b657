"""GPU smoke run: on a fresh CUDA machine (CuPy, Cython, NumPy, SciPy, pytest; no network needed), build
ember's Cython extensions from this checkout in place, run the CUDA tests on the real GPU and the GPU
benchmark, and print a summary. Meant to finish well under 8 minutes.

    python3 tools/gpu_smoke.py [--skip-build] [--jobs 16] [--no-bench]

Exit status 0 when the build and every test passed (a missing GPU counts as a failure here: that is what
this run is for). The tests it runs: tests/core_tests/cuda (each op case on the GPU and on the NumPy
stand-in, the cuda.* API, pinned memory, DataLoader(pin_memory=True), serialization) and the CPU tensor
tests touched by the CUDA work (a sanity check that this machine builds ember right).
"""
import argparse
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = [os.path.join(ROOT, "packages", p, "src") for p in ("core", "nn", "optim", "legacy", "vision")]


def run(title, cmd, timeout, env=None, cwd=ROOT):
    print("\n=== {} ===\n$ {}".format(title, " ".join(cmd)), flush=True)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), 124
    dt = time.monotonic() - t0
    tail = out.splitlines()[-40:]
    print("\n".join(tail))
    print("--- {}: exit {} in {:.0f} s".format(title, rc, dt), flush=True)
    return rc, out, dt


def pytest_counts(out):
    m = re.findall(r"(\d+) (passed|failed|skipped|error|errors)", out.splitlines()[-1] if out else "")
    return ", ".join("{} {}".format(n, w) for n, w in m) or "no summary"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 4)
    ap.add_argument("--no-bench", action="store_true")
    args = ap.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(SRC + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("EMBER_FAKE_CUDA", None)
    summary = []
    ok = True

    if not args.skip_build:
        rc, out, dt = run("build ember._C in place", [sys.executable, "setup.py", "build_ext", "--inplace",
                                                      "-j", str(args.jobs)], 300, env,
                          cwd=os.path.join(ROOT, "packages", "core"))
        summary.append(("build", "ok" if rc == 0 else "FAILED (exit {})".format(rc), dt))
        if rc != 0:
            ok = False
            print_summary(summary)
            return 1

    probe = ("import cupy, ember, ember.cuda as c; print('cupy', cupy.__version__, '| ember.cuda available:', "
             "c.is_available(), '| devices:', c.device_count(), '|', "
             "cupy.cuda.runtime.getDeviceProperties(0)['name'].decode() if c.is_available() else '')")
    rc, out, dt = run("environment", [sys.executable, "-c", probe], 120, env)
    gpu = rc == 0 and "available: True" in out
    summary.append(("CUDA visible to ember", "yes" if gpu else "NO", dt))
    ok = ok and gpu

    rc, out, dt = run("CUDA tests (real GPU + fake)", [sys.executable, "-m", "pytest", "-q", "-x", "-p",
                                                         "no:cacheprovider", "tests/core_tests/cuda"], 300, env)
    summary.append(("tests/core_tests/cuda", pytest_counts(out), dt))
    ok = ok and rc == 0

    rc, out, dt = run("CPU sanity tests", [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                                           "tests/core_tests/test_tensor.py", "tests/core_tests/test_storage.py",
                                           "tests/core_tests/test_serialization.py"], 180, env)
    summary.append(("CPU tensor/storage/serialization tests", pytest_counts(out), dt))
    ok = ok and rc == 0

    if not args.no_bench:
        rc, out, dt = run("GPU benchmark", [sys.executable, "benchmarks/bench_gpu.py", "--quick", "--repeat", "5"],
                          180, env)
        summary.append(("benchmarks/bench_gpu.py --quick", "ok" if rc == 0 else "FAILED (exit {})".format(rc), dt))
        ok = ok and rc == 0
    print_summary(summary)
    return 0 if ok else 1


def print_summary(rows):
    print("\n=== gpu_smoke summary ===")
    for name, result, dt in rows:
        print("{:<42} {:<40} {:6.0f} s".format(name, result, dt))


if __name__ == "__main__":
    sys.exit(main())
