"""The Module system: registration rules, traversal, state_dict, hooks, conversion, reprs, pickling."""
import pickle
from collections import OrderedDict

import pytest

import ember
import ember.nn as nn
from ember.autograd import Variable


class Affine(nn.Module):
    def __init__(self, n):
        super(Affine, self).__init__()
        self.weight = nn.Parameter(ember.DoubleTensor(n).fill_(2))
        self.bias = nn.Parameter(ember.DoubleTensor(n).fill_(1))
        self.register_buffer("count", ember.LongTensor(1).zero_())

    def forward(self, x):
        return x * self.weight + self.bias


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.a = Affine(3)
        self.b = Affine(3)
        self.seq = nn.Sequential(Affine(3), Affine(3))

    def forward(self, x):
        return self.seq(self.b(self.a(x)))


def test_parameter_defaults_and_repr():
    p = nn.Parameter(ember.FloatTensor([1, 2]))
    assert p.requires_grad and not p.volatile and p.is_leaf
    assert repr(p).startswith("Parameter containing:\n") and str(p) == repr(p)
    assert not nn.Parameter(ember.FloatTensor(1), requires_grad=False).requires_grad


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["a.weight", "a.bias", "b.weight", "b.bias", "seq.0.weight", "seq.0.bias", "seq.1.weight",
                     "seq.1.bias"]
    assert len(list(net.parameters())) == 8
    assert [n for n, _ in net.named_modules()] == ["", "a", "b", "seq", "seq.0", "seq.1"]
    assert [n for n, _ in net.named_children()] == ["a", "b", "seq"]
    assert list(net.state_dict().keys()) == ["a.weight", "a.bias", "a.count", "b.weight", "b.bias", "b.count",
                                             "seq.0.weight", "seq.0.bias", "seq.0.count", "seq.1.weight",
                                             "seq.1.bias", "seq.1.count"]
    shared = Affine(2)
    s = nn.Sequential(shared, shared)
    assert len(list(s.parameters())) == 2 and len(list(s.modules())) == 2


def test_attribute_rules_and_0_2_errors():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.FloatTensor(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()

    class EarlyModule(nn.Module):
        def __init__(self):
            self.m = Affine(1)

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        EarlyModule()
    m = Affine(2)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'weight' "
                                        r"\(torch.nn.Parameter or None expected\)"):
        m.weight = ember.FloatTensor(2)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' object to parameter 'x' "
                                        r"\(torch.nn.Parameter or None required\)"):
        m.register_parameter("x", ember.FloatTensor(2))
    with pytest.raises(ValueError, match="Cannot assign non-leaf Variable to parameter 'y'"):
        p = nn.Parameter(ember.DoubleTensor(1))
        nonleaf = p * 2
        nonleaf.__class__ = nn.Parameter
        m.register_parameter("y", nonleaf)
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'count'"):
        m.count = 3
    n = Net()
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'a'"):
        n.a = 3
    m.weight = None
    assert m.weight is None and "weight" in m._parameters
    n.a = None
    assert [k for k, _ in n.named_children()] == ["b", "seq"]
    with pytest.raises(AttributeError, match="'Affine' object has no attribute 'nope'"):
        m.nope
    del m.bias
    assert "bias" not in m._parameters


def test_state_dict_round_trip_and_strictness(capsys):
    a, b = Net(), Net()
    for p in a.parameters():
        p.data.uniform_()
    b.load_state_dict(a.state_dict())
    for (n1, p1), (n2, p2) in zip(a.named_parameters(), b.named_parameters()):
        assert p1.data.tolist() == p2.data.tolist()
    sd = a.state_dict()
    sd["extra"] = ember.DoubleTensor(1)
    with pytest.raises(KeyError, match='unexpected key "extra" in state_dict'):
        b.load_state_dict(sd)
    sd = a.state_dict()
    del sd["a.bias"]
    with pytest.raises(KeyError) as info:
        b.load_state_dict(sd)
    assert info.value.args[0] == "missing keys in state_dict: \"{'a.bias'}\""
    sd = a.state_dict()
    sd["a.weight"] = ember.DoubleTensor(5)
    with pytest.raises(Exception):
        b.load_state_dict(sd)
    assert "While copying the parameter named a.weight" in capsys.readouterr().out
    # a later PyTorch's BatchNorm counter is dropped on load (ORACLE.md)
    sd = a.state_dict()
    sd["seq.0.num_batches_tracked"] = ember.LongTensor([3])
    b.load_state_dict(sd)


def test_state_dict_through_save_load(tmp_path):
    a, b = Net(), Net()
    for p in a.parameters():
        p.data.normal_()
    path = str(tmp_path / "net.pt")
    ember.save(a.state_dict(), path)
    b.load_state_dict(ember.load(path))
    assert all(p.data.tolist() == q.data.tolist() for p, q in zip(a.parameters(), b.parameters()))


def test_train_eval_apply_zero_grad_and_types():
    net = Net()
    assert net.training and net.a.training
    net.eval()
    assert not net.training and not net.seq[1].training
    net.train()
    assert net.seq[0].training
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Affine") == 4
    x = Variable(ember.DoubleTensor([1, 2, 3]))
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad.data.abs().sum() == 0 for p in net.parameters())
    net.float()
    assert all(p.data.type() == "torch.FloatTensor" for p in net.parameters())
    assert net.a.count.type() == "torch.FloatTensor"  # 0.2 converts every buffer
    assert net.a.weight.grad.data.type() == "torch.FloatTensor"
    net.double()
    assert net.a.weight.data.type() == "torch.DoubleTensor"


def test_forward_and_backward_hooks():
    m = Affine(3)
    calls = []
    h = m.register_forward_hook(lambda mod, inp, out: calls.append(("fwd", mod is m, len(inp))))
    hb = m.register_backward_hook(lambda mod, gin, gout: calls.append(("bwd", mod is m)))
    x = Variable(ember.DoubleTensor([1, 2, 3]), requires_grad=True)
    m(x).sum().backward()
    assert ("fwd", True, 1) in calls and ("bwd", True) in calls
    h.remove()
    hb.remove()
    calls.clear()
    m(x)
    assert calls == []
    m.register_forward_hook(lambda mod, inp, out: 1)
    with pytest.raises(RuntimeError, match="forward hooks should never return any values"):
        m(x)


def test_sequential_forms_and_indexing():
    s = nn.Sequential(OrderedDict([("first", Affine(1)), ("second", Affine(1))]))
    assert [n for n, _ in s.named_children()] == ["first", "second"]
    assert s[1] is s.second and s[-1] is s.second and len(s) == 2
    with pytest.raises(IndexError):
        s[2]


def test_module_list_and_parameter_list():
    ml = nn.ModuleList([Affine(1), Affine(1)])
    ml.append(Affine(1))
    ml += [Affine(1)]
    assert len(ml) == 4 and len(list(ml.parameters())) == 8 and isinstance(ml[1:3], nn.ModuleList)
    pl = nn.ParameterList([nn.Parameter(ember.FloatTensor(1)) for _ in range(2)])
    pl.append(nn.Parameter(ember.FloatTensor(1)))
    assert len(pl) == 3 and len(list(pl.parameters())) == 3
    with pytest.raises(TypeError, match="extend should be called with a list"):
        ml.extend(Affine(1))


def test_repr_of_containers():
    class Leaf(nn.Module):
        def __repr__(self):
            return "Leaf ()"
    s = nn.Sequential(Leaf(), nn.Sequential(Leaf()))
    assert repr(s) == "Sequential (\n  (0): Leaf ()\n  (1): Sequential (\n    (0): Leaf ()\n  )\n)"


def test_pickle_module_and_share_memory():
    net = Net()
    for p in net.parameters():
        p.data.normal_()
    clone = pickle.loads(pickle.dumps(net))
    assert [p.data.tolist() for p in clone.parameters()] == [p.data.tolist() for p in net.parameters()]
    assert isinstance(clone.a.weight, nn.Parameter)
    net.share_memory()
    assert all(p.data.is_shared() for p in net.parameters())


def test_modules_made_under_a_cuda_default_type_live_on_the_gpu(device_mode):
    ember.set_default_tensor_type("torch.cuda.FloatTensor")
    try:
        m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
        assert all(p.data.type() == "torch.cuda.FloatTensor" for p in m.parameters())
        assert m[1].running_mean.type() == "torch.cuda.FloatTensor"
        out = m(Variable(ember.randn(4, 2)))
        out.sum().backward()
        assert out.data.is_cuda and m[0].weight.grad.data.is_cuda
    finally:
        ember.set_default_tensor_type("torch.FloatTensor")


def test_cuda_checkpoints_load_on_either_side(device_mode, tmp_path):
    """0.2's workflow: save a CUDA model's state_dict, load it into a CPU model through map_location and
    back into a CUDA model as it is."""
    ember.manual_seed(0)
    gpu = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).cuda()
    gpu(Variable(ember.randn(5, 3).cuda()))  # running statistics change
    path = str(tmp_path / "model.pt")
    ember.save(gpu.state_dict(), path)
    cpu = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    cpu.load_state_dict(ember.load(path, map_location=lambda storage, location: storage))
    again = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).cuda()
    state = ember.load(path)
    assert all(v.is_cuda for v in state.values())
    again.load_state_dict(state)
    for key, value in gpu.state_dict().items():
        assert cpu.state_dict()[key].tolist() == value.cpu().tolist(), key
        assert again.state_dict()[key].cpu().tolist() == value.cpu().tolist(), key
    x = ember.randn(2, 3)
    cpu.eval(), gpu.eval()
    want, got = cpu(Variable(x)).data.numpy(), gpu(Variable(x.cuda())).data.cpu().numpy()
    assert abs(want - got).max() < 1e-5  # cuBLAS and the CPU's BLAS may round differently
