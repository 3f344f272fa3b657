"""ember.cuda (CuPy) against torch.cuda and against ember on the CPU, on one GPU: time per call and the
ratio ember.cuda / torch.cuda.

    python benchmarks/bench_gpu.py [--quick] [--repeat 20]

Each GPU timing synchronizes the device before reading the clock, so it is the time the work takes on
the GPU plus ember's per-op Python overhead (CuPy launches are asynchronous). Cases: large elementwise
ops, a reduction, an index_select, float32 matmul, host-to-device copies from pageable and pinned
memory, and an MLP training step through autograd (784-1024-1024-10 at batch 256). A row whose torch side
is missing (no CUDA build of PyTorch) prints n/a; so does one whose ember op raises (its error is noted).
The nn rows (issue #11's targets, ember <= 1.5x torch): conv A/B forward+backward (benchmarks/bench_conv.py's
sizes; on cuDNN where ember finds it, and again on ember's own kernels), ResNet-18 forward at batch 64 in eval
mode (224x224), the 2-layer LSTM of benchmarks/bench_rnn.py forward+backward (cuDNN, then ember's kernels),
and one epoch of the MNIST
example (examples/mnist.py's network and SGD, 125 batches of 64 already on the GPU); then the kernel
families that have CUDA C kernels (max/avg pooling, upsampling, reflection padding, grid_sample) forward and
backward. Both sides compute float32 in float32 (TF32 off in PyTorch).
Needs CuPy and a GPU; with EMBER_FAKE_CUDA=1 it runs on the NumPy stand-in (a smoke test, no timings
worth reading).
"""
import argparse
import os
import sys
import time

import numpy as np

try:  # before CuPy (ember.cuda imports it): PyTorch loaded after CuPy crashed on the GPU machine
    import torch  # noqa: F401
except ImportError:
    pass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import print_table  # noqa: E402

import ember  # noqa: E402
import ember.cuda  # noqa: E402
from ember.autograd import Variable  # noqa: E402


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def timed(fn, sync, repeat, min_s=0.01):
    """Best seconds per call of ``fn`` over ``repeat`` samples, each long enough to swamp the clock."""
    fn()
    sync()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        dt = time.perf_counter() - t0
        if dt >= min_s or n >= 1 << 16:
            break
        n *= 4
    best = dt / n
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        sync()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def _case(name, make_ember, make_torch, torch, repeat):
    note = ""
    try:
        fe = make_ember()
        e = timed(fe, ember.cuda.synchronize, repeat)
    except Exception as exc:  # a missing CUDA path shows as n/a with its reason
        e, note = None, "{}: {}".format(type(exc).__name__, str(exc).splitlines()[0][:70])
    t = None
    if torch is not None and make_torch is not None:
        t = timed(make_torch(), torch.cuda.synchronize, repeat)
    return (name, e, t, note)


def cases(quick):
    n = 1 << (22 if quick else 24)
    m = 1024 if quick else 4096
    rng = np.random.RandomState(0)
    x_np = rng.standard_normal(n).astype(np.float32)
    a_np = rng.standard_normal((m, m)).astype(np.float32)
    idx_np = rng.randint(0, m, m).astype(np.int64)
    out = []

    def elementwise():
        x = ember.from_numpy(x_np).cuda()
        y = x * 2
        return lambda: (x + y).mul_(0.5).exp_()

    def elementwise_t(torch):
        x = torch.from_numpy(x_np).cuda()
        y = x * 2
        return lambda: (x + y).mul_(0.5).exp_()
    out.append(("elementwise (x+y)*0.5 exp, {} floats".format(n), elementwise, elementwise_t))

    def reduction():
        x = ember.from_numpy(a_np).cuda()
        return lambda: x.sum(1)
    out.append(("sum(1) of {0}x{0}".format(m), reduction, lambda torch: _t(torch, a_np).sum))

    def index_select():
        x = ember.from_numpy(a_np).cuda()
        i = ember.from_numpy(idx_np).cuda()
        return lambda: x.index_select(0, i)

    def index_select_t(torch):
        x, i = _t(torch, a_np), torch.from_numpy(idx_np).cuda()
        return lambda: x.index_select(0, i)
    out.append(("index_select {} rows".format(m), index_select, index_select_t))

    def matmul():
        x = ember.from_numpy(a_np).cuda()
        return lambda: x.mm(x)

    def matmul_t(torch):
        x = _t(torch, a_np)
        return lambda: x.mm(x)
    out.append(("mm {0}x{0} float32".format(m), matmul, matmul_t))

    def h2d(pinned):
        def make():
            x = ember.from_numpy(x_np)
            if pinned:
                x = x.pin_memory()
            return lambda: x.cuda(**{"async": pinned})
        return make

    def h2d_t(pinned):
        def make(torch):
            x = torch.from_numpy(x_np)
            if pinned:
                x = x.pin_memory()
            return lambda: x.cuda(non_blocking=pinned)
        return make
    out.append(("host->device {} MB pageable".format(x_np.nbytes >> 20), h2d(False), h2d_t(False)))
    out.append(("host->device {} MB pinned, async".format(x_np.nbytes >> 20), h2d(True), h2d_t(True)))

    batch, width = 256, 1024
    xb = rng.standard_normal((batch, 784)).astype(np.float32)
    ws = [rng.standard_normal(s).astype(np.float32) * 0.03 for s in ((784, width), (width, width), (width, 10))]

    def mlp():
        x = Variable(ember.from_numpy(xb).cuda())
        params = [Variable(ember.from_numpy(w.copy()).cuda(), requires_grad=True) for w in ws]

        def step():
            h = x
            for i, w in enumerate(params):
                h = h.mm(w)
                if i < len(params) - 1:
                    h = h.clamp(min=0)
            h.pow(2).mean().backward()
            for w in params:
                w.data.add_(-0.01, w.grad.data)
                w.grad.data.zero_()
        return step

    def mlp_t(torch):
        x = _t(torch, xb)
        params = [_t(torch, w).requires_grad_() for w in ws]

        def step():
            h = x
            for i, w in enumerate(params):
                h = h.mm(w)
                if i < len(params) - 1:
                    h = h.clamp(min=0)
            h.pow(2).mean().backward()
            with torch.no_grad():
                for w in params:
                    w.add_(w.grad, alpha=-0.01)
                    w.grad.zero_()
        return step
    out.append(("MLP step 784-{0}-{0}-10, batch {1}".format(width, batch), mlp, mlp_t))
    return out + nn_cases(quick, rng)


def nn_cases(quick, rng):
    import ember.nn as nn
    import ember.nn.functional as F
    out = []

    def conv(n, c, o, size):
        x = rng.standard_normal((n, c, size, size)).astype(np.float32)
        w = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(c * 9)).astype(np.float32)
        b = rng.standard_normal(o).astype(np.float32)

        def make():
            ex = Variable(ember.from_numpy(x).cuda(), requires_grad=True)
            ew = Variable(ember.from_numpy(w).cuda(), requires_grad=True)
            eb = Variable(ember.from_numpy(b).cuda(), requires_grad=True)
            return lambda: F.conv2d(ex, ew, eb, 1, 1).sum().backward()

        def make_t(torch):
            tx, tw, tb = (_t(torch, a).requires_grad_() for a in (x, w, b))
            return lambda: torch.nn.functional.conv2d(tx, tw, tb, 1, 1).sum().backward()
        return make, make_t
    for label, shape in (("conv A", (64, 3, 64, 32)), ("conv B", (32, 64, 128, 56))):
        make, make_t = conv(*shape)
        out.append(("{} fwd+bwd {}".format(label, "x".join(map(str, shape))), make, make_t))
        out.append(("{} fwd+bwd, ember's own kernels".format(label), _without_cudnn(make), make_t))

    # the kernel families with CUDA C kernels of their own, at ResNet/segmentation-like sizes
    def family(shape, run_e, run_t):
        x = rng.standard_normal(shape).astype(np.float32)

        def make():
            ex = Variable(ember.from_numpy(x).cuda(), requires_grad=True)
            return lambda: run_e(F, ex).sum().backward()

        def make_t(torch):
            tx = _t(torch, x).requires_grad_()
            return lambda: run_t(torch.nn.functional, tx).sum().backward()
        return make, make_t
    pool = (16, 64, 112, 112) if quick else (64, 64, 112, 112)
    image = (8, 32, 64, 64) if quick else (32, 32, 128, 128)
    for label, shape, fe, ft in (
            ("max_pool2d 3/2/1 fwd+bwd", pool, lambda F, v: F.max_pool2d(v, 3, 2, 1),
             lambda F, v: F.max_pool2d(v, 3, 2, 1)),
            ("avg_pool2d 3/2/1 fwd+bwd", pool, lambda F, v: F.avg_pool2d(v, 3, 2, 1),
             lambda F, v: F.avg_pool2d(v, 3, 2, 1)),
            ("upsample nearest x2 fwd+bwd", image, lambda F, v: F.upsample(v, scale_factor=2),
             lambda F, v: F.interpolate(v, scale_factor=2, mode="nearest")),
            ("upsample bilinear x2 fwd+bwd", image, lambda F, v: F.upsample(v, scale_factor=2, mode="bilinear"),
             lambda F, v: F.interpolate(v, scale_factor=2, mode="bilinear", align_corners=True)),
            ("reflection pad 3 fwd+bwd", image, lambda F, v: F.pad(v, (3, 3, 3, 3), mode="reflect"),
             lambda F, v: F.pad(v, (3, 3, 3, 3), mode="reflect")),
            ("grid_sample (affine) fwd+bwd", image, _grid_sampled, _grid_sampled)):
        make, make_t = family(shape, fe, ft)
        out.append(("{} {}".format(label, "x".join(map(str, shape))), make, make_t))

    batch = 16 if quick else 64
    images = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)

    def resnet():
        import embervision
        m = embervision.models.resnet18().cuda().eval()
        x = Variable(ember.from_numpy(images).cuda(), volatile=True)
        return lambda: m(x)

    def resnet_t(torch):
        import torchvision
        m = torchvision.models.resnet18().cuda().eval()
        x = _t(torch, images)

        def run():
            with torch.no_grad():
                m(x)
        return run
    out.append(("ResNet-18 forward, batch {}".format(batch), resnet, resnet_t))

    seq, lstm_batch, inp, hidden = 35, 20, 128, 256
    xs = rng.standard_normal((seq, lstm_batch, inp)).astype(np.float32)

    def lstm():
        m = nn.LSTM(inp, hidden, num_layers=2).cuda()
        x = Variable(ember.from_numpy(xs).cuda(), requires_grad=True)

        def step():
            m.zero_grad()
            m(x)[0].sum().backward()
        return step

    def lstm_t(torch):
        m = torch.nn.LSTM(inp, hidden, num_layers=2).cuda()
        x = _t(torch, xs).requires_grad_()

        def step():
            m.zero_grad()
            m(x)[0].sum().backward()
        return step
    out.append(("LSTM 2x{} fwd+bwd, seq {} batch {}".format(hidden, seq, lstm_batch), lstm, lstm_t))
    out.append(("LSTM fwd+bwd, ember's own kernels", _without_cudnn(lstm), lstm_t))

    steps = 20 if quick else 125
    digits = rng.standard_normal((steps, 64, 1, 28, 28)).astype(np.float32)
    labels = rng.randint(0, 10, (steps, 64)).astype(np.int64)

    def mnist_epoch():
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples"))
        from mnist import Net
        import ember.optim as optim
        model = Net().cuda()
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        batches = [(Variable(ember.from_numpy(d).cuda()), Variable(ember.from_numpy(t).cuda()))
                   for d, t in zip(digits, labels)]
        return _epoch(model, opt, batches, F.nll_loss)

    def mnist_epoch_t(torch):
        tnn, tF = torch.nn, torch.nn.functional

        class Net(tnn.Module):
            def __init__(self):
                super(Net, self).__init__()
                self.conv1 = tnn.Conv2d(1, 10, kernel_size=5)
                self.conv2 = tnn.Conv2d(10, 20, kernel_size=5)
                self.conv2_drop = tnn.Dropout2d()
                self.fc1 = tnn.Linear(320, 50)
                self.fc2 = tnn.Linear(50, 10)

            def forward(self, x):
                x = tF.relu(tF.max_pool2d(self.conv1(x), 2))
                x = tF.relu(tF.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
                x = tF.relu(self.fc1(x.view(-1, 320)))
                return tF.log_softmax(self.fc2(tF.dropout(x, training=self.training)), dim=1)
        model = Net().cuda()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        batches = [(_t(torch, d), _t(torch, t)) for d, t in zip(digits, labels)]
        return _epoch(model, opt, batches, tF.nll_loss)
    out.append(("MNIST example epoch ({} batches of 64)".format(steps), mnist_epoch, mnist_epoch_t))
    return out


def _without_cudnn(make):
    """``make``'s step with ember.backends.cudnn switched off while it runs."""
    from ember.backends import cudnn

    def make_off():
        step = make()

        def run():
            cudnn.enabled = False
            try:
                step()
            finally:
                cudnn.enabled = True
        return run
    return make_off


def _grid_sampled(F, v):
    """grid_sample of v at a rotated and scaled grid (the same in either library)."""
    n, _, h, w = v.size()
    c, s = np.cos(0.3) * 0.9, np.sin(0.3) * 0.9
    theta = np.tile(np.array([[c, -s, 0.1], [s, c, -0.05]], np.float32), (n, 1, 1))
    if isinstance(v, Variable):
        grid = F.affine_grid(Variable(ember.from_numpy(theta).cuda()), v.size())
        return F.grid_sample(v, grid)
    import torch
    grid = F.affine_grid(torch.from_numpy(theta).cuda(), v.size(), align_corners=True)
    return F.grid_sample(v, grid, align_corners=True)


def _epoch(model, opt, batches, nll_loss):
    """One training epoch over ``batches`` (either library: the loop is the same)."""
    def epoch():
        model.train()
        for data, target in batches:
            opt.zero_grad()
            nll_loss(model(data), target).backward()
            opt.step()
    return epoch


def _t(torch, arr):
    return torch.from_numpy(arr.copy()).cuda()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (the smoke run)")
    p.add_argument("--repeat", type=int, default=10)
    args = p.parse_args()
    if not ember.cuda.is_available():
        print("bench_gpu: CUDA is not available (needs CuPy and a GPU, or EMBER_FAKE_CUDA=1)")
        return 0
    torch = _torch_cuda()
    if torch is not None:
        # ember computes float32 in float32 (0.2 had no TF32): so must the reference
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    cp = ember._backend.cupy
    name = "fake CUDA (NumPy)" if ember._backend.fake else cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    rows = [_case(label, fe, ft if torch is not None else None, torch, args.repeat)
            for label, fe, ft in cases(args.quick)]
    print_table(rows, title="ember.cuda vs torch.cuda on {} (torch: {})".format(
        name, "n/a" if torch is None else torch.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
