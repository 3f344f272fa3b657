"""GPU smoke run: on a fresh CUDA machine (CuPy, Cython, NumPy, pytest, and optionally pytest-xdist and a
CUDA build of PyTorch for the benchmark; no network needed), build ember's Cython extensions from this
checkout in place, compile its CUDA C kernels and check its cuDNN convolutions and recurrent layers
(tools/gpu_probe.py), run
every ``gpu``-marked test on the real GPU, train the MNIST and char-rnn examples there, run the GPU
benchmark, and print a summary. Meant to finish well under 8 minutes on a 16-core machine.

    python3 tools/gpu_smoke.py [--skip-build] [--jobs 16] [--no-bench] [--log-dir DIR] [--tests PATH ...]

Exit status 0 when the build and every step passed (a missing GPU counts as a failure here: that is what
this run is for). ``--log-dir`` keeps each step's full output (the console shows the tails).
"""
import argparse
import os
import re
import signal
import subprocess
import tempfile
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = [os.path.join(ROOT, "packages", p, "src") for p in ("core", "nn", "optim", "legacy", "vision")]


def run(title, cmd, timeout, env=None, cwd=ROOT, log_dir=None):
    print("\n=== {} ===\n$ {}".format(title, " ".join(cmd)), flush=True)
    t0 = time.monotonic()
    # its own process group, so a timeout also ends the step's children (pytest-xdist workers hold the GPU)
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        rc = 124
    dt = time.monotonic() - t0
    if log_dir:
        name = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_") + ".log"
        with open(os.path.join(log_dir, name), "w") as f:
            f.write(out)
    tail = out.splitlines()[-40:]
    print("\n".join(tail))
    print("--- {}: exit {} in {:.0f} s".format(title, rc, dt), flush=True)
    return rc, out, dt


def pytest_counts(out):
    m = re.findall(r"(\d+) (passed|failed|skipped|deselected|error|errors)", out.splitlines()[-1] if out else "")
    return ", ".join("{} {}".format(n, w) for n, w in m) or "no summary"


def progress(out):
    """Counts of the per-test result lines of a verbose pytest run (for one that did not finish)."""
    words = re.findall(r"\b(PASSED|FAILED|ERROR|SKIPPED)\b", out)
    return ", ".join("{} {}".format(words.count(w), w.lower()) for w in ("PASSED", "FAILED", "ERROR", "SKIPPED"))


def have_module(name):
    import importlib.util
    return importlib.util.find_spec(name) is not None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 4)
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--log-dir", default=None)
    ap.add_argument("--tests", nargs="*", default=["tests"], help="where to collect the gpu tests")
    ap.add_argument("--quick", action="store_true", help="the benchmark's small sizes")
    ap.add_argument("--time-limit", type=float, default=470, help="seconds for the whole run (steps are cut to fit)")
    args = ap.parse_args()
    deadline = time.monotonic() + args.time_limit

    def budget(step_limit, later_steps):
        """A step's timeout: its own limit, cut so the later steps keep 25 s each before the deadline."""
        return max(10, min(step_limit, deadline - time.monotonic() - 25 * later_steps))
    if args.log_dir:
        os.makedirs(args.log_dir, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(SRC + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("EMBER_FAKE_CUDA", None)
    log = args.log_dir
    summary = []
    ok = True

    if not args.skip_build:
        rc, out, dt = run("build ember._C in place", [sys.executable, "setup.py", "build_ext", "--inplace",
                                                      "-j", str(args.jobs)], budget(240, 4), env,
                          cwd=os.path.join(ROOT, "packages", "core"), log_dir=log)
        summary.append(("build", "ok" if rc == 0 else "FAILED (exit {})".format(rc), dt))
        if rc != 0:
            print_summary(summary)
            return 1

    probe = ("import cupy, numpy, ember, ember.cuda as c; print('cupy', cupy.__version__, '| numpy', "
             "numpy.__version__, '| ember.cuda available:', c.is_available(), '| devices:', c.device_count(), '|', "
             "cupy.cuda.runtime.getDeviceProperties(0)['name'].decode() if c.is_available() else '')")
    rc, out, dt = run("environment", [sys.executable, "-c", probe], budget(60, 3), env, log_dir=log)
    gpu = rc == 0 and "available: True" in out
    summary.append(("CUDA visible to ember", "yes" if gpu else "NO", dt))
    ok = ok and gpu

    # in their own processes first: a kernel NVRTC refuses, or a cuDNN call that crashes, is named here and
    # does not take the test run down (the CUDA C kernels are cached for the tests as they compile)
    rc, out, dt = run("CUDA C kernels compile on the GPU", [sys.executable, "tools/gpu_probe.py", "kernels"],
                      budget(120, 3), env, log_dir=log)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    summary.append(("CUDA C kernels (NVRTC)", last[:40] if rc == 0 else "FAILED (exit {})".format(rc), dt))
    ok = ok and rc == 0
    # a cuDNN path that disagrees with ember's kernels is switched off for the rest of the run (its env var)
    for what, title, limit, switch in (("cudnn", "cuDNN convolutions", 120, "EMBER_CUDNN"),
                                       ("rnn", "cuDNN recurrent layers", 90, "EMBER_CUDNN_RNN")):
        rc, out, dt = run(title + " against ember's kernels", [sys.executable, "tools/gpu_probe.py", what],
                          budget(limit, 3), env, log_dir=log)
        if rc == 3:
            summary.append((title, "no cuDNN found (ember's kernels)", dt))
        elif rc != 0:
            env[switch] = "0"
            summary.append((title, "FAILED (exit {}): off from here".format(rc), dt))
            ok = False
        else:
            summary.append((title, "agree with ember's kernels", dt))

    # every gpu-marked test: the CUDA ops and API, the nn module table and the other families on CUDA
    workers = ["-n", str(min(args.jobs, 8))] if have_module("xdist") else []
    # -v: one line per test as it ends, so a run cut short by its time limit still says what passed and
    # what failed (the closing summary never comes then)
    rc, out, dt = run("gpu tests", [sys.executable, "-m", "pytest", "-v", "-m", "gpu", "--tb=short", "-rfE",
                                    "-p", "no:cacheprovider"] + workers + args.tests, budget(330, 2), env,
                      log_dir=log)
    summary.append(("gpu-marked tests", pytest_counts(out) if rc != 124 else "cut short: " + progress(out), dt))
    ok = ok and rc == 0

    rc, out, dt = run("MNIST example on the GPU", [sys.executable, "examples/mnist.py", "--epochs", "2",
                                                   "--out", tempfile.mkdtemp(prefix="mnist_")], budget(120, 1),
                      env,
                      log_dir=log)
    times = re.findall(r"trained in ([0-9.]+)s on the GPU", out)
    summary.append(("examples/mnist.py --epochs 2", ("epoch times " + ", ".join(times) + " s") if rc == 0 and times
                    else "FAILED (exit {})".format(rc), dt))
    ok = ok and rc == 0 and bool(times)

    rc, out, dt = run("char-rnn example on the GPU", [sys.executable, "examples/char_rnn.py", "--quick", "--cuda"],
                      budget(90, 1), env, log_dir=log)
    losses = re.findall(r"validation loss ([0-9.]+)", out)
    summary.append(("examples/char_rnn.py --quick --cuda", ("validation losses " + ", ".join(losses))
                    if rc == 0 and losses else "FAILED (exit {})".format(rc), dt))
    ok = ok and rc == 0 and bool(losses)

    if not args.no_bench:
        bench = [sys.executable, "benchmarks/bench_gpu.py", "--repeat", "3"] + (["--quick"] if args.quick else [])
        rc, out, dt = run("GPU benchmark", bench, budget(240, 0), env, log_dir=log)
        summary.append(("benchmarks/bench_gpu.py", "ok" if rc == 0 else "FAILED (exit {})".format(rc), dt))
        ok = ok and rc == 0
    print_summary(summary)
    return 0 if ok else 1


def print_summary(rows):
    print("\n=== gpu_smoke summary ===")
    for name, result, dt in rows:
        print("{:<42} {:<40} {:6.0f} s".format(name, result, dt))


if __name__ == "__main__":
    sys.exit(main())
