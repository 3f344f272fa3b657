"""Port a trained Lua Torch7 model: load its .t7 file, print its structure, run it and show the output.

PyTorch-0.2-style code (``import ember as torch``; the model runs as ``torch.legacy.nn`` modules). Works on
the torch/demos models in shared/data/t7/torch_demos (face detectors, road-net, the tracker), binary or
ASCII files. Old models often mix FloatTensor and DoubleTensor fields: they are converted to one type
first (``--type``, float by default, as Lua's ``model:float()``).

The input is an image (``--image``, resized to the model's input size, channels as the first layer wants),
or random values in [0, 1]. Its size is ``--size C,H,W`` (or N for a model starting with View / Reshape /
Linear), else the smallest one the model accepts: its receptive field. ``--normalize`` takes a .t7 table
{mean = {...}, std = {...}} of per-channel statistics (road-net's preproc.t7). ``--to-nn`` also converts the
model to ember.nn (ember.legacy.to_nn) and checks that both give the same output. ``--cuda`` also runs it on
the GPU (Lua's ``model:cuda()``: ``model:type('torch.cuda.FloatTensor')``) and checks that output too.

usage: python examples/port_lua_model.py PATH [--image IMG] [--size C,H,W] [--type float|double]
                                              [--normalize T7] [--to-nn] [--cuda] [--seed N]
"""
import argparse
import math
import sys

import ember as torch
from ember.legacy import load_lua
import ember.legacy.nn as lnn


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("path", help="a .t7 file holding a Lua nn model")
    p.add_argument("--image", help="an image file to run the model on (default: random input)")
    p.add_argument("--size", help="the input size, e.g. 3,32,32 (default: the smallest the model accepts)")
    p.add_argument("--type", choices=("float", "double"), default="float", help="tensor type to run in")
    p.add_argument("--normalize", help="a .t7 table {mean=..., std=...} of per-channel input statistics")
    p.add_argument("--to-nn", action="store_true", help="also run the model converted to ember.nn")
    p.add_argument("--cuda", action="store_true", help="also run the model on the GPU and compare")
    p.add_argument("--seed", type=int, default=0, help="seed of the random input")
    return p.parse_args(argv)


def first_leaf(model):
    while isinstance(model, lnn.Container) and model.modules:
        model = model.modules[0]
    return model


def input_channels(model):
    """Channels (or vector length, as a 1-tuple) the first layer wants; None when it can't tell."""
    m = first_leaf(model)
    for field in ("nInputPlane", "inputFrameSize"):
        if hasattr(m, field):
            return getattr(m, field)
    if isinstance(m, lnn.Linear):
        return (m.weight.size(1),)
    if isinstance(m, (lnn.Reshape, lnn.View)):
        return (int(getattr(m, "nelement", 0) or getattr(m, "numElements", 0)),)
    return None


def runs_on(model, size, cls):
    try:
        model.forward(cls(*size).uniform_())
        return True
    except (RuntimeError, ValueError):
        return False


def infer_size(model, cls):
    """The smallest C x S x S input the model runs on (a vector for models starting with Linear / Reshape)."""
    channels = input_channels(model)
    if isinstance(channels, tuple):
        return channels
    candidates = [channels] if channels else [1, 3]
    for s in range(1, 513):
        for c in candidates:
            if runs_on(model, (c, s, s), cls):
                return (c, s, s)
    raise SystemExit("could not find an input size the model accepts; give one with --size C,H,W")


def load_image(path, size, cls):
    """The image as a C x H x W tensor in [0, 1], resized to size (C: 1 = gray, 3 = RGB)."""
    try:
        from PIL import Image
    except ImportError:
        raise SystemExit("--image needs Pillow (pip install pillow)")
    import numpy as np
    c, h, w = size
    if c not in (1, 3):
        raise SystemExit("--image: the model wants {} input channels; images give 1 or 3".format(c))
    img = Image.open(path).convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float64).reshape(h, w, c).transpose(2, 0, 1) / 255.0
    return cls(*a.shape).copy_(torch.from_numpy(np.ascontiguousarray(a)))


def normalize(x, path):
    stats = load_lua(path)
    mean, std = stats["mean"], stats["std"]
    mean = mean if isinstance(mean, list) else [mean]
    std = std if isinstance(std, list) else [std]
    if len(mean) != x.size(0) or len(std) != x.size(0):
        raise SystemExit("--normalize: {} holds {} means and {} stds for {} channels"
                         .format(path, len(mean), len(std), x.size(0)))
    for c in range(x.size(0)):
        x[c].add_(-mean[c]).div_(std[c])
    return x


def describe(output, model):
    """Print the output: class probabilities for a log-softmax classifier, else a summary."""
    print("output: {} of size {}".format(output.type(), "x".join(str(s) for s in output.size())))
    flat = output.contiguous().view(-1)
    last = model.modules[-1] if isinstance(model, lnn.Sequential) and model.modules else model
    while isinstance(last, lnn.Sequential) and last.modules:
        last = last.modules[-1]
    if isinstance(last, lnn.LogSoftMax) and output.dim() == 1:
        probs = flat.exp()
        best = int(probs.max(0)[1][0])
        print("class probabilities: " + ", ".join("{}: {:.4f}".format(i, float(p)) for i, p in enumerate(probs)))
        print("most likely class: {}".format(best))
        return
    print("min {:.6g}  max {:.6g}  mean {:.6g}  std {:.6g}".format(float(flat.min()), float(flat.max()),
                                                                  float(flat.mean()), float(flat.std())
                                                                  if flat.numel() > 1 else 0.0))
    shown = min(8, flat.numel())
    print("first values: " + " ".join("{:.6g}".format(float(v)) for v in flat[:shown]))


def main(argv=None):
    args = parse_args(argv)
    try:
        model = load_lua(args.path)
    except Exception as e:  # a damaged or unsupported file: say why, without a traceback
        raise SystemExit("could not load {}: {}: {}".format(args.path, type(e).__name__, e))
    if not isinstance(model, lnn.Module):
        raise SystemExit("{} holds a {}, not an nn model".format(args.path, torch.typename(model)))
    cls = torch.FloatTensor if args.type == "float" else torch.DoubleTensor
    model = model.type(cls._typename)
    model.evaluate()
    print("model ({} parameters):".format(sum(p.numel() for p in (model.parameters() or ([],))[0])))
    print(model)

    if args.size:
        size = tuple(int(s) for s in args.size.split(","))
    elif args.image:
        size = infer_size(model, cls)
        if len(size) == 3:  # an image is worth more pixels than the receptive field: keep its smallest side
            size = (size[0], max(size[1], 32), max(size[2], 32))
    else:
        size = infer_size(model, cls)
    torch.manual_seed(args.seed)
    if args.image:
        if len(size) != 3:
            raise SystemExit("--image: the model takes vectors of {} values, not images".format(size[0]))
        x = load_image(args.image, size, cls)
        print("input: {} resized to {}".format(args.image, "x".join(map(str, size))))
    else:
        x = cls(*size).uniform_()
        print("input: random values in [0, 1] of size {}".format("x".join(map(str, size))))
    if args.normalize:
        x = normalize(x, args.normalize)
    output = model.forward(x)
    describe(output, model)
    tol = 1e-4 if args.type == "float" else 1e-10

    if args.cuda:
        gpu_type = cls._typename.replace("torch.", "torch.cuda.")
        on_gpu = model.clone().type(gpu_type)  # the CPU model stays as it is for --to-nn
        y = on_gpu.forward(x.type(gpu_type))
        diff = float((y.cpu() - output).abs().max())
        print("on the GPU ({}): output matches: max abs difference {:.3g}".format(gpu_type, diff))
        if not math.isfinite(diff) or diff > tol:
            return 1

    if args.to_nn:
        from ember.autograd import Variable
        from ember.legacy import to_nn
        net = to_nn(model)
        print("as ember.nn:")
        print(net)
        # ember.nn's layers take batches: the sample as a batch of one
        y = net(Variable(x.view(1, *x.size()))).data[0]
        diff = float((y - output).abs().max())
        print("ember.nn output matches: max abs difference {:.3g}".format(diff))
        if not math.isfinite(diff) or diff > tol:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
