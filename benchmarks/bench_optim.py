"""optimizer.step() on a parameter list shaped like ResNet-18's (11.7 M parameters), ember vs PyTorch CPU.

usage: python benchmarks/bench_optim.py [--quick]
"""
import sys

import numpy as np

import ember
import ember.optim
from ember.autograd import Variable
from _common import best_of, print_table


def resnet18_shapes():
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    inplanes = 64
    for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            cin = inplanes if block == 0 else planes
            shapes += [(planes, cin, 3, 3), (planes,), (planes,), (planes, planes, 3, 3), (planes,), (planes,)]
            if block == 0 and (stride != 1 or inplanes != planes):
                shapes += [(planes, inplanes, 1, 1), (planes,), (planes,)]
        inplanes = planes
    shapes += [(1000, 512), (1000,)]
    return shapes


def main(quick):
    import torch
    torch.set_num_threads(2)
    ember.set_num_threads(2)
    shapes = resnet18_shapes()
    total = sum(int(np.prod(s)) for s in shapes)
    rng = np.random.RandomState(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) * 1e-3 for s in shapes]
    rows = []
    for name, ekw in (("SGD momentum 0.9", dict(cls="SGD", lr=0.01, momentum=0.9)),
                      ("SGD nesterov, weight decay", dict(cls="SGD", lr=0.01, momentum=0.9, nesterov=True,
                                                           weight_decay=1e-4)),
                      ("Adam", dict(cls="Adam", lr=1e-3)),
                      ("Adagrad", dict(cls="Adagrad", lr=0.01)),
                      ("Adadelta", dict(cls="Adadelta")),
                      ("Adamax", dict(cls="Adamax")),
                      ("RMSprop", dict(cls="RMSprop", lr=0.01)),
                      ("RMSprop centered, momentum", dict(cls="RMSprop", lr=0.01, centered=True, momentum=0.9)),
                      ("ASGD", dict(cls="ASGD")),
                      ("Rprop", dict(cls="Rprop"))):
        kw = dict(ekw)
        cls = kw.pop("cls")
        eparams = [Variable(ember.FloatTensor(v.copy()), requires_grad=True) for v in values]
        for p, g in zip(eparams, grads):
            p.grad = Variable(ember.FloatTensor(g.copy()))
        tparams = [torch.tensor(v.copy(), requires_grad=True) for v in values]
        for p, g in zip(tparams, grads):
            p.grad = torch.from_numpy(g.copy())
        eopt = getattr(ember.optim, cls)(eparams, **kw)
        topt = getattr(torch.optim, cls)(tparams, **kw)
        e, t, median = best_of(eopt.step, topt.step, repeat=3 if quick else 10, target_s=0.05)
        rows.append((name, e, t, median, ""))
    print_table(rows, title="optimizer.step() on ResNet-18-shaped parameters ({:.1f} M)".format(total / 1e6))


if __name__ == "__main__":
    main("--quick" in sys.argv)
