"""ember.legacy.to_nn: legacy.nn models as ember.nn modules. The converted module must compute what the
legacy one computes (outputs, input gradients and parameter gradients) on the Lua reference corpus's
modules and on the trained torch/demos models, and train with ember.optim."""
import csv

import numpy as np
import pytest

import ember
import ember.legacy.nn as lnn
from ember.autograd import Variable
from ember.legacy import load_lua, to_nn

from _helpers.data import shared_data

nn = pytest.importorskip("ember.nn")
optim = pytest.importorskip("ember.optim")

REF = shared_data("t7", "lua_nn_reference")
DEMOS = shared_data("t7", "torch_demos")


def _module_cases():
    with open(REF + "/MANIFEST.tsv") as f:
        return [row["file"] for row in csv.DictReader(f, delimiter="\t") if row["kind"] == "module"]


def _grads_of_nn(net, x, grad_output):
    """(output, input gradient, parameter gradients) of the ember.nn module for <net(x), grad_output>."""
    xv = Variable(x.clone(), requires_grad=True)
    net.zero_grad()
    out = net(xv)
    (out * Variable(grad_output)).sum().backward()
    return out.data, xv.grad.data, [p.grad.data if p.grad is not None else None for p in net.parameters()]


def _close(a, b, tol, what):
    assert a.size() == b.size(), "{}: size {} instead of {}".format(what, a.size(), b.size())
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol, err_msg=what)


@pytest.mark.parametrize("name", _module_cases(), ids=lambda n: n[:-3])
def test_corpus_modules_convert(name):
    rec = load_lua(REF + "/" + name)
    module, x = rec["module"], rec["input"]
    if not ember.is_tensor(x):
        pytest.skip("table input")
    getattr(module, rec["mode"])()
    try:
        net = to_nn(module)
    except NotImplementedError as e:
        assert rec["moduleType"] in str(e) or "nn." in str(e)
        pytest.skip(str(e))
    tol = 1e-5 if rec["tensorType"] == "torch.FloatTensor" else 1e-10
    go = rec["gradOutput"]
    module.zeroGradParameters()
    want = module.forward(x).clone()
    want_gi = module.backward(x, go).clone()
    want_gp = [g.clone() for g in module.parameters()[1]] if module.parameters() else []
    try:
        out, gi, gp = _grads_of_nn(net, x, go)
    except (RuntimeError, ValueError):
        # ember.nn's layers take batches: run a single Lua sample as a batch of one
        out, gi, gp = _grads_of_nn(net, x.view(1, *x.size()), go.view(1, *go.size()))
        out, gi = out[0], gi[0]
    _close(out, want, tol, "output")
    _close(gi, want_gi, tol, "gradInput")
    assert len(gp) == len(want_gp)
    for i, (g, w) in enumerate(zip(gp, want_gp)):
        if rec["moduleType"] == "nn.TemporalConvolution" and g.dim() == 3:
            g = g.transpose(1, 2)  # Conv1d's out x in x kW; Lua's rows hold kW frames one after the other
        _close(g.contiguous().view(-1), w.contiguous().view(-1), tol, "parameter gradient {}".format(i))


@pytest.mark.parametrize("name,shape", [
    ("road-net_u1net.net_6ca72a1", (3, 32, 32)),
    ("road-net_unsup-cl-30.net_57c827e", (12, 12, 12)),
    ("face-detector-new_face.net_99f7dde", (1, 32, 32)),
    ("face-detector-new_face.net_0ff0d84", (1, 32, 32)),
    ("face-detector_model.net_52f6ae6", (1, 32, 32)),
    ("tracker_random.net_e1624d4", (3, 22, 22)),
])
def test_demo_models_convert(name, shape):
    model = load_lua(DEMOS + "/" + name).double()
    net = to_nn(model)
    ember.manual_seed(0)
    batch = ember.DoubleTensor(3, *shape).uniform_()
    want = model.forward(batch).clone()
    got = net(Variable(batch)).data
    _close(got, want, 1e-10, name)
    # one Lua sample gives the batch's first row
    _close(model.forward(batch[0]), want[0], 1e-10, name + " (one sample)")


def test_one_optimizer_step_trains_the_converted_face_detector():
    model = load_lua(DEMOS + "/face-detector-new_face.net_99f7dde").float()
    net = to_nn(model)
    assert isinstance(net[0][0], nn.Conv2d) and repr(net[1][2]) == "LuaSoftMax (log_softmax)"
    ember.manual_seed(1)
    x = Variable(ember.FloatTensor(8, 1, 32, 32).uniform_())
    y = Variable(ember.LongTensor(8).random_(0, 2))
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    before = [p.data.clone() for p in net.parameters()]
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.nll_loss(net(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss.data[0]))
    assert losses[-1] < losses[0]
    assert all(float((p.data - b).abs().max()) > 0 for p, b in zip(net.parameters(), before))
    # the legacy model is untouched (the converted module holds copies)
    np.testing.assert_array_equal(model.modules[0].modules[0].weight.numpy().reshape(-1),
                                  before[0].numpy().reshape(-1))


def test_convolution_map_keeps_its_connections_while_training():
    table = lnn.SpatialConvolutionMap.maps.random(4, 3, 2)
    legacy = lnn.SpatialConvolutionMap(table, 3, 3).double()
    net = to_nn(legacy)
    x = Variable(ember.DoubleTensor(2, 4, 6, 6).normal_())
    _close(net(x).data, legacy.forward(x.data), 1e-10, "output")
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    for _ in range(2):
        opt.zero_grad()
        net(x).pow(2).sum().backward()
        opt.step()
    w = net.weight.data
    missing = net.mask.eq(0)
    assert float(w.masked_select(missing).abs().sum()) == 0
    assert float(w.masked_select(missing.eq(0)).abs().min()) > 0


def test_types_modes_and_containers():
    pools = lnn.Concat(1).add(lnn.SpatialMaxPooling(2, 2)).add(lnn.SpatialAveragePooling(2, 2, 2, 2))
    m = lnn.Sequential().add(lnn.SpatialConvolution(2, 4, 3, 3)).add(lnn.SpatialBatchNormalization(4)) \
        .add(lnn.ReLU()).add(pools).add(lnn.View(-1).setNumInputDims(3)).add(lnn.Dropout(0.3)) \
        .add(lnn.Linear(8 * 2 * 2, 3)).add(lnn.LogSoftMax())
    m.float().evaluate()
    net = to_nn(m)
    assert all(p.data.type() == "torch.FloatTensor" for p in net.parameters())
    assert not net.training and not net[1].training and isinstance(net[5], nn.Dropout)
    x = ember.FloatTensor(5, 2, 6, 6).normal_()
    _close(net(Variable(x)).data, m.forward(x), 1e-5, "output")
    m.training()
    m.modules[1].evaluate()  # modes are per module, as in Lua
    net = to_nn(m)
    assert net.training and not net[1].training and net[0].training and net[5].training


def test_unsupported_modules_and_mixed_types():
    with pytest.raises(NotImplementedError, match="nn.SpatialMaxUnpooling"):
        to_nn(lnn.Sequential().add(lnn.SpatialMaxUnpooling(lnn.SpatialMaxPooling(2, 2))))
    with pytest.raises(NotImplementedError, match="nn.SpatialDivisiveNormalization"):
        to_nn(lnn.SpatialDivisiveNormalization(2))

    class MyConvolution(lnn.SpatialConvolution):
        pass

    with pytest.raises(NotImplementedError, match="nn.MyConvolution"):
        to_nn(MyConvolution(1, 1, 3, 3))
    mixed = lnn.Sequential().add(lnn.SpatialConvolution(1, 1, 3, 3)).add(lnn.Linear(2, 2).double())
    with pytest.raises(TypeError, match="mix torch.DoubleTensor and torch.FloatTensor"):
        to_nn(mixed)
    with pytest.raises(TypeError, match="expected a legacy.nn module"):
        to_nn(nn.Linear(2, 2))
