"""embervision.models forward passes against the same architectures in PyTorch CPU (2 threads each).

Usage: python benchmarks/bench_vision.py [--quick] [--batch 8] [--repeat 5] [--profile]

Rows: ResNet-18 and VGG-11 in eval mode, batch 8 of 3x224x224 images. The PyTorch twins (torchvision
cannot be installed beside PyTorch 2.13 here, so they are written below) receive ember's weights through a
PyTorch checkpoint (ember.save, then torch.load), and their outputs must match ember's to 1e-4 (times the largest
output where that exceeds 1) before anything is timed. Timed in interleaved rounds, one forward per sample: the best
of each side and the median of the per-round ratios; a ratio below 1 means ember is faster.
--profile runs cProfile over one ember forward of each model and prints where its time goes.
"""
import argparse
import cProfile
import io
import os
import pstats
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import best_of, print_table  # noqa: E402

THREADS = 2
TOLERANCE = 1e-4


def torch_resnet18():
    """torchvision 0.1.9's resnet18 in PyTorch (state_dict keys as ember's)."""
    import torch.nn as nn
    import torch.nn.functional as F

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)), inplace=True)))
            out += x if self.downsample is None else self.downsample(x)
            return F.relu(out, inplace=True)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            cin = 64
            for i, w in enumerate((64, 128, 256, 512)):
                setattr(self, "layer%d" % (i + 1), nn.Sequential(BasicBlock(cin, w, 1 if i == 0 else 2),
                                                                 BasicBlock(w, w, 1)))
                cin = w
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn1(self.conv1(x)), inplace=True), 3, 2, 1)
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(F.avg_pool2d(x, 7).flatten(1))

    return ResNet18()


def torch_vgg11():
    """torchvision 0.1.9's vgg11 (configuration "A") in PyTorch (state_dict keys as ember's)."""
    import torch.nn as nn

    layers, cin = [], 3
    for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v

    class VGG(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                                            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(),
                                            nn.Linear(4096, 1000))

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))

    return VGG()


def setup(name, batch):
    """(ember_fn, torch_fn, note) for one row, after checking that both give the same output."""
    import ember
    import torch
    from ember.autograd import Variable
    from embervision import models

    ember.manual_seed(0)
    em = getattr(models, name)()
    tm = {"resnet18": torch_resnet18, "vgg11": torch_vgg11}[name]()
    buf = io.BytesIO()
    ember.save(em.state_dict(), buf)
    buf.seek(0)
    tm.load_state_dict(torch.load(buf))
    em.eval()
    tm.eval()

    x = np.random.RandomState(0).randn(batch, 3, 224, 224).astype(np.float32)
    ex = Variable(ember.from_numpy(x), volatile=True)
    tx = torch.from_numpy(x.copy())

    def ember_fn():
        return em(ex)

    def torch_fn():
        with torch.no_grad():
            return tm(tx)

    got, expected = ember_fn().data.numpy(), torch_fn().numpy()
    scale = float(np.abs(expected).max())
    err = float(np.abs(got - expected).max())
    if not err <= TOLERANCE * max(1.0, scale):
        raise SystemExit("{}: ember's output differs from PyTorch's by up to {:.3g} (outputs up to {:.3g}); "
                         "nothing timed".format(name, err, scale))
    return ember_fn, torch_fn, "max |diff| {:.1e}, max |out| {:.2g}".format(err, scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two rounds (a smoke run)")
    ap.add_argument("--batch", type=int, default=8, help="images per forward (default 8)")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--profile", action="store_true", help="cProfile one ember forward of each model")
    args = ap.parse_args()

    import ember
    import torch
    ember.set_num_threads(THREADS)
    torch.set_num_threads(THREADS)

    repeat = 2 if args.quick else args.repeat
    rows, fns = [], []
    for name in ("resnet18", "vgg11"):
        fe, ft, note = setup(name, args.batch)
        te, tt, ratio = best_of(fe, ft, repeat=repeat, target_s=1e-3)  # forwards take far longer: one per sample
        rows.append(("{} fwd, batch {}".format(name, args.batch), te, tt, ratio, note))
        fns.append((name, fe))
    print_table(rows, title="embervision.models vs the same networks in PyTorch, eval mode, 224x224 "
                            "({} threads)".format(THREADS))

    if args.profile:
        for name, fe in fns:
            print("\nprofile of one ember {} forward:".format(name))
            prof = cProfile.Profile()
            prof.enable()
            fe()
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(8)


if __name__ == "__main__":
    main()
