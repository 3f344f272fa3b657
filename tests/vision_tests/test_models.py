"""embervision.models: torchvision 0.1.9's architectures.

Structure: parameter counts against torchvision's published numbers and state_dict keys against 0.1.9's
checkpoints. Outputs: the same architectures written in PyTorch here (torchvision cannot be installed beside
the oracle), given ember's weights through a PyTorch checkpoint (ember.save, torch.load), compared in eval
mode. Initialisations against 0.1.9's formulas; ``pretrained=True`` against a local HTTP server.
"""
import collections
import hashlib
import importlib
import io
import math
import re
import socket

import numpy as np
import pytest

import ember
from ember.autograd import Variable
import embervision
from embervision import models
from _helpers.httpserver import http_server
from _helpers.oracle import require_torch

# torchvision 0.1.9's `from .alexnet import *` shadows the submodule `models.alexnet` with the function
resnet_mod, vgg_mod, squeezenet_mod, inception_mod, densenet_mod, alexnet_mod = (
    importlib.import_module("embervision.models." + n)
    for n in ("resnet", "vgg", "squeezenet", "inception", "densenet", "alexnet"))


def _count(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------- structure
# torchvision's published parameter counts (its docs' model table); the architectures are unchanged since 0.1.9
PUBLISHED = {
    "alexnet": 61100840, "resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032,
    "resnet101": 44549160, "resnet152": 60192808, "squeezenet1_0": 1248424, "squeezenet1_1": 1235496,
    "densenet121": 7978856, "densenet169": 14149480, "densenet201": 20013928, "densenet161": 28681000,
    "inception_v3": 27161264,
    "vgg11": 132863336, "vgg13": 133047848, "vgg16": 138357544, "vgg19": 143667240,
    "vgg11_bn": 132868840, "vgg13_bn": 133053736, "vgg16_bn": 138365992, "vgg19_bn": 143678248,
}
_SLOW = {"resnet34", "resnet101", "resnet152", "alexnet"}  # a second or more each to build on 2 busy cores


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in _SLOW else n
                                  for n in sorted(PUBLISHED) if not n.startswith(("vgg", "inception"))])
def test_parameter_count_matches_torchvision(name):
    assert _count(getattr(models, name)()) == PUBLISHED[name]


# VGG's classifier (25088 -> 4096 -> 4096 -> 1000) holds 123,642,856 parameters: building each of the eight
# whole models costs seconds, so the features of each configuration are counted on their own, and the
# classifier once, in a VGG with small features (`small_vgg`).
_VGG_CLASSIFIER = (512 * 7 * 7 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
_SMALL_VGG_CFG = [16, "M", 512, "M"]  # 28x28 inputs give the 512 x 7 x 7 features VGG's classifier takes


@pytest.fixture(scope="module")
def small_vgg():
    ember.manual_seed(0)
    return models.VGG(vgg_mod.make_layers(_SMALL_VGG_CFG, batch_norm=True))


@pytest.mark.parametrize("name, key, bn", [("vgg11", "A", False), ("vgg13", "B", False), ("vgg16", "D", False),
                                           ("vgg19", "E", False), ("vgg11_bn", "A", True), ("vgg13_bn", "B", True),
                                           ("vgg16_bn", "D", True), ("vgg19_bn", "E", True)])
def test_vgg_feature_counts_match_torchvision(name, key, bn):
    features = vgg_mod.make_layers(vgg_mod.cfg[key], batch_norm=bn)
    assert _count(features) + _VGG_CLASSIFIER == PUBLISHED[name]


def test_vgg_classifier_count_and_keys(small_vgg):
    assert _count(small_vgg) == _count(small_vgg.features) + _VGG_CLASSIFIER
    assert [k for k in small_vgg.state_dict() if k.startswith("classifier")] == [
        "classifier.0.weight", "classifier.0.bias", "classifier.3.weight", "classifier.3.bias",
        "classifier.6.weight", "classifier.6.bias"]


def test_make_layers_structure():
    seq = vgg_mod.make_layers([8, "M", 16], batch_norm=True)
    kinds = [type(layer).__name__ for layer in seq]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d", "BatchNorm2d", "ReLU"]
    assert seq[0].kernel_size == (3, 3) and seq[0].padding == (1, 1) and seq[0].in_channels == 3
    assert type(seq[3]).__name__ == "MaxPool2d" and seq[3].kernel_size == 2 and seq[3].stride == 2
    assert seq[4].in_channels == 8 and seq[4].out_channels == 16
    assert [type(layer).__name__ for layer in vgg_mod.make_layers([4, "M"])] == ["Conv2d", "ReLU", "MaxPool2d"]
    assert vgg_mod.cfg["A"].count("M") == 5 and sum(isinstance(v, int) for v in vgg_mod.cfg["E"]) == 16


@pytest.fixture(scope="module")
def inception():
    ember.manual_seed(3)
    return models.inception_v3()


def test_inception_count_includes_aux_logits(inception):
    assert _count(inception) == PUBLISHED["inception_v3"]
    aux = _count(inception.AuxLogits)
    assert aux == (768 * 128 + 2 * 128) + (128 * 768 * 25 + 2 * 768) + (768 * 1000 + 1000)
    assert _count(models.Inception3(aux_logits=False, num_classes=10)) == \
        PUBLISHED["inception_v3"] - aux - 2048 * 990 - 990
    keys = inception.state_dict().keys()
    for k in ("Conv2d_1a_3x3.conv.weight", "Conv2d_1a_3x3.bn.running_var", "Mixed_5b.branch5x5_2.conv.weight",
              "Mixed_6e.branch7x7dbl_5.bn.bias", "Mixed_7c.branch3x3dbl_3b.conv.weight", "AuxLogits.conv1.conv.weight",
              "AuxLogits.fc.bias", "fc.weight"):
        assert k in keys
    assert inception.Conv2d_1a_3x3.bn.eps == 0.001


# 0.1.9's checkpoints name these keys (densenet: dotted layer names inside a dense layer)
@pytest.mark.parametrize("name, keys", [
    ("resnet50", ["conv1.weight", "bn1.running_mean", "layer1.0.downsample.0.weight", "layer1.0.downsample.1.bias",
                  "layer4.2.conv3.weight", "layer4.2.bn3.running_var", "fc.bias"]),
    ("squeezenet1_0", ["features.0.weight", "features.3.squeeze.weight", "features.12.expand3x3.bias",
                       "classifier.1.weight", "classifier.1.bias"]),
    ("squeezenet1_1", ["features.0.weight", "features.3.expand1x1.weight", "features.12.expand3x3.weight",
                       "classifier.1.weight"]),
    ("densenet121", ["features.conv0.weight", "features.norm0.running_mean",
                     "features.denseblock1.denselayer1.norm.1.weight", "features.denseblock1.denselayer1.conv.1.weight",
                     "features.denseblock1.denselayer6.conv.2.weight", "features.transition1.conv.weight",
                     "features.transition3.norm.running_var", "features.denseblock4.denselayer16.norm.2.bias",
                     "features.norm5.weight", "classifier.weight"]),
])
def test_state_dict_keys_of_0_1_9_checkpoints(name, keys):
    sd = getattr(models, name)().state_dict()
    for k in keys:
        assert k in sd, k
    assert not any(k.endswith("num_batches_tracked") for k in sd)


def test_densenet_shapes():
    m = models.densenet161()
    sd = m.state_dict()
    assert tuple(sd["features.conv0.weight"].size()) == (96, 3, 7, 7)
    assert tuple(sd["features.denseblock1.denselayer1.conv.1.weight"].size()) == (4 * 48, 96, 1, 1)
    assert tuple(sd["features.denseblock1.denselayer1.conv.2.weight"].size()) == (48, 4 * 48, 3, 3)
    assert tuple(sd["classifier.weight"].size()) == (1000, 2208)
    assert len(m.features.denseblock3) == 36 and not hasattr(m.features, "transition4")


def test_classes_and_signatures():
    assert resnet_mod.BasicBlock.expansion == 1 and resnet_mod.Bottleneck.expansion == 4
    conv = resnet_mod.conv3x3(4, 8, stride=2)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.bias) == ((3, 3), (2, 2), (1, 1), None)
    assert [type(b).__name__ for b in models.resnet50().layer3] == ["Bottleneck"] * 6
    m = models.ResNet(resnet_mod.BasicBlock, [1, 1, 1, 1], num_classes=7)
    assert m.fc.out_features == 7 and len(m.layer2) == 1 and m.layer2[0].downsample is not None
    assert m.layer1[0].downsample is None
    assert models.squeezenet1_1(num_classes=5).classifier[1].out_channels == 5
    assert models.alexnet(num_classes=3).classifier[6].out_features == 3
    dense = models.DenseNet(growth_rate=4, block_config=(1, 2), num_init_features=8, num_classes=2)
    assert dense.classifier.in_features == (8 + 4) // 2 + 2 * 4
    fire = squeezenet_mod.Fire(16, 4, 8, 12)
    assert (fire.squeeze.out_channels, fire.expand1x1.out_channels, fire.expand3x3.padding) == (4, 8, (1, 1))


def test_module_lists_are_0_1_9s():
    assert sorted(resnet_mod.__all__) == sorted(["ResNet", "resnet18", "resnet34", "resnet50", "resnet101",
                                                    "resnet152"])
    names = ["alexnet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg11", "vgg11_bn", "vgg13",
             "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "squeezenet1_0", "squeezenet1_1", "inception_v3",
             "densenet121", "densenet169", "densenet201", "densenet161", "AlexNet", "ResNet", "VGG", "SqueezeNet",
             "Inception3", "DenseNet"]
    for n in names:
        assert callable(getattr(models, n)), n
    assert embervision.models is models


def test_model_urls_are_0_1_9s():
    base = "https://download.pytorch.org/models/"
    files = {"alexnet": "alexnet-owt-4df8aa71.pth", "resnet18": "resnet18-5c106cde.pth",
             "resnet34": "resnet34-333f7ec4.pth", "resnet50": "resnet50-19c8e357.pth",
             "resnet101": "resnet101-5d3b4d8f.pth", "resnet152": "resnet152-b121ed2d.pth",
             "vgg11": "vgg11-bbd30ac9.pth", "vgg13": "vgg13-c768596a.pth", "vgg16": "vgg16-397923af.pth",
             "vgg19": "vgg19-dcbb9e9d.pth", "vgg11_bn": "vgg11_bn-6002323d.pth", "vgg13_bn": "vgg13_bn-abd245e5.pth",
             "vgg16_bn": "vgg16_bn-6c64b313.pth", "vgg19_bn": "vgg19_bn-c79401a0.pth",
             "squeezenet1_0": "squeezenet1_0-a815701f.pth", "squeezenet1_1": "squeezenet1_1-f364aa15.pth",
             "inception_v3_google": "inception_v3_google-1a9a5a14.pth", "densenet121": "densenet121-241335ed.pth",
             "densenet169": "densenet169-6f0f7f60.pth", "densenet201": "densenet201-4c113574.pth",
             "densenet161": "densenet161-17b70270.pth"}
    urls = {}
    for mod in (alexnet_mod, resnet_mod, vgg_mod, squeezenet_mod, inception_mod, densenet_mod):
        urls.update(mod.model_urls)
    assert urls == {k: base + f for k, f in files.items()}


def test_squeezenet_rejects_other_versions():
    with pytest.raises(ValueError, match=r"Unsupported SqueezeNet version 1\.2: 1\.0 or 1\.1 expected"):
        models.SqueezeNet(version=1.2)


def test_wrong_input_size_names_the_layer():
    m = models.resnet18()
    m.eval()
    with pytest.raises(RuntimeError, match=r"AvgPool2d.*size"):
        m(Variable(ember.randn(1, 3, 64, 64), volatile=True))


# ------------------------------------------------------------------------------------------ initialisation
def test_resnet_init_is_0_1_9s():
    ember.manual_seed(0)
    m = models.resnet50()
    for conv in (m.conv1, m.layer3[0].conv2, m.layer4[0].downsample[0]):
        n = conv.kernel_size[0] * conv.kernel_size[1] * conv.out_channels
        w = conv.weight.data.numpy()
        assert abs(w.std() / math.sqrt(2. / n) - 1) < 0.05 and abs(w.mean()) < 0.1 * math.sqrt(2. / n)
    for bn in (m.bn1, m.layer2[1].bn3, m.layer1[0].downsample[1]):
        assert (bn.weight.data.numpy() == 1).all() and not bn.bias.data.numpy().any()
    w = m.fc.weight.data.numpy()  # the Linear keeps its default uniform(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(w).max() <= 1 / math.sqrt(2048) and np.abs(w).max() > 0.95 / math.sqrt(2048)


def test_vgg_init_is_0_1_9s(small_vgg):
    conv = small_vgg.features[4]
    w = conv.weight.data.numpy()
    assert abs(w.std() / math.sqrt(2. / (9 * 512)) - 1) < 0.05 and abs(w.mean()) < 0.05 * math.sqrt(2. / (9 * 512))
    assert not conv.bias.data.numpy().any() and not small_vgg.features[0].bias.data.numpy().any()
    assert (small_vgg.features[1].weight.data.numpy() == 1).all() and not small_vgg.features[5].bias.data.numpy().any()
    for i in (0, 3, 6):
        w = small_vgg.classifier[i].weight.data.numpy()
        assert abs(w.std() - 0.01) < 1e-4 and abs(w.mean()) < 1e-4
        assert not small_vgg.classifier[i].bias.data.numpy().any()


def test_squeezenet_init_is_0_1_9s():
    ember.manual_seed(0)
    m = models.squeezenet1_0()
    final = m.classifier[1].weight.data.numpy()
    assert abs(final.std() - 0.01) < 5e-4 and abs(final.mean()) < 5e-4
    for conv in (m.features[0], m.features[12].expand3x3, m.features[7].squeeze):
        fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
        bound = math.sqrt(6. / fan_in)  # kaiming_uniform(a=0): gain sqrt(2), uniform(-sqrt(3)*std, sqrt(3)*std)
        w = conv.weight.data.numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
        assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.1
    for conv in (m.features[0], m.features[3].expand1x1, m.classifier[1]):
        assert not conv.bias.data.numpy().any()


def test_inception_init_is_truncated_normal(inception):
    # truncnorm(-2, 2) has standard deviation 0.8796 times its scale
    w = inception.Mixed_7c.branch3x3dbl_2.conv.weight.data.numpy()
    assert np.abs(w).max() <= 0.2 and np.abs(w).max() > 0.199
    assert abs(w.std() - 0.1 * 0.8796) < 1e-3
    fc = inception.AuxLogits.fc.weight.data.numpy()
    assert np.abs(fc).max() <= 0.002 and abs(fc.std() - 0.001 * 0.8796) < 2e-5
    # 0.1.9 set conv1.stddev on the BasicConv2d, so its Conv2d got the default 0.1
    assert abs(inception.AuxLogits.conv1.conv.weight.data.numpy().std() - 0.1 * 0.8796) < 1e-3
    bn = inception.Mixed_6a.branch3x3.bn
    assert (bn.weight.data.numpy() == 1).all() and not bn.bias.data.numpy().any()


def test_init_follows_manual_seed():
    ember.manual_seed(5)
    a = models.squeezenet1_1().state_dict()
    ember.manual_seed(5)
    b = models.squeezenet1_1().state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
    ember.manual_seed(5)
    t = ember.Tensor(4000)
    inception_mod._truncated_normal_(t, 0.5)
    ember.manual_seed(5)
    u = ember.Tensor(4000)
    inception_mod._truncated_normal_(u, 0.5)
    np.testing.assert_array_equal(t.numpy(), u.numpy())
    assert np.abs(t.numpy()).max() <= 1.0


def test_densenet_keeps_default_layer_init():
    ember.manual_seed(0)
    m = models.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, bn_size=2)
    conv = m.features.denseblock1.denselayer2._modules["conv.1"]
    bound = 1 / math.sqrt(conv.in_channels)
    w = conv.weight.data.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


class _Stop(Exception):
    pass


def test_inception_transform_input(inception):
    seen = []

    class Capture(ember.nn.Module):
        def forward(self, x):
            seen.append(x.data.numpy().copy())
            raise _Stop()

    first = inception.Conv2d_1a_3x3
    inception.Conv2d_1a_3x3 = Capture()
    try:
        x = np.random.RandomState(0).randn(2, 3, 5, 5).astype(np.float32)
        inception.transform_input = True
        with pytest.raises(_Stop):
            inception(Variable(ember.from_numpy(x)))
        inception.transform_input = False
        with pytest.raises(_Stop):
            inception(Variable(ember.from_numpy(x)))
    finally:
        inception.Conv2d_1a_3x3 = first
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    expected = (x * std[:, None, None] + mean[:, None, None] - 0.5) / 0.5  # back to [0, 1], then to [-1, 1]
    np.testing.assert_allclose(seen[0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(seen[1], x)


# ----------------------------------------------------------------------------------------- pretrained
def _checkpoint(directory, stem, state_dict):
    """Write ``state_dict`` with ember.save as ``<stem>-<sha256 prefix>.pth`` in ``directory``; its name."""
    buf = io.BytesIO()
    ember.save(state_dict, buf)
    data = buf.getvalue()
    name = "{}-{}.pth".format(stem, hashlib.sha256(data).hexdigest()[:8])
    (directory / name).write_bytes(data)
    return name


@pytest.fixture
def zoo_dir(tmp_path, monkeypatch):
    from ember.utils import model_zoo
    monkeypatch.setattr(model_zoo, "_tqdm", None)
    for var in ("EMBER_HOME", "TORCH_MODEL_ZOO", "TORCH_HOME"):
        monkeypatch.delenv(var, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv("EMBER_MODEL_ZOO", str(cache))
    return cache


def _assert_same_state(a, b):
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)


def test_pretrained_downloads_and_caches(tmp_path, zoo_dir, monkeypatch):
    ember.manual_seed(1)
    source = models.squeezenet1_1()
    served = tmp_path / "served"
    served.mkdir()
    name = _checkpoint(served, "squeezenet1_1", source.state_dict())
    with http_server(served) as server:
        monkeypatch.setitem(squeezenet_mod.model_urls, "squeezenet1_1", server.url(name))
        ember.manual_seed(2)
        m = models.squeezenet1_1(pretrained=True)
        _assert_same_state(m.state_dict(), source.state_dict())
        assert (zoo_dir / name).exists()
        models.squeezenet1_1(pretrained=True)  # the second time from the cache
        assert server.requests == ["/" + name]


def test_pretrained_offline_says_where_to_put_the_file(tmp_path, zoo_dir, monkeypatch, capsys):
    with socket.socket() as s:  # a port nothing listens on: the network is unreachable
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = "http://127.0.0.1:{}/models/squeezenet1_1-f364aa15.pth".format(port)
    monkeypatch.setitem(squeezenet_mod.model_urls, "squeezenet1_1", url)
    target = zoo_dir / "squeezenet1_1-f364aa15.pth"
    with pytest.raises(RuntimeError, match=r"squeezenet1_1\(pretrained=True\).*could not get") as info:
        models.squeezenet1_1(pretrained=True)
    assert url in str(info.value) and str(target) in str(info.value)
    assert not target.exists()
    # following the advice works offline (a cached file is not hash-checked, as in 0.2)
    ember.manual_seed(4)
    source = models.squeezenet1_1()
    ember.save(source.state_dict(), str(target))
    _assert_same_state(models.squeezenet1_1(pretrained=True).state_dict(), source.state_dict())


def test_pretrained_bad_hash_is_reported(tmp_path, zoo_dir, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    name = _checkpoint(served, "squeezenet1_0", models.squeezenet1_0().state_dict())
    wrong = "squeezenet1_0-00000000.pth"
    (served / name).rename(served / wrong)
    with http_server(served) as server:
        monkeypatch.setitem(squeezenet_mod.model_urls, "squeezenet1_0", server.url(wrong))
        with pytest.raises(RuntimeError, match=r'invalid hash value \(expected "00000000"') as info:
            models.squeezenet1_0(pretrained=True)
    assert str(zoo_dir / wrong) in str(info.value) and not (zoo_dir / wrong).exists()


def test_pretrained_checkpoint_must_match_the_architecture(tmp_path, zoo_dir, monkeypatch):
    ember.save(models.squeezenet1_0().state_dict(), str(tmp_path / "x"))
    zoo_dir.mkdir()
    (tmp_path / "x").rename(zoo_dir / "squeezenet1_1-f364aa15.pth")  # 1.0's weights under 1.1's name
    with pytest.raises(RuntimeError):
        models.squeezenet1_1(pretrained=True)


@pytest.mark.parametrize("kwargs, expected", [({}, True), ({"transform_input": False}, False),
                                              ({"transform_input": True, "num_classes": 7}, True)])
def test_inception_pretrained_sets_transform_input(monkeypatch, kwargs, expected):
    loaded = []
    monkeypatch.setattr(inception_mod, "Inception3", lambda **kw: dict(kw))
    monkeypatch.setattr(inception_mod, "load_pretrained", lambda model, url, name: loaded.append(url) or model)
    assert models.inception_v3(pretrained=True, **kwargs)["transform_input"] is expected
    assert loaded == ["https://download.pytorch.org/models/inception_v3_google-1a9a5a14.pth"]
    assert "transform_input" not in models.inception_v3(pretrained=False)


@pytest.mark.parametrize("name, mod, cls", [("alexnet", alexnet_mod, "AlexNet"), ("resnet34", resnet_mod, "ResNet"),
                                           ("vgg13_bn", vgg_mod, "VGG"), ("densenet169", densenet_mod, "DenseNet"),
                                           ("squeezenet1_0", squeezenet_mod, "SqueezeNet")])
def test_every_constructor_loads_its_own_url(monkeypatch, name, mod, cls):
    calls = []
    monkeypatch.setattr(mod, "load_pretrained", lambda model, url, n: calls.append((model, url, n)) or model)
    monkeypatch.setattr(mod, cls, lambda *a, **kw: "model")
    if name.startswith("vgg"):
        monkeypatch.setattr(mod, "make_layers", lambda cfg, batch_norm=False: None)
    assert getattr(models, name)(pretrained=True) == "model"
    assert calls == [("model", mod.model_urls[name], name)]


# ------------------------------------------------------------------------------ outputs against PyTorch
def _to_torch_model(ember_model, torch_model, rename=None):
    """Give ``torch_model`` the weights of ``ember_model`` through a PyTorch checkpoint written by ember."""
    torch = require_torch()
    buf = io.BytesIO()
    ember.save(ember_model.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf)
    if rename is not None:
        state = collections.OrderedDict((rename(k), v) for k, v in state.items())
    torch_model.load_state_dict(state)
    return torch_model.eval()


def _compare(ember_model, torch_model, shape, rename=None, seed=0, tol=1e-4):
    torch = require_torch()
    _to_torch_model(ember_model, torch_model, rename)
    ember_model.eval()
    x = np.random.RandomState(seed).randn(*shape).astype(np.float32)
    got = ember_model(Variable(ember.from_numpy(x), volatile=True)).data.numpy()
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)
    return got


def _torch():
    torch = require_torch()
    return torch, torch.nn, torch.nn.functional


def _perturb_batchnorm(model, seed=0):
    """Non-trivial running statistics and affine parameters, so eval-mode BatchNorm is really compared."""
    rng = np.random.RandomState(seed)
    for m in model.modules():
        if isinstance(m, ember.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(ember.from_numpy(rng.randn(n).astype(np.float32) * 0.1))
            m.running_var.copy_(ember.from_numpy(rng.uniform(0.5, 1.5, n).astype(np.float32)))
            m.weight.data.copy_(ember.from_numpy(rng.uniform(0.5, 1.5, n).astype(np.float32)))
            m.bias.data.copy_(ember.from_numpy(rng.randn(n).astype(np.float32) * 0.1))
    return model


def torch_resnet18():
    torch, nn, F = _torch()

    class Block(nn.Module):
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
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            widths = [64, 128, 256, 512]
            for i, w in enumerate(widths):
                cin = widths[max(i - 1, 0)]
                setattr(self, "layer%d" % (i + 1), nn.Sequential(Block(cin, w, 1 if i == 0 else 2), Block(w, w, 1)))
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(F.avg_pool2d(x, 7).flatten(1))

    return Net()


def test_resnet18_matches_pytorch():
    ember.manual_seed(0)
    m = _perturb_batchnorm(models.resnet18())
    _compare(m, torch_resnet18(), (1, 3, 224, 224))


def torch_squeezenet(version):
    torch, nn, F = _torch()

    class Fire(nn.Module):
        def __init__(self, cin, s, e1, e3):
            super().__init__()
            self.squeeze = nn.Conv2d(cin, s, 1)
            self.expand1x1 = nn.Conv2d(s, e1, 1)
            self.expand3x3 = nn.Conv2d(s, e3, 3, padding=1)

        def forward(self, x):
            x = F.relu(self.squeeze(x))
            return torch.cat([F.relu(self.expand1x1(x)), F.relu(self.expand3x3(x))], 1)

    pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
    if version == 1.0:
        layers = [nn.Conv2d(3, 96, 7, 2), nn.ReLU(), pool(), Fire(96, 16, 64, 64), Fire(128, 16, 64, 64),
                  Fire(128, 32, 128, 128), pool(), Fire(256, 32, 128, 128), Fire(256, 48, 192, 192),
                  Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), pool(), Fire(512, 64, 256, 256)]
    else:
        layers = [nn.Conv2d(3, 64, 3, 2), nn.ReLU(), pool(), Fire(64, 16, 64, 64), Fire(128, 16, 64, 64), pool(),
                  Fire(128, 32, 128, 128), Fire(256, 32, 128, 128), pool(), Fire(256, 48, 192, 192),
                  Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256)]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Dropout(), nn.Conv2d(512, 1000, 1), nn.ReLU(), nn.AvgPool2d(13))

        def forward(self, x):
            return self.classifier(self.features(x)).flatten(1)

    return Net()


@pytest.mark.parametrize("version", [1.0, 1.1])
def test_squeezenet_matches_pytorch(version):
    ember.manual_seed(0)
    m = models.squeezenet1_0() if version == 1.0 else models.squeezenet1_1()
    # 0.1.9's init leaves most outputs at 0 after the final ReLU: shift the final conv's bias to see them all
    m.classifier[1].bias.data.uniform_(0.5, 1.0)
    got = _compare(m, torch_squeezenet(version), (1, 3, 224, 224))
    assert (got > 0).mean() > 0.9


def torch_vgg(cfg):
    torch, nn, F = _torch()
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
            cin = v

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(),
                                            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000))

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))

    return Net()


def test_small_vgg_bn_matches_pytorch(small_vgg):  # after test_vgg_init_is_0_1_9s: this changes the weights
    _perturb_batchnorm(small_vgg)
    for linear in (small_vgg.classifier[0], small_vgg.classifier[3]):  # larger than normal(0, 0.01): clear outputs
        linear.weight.data.mul_(10)
    _compare(small_vgg, torch_vgg(_SMALL_VGG_CFG), (2, 3, 28, 28))


def test_vgg_features_match_pytorch():
    torch, nn, F = _torch()
    cfg = [8, "M", 16, 16, "M", 32]
    ember.manual_seed(0)
    m = vgg_mod.make_layers(cfg)
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU()]
            cin = v
    _compare(m, nn.Sequential(*layers), (2, 3, 20, 20))


def _dense_rename(key):
    return re.sub(r"\.(norm|relu|conv)\.([12])\.", r".\1\2.", key)


def torch_densenet(growth, blocks, init, bn_size, num_classes):
    torch, nn, F = _torch()

    class Layer(nn.Sequential):
        def __init__(self, cin):
            super().__init__(collections.OrderedDict([
                ("norm1", nn.BatchNorm2d(cin)), ("relu1", nn.ReLU()),
                ("conv1", nn.Conv2d(cin, bn_size * growth, 1, bias=False)),
                ("norm2", nn.BatchNorm2d(bn_size * growth)), ("relu2", nn.ReLU()),
                ("conv2", nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False))]))

        def forward(self, x):
            return torch.cat([x, super().forward(x)], 1)

    feats = collections.OrderedDict([("conv0", nn.Conv2d(3, init, 7, 2, 3, bias=False)),
                                     ("norm0", nn.BatchNorm2d(init)), ("relu0", nn.ReLU()),
                                     ("pool0", nn.MaxPool2d(3, 2, 1))])
    c = init
    for i, n in enumerate(blocks):
        feats["denseblock%d" % (i + 1)] = nn.Sequential(collections.OrderedDict(
            ("denselayer%d" % (j + 1), Layer(c + j * growth)) for j in range(n)))
        c += n * growth
        if i < len(blocks) - 1:
            feats["transition%d" % (i + 1)] = nn.Sequential(collections.OrderedDict([
                ("norm", nn.BatchNorm2d(c)), ("relu", nn.ReLU()), ("conv", nn.Conv2d(c, c // 2, 1, bias=False)),
                ("pool", nn.AvgPool2d(2, 2))]))
            c //= 2
    feats["norm5"] = nn.BatchNorm2d(c)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(feats)
            self.classifier = nn.Linear(c, num_classes)

        def forward(self, x):
            return self.classifier(F.avg_pool2d(F.relu(self.features(x)), 7).flatten(1))

    return Net()


def test_small_densenet_matches_pytorch():
    ember.manual_seed(0)
    m = _perturb_batchnorm(models.DenseNet(growth_rate=8, block_config=(2, 3, 2, 2), num_init_features=16,
                                           bn_size=2, num_classes=10))
    _compare(m, torch_densenet(8, (2, 3, 2, 2), 16, 2, 10), (2, 3, 224, 224), rename=_dense_rename)


def test_densenet_drop_rate_only_in_training():
    ember.manual_seed(0)
    m = models.DenseNet(growth_rate=4, block_config=(1, 1), num_init_features=8, bn_size=2, drop_rate=0.5)
    layer = m.features.denseblock1.denselayer1
    y = Variable(ember.rand(2, 8, 6, 6) + 1, volatile=True)
    for training in (False, True):
        layer.train(training)
        plain = ember.nn.Sequential.forward(layer, y).data.numpy()  # the layer's path without the dropout
        out = layer(y).data.numpy()
        np.testing.assert_array_equal(out[:, :8], y.data.numpy())  # the input passes through
        new = out[:, 8:]
        if not training:
            np.testing.assert_array_equal(new, plain)
        else:
            kept = new != 0
            np.testing.assert_allclose(new[kept], 2 * plain[kept], rtol=1e-5)
            assert 0.3 < kept.mean() < 0.7


# Inception v3 written as tables of branches: (pooling first or None, [(name, in, out, conv kwargs)], split)
def _k(k, s=1, p=0):
    return dict(kernel_size=k, stride=s, padding=p)


def _inception_blocks():
    def a(cin, pf):
        return [(None, [("branch1x1", cin, 64, _k(1))], None),
                (None, [("branch5x5_1", cin, 48, _k(1)), ("branch5x5_2", 48, 64, _k(5, p=2))], None),
                (None, [("branch3x3dbl_1", cin, 64, _k(1)), ("branch3x3dbl_2", 64, 96, _k(3, p=1)),
                        ("branch3x3dbl_3", 96, 96, _k(3, p=1))], None),
                ("avg", [("branch_pool", cin, pf, _k(1))], None)]

    def b(cin):
        return [(None, [("branch3x3", cin, 384, _k(3, 2))], None),
                (None, [("branch3x3dbl_1", cin, 64, _k(1)), ("branch3x3dbl_2", 64, 96, _k(3, p=1)),
                        ("branch3x3dbl_3", 96, 96, _k(3, 2))], None),
                ("max", [], None)]

    def c(cin, c7):
        return [(None, [("branch1x1", cin, 192, _k(1))], None),
                (None, [("branch7x7_1", cin, c7, _k(1)), ("branch7x7_2", c7, c7, _k((1, 7), p=(0, 3))),
                        ("branch7x7_3", c7, 192, _k((7, 1), p=(3, 0)))], None),
                (None, [("branch7x7dbl_1", cin, c7, _k(1)), ("branch7x7dbl_2", c7, c7, _k((7, 1), p=(3, 0))),
                        ("branch7x7dbl_3", c7, c7, _k((1, 7), p=(0, 3))),
                        ("branch7x7dbl_4", c7, c7, _k((7, 1), p=(3, 0))),
                        ("branch7x7dbl_5", c7, 192, _k((1, 7), p=(0, 3)))], None),
                ("avg", [("branch_pool", cin, 192, _k(1))], None)]

    def d(cin):
        return [(None, [("branch3x3_1", cin, 192, _k(1)), ("branch3x3_2", 192, 320, _k(3, 2))], None),
                (None, [("branch7x7x3_1", cin, 192, _k(1)), ("branch7x7x3_2", 192, 192, _k((1, 7), p=(0, 3))),
                        ("branch7x7x3_3", 192, 192, _k((7, 1), p=(3, 0))), ("branch7x7x3_4", 192, 192, _k(3, 2))],
                 None),
                ("max", [], None)]

    def e(cin):
        return [(None, [("branch1x1", cin, 320, _k(1))], None),
                (None, [("branch3x3_1", cin, 384, _k(1))],
                 [("branch3x3_2a", 384, 384, _k((1, 3), p=(0, 1))), ("branch3x3_2b", 384, 384, _k((3, 1), p=(1, 0)))]),
                (None, [("branch3x3dbl_1", cin, 448, _k(1)), ("branch3x3dbl_2", 448, 384, _k(3, p=1))],
                 [("branch3x3dbl_3a", 384, 384, _k((1, 3), p=(0, 1))),
                  ("branch3x3dbl_3b", 384, 384, _k((3, 1), p=(1, 0)))]),
                ("avg", [("branch_pool", cin, 192, _k(1))], None)]

    return [("Mixed_5b", a(192, 32)), ("Mixed_5c", a(256, 64)), ("Mixed_5d", a(288, 64)), ("Mixed_6a", b(288)),
            ("Mixed_6b", c(768, 128)), ("Mixed_6c", c(768, 160)), ("Mixed_6d", c(768, 160)),
            ("Mixed_6e", c(768, 192)), ("Mixed_7a", d(768)), ("Mixed_7b", e(1280)), ("Mixed_7c", e(2048))]


def torch_inception(transform_input):
    torch, nn, F = _torch()

    class Basic(nn.Module):
        def __init__(self, cin, cout, kw):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
            self.bn = nn.BatchNorm2d(cout, eps=0.001)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    class Mixed(nn.Module):
        def __init__(self, branches):
            super().__init__()
            self.spec = []
            for pool, convs, split in branches:
                for name, cin, cout, kw in convs + (split or []):
                    self.add_module(name, Basic(cin, cout, kw))
                self.spec.append((pool, [n for n, *_ in convs], [n for n, *_ in split or []]))

        def forward(self, x):
            outs = []
            for pool, names, split in self.spec:
                y = x
                if pool == "avg":
                    y = F.avg_pool2d(y, 3, 1, 1)
                elif pool == "max":
                    y = F.max_pool2d(y, 3, 2)
                for n in names:
                    y = getattr(self, n)(y)
                if split:
                    y = torch.cat([getattr(self, n)(y) for n in split], 1)
                outs.append(y)
            return torch.cat(outs, 1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            for name, cin, cout, kw in [("Conv2d_1a_3x3", 3, 32, _k(3, 2)), ("Conv2d_2a_3x3", 32, 32, _k(3)),
                                        ("Conv2d_2b_3x3", 32, 64, _k(3, p=1)), ("Conv2d_3b_1x1", 64, 80, _k(1)),
                                        ("Conv2d_4a_3x3", 80, 192, _k(3))]:
                self.add_module(name, Basic(cin, cout, kw))
            self.mixed = []
            for name, branches in _inception_blocks():
                self.add_module(name, Mixed(branches))
                self.mixed.append(name)
            self.AuxLogits = nn.Module()
            self.AuxLogits.conv0 = Basic(768, 128, _k(1))
            self.AuxLogits.conv1 = Basic(128, 768, _k(5))
            self.AuxLogits.fc = nn.Linear(768, 1000)
            self.fc = nn.Linear(2048, 1000)

        def forward(self, x):
            if transform_input:
                mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
                std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
                x = (x * std + mean - 0.5) / 0.5
            x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
            x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, 2)))
            x = F.max_pool2d(x, 3, 2)
            for name in self.mixed:
                x = getattr(self, name)(x)
            return self.fc(F.avg_pool2d(x, 8).flatten(1))

    return Net()


@pytest.mark.slow
def test_inception_v3_matches_pytorch(inception):
    # He-style weights keep the activations near 1 through the 94 convolutions (0.1.9's truncated normal(0, 0.1)
    # makes them grow to 1e11, where float32 rounding dominates any comparison)
    for m in inception.modules():
        if isinstance(m, ember.nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            m.weight.data.normal_(0, math.sqrt(2. / fan_in))
    _perturb_batchnorm(inception)
    inception.transform_input = True
    try:
        _compare(inception, torch_inception(True), (1, 3, 299, 299))
    finally:
        inception.transform_input = False


@pytest.mark.slow
def test_inception_training_returns_aux_logits(inception):
    inception.train()
    try:
        for name, p in inception.named_parameters():  # backward through the auxiliary head only, to keep it short
            p.requires_grad = name.startswith("AuxLogits.")
        out = inception(Variable(ember.randn(2, 3, 299, 299)))
        assert isinstance(out, tuple) and len(out) == 2
        assert tuple(out[0].size()) == (2, 1000) and tuple(out[1].size()) == (2, 1000)
        out[1].sum().backward()
        for name, p in inception.AuxLogits.named_parameters():
            assert p.grad is not None and p.grad.data.abs().sum() > 0, name
    finally:
        inception.eval()
        for p in inception.parameters():
            p.requires_grad = True


def test_resnet_trains_one_step():
    ember.manual_seed(0)
    m = models.ResNet(resnet_mod.Bottleneck, [1, 1, 1, 1], num_classes=5)
    m.train()
    x = Variable(ember.randn(2, 3, 193, 193))  # the smallest size that leaves 7x7 maps for AvgPool2d(7)
    loss = m(x).pow(2).mean()
    loss.backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and tuple(p.grad.size()) == tuple(p.size()), name
    assert m.layer1[0].bn1.running_mean.abs().sum() > 0  # BatchNorm updated its statistics


# ------------------------------------------------------------------------------ the models on CUDA
@pytest.mark.parametrize("name, shape", [("resnet18", (1, 3, 224, 224)), ("squeezenet1_1", (1, 3, 224, 224))])
def test_models_on_cuda_match_the_cpu(device_mode, name, shape):
    """model.cuda() in eval mode gives the CPU model's output and the same parameter gradients (eval mode:
    dropout would draw different masks on the two devices)."""
    ember.manual_seed(0)
    cpu = _perturb_batchnorm(getattr(models, name)())
    gpu = getattr(models, name)()
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    x = np.random.RandomState(1).randn(*shape).astype(np.float32)
    cpu.eval(), gpu.eval()
    want = cpu(Variable(ember.from_numpy(x), volatile=True)).data.numpy()
    got = gpu(Variable(ember.from_numpy(x).cuda(), volatile=True)).data.cpu().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    for model, move in ((cpu, lambda t: t), (gpu, lambda t: t.cuda())):
        model.zero_grad()
        model(Variable(move(ember.from_numpy(x)))).sum().backward()
    for (n, p), (_, q) in zip(cpu.named_parameters(), gpu.named_parameters()):
        assert q.grad.data.is_cuda, n
        # the devices sum in different orders (the CPU's gemm kernel against BLAS): the gradient of sum()
        # through the whole network keeps about 0.1% of each tensor's scale in float32 (both devices are
        # 0.35% off a float64 run for conv1), so the bound is relative to that scale
        want = p.grad.data.numpy()
        np.testing.assert_allclose(q.grad.data.cpu().numpy(), want, rtol=2e-3, atol=5e-3 * np.abs(want).max(),
                                   err_msg=n)
