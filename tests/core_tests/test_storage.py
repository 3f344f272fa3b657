"""The Storage API of 0.2 (torch/storage.py + generic/StorageMethods.cpp), checked against NumPy and the
legacy storage classes of PyTorch 2.13."""
import copy
import os
import pickle
import struct

import numpy as np
import pytest

import ember
from _helpers.oracle import require_torch

pytestmark = pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")

STORAGES = [ember.DoubleStorage, ember.FloatStorage, ember.HalfStorage, ember.LongStorage, ember.IntStorage,
            ember.ShortStorage, ember.CharStorage, ember.ByteStorage]
NAMES = ["Double", "Float", "Half", "Long", "Int", "Short", "Char", "Byte"]
TORCH_DTYPE = dict(zip(NAMES, ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8"]))
ITEMSIZE = dict(zip(NAMES, [8, 4, 2, 8, 4, 2, 1, 1]))
ids = [c.__name__ for c in STORAGES]


def torch_storage(torch, name, data):
    return getattr(torch, name + "Storage")(data)


# ------------------------------------------------------------------------------- construction
@pytest.mark.parametrize("cls", STORAGES, ids=ids)
def test_constructor_forms(cls):
    assert cls().size() == 0
    assert cls(5).size() == 5 and len(cls(5)) == 5
    assert cls([1, 2, 3]).tolist() == [1, 2, 3]
    assert cls((4, 5)).tolist() == [4, 5]
    assert cls(range(3)).tolist() == [0, 1, 2]
    base = cls([1, 2, 3, 4, 5])
    whole, tail, mid = cls(base), cls(base, 2), cls(base, 1, 3)
    assert whole.tolist() == [1, 2, 3, 4, 5] and tail.tolist() == [3, 4, 5] and mid.tolist() == [2, 3, 4]
    mid[0] = 9  # views share memory with their source
    assert base[1] == 9 and whole[1] == 9
    assert mid.data_ptr() == base.data_ptr() + base.element_size()
    assert cls.is_cuda is False and cls.is_sparse is False and cls().is_cuda is False


@pytest.mark.parametrize("name", NAMES)
def test_sequence_values_follow_c_casts(name):
    cls = getattr(ember, name + "Storage")
    floating = name in ("Double", "Float", "Half")
    data = [1.75, -2.25, 0, 3] if floating else [-1, 300, 7, -129]
    # 0.2 cast like C (wrapping out-of-range integers); PyTorch 2.13 refuses those, NumPy's astype wraps
    exp = np.array(data, np.float64 if floating else np.int64).astype(cls._dtype).tolist()
    assert cls(data).tolist() == exp
    if floating or name in ("Long", "Int", "Short"):
        torch = require_torch()
        assert cls(data).tolist() == torch_storage(torch, name, data).tolist()
    if not floating:  # floats truncate toward zero, then wrap
        assert cls([1.7, -2.7]).tolist() == np.array([1, -2]).astype(cls._dtype).tolist()


def test_constructor_errors():
    fs = ember.FloatStorage([1, 2, 3])
    with pytest.raises(TypeError, match="torch.FloatStorage constructor doesn't accept any keyword arguments"):
        ember.FloatStorage(size=3)
    with pytest.raises(RuntimeError, match="size must be non-negative, got -1"):
        ember.FloatStorage(-1)
    for bad in [(2.5,), (True,), ("x",), (ember.DoubleStorage(2),), (fs, 1, 1, 1), (None,)]:
        with pytest.raises(TypeError, match=r"torch.FloatStorage constructor received an invalid combination of "
                                            r"arguments - got \(.*\), but expected one of:\n \* no arguments\n"
                                            r" \* \(int size\)\n \* \(Sequence data\)\n"
                                            r" \* \(torch.FloatStorage view_source\)"):
            ember.FloatStorage(*bad)
    with pytest.raises(TypeError, match="got \\(torch.DoubleStorage\\)"):
        ember.FloatStorage(ember.DoubleStorage(2))
    with pytest.raises(TypeError, match="Sequence data must be a flat sequence of numbers"):
        ember.FloatStorage(["a"])
    with pytest.raises(TypeError, match="Sequence data must be a flat sequence of numbers"):
        ember.LongStorage(["a"])
    with pytest.raises(TypeError, match="Sequence data must be a flat sequence of numbers"):
        ember.IntStorage([[1, 2], [3, 4]])
    with pytest.raises(RuntimeError, match=r"view \[2, 7\) is out of bounds for a storage of size 3"):
        ember.FloatStorage(fs, 2, 5)
    with pytest.raises(RuntimeError, match="out of bounds"):
        ember.FloatStorage(fs, -1)


# ----------------------------------------------------------------------------- size and elements
@pytest.mark.parametrize("name", NAMES)
def test_size_len_element_size_like_torch(name):
    torch = require_torch()
    cls = getattr(ember, name + "Storage")
    s = cls([1, 2, 3])
    t = torch_storage(torch, name, [1, 2, 3])
    assert s.size() == len(s) == t.size() == 3
    assert s.element_size() == t.element_size() == ITEMSIZE[name]
    assert s.type() == t.type() == "torch.{}Storage".format(name)


def test_indexing_and_iteration():
    s = ember.IntStorage([10, 20, 30, 40])
    assert s[0] == 10 and s[-1] == 40 and s[-4] == 10 and type(s[1]) is int
    assert type(ember.FloatStorage([1])[0]) is float
    assert list(s) == [10, 20, 30, 40] and list(iter(ember.IntStorage())) == []
    s[1] = 21
    s[-1] = 41.9  # truncated like a C cast
    assert s.tolist() == [10, 21, 30, 41]
    sl = s[1:3]
    assert type(sl) is ember.IntStorage and sl.tolist() == [21, 30]
    sl[0] = 5  # a slice is a view, as in 0.2
    assert s[1] == 5
    assert s[2:].tolist() == [30, 41] and s[:-3].tolist() == [10] and s[3:1].size() == 0
    s[0:2] = 7  # slice assignment fills
    assert s.tolist() == [7, 7, 30, 41]
    b = ember.ByteStorage(2)
    b[0] = 300
    b[1] = -1
    assert b.tolist() == [44, 255]
    assert s[np.int64(2)] == 30


def test_indexing_errors():
    s = ember.FloatStorage([1, 2, 3])
    with pytest.raises(IndexError, match="index 3 out of range for storage of size 3"):
        s[3]
    with pytest.raises(IndexError, match="index -4 out of range for storage of size 3"):
        s[-4]
    with pytest.raises(IndexError, match="index 5 out of range"):
        s[5] = 1
    with pytest.raises(TypeError, match="can't index a torch.FloatStorage with float"):
        s[1.5]
    with pytest.raises(TypeError, match="can't index a torch.FloatStorage with str"):
        s["a"] = 1
    with pytest.raises(TypeError, match=r"torch.FloatStorage.__setitem__: expected a number, got str"):
        s[0] = "a"
    with pytest.raises(RuntimeError, match="slices with a step are not supported, got step 2"):
        s[::2]


def test_tolist_and_data_ptr():
    a = np.arange(6, dtype=np.float64)
    s = ember.DoubleStorage(a.tolist())
    assert s.tolist() == a.tolist() and all(type(v) is float for v in s.tolist())
    assert s.data_ptr() == s._a.__array_interface__["data"][0] != 0
    assert s[2:].data_ptr() == s.data_ptr() + 16
    assert ember.DoubleStorage().data_ptr() == 0
    t = ember.DoubleTensor(2, 3)
    assert t.storage().data_ptr() == t.data_ptr()


@pytest.mark.parametrize("name", NAMES)
def test_fill_like_torch(name):
    torch = require_torch()
    cls = getattr(ember, name + "Storage")
    value = 2.5 if name in ("Double", "Float", "Half") else 7.9
    s = cls(4).fill_(value)
    assert s.tolist() == torch_storage(torch, name, 4).fill_(value).tolist()
    with pytest.raises(TypeError, match="fill_: expected a number, got NoneType"):
        s.fill_(None)


def test_resize_():
    torch = require_torch()
    for grow in (5, 2, 0, 3):
        s = ember.FloatStorage([1, 2, 3])
        t = torch.FloatStorage([1, 2, 3])
        t.resize_(grow)
        assert s.resize_(grow) is s and s.size() == t.size() == grow
        n = min(grow, 3)
        assert s.tolist()[:n] == t.tolist()[:n] == [1, 2, 3][:n]  # kept prefix; the rest is uninitialised
    with pytest.raises(RuntimeError, match="resize_: size must be non-negative, got -1"):
        ember.FloatStorage(1).resize_(-1)
    with pytest.raises(TypeError, match="resize_: expected an int size, got str"):
        ember.FloatStorage(1).resize_("2")


def test_clone_new_copy():
    s = ember.ShortStorage([1, 2, 3])
    c = s.clone()
    assert type(c) is ember.ShortStorage and c.tolist() == [1, 2, 3] and c.data_ptr() != s.data_ptr()
    c[0] = 100
    assert s[0] == 1
    n = s.new()
    assert type(n) is ember.ShortStorage and n.size() == 0
    assert copy.copy(s).tolist() == [1, 2, 3] and copy.copy(s).data_ptr() != s.data_ptr()
    pair = copy.deepcopy([s, s, s[1:]])
    assert pair[0] is pair[1] and pair[0].tolist() == [1, 2, 3] and pair[2].tolist() == [2, 3]
    restored = pickle.loads(pickle.dumps(s))  # 0.2's __reduce__: (type, (tolist,))
    assert type(restored) is ember.ShortStorage and restored.tolist() == [1, 2, 3]
    assert s.__reduce__() == (ember.ShortStorage, ([1, 2, 3],))


@pytest.mark.parametrize("src", NAMES)
def test_copy_between_types_like_torch(src):
    torch = require_torch()
    # positive floats: a negative float into an unsigned type is undefined in C
    data = [1.5, 2.5, 100.75] if src in ("Double", "Float", "Half") else [1, -2, 100]
    if src == "Byte":
        data = [1, 254, 100]
    src_t = torch.tensor(data, dtype=getattr(torch, TORCH_DTYPE[src]))
    for dst in NAMES:
        e = getattr(ember, dst + "Storage")(3).copy_(getattr(ember, src + "Storage")(data))
        exp = src_t.to(getattr(torch, TORCH_DTYPE[dst]))
        assert e.tolist() == exp.tolist(), (src, dst)  # (TypedStorage.copy_ in 2.13 copies raw bytes)


def test_copy_errors():
    with pytest.raises(RuntimeError, match="copy_: size mismatch, destination has 3 elements and source has 2"):
        ember.FloatStorage(3).copy_(ember.FloatStorage(2))
    with pytest.raises(TypeError, match="copy_ expects a storage, got list"):
        ember.FloatStorage(3).copy_([1, 2, 3])


# ----------------------------------------------------------------------------------- conversions
@pytest.mark.parametrize("src", NAMES)
def test_type_conversions_like_torch(src):
    torch = require_torch()
    data = [1.75, -2.25, 3.0] if src in ("Double", "Float", "Half") else [-1, 100, 3]
    if src == "Byte":
        data = [1, 200, 3]
    s = getattr(ember, src + "Storage")(data)
    t = torch_storage(torch, src, data)
    for method in ("double", "float", "half", "long", "int", "short", "char", "byte"):
        got, exp = getattr(s, method)(), getattr(t, method)()
        assert got.type() == exp.type() and got.tolist() == exp.tolist(), method
        if method == src.lower():
            assert got is s  # same type: the storage itself
        else:
            assert got.data_ptr() != s.data_ptr()
    assert s.type("torch.DoubleStorage").tolist() == t.double().tolist()
    assert type(s.type("ember.IntStorage")) is ember.IntStorage
    assert type(s.type(ember.LongStorage)) is ember.LongStorage
    assert s.cpu() is s


def test_type_errors():
    with pytest.raises(ValueError, match="invalid storage type: 'torch.FloatTensor'"):
        ember.FloatStorage(1).type("torch.FloatTensor")
    with pytest.raises(ValueError, match="invalid storage type"):
        ember.FloatStorage(1).type(int)


# --------------------------------------------------------------------------------- from_buffer
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("order", ["little", "big", "native"])
def test_from_buffer_like_torch(name, order):
    torch = require_torch()
    cls = getattr(ember, name + "Storage")
    raw = bytes(range(1, 33))
    got = cls.from_buffer(raw, order)
    exp = getattr(torch, name + "Storage").from_buffer(raw, order)
    np.testing.assert_array_equal(np.array(got.tolist()), np.array(exp.tolist()))
    n = ITEMSIZE[name]
    got = cls.from_buffer(raw, order, count=3, offset=n)
    exp = getattr(torch, name + "Storage").from_buffer(raw, order, count=3, offset=n)
    np.testing.assert_array_equal(np.array(got.tolist()), np.array(exp.tolist()))


def test_from_buffer_details():
    raw = bytearray(struct.pack("<2f", 1.5, -2))
    s = ember.FloatStorage.from_buffer(raw, "little")
    assert s.tolist() == [1.5, -2]
    raw[0:4] = struct.pack("<f", 9)
    assert s[0] == 1.5  # a copy, as in 0.2
    assert ember.FloatStorage.from_buffer(struct.pack(">2f", 1, 2), "big").tolist() == [1, 2]
    assert ember.ByteStorage.from_buffer(b"abc").tolist() == [97, 98, 99]  # byte types need no byte order
    assert ember.CharStorage.from_buffer(b"\xff").tolist() == [-1]
    assert ember.FloatStorage.from_buffer(np.float32([3, 4]), "native").tolist() == [3, 4]
    with pytest.raises(ValueError, match="byte_order must be given"):
        ember.FloatStorage.from_buffer(b"abcd")
    with pytest.raises(ValueError, match="invalid byte_order 'middle'"):
        ember.FloatStorage.from_buffer(b"abcd", "middle")
    with pytest.raises(ValueError, match=r"buffer size \(5 bytes after offset\) must be a multiple of element size"):
        ember.FloatStorage.from_buffer(b"abcde", "little")
    with pytest.raises(ValueError, match="buffer has only 4 bytes after offset 0, 8 needed"):
        ember.FloatStorage.from_buffer(b"abcd", "little", count=2)
    with pytest.raises(ValueError, match="offset 9 out of range"):
        ember.FloatStorage.from_buffer(b"abcd", "little", offset=9)


# ----------------------------------------------------------------------------------- from_file
def test_from_file_private_mapping(tmp_path):
    torch = require_torch()
    path = str(tmp_path / "data.bin")
    np.arange(6, dtype=np.float32).tofile(path)
    s = ember.FloatStorage.from_file(path, False, 6)
    assert s.tolist() == torch.FloatStorage.from_file(path, False, 6).tolist() == list(range(6))
    assert ember.FloatStorage.from_file(path).size() == 6  # size 0: the whole file
    assert ember.DoubleStorage.from_file(path, False, 0).size() == 3
    assert ember.FloatStorage.from_file(path, False, 4).tolist() == [0, 1, 2, 3]
    s[0] = 100
    assert np.fromfile(path, np.float32)[0] == 0  # shared=False: the file is untouched
    with pytest.raises(RuntimeError, match="has 24 bytes, 40 needed for 10 elements"):
        ember.FloatStorage.from_file(path, False, 10)
    with pytest.raises(RuntimeError, match="does not exist and no size was given"):
        ember.FloatStorage.from_file(str(tmp_path / "missing.bin"))


def test_from_file_shared_writes_reach_the_file(tmp_path):
    path = tmp_path / "shared.bin"
    np.arange(4, dtype=np.int32).tofile(str(path))
    s = ember.IntStorage.from_file(str(path), True, 4)
    s[1] = 42
    s[2:4] = 7
    np.testing.assert_array_equal(np.fromfile(str(path), np.int32), [0, 42, 7, 7])
    other = ember.IntStorage.from_file(str(path), True, 4)  # a second mapping sees the writes
    other[0] = -5
    assert s[0] == -5
    grown = ember.IntStorage.from_file(str(path), True, 6)  # shared mappings grow the file
    assert os.path.getsize(path) == 24 and grown.tolist()[:4] == [-5, 42, 7, 7]
    fresh = ember.LongStorage.from_file(str(tmp_path / "new.bin"), True, 3)  # and create it
    fresh.fill_(9)
    np.testing.assert_array_equal(np.fromfile(str(tmp_path / "new.bin"), np.int64), [9, 9, 9])


# --------------------------------------------------------------------------- memory placement
def test_share_memory_():
    s = ember.FloatStorage([1, 2, 3])
    assert not s.is_shared()
    assert s.share_memory_() is s and s.is_shared() and s.tolist() == [1, 2, 3]
    ptr = s.data_ptr()
    assert s.share_memory_().data_ptr() == ptr  # already shared: a no-op
    if hasattr(os, "fork"):
        pid = os.fork()
        if pid == 0:  # the child writes; the parent sees it through the shared mapping
            s[0] = 42
            os._exit(0)
        os.waitpid(pid, 0)
        assert s[0] == 42
    assert not s.clone().is_shared()


def test_pinning_and_cuda_without_a_gpu():
    s = ember.FloatStorage(2)
    assert s.is_pinned() is False and s.is_cuda is False
    if ember.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(RuntimeError, match=r"torch.FloatStorage.pin_memory\(\): CUDA is not available"):
        s.pin_memory()
    with pytest.raises(RuntimeError, match=r"torch.FloatStorage.cuda\(\): CUDA is not available"):
        s.cuda()


def test_tensor_storage_relationship():
    t = ember.FloatTensor([[1, 2, 3], [4, 5, 6]])
    s = t.storage()
    assert type(s) is ember.FloatStorage and s.size() == 6 and t[1].storage_offset() == 3
    s[4] = 50
    assert t[1, 1] == 50
    u = ember.FloatTensor(s)
    assert u.size() == (6,) and u.data_ptr() == s.data_ptr()


# ------------------------------------------------------------------------------------ printing
def test_repr():
    # 0.2: ' ' + '\n '.join(str(self[i]) ...) + '\n[typename of size n]', so floats print as Python floats
    assert repr(ember.LongStorage([1, 2])) == " 1\n 2\n[torch.LongStorage of size 2]"
    assert repr(ember.FloatStorage([1, 2.5])) == " 1.0\n 2.5\n[torch.FloatStorage of size 2]"
    assert str(ember.ByteStorage([255])) == " 255\n[torch.ByteStorage of size 1]"
    assert repr(ember.DoubleStorage()) == " \n[torch.DoubleStorage of size 0]"
