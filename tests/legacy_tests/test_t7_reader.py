"""Reading Lua Torch7 .t7 files: load_lua / T7Reader on real files written by Lua Torch (shared/data/t7),
checked against SOURCES.md / INDEX.md, against NumPy decodes of the raw bytes and, where installed, against
the independent PyPI reader `torchfile`; options, the nn-class hook, and hostile input."""
import csv
import glob
import io
import math
import os
import struct
import sys
import tracemalloc
import types

import numpy as np
import pytest

import ember
from ember.legacy.serialization import (LuaFunction, T7Reader, T7ReaderException, TdsHash, TdsVec, TorchObject,
                                        hashable_uniq_dict, load_lua)

from _helpers.data import shared_data


def t7(*parts):
    return shared_data("t7", *parts)


def demo(name):
    return t7("torch_demos", name)


def tail(path, n, dtype):
    """The last ``n`` elements of the file decoded by NumPy: a lone tensor's storage ends the file."""
    data = open(path, "rb").read()
    size = np.dtype(dtype).itemsize * n
    return np.frombuffer(data[len(data) - size:], dtype)


@pytest.fixture
def no_legacy_nn(monkeypatch):
    """ember.legacy.nn absent (it is written later): nn classes are unknown classes."""
    monkeypatch.setitem(sys.modules, "ember.legacy.nn", None)


def lua_type(obj):
    if isinstance(obj, TorchObject):
        return obj.torch_typename()
    return "nn." + type(obj).__name__


def field(obj, name):
    return obj._obj[name] if isinstance(obj, TorchObject) else obj.__dict__[name]


def fields(obj):
    return set(obj._obj) if isinstance(obj, TorchObject) else set(vars(obj))


def tensors_in(obj, seen=None):
    """Every distinct tensor reachable from ``obj``."""
    seen = {} if seen is None else seen
    stack = [obj]
    visited = set()
    while stack:
        o = stack.pop()
        if id(o) in visited:
            continue
        visited.add(id(o))
        if isinstance(o, ember._TensorBase):
            seen[id(o)] = o
        elif isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)
        elif isinstance(o, TorchObject):
            stack.append(o._obj)
        elif hasattr(o, "__dict__"):
            stack.append(vars(o))
    return list(seen.values())


# ---------------------------------------------------------------------------------------- plain values
def test_hello_table():
    t = load_lua(t7("torchfile_tests", "hello=123.t7"))
    assert isinstance(t, hashable_uniq_dict) and dict(t) == {"hello": 123}
    assert type(t["hello"]) is int
    assert t.hello == 123  # 0.2's dot access
    with pytest.raises(AttributeError, match="no key 'missing'"):
        t.missing
    assert hash(t) == id(t)


def test_list_table():
    assert load_lua(t7("torchfile_tests", "list_table.t7")) == ["hello", "world", "third item", 123]


def test_map_tables_stay_dicts():
    t1 = load_lua(t7("torchfile_tests", "map_table1.t7"))
    assert dict(t1) == {0: "zero", 1: "hello", 2: "world", 3: "third item", 4: 123}
    t2 = load_lua(t7("torchfile_tests", "map_table2.t7"))
    assert dict(t2) == {1: "hello", 2: "world", 3: "third item", 4: 123, "a": "non number key"}


def test_heuristics_off():
    path = t7("torchfile_tests", "list_table.t7")
    t = load_lua(path, list_heuristic=False)
    assert dict(t) == {1: "hello", 2: "world", 3: "third item", 4: 123}
    t = load_lua(path, int_heuristic=False)
    assert t == ["hello", "world", "third item", 123.0] and type(t[3]) is float
    t = load_lua(path, list_heuristic=False, int_heuristic=False)
    assert all(type(k) is float for k in t) and t[4.0] == 123.0
    assert load_lua(t7("torchfile_tests", "hello=123.t7"), int_heuristic=False)["hello"] == 123.0


def test_preproc_table_of_doubles():
    t = load_lua(demo("road-net_preproc.t7_9a93788"))
    assert set(t) == {"mean", "std"}
    assert [round(x, 2) for x in t["mean"]] == [0.40, 0.42, 0.39]
    assert [round(x, 2) for x in t["std"]] == [0.24, 0.24, 0.26]
    assert all(type(x) is float for x in t["mean"] + t["std"])


def test_vocab_utf8_strings():
    vocab = load_lua(t7("memorynetwork", "output_lua_vocab.t7_7bdf071"))
    assert len(vocab) == 48
    assert "" in vocab
    assert any(k.startswith("\xa0") for k in vocab)
    assert all(isinstance(k, str) and type(v) is int for k, v in vocab.items())


def test_recursive_kv_table_keeps_its_cycle():
    t = load_lua(t7("torchfile_tests", "recursive_kv_table.t7"))
    assert isinstance(t, dict) and len(t) == 1
    (k, v), = t.items()
    assert k is t and v is t


# ---------------------------------------------------------------------------------------- tensors
def test_doubletensor():
    path = t7("torchfile_tests", "doubletensor.t7")
    x = load_lua(path)
    assert type(x) is ember.DoubleTensor and x.size() == ember.Size([2, 3])
    assert x.storage_offset() == 0  # the file's 1-based storage offset 1
    assert x.stride() == (3, 1) and x.storage().size() == 6
    np.testing.assert_array_equal(x.numpy().ravel(), tail(path, 6, "<f8"))


def test_floattensor():
    path = t7("torchfile_tests", "floattensor.t7")
    x = load_lua(path)
    assert type(x) is ember.FloatTensor and x.size() == ember.Size([2, 3, 4])
    np.testing.assert_array_equal(x.numpy().ravel(), tail(path, 24, "<f4"))


@pytest.mark.parametrize("name, cls, shape, dtype", [
    ("torch_tutorials/4_graphicalmodels_X.t7", ember.DoubleTensor, (32, 32), "<f8"),
    ("memorynetwork/output_lua_fact_tensor.t7_7bab570", ember.DoubleTensor, (70, 9), "<f8"),
    ("memorynetwork/output_lua_data.t7_155839e", ember.ByteTensor, (70, 58), "u1"),
    ("memorynetwork/utils_data.t7_8e946c2", ember.ByteTensor, (33,), "u1"),
])
def test_single_tensor_files(name, cls, shape, dtype):
    path = t7(*name.split("/"))
    x = load_lua(path)
    assert type(x) is cls and tuple(x.size()) == shape and x.is_contiguous()
    np.testing.assert_array_equal(x.numpy().ravel(), tail(path, int(np.prod(shape)), dtype))


def test_tensors_sharing_a_storage_share_memory(no_legacy_nn):
    rec = load_lua(t7("lua_nn_reference", "View.t7"), unknown_classes=True)
    out, inp = rec["output"], rec["input"]
    assert out.size() == ember.Size([2, 5, 3]) and inp.size() == ember.Size([2, 3, 5])
    assert out.storage() is inp.storage()
    inp[0, 0, 0] = 12345.0
    assert out[0, 0, 0] == 12345.0
    assert rec["output"] is field(rec["module"], "output")  # the same object, written once and referenced


# ---------------------------------------------------------------------------------------- classes
def test_unknown_classes():
    for name, cls in [("custom_class.t7", "Blah"), ("recursive_class.t7", "A")]:
        with pytest.raises(T7ReaderException, match="deserialize Lua class {}\\b.*unknown_classes=True".format(cls)):
            load_lua(t7("torchfile_tests", name))
    blah = load_lua(t7("torchfile_tests", "custom_class.t7"), unknown_classes=True)
    assert isinstance(blah, TorchObject) and blah.torch_typename() == "Blah"
    assert dict(blah._obj) == {} and blah._version == 1
    a = load_lua(t7("torchfile_tests", "recursive_class.t7"), unknown_classes=True)
    assert a.torch_typename() == "A" and a.a is a and a["a"] is a  # the cycle through the object index
    assert repr(a) == "TorchObject(A, {'a': ...})"
    with pytest.raises(AttributeError, match="no field 'b'"):
        a.b


def test_functions_are_inert():
    f = load_lua(t7("torchfile_tests", "function_upvals.t7"))
    assert isinstance(f, LuaFunction) and f.size == len(f.dumped) == 89
    assert f.dumped.startswith(b"\x1bLJ")  # LuaJIT bytecode, kept as bytes
    assert f.upvalues == [{"name": "asdf", "value": 123}]
    g = load_lua(t7("torchfile_tests", "function.t7"))
    assert isinstance(g, LuaFunction) and g.upvalues == [] and b"return a+b-1" in g.dumped


def test_tds():
    h = load_lua(t7("torchfile_tests", "tds_hash.t7"))
    assert isinstance(h, TdsHash) and dict(h) == {1: 2, 2: 3, 10: 11}
    v = load_lua(t7("torchfile_tests", "tds_vec.t7"))
    assert isinstance(v, TdsVec) and v == [123, 456]


def test_nngraph_node_is_data():
    node = load_lua(t7("torchfile_tests", "nngraph_node.t7"))  # no unknown_classes needed
    assert node.torch_typename() == "nngraph.Node"
    assert node.id == 0 and node.children == [] and node.data["annotations"]["hello"] == 123


def test_gmodule_shares_its_modules(no_legacy_nn):
    g = load_lua(t7("torchfile_tests", "gmodule_with_linear_identity.t7"), unknown_classes=True)
    assert g.torch_typename() == "nn.gModule"
    assert [m.torch_typename() for m in g.modules] == ["nn.Identity", "nn.Identity", "nn.Linear", "nn.CAddTable"]
    assert g.fg.torch_typename() == "graph.Graph" and g.bg.torch_typename() == "graph.Graph"
    assert {n.torch_typename() for n in g.forwardnodes} == {"nngraph.Node"}
    in_graph = [n.data["module"] for n in g.forwardnodes if "module" in n.data]
    assert len(in_graph) == 4 and all(any(m is x for x in g.modules) for m in in_graph)
    linear = g.modules[2]
    assert linear.weight.size() == ember.Size([2, 1]) and linear.bias.size() == ember.Size([2])
    # graph.Graph indexes its edges both ways: 1..n -> edge and edge -> i (objects as table keys)
    edges = g.fg.edges
    assert len(edges) == 18
    for i in range(1, 10):
        assert edges[i].torch_typename() == "graph.Edge" and edges[edges[i]] == i


def test_nn_modules_need_legacy_nn_or_unknown_classes(no_legacy_nn):
    with pytest.raises(T7ReaderException, match="Lua class nn.Linear"):
        load_lua(t7("lua_nn_reference", "Linear.t7"))


def test_road_net_models(no_legacy_nn):
    net = load_lua(demo("road-net_u1net.net_6ca72a1"), unknown_classes=True)
    assert lua_type(net) == "nn.Sequential"
    conv, pool = net.modules
    assert [lua_type(conv), lua_type(pool)] == ["nn.SpatialConvolution", "nn.SpatialMaxPooling"]
    assert type(conv.weight) is ember.FloatTensor and conv.weight.size() == ember.Size([12, 3, 9, 9])
    assert (conv.nInputPlane, conv.nOutputPlane, conv.kW, conv.kH) == (3, 12, 9, 9)
    assert "padW" not in fields(conv) and "padH" not in fields(conv)  # 2013 nn had no padding
    assert (pool.kW, pool.kH, pool.dW, pool.dH) == (2, 2, 2, 2)

    net = load_lua(demo("road-net_unsup-cl-30.net_57c827e"), unknown_classes=True)
    assert [lua_type(m) for m in net.modules] == ["nn.Reshape", "nn.Linear", "nn.Threshold", "nn.Linear",
                                                 "nn.LogSoftMax"]
    reshape, lin1, thr, lin2, _ = net.modules
    assert type(reshape.size) is ember.LongStorage and reshape.size.tolist() == [1728]
    assert lin1.weight.size() == ember.Size([48, 1728]) and lin2.weight.size() == ember.Size([8, 48])
    assert type(lin1.weight) is ember.FloatTensor
    assert math.isclose(thr.threshold, 1e-6, rel_tol=1e-6) and thr.val == 0


def test_face_detectors(no_legacy_nn):
    net = load_lua(demo("face-detector-new_face.net_99f7dde"), unknown_classes=True)
    features, classifier = net.modules
    assert [lua_type(m) for m in features.modules] == [
        "nn.SpatialConvolutionMM", "nn.Threshold", "nn.SpatialMaxPooling", "nn.SpatialConvolutionMM", "nn.Threshold"]
    assert [lua_type(m) for m in classifier.modules] == ["nn.Reshape", "nn.Linear", "nn.LogSoftMax"]
    c1, c2 = features.modules[0], features.modules[3]
    assert c1.weight.size() == ember.Size([8, 25]) and c2.weight.size() == ember.Size([64, 392])
    assert not {"dW", "dH", "padW", "padH"} & fields(c1)  # the old SpatialConvolutionMM layout

    net = load_lua(demo("face-detector-new_face.net_0ff0d84"), unknown_classes=True)
    assert [lua_type(m) for m in net.modules] == [
        "nn.SpatialConvolutionMM", "nn.Threshold", "nn.SpatialMaxPooling", "nn.SpatialConvolutionMM", "nn.Threshold",
        "nn.Reshape", "nn.Linear"]
    kinds = [type(x) for x in tensors_in(net)]
    assert kinds.count(ember.DoubleTensor) == 10 and kinds.count(ember.FloatTensor) == 7


def test_tracker_mixed_types(no_legacy_nn):
    net = load_lua(demo("tracker_random.net_e1624d4"), unknown_classes=True)
    assert [lua_type(m) for m in net.modules] == ["nn.SpatialConvolutionMap", "nn.Tanh", "nn.SpatialLPPooling",
                                                 "nn.SpatialConvolutionMap", "nn.Tanh", "nn.SpatialLPPooling"]
    m1, m4, lp = net.modules[0], net.modules[3], net.modules[2]
    assert type(m1.weight) is ember.FloatTensor and type(m1.connTable) is ember.DoubleTensor
    assert m1.connTable.size() == ember.Size([32, 2]) and m4.connTable.size() == ember.Size([128, 2])
    assert m1.weight.size() == ember.Size([32, 7, 7])
    assert [lua_type(m) for m in lp.modules] == ["nn.Square", "nn.SpatialSubSampling", "nn.Sqrt"]
    assert type(lp.modules[1].weight) is ember.DoubleTensor


# ---------------------------------------------------------------------------------------- ASCII files
def test_ascii_model(no_legacy_nn):
    net = load_lua(demo("face-detector_model.net_52f6ae6"), unknown_classes=True)
    features, classifier = net.modules
    assert [lua_type(m) for m in features.modules] == [
        "nn.SpatialConvolutionMM", "nn.Threshold", "nn.SpatialMaxPooling", "nn.SpatialConvolutionMM", "nn.Threshold"]
    assert [lua_type(m) for m in classifier.modules] == ["nn.Reshape", "nn.Linear", "nn.LogSoftMax"]
    c1, c2 = features.modules[0], features.modules[3]
    assert (c1.nInputPlane, c1.nOutputPlane, c1.kW, c1.kH) == (1, 16, 5, 5)
    assert (c2.nInputPlane, c2.nOutputPlane, c2.kW, c2.kH) == (16, 32, 7, 7)
    assert type(c1.weight) is ember.FloatTensor and c1.weight.size() == ember.Size([16, 25])
    assert classifier.modules[1].weight.size() == ember.Size([2, 32])
    # the weights' first values as the file prints them
    assert c1.weight.storage()[0] == np.float32(0.0684129) and c1.weight.storage()[1] == np.float32(-0.109251)


@pytest.mark.parametrize("case", ["Linear", "Tanh", "Sequential_lenet", "ClassNLLCriterion"])
def test_ascii_twins_equal_binary(case, no_legacy_nn):
    a = load_lua(t7("lua_nn_reference", case + "_ascii.t7"), unknown_classes=True)
    b = load_lua(t7("lua_nn_reference", case + ".t7"), unknown_classes=True)
    assert a["name"] == case + "_ascii" and b["name"] == case
    a["name"] = b["name"]
    assert_same_tree(a, b)


def test_format_detection_and_override():
    path = t7("lua_nn_reference", "Tanh_ascii.t7")
    with open(path, "rb") as f:
        r = T7Reader(f, unknown_classes=True)
        assert r.format == "ascii"
        r.read()
    code = struct.unpack("<i", open(path, "rb").read(4))[0]  # '3\n1\n' read as a binary int
    with pytest.raises(T7ReaderException, match="unknown type id {} at byte 0".format(code)):
        load_lua(path, format="binary")
    with pytest.raises(T7ReaderException, match="expected an integer"):
        load_lua(t7("torchfile_tests", "hello=123.t7"), format="ascii")


def test_ascii_file_of_several_objects():
    # a 2011 file holding what an old module's own write method wrote: torch.load gives the first object
    path = demo("face-detector_face.net_3b9ec52")
    first = load_lua(path)
    assert type(first) is ember.DoubleTensor and first.dim() == 0
    with open(path, "rb") as f:
        r = T7Reader(f)
        r.read()
        assert f.tell() == 71  # the file is left after what was read
        second = r.read()
        assert type(second) is ember.DoubleTensor and second.dim() == 0 and f.tell() == 142
        # then a table of modules whose 2011 classes wrote themselves in their own formats
        with pytest.raises(T7ReaderException, match="nn.SpatialNormalization is followed by a DoubleTensor"):
            r.unknown_classes = True
            r.read()


# ---------------------------------------------------------------------------------------- the two bad files
def test_file_with_unknown_class():
    path = demo("face-detector_face.net_a9a316d")
    with pytest.raises(T7ReaderException, match="Lua class nn.SpatialNormalization"):
        load_lua(path)
    # past the unknown class the 2011 ASCII layout is not Torch's: still a clean error
    with pytest.raises(T7ReaderException, match="expected an integer at byte 17184"):
        load_lua(path, unknown_classes=True)


def test_damaged_2011_binary(no_legacy_nn):
    path = demo("face-detector_face.net_cf46076")
    with pytest.raises(T7ReaderException, match="Lua class nn.Sequential"):  # without legacy.nn
        load_lua(path)
    # the structure itself is complete (the read ends exactly at the file's end) ...
    with open(path, "rb") as f:
        net = T7Reader(f, unknown_classes=True).read()
        assert f.tell() == os.path.getsize(path)
    assert [lua_type(m) for m in net.modules] == [
        "nn.SpatialNormalization", "nn.SpatialConvolution", "nn.Tanh", "nn.Abs", "nn.SpatialSubSampling", "nn.Tanh",
        "nn.SpatialConvolutionMap", "nn.Tanh", "nn.SpatialClassifier"]
    assert net.modules[1].weight.size() == ember.Size([8, 1, 5, 5])
    # ... and any cut of it is a clean end-of-file error
    data = open(path, "rb").read()
    for cut in (10, 1000, len(data) // 2, len(data) - 100, len(data) - 1):
        with pytest.raises(T7ReaderException, match="unexpected end of file"):
            load_lua(io.BytesIO(data[:cut]), unknown_classes=True)


# ---------------------------------------------------------------------------------------- every file
def _manifest():
    path = t7("lua_nn_reference", "MANIFEST.tsv")
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _shape(text):
    if not text or text.startswith("{") or "x" not in text and not text.split()[0].isdigit():
        return None
    return [int(d) for d in text.split()[0].split("x")]


def test_lua_nn_reference_corpus(no_legacy_nn):
    rows = _manifest()
    assert len(rows) == 245
    shared = 0
    for row in rows:
        rec = load_lua(t7("lua_nn_reference", row["file"]), unknown_classes=True)
        assert rec["name"] == row["file"][:-3]
        assert rec["moduleType"] == row["module"] and lua_type(rec["module"]) == row["module"]
        assert set(rec) == set(row["fields"].split(","))
        assert rec["tensorType"] == row["tensor_type"] and rec["kind"] == row["kind"]
        assert rec["seed"] == int(row["seed"])
        shape = _shape(row["input_shape"])
        if shape is not None and isinstance(rec["input"], ember._TensorBase):
            assert list(rec["input"].size()) == shape, row["file"]
            if "Float" not in row["input_shape"] and "Long" not in row["input_shape"]:
                assert rec["input"].type() == row["tensor_type"], row["file"]
        if rec["kind"] == "module" and isinstance(rec["output"], ember._TensorBase):
            # the record's output is the module's (one object, written once), or a view of its memory
            out, mod_out = rec["output"], field(rec["module"], "output")
            assert out is mod_out or out.storage() is mod_out.storage(), row["file"]
            shared += out is mod_out
    assert shared > 150


def test_every_listed_file_loads(no_legacy_nn):
    bad = {"face-detector_face.net_a9a316d"}
    names = sorted(glob.glob(t7("*", "*")))
    assert len(names) > 270
    for path in names:
        if path.endswith((".md", ".tsv")) or os.path.basename(path) in bad:
            continue
        load_lua(path, unknown_classes=True)


# ---------------------------------------------------------------------------------------- the oracle
def assert_same_tree(a, b, seen=None):
    """ember's value ``a`` equals ``b``, another reader's value (ember's or torchfile's)."""
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:
        return
    seen.add((id(a), id(b)))
    if isinstance(a, ember._TensorBase):
        ref = b.numpy() if isinstance(b, ember._TensorBase) else np.asarray(b)
        if a.dim() == 0:
            assert ref.size == 0
            return
        assert tuple(a.size()) == ref.shape
        np.testing.assert_array_equal(a.numpy(), ref)
    elif isinstance(a, ember._StorageBase):
        ref = b.tolist() if isinstance(b, ember._StorageBase) else np.asarray(b).tolist()
        np.testing.assert_array_equal(np.array(a.tolist()), np.array(ref))
    elif isinstance(a, TorchObject):
        tn = b.torch_typename()
        assert a.torch_typename() == (tn.decode() if isinstance(tn, bytes) else tn)
        assert_same_tree(a._obj, b._obj, seen)
    elif isinstance(a, dict):
        if isinstance(b, list):
            b = dict(enumerate(b, 1))
        assert isinstance(b, dict) and len(a) == len(b)
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):  # both readers keep the file's order
            assert_same_tree(ka, kb, seen)
            assert_same_tree(va, vb, seen)
    elif isinstance(a, list):
        if isinstance(b, dict):
            b = [b[i] for i in range(1, len(b) + 1)]
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_tree(x, y, seen)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b and type(a) is type(b), (a, b)


def test_against_torchfile(no_legacy_nn):
    torchfile = pytest.importorskip("torchfile", reason="the independent reader `torchfile` is not installed")
    skip = {"function.t7", "function_upvals.t7",  # torchfile's LuaFunction is a different type
            "face-detector_face.net_cf46076"}  # torchfile trips on its empty storages
    names = [p for p in sorted(glob.glob(t7("*", "*")))
             if not p.endswith((".md", ".tsv")) and os.path.basename(p) not in skip]
    checked = 0
    for path in names:
        with open(path, "rb") as f:
            if f.read(1).isdigit():  # ASCII: torchfile reads binary files only
                continue
        ours = load_lua(path, unknown_classes=True)
        theirs = torchfile.load(path, use_list_heuristic=False, utf8_decode_strings=True)
        assert_same_tree(ours, theirs)
        checked += 1
    assert checked > 250


# ---------------------------------------------------------------------------------------- the nn hook
def test_nn_classes_come_from_legacy_nn(monkeypatch):
    calls = []

    class Linear(object):
        def _from_lua(self, version):
            calls.append((self, version))
            self.converted = True

    class Identity(object):
        pass  # no hook

    class Sequential(object):  # a class legacy.nn imported from elsewhere: not one of its own
        pass

    Linear.__module__ = "ember.legacy.nn.linear"
    Identity.__module__ = "ember.legacy.nn"
    fake = types.ModuleType("ember.legacy.nn")
    fake.Linear, fake.Identity, fake.Sequential = Linear, Identity, Sequential
    fake.helper = lambda: None  # not a class: nn.helper stays unknown
    monkeypatch.setitem(sys.modules, "ember.legacy.nn", fake)
    rec = load_lua(t7("lua_nn_reference", "Linear.t7"))
    m = rec["module"]
    assert type(m) is Linear and calls == [(m, 1)] and m.converted
    assert m.weight.size() == ember.Size([4, 5]) and rec["gradWeight"] is m.gradWeight
    assert rec["params"]["weight"].size() == ember.Size([4, 5])

    def boom(self, version):
        raise ValueError("bad field")
    Linear._from_lua = boom
    with pytest.raises(T7ReaderException, match="nn.Linear \\(version 1\\): ValueError: bad field"):
        load_lua(t7("lua_nn_reference", "Linear.t7"))
    with pytest.raises(T7ReaderException, match="Lua class nn.Sequential"):
        load_lua(t7("lua_nn_reference", "Sequential_lenet.t7"))
    for name in ("nn.__class__", "nn.helper", "nn._private"):
        data = _bin(("i", 4), ("i", 1), _s("V 1"), _s(name), ("i", 3), ("i", 2), ("i", 0))
        with pytest.raises(T7ReaderException, match="Lua class " + name):
            load_lua(io.BytesIO(data))


# ---------------------------------------------------------------------------------------- API and options
def _bin(*items):
    """Binary .t7 bytes from ('i', v) / ('q', v) / ('d', v) / (bytes) items."""
    out = b""
    for it in items:
        out += it if isinstance(it, bytes) else struct.pack("<" + it[0], it[1])
    return out


def _s(text):
    b = text.encode()
    return _bin(("i", len(b))) + b


def _long_tensor(long_fmt):
    return _bin(("i", 4), ("i", 1), _s("V 1"), _s("torch.LongTensor"), ("i", 1), (long_fmt, 3), (long_fmt, 1),
                (long_fmt, 1), ("i", 4), ("i", 2), _s("V 1"), _s("torch.LongStorage"), (long_fmt, 3),
                (long_fmt, 7), (long_fmt, -8), (long_fmt, 2 ** 31 - 1 if long_fmt == "i" else 2 ** 40))


def test_long_size():
    x = load_lua(io.BytesIO(_long_tensor("i")), long_size=4)
    assert type(x) is ember.LongTensor and x.tolist() == [7, -8, 2 ** 31 - 1]
    assert load_lua(io.BytesIO(_long_tensor("q"))).tolist() == [7, -8, 2 ** 40]
    assert load_lua(io.BytesIO(_long_tensor("q")), long_size=8).tolist() == [7, -8, 2 ** 40]
    with pytest.raises(ValueError, match="long_size must be None, 4 or 8, got 5"):
        T7Reader(io.BytesIO(b""), long_size=5)
    with pytest.raises(ValueError, match="format must be 'binary', 'ascii' or None, got 'xml'"):
        T7Reader(io.BytesIO(b""), format="xml")


def test_cuda_names_load_to_cpu():
    data = _bin(("i", 4), ("i", 1), _s("V 1"), _s("torch.CudaTensor"), ("i", 1), ("q", 2), ("q", 1), ("q", 1),
                ("i", 4), ("i", 2), _s("V 1"), _s("torch.CudaStorage"), ("q", 2), ("f", 1.5), ("f", -2.0))
    x = load_lua(io.BytesIO(data))
    assert type(x) is ember.FloatTensor and x.tolist() == [1.5, -2.0]
    data = data.replace(_s("torch.CudaTensor"), _s("torch.CudaDoubleTensor"))
    with pytest.raises(T7ReaderException, match="torch.CudaDoubleTensor at byte 69: its storage is a "
                                                "torch.FloatStorage, expected a torch.DoubleStorage"):
        load_lua(io.BytesIO(data))


def test_primitive_readers():
    data = _bin(("i", 1), ("i", 0), ("q", -5), ("q", 1), ("q", 2), ("f", 0.5), ("d", 2.0), ("d", 2.5),
                _s("héllo"), ("i", 2), b"\xff\xfe", ("d", 7.0))
    r = T7Reader(io.BytesIO(data))
    assert r.read_boolean() is True and r.read_boolean() is False
    assert r.read_long() == -5 and r.read_long_array(2) == [1, 2]
    assert r.read_float() == 0.5 and r.read_number() == 2 and type(r.read_double()) is float
    assert r.read_string() == "héllo" and r.read_string() == b"\xff\xfe"  # not UTF-8: bytes
    assert r.read_number() == 7
    with pytest.raises(T7ReaderException, match="unexpected end of file"):
        r.read_int()


def test_read_table_object_function_after_type_code():
    table = _bin(("i", 3), ("i", 1), ("i", 1), ("i", 2), _s("k"), ("i", 5), ("i", 1))
    r = T7Reader(io.BytesIO(table))
    assert r.read_int() == 3
    assert dict(r.read_table()) == {"k": True}
    obj = _bin(("i", 4), ("i", 1), _s("V 1"), _s("torch.ByteStorage"), ("q", 2), b"\x01\x02")
    r = T7Reader(io.BytesIO(obj))
    assert r.read_int() == 4 and r.read_object().tolist() == [1, 2]
    func = _bin(("i", 8), ("i", 1), ("i", 3), b"abc", ("i", 0))
    r = T7Reader(io.BytesIO(func))
    assert r.read_int() == 8
    f = r.read_function()
    assert f.dumped == b"abc" and f.upvalues is None
    old = _bin(("i", 6), ("i", 2), b"xy", ("i", 3), ("i", 1), ("i", 0))  # TYPE_FUNCTION: no object index
    f = load_lua(io.BytesIO(old))
    assert f.dumped == b"xy" and f.upvalues == [] and f.kind == 6


def test_empty_tables_and_keys():
    empty = _bin(("i", 3), ("i", 1), ("i", 0))
    assert load_lua(io.BytesIO(empty)) == []  # as in 0.2
    assert load_lua(io.BytesIO(empty), list_heuristic=False) == {}
    # {[{1, 2}] = 'x'}: a table used as a key stays a (hashable) dict
    key = _bin(("i", 3), ("i", 2), ("i", 2), ("i", 1), ("d", 1), ("i", 1), ("d", 5), ("i", 1), ("d", 2), ("i", 1),
               ("d", 6))
    t = load_lua(io.BytesIO(_bin(("i", 3), ("i", 1), ("i", 1)) + key + _bin(("i", 2)) + _s("x")))
    (k, v), = t.items()
    assert dict(k) == {1: 5, 2: 6} and v == "x"


def test_text_file_rejected(tmp_path):
    p = tmp_path / "x.t7"
    p.write_bytes(b"3\n1\n0\n")
    with open(p) as f:
        with pytest.raises(TypeError, match="binary mode"):
            T7Reader(f)


def test_core_forwarder(monkeypatch):
    from ember.utils import serialization
    assert serialization.load_lua(t7("torchfile_tests", "list_table.t7")) == ["hello", "world", "third item", 123]
    assert serialization.T7Reader is T7Reader and serialization.T7ReaderException is T7ReaderException
    monkeypatch.setitem(sys.modules, "ember.legacy", None)
    monkeypatch.setitem(sys.modules, "ember.legacy.serialization", None)
    with pytest.raises(ImportError, match="pip install ember-legacy"):
        serialization.load_lua(t7("torchfile_tests", "list_table.t7"))
    with pytest.raises(ImportError, match="pip install ember-legacy"):
        serialization.T7Reader
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        serialization.nothing


# ---------------------------------------------------------------------------------------- hostile input
def _assert_small_failure(data, match, **kwargs):
    """Fails with T7ReaderException without allocating much."""
    tracemalloc.start()
    try:
        with pytest.raises(T7ReaderException, match=match):
            load_lua(io.BytesIO(data), **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


def test_huge_lengths_fail_fast():
    _assert_small_failure(_bin(("i", 2), ("i", 2 ** 31 - 1)) + b"abc", "a string needs 2147483647 bytes, 3 left")
    _assert_small_failure(_bin(("i", 2), ("i", -7)), "negative string length -7")
    _assert_small_failure(_bin(("i", 3), ("i", 1), ("i", 2 ** 31 - 1)), "table of 2147483647 entries")
    _assert_small_failure(_bin(("i", 3), ("i", 1), ("i", -1)), "negative length -1")
    storage = _bin(("i", 4), ("i", 1), _s("V 1"), _s("torch.DoubleStorage"), ("q", 2 ** 60))
    _assert_small_failure(storage, "DoubleStorage of 1152921504606846976 elements")
    _assert_small_failure(storage.replace(_bin(("q", 2 ** 60)), _bin(("q", -3))), "negative size -3")
    tensor = _bin(("i", 4), ("i", 1), _s("V 1"), _s("torch.FloatTensor"), ("i", 2 ** 30))
    _assert_small_failure(tensor, "FloatTensor with 1073741824 dimensions")
    tds = _bin(("i", 4), ("i", 1), _s("V 0"), _s("tds.Vec"), ("q", 2 ** 40))
    _assert_small_failure(tds, "tds.Vec of 1099511627776 elements")
    ascii_storage = b"4\n1\n3\nV 1\n18\ntorch.FloatStorage\n99999999999\n1 2 3\n"
    _assert_small_failure(ascii_storage, "99999999999 torch.FloatStorage values can't fit in the 6 bytes left")


def test_bad_tags_and_layouts():
    with pytest.raises(T7ReaderException, match="unknown type id 99 at byte 0"):
        load_lua(io.BytesIO(_bin(("i", 99))))
    with pytest.raises(T7ReaderException, match="unknown type id -1 at byte 12"):
        load_lua(io.BytesIO(_bin(("i", 3), ("i", 1), ("i", 1), ("i", -1), ("i", 0))))
    with pytest.raises(T7ReaderException, match="nil key"):
        load_lua(io.BytesIO(_bin(("i", 3), ("i", 1), ("i", 1), ("i", 0), ("i", 0))))
    with pytest.raises(T7ReaderException, match="unexpected end of file at byte 0"):
        load_lua(io.BytesIO(b""))

    def tensor(size, stride, offset, n):
        return _bin(("i", 4), ("i", 1), _s("V 1"), _s("torch.DoubleTensor"), ("i", len(size)),
                    *[("q", s) for s in size], *[("q", s) for s in stride], ("q", offset), ("i", 4), ("i", 2),
                    _s("V 1"), _s("torch.DoubleStorage"), ("q", n), b"\0" * 8 * n)
    assert load_lua(io.BytesIO(tensor([2, 3], [3, 1], 1, 6))).size() == ember.Size([2, 3])
    with pytest.raises(T7ReaderException, match="need 7 elements but its storage has 6"):
        load_lua(io.BytesIO(tensor([2, 3], [3, 1], 2, 6)))
    with pytest.raises(T7ReaderException, match="negative size"):
        load_lua(io.BytesIO(tensor([2, -3], [3, 1], 1, 6)))
    with pytest.raises(T7ReaderException, match="negative size"):
        load_lua(io.BytesIO(tensor([2, 3], [-3, 1], 1, 6)))
    with pytest.raises(T7ReaderException, match="can't view its storage"):
        load_lua(io.BytesIO(tensor([2 ** 40, 2 ** 40, 2 ** 40], [0, 0, 0], 1, 1)))
    expanded = load_lua(io.BytesIO(tensor([4, 3], [0, 1], 1, 3)))  # stride 0 as torch's expand writes it
    assert expanded.size() == ember.Size([4, 3]) and expanded.stride() == (0, 1)
    not_storage = _bin(("i", 4), ("i", 1), _s("V 1"), _s("torch.FloatTensor"), ("i", 1), ("q", 1), ("q", 1),
                       ("q", 1), ("i", 1), ("d", 3))
    with pytest.raises(T7ReaderException, match="its storage is a int, expected a torch.FloatStorage"):
        load_lua(io.BytesIO(not_storage))
    no_fields = _bin(("i", 4), ("i", 1), _s("V 1"), _s("A"), ("i", 1), ("d", 3))
    with pytest.raises(T7ReaderException, match="class A is followed by a int instead of its table of fields"):
        load_lua(io.BytesIO(no_fields), unknown_classes=True)
    binary_name = _bin(("i", 4), ("i", 1), ("i", 2), b"\xff\xfe")
    with pytest.raises(T7ReaderException, match="class name is not text"):
        load_lua(io.BytesIO(binary_name))


def test_deep_nesting():
    def nested(depth):
        # {[1] = {[1] = ... {} }} : each level is table, index, size 1, key 1
        level = [_bin(("i", 3), ("i", i + 1), ("i", 1), ("i", 1), ("d", 1)) for i in range(depth)]
        return b"".join(level) + _bin(("i", 3), ("i", depth + 1), ("i", 0))
    t = load_lua(io.BytesIO(nested(5000)))  # far beyond Python's recursion limit: the reader is iterative
    for _ in range(5000):
        t = t[0]
    assert t == []
    with pytest.raises(T7ReaderException, match="nested deeper than 10000 levels"):
        load_lua(io.BytesIO(nested(20000)))


def test_reference_loops():
    # a table whose only value is itself, and an object referring to itself through its fields
    t = load_lua(io.BytesIO(_bin(("i", 3), ("i", 1), ("i", 1), ("i", 1), ("d", 1), ("i", 3), ("i", 1))))
    assert t[1] is t  # stays a dict: a list can't hold itself before it exists
    # an index referring forward to an object never defined reads a new object there, as Lua does
    forward = _bin(("i", 3), ("i", 1), ("i", 1), ("i", 1), ("d", 1), ("i", 3), ("i", 7), ("i", 0))
    assert load_lua(io.BytesIO(forward)) == [[]]
