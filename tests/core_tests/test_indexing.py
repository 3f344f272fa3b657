"""The indexing ops (ember/_ops/indexing.py): index_select / index_add_ / index_copy_ / index_fill_, gather /
scatter_ / scatter_add_, the masked ops, nonzero, diag, tril / triu, index(m) and the extras take / put_.

Checked against PyTorch (the oracle, adapted per ORACLE.md: bool masks, nonzero's (0, n) result) and, where
results depend on ember's own ordering guarantees (duplicate indices), against serial NumPy loops."""
import warnings

import numpy as np
import pytest

import ember
from _helpers.oracle import assert_same, require_torch, to_torch

ALL_TYPES = ["DoubleTensor", "FloatTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
             "ByteTensor"]
LAYOUTS = ["contiguous", "transposed", "strided"]


def make(name, shape, layout="contiguous", seed=0, low=0, high=6):
    """A tensor of type ``name`` with small values; ``layout`` picks a non-contiguous view of the same values."""
    cls = getattr(ember, name)
    rng = np.random.default_rng(seed)
    vals = rng.integers(low, high, size=shape)
    if cls._is_floating:
        vals = vals + rng.integers(0, 4, size=shape) / 4.0  # exact in half precision too
    vals = vals.astype(cls._dtype)
    if layout == "transposed" and len(shape) >= 2:
        arr = np.ascontiguousarray(np.swapaxes(vals, 0, -1))
        t = ember.from_numpy(arr).transpose(0, -1)
    elif layout == "strided":
        arr = np.zeros(shape[:-1] + (shape[-1] * 2 + 1,), cls._dtype)
        arr[..., 1::2] = vals
        t = ember.from_numpy(arr)[..., 1::2]
    else:
        t = ember.from_numpy(vals.copy())
    assert layout == "contiguous" or not t.is_contiguous() or len(shape) < 2
    np.testing.assert_array_equal(t.numpy(), vals)
    return t


def long(values):
    return ember.LongTensor(np.asarray(values, dtype=np.int64))


def mask(values):
    return ember.ByteTensor(np.asarray(values, dtype=np.uint8))


def to_bool(t):
    return to_torch(t).bool()


# ---------------------------------------------------------------- index_select

@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_select_matches_torch(name, layout):
    torch = require_torch()
    x = make(name, (4, 5, 3), layout)
    for dim, idx in [(0, [3, 0, 3]), (1, [4, 1]), (-1, [2, 2, 0, 1]), (-3, [1])]:
        i = long(idx)
        expected = torch.index_select(to_torch(x), dim, to_torch(i))
        assert_same(x.index_select(dim, i), expected)
        assert_same(ember.index_select(x, dim, i), expected)


def test_index_select_1d_out_and_noncontiguous_index():
    torch = require_torch()
    x = make("FloatTensor", (10,))
    i = long([[9, 1], [0, 2], [4, 4]]).t()[0]  # a non-contiguous index vector
    assert not i.is_contiguous()
    out = ember.FloatTensor(7, 7)
    r = ember.index_select(x, 0, i, out=out)
    assert r is out
    assert_same(out, torch.index_select(to_torch(x), 0, to_torch(i)))


def test_index_select_large_threads():
    """Big enough for the parallel kernel; every thread count gives NumPy's answer."""
    x = make("DoubleTensor", (300, 200), "transposed", seed=3, high=1000)
    idx = np.random.default_rng(4).integers(0, 300, 500)
    expected = x.numpy()[idx]
    old = ember.get_num_threads()
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            np.testing.assert_array_equal(x.index_select(0, long(idx)).numpy(), expected)
            np.testing.assert_array_equal(x.index_select(1, long(idx % 200)).numpy(), x.numpy()[:, idx % 200])
    finally:
        ember.set_num_threads(old)


def test_index_select_errors():
    x = make("FloatTensor", (3, 4))
    with pytest.raises(TypeError, match=r"index_select received an invalid combination of arguments - got "
                                        r"\(int, torch.IntTensor\), but expected \(int dim, torch.LongTensor index\)"):
        x.index_select(0, ember.IntTensor([0]))
    with pytest.raises(RuntimeError, match=r"index_select\(\): index is supposed to be a vector, got a \[2 x 1\]"):
        x.index_select(0, long([[0], [1]]))
    with pytest.raises(RuntimeError, match=r"index_select\(\): index 4 is out of range for dimension 1 \(of size 4\)"):
        x.index_select(1, long([0, 4]))
    with pytest.raises(RuntimeError, match=r"index -1 is out of range for dimension 0 \(of size 3\)"):
        x.index_select(0, long([-1]))
    with pytest.raises(IndexError, match="dimension out of range"):
        x.index_select(2, long([0]))
    with pytest.raises(TypeError, match="expected out to be a torch.FloatTensor"):
        ember.index_select(x, 0, long([0]), out=ember.DoubleTensor())
    assert x.index_select(0, ember.LongTensor()).numel() == 0


# ---------------------------------------------------------------- index_add_ / index_copy_ / index_fill_

@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_add_matches_torch(name, layout):
    require_torch()
    for dim, idx in [(0, [3, 0, 3, 3]), (1, [1, 4]), (-1, [2, 0, 2])]:
        x = make(name, (4, 5, 3), layout, seed=1)
        src_shape = [4, 5, 3]
        src_shape[dim] = len(idx)
        src = make(name, tuple(src_shape), layout, seed=2)
        tx = to_torch(x)
        r = x.index_add_(dim, long(idx), src)
        assert r is x
        assert_same(x, tx.index_add_(dim, to_torch(long(idx)), to_torch(src)), rtol=1e-3)


@pytest.mark.parametrize("name", ["FloatTensor", "LongTensor", "HalfTensor"])
def test_index_add_large_duplicates_threads(name):
    """Large enough for the parallel kernel, with many duplicate indices: sums agree with np.add.at."""
    x0 = make(name, (200, 300), seed=5)
    src = make(name, (1000, 300), "transposed", seed=6)
    idx = np.random.default_rng(7).integers(0, 200, 1000)
    expected = x0.numpy().astype(np.float64)
    np.add.at(expected, idx, src.numpy().astype(np.float64))
    old = ember.get_num_threads()
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            x = x0.clone()
            x.index_add_(0, long(idx), src)
            np.testing.assert_allclose(x.numpy().astype(np.float64), expected.astype(x0.numpy().dtype),
                                       rtol=2e-3 if name == "HalfTensor" else 1e-6)
    finally:
        ember.set_num_threads(old)


def test_index_add_source_aliases_self():
    x = make("DoubleTensor", (4, 3), seed=8)
    expected = x.numpy().copy()
    np.add.at(expected, [1, 1, 0, 2], x.numpy().copy())
    x.index_add_(0, long([1, 1, 0, 2]), x)
    np.testing.assert_array_equal(x.numpy(), expected)


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_copy_matches_torch(name, layout):
    require_torch()
    for dim, idx in [(0, [3, 0]), (1, [4, 1, 0]), (-1, [2, 0])]:
        x = make(name, (4, 5, 3), layout, seed=1)
        src_shape = [4, 5, 3]
        src_shape[dim] = len(idx)
        src = make(name, tuple(src_shape), layout, seed=2)
        tx = to_torch(x)
        assert x.index_copy_(dim, long(idx), src) is x
        assert_same(x, tx.index_copy_(dim, to_torch(long(idx)), to_torch(src)))


def test_index_copy_duplicates_last_wins():
    x = ember.FloatTensor(3, 2).zero_()
    src = ember.FloatTensor([[1, 2], [3, 4], [5, 6]])
    x.index_copy_(0, long([2, 0, 2]), src)
    np.testing.assert_array_equal(x.numpy(), [[3, 4], [0, 0], [5, 6]])


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_index_fill_matches_torch(name, layout):
    require_torch()
    for dim, idx in [(0, [3, 0, 3]), (-2, [4, 1]), (2, [1])]:
        x = make(name, (4, 5, 3), layout, seed=1)
        tx = to_torch(x)
        assert x.index_fill_(dim, long(idx), 7) is x
        assert_same(x, tx.index_fill_(dim, to_torch(long(idx)), 7))


def test_index_fill_large_1d_threads():
    idx = np.random.default_rng(9).integers(0, 100000, 60000)
    expected = np.zeros(100000, np.float32)
    expected[idx] = -2.5
    old = ember.get_num_threads()
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            x = ember.FloatTensor(100000).zero_()
            x.index_fill_(0, long(idx), -2.5)
            np.testing.assert_array_equal(x.numpy(), expected)
    finally:
        ember.set_num_threads(old)


def test_index_inplace_errors():
    x = make("FloatTensor", (3, 4))
    with pytest.raises(RuntimeError, match=r"index_add_\(\): source should have size \[2 x 4\].*got \[2 x 3\]"):
        x.index_add_(0, long([0, 1]), ember.FloatTensor(2, 3))
    with pytest.raises(RuntimeError, match=r"index_copy_\(\): source should have size \[3 x 1\]"):
        x.index_copy_(1, long([0]), ember.FloatTensor(3, 2))
    with pytest.raises(TypeError, match=r"index_add_ received an invalid combination of arguments - got \(int, "
                                        r"torch.LongTensor, torch.DoubleTensor\)"):
        x.index_add_(0, long([0]), ember.DoubleTensor(1, 4))
    with pytest.raises(TypeError, match=r"index_copy_ received an invalid combination.*torch.ByteTensor"):
        x.index_copy_(0, mask([0]), ember.FloatTensor(1, 4))
    with pytest.raises(RuntimeError, match=r"index_add_\(\): index 3 is out of range for dimension 0 \(of size 3\)"):
        x.index_add_(0, long([0, 3]), ember.FloatTensor(2, 4))
    with pytest.raises(RuntimeError, match=r"index_fill_\(\): index 9 is out of range for dimension 1 \(of size 4\)"):
        x.index_fill_(1, long([9]), 1)
    with pytest.raises(TypeError, match=r"index_fill_\(\): expected a number, got torch.FloatTensor"):
        x.index_fill_(1, long([0]), ember.FloatTensor([1]))
    with pytest.raises(RuntimeError, match="supposed to be a vector"):
        x.index_fill_(1, long([[0]]), 1)
    y = x.clone()
    assert x.index_fill_(0, ember.LongTensor(), 5) is x and ember.equal(x, y)  # an empty index changes nothing
    assert ember.equal(x.index_add_(0, ember.LongTensor(), ember.FloatTensor()), y)


# ---------------------------------------------------------------- gather / scatter_ / scatter_add_

def _column_permutations(shape, dim, seed):
    """An index of ``shape`` whose entries are distinct along ``dim`` (no duplicate scatter targets)."""
    rng = np.random.default_rng(seed)
    moved = np.moveaxis(np.zeros(shape, np.int64), dim, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    for r in range(flat.shape[0]):
        flat[r] = rng.permutation(moved.shape[-1])
    return np.moveaxis(flat.reshape(moved.shape), -1, dim)


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_gather_matches_torch(name, layout):
    torch = require_torch()
    x = make(name, (4, 5, 3), layout)
    for dim in (0, 1, -1):
        n = x.size(dim)
        shape = [4, 5, 3]
        shape[dim] = 6  # the index may be longer than the dim along it (repeats)
        idx = long(np.random.default_rng(dim + 10).integers(0, n, size=shape))
        expected = torch.gather(to_torch(x), dim, to_torch(idx))
        assert_same(x.gather(dim, idx), expected)
        assert_same(ember.gather(x, dim, idx), expected)


def test_gather_noncontiguous_index_out_and_1d():
    torch = require_torch()
    x = make("FloatTensor", (5, 4), "transposed")
    idx = long(np.random.default_rng(1).integers(0, 5, size=(4, 5))).t()  # (5, 4), non-contiguous
    out = ember.FloatTensor()
    assert ember.gather(x, 0, idx, out=out) is out
    assert_same(out, torch.gather(to_torch(x), 0, to_torch(idx)))
    v = make("IntTensor", (7,))
    assert_same(v.gather(0, long([6, 0, 0])), torch.gather(to_torch(v), 0, torch.tensor([6, 0, 0])))


def test_gather_large_threads():
    x = make("FloatTensor", (300, 200), "strided", seed=2, high=1000)
    idx = np.random.default_rng(3).integers(0, 300, size=(300, 200))
    expected = np.take_along_axis(x.numpy(), idx, 0)
    old = ember.get_num_threads()
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            np.testing.assert_array_equal(x.gather(0, long(idx)).numpy(), expected)
            np.testing.assert_array_equal(x.gather(1, long(idx % 200)).numpy(),
                                          np.take_along_axis(x.numpy(), idx % 200, 1))
    finally:
        ember.set_num_threads(old)


def test_gather_errors():
    x = make("FloatTensor", (3, 4))
    with pytest.raises(RuntimeError, match=r"gather\(\): index \[3 x 2\] and self \[3 x 4\] should have the same "
                                           r"size in every dimension but dimension 0"):
        x.gather(0, long(np.zeros((3, 2))))  # 0.2 demands equal sizes off the gather dim
    with pytest.raises(RuntimeError, match=r"gather\(\): index should have the same number of dimensions as self"):
        x.gather(1, long([0, 1]))
    with pytest.raises(RuntimeError, match=r"gather\(\): index 4 is out of range for dimension 1 \(of size 4\)"):
        x.gather(1, long([[0], [4], [1]]))
    with pytest.raises(RuntimeError, match=r"index -2 is out of range for dimension 0"):
        x.gather(0, long([[0, 0, -2, 0]]))
    with pytest.raises(TypeError, match=r"gather received an invalid combination of arguments - got \(int, "
                                        r"torch.FloatTensor\), but expected \(int dim, torch.LongTensor index\)"):
        x.gather(0, ember.FloatTensor([[0, 0, 0, 0]]))


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_scatter_matches_torch(name, layout):
    require_torch()
    for dim in (0, 1, -1):
        x = make(name, (4, 5, 3), layout, seed=1)
        shape = [4, 5, 3]
        idx = long(_column_permutations(tuple(shape), dim, seed=dim + 20))
        shape[dim] += 2  # src may be longer along dim than the index
        src = make(name, tuple(shape), layout, seed=2)
        tx = to_torch(x)
        tsrc = to_torch(src).narrow(dim, 0, idx.size(dim))
        assert x.scatter_(dim, idx, src) is x
        assert_same(x, tx.scatter_(dim, to_torch(idx), tsrc))
        # the value overload
        x2 = make(name, (4, 5, 3), layout, seed=1)
        sub = idx.narrow(dim, 0, 2)
        assert_same(x2.scatter_(dim, sub, 3), to_torch(make(name, (4, 5, 3), seed=1)).scatter_(dim, to_torch(sub), 3))


def test_scatter_0_2_docs_examples():
    x = ember.FloatTensor([[0.4319, 0.6500, 0.4080, 0.8760, 0.2355], [0.2609, 0.4711, 0.8486, 0.8573, 0.1029]])
    r = ember.FloatTensor(3, 5).zero_().scatter_(0, long([[0, 1, 2, 0, 0], [2, 0, 0, 1, 2]]), x)
    xa = x.numpy()
    np.testing.assert_array_equal(r.numpy(), np.array([[xa[0, 0], xa[1, 1], xa[1, 2], xa[0, 3], xa[0, 4]],
                                                        [0, xa[0, 1], 0, xa[1, 3], 0],
                                                        [xa[1, 0], 0, xa[0, 2], 0, xa[1, 4]]], np.float32))
    z = ember.FloatTensor(2, 4).zero_().scatter_(1, long([[2], [3]]), 1.23)
    np.testing.assert_array_equal(z.numpy(), np.array([[0, 0, 1.23, 0], [0, 0, 0, 1.23]], np.float32))


@pytest.mark.parametrize("threads", [1, 2])
def test_scatter_duplicates_last_wins(threads):
    """Duplicate targets resolve as 0.2's serial loop did, whatever the thread count."""
    rng = np.random.default_rng(30)
    shape = (300, 150)
    for dim in (0, 1):
        idx = rng.integers(0, 10, size=shape)
        src = rng.standard_normal(shape).astype(np.float32)
        expected = np.zeros(shape, np.float32)
        it = np.nditer(idx, flags=["multi_index"])
        for v in it:  # serial reference, in index order
            pos = list(it.multi_index)
            pos[dim] = int(v)
            expected[tuple(pos)] = src[it.multi_index]
        old = ember.get_num_threads()
        ember.set_num_threads(threads)
        try:
            r = ember.FloatTensor(*shape).zero_().scatter_(dim, long(idx), ember.from_numpy(src))
        finally:
            ember.set_num_threads(old)
        np.testing.assert_array_equal(r.numpy(), expected)


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_scatter_add_matches_torch(name, layout):
    require_torch()
    for dim in (0, 1, -1):
        x = make(name, (4, 5, 3), layout, seed=1)
        shape = [4, 5, 3]
        shape[dim] = 7
        idx = long(np.random.default_rng(dim + 3).integers(0, x.size(dim), size=shape))  # with duplicates
        src = make(name, tuple(shape), layout, seed=2)
        tx = to_torch(x)
        assert x.scatter_add_(dim, idx, src) is x
        assert_same(x, tx.scatter_add_(dim, to_torch(idx), to_torch(src)), rtol=1e-3)


@pytest.mark.parametrize("threads", [1, 2])
def test_scatter_add_large(threads):
    torch = require_torch()
    rng = np.random.default_rng(31)
    x = rng.standard_normal((400, 120))
    idx = rng.integers(0, 400, size=(400, 120))
    src = rng.standard_normal((400, 120))
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for dim in (0, 1):
            i = idx % x.shape[dim]
            r = ember.from_numpy(x.copy()).scatter_add_(dim, long(i), ember.from_numpy(src))
            assert_same(r, torch.from_numpy(x.copy()).scatter_add_(dim, torch.from_numpy(i), torch.from_numpy(src)),
                        rtol=1e-12, atol=1e-12)
    finally:
        ember.set_num_threads(old)


def test_scatter_errors():
    x = ember.FloatTensor(3, 4).zero_()
    with pytest.raises(RuntimeError, match=r"scatter_\(\): index 3 is out of range for dimension 0 \(of size 3\)"):
        x.scatter_(0, long([[0, 3, 0, 0]]), ember.FloatTensor(1, 4))
    with pytest.raises(RuntimeError, match=r"scatter_\(\): src should have the size of index \[2 x 4\]"):
        x.scatter_(0, long(np.zeros((2, 4))), ember.FloatTensor(1, 4))
    with pytest.raises(RuntimeError, match=r"scatter_add_\(\): index \[3 x 2\] and self \[3 x 4\] should have the "
                                           r"same size"):
        x.scatter_add_(0, long(np.zeros((3, 2))), ember.FloatTensor(3, 2))
    with pytest.raises(TypeError, match=r"scatter_ received an invalid combination of arguments - got \(int, "
                                        r"torch.LongTensor, torch.DoubleTensor\)"):
        x.scatter_(0, long(np.zeros((1, 4))), ember.DoubleTensor(1, 4))
    with pytest.raises(TypeError, match=r"scatter_add_ received an invalid combination.*"
                                        r"got \(int, torch.LongTensor, float\)"):
        x.scatter_add_(0, long(np.zeros((1, 4))), 1.0)
    with pytest.raises(TypeError, match=r"scatter_\(\): expected a float, got str"):
        x.scatter_(0, long(np.zeros((1, 4))), "a")
    with pytest.raises(RuntimeError, match=r"scatter_\(\): index -1 is out of range"):
        x.scatter_(1, long([[-1], [0], [0]]), 2.0)


# ---------------------------------------------------------------- masks

@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_masked_fill_matches_torch(name, layout):
    require_torch()
    rng = np.random.default_rng(40)
    for mshape in [(4, 5, 3), (5, 3), (1, 5, 1), (3,)]:  # broadcasting to self
        m = mask(rng.integers(0, 2, size=mshape))
        x = make(name, (4, 5, 3), layout)
        tx = to_torch(x)
        assert x.masked_fill_(m, 5) is x
        assert_same(x, tx.masked_fill_(to_bool(m), 5))


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("value", [5, -0.0, float("nan"), 1e30])
def test_large_masked_fill_blends_every_type(name, value):
    # above the blend kernel's threshold (ember._C.elementwise.masked_fill), with a contiguous, a transposed
    # (NumPy then) and a broadcast mask
    cls = getattr(ember, name)
    rng = np.random.default_rng(41)
    if not cls._is_floating and (value != value or abs(value) > 1e9):
        pytest.skip("an integer type holds no NaN nor 1e30")
    base = (rng.random((70, 90)) * 100).astype(cls._dtype)
    bits = rng.integers(0, 2, (70, 90))
    for m in (mask(bits), mask(bits.T).t(), mask(bits[:1])):
        x = cls(base.copy())
        want = base.copy()
        with np.errstate(over="ignore"):
            fill = np.array(value).astype(cls._dtype)
        np.copyto(want, fill, where=np.broadcast_to(m.numpy(), want.shape).astype(bool))
        assert x.masked_fill_(m, value) is x
        got = x.numpy()
        np.testing.assert_array_equal(got, want)
        assert (np.signbit(got) == np.signbit(want)).all()


def test_masked_fill_fallback_and_errors():
    x = make("FloatTensor", (2, 3))
    m = mask([1, 0, 0, 1, 1, 0])  # same number of elements, not broadcastable: 0.2's deprecated pointwise fallback
    with pytest.warns(UserWarning, match="not broadcastable, but have the same number of elements"):
        x.masked_fill_(m, -1)
    expected = make("FloatTensor", (2, 3)).numpy()
    expected[np.array([[1, 0, 0], [1, 1, 0]], bool)] = -1
    np.testing.assert_array_equal(x.numpy(), expected)
    with pytest.raises(TypeError, match=r"masked_fill_\(\): expected mask to be a torch.ByteTensor, got "
                                        r"torch.LongTensor"):
        x.masked_fill_(long([[1, 0, 0], [0, 0, 0]]), 1)
    with pytest.raises(RuntimeError, match=r"mask tensor can take 0 and 1 values only, got 2"):
        x.masked_fill_(mask([[2, 0, 0], [0, 0, 0]]), 1)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(2\)"):
        x.masked_fill_(mask([1, 0]), 1)
    with pytest.raises(RuntimeError, match=r"masked_fill_\(\): mask of size \[2 x 2 x 3\] can't be broadcast"):
        x.masked_fill_(mask(np.zeros((2, 2, 3))), 1)
    with pytest.raises(TypeError, match=r"masked_fill_\(\): expected a number, got torch.FloatTensor"):
        x.masked_fill_(mask([1, 0, 0]), ember.FloatTensor([1]))
    v = ember.IntTensor([1, 2, 3])
    v.masked_fill_(mask([1, 0, 1]), 7.9)  # an int type truncates the value, as a C cast
    assert v.tolist() == [7, 2, 7]


@pytest.mark.parametrize("name", ["DoubleTensor", "HalfTensor", "LongTensor", "ByteTensor"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_masked_scatter_matches_torch(name, layout):
    require_torch()
    rng = np.random.default_rng(41)
    for mshape in [(4, 5, 3), (5, 1)]:
        m = mask(rng.integers(0, 2, size=mshape))
        x = make(name, (4, 5, 3), layout, seed=1)
        src = make(name, (7, 11), layout, seed=2)  # more elements than the mask selects
        tx = to_torch(x)
        assert x.masked_scatter_(m, src) is x
        assert_same(x, tx.masked_scatter_(to_bool(m), to_torch(src)))


def test_masked_scatter_errors_and_masked_copy():
    x = ember.FloatTensor(2, 3).zero_()
    with pytest.raises(RuntimeError, match=r"masked_scatter_\(\): source has 2 elements but the mask selects 3"):
        x.masked_scatter_(mask([[1, 1, 0], [0, 0, 1]]), ember.FloatTensor([1, 2]))
    with pytest.raises(TypeError, match=r"masked_scatter_ received an invalid combination.*torch.DoubleTensor"):
        x.masked_scatter_(mask([[1, 1, 0], [0, 0, 1]]), ember.DoubleTensor([1, 2, 3]))
    with pytest.warns(UserWarning, match=r"^masked_copy_ is deprecated and renamed to masked_scatter_, and will be "
                                         r"removed in v0.3$"):
        r = x.masked_copy_(mask([[1, 0, 0], [0, 1, 1]]), ember.FloatTensor([4, 5, 6, 7]))
    assert r is x
    assert x.tolist() == [[4, 0, 0], [0, 5, 6]]


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_masked_select_matches_torch(name, layout):
    torch = require_torch()
    rng = np.random.default_rng(42)
    x = make(name, (4, 5, 3), layout)
    for mshape in [(4, 5, 3), (5, 3), (2, 4, 5, 3)]:  # the mask may also broadcast self
        m = mask(rng.integers(0, 2, size=mshape))
        expected = torch.masked_select(to_torch(x), to_bool(m))
        assert_same(x.masked_select(m), expected)
        assert_same(ember.masked_select(x, m), expected)


def test_masked_select_out_empty_and_fallback():
    x = make("FloatTensor", (2, 3))
    out = ember.FloatTensor(10)
    assert ember.masked_select(x, mask([[0, 1, 1], [1, 0, 0]]), out=out) is out
    np.testing.assert_array_equal(out.numpy(), x.numpy()[np.array([[0, 1, 1], [1, 0, 0]], bool)])
    e = x.masked_select(mask(np.zeros((2, 3))))
    assert e.size() == ember.Size([]) and e.numel() == 0 and e.type() == "torch.FloatTensor"
    with pytest.warns(UserWarning, match="same number of elements"):
        r = x.masked_select(mask([1, 1, 0, 0, 0, 1]))
    np.testing.assert_array_equal(r.numpy(), x.numpy().reshape(-1)[[0, 1, 5]])


# ---------------------------------------------------------------- nonzero, index(m)

@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_nonzero_matches_torch(name, layout):
    torch = require_torch()
    x = make(name, (4, 5, 3), layout, high=2)
    expected = torch.nonzero(to_torch(x))
    assert_same(x.nonzero(), expected)
    assert_same(ember.nonzero(x), expected)
    v = make(name, (9,), high=2)
    assert_same(v.nonzero(), torch.nonzero(to_torch(v)))  # size (n, 1)


def test_nonzero_empty_and_out():
    z = ember.FloatTensor(3, 4).zero_()
    r = z.nonzero()
    assert r.type() == "torch.LongTensor" and r.size() == ember.Size([])  # 0.2: empty, not (0, 2)
    assert ember.FloatTensor().nonzero().numel() == 0
    out = ember.LongTensor(1)
    x = ember.FloatTensor([[0, 1], [2, 0]])
    assert ember.nonzero(x, out=out) is out
    assert out.tolist() == [[0, 1], [1, 0]]
    with pytest.raises(TypeError, match="expected out to be a torch.LongTensor"):
        ember.nonzero(x, out=ember.FloatTensor())


def test_index_method_is_getitem():
    x = make("FloatTensor", (4, 3))
    m = mask([[1, 0, 1], [0, 0, 0], [1, 1, 1], [0, 1, 0]])
    np.testing.assert_array_equal(x.index(m).numpy(), x[m].numpy())
    np.testing.assert_array_equal(x.index(long([3, 1])).numpy(), x.numpy()[[3, 1]])
    assert x.index(2).storage().data_ptr() == x.storage().data_ptr()
    assert x.index(slice(1, 3)).size() == (2, 3)


# ---------------------------------------------------------------- diag, tril, triu

@pytest.mark.parametrize("name", ALL_TYPES)
def test_diag_matches_torch(name):
    torch = require_torch()
    v = make(name, (4,), "strided")
    m = make(name, (3, 5), "transposed")
    for k in (0, 2, -1):
        assert_same(v.diag(k), torch.diag(to_torch(v), k))
        assert_same(ember.diag(m, diagonal=k), torch.diag(to_torch(m), k))
    d = m.diag()
    d.fill_(0)  # a copy, not a view
    assert m.numpy().any()


def test_diag_out_and_errors():
    m = ember.FloatTensor([[1, 2], [3, 4]])
    out = ember.FloatTensor(9)
    assert ember.diag(m, out=out) is out and out.tolist() == [1, 4]
    assert m.diag(5).numel() == 0  # a diagonal outside the matrix is empty
    with pytest.raises(RuntimeError, match=r"diag\(\): expected a matrix or a vector, got a 3D tensor"):
        ember.FloatTensor(2, 2, 2).diag()
    with pytest.raises(TypeError, match=r"diag\(\): diagonal must be an int, got float"):
        m.diag(0.5)


@pytest.mark.parametrize("name", ALL_TYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tril_triu_match_torch(name, layout):
    torch = require_torch()
    for shape in [(4, 4), (3, 6), (6, 3)]:
        for k in (0, 1, -2, 7):
            x = make(name, shape, layout, low=1)
            tx = to_torch(x)
            assert_same(x.tril(k), torch.tril(tx, k))
            assert_same(ember.triu(x, k), torch.triu(tx, k))
            assert_same(x.triu(diagonal=k), torch.triu(tx, k))
            base = x.clone()
            assert x.tril_(k) is x
            assert_same(x, tx.clone().tril_(k))
            assert_same(base.triu_(k), tx.clone().triu_(k))


def test_tril_inplace_writes_through_view_and_out():
    base = ember.FloatTensor(4, 6).fill_(1)
    view = base[:, 1::2]  # (4, 3), non-contiguous
    view.triu_(1)
    expected = np.ones((4, 6), np.float32)
    expected[:, 1::2] = np.triu(np.ones((4, 3)), 1)
    np.testing.assert_array_equal(base.numpy(), expected)
    out = ember.FloatTensor()
    assert ember.tril(ember.FloatTensor([[1, 2], [3, 4]]), out=out) is out and out.tolist() == [[1, 0], [3, 4]]
    m = ember.FloatTensor([[1, 2], [3, 4]])
    assert m.tril(10 ** 30).tolist() == [[1, 2], [3, 4]] and m.triu(10 ** 30).tolist() == [[0, 0], [0, 0]]
    assert m.clone().tril_(-10 ** 30).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(RuntimeError, match=r"tril\(\): expected a matrix, got a 1D tensor"):
        ember.FloatTensor(3).tril()
    with pytest.raises(RuntimeError, match=r"triu_\(\): expected a matrix, got a 3D tensor"):
        ember.FloatTensor(2, 2, 2).triu_()


# ---------------------------------------------------------------- ember extras: take, put_

@pytest.mark.parametrize("name", ["DoubleTensor", "HalfTensor", "IntTensor", "ByteTensor"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_take_matches_torch(name, layout):
    torch = require_torch()
    x = make(name, (4, 5), layout)
    idx = long([[0, 19, -1], [7, 7, -20]])
    assert_same(x.take(idx), torch.take(to_torch(x), to_torch(idx)))
    assert_same(ember.take(x, long([3])), torch.take(to_torch(x), torch.tensor([3])))


@pytest.mark.parametrize("name", ["DoubleTensor", "FloatTensor", "HalfTensor", "LongTensor", "CharTensor"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_put_matches_torch(name, layout):
    require_torch()
    idx = long([[0, 19, -1], [7, 3, -20]])  # distinct targets
    src = make(name, (2, 3), seed=3)
    x = make(name, (4, 5), layout)
    tx = to_torch(x)
    assert x.put_(idx, src) is x
    assert_same(x, tx.put_(to_torch(idx), to_torch(src)))
    dup = long([1, 1, -19, 6, 6, 6])  # -19 is 1 again
    src = make(name, (6,), seed=4)
    x = make(name, (4, 5), layout)
    tx = to_torch(x)
    x.put_(dup, src, accumulate=True)
    assert_same(x, tx.put_(to_torch(dup), to_torch(src), accumulate=True), rtol=1e-3)


def test_take_put_errors():
    x = ember.FloatTensor(2, 3).zero_()
    with pytest.raises(RuntimeError, match=r"take\(\): index 6 is out of range for a tensor of 6 elements"):
        x.take(long([6]))
    with pytest.raises(RuntimeError, match=r"put_\(\): index -7 is out of range for a tensor of 6 elements"):
        x.put_(long([-7]), ember.FloatTensor([1]))
    with pytest.raises(RuntimeError, match=r"put_\(\): source and index should have the same number of elements"):
        x.put_(long([1, 2]), ember.FloatTensor([1]))
    with pytest.raises(TypeError, match=r"take received an invalid combination.*torch.IntTensor"):
        x.take(ember.IntTensor([0]))
    assert x.take(ember.LongTensor()).numel() == 0


def test_index_ops_registered():
    for name in ("index_select", "gather", "masked_select", "nonzero", "diag", "tril", "triu", "take"):
        assert callable(getattr(ember, name))
    for name in ("index_add_", "index_copy_", "index_fill_", "scatter_", "scatter_add_", "masked_fill_",
                 "masked_scatter_", "masked_copy_", "tril_", "triu_", "put_", "index"):
        assert callable(getattr(ember.FloatTensor, name))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.FloatTensor(2).zero_().masked_scatter_(mask([1, 0]), ember.FloatTensor([3]))


@pytest.mark.parametrize("shape", [(70001,), (300, 257), (6, 1, 40, 300), (2, 3, 4, 5, 6, 7, 8)])
def test_large_nonzero_kernel_matches_argwhere(shape):
    # from 2^16 elements ember._C.indexing.nonzero: threads count their chunks, then write their rows;
    # every dtype it takes, NaN nonzero and -0.0 zero, views, all-zero and all-nonzero inputs
    rng = np.random.RandomState(70)
    mask = rng.rand(*shape) > 0.6
    for name in ("ByteTensor", "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "FloatTensor",
                 "DoubleTensor"):
        x = getattr(ember, name)(mask.astype(getattr(ember, name)._dtype))
        r = x.nonzero()
        assert r.type() == "torch.LongTensor"
        np.testing.assert_array_equal(r.numpy(), np.argwhere(mask))
    f = rng.standard_normal(shape).astype(np.float32)
    f[f > 1] = np.nan
    f[f < -0.5] = -0.0
    f[np.abs(f) < 0.2] = 0
    np.testing.assert_array_equal(ember.FloatTensor(f).nonzero().numpy(), np.argwhere(f))
    if len(shape) > 1:
        t = ember.FloatTensor(f).transpose(0, len(shape) - 1)
        np.testing.assert_array_equal(t.nonzero().numpy(), np.argwhere(np.swapaxes(f, 0, len(shape) - 1)))
    assert ember.FloatTensor(np.zeros(shape, np.float32)).nonzero().numel() == 0
    np.testing.assert_array_equal(ember.ByteTensor(np.ones(shape, np.uint8)).nonzero().numpy(),
                                  np.argwhere(np.ones(shape)))
