"""Quick checks that gpu_smoke.py runs in their own processes before the gpu tests, so that a failure there
(a kernel NVRTC refuses, a cuDNN call that crashes) is reported on its own and does not take the test run
down with it:

    python3 tools/gpu_probe.py kernels   # compile every CUDA C kernel of ember.kernels.cuda on the GPU
    python3 tools/gpu_probe.py cudnn     # cuDNN convolutions against ember's own GPU kernels
    python3 tools/gpu_probe.py rnn       # cuDNN recurrent layers (both directions) against ember's GPU kernels

Exit status 0 when everything passed; ``cudnn`` and ``rnn`` exit 3 when no cuDNN was found (nothing to
check).
"""
import os
import importlib
import pkgutil
import sys
import time

import numpy as np


def kernels():
    try:
        import torch  # noqa: F401  (loaded before CuPy: their CUDA libraries clash the other way round)
    except ImportError:
        pass
    import cupy
    import ember.kernels.cuda
    from ember.kernels.cuda import _raw
    for m in pkgutil.iter_modules(ember.kernels.cuda.__path__):
        importlib.import_module("ember.kernels.cuda." + m.name)
    failed = 0
    t0 = time.monotonic()
    for name, kernel in sorted(_raw.registered().items()):
        for scalar in (np.float32, np.float64):
            for index in (np.int32, np.int64):
                full, code = kernel.variant(scalar, index)
                try:
                    cupy.RawKernel(code, full).compile()
                except Exception as e:  # noqa: BLE001  (report every failure, then fail)
                    failed += 1
                    print("FAILED {}: {}".format(full, e))
    n = len(_raw.registered()) * 4
    print("{} of {} kernel variants compiled in {:.1f} s".format(n - failed, n, time.monotonic() - t0))
    return 1 if failed else 0


_CASES = [  # (nd, x shape, weight shape, keyword arguments)
    (2, (4, 3, 17, 15), (8, 3, 3, 3), dict(padding=1)),
    (2, (2, 8, 12, 10), (6, 4, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    (2, (2, 16, 9, 9), (16, 16, 1, 1), dict()),
    (1, (3, 4, 20), (5, 4, 5), dict(stride=2, padding=2)),
    (3, (2, 3, 5, 6, 7), (4, 3, 3, 3, 2), dict(padding=(1, 1, 0), stride=(1, 2, 1))),
]


def _conv_run(nd, x, w, b, kw, dtype, transposed):
    import ember
    from ember.autograd import Variable
    from ember.nn import functional as F
    xv = Variable(ember.from_numpy(x).cuda().type("torch.cuda." + dtype), requires_grad=True)
    wv = Variable(ember.from_numpy(w).cuda().type("torch.cuda." + dtype), requires_grad=True)
    bv = Variable(ember.from_numpy(b).cuda().type("torch.cuda." + dtype), requires_grad=True)
    if transposed:
        kw = dict(kw, output_padding=tuple(s - 1 for s in np.broadcast_to(kw.get("stride", 1), (nd,))))
        kw = {k: v for k, v in kw.items() if k != "dilation"}
        y = getattr(F, "conv_transpose{}d".format(nd))(xv, wv, bv, **kw)
    else:
        y = getattr(F, "conv{}d".format(nd))(xv, wv, bv, **kw)
    g = np.random.RandomState(1).standard_normal(tuple(y.size()))
    y.backward(ember.from_numpy(g).cuda().type("torch.cuda." + dtype))
    return [t.cpu().double().numpy() for t in (y.data, xv.grad.data, wv.grad.data, bv.grad.data)]


def cudnn():
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    from ember.backends import cudnn as switches
    from ember.kernels.cuda import cudnn as binding
    version = switches.version()
    if version is None:
        print("no cuDNN found: ember's own GPU convolution kernels run")
        return 3
    print("cuDNN", version)
    worst = {}
    failed = 0
    for nd, xs, ws, kw in _CASES:
        rng = np.random.RandomState(0)
        x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
        for transposed in (False, True):
            if transposed:
                # a transposed convolution of y's shape back to x's: weight (O, C/G, ...) read as (in, out/G, ...)
                if kw.get("groups", 1) != 1:
                    continue
                x = rng.standard_normal((xs[0], ws[0]) + xs[2:])
                b = rng.standard_normal(ws[1])
            for dtype, tol in (("DoubleTensor", 1e-10), ("FloatTensor", 1e-4), ("HalfTensor", 3e-2)):
                switches.enabled = True
                got = _conv_run(nd, x, w, b, kw, dtype, transposed)
                switches.enabled = False
                want = _conv_run(nd, x, w, b, kw, dtype, transposed)
                switches.enabled = True
                for name, gv, wv in zip(("output", "grad input", "grad weight", "grad bias"), got, want):
                    err = float(np.max(np.abs(gv - wv) / (1 + np.abs(wv))))
                    key = (dtype, name)
                    worst[key] = max(worst.get(key, 0.0), err)
                    if not err <= tol:
                        failed += 1
                        print("MISMATCH {}d{} {} {} {}: relative error {:.3g} > {}".format(
                            nd, " transposed" if transposed else "", kw, dtype, name, err, tol))
    for (dtype, name), err in sorted(worst.items()):
        print("{:<13} {:<12} worst relative error {:.3g}".format(dtype, name, err))
    refused = sum(1 for v in binding._convs.values() if v is None)
    print("{} geometries on cuDNN, {} refused or failed (ember's kernels ran them)".format(
        len(binding._convs) - refused, refused))
    return 1 if failed or refused else 0


def _rnn_run(mode, dtype, x, ws, h0, c0, sizes, go, ghy, gcy, reverse):
    import ember
    from ember.kernels import rnn as k
    cast = lambda a: None if a is None else ember.from_numpy(a).cuda().type("torch.cuda." + dtype)  # noqa: E731
    out, hy, cy, work = k.rnn_forward(mode, cast(x), *(cast(w) for w in ws), hx=cast(h0), cx=cast(c0),
                                      batch_sizes=ember.LongTensor(sizes), reverse=reverse)
    grads = k.rnn_backward(cast(go), cast(ghy), cast(gcy) if mode == "LSTM" else None, cast(x), cast(ws[0]),
                           cast(ws[1]), work)
    used = work.cudnn is not None
    return used, [t.cpu().double().numpy() for t in (out, hy, cy) + tuple(grads) if t is not None]


def rnn():
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    from ember.backends import cudnn as switches
    if switches.version() is None:
        print("no cuDNN found: ember's own recurrent kernels run")
        return 3
    failed, worst = 0, {}
    rng = np.random.RandomState(0)
    I, H = 5, 7
    for mode, G in (("LSTM", 4), ("GRU", 3), ("RNN_TANH", 1), ("RNN_RELU", 1)):
        for sizes in ([3, 3, 3, 3], [4, 3, 3, 1]):  # padded, then packed with sequences ending early
            N, B = sum(sizes), sizes[0]
            x = rng.standard_normal((N, I))
            ws = [rng.standard_normal((G * H, I)) * 0.4, rng.standard_normal((G * H, H)) * 0.4,
                  rng.standard_normal(G * H) * 0.1, rng.standard_normal(G * H) * 0.1]
            h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
            go, ghy, gcy = rng.standard_normal((N, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
            for dtype, tol in (("DoubleTensor", 1e-9), ("FloatTensor", 1e-4), ("HalfTensor", 5e-2)):
                for reverse in (False, True):
                    args = (mode, dtype, x, ws, h0, c0, sizes, go, ghy, gcy, reverse)
                    os.environ.pop("EMBER_CUDNN_RNN", None)
                    used, got = _rnn_run(*args)
                    os.environ["EMBER_CUDNN_RNN"] = "0"
                    _, want = _rnn_run(*args)
                    os.environ.pop("EMBER_CUDNN_RNN", None)
                    what = "{} {} {}{}".format(mode, sizes, dtype, " reversed" if reverse else "")
                    if not used:
                        failed += 1
                        print("NOT ON cuDNN " + what)
                        continue
                    err = max(float(np.max(np.abs(g - w) / (1 + np.abs(w)))) for g, w in zip(got, want))
                    worst[(mode, dtype)] = max(worst.get((mode, dtype), 0.0), err)
                    if not err <= tol:
                        failed += 1
                        print("MISMATCH {}: relative error {:.3g} > {}".format(what, err, tol))
    for (mode, dtype), err in sorted(worst.items()):
        print("{:<9} {:<13} worst relative error {:.3g}".format(mode, dtype, err))
    return 1 if failed else 0


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what not in ("kernels", "cudnn", "rnn"):
        sys.exit(__doc__)
    sys.exit({"kernels": kernels, "cudnn": cudnn, "rnn": rnn}[what]())
