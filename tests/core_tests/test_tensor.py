"""The Tensor object model: construction, metadata, views sharing storage, types, NumPy interop."""
import pickle

import numpy as np
import pytest

import ember
from _helpers.oracle import assert_same, require_torch, to_torch

TYPES = ["DoubleTensor", "FloatTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
         "ByteTensor"]
DTYPES = {"DoubleTensor": np.float64, "FloatTensor": np.float32, "HalfTensor": np.float16,
          "LongTensor": np.int64, "IntTensor": np.int32, "ShortTensor": np.int16, "CharTensor": np.int8,
          "ByteTensor": np.uint8}


def arange(*shape, cls=ember.FloatTensor):
    n = int(np.prod(shape))
    return cls(np.arange(n, dtype=cls._dtype).reshape(shape))


# ---------------------------------------------------------------- construction

@pytest.mark.parametrize("name", TYPES)
def test_constructor_forms(name):
    cls = getattr(ember, name)
    t = cls(2, 3)
    assert t.size() == ember.Size([2, 3]) and t.type() == "torch." + name
    assert cls(ember.Size([4])).size() == (4,)
    d = cls([[1, 2], [3, 4]])
    np.testing.assert_array_equal(d.numpy(), np.array([[1, 2], [3, 4]], DTYPES[name]))
    assert cls((5, 6)).tolist() == [5, 6]  # a tuple is data, only torch.Size is sizes
    e = cls()
    assert e.size() == ember.Size([]) and e.dim() == 0 and e.numel() == 0
    v = cls(d)  # viewed tensor shares storage
    v[0][0] = 9
    assert d[0][0] == 9
    s = cls.storage_type()([1, 2, 3])
    ts = cls(s)
    assert ts.size() == (3,) and ts.storage().data_ptr() == s.data_ptr()
    assert d.new(3).type() == "torch." + name


def test_constructor_errors():
    with pytest.raises(TypeError, match="doesn't accept any keyword arguments"):
        ember.FloatTensor(2, x=3)
    with pytest.raises(TypeError, match=r"torch.FloatTensor constructor received an invalid combination"):
        ember.FloatTensor(ember.DoubleTensor(2))
    with pytest.raises(TypeError, match="Sequence data"):
        ember.FloatTensor([[1, 2], [3]])
    with pytest.raises(TypeError):
        ember.FloatTensor("abc")


def test_default_tensor_type():
    assert ember.Tensor is ember.FloatTensor
    ember.set_default_tensor_type("torch.DoubleTensor")
    try:
        assert ember.Tensor is ember.DoubleTensor and ember.Storage is ember.DoubleStorage
        assert ember.Tensor(2).type() == "torch.DoubleTensor"
    finally:
        ember.set_default_tensor_type("torch.FloatTensor")
    assert ember.Tensor is ember.FloatTensor


def test_size_class():
    s = ember.Size([2, 3])
    assert repr(s) == "torch.Size([2, 3])" and isinstance(s, tuple)
    assert isinstance(s[0:1], ember.Size)
    with pytest.raises(TypeError, match=r"torch.Size\(\) takes an iterable of 'int' \(item 1 is 'float'\)"):
        ember.Size([1, 2.5])


def test_typename_and_predicates():
    t = ember.FloatTensor(2)
    assert ember.typename(t) == "torch.FloatTensor"
    assert ember.typename(t.storage()) == "torch.FloatStorage"
    assert ember.is_tensor(t) and not ember.is_tensor(np.zeros(2))
    assert ember.is_storage(t.storage()) and not ember.is_storage(t)
    assert ember.numel(ember.FloatTensor(3, 4)) == 12
    assert ember.CharTensor(1).is_signed() is False and ember.ByteTensor(1).is_signed() is False
    assert ember.IntTensor(1).is_signed() is True


# ---------------------------------------------------------------- views against PyTorch

VIEW_CASES = [
    ("transpose", lambda t: t.transpose(0, 2)),
    ("t", lambda t: t[0].t()),
    ("permute", lambda t: t.permute(2, 0, 1)),
    ("narrow", lambda t: t.narrow(1, 1, 2)),
    ("select", lambda t: t.select(2, 1)),
    ("unsqueeze", lambda t: t.unsqueeze(1)),
    ("squeeze_dim", lambda t: t.unsqueeze(-1).squeeze(-1)),
    ("view", lambda t: t.view(6, 4)),
    ("view_infer", lambda t: t.view(-1, 8)),
    ("expand", lambda t: t[:, :1, :].expand(2, 3, 4)),
    ("expand_new_dims", lambda t: t[0, 0].expand(5, 4)),
    ("unfold", lambda t: t.unfold(2, 2, 1)),
    ("unfold_step", lambda t: t.transpose(0, 2).unfold(0, 2, 2)),
    ("slice", lambda t: t[1:, ::2]),
    ("ellipsis", lambda t: t[..., 1]),
]


@pytest.mark.parametrize("name,fn", VIEW_CASES, ids=[c[0] for c in VIEW_CASES])
def test_views_match_torch(name, fn):
    torch = require_torch()
    base = arange(2, 3, 4)
    tb = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    v, tv = fn(base), fn(tb)
    assert_same(v, tv)
    assert v.stride() == tv.stride(), name
    assert v.storage_offset() == tv.storage_offset(), name
    assert v.is_contiguous() == tv.is_contiguous(), name
    # writes through the view reach the base, as in 0.2
    assert v.storage().data_ptr() == base.storage().data_ptr()
    v.fill_(-1)
    tv.fill_(-1)
    assert_same(base, tb)


def test_view_requires_contiguous():
    t = arange(3, 4).t()
    with pytest.raises(RuntimeError, match="view\\(\\): input is not contiguous"):
        t.view(12)
    with pytest.raises(RuntimeError, match="invalid for input with 12 elements"):
        arange(3, 4).view(5, 2)
    assert arange(3, 4).t().contiguous().view(12).is_contiguous()


def test_view_size1_dims_count_as_contiguous():
    t = arange(3, 1, 4).transpose(0, 1)  # size-1 dim with an odd stride
    assert t.is_contiguous()
    assert t.view(12).tolist() == list(range(12))


def test_expand_errors_and_expand_as():
    t = arange(3, 1)
    assert t.expand_as(ember.FloatTensor(2, 3, 4)).size() == (2, 3, 4)
    assert t.expand(-1, 4).size() == (3, 4)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        t.expand(4, 4)


def test_squeeze_all_and_inplace_views():
    torch = require_torch()
    t = arange(1, 3, 1, 2)
    tt = torch.arange(6, dtype=torch.float32).reshape(1, 3, 1, 2)
    assert t.squeeze().size() == tuple(tt.squeeze().shape)
    assert t.squeeze(0).size() == tuple(tt.squeeze(0).shape)
    assert t.squeeze(1).size() == (1, 3, 1, 2)  # not size 1: unchanged
    u = arange(2, 3)
    u.t_()
    assert u.size() == (3, 2) and u.stride() == (1, 3)
    u.unsqueeze_(0)
    assert u.size() == (1, 3, 2)
    u.squeeze_()
    u.transpose_(0, 1)
    assert u.size() == (2, 3) and u.is_contiguous()


def test_repeat_matches_torch():
    torch = require_torch()
    t = arange(2, 3)
    assert_same(t.repeat(2, 1, 3), torch.arange(6.).float().reshape(2, 3).repeat(2, 1, 3))
    with pytest.raises(RuntimeError, match="repeat"):
        t.repeat(2)


def test_dim_errors():
    t = arange(2, 3)
    with pytest.raises(IndexError, match=r"dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        t.transpose(0, 2)
    with pytest.raises(RuntimeError, match="narrow"):
        t.narrow(1, 2, 5)
    with pytest.raises(IndexError, match="out of range"):
        t.select(0, 5)


def test_select_on_1d_returns_number():
    t = ember.LongTensor([4, 5, 6])
    assert t.select(0, -1) == 6 and isinstance(t.select(0, 1), int)
    assert isinstance(ember.FloatTensor([1.5])[0], float)


# ---------------------------------------------------------------- storage, set_, resize_

def test_storage_offset_and_set():
    torch = require_torch()
    s = ember.FloatStorage(list(range(10)))
    t = ember.FloatTensor().set_(s, 2, (2, 3), (3, 1))
    ts = torch.arange(10, dtype=torch.float32)
    tt = torch.empty(0).set_(ts.untyped_storage(), 2, (2, 3), (3, 1))
    assert_same(t, tt)
    assert t.storage_offset() == 2 and t.stride() == (3, 1)
    t[1, 2] = 100
    assert s[7] == 100
    u = ember.FloatTensor().set_(t)
    assert u.is_set_to(t) and u.data_ptr() == t.data_ptr()
    with pytest.raises(RuntimeError, match="too small"):
        ember.FloatTensor().set_(s, 8, (2, 3))
    assert ember.FloatTensor(3).set_().numel() == 0


def test_resize():
    t = ember.FloatTensor([1, 2, 3, 4, 5, 6])
    ptr = t.data_ptr()
    t.resize_(2, 3)
    assert t.size() == (2, 3) and t.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert t.data_ptr() == ptr  # storage big enough: no reallocation
    t.resize_(4, 4)
    assert t.size() == (4, 4) and t.storage().size() >= 16
    assert t.view(-1)[:6].tolist() == [1, 2, 3, 4, 5, 6]  # data kept on growth
    t.resize_as_(ember.FloatTensor(2))
    assert t.size() == (2,)
    t.resize_(0)
    assert t.numel() == 0 and t.dim() == 0


def test_empty_tensor_semantics():
    t = ember.FloatTensor()
    assert t.size() == ember.Size([]) and t.stride() == () and len(t) == 0
    assert not bool(t) and t.tolist() == [] and list(t) == []
    with pytest.raises(IndexError, match="indexing an empty tensor"):
        t[0]


def test_bool_and_hash():
    t = ember.FloatTensor([1])
    with pytest.raises(RuntimeError, match="bool value of non-empty torch.FloatTensor objects is ambiguous"):
        bool(t)
    assert hash(t) == id(t)
    assert {t: 1}[t] == 1


def test_data_attribute_raises():
    with pytest.raises(RuntimeError, match="cannot call .data on a torch.Tensor"):
        ember.FloatTensor(1).data


# ---------------------------------------------------------------- types

@pytest.mark.parametrize("src", TYPES)
@pytest.mark.parametrize("dst", ["double", "float", "half", "long", "int", "short", "char", "byte"])
def test_type_conversions(src, dst):
    t = getattr(ember, src)([[0, 1, 2], [3, 4, 5]]).t()
    r = getattr(t, dst)()
    want = np.array([[0, 1, 2], [3, 4, 5]], DTYPES[src]).T.astype(DTYPES[dst.capitalize() + "Tensor"])
    np.testing.assert_array_equal(r.numpy(), want)
    assert r.type() == "torch." + dst.capitalize() + "Tensor"
    if src == dst.capitalize() + "Tensor":
        assert r is t


def test_type_strings_and_classes():
    t = ember.FloatTensor(2).fill_(1.5)
    assert t.type() == "torch.FloatTensor"
    assert t.type("torch.DoubleTensor").type() == "torch.DoubleTensor"
    assert t.type("ember.IntTensor").tolist() == [1, 1]
    assert t.type(ember.LongTensor).type() == "torch.LongTensor"
    assert t.type_as(ember.ByteTensor(1)).type() == "torch.ByteTensor"
    assert t.type("torch.FloatTensor") is t
    with pytest.raises(ValueError, match="invalid type"):
        t.type("torch.ComplexTensor")


def test_float_to_int_truncates_like_c():
    t = ember.FloatTensor([-1.7, 1.7, 2.5])
    assert t.long().tolist() == [-1, 1, 2]


# ---------------------------------------------------------------- NumPy interop

def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = ember.from_numpy(a)
    assert t.type() == "torch.DoubleTensor"
    a[0, 0] = 42
    assert t[0][0] == 42
    t[1][2] = -1
    assert a[1, 2] == -1
    n = t.numpy()
    n[0, 1] = 7
    assert t[0][1] == 7
    assert np.asarray(t) is n or np.shares_memory(np.asarray(t), a)
    ft = ember.from_numpy(a.T)
    assert ft.stride() == (1, 3)
    with pytest.raises(TypeError, match="can't convert np.ndarray of type complex128"):
        ember.from_numpy(np.zeros(2, np.complex128))
    with pytest.raises(TypeError, match="expects an np.ndarray"):
        ember.from_numpy([1, 2])


def test_tolist_iter_and_numbers():
    t = ember.IntTensor([[1, 2], [3, 4]])
    assert t.tolist() == [[1, 2], [3, 4]]
    rows = list(t)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]
    assert list(ember.FloatTensor([1, 2])) == [1.0, 2.0]
    assert float(ember.FloatTensor([2.5])) == 2.5 and int(ember.LongTensor([3])) == 3
    assert [10, 20, 30][ember.LongTensor([1])] == 20  # __index__


def test_shape_property_and_len():
    t = ember.FloatTensor(4, 5)
    assert t.shape == ember.Size([4, 5]) and len(t) == 4 and t.size(-1) == 5 and t.stride(0) == 5
    assert t.nelement() == 20 and t.ndimension() == 2 and t.element_size() == 4


# ---------------------------------------------------------------- copy_, fill_, clone, contiguous

def test_copy_broadcast_and_cross_type():
    torch = require_torch()
    dst = ember.FloatTensor(2, 3).zero_()
    dst.copy_(ember.DoubleTensor([1.5, 2.5, 3.5]))
    td = torch.zeros(2, 3).copy_(torch.tensor([1.5, 2.5, 3.5], dtype=torch.float64))
    assert_same(dst, td)
    d2 = ember.IntTensor(6)
    d2.copy_(arange(2, 3))  # same numel, different shape: 0.2 copies elementwise
    assert d2.tolist() == [0, 1, 2, 3, 4, 5]
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        ember.FloatTensor(4).copy_(ember.FloatTensor(5))


def test_copy_overlapping_self():
    t = arange(5)
    t[1:].copy_(t[:-1])
    assert t.tolist() == [0, 0, 1, 2, 3]


def test_clone_and_contiguous():
    t = arange(3, 4).t()
    c = t.clone()
    assert c.tolist() == t.tolist() and c.data_ptr() != t.data_ptr()
    k = t.contiguous()
    assert k.is_contiguous() and k.stride() == (3, 1)
    assert arange(2, 2).contiguous().is_contiguous()
    x = arange(2, 2)
    assert x.contiguous() is x


def test_fill_casts_like_c():
    assert ember.ByteTensor(2).fill_(257).tolist() == [1, 1]
    assert ember.CharTensor(1).fill_(-129).tolist() == [127]
    assert ember.LongTensor(1).fill_(2.9).tolist() == [2]
    with pytest.raises(TypeError, match="fill_"):
        ember.FloatTensor(1).fill_("a")


def test_apply_map_map2():
    t = ember.FloatTensor([1, 2, 3])
    t.apply_(lambda x: x * 10)
    assert t.tolist() == [10, 20, 30]
    t.map_(ember.FloatTensor([1, 1, 1]), lambda a, b: a - b)
    assert t.tolist() == [9, 19, 29]
    t.map2_(ember.FloatTensor([1, 2, 3]), ember.FloatTensor([0, 0, 1]), lambda a, b, c: a + b + c)
    assert t.tolist() == [10, 21, 33]


# ---------------------------------------------------------------- pickling, deepcopy, sharing

@pytest.mark.parametrize("name", ["ByteTensor", "HalfTensor", "FloatTensor", "DoubleTensor", "LongTensor"])
def test_large_fills_and_copies_on_every_thread(name):
    # from 512 KB on, fill_/zero_ (ember._C.elementwise.fill) and copies of row-contiguous layouts
    # (copy_rows: clone, contiguous, copy_ into views) run on every thread; each itemsize, against NumPy
    cls = getattr(ember, name)
    dt = np.dtype(DTYPES[name])
    rows = (1 << 20) // (dt.itemsize * 300) + 7
    a = (np.random.RandomState(50).rand(rows, 300) * 100).astype(dt)
    x = cls(a.copy())
    assert x.fill_(7) is x and (x.numpy() == dt.type(7)).all()
    assert x.zero_() is x and not x.numpy().any()
    x = cls(a.copy())
    y = x.narrow(1, 3, 290)
    assert y.fill_(5) is y
    want = a.copy()
    want[:, 3:293] = 5
    np.testing.assert_array_equal(x.numpy(), want)
    x = cls(a.copy())
    for view, ref in ((x.narrow(1, 1, 250), a[:, 1:251]), (x[::2], a[::2]), (x.narrow(0, 5, rows - 9), a[5:-4])):
        c = view.clone()
        assert c.is_contiguous() and c.data_ptr() != view.data_ptr()
        np.testing.assert_array_equal(c.numpy(), ref)
        np.testing.assert_array_equal(view.contiguous().numpy(), ref)
    np.testing.assert_array_equal(x.clone().numpy(), a)
    # copy_ into a view, from a view
    z = cls(np.zeros_like(a))
    assert z.narrow(1, 10, 200).copy_(x.narrow(1, 50, 200)) is not None
    want = np.zeros_like(a)
    want[:, 10:210] = a[:, 50:250]
    np.testing.assert_array_equal(z.numpy(), want)
    # overlapping source and destination: copied through a temporary first
    x.narrow(1, 0, 299).copy_(x.narrow(1, 1, 299))
    want = a.copy()
    want[:, :299] = a[:, 1:]
    np.testing.assert_array_equal(x.numpy(), want)


@pytest.mark.parametrize("src,dst", [("FloatTensor", "DoubleTensor"), ("DoubleTensor", "FloatTensor"),
                                     ("FloatTensor", "LongTensor"), ("DoubleTensor", "IntTensor"),
                                     ("LongTensor", "FloatTensor"), ("IntTensor", "DoubleTensor"),
                                     ("ByteTensor", "FloatTensor"), ("ByteTensor", "LongTensor"),
                                     ("IntTensor", "LongTensor"), ("FloatTensor", "ByteTensor")])
def test_large_type_conversions_are_c_casts(src, dst):
    # from 512 KB the common pairs convert on every thread (ember._C.elementwise.convert); every pair gives
    # NumPy's astype, a C cast: floats truncate toward zero, doubles round to the nearest float
    rng = np.random.RandomState(52)
    n = (1 << 19) + 5
    a = (rng.standard_normal(n) * 1000).astype(DTYPES[src]) if src in ("FloatTensor", "DoubleTensor") \
        else rng.randint(0, 200, n).astype(DTYPES[src])
    if src == "FloatTensor" and dst == "ByteTensor":
        a = np.abs(a) % 250
    x = getattr(ember, src)(a)
    y = x.type("torch." + dst)
    assert y.type() == "torch." + dst
    np.testing.assert_array_equal(y.numpy(), a.astype(DTYPES[dst]))
    np.testing.assert_array_equal(getattr(x, {"DoubleTensor": "double", "FloatTensor": "float", "LongTensor": "long",
                                              "IntTensor": "int", "ByteTensor": "byte"}[dst])().numpy(),
                                  a.astype(DTYPES[dst]))
    np.testing.assert_array_equal(x[::2].type("torch." + dst).numpy(), a[::2].astype(DTYPES[dst]))  # NumPy's path


def test_copy_rows_and_fill_kernels_directly():
    from ember._C import elementwise as k
    a = np.arange(60000, dtype=np.float32).reshape(200, 300)
    out = np.empty((200, 100), np.float32)
    for nthreads in (1, 2, 3):
        out[...] = -1
        assert k.copy_rows(a[:, 100:200], out, nthreads) is True
        np.testing.assert_array_equal(out, a[:, 100:200])
    assert k.copy_rows(a.T, np.empty((300, 200), np.float32), 2) is False  # strided rows: not this kernel
    assert k.copy_rows(a[:, :100], a[:, 50:150], 2) is False  # overlap
    assert k.copy_rows(a, np.empty((200, 300), np.float64), 2) is False
    assert k.fill(a[:, :5], np.float32([1]), 2) is False  # not C-contiguous
    assert k.fill(a, np.float64([1]), 2) is False
    assert k.fill(a, np.float32([-0.0]), 2) is True and (np.signbit(a) & (a == 0)).all()  # not a memset


def test_pickle_and_deepcopy_keep_views_and_sharing():
    import copy
    base = arange(4, 4)
    view = base[1:3, 1:3]
    pair = copy.deepcopy([base, view])
    pair[0][1, 1] = -5
    assert pair[1][0, 0] == -5  # still a view of the copied base
    assert base[1, 1] == 5  # the original untouched
    p = pickle.loads(pickle.dumps(view))
    assert p.tolist() == view.tolist() and p.stride() == view.stride()


def test_share_memory_moves_storage():
    t = arange(3, 2)
    assert not t.is_shared()
    t.share_memory_()
    assert t.is_shared() and t.tolist() == [[0, 1], [2, 3], [4, 5]]
    t[0, 0] = 8
    assert t.storage()[0] == 8


def test_cuda_unavailable_is_clear():
    assert ember.cuda.is_available() is False or ember.cuda.device_count() > 0
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            ember.FloatTensor(2).cuda()
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            ember.FloatTensor(2).type("torch.cuda.FloatTensor")
        assert ember.cuda.device_count() == 0
