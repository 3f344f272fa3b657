"""cat, stack, split, chunk, unbind: against NumPy and PyTorch 2.13 (the oracle), with 0.2's rules
(cat skips empty tensors; chunk uses ceil(size / chunks) and may return fewer chunks; split, chunk and
unbind return views)."""
import numpy as np
import pytest

import ember as torch
from _helpers.oracle import assert_same, require_torch, to_torch

ALL_TYPES = [torch.DoubleTensor, torch.FloatTensor, torch.HalfTensor, torch.LongTensor, torch.IntTensor,
             torch.ShortTensor, torch.CharTensor, torch.ByteTensor]


def make(cls, *shape):
    n = int(np.prod(shape))
    return cls(torch.arange(0, n).numpy().astype(cls._dtype)).view(*shape)


def shares_memory(a, b):
    return np.shares_memory(a.numpy(), b.numpy())


# ---------------------------------------------------------------------- cat

@pytest.mark.parametrize("cls", ALL_TYPES)
def test_cat_every_type(cls):
    a, b = make(cls, 2, 3), make(cls, 4, 3)
    r = torch.cat([a, b])
    assert type(r) is cls
    np.testing.assert_array_equal(r.numpy(), np.concatenate([a.numpy(), b.numpy()]))


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
def test_cat_dims_non_contiguous(dim):
    base = make(torch.DoubleTensor, 4, 5, 6)
    a = base.transpose(0, 2)            # 6x5x4, non-contiguous
    b = base.transpose(0, 2).clone()    # contiguous copy
    c = base.permute(2, 1, 0).narrow(dim % 3, 0, 2)
    r = torch.cat((a, b, c), dim)
    expected = np.concatenate([a.numpy(), b.numpy(), c.numpy()], axis=dim)
    np.testing.assert_array_equal(r.numpy(), expected)
    assert r.is_contiguous()


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_large_cat_of_views_matches_numpy(dim):
    # each input goes into its slice of the result on every thread (row-contiguous) or through NumPy
    rng = np.random.RandomState(51)
    base = rng.rand(40, 60, 70).astype(np.float32)
    x = torch.FloatTensor(base)
    parts = [x.narrow(dim, 0, 10), x.narrow(dim, 10, 25), x.transpose(0, 1).transpose(0, 1), x.chunk(3, dim)[1]]
    step = -(-base.shape[dim] // 3)  # 0.2's chunk size: ceil(n / chunks)
    refs = [np.take(base, range(0, 10), dim), np.take(base, range(10, 35), dim), base,
            np.take(base, range(step, 2 * step), dim)]
    r = torch.cat(parts, dim)
    np.testing.assert_array_equal(r.numpy(), np.concatenate(refs, dim))
    big = torch.cat([x] * 8, dim)
    np.testing.assert_array_equal(big.numpy(), np.concatenate([base] * 8, dim))


def test_cat_result_is_a_copy():
    a = make(torch.FloatTensor, 3)
    r = torch.cat([a])
    assert not shares_memory(r, a)
    r[0] = 100
    assert a[0] == 0


def test_cat_skips_empty_tensors():
    a, b = make(torch.FloatTensor, 2, 2), make(torch.FloatTensor, 1, 2)
    r = torch.cat([torch.FloatTensor(), a, torch.FloatTensor(), b], 0)
    np.testing.assert_array_equal(r.numpy(), np.concatenate([a.numpy(), b.numpy()]))
    r = torch.cat([a, torch.FloatTensor()], 1)
    np.testing.assert_array_equal(r.numpy(), a.numpy())
    e = torch.cat([torch.LongTensor(), torch.LongTensor()])
    assert type(e) is torch.LongTensor and e.numel() == 0


def test_cat_accepts_any_iterable():
    a = make(torch.FloatTensor, 2)
    r = torch.cat(t for t in (a, a))
    assert r.tolist() == [0, 1, 0, 1]
    assert torch.cat(seq=[a, a], dim=0).tolist() == [0, 1, 0, 1]


def test_cat_out():
    a, b = make(torch.LongTensor, 2, 2), make(torch.LongTensor, 2, 1)
    out = torch.LongTensor(9)
    r = torch.cat([a, b], 1, out=out)
    assert r is out
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a.numpy(), b.numpy()], 1))
    with pytest.raises(TypeError, match=r"cat\(\): expected out to be a torch.LongTensor, got torch.FloatTensor"):
        torch.cat([a, b], 1, out=torch.FloatTensor())


def test_cat_errors():
    a = make(torch.FloatTensor, 2, 3)
    with pytest.raises(TypeError, match=r"cat\(\): expected all tensors to be of type torch.FloatTensor "
                                        r"\(element 0\), but element 1 is torch.DoubleTensor"):
        torch.cat([a, a.double()])
    with pytest.raises(RuntimeError, match=r"cat\(\): inconsistent tensor sizes: .* every dimension but 0 .*"
                                           r"got \[2 x 3\] and \[2 x 4\]"):
        torch.cat([a, make(torch.FloatTensor, 2, 4)])
    with pytest.raises(RuntimeError, match=r"got \[2 x 3\] and \[3\]"):
        torch.cat([a, make(torch.FloatTensor, 3)], 1)
    with pytest.raises(IndexError, match=r"cat\(\): dimension out of range \(expected to be in range of \[-2, 1\], "
                                         r"but got 2\)"):
        torch.cat([a, a], 2)
    with pytest.raises(ValueError, match=r"cat\(\): expected a non-empty sequence of tensors"):
        torch.cat([])
    with pytest.raises(TypeError, match=r"cat\(\): expected a sequence of tensors, but element 1 is int"):
        torch.cat([a, 3])
    with pytest.raises(TypeError, match=r"cat\(\): argument 'seq' must be a sequence of tensors, got int"):
        torch.cat(3)
    with pytest.raises(TypeError, match=r"got a single torch.FloatTensor"):
        torch.cat(a)


def test_cat_parity():
    th = require_torch()
    a, b = make(torch.FloatTensor, 3, 2, 4), make(torch.FloatTensor, 3, 5, 4)
    assert_same(torch.cat([a, b], 1), th.cat([to_torch(a), to_torch(b)], 1))
    assert_same(torch.cat([a, a, a], -1), th.cat([to_torch(a)] * 3, -1))


def test_cat_is_not_a_tensor_method():
    assert not hasattr(torch.FloatTensor, "cat")


# ---------------------------------------------------------------------- stack

@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
def test_stack_dims(dim):
    base = make(torch.FloatTensor, 3, 4)
    ts = [base, base.t().t() * 2, base.t().contiguous().t()]
    r = torch.stack(ts, dim)
    np.testing.assert_array_equal(r.numpy(), np.stack([t.numpy() for t in ts], axis=dim))


@pytest.mark.parametrize("cls", ALL_TYPES)
def test_stack_types_and_parity(cls):
    a, b = make(cls, 2, 3), make(cls, 2, 3)
    r = torch.stack((a, b), 1)
    assert type(r) is cls and r.size() == torch.Size([2, 2, 3])
    np.testing.assert_array_equal(r.numpy(), np.stack([a.numpy(), b.numpy()], 1))


def test_stack_1d_and_out():
    th = require_torch()
    a, b = make(torch.DoubleTensor, 4), make(torch.DoubleTensor, 4)
    out = torch.DoubleTensor()
    assert torch.stack([a, b], 1, out=out) is out
    assert_same(out, th.stack([to_torch(a), to_torch(b)], 1))
    assert_same(torch.stack([a, b], -1), th.stack([to_torch(a), to_torch(b)], -1))


def test_stack_errors():
    a = make(torch.FloatTensor, 2, 3)
    with pytest.raises(ValueError, match="stack expects a non-empty sequence of tensors"):
        torch.stack([])
    with pytest.raises(RuntimeError, match=r"stack\(\): expected all tensors to have the same size, got \[2 x 3\] "
                                           r"\(element 0\) and \[3 x 2\] \(element 1\)"):
        torch.stack([a, a.t()])
    with pytest.raises(TypeError, match=r"stack\(\): expected all tensors to be of type torch.FloatTensor"):
        torch.stack([a, a.long()])
    with pytest.raises(IndexError, match=r"stack\(\): dimension out of range"):
        torch.stack([a, a], 3)


# ---------------------------------------------------------------------- split

@pytest.mark.parametrize("size, split_size, dim", [((7, 3), 3, 0), ((7, 3), 2, 1), ((4, 6), 6, 1),
                                                   ((4, 6), 10, 1), ((2, 5, 4), 2, -2), ((5,), 1, 0)])
def test_split_views(size, split_size, dim):
    x = make(torch.FloatTensor, *size)
    parts = torch.split(x, split_size, dim)
    assert isinstance(parts, tuple)
    n = size[dim]
    expected = np.split(x.numpy(), list(range(split_size, n, split_size)), axis=dim)
    assert len(parts) == len(expected)
    for p, e in zip(parts, expected):
        assert type(p) is torch.FloatTensor
        np.testing.assert_array_equal(p.numpy(), e)
        assert shares_memory(p, x)
        assert p.storage().data_ptr() == x.storage().data_ptr()
    parts[-1].fill_(-1)  # writes through to x
    assert x.numpy().take(-1) == -1


def test_split_method_and_non_contiguous():
    x = make(torch.DoubleTensor, 4, 6).t()
    parts = x.split(4)
    assert [p.size() for p in parts] == [torch.Size([4, 4]), torch.Size([2, 4])]
    np.testing.assert_array_equal(parts[1].numpy(), x.numpy()[4:])
    assert x.split(split_size=3, dim=1)[1].tolist() == x.numpy()[:, 3:].tolist()


def test_split_parity():
    th = require_torch()
    x = make(torch.FloatTensor, 5, 7)
    for got, want in zip(torch.split(x, 3, 1), th.split(to_torch(x), 3, 1)):
        assert_same(got, want)


def test_split_errors():
    x = make(torch.FloatTensor, 4)
    with pytest.raises(RuntimeError, match=r"split\(\): split_size must be a positive int, got 0"):
        x.split(0)
    with pytest.raises(TypeError, match=r"split\(\): split_size must be an int, got float"):
        x.split(1.5)
    with pytest.raises(IndexError, match=r"split\(\): dimension out of range"):
        x.split(1, 1)
    with pytest.raises(RuntimeError, match=r"split\(\): cannot split an empty tensor"):
        torch.FloatTensor().split(1)
    with pytest.raises(TypeError, match=r"split\(\): expected a tensor, got list"):
        torch.split([1, 2], 1)


# ---------------------------------------------------------------------- chunk

@pytest.mark.parametrize("n, chunks, sizes", [
    (6, 3, [2, 2, 2]), (5, 3, [2, 2, 1]), (6, 4, [2, 2, 2]), (5, 5, [1] * 5), (3, 7, [1, 1, 1]),
    (10, 4, [3, 3, 3, 1]), (7, 1, [7]),
])
def test_chunk_sizes(n, chunks, sizes):
    # 0.2: chunk size ceil(n / chunks), so fewer chunks may come back (6 into 4 gives 3)
    x = make(torch.LongTensor, 2, n)
    parts = torch.chunk(x, chunks, 1)
    assert [p.size(1) for p in parts] == sizes
    np.testing.assert_array_equal(np.concatenate([p.numpy() for p in parts], 1), x.numpy())
    assert all(shares_memory(p, x) for p in parts)


def test_chunk_method_and_parity():
    th = require_torch()
    x = make(torch.FloatTensor, 9, 4)
    assert len(x.chunk(n_chunks=4)) == 3
    assert len(x.chunk(2, dim=-1)) == 2
    for got, want in zip(x.chunk(4, 0), th.chunk(to_torch(x), 4, 0)):
        assert_same(got, want)
    for got, want in zip(torch.chunk(x, 3, -1), th.chunk(to_torch(x), 3, -1)):
        assert_same(got, want)


def test_chunk_errors():
    x = make(torch.FloatTensor, 4)
    with pytest.raises(RuntimeError, match=r"chunk\(\): chunks must be a positive int, got 0"):
        torch.chunk(x, 0)
    with pytest.raises(TypeError, match=r"chunk\(\): chunks must be an int, got str"):
        x.chunk("2")


# ---------------------------------------------------------------------- unbind

def test_unbind_views():
    x = make(torch.FloatTensor, 3, 4)
    rows = torch.unbind(x)
    cols = torch.unbind(x, 1)
    assert len(rows) == 3 and len(cols) == 4
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(r.numpy(), x.numpy()[i])
        assert shares_memory(r, x)
    for j, c in enumerate(torch.unbind(x, -1)):
        np.testing.assert_array_equal(c.numpy(), x.numpy()[:, j])
    cols[2].fill_(-7)
    assert x.numpy()[:, 2].tolist() == [-7, -7, -7]


def test_unbind_1d_gives_numbers():
    # 0.2's unbind is select(dim, i), and select on a 1-D tensor returns a Python number
    assert torch.unbind(torch.LongTensor([4, 5, 6])) == (4, 5, 6)
    assert all(type(v) is float for v in torch.unbind(torch.FloatTensor([1.5, 2])))


def test_unbind_parity_and_errors():
    th = require_torch()
    x = make(torch.DoubleTensor, 2, 3, 2)
    for got, want in zip(torch.unbind(x, 1), th.unbind(to_torch(x), 1)):
        assert_same(got, want)
    with pytest.raises(IndexError, match=r"unbind\(\): dimension out of range"):
        torch.unbind(x, 3)
    assert not hasattr(torch.FloatTensor, "unbind")  # a torch function only in 0.2


def test_view_ops_as_torch_functions():
    x = torch.FloatTensor([[1, 2, 3], [4, 5, 6]])
    assert torch.t(x).tolist() == [[1, 4], [2, 5], [3, 6]]
    assert torch.transpose(x, 0, 1).stride() == (1, 3)  # a view, as the method
    assert torch.unsqueeze(x, 1).size() == (2, 1, 3)
    assert torch.squeeze(torch.unsqueeze(x, 0)).size() == (2, 3)
    out = torch.FloatTensor()
    assert torch.t(x, out=out) is out and out.is_contiguous() and out.tolist() == [[1, 4], [2, 5], [3, 6]]


# ---------------------------------------------------------------------- contiguous copies of views

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8])
@pytest.mark.parametrize("shape,perm", [((300, 517), (1, 0)), ((3, 70, 130), (2, 1, 0)), ((5, 40, 90), (0, 2, 1)),
                                        ((2, 17, 33, 64), (0, 2, 3, 1)), ((64, 1, 700), (2, 1, 0)),
                                        ((9, 40, 100), (1, 0, 2)),
                                        # short last axes: pixel_shuffle's view, NCHW -> NHWC with 3 channels
                                        ((3, 4, 2, 2, 28, 28), (0, 1, 4, 2, 5, 3)), ((4, 3, 60, 70), (0, 2, 3, 1)),
                                        # a short unit-stride axis, far-apart last axis elements / near ones
                                        ((256, 300, 4), (2, 1, 0)), ((256, 4, 300), (0, 2, 1)),
                                        ((50000, 2), (1, 0)), ((2, 50000), (1, 0)),
                                        # many short rows (a row-contiguous copy)
                                        ((16, 60, 30, 20), (0, 2, 1, 3))])
def test_contiguous_of_permuted_views_is_exact(dtype, shape, perm):
    # above the blocked copy's threshold (ember._C.elementwise.transpose_copy), with edge blocks, size-1 dims,
    # and a permutation that keeps the last axis (NumPy's copy then)
    base = (np.random.RandomState(19).rand(*shape) * 100).astype(dtype)
    view = base.transpose(perm)
    cls = torch.from_numpy(base).__class__
    t = torch.from_numpy(base).permute(*perm)
    for r in (t.contiguous(), t.clone()):
        assert type(r) is cls and r.is_contiguous() and r.size() == torch.Size(view.shape)
        np.testing.assert_array_equal(r.numpy(), view)
    narrow = torch.from_numpy(base)[..., 1:].permute(*perm)  # not a permutation of contiguous memory
    np.testing.assert_array_equal(narrow.contiguous().numpy(), base[..., 1:].transpose(perm))


def test_blocked_copy_declines_what_it_does_not_cover():
    from ember._C import elementwise
    a = np.arange(4096, dtype=np.float32).reshape(64, 64)
    out = np.empty((64, 64), np.float32)
    assert elementwise.transpose_copy(a.T, out, 2) and (out == a.T).all()
    assert not elementwise.transpose_copy(a, out, 2)  # already along the last axis
    assert not elementwise.transpose_copy(a[:, ::2].T, np.empty((32, 64), np.float32), 2)  # no unit stride
    assert not elementwise.transpose_copy(a.T, np.empty((64, 64), np.float64), 2)  # another dtype
    assert not elementwise.transpose_copy(a.T, np.empty((32, 128), np.float32), 2)  # another shape
