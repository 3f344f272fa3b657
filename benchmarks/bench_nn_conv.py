"""ember.nn convolution networks against PyTorch CPU, layer for layer, printing the ratio ember / torch:

- a LeNet-5 training step at batch 64 (conv-relu-pool x2, three linear layers, F.log_softmax + F.nll_loss,
  SGD with momentum) on 1x28x28 inputs;
- a ResNet-18 forward pass at batch 8, 3x224x224 (eval mode), and at batch 1 (one image's latency), with
  the same network defined in ember.nn and in torch.nn below, the weights copied from ember to torch and
  the outputs compared (1e-4).

    python benchmarks/bench_nn_conv.py [--threads 2] [--quick]

Targets (issue 5): both within 1.5x of PyTorch (measured there: LeNet step ~16 ms, ResNet-18 ~41 images/s).
Layers other engineers are still writing (BatchNorm2d, the losses, optim.SGD) are looked up at run time: a
row whose layers are missing prints n/a. Timings are the best of interleaved samples (benchmarks/_common.py).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import NA, best_of, print_table  # noqa: E402


def _missing(lib_nn, lib_F, names):
    """The names among ``names`` ('nn.X' / 'F.x') that the library does not have yet."""
    out = []
    for name in names:
        space, attr = name.split(".")
        if not hasattr(lib_nn if space == "nn" else lib_F, attr):
            out.append(name)
    return out


# ------------------------------------------------------------------------------------------- the networks
# written once against the 0.2 API and built with either library's nn / functional modules

def lenet(nn, F, log_softmax):
    class LeNet5(nn.Module):
        def __init__(self):
            super(LeNet5, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(x.size(0), -1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return log_softmax(self.fc3(x))
    return LeNet5()


def resnet18(nn, F):
    def conv3x3(cin, cout, stride=1):
        return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride=1):
            super(BasicBlock, self).__init__()
            self.conv1 = conv3x3(cin, cout, stride)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = conv3x3(cout, cout)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):
            residual = x if self.downsample is None else self.downsample(x)
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + residual)

    class ResNet18(nn.Module):
        def __init__(self, num_classes=1000):
            super(ResNet18, self).__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            layers, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout)))
                cin = cout
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AvgPool2d(7)
            self.fc = nn.Linear(512, num_classes)

        def forward(self, x):
            x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            x = self.avgpool(x)
            return self.fc(x.view(x.size(0), -1))
    return ResNet18()


def copy_to_torch(emodel, tmodel, torch):
    """ember's parameters and buffers into the torch model (same names; torch's extra
    num_batches_tracked is left alone)."""
    esd = emodel.state_dict()
    with torch.no_grad():
        for key, value in tmodel.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            value.copy_(torch.from_numpy(esd[key].numpy().copy()))


# ------------------------------------------------------------------------------------------- benchmarks
def bench_lenet(torch, repeat, target):
    import ember
    import ember.nn as enn
    import ember.nn.functional as eF
    from ember.autograd import Variable
    need = ["nn.Conv2d", "nn.Linear", "F.relu", "F.max_pool2d", "F.log_softmax", "F.nll_loss"]
    missing = _missing(enn, eF, need)
    try:
        import ember.optim as eoptim
        eoptim.SGD  # noqa: B018
    except (ImportError, AttributeError):
        missing.append("optim.SGD")
    if missing:
        return ("LeNet-5 train step, batch 64", None, None, None, "missing: " + ", ".join(missing))

    rng = np.random.RandomState(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.randint(0, 10, 64).astype(np.int64)
    ember.manual_seed(0)
    em = lenet(enn, eF, eF.log_softmax)
    tm = lenet(torch.nn, torch.nn.functional, lambda v: torch.nn.functional.log_softmax(v, 1))
    copy_to_torch(em, tm, torch)
    eopt = eoptim.SGD(em.parameters(), lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9)
    ex, ey = Variable(ember.from_numpy(x)), Variable(ember.from_numpy(y))
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def ember_step():
        eopt.zero_grad()
        loss = eF.nll_loss(em(ex), ey)
        loss.backward()
        eopt.step()
        return loss

    def torch_step():
        topt.zero_grad()
        loss = torch.nn.functional.nll_loss(tm(tx), ty)
        loss.backward()
        topt.step()
        return loss

    # the same network from the same weights: the first steps agree
    for _ in range(3):
        el, tl = float(ember_step().data[0]), torch_step().item()
        if abs(el - tl) > 1e-4 * max(1.0, abs(tl)):
            return ("LeNet-5 train step, batch 64", None, None, None, "loss differs: {} vs {}".format(el, tl))
    e, t, m = best_of(ember_step, torch_step, repeat=repeat, target_s=target)
    return ("LeNet-5 train step, batch 64", e, t, m, "losses agree")


def bench_resnet(torch, repeat, batch):
    import ember
    import ember.nn as enn
    import ember.nn.functional as eF
    from ember.autograd import Variable
    name = "ResNet-18 forward, batch {}, 224x224".format(batch)
    missing = _missing(enn, eF, ["nn.Conv2d", "nn.BatchNorm2d", "nn.MaxPool2d", "nn.AvgPool2d", "nn.Linear",
                                 "F.relu"])
    if missing:
        return (name, None, None, None, "missing: " + ", ".join(missing))
    rng = np.random.RandomState(1)
    x = rng.standard_normal((batch, 3, 224, 224)).astype(np.float32)
    ember.manual_seed(0)
    em = resnet18(enn, eF).eval()
    tm = resnet18(torch.nn, torch.nn.functional).eval()
    copy_to_torch(em, tm, torch)
    ex = Variable(ember.from_numpy(x), volatile=True)
    tx = torch.from_numpy(x)

    def ember_fwd():
        return em(ex)

    def torch_fwd():
        with torch.no_grad():
            return tm(tx)

    eo, to = ember_fwd().data.numpy(), torch_fwd().numpy()
    err = float(np.abs(eo - to).max() / max(np.abs(to).max(), 1e-30))
    if err > 1e-4:
        return (name, None, None, None, "outputs differ: {:.2e} of the largest".format(err))
    e, t, m = best_of(ember_fwd, torch_fwd, repeat=repeat, target_s=0.0)
    note = "outputs agree ({:.1e}); images/s: ember {:.1f}, torch {:.1f}".format(err, batch / e, batch / t)
    return (name, e, t, m, note)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: nothing to compare with")
        return 1
    import ember
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    rows = [bench_lenet(torch, 5 if args.quick else 15, 0.1 if args.quick else 0.2),
            bench_resnet(torch, 3 if args.quick else 7, 8),
            bench_resnet(torch, 5 if args.quick else 15, 1)]
    print_table(rows, title="ember.nn vs torch {} CPU, {} threads each, best of interleaved samples (targets: "
                            "ratio <= 1.5)".format(torch.__version__, args.threads))
    print("(n/a = {}: the row's layers are not there yet or the check failed, see its note)".format(NA))
    return 0


if __name__ == "__main__":
    sys.exit(main())
