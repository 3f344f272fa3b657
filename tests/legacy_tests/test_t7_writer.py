"""Writing .t7 files (save_lua / T7Writer, an ember extra): byte-for-byte what Lua Torch7 wrote for the real
files in shared/data/t7 (built from scratch and re-written after reading), and round trips of every value
the format holds, binary and ASCII."""
import glob
import io
import math
import os
import struct
import sys

import numpy as np
import pytest

import ember
from ember.legacy.serialization import (LuaFunction, T7Reader, T7Writer, TdsHash, TdsVec, TorchObject,
                                        hashable_uniq_dict, load_lua, save_lua)

from _helpers.data import shared_data

FORMATS = ["binary", "ascii"]


def t7(*parts):
    return shared_data("t7", *parts)


def raw(*parts):
    with open(t7(*parts), "rb") as f:
        return f.read()


def dumps(obj, **kwargs):
    buf = io.BytesIO()
    save_lua(buf, obj, **kwargs)
    return buf.getvalue()


def roundtrip(obj, format="binary", **read_kwargs):
    return load_lua(io.BytesIO(dumps(obj, format=format)), **read_kwargs)


@pytest.fixture
def no_legacy_nn(monkeypatch):
    monkeypatch.setitem(sys.modules, "ember.legacy.nn", None)


# ---------------------------------------------------------------------------------------- Lua's bytes
def test_tables_as_lua_wrote_them():
    assert dumps({"hello": 123}) == raw("torchfile_tests", "hello=123.t7")
    assert dumps(["hello", "world", "third item", 123]) == raw("torchfile_tests", "list_table.t7")
    t = hashable_uniq_dict()
    t[t] = t
    assert dumps(t) == raw("torchfile_tests", "recursive_kv_table.t7")


def test_tensors_as_lua_wrote_them():
    assert dumps(ember.DoubleTensor([[1, 2, 3], [4, 5, 6.9]])) == raw("torchfile_tests", "doubletensor.t7")
    data = raw("torchfile_tests", "floattensor.t7")
    values = np.frombuffer(data[-96:], "<f4").reshape(2, 3, 4)  # NumPy's decode of the file's storage
    assert dumps(ember.from_numpy(values.copy())) == data


def test_objects_as_lua_wrote_them():
    assert dumps(TorchObject("Blah", {})) == raw("torchfile_tests", "custom_class.t7")
    a = TorchObject("A", {})
    a._obj["a"] = a
    assert dumps(a) == raw("torchfile_tests", "recursive_class.t7")
    assert dumps(TdsVec([123, 456])) == raw("torchfile_tests", "tds_vec.t7")
    h = TdsHash()
    h[2], h[10], h[1] = 3, 11, 2  # Lua's iteration order in the file
    assert dumps(h) == raw("torchfile_tests", "tds_hash.t7")


# Files whose bytes can't be reproduced: a 2011 empty tensor that kept an empty storage (ember writes nil, as
# Lua does for torch.DoubleTensor()), and a 2014 ASCII file printed with "%g" (Torch now prints "%.9g").
NOT_REPRODUCIBLE = {"face-detector_face.net_3b9ec52", "face-detector_model.net_52f6ae6",
                    "face-detector_face.net_a9a316d"}  # the last one can't be read at all


def _files():
    return [p for p in sorted(glob.glob(t7("*", "*"))) if not p.endswith((".md", ".tsv"))]


def test_every_real_file_rewrites_to_its_bytes(no_legacy_nn):
    count = 0
    for path in _files():
        if os.path.basename(path) in NOT_REPRODUCIBLE:
            continue
        data = open(path, "rb").read()
        r = T7Reader(io.BytesIO(data), unknown_classes=True)
        obj = r.read()
        buf = io.BytesIO()
        T7Writer(buf, format=r.format).write(obj)
        # indices, version strings, key order, shared objects and numbers all as Lua wrote them
        assert buf.getvalue() == data, path
        count += 1
    assert count > 270


def test_old_ascii_model_rewrites_to_equal_content(no_legacy_nn):
    path = t7("torch_demos", "face-detector_model.net_52f6ae6")
    first = load_lua(path, unknown_classes=True)
    again = load_lua(io.BytesIO(dumps(first, format="ascii")), unknown_classes=True)
    w1 = first.modules[0].modules[0].weight
    w2 = again.modules[0].modules[0].weight
    assert type(w2) is ember.FloatTensor
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())
    assert dumps(again, format="ascii") == dumps(first, format="ascii")


# ---------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", FORMATS)
def test_scalars(fmt):
    values = [None, True, False, 0, -1, 7, 2 ** 53, -(2 ** 53), 0.1, -2.5, 1e-300, 5e-324, 1.5e-7,
              float("inf"), float("-inf"), "", "text", "héllo ✓\n", b"\xff\x00\n raw"]
    for v in values:
        assert roundtrip(v, fmt) == v and type(roundtrip(v, fmt)) is type(v), v
    assert math.isnan(roundtrip(float("nan"), fmt))
    neg_zero = roundtrip(-0.0, fmt, int_heuristic=False)
    assert neg_zero == 0 and math.copysign(1, neg_zero) == -1
    assert roundtrip(3.0, fmt) == 3 and type(roundtrip(3.0, fmt)) is int  # int_heuristic, as 0.2
    assert roundtrip(1e300, fmt) == int(1e300)  # every integral value, however large, as 0.2
    assert roundtrip(np.float32(1.5), fmt) == 1.5 and roundtrip(np.int64(-4), fmt) == -4
    assert roundtrip(np.bool_(True), fmt) is True


@pytest.mark.parametrize("fmt", FORMATS)
def test_tables(fmt):
    obj = {"a": [1, 2.5, "x", [True, False]], "b": {1: "one", 3: "three"}, 7: {"nested": {"deep": [[]]}},
           "t": (4, 5), "none": None}
    back = roundtrip(obj, fmt)
    assert back == {"a": [1, 2.5, "x", [True, False]], "b": {1: "one", 3: "three"}, 7: {"nested": {"deep": [[]]}},
                    "t": [4, 5], "none": None}
    assert list(back) == ["a", "b", 7, "t", "none"]  # key order kept
    assert isinstance(back, hashable_uniq_dict)


@pytest.mark.parametrize("fmt", FORMATS)
def test_cycles_and_sharing(fmt):
    d = {"name": "loop"}
    d["self"] = d
    shared = [1, 2]
    lst = []
    lst.append(lst)
    back = roundtrip({"d": d, "s1": shared, "s2": shared, "lst": lst}, fmt)
    assert back["d"]["self"] is back["d"] and back["d"]["name"] == "loop"
    assert back["s1"] is back["s2"] and back["s1"] == [1, 2]
    assert back["lst"][1] is back["lst"]  # a list holding itself reads back as a dict (keeps the cycle)
    key = hashable_uniq_dict(k=1)
    back = roundtrip({key: "v", "again": key}, fmt)
    (k, v), (_, again) = back.items()
    assert dict(k) == {"k": 1} and v == "v" and again is k


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("cls", [ember.DoubleTensor, ember.FloatTensor, ember.HalfTensor, ember.LongTensor,
                                 ember.IntTensor, ember.ShortTensor, ember.CharTensor, ember.ByteTensor])
def test_every_tensor_type(cls, fmt):
    rng = np.random.RandomState(0)
    dtype = cls._dtype
    if dtype.kind == "f":
        a = rng.randn(3, 4).astype(dtype)
        a[0, :3] = [np.inf, -np.inf, np.finfo(dtype).tiny]
        a[1, :2] = [np.finfo(dtype).max, -0.0]
    else:
        info = np.iinfo(dtype)
        a = rng.randint(info.min, info.max, size=(3, 4), dtype=dtype)
        a[0, :2] = [info.min, info.max]
    x = ember.from_numpy(a)
    back = roundtrip({"x": x, "s": x.storage()}, fmt)
    assert type(back["x"]) is cls and type(back["s"]) is cls._storage_cls
    np.testing.assert_array_equal(back["x"].numpy(), a)
    assert back["x"].storage() is back["s"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_views_share_one_storage(fmt):
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    t = ember.from_numpy(a.copy())
    views = {"t": t, "again": t, "tt": t.t(), "row": t[1], "cols": t.narrow(1, 1, 2),
             "expanded": ember.DoubleTensor([1, 2, 3]).expand(4, 3)}
    back = roundtrip(views, fmt)
    assert back["t"] is back["again"]
    storage = back["t"].storage()
    assert all(back[k].storage() is storage for k in ("tt", "row", "cols"))
    assert back["tt"].stride() == (1, 4) and back["cols"].stride() == (4, 1)
    assert back["row"].storage_offset() == 4 and back["cols"].storage_offset() == 1
    np.testing.assert_array_equal(back["tt"].numpy(), a.T)
    np.testing.assert_array_equal(back["cols"].numpy(), a[:, 1:3])
    assert back["expanded"].stride() == (0, 1) and back["expanded"].storage().size() == 3
    back["t"][1, 2] = -1.0
    assert back["tt"][2, 1] == -1.0 and back["row"][2] == -1.0 and back["cols"][1, 1] == -1.0


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_tensor_and_storage(fmt):
    back = roundtrip([ember.FloatTensor(), ember.LongStorage()], fmt)
    assert type(back[0]) is ember.FloatTensor and back[0].dim() == 0
    assert type(back[1]) is ember.LongStorage and back[1].size() == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_objects(fmt, no_legacy_nn):
    weight = ember.FloatTensor([[1, 2], [3, 4]])
    linear = TorchObject("nn.Linear", {"weight": weight, "gradWeight": weight.clone().zero_(), "train": True})
    bn = TorchObject("nn.BatchNormalization", {"eps": 1e-5, "running_var": ember.DoubleTensor([1, 2])}, version=2)
    seq = TorchObject("nn.Sequential", {"modules": [linear, bn, linear]})
    back = roundtrip({"model": seq, "w": weight}, fmt, unknown_classes=True)
    m = back["model"]
    assert m.torch_typename() == "nn.Sequential" and m._version == 1
    lin, bn2, lin2 = m.modules
    assert lin is lin2 and lin.torch_typename() == "nn.Linear" and lin.weight is back["w"]
    assert bn2.torch_typename() == "nn.BatchNormalization" and bn2._version == 2 and bn2.eps == 1e-5
    assert lin.weight.tolist() == [[1, 2], [3, 4]] and lin.train is True
    empty = roundtrip(TorchObject("Blah", []), fmt, unknown_classes=True)  # a 0.2-style empty field list
    assert dict(empty._obj) == {}


@pytest.mark.parametrize("fmt", FORMATS)
def test_tds_and_functions(fmt):
    h = TdsHash()
    h["k"], h[3] = TdsVec([1, "two"]), 4.5
    back = roundtrip(h, fmt)
    assert isinstance(back, TdsHash) and isinstance(back["k"], TdsVec) and back["k"] == [1, "two"] and back[3] == 4.5
    funcs = [LuaFunction(3, b"\x1bLJ", [{"name": "up", "value": 1}]), LuaFunction(2, b"ab", [5], kind=7),
             LuaFunction(1, b"c", [], kind=6)]
    funcs.append(funcs[0])
    back = roundtrip(funcs, fmt)
    assert [(f.dumped, f.upvalues, f.kind) for f in back[:3]] == [
        (b"\x1bLJ", [{"name": "up", "value": 1}], 8), (b"ab", [5], 7), (b"c", [], 6)]
    assert back[3] is back[0]
    for real in ("function.t7", "function_upvals.t7"):
        f = load_lua(t7("torchfile_tests", real))
        assert dumps(f) == raw("torchfile_tests", real)


def test_several_objects_in_one_file():
    buf = io.BytesIO()
    w = T7Writer(buf)
    t = ember.IntTensor([1, 2])
    w.write(t)
    w.write("between")
    w.write(t)  # a reference to the first: indices run across the file, as in a Lua DiskFile
    buf.seek(0)
    r = T7Reader(buf)
    first = r.read()
    assert r.read() == "between" and r.read() is first and first.tolist() == [1, 2]


def test_long_size_4():
    x = ember.LongTensor([[1, -2], [2 ** 31 - 1, -(2 ** 31)]])
    data = dumps(x, long_size=4)
    assert len(data) == len(dumps(x)) - 4 * (2 + 2 + 1 + 1 + 4)  # sizes, strides, offset, storage size, data
    assert load_lua(io.BytesIO(data), long_size=4).tolist() == x.tolist()


def test_save_to_path(tmp_path):
    p = tmp_path / "model.t7"
    save_lua(str(p), {"w": ember.DoubleTensor([1.5])})
    assert load_lua(str(p))["w"].tolist() == [1.5]
    save_lua(p, [1], format="ascii")  # os.PathLike; replaces the old file
    assert p.read_bytes() == b"3\n1\n1\n1\n1\n1\n1\n"
    assert load_lua(str(p)) == [1]


def test_failed_save_keeps_old_file(tmp_path):
    p = tmp_path / "model.t7"
    save_lua(str(p), "old")
    before = p.read_bytes()
    with pytest.raises(TypeError, match="can't write an object of type set"):
        save_lua(str(p), {"bad": {1, 2}})
    assert p.read_bytes() == before and os.listdir(tmp_path) == ["model.t7"]


# ---------------------------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(TypeError, match="can't write an object of type object"):
        dumps([object()])
    with pytest.raises(TypeError, match="can't write an object of type ndarray"):
        dumps(np.zeros(3))
    with pytest.raises(ValueError, match="integer 9007199254740993 can't be stored exactly"):
        dumps(2 ** 53 + 1)
    with pytest.raises(ValueError, match="can't be stored exactly"):
        dumps(10 ** 400)
    assert dumps(2 ** 60) == dumps(float(2 ** 60))  # exactly representable: fine
    with pytest.raises(ValueError, match="format must be 'binary' or 'ascii', got 'xml'"):
        dumps(1, format="xml")
    with pytest.raises(ValueError, match="long_size must be 4 or 8, got 3"):
        dumps(1, long_size=3)
    with pytest.raises(TypeError, match="expected a path or a writable binary file object, got int"):
        save_lua(3, 1)


def test_unwritable_field_is_skipped_with_warning(no_legacy_nn):
    obj = TorchObject("nn.Thing", {"ok": 1, "bad": {1, 2}})
    with pytest.warns(UserWarning, match="cannot write object field <bad> of <nn.Thing>"):
        data = dumps(obj)
    assert dict(load_lua(io.BytesIO(data), unknown_classes=True)._obj) == {"ok": 1}


def test_legacy_nn_objects(monkeypatch):
    import types
    fake = types.ModuleType("ember.legacy.nn")

    class Linear(object):
        _lua_version = 3

        def _from_lua(self, version):
            self.read_version = version

    Linear.__module__ = "ember.legacy.nn"

    class Tanh(object):
        def _to_lua(self):
            return {"output": self.output}

    Tanh.__module__ = "ember.legacy.nn.activation"
    fake.Linear, fake.Tanh = Linear, Tanh
    monkeypatch.setitem(sys.modules, "ember.legacy.nn", fake)
    lin = Linear()
    lin.weight = ember.DoubleTensor([[1, 2]])
    tanh = Tanh()
    tanh.output, tanh.scratch = ember.DoubleTensor([0.5]), "not written"
    back = roundtrip([lin, tanh])
    assert type(back[0]) is Linear and back[0].read_version == 3 and back[0].weight.tolist() == [[1, 2]]
    assert type(back[1]) is Tanh and vars(back[1]) == {"output": back[1].output} and back[1].output.tolist() == [0.5]
    data = dumps(lin)
    assert struct.pack("<i", 3) + b"V 3" in data and b"nn.Linear" in data


@pytest.mark.gpu
def test_cuda_tensors_are_written_as_cpu_types():
    x = ember.cuda.FloatTensor([1, 2, 3])
    back = roundtrip({"x": x})
    assert type(back["x"]) is ember.FloatTensor and back["x"].tolist() == [1, 2, 3]
