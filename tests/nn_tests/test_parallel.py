"""nn.parallel on the CPU: DataParallel without devices runs the module as is; with CPU "devices" (-1) the
whole scatter / replicate / parallel_apply / gather path runs on CPU replicas and must give what the plain
module gives (outputs, input and parameter gradients), with 0.2's GPU semantics for buffers (replica 0
updates the module's own). Checkpoints carry the `module.` prefix."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable
from ember.nn.parallel import (DataParallel, DistributedDataParallel, data_parallel, gather, parallel_apply,
                               replicate, scatter)
from ember.nn.parallel.scatter_gather import scatter_kwargs
from _helpers.oracle import assert_same, to_numpy

CPU3 = [-1, -1, -1]


class Affine(nn.Module):
    def __init__(self, n_in, n_out):
        super(Affine, self).__init__()
        self.weight = nn.Parameter(ember.randn(n_out, n_in).double())
        self.bias = nn.Parameter(ember.randn(n_out).double())

    def forward(self, x, scale=None):
        y = x.mm(self.weight.t()) + self.bias.view(1, -1).expand(x.size(0), self.bias.size(0))
        return y if scale is None else y * scale


class Net(nn.Module):
    """A shared child used twice, a BatchNorm (buffers) and a tuple/dict output."""

    def __init__(self):
        super(Net, self).__init__()
        self.fc = Affine(4, 4)
        self.bn = nn.BatchNorm1d(4).double()
        self.shared = self.fc

    def forward(self, x):
        h = self.shared(self.bn(self.fc(x)))
        return h, {"sq": h * h, "none": None}


def _x(rng, shape, grad=True):
    return Variable(ember.from_numpy(rng.standard_normal(shape)), requires_grad=grad)


def _grads(module):
    return {n: to_numpy(p.grad.data).copy() for n, p in module.named_parameters()}


def test_without_devices_runs_the_module():
    ember.manual_seed(0)
    m = Affine(3, 2)
    x = _x(np.random.RandomState(0), (4, 3))
    dp = DataParallel(m, device_ids=[])
    np.testing.assert_array_equal(to_numpy(dp(x).data), to_numpy(m(x).data))
    assert dp.output_device is None
    if not ember.cuda.is_available():
        assert DataParallel(m).device_ids == []  # default: every GPU, i.e. none here
        np.testing.assert_array_equal(to_numpy(data_parallel(m, x).data), to_numpy(m(x).data))


@pytest.mark.parametrize("batch", [8, 2, 1])
def test_cpu_replicas_match_the_plain_module(batch):
    """batch 8 on 3 devices: chunks 3, 3, 2; batch 2: only 2 replicas are used; batch 1: one."""
    rng = np.random.RandomState(batch)
    ember.manual_seed(1)
    m = Affine(5, 3)
    x = _x(rng, (batch, 5))
    go = ember.from_numpy(rng.standard_normal((batch, 3)))
    out = m(x)
    out.backward(go)
    expect_out, expect_gx, expect_g = to_numpy(out.data), to_numpy(x.grad.data).copy(), _grads(m)
    m.zero_grad()
    x.grad.data.zero_()
    dp = DataParallel(m, device_ids=CPU3)
    out = dp(x)
    out.backward(go)
    np.testing.assert_allclose(to_numpy(out.data), expect_out, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(x.grad.data), expect_gx, rtol=1e-12)
    for name, g in _grads(m).items():  # the replicas' gradients add up in the module's own parameters
        np.testing.assert_allclose(g, expect_g[name], rtol=1e-12, atol=1e-14)


def test_scatter_dim_1_and_kwargs():
    """dim=1: the samples are the columns; Variables passed as keyword arguments are scattered too."""
    rng = np.random.RandomState(2)
    ember.manual_seed(2)
    m = Affine(3, 3)

    class Columns(nn.Module):
        def __init__(self):
            super(Columns, self).__init__()
            self.inner = m

        def forward(self, x, scale):
            return self.inner(x.t()).t() * scale

    x = _x(rng, (3, 6))
    scale = Variable(ember.from_numpy(rng.uniform(1, 2, (1, 6))))
    out = DataParallel(Columns(), device_ids=CPU3, dim=1)(x, scale=scale)
    expect = to_numpy(m(x.t()).data).T * to_numpy(scale.data)
    np.testing.assert_allclose(to_numpy(out.data), expect, rtol=1e-12)


def test_nested_outputs_shared_children_and_buffers():
    rng = np.random.RandomState(3)
    ember.manual_seed(3)
    net = Net()
    x = _x(rng, (9, 4))
    dp = DataParallel(net, device_ids=CPU3)
    h, d = dp(x)
    assert d["none"] is None
    np.testing.assert_allclose(to_numpy(d["sq"].data), to_numpy(h.data) ** 2, rtol=1e-12)
    # BatchNorm normalises each replica's chunk with the chunk's statistics
    fc = to_numpy(net.fc(x).data)
    w, b = to_numpy(net.bn.weight.data), to_numpy(net.bn.bias.data)
    parts = []
    for lo in (0, 3, 6):
        c = fc[lo:lo + 3]
        parts.append((c - c.mean(0)) / np.sqrt(c.var(0) + 1e-5) * w + b)
    W, B = to_numpy(net.fc.weight.data), to_numpy(net.fc.bias.data)
    np.testing.assert_allclose(to_numpy(h.data), np.concatenate(parts) @ W.T + B, rtol=1e-10)
    # 0.2's GPU semantics: only replica 0 (the first chunk) updates the module's running statistics
    c = fc[:3]
    np.testing.assert_allclose(to_numpy(net.bn.running_mean), 0.1 * c.mean(0), rtol=1e-10)
    np.testing.assert_allclose(to_numpy(net.bn.running_var), 0.9 + 0.1 * c.var(0, ddof=1), rtol=1e-10)
    (h.sum() + d["sq"].sum()).backward()
    assert all(p.grad is not None for p in net.parameters())


def test_checkpoint_keys_carry_module_prefix(tmp_path):
    ember.manual_seed(4)
    dp = DataParallel(Net(), device_ids=CPU3)
    keys = list(dp.state_dict().keys())
    assert keys == ["module.fc.weight", "module.fc.bias", "module.bn.weight", "module.bn.bias",
                    "module.bn.running_mean", "module.bn.running_var", "module.shared.weight",
                    "module.shared.bias"]  # 0.2's state_dict lists a shared child under each name
    assert repr(dp).startswith("DataParallel (\n  (module): Net (\n")
    path = str(tmp_path / "dp.pt")
    ember.save(dp.state_dict(), path)
    ember.manual_seed(5)
    other = DataParallel(Net(), device_ids=[])
    other.load_state_dict(ember.load(path))
    plain = Net()
    with pytest.raises(KeyError, match='unexpected key "module.fc.weight" in state_dict'):
        plain.load_state_dict(ember.load(path))
    plain.load_state_dict({k[len("module."):]: v for k, v in ember.load(path).items()})
    for (k, a), b in zip(dp.state_dict().items(), plain.state_dict().values()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=k)
        np.testing.assert_array_equal(to_numpy(a), to_numpy(other.state_dict()[k]), err_msg=k)


def test_scatter_structures():
    rng = np.random.RandomState(6)
    a, b = _x(rng, (5, 2)), _x(rng, (5, 3))
    out = scatter((a, [b, "tag"], {"k": a, "n": 7}), CPU3)
    assert len(out) == 3  # chunks of 2, 2, 1
    sizes = [(o[0].size(0), o[1][0].size(0), o[2]["k"].size(0)) for o in out]
    assert sizes == [(2, 2, 2), (2, 2, 2), (1, 1, 1)]
    assert all(o[1][1] == "tag" and o[2]["n"] == 7 for o in out)
    assert isinstance(out[0], tuple) and isinstance(out[0][1], list) and isinstance(out[0][2], dict)
    np.testing.assert_array_equal(np.concatenate([to_numpy(o[0].data) for o in out]), to_numpy(a.data))
    assert len(scatter(_x(rng, (2, 4)), CPU3)) == 2  # fewer chunks than devices
    assert [v.size(1) for v in scatter(_x(rng, (2, 4)), [-1, -1], dim=1)] == [2, 2]
    inputs, kwargs = scatter_kwargs((a,), {"s": 3}, CPU3)
    assert len(inputs) == len(kwargs) == 3 and kwargs[2] == {"s": 3}
    inputs, kwargs = scatter_kwargs((), {"x": a}, [-1, -1])
    assert inputs == ((), ()) and kwargs[1]["x"].size() == (2, 2)
    with pytest.raises(TypeError, match="scatter: tensors are not supported, wrap them in Variables"):
        scatter((a.data,), CPU3)


def test_scattered_chunks_do_not_alias_the_input():
    """Each device gets a copy (as on GPUs): an in-place op in a replica leaves the caller's input alone."""
    x = Variable(ember.randn(4, 2).double())
    before = to_numpy(x.data).copy()
    for chunk in scatter(x, [-1, -1]):
        chunk.data.fill_(0)
    np.testing.assert_array_equal(to_numpy(x.data), before)


def test_gather():
    rng = np.random.RandomState(7)
    a, b = _x(rng, (2, 3)), _x(rng, (1, 3))
    g = gather([(a, [a]), (b, [b])], -1)
    assert isinstance(g, tuple) and isinstance(g[1], list)
    np.testing.assert_array_equal(to_numpy(g[0].data), np.concatenate([to_numpy(a.data), to_numpy(b.data)]))
    assert gather([a.t(), a.t()], -1, dim=1).size() == (3, 4)
    g[0].sum().backward()
    np.testing.assert_array_equal(to_numpy(a.grad.data), np.ones((2, 3)))
    with pytest.raises(TypeError, match="gather: outputs must be Variables or tuples, lists or dicts of them, got "
                                        "float"):
        gather([1.0, 2.0], -1)


def test_replicate():
    ember.manual_seed(8)
    net = Net()
    replicas = replicate(net, CPU3)
    assert len(replicas) == 3
    for j, r in enumerate(replicas):
        assert type(r) is Net and r is not net
        assert r.shared is r.fc and r.fc is not net.fc  # sharing inside the module is kept
        for (n, p), (_, q) in zip(net.named_parameters(), r.named_parameters()):
            assert q.grad_fn is not None and not isinstance(q, nn.Parameter)  # differentiable copies
            np.testing.assert_array_equal(to_numpy(q.data), to_numpy(p.data), err_msg=n)
        # replica 0 works on the module's own buffers; the others on copies
        assert (r.bn.running_mean is net.bn.running_mean) == (j == 0)
        np.testing.assert_array_equal(to_numpy(r.bn.running_var), to_numpy(net.bn.running_var))
    x = Variable(ember.randn(2, 4).double())
    sum(r(x)[0].sum() for r in replicas).backward()
    single = replicate(net, [-1])[0]
    net.zero_grad()
    single(x)[0].sum().backward()
    g1 = to_numpy(net.fc.weight.grad.data).copy()
    net.zero_grad()
    sum(r(x)[0].sum() for r in replicate(net, CPU3)).backward()
    np.testing.assert_allclose(to_numpy(net.fc.weight.grad.data), 3 * g1, rtol=1e-12)


def test_parallel_apply():
    ember.manual_seed(9)
    mods = [Affine(2, 2) for _ in range(3)]
    xs = [Variable(ember.randn(1, 2).double()) for _ in range(3)]
    outs = parallel_apply(mods, [(x,) for x in xs], ({}, {"scale": 2.0}, {}), CPU3)
    for m, x, o, s in zip(mods, xs, outs, (1, 2, 1)):
        np.testing.assert_allclose(to_numpy(o.data), s * to_numpy(m(x).data), rtol=1e-12)
    # a bare Variable as the input of a replica, devices taken from the inputs
    assert parallel_apply(mods[:1], [xs[0]])[0].size() == (1, 2)

    class Boom(nn.Module):
        def forward(self, x):
            raise ArithmeticError("boom in replica")

    with pytest.raises(ArithmeticError, match="boom in replica"):
        parallel_apply([mods[0], Boom()], [(xs[0],), (xs[1],)])
    with pytest.raises(ValueError, match="parallel_apply: got 2 modules but 1 inputs"):
        parallel_apply(mods[:2], [(xs[0],)])
    with pytest.raises(ValueError, match="parallel_apply: got 1 modules but 2 devices"):
        parallel_apply(mods[:1], [(xs[0],)], None, [-1, -1])


def test_data_parallel_function():
    rng = np.random.RandomState(10)
    ember.manual_seed(10)
    m = Affine(3, 2)
    x = _x(rng, (5, 3))
    out = data_parallel(m, x, CPU3, module_kwargs={"scale": 3.0})
    np.testing.assert_allclose(to_numpy(out.data), 3 * to_numpy(m(x).data), rtol=1e-12)
    one = data_parallel(m, (x,), [-1])
    np.testing.assert_allclose(to_numpy(one.data), to_numpy(m(x).data), rtol=1e-12)


def test_distributed_is_out_of_scope():
    with pytest.raises(NotImplementedError, match="DistributedDataParallel needs torch.distributed"):
        DistributedDataParallel(Affine(2, 2))


def test_exports():
    assert nn.DataParallel is DataParallel
    assert sorted(nn.parallel.__all__) == sorted(["replicate", "scatter", "parallel_apply", "gather",
                                                  "data_parallel", "DataParallel", "DistributedDataParallel"])


# ---------------------------------------------------------------------- CUDA devices
# On the fake's two GPUs (and on a real machine with two or more); one-GPU runs skip these.

def _two_gpus():
    if ember.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")


class ConvNet(nn.Module):
    def __init__(self):
        super(ConvNet, self).__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.fc = nn.Linear(3 * 4 * 4, 5)

    def forward(self, x):
        h = F.relu(self.conv(x))
        return F.log_softmax(self.fc(h.view(h.size(0), -1)))


def _loss_and_grads(model, module, x, target):
    """Forward and backward of nll_loss(model(x), target): (output, input gradient, parameter gradients)."""
    module.zero_grad()
    if x.grad is not None:
        x.grad.data.zero_()
    out = model(x)
    F.nll_loss(out, target).backward()
    grads = {n: p.grad.data for n, p in module.named_parameters()}
    return out, x.grad.data, grads


def _convnet_problem(rng):
    ember.manual_seed(11)
    net = ConvNet().double()
    x = Variable(ember.from_numpy(rng.standard_normal((7, 2, 4, 4))), requires_grad=True)
    target = Variable(ember.LongTensor([0, 1, 2, 3, 4, 0, 1]))
    return net, x, target


@pytest.mark.parametrize("output_device", [None, 1])
def test_data_parallel_on_two_gpus_matches_one_gpu(device_mode, output_device):
    _two_gpus()
    net, x, target = _convnet_problem(np.random.RandomState(12))
    net.cuda(0)
    x = Variable(x.data.cuda(0), requires_grad=True)
    want_out, want_gx, want_g = _loss_and_grads(net, net, x, target.cuda(0))
    dp = DataParallel(net, device_ids=[0, 1], output_device=output_device)
    out, gx, grads = _loss_and_grads(dp, net, x, target.cuda(output_device or 0))
    assert out.get_device() == (output_device or 0)
    assert_same(out.data, want_out.data, rtol=1e-12, atol=1e-14)
    assert gx.get_device() == 0
    assert_same(gx, want_gx, rtol=1e-12, atol=1e-14)
    for name, g in grads.items():  # both replicas' gradients reduced into the module's own, on GPU 0
        assert g.get_device() == 0, name
        assert_same(g, want_g[name], rtol=1e-10, atol=1e-14)


def test_data_parallel_takes_cpu_input_and_defaults_to_every_gpu(device_mode):
    _two_gpus()
    net, x, target = _convnet_problem(np.random.RandomState(13))
    want_out, want_gx, want_g = _loss_and_grads(net, net, x, target)
    net.cuda(0)
    dp = DataParallel(net)
    assert dp.device_ids == list(range(ember.cuda.device_count())) and dp.output_device == 0
    out, gx, grads = _loss_and_grads(dp, net, x, target.cuda(0))
    assert type(gx) is ember.DoubleTensor  # the input's gradient comes back to the CPU
    assert_same(out.data, want_out.data, rtol=1e-12, atol=1e-14)
    assert_same(gx, want_gx, rtol=1e-12, atol=1e-14)
    for name, g in grads.items():
        assert_same(g, want_g[name], rtol=1e-10, atol=1e-14)


def test_data_parallel_on_one_gpu_runs_the_module(device_mode):
    net, x, target = _convnet_problem(np.random.RandomState(14))
    want_out, want_gx, want_g = _loss_and_grads(net, net, x, target)
    dp = DataParallel(net, device_ids=[0])
    assert all(p.is_cuda and p.get_device() == 0 for p in net.parameters())  # moved by the constructor
    out, gx, grads = _loss_and_grads(dp, net, x, target.cuda(0))
    assert out.get_device() == 0 and type(gx) is ember.DoubleTensor
    assert_same(out.data, want_out.data, rtol=1e-12, atol=1e-14)
    assert_same(gx, want_gx, rtol=1e-12, atol=1e-14)
    for name, g in grads.items():
        assert_same(g, want_g[name], rtol=1e-10, atol=1e-14)


def test_data_parallel_buffers_on_two_gpus(device_mode):
    """0.2's semantics: replica 0 (GPU 0, the first chunk) updates the module's running statistics."""
    _two_gpus()
    rng = np.random.RandomState(15)
    ember.manual_seed(15)
    net = Net().cuda(0)
    x = _x(rng, (6, 4))
    h, d = DataParallel(net, device_ids=[0, 1])(x)
    assert h.get_device() == 0 and d["sq"].get_device() == 0 and d["none"] is None
    assert net.bn.running_mean.get_device() == 0
    fc = to_numpy(net.fc(x.cuda(0)).data)[:3]
    np.testing.assert_allclose(to_numpy(net.bn.running_mean), 0.1 * fc.mean(0), rtol=1e-10)
    (h.sum() + d["sq"].sum()).backward()
    assert all(p.grad.get_device() == 0 for p in net.parameters())


def test_scatter_gather_replicate_parallel_apply_on_two_gpus(device_mode):
    _two_gpus()
    rng = np.random.RandomState(16)
    x = Variable(ember.from_numpy(rng.standard_normal((5, 3))).cuda(0), requires_grad=True)
    chunks = scatter((x, "tag"), [0, 1])
    assert [c[0].get_device() for c in chunks] == [0, 1] and [c[0].size(0) for c in chunks] == [3, 2]
    assert chunks[1][1] == "tag"
    ember.manual_seed(16)
    m = Affine(3, 2).cuda(0)
    replicas = replicate(m, [0, 1])
    assert [r.weight.get_device() for r in replicas] == [0, 1]
    assert replicas[1].weight.grad_fn is not None  # a differentiable copy of the parameter
    outs = parallel_apply(replicas, [c[:1] for c in chunks], None, [0, 1])
    assert [o.get_device() for o in outs] == [0, 1]
    out = gather(outs, 1)
    assert out.get_device() == 1
    assert type(gather(outs, -1).data) is ember.DoubleTensor
    np.testing.assert_allclose(to_numpy(out.data), to_numpy(m(x).data), rtol=1e-12)
    g = rng.standard_normal((5, 2))
    out.backward(ember.from_numpy(g).cuda(1))
    w = to_numpy(m.weight.data)
    np.testing.assert_allclose(to_numpy(x.grad.data), g @ w, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(m.weight.grad.data), g.T @ to_numpy(x.data), rtol=1e-12)
    assert m.weight.grad.get_device() == 0
