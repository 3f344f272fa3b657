"""ember.save / ember.load: PyTorch 0.2's legacy format (written and read), PyTorch's zip format (read), and
parity with PyTorch 2.13 both ways."""
import collections
import io
import os
import pathlib
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time
import types
import zipfile

import numpy as np
import pytest

import ember
from _helpers.oracle import assert_same, require_torch

TYPES = [ember.DoubleTensor, ember.FloatTensor, ember.HalfTensor, ember.LongTensor, ember.IntTensor,
         ember.ShortTensor, ember.CharTensor, ember.ByteTensor]
MAGIC = 0x1950a86a20f9469cfc6c
pytestmark = pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kwargs)


def sample(cls, shape=(3, 4)):
    n = int(np.prod(shape))
    vals = np.arange(n) * (7 if cls._dtype.kind != "f" else 0.75) - 5
    return cls(np.asarray(vals, dtype=cls._dtype).reshape(shape))


# ------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_roundtrip_every_type_contiguous_and_strided(cls):
    x = sample(cls)
    views = {"x": x, "t": x.t(), "narrow": x.narrow(1, 1, 2), "row": x[2], "col": x.select(1, 3)}
    r = roundtrip(views)
    for k, v in views.items():
        got = r[k]
        assert type(got) is cls
        assert got.size() == v.size() and got.stride() == v.stride(), k
        assert got.storage_offset() == v.storage_offset(), k
        np.testing.assert_array_equal(got.numpy(), v.numpy())
    assert not r["t"].is_contiguous()
    # every view shares the one loaded storage
    r["x"].fill_(1)
    for k in views:
        assert (r[k].numpy() == 1).all(), k


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_roundtrip_storages(cls):
    s = cls._storage_cls(list(range(5)))
    r = roundtrip({"s": s, "empty": cls._storage_cls()})
    assert type(r["s"]) is cls._storage_cls and r["s"].tolist() == s.tolist()
    assert r["empty"].size() == 0


def test_views_share_one_storage_after_loading():
    x = ember.FloatTensor(4, 5).fill_(0)
    root = x.storage()
    sview = ember.FloatStorage(root, 3, 6)  # a storage view: saved through view_metadata
    on_view = ember.FloatTensor().set_(sview, 1, (2, 2), (2, 1))
    r = roundtrip([x, sview, on_view, x[1:3], sview])
    rx, rview, ron_view, rslice, rview2 = r
    assert rview is rview2  # the same view key gives the same storage object
    assert rview.size() == 6 and ron_view.storage_offset() == 1 and ron_view.size() == (2, 2)
    rx.view(-1).copy_(ember.FloatTensor(np.arange(20, dtype=np.float32)))
    assert rview.tolist() == list(range(3, 9))
    np.testing.assert_array_equal(ron_view.numpy(), [[4, 5], [6, 7]])
    np.testing.assert_array_equal(rslice.numpy(), np.arange(5, 15).reshape(2, 5))
    assert np.shares_memory(rx.numpy(), ron_view.numpy())


def test_tensors_sharing_memory_are_written_once():
    x = ember.FloatTensor(1000).fill_(1)
    one = io.BytesIO()
    ember.save([x], one)
    many = io.BytesIO()
    ember.save([x, x[10:20], x.view(10, 100), x.view(10, 100).t()], many)
    assert len(many.getvalue()) - len(one.getvalue()) < 400  # no second copy of the 4000 data bytes


def test_empty_tensors_and_zero_size():
    r = roundtrip({"e": ember.FloatTensor(), "l": ember.LongTensor(0)})
    for k in ("e", "l"):
        assert r[k].dim() == 0 and r[k].size() == ember.Size([]) and r[k].numel() == 0
    assert type(r["l"]) is ember.LongTensor


def test_nested_containers_and_python_values():
    x = ember.DoubleTensor([1.5, -2])
    obj = {"list": [x, (x, {"deep": [x.long(), None]})], "od": collections.OrderedDict([("b", 1), ("a", x)]),
           "size": ember.Size([2, 3]), "set": {1, 2, "z"}, "frozen": frozenset([3]), "bytes": b"\x00\xff",
           "str": "text", "nums": (1, 2.5, complex(1, 2), True, None), "np": np.arange(3)}
    r = roundtrip(obj)
    assert r["list"][0] is r["list"][1][0]  # one object stays one object
    assert type(r["od"]) is collections.OrderedDict and list(r["od"]) == ["b", "a"]
    assert type(r["size"]) is ember.Size and r["size"] == (2, 3)
    assert r["set"] == {1, 2, "z"} and r["frozen"] == frozenset([3]) and r["bytes"] == b"\x00\xff"
    assert r["str"] == "text" and r["nums"] == (1, 2.5, complex(1, 2), True, None)
    np.testing.assert_array_equal(r["np"], np.arange(3))
    assert r["list"][1][1]["deep"][0].tolist() == [1, -2]


def test_shared_memory_and_file_backed_storages(tmp_path):
    s = ember.FloatStorage([1, 2, 3]).share_memory_()
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.float32([4, 5]).tobytes())
    m = ember.FloatStorage.from_file(str(raw), True, 2)
    r = roundtrip([s, ember.FloatTensor(s)[1:], m])
    assert r[0].tolist() == [1, 2, 3] and r[1].tolist() == [2, 3] and r[2].tolist() == [4, 5]
    assert not r[0].is_shared()  # loaded data lives in ordinary memory
    r[0][1] = 20
    assert r[1][0] == 20


def test_tensor_on_foreign_strided_memory():
    # from_numpy of a strided view of a bytearray: its memory isn't one storage, so it is saved as a copy
    raw = bytearray(np.arange(12, dtype=np.float32).tobytes())
    a = np.ndarray((3, 2), np.float32, buffer=raw, strides=(16, 8))
    r = roundtrip(ember.from_numpy(a))
    np.testing.assert_array_equal(r.numpy(), a)


def test_paths_and_file_objects(tmp_path):
    x = sample(ember.FloatTensor)
    p = tmp_path / "a.pt"
    ember.save(x, str(p))
    assert ember.load(str(p)).tolist() == x.tolist()
    ember.save(x * 2, p)  # os.PathLike
    assert ember.load(pathlib.Path(p)).tolist() == (x * 2).tolist()
    with open(p, "wb") as f:
        ember.save(x * 3, f)
    with open(p, "rb") as f:
        assert ember.load(f).tolist() == (x * 3).tolist()


def test_unseekable_streams_and_positions():
    class Writer(object):  # write() only: a pipe or socket
        def __init__(self):
            self.parts = []

        def write(self, b):
            self.parts.append(bytes(b))
            return len(b)

    class Reader(object):  # read() only
        def __init__(self, data):
            self.f = io.BytesIO(data)

        def read(self, n=-1):
            return self.f.read(n)

    x = sample(ember.IntTensor)
    w = Writer()
    ember.save({"x": x}, w)
    data = b"".join(w.parts)
    assert ember.load(Reader(data))["x"].tolist() == x.tolist()
    # two objects back to back in one stream, read from the position each load leaves
    buf = io.BytesIO()
    buf.write(b"prefix")
    ember.save(x, buf)
    ember.save([x, 7], buf)
    buf.seek(6)
    assert ember.load(buf).tolist() == x.tolist()
    second = ember.load(buf)
    assert second[0].tolist() == x.tolist() and second[1] == 7


def test_text_mode_and_bad_targets(tmp_path):
    with open(tmp_path / "t.txt", "w") as f:
        with pytest.raises(TypeError, match="binary mode"):
            ember.save(ember.FloatTensor(1), f)
    with pytest.raises(TypeError, match="f must be a path or a writable"):
        ember.save(ember.FloatTensor(1), 3)
    with pytest.raises(TypeError, match="f must be a path or a readable"):
        ember.load(3)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ember.save(ember.FloatTensor(1), tmp_path / "no_dir" / "x.pt")


@pytest.mark.parametrize("protocol", [1, 2, 3, 4, 5])
def test_pickle_protocol(protocol):
    buf = io.BytesIO()
    x = sample(ember.ShortTensor)
    ember.save({"x": x, "v": x.t(), "s": ember.Size([1])}, buf, pickle_protocol=protocol)
    data = buf.getvalue()
    assert data.startswith(b"\x80" + bytes([max(protocol, 2)])) or protocol == 1
    r = ember.load(io.BytesIO(data))
    assert r["x"].tolist() == x.tolist() and r["v"].tolist() == x.t().tolist() and r["s"] == (1,)


@pytest.mark.parametrize("protocol", [0, 6, "2"])
def test_bad_pickle_protocol(protocol):
    with pytest.raises(ValueError, match="pickle_protocol must be an int from 1 to"):
        ember.save(ember.FloatTensor(1), io.BytesIO(), pickle_protocol=protocol)


def test_custom_pickle_module():
    calls = []

    def dump(obj, f, protocol=2):
        calls.append(type(obj).__name__)
        pickle.dump(obj, f, protocol=protocol)

    mod = types.SimpleNamespace(dump=dump, Pickler=pickle.Pickler, Unpickler=pickle.Unpickler)
    buf = io.BytesIO()
    x = sample(ember.FloatTensor)
    ember.save({"x": x}, buf, pickle_module=mod)
    assert calls == ["int", "int", "dict", "list"]  # magic, protocol version, sys_info, storage keys
    buf.seek(0)
    assert ember.load(buf, pickle_module=mod)["x"].tolist() == x.tolist()


# ---------------------------------------------------------------------------------- file layout
def test_written_layout_is_0_2s():
    x = ember.FloatTensor([[1, 2, 3], [4, 5, 6]])
    buf = io.BytesIO()
    ember.save([x, x[1]], buf)
    buf.seek(0)
    assert pickle.load(buf) == MAGIC
    assert pickle.load(buf) == 1001
    info = pickle.load(buf)
    assert info == {"protocol_version": 1001, "little_endian": sys.byteorder == "little",
                    "type_sizes": {"short": 2, "int": 4, "long": struct.calcsize("=l")}}
    start = buf.tell()
    globals_, pids = [], []

    def persistent_load(pid):
        pids.append(pid)
        return pid

    class Probe(pickle.Unpickler):
        def find_class(self, module, name):
            globals_.append(module + "." + name)
            return lambda *args: args

    u = Probe(buf)
    u.persistent_load = persistent_load
    u.load()
    assert "torch._utils._rebuild_tensor" in globals_ and "torch.FloatStorage" in globals_
    assert all(g.startswith("torch") for g in globals_)
    assert [p[0] for p in pids] == ["storage", "storage"]
    _, _, key, location, root_size, view = pids[0]
    assert (location, root_size, view) == ("cpu", 6, None) and pids[1][2] == key
    assert pickle.load(buf) == [key]
    assert struct.unpack("<q", buf.read(8))[0] == 6
    np.testing.assert_array_equal(np.frombuffer(buf.read(24), "<f4"), [1, 2, 3, 4, 5, 6])
    assert buf.read() == b""
    assert start > 0


# ----------------------------------------------------------- a fixture in 0.2's exact layout
def _s(text):  # a Python 2 str, as 0.2 under Python 2.7 pickled it (SHORT_BINSTRING)
    b = text.encode("ascii")
    return b"U" + bytes([len(b)]) + b


def _i(n):
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    return b"J" + struct.pack("<i", n)


def _g(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _t(*items):
    return b"(" + b"".join(items) + b"t"


def _pid(typename, key, root_size, view=None, location="cpu"):
    vm = b"N" if view is None else _t(_s(view[0]), _i(view[1]), _i(view[2]))
    return _t(_s("storage"), _g("torch", typename), _s(key), _s(location), _i(root_size), vm) + b"Q"


def _tensor(pid, offset, size, stride):
    return (_g("torch._utils", "_rebuild_tensor")
            + _t(pid, _i(offset), _t(*map(_i, size)), _t(*map(_i, stride))) + b"R")


def fixture_0_2(include_empty=True, little=True, root_size=6, count=None):
    """The bytes 0.2.0's torch.save (Python 2.7, pickle protocol 2) writes for an OrderedDict holding a
    FloatTensor 2x3, a row and the transpose of it (one shared storage), a view of that storage, a
    LongTensor and (optionally) an empty tensor."""
    order = "<" if little else ">"
    head = (b"\x80\x02\x8a\x0a" + MAGIC.to_bytes(10, "little") + b"."
            + b"\x80\x02M\xe9\x03."
            + b"\x80\x02}(" + _s("protocol_version") + _i(1001) + _s("little_endian") + (b"\x88" if little else b"\x89")
            + _s("type_sizes") + b"}(" + _s("short") + _i(2) + _s("int") + _i(4) + _s("long") + _i(8) + b"uu.")
    fkey, lkey, ekey = "140234567890123", "140234567890999", "140234567891555"
    items = [
        (_s("weight"), _tensor(_pid("FloatStorage", fkey, root_size), 0, (2, 3), (3, 1))),
        (_s("row"), _tensor(_pid("FloatStorage", fkey, root_size), 3, (3,), (1,))),
        (_s("weight_t"), _tensor(_pid("FloatStorage", fkey, root_size), 0, (3, 2), (1, 3))),
        (_s("view"), _pid("FloatStorage", fkey, root_size, view=("140234567890555", 1, 4))),
        (_s("index"), _tensor(_pid("LongStorage", lkey, 2), 0, (2,), (1,))),
    ]
    keys = [fkey, lkey]
    if include_empty:
        items.append((_s("empty"), _tensor(_pid("FloatStorage", ekey, 0), 0, (), ())))
        keys.append(ekey)
    body = (b"\x80\x02" + _g("collections", "OrderedDict") + b")R("
            + b"".join(k + v for k, v in items) + b"u.")
    key_list = b"\x80\x02](" + b"".join(_s(k) for k in sorted(keys)) + b"e."
    data = {fkey: np.arange(1, 7, dtype=order + "f4"), lkey: np.array([7, -1], order + "i8"),
            ekey: np.zeros(0, order + "f4")}
    raw = b""
    for k in sorted(keys):
        arr = data[k]
        raw += struct.pack(order + "q", arr.size if count is None else count) + arr.tobytes()
    return head + body + key_list + raw


def check_fixture(r, include_empty=True):
    assert list(r) == ["weight", "row", "weight_t", "view", "index"] + (["empty"] if include_empty else [])
    w = r["weight"]
    assert type(w) is ember.FloatTensor and w.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert r["row"].tolist() == [4, 5, 6] and r["weight_t"].tolist() == [[1, 4], [2, 5], [3, 6]]
    assert type(r["view"]) is ember.FloatStorage and r["view"].tolist() == [2, 3, 4, 5]
    assert type(r["index"]) is ember.LongTensor and r["index"].tolist() == [7, -1]
    if include_empty:
        assert r["empty"].dim() == 0 and type(r["empty"]) is ember.FloatTensor
    w[1, 0] = 40  # one storage under weight, row, weight_t and view
    assert r["row"][0] == 40 and r["weight_t"][0, 1] == 40 and r["view"][2] == 40


def test_loads_0_2_fixture():
    check_fixture(ember.load(io.BytesIO(fixture_0_2())))


def test_loads_big_endian_0_2_fixture():
    check_fixture(ember.load(io.BytesIO(fixture_0_2(little=False))))


def test_fixture_is_valid_for_pytorch():
    torch = require_torch()
    r = torch.load(io.BytesIO(fixture_0_2(include_empty=False)), weights_only=False)
    assert r["weight"].tolist() == [[1, 2, 3], [4, 5, 6]] and r["weight_t"].tolist() == [[1, 4], [2, 5], [3, 6]]
    assert r["index"].dtype == torch.int64 and r["view"].tolist() == [2, 3, 4, 5]
    check_fixture(ember.load(io.BytesIO(fixture_0_2(include_empty=False))), include_empty=False)


def test_module_persistent_id_loads_the_class():
    body = (b"\x80\x02" + _t(_s("module"), _g("collections", "OrderedDict"), b"N", b"N") + b"Q.")
    head = fixture_0_2()[:fixture_0_2().index(b"\x80\x02" + _g("collections", "OrderedDict"))]
    data = head + body + b"\x80\x02]."
    assert ember.load(io.BytesIO(data)) is collections.OrderedDict


class FakeModule(object):
    """Stands in for ember.nn.Module: the save hook keys on ember.nn being imported."""


class Net(FakeModule):
    def __init__(self):
        self.weight = ember.FloatTensor([1, 2])


def test_module_classes_are_saved_with_their_source(monkeypatch):
    monkeypatch.setitem(sys.modules, "ember.nn", types.SimpleNamespace(Module=FakeModule))
    buf = io.BytesIO()
    ember.save([Net(), Net()], buf)
    data = buf.getvalue()
    pids = []
    buf.seek(0)
    for _ in range(3):
        pickle.load(buf)

    class Probe(pickle.Unpickler):
        def persistent_load(self, pid):
            pids.append(pid)
            return pid[1] if pid[0] == "module" else pid

        def find_class(self, module, name):
            return (lambda *args: args) if module.startswith("torch") else super().find_class(module, name)

    Probe(buf).load()
    modules = [p for p in pids if p[0] == "module"]
    assert len(modules) == 1  # the first occurrence carries the source, as in 0.2
    _, cls, source_file, source = modules[0]
    assert cls is Net and source_file == __file__ and source.startswith("class Net(FakeModule)")
    r = ember.load(io.BytesIO(data))
    assert type(r[0]) is Net and r[0].weight.tolist() == [1, 2]


# ------------------------------------------------------------------------------ map_location
def cuda_file(tmp_path=None):
    buf = io.BytesIO()
    ember.save({"x": ember.FloatTensor([1, 2])}, buf)
    data = buf.getvalue()
    cpu = b"X\x03\x00\x00\x00cpu"
    assert data.count(cpu) == 1
    return data.replace(cpu, b"X\x06\x00\x00\x00cuda:0")


def test_cuda_location_without_cuda_needs_map_location():
    if ember.cuda.is_available():
        pytest.skip("CUDA is available here")
    data = cuda_file()
    with pytest.raises(RuntimeError, match="on 'cuda:0' but CUDA is not available.*map_location='cpu'"):
        ember.load(io.BytesIO(data))
    for ml in ("cpu", {"cuda:0": "cpu"}, lambda storage, loc: storage):
        assert ember.load(io.BytesIO(data), map_location=ml)["x"].tolist() == [1, 2]
    seen = []
    ember.load(io.BytesIO(data), map_location=lambda s, loc: seen.append((type(s), loc)) or s)
    assert seen == [(ember.FloatStorage, "cuda:0")]


def test_map_location_forms_on_cpu_files():
    torch_zip = None
    try:
        torch = require_torch()
        b = io.BytesIO()
        torch.save({"x": torch.tensor([1.0, 2.0])}, b)
        torch_zip = b.getvalue()
    except pytest.skip.Exception:
        pass
    buf = io.BytesIO()
    ember.save({"x": ember.FloatTensor([1, 2])}, buf)
    for data in filter(None, [buf.getvalue(), torch_zip]):
        for ml in (None, "cpu", {"cuda:1": "cpu"}, lambda s, loc: None):
            assert ember.load(io.BytesIO(data), map_location=ml)["x"].tolist() == [1, 2]
        # a function may return another storage: the data arrives in it
        r = ember.load(io.BytesIO(data), map_location=lambda s, loc: s.double())
        assert type(r["x"]) is ember.DoubleTensor and r["x"].tolist() == [1, 2]
        with pytest.raises(RuntimeError, match=r"don't know how to restore data location of "
                                               r"torch.FloatStorage \(tagged with tpu\)"):
            ember.load(io.BytesIO(data), map_location="tpu")
        with pytest.raises(RuntimeError, match="map_location must give a storage of the same size"):
            ember.load(io.BytesIO(data), map_location=lambda s, loc: [1, 2])
    with pytest.raises(TypeError, match="map_location must be None, a string, a dict or a function"):
        ember.load(io.BytesIO(buf.getvalue()), map_location=5)


# ------------------------------------------------------------------------------- weights_only
class Mkdir(object):
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_weights_only_refuses_code(tmp_path):
    target = str(tmp_path / "made_by_unpickling")
    buf = io.BytesIO()
    ember.save({"w": ember.FloatTensor([1]), "evil": Mkdir(target)}, buf)
    with pytest.raises(pickle.UnpicklingError, match=r"weights_only load refused global '(posix|nt|os)\.mkdir'"):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=True)
    assert not os.path.exists(target)
    ember.load(io.BytesIO(buf.getvalue()))  # without weights_only the pickle does run
    assert os.path.isdir(target)


def test_weights_only_accepts_tensors_and_containers():
    obj = collections.OrderedDict([("w", sample(ember.FloatTensor)), ("n", [1, 2.5, None, True, "s", b"b"]),
                                   ("size", ember.Size([3])), ("set", {1}), ("t", (ember.ByteStorage([1]),))])
    r = roundtrip(obj, weights_only=True)
    assert type(r) is collections.OrderedDict and r["n"] == [1, 2.5, None, True, "s", b"b"]
    assert r["w"].tolist() == obj["w"].tolist() and r["size"] == (3,) and r["set"] == {1}
    assert r["t"][0].tolist() == [1]


def test_weights_only_refuses_module_classes_and_custom_pickle_modules(monkeypatch):
    monkeypatch.setitem(sys.modules, "ember.nn", types.SimpleNamespace(Module=FakeModule))
    buf = io.BytesIO()
    ember.save(Net(), buf)
    with pytest.raises(pickle.UnpicklingError, match="weights_only load refused global '.*Net'"):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=True)
    with pytest.raises(ValueError, match="weights_only=True .* can't be combined with pickle_module"):
        ember.load(io.BytesIO(buf.getvalue()), weights_only=True, pickle_module=types.SimpleNamespace())


def test_unknown_torch_globals_name_what_is_missing():
    data = fixture_0_2()
    head = data[:data.index(b"\x80\x02" + _g("collections", "OrderedDict"))]
    bad = head + b"\x80\x02" + _g("torch.nonexistent_mod", "Thing") + b"."
    with pytest.raises(pickle.UnpicklingError, match="needs 'torch.nonexistent_mod.Thing', and ember has no "
                                                     "'ember.nonexistent_mod.Thing'"):
        ember.load(io.BytesIO(bad))


# ------------------------------------------------------------------------------ atomic saving
CHILD = textwrap.dedent("""
    import pickle, sys, time, types
    import ember

    marker, path = sys.argv[1], sys.argv[2]

    def dump(obj, f, protocol=2):
        pickle.dump(obj, f, protocol=protocol)
        if isinstance(obj, list):  # the storage key list: the object is written, its data is not
            f.flush()
            open(marker, "w").close()
            time.sleep(60)

    slow = types.SimpleNamespace(dump=dump, Pickler=pickle.Pickler)
    ember.save({"new": ember.FloatTensor(100000).fill_(2)}, path, pickle_module=slow)
""")


def test_killed_save_leaves_old_file_intact(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"old": ember.FloatTensor([1, 2, 3])}, path)
    marker = tmp_path / "marker"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script), str(marker), str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail("the saving child exited early: " + proc.stdout.read().decode())
            assert time.time() < deadline, "the saving child never reached the middle of its save"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert ember.load(path)["old"].tolist() == [1, 2, 3]
    leftovers = [n for n in os.listdir(tmp_path) if n.startswith(".model.pt.") and n.endswith(".tmp")]
    assert len(leftovers) == 1  # the half-written temporary file: the kill did land mid-save
    assert os.path.getsize(tmp_path / leftovers[0]) > 0


class Explodes(object):
    def __reduce__(self):
        raise RuntimeError("cannot pickle this")


def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "m.pt"
    ember.save([ember.IntTensor([5])], path)
    with pytest.raises(RuntimeError, match="cannot pickle this"):
        ember.save([ember.IntTensor([6]), Explodes()], path)
    assert os.listdir(tmp_path) == ["m.pt"]
    assert ember.load(path)[0].tolist() == [5]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saved_file_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "new.pt"
    ember.save(ember.FloatTensor(1), path)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    os.chmod(path, 0o640)
    ember.save(ember.FloatTensor(2), path)  # overwriting keeps the old file's mode
    assert os.stat(path).st_mode & 0o777 == 0o640


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_save_through_symlink_replaces_the_target(tmp_path):
    target = tmp_path / "real.pt"
    link = tmp_path / "link.pt"
    ember.save(ember.FloatTensor([1]), target)
    os.symlink(target, link)
    ember.save(ember.FloatTensor([2]), link)
    assert os.path.islink(link) and ember.load(target).tolist() == [2]
    if os.path.exists(os.devnull):
        ember.save(ember.FloatTensor([3]), os.devnull)  # not a regular file: written in place
        assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)


# ------------------------------------------------------------------------- corrupt and hostile
def good_file():
    buf = io.BytesIO()
    x = ember.FloatTensor([[1, 2], [3, 4]])
    ember.save({"x": x, "r": x[1], "l": ember.LongTensor([9])}, buf)
    return buf.getvalue()


def test_bad_headers():
    with pytest.raises(RuntimeError, match="the file is empty"):
        ember.load(io.BytesIO(b""))
    with pytest.raises(RuntimeError, match="invalid magic number"):
        ember.load(io.BytesIO(b"hello, this is not a pickle"))
    with pytest.raises(RuntimeError, match="Invalid magic number; corrupt file"):
        ember.load(io.BytesIO(pickle.dumps(12345, 2) + good_file()))
    data = good_file()
    proto = pickle.dumps(1001, 2)
    assert data.count(proto) == 1
    with pytest.raises(RuntimeError, match="Invalid protocol version: 1000"):
        ember.load(io.BytesIO(data.replace(proto, pickle.dumps(1000, 2))))
    tar = bytearray(1024)
    tar[257:262] = b"ustar"
    with pytest.raises(RuntimeError, match="tar format of PyTorch before 0.1.10"):
        ember.load(io.BytesIO(bytes(tar)))


def test_every_truncation_raises_a_clear_error():
    data = good_file()
    for cut in range(1, len(data)):
        with pytest.raises((RuntimeError, pickle.UnpicklingError), match="ember.load"):
            ember.load(io.BytesIO(data[:cut]))


def clear_error_or_success(data):
    """Loading damaged bytes either works (damage in tensor data) or raises ember's own error."""
    try:
        ember.load(io.BytesIO(data))
    except (RuntimeError, pickle.UnpicklingError) as e:
        assert str(e).startswith(("ember.load", "weights_only", "don't know")), repr(e)


def test_damaged_bytes_raise_clear_errors():
    data = good_file()
    for i in range(len(data)):
        for v in (0x00, 0xFF, 0x51, 0x80):  # 0x51 is BINPERSID: persistent ids where none belong
            damaged = bytearray(data)
            damaged[i] = v
            clear_error_or_success(bytes(damaged))


def test_damaged_zip_raises_clear_errors():
    torch = require_torch()
    data = torch_zip(torch, {"x": torch.arange(4.0).view(2, 2), "l": torch.tensor([9])})
    for i in range(0, len(data), 3):
        for v in (0x00, 0xFF):
            damaged = bytearray(data)
            damaged[i] = v
            clear_error_or_success(bytes(damaged))


def test_python2_strings_need_an_encoding():
    data = fixture_0_2()
    weight = _s("weight")
    assert data.count(weight) == 1
    latin = data.replace(weight, b"U\x04caf\xe9")
    with pytest.raises(pickle.UnpicklingError, match="written by Python 2 may need encoding='latin1'"):
        ember.load(io.BytesIO(latin))
    r = ember.load(io.BytesIO(latin), encoding="latin1")
    assert r["caf\xe9"].tolist() == [[1, 2, 3], [4, 5, 6]]


def test_wrong_storage_sizes():
    with pytest.raises(RuntimeError, match="storage has wrong size: expected 6 got 5"):
        ember.load(io.BytesIO(fixture_0_2(count=5)))
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="truncated or corrupt: its storages need more bytes"):
        ember.load(io.BytesIO(fixture_0_2(root_size=2 ** 31 - 1)))
    assert time.perf_counter() - t0 < 1  # refused before allocating 8 GB


def test_invalid_tensor_metadata():
    data = fixture_0_2()
    good = _tensor(_pid("LongStorage", "140234567890999", 2), 0, (2,), (1,))
    assert data.count(good) == 1
    too_big = _tensor(_pid("LongStorage", "140234567890999", 2), 0, (3,), (1,))
    with pytest.raises(RuntimeError, match=r"tensor of size \[3\] with stride \[1\] at offset 0 needs 3 elements"):
        ember.load(io.BytesIO(data.replace(good, too_big)))
    mismatched = _tensor(_pid("LongStorage", "140234567890999", 2), 0, (2,), (1, 1))
    with pytest.raises(RuntimeError, match="invalid tensor metadata"):
        ember.load(io.BytesIO(data.replace(good, mismatched)))
    bad_view = _pid("FloatStorage", "140234567890123", 6, view=("140234567890555", 1, 4))
    assert data.count(bad_view) == 1
    with pytest.raises(RuntimeError, match=r"storage view \[5, 9\) exceeds its storage of size 6"):
        ember.load(io.BytesIO(data.replace(bad_view, _pid("FloatStorage", "140234567890123", 6,
                                                           view=("140234567890555", 5, 4)))))


def test_storage_key_list_must_match():
    data = fixture_0_2(include_empty=False)
    keys = b"\x80\x02](" + _s("140234567890123") + _s("140234567890999") + b"e."
    assert data.count(keys) == 1
    wrong = b"\x80\x02](" + _s("140234567890123") + _s("99") + b"e."
    with pytest.raises(RuntimeError, match="storage key '99' is not used"):
        ember.load(io.BytesIO(data.replace(keys, wrong)))


# --------------------------------------------------------------------------- PyTorch 2.13 parity
TORCH_DTYPES = {"float64": ember.DoubleTensor, "float32": ember.FloatTensor, "float16": ember.HalfTensor,
                "int64": ember.LongTensor, "int32": ember.IntTensor, "int16": ember.ShortTensor,
                "int8": ember.CharTensor, "uint8": ember.ByteTensor, "bool": ember.ByteTensor}


def torch_objects(torch):
    out = {}
    for name in TORCH_DTYPES:
        dt = getattr(torch, name)
        base = (torch.arange(12) % 5 - 2).to(dt) if name != "bool" else torch.arange(12) % 3 == 0
        x = base.view(3, 4)
        out[name] = x
        out[name + "_t"] = x.t()
        out[name + "_row"] = x[1]
    out["scalar"] = torch.tensor(3.5)
    out["zero_size"] = torch.zeros(0, 3)
    out["expanded"] = torch.tensor([1.0, 2.0, 3.0]).expand(2, 3)
    out["size"] = torch.Size([2, 5])
    out["nested"] = [out["float32"], (out["int64_row"], {"k": out["float64_t"]})]
    return out


def check_torch_objects(r, expected):
    for name, cls in TORCH_DTYPES.items():
        for suffix in ("", "_t", "_row"):
            got, exp = r[name + suffix], expected[name + suffix]
            assert type(got) is cls, name + suffix
            assert_same(got, exp, check_type=name != "bool")
            assert got.stride() == exp.stride() and got.storage_offset() == exp.storage_offset()
    assert r["scalar"].size() == (1,) and r["scalar"].tolist() == [3.5]
    assert r["zero_size"].dim() == 0 and r["zero_size"].numel() == 0
    assert r["expanded"].stride() == (0, 1) and r["expanded"].tolist() == [[1, 2, 3], [1, 2, 3]]
    assert type(r["size"]) is ember.Size and r["size"] == (2, 5)
    assert r["nested"][0] is r["float32"] and r["nested"][1][1]["k"] is r["float64_t"]
    # sharing survives: a write through one view shows in the others
    r["float32"][1, 2] = 99
    assert r["float32_t"][2, 1] == 99 and r["float32_row"][2] == 99


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_loads_files_written_by_pytorch(zip_format):
    torch = require_torch()
    objs = torch_objects(torch)
    buf = io.BytesIO()
    torch.save(objs, buf, _use_new_zipfile_serialization=zip_format)
    for weights_only in (False, True):
        check_torch_objects(ember.load(io.BytesIO(buf.getvalue()), weights_only=weights_only), objs)


def test_loads_pytorch_state_dicts_and_parameters():
    torch = require_torch()
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 2)
    buf = io.BytesIO()
    torch.save({"sd": lin.state_dict(), "param": lin.weight}, buf)
    for weights_only in (False, True):
        r = ember.load(io.BytesIO(buf.getvalue()), weights_only=weights_only)
        sd = r["sd"]
        assert type(sd) is collections.OrderedDict and list(sd) == ["weight", "bias"]
        assert hasattr(sd, "_metadata")  # PyTorch's attribute on state dicts survives
        assert_same(sd["weight"], lin.weight.detach())
        assert_same(sd["bias"], lin.bias.detach())
        param = r["param"] if ember.is_tensor(r["param"]) else r["param"].data  # a Parameter with ember.nn
        assert_same(param, lin.weight.detach())


@pytest.mark.parametrize("protocol", [2, 4])
def test_pytorch_loads_files_written_by_ember(protocol):
    torch = require_torch()
    objs = {}
    for cls in TYPES:
        x = sample(cls)
        objs[cls.__name__] = x
        objs[cls.__name__ + "_t"] = x.t()
        objs[cls.__name__ + "_col"] = x.select(1, 2)
    objs["empty"] = ember.FloatTensor()
    objs["size"] = ember.Size([4, 1])
    objs["storage"] = ember.DoubleStorage([1.5, 2.5])
    buf = io.BytesIO()
    ember.save(objs, buf, pickle_protocol=protocol)
    for weights_only in (False, True) if protocol == 2 else (False,):  # PyTorch's weights_only reads protocol 2
        r = torch.load(io.BytesIO(buf.getvalue()), weights_only=weights_only)
        for cls in TYPES:
            for suffix in ("", "_t", "_col"):
                exp, got = objs[cls.__name__ + suffix], r[cls.__name__ + suffix]
                assert_same(exp, got)
                assert tuple(got.stride()) == exp.stride() and got.storage_offset() == exp.storage_offset()
        assert tuple(r["empty"].shape) == (0,)
        assert r["size"] == torch.Size([4, 1]) and type(r["size"]) is torch.Size
        assert r["storage"].tolist() == [1.5, 2.5] and r["storage"].dtype == torch.float64
        r["FloatTensor"][2, 2] = 1234.0  # PyTorch sees the views sharing one storage too
        assert r["FloatTensor_t"][2, 2].item() == 1234.0 and r["FloatTensor_col"][2].item() == 1234.0


# ---------------------------------------------------------------------------------- zip format
def torch_zip(torch, obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def rezip(data, edit):
    """A copy of a zip archive with each record's bytes passed through edit(name, bytes) (None drops it)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            new = edit(info.filename, src.read(info))
            if new is not None:
                dst.writestr(info.filename, new)
    return out.getvalue()


def test_zip_records_are_checked():
    torch = require_torch()
    data = torch_zip(torch, {"x": torch.arange(6.0)})
    assert ember.load(io.BytesIO(rezip(data, lambda n, b: b)))["x"].tolist() == list(range(6))
    short = rezip(data, lambda n, b: b[:-4] if n.endswith("data/0") else b)
    with pytest.raises(RuntimeError, match=r"record '.*data/0' has 20 bytes, 24 expected for 6 elements"):
        ember.load(io.BytesIO(short))
    missing = rezip(data, lambda n, b: None if n.endswith("data/0") else b)
    with pytest.raises(RuntimeError, match="the archive has no record '.*data/0'"):
        ember.load(io.BytesIO(missing))
    no_pickle = rezip(data, lambda n, b: None if n.endswith("data.pkl") else b)
    with pytest.raises(RuntimeError, match="no '<name>/data.pkl'"):
        ember.load(io.BytesIO(no_pickle))


def test_zip_big_endian_records():
    torch = require_torch()
    data = torch_zip(torch, {"x": torch.arange(6.0), "l": torch.tensor([1, -2])})

    def to_big(name, b):
        if name.endswith("byteorder"):
            return b"big"
        if "/data/" in name:
            width = 4 if len(b) == 24 else 8
            return np.frombuffer(b, "<f4" if width == 4 else "<i8").astype(">f4" if width == 4 else ">i8").tobytes()
        return b

    r = ember.load(io.BytesIO(rezip(data, to_big)))
    assert r["x"].tolist() == list(range(6)) and r["l"].tolist() == [1, -2]


def test_truncated_zip_raises_a_clear_error():
    torch = require_torch()
    data = torch_zip(torch, {"x": torch.arange(6.0)})
    for cut in list(range(4, len(data), 97)) + [len(data) - 1]:
        with pytest.raises((RuntimeError, pickle.UnpicklingError), match="ember.load"):
            ember.load(io.BytesIO(data[:cut]))


def test_torchscript_archive_is_named():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("m/constants.pkl", b"")
        z.writestr("m/code/__torch__.py", b"")
    with pytest.raises(RuntimeError, match="TorchScript archive"):
        ember.load(io.BytesIO(data.getvalue()))
