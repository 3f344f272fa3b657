"""Python indexing, ``t[key]`` and ``t[key] = value``, with 0.2's semantics: basic indexing (ints, slices with a
positive step, None, Ellipsis) gives views with PyTorch's size/stride/storage_offset; LongTensors, sequences and
ByteTensor masks give copies; a full int index gives a Python number.

Checked against PyTorch (same layouts on both sides) and NumPy."""
import numpy as np
import pytest

import ember
from _helpers.oracle import assert_same, require_torch

TYPES = ["DoubleTensor", "FloatTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
         "ByteTensor"]


def pair(shape=(3, 4, 5), layout="contiguous", name="FloatTensor"):
    """An ember tensor and a torch tensor with the same values, size and strides (separate memory)."""
    torch = require_torch()
    cls = getattr(ember, name)
    n = int(np.prod(shape))
    vals = (np.arange(n) % 97).reshape(shape).astype(cls._dtype)
    if layout == "transposed":
        base = np.ascontiguousarray(np.swapaxes(vals, 0, -1))
        e, t = ember.from_numpy(base.copy()).transpose(0, -1), torch.from_numpy(base.copy()).transpose(0, -1)
    elif layout == "stepped":
        base = np.zeros(shape[:-1] + (2 * shape[-1],), cls._dtype)
        base[..., ::2] = vals
        e, t = ember.from_numpy(base.copy())[..., ::2], torch.from_numpy(base.copy())[..., ::2]
    else:
        e, t = ember.from_numpy(vals.copy()), torch.from_numpy(vals.copy())
    assert e.stride() == t.stride()
    return e, t


def assert_view(e, t, base):
    """``e`` is a view of ``base`` laid out exactly like torch's ``t``."""
    assert e.size() == tuple(t.shape)
    assert e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset()
    assert e.storage().data_ptr() == base.storage().data_ptr()
    np.testing.assert_array_equal(e.numpy(), t.numpy())


BASIC_KEYS = [
    (1,), (-1,), (1, 2), (slice(None), 2), (Ellipsis, 1), (1, Ellipsis), (slice(1, None), slice(None, None, 2)),
    (slice(None, None, 3),), (slice(-2, None), slice(None), slice(1, 4, 2)), (None,), (None, None), (Ellipsis, None),
    (None, Ellipsis, None), (0, None, slice(1, 3)), (slice(None), None), (None, slice(None, None, 2)),
    (slice(0, 100),), (slice(-100, 2),), (Ellipsis,), (slice(None), slice(None), slice(None), None), (2, -1, None),
]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
@pytest.mark.parametrize("key", BASIC_KEYS, ids=repr)
def test_basic_indexing_views_match_torch(layout, key):
    e, t = pair(layout=layout)
    r = e[key]
    assert_view(r, t[key], e)
    # a view: writing through it changes the base
    r.fill_(55)
    t[key].fill_(55)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("name", TYPES)
def test_full_int_index_gives_python_number(name):
    e, t = pair(name=name)
    for key in [(1, 2, 3), (-1, -1, -1), (0, 1, Ellipsis, 4), (np.int64(2), np.int32(1), 0)]:
        v = e[key]
        assert type(v) is (float if e._is_floating else int)
        assert v == t[key].item()
    v1 = e[1][2]  # 1-D tensor by int
    assert v1[4] == t[1][2][4].item() and type(v1[4]) is type(e[0, 0, 0])
    assert e[1, 2, None].size() == (1, 5)  # a None keeps a dim: still a tensor


def test_int_index_views_of_noncontiguous():
    e, t = pair(layout="transposed")
    assert_view(e[2], t[2], e)
    assert_view(e[2][1], t[2][1], e)
    assert_view(e.index(1), t[1], e)


def test_basic_indexing_errors():
    e, _ = pair()
    with pytest.raises(IndexError, match="^indexing an empty tensor$"):
        ember.FloatTensor()[0]
    with pytest.raises(IndexError, match="^indexing an empty tensor$"):
        ember.FloatTensor()[0:1]
    with pytest.raises(IndexError, match="^indexing an empty tensor$"):
        ember.FloatTensor()[0] = 1
    with pytest.raises(ValueError, match="^slice step has to be greater than 0$"):
        e[::-1]
    with pytest.raises(ValueError, match="^slice step has to be greater than 0$"):
        e[:, ::0]
    with pytest.raises(ValueError, match="^result of slicing is an empty tensor$"):
        e[2:1]
    with pytest.raises(ValueError, match="^result of slicing is an empty tensor$"):
        e[:, 7:]
    with pytest.raises(IndexError, match=r"index 3 is out of range for dimension 0 \(of size 3\)"):
        e[3]
    with pytest.raises(IndexError, match=r"index -6 is out of range for dimension 2 \(of size 5\)"):
        e[0, 0, -6]
    with pytest.raises(IndexError, match=r"index 4 is out of range for dimension 1 \(of size 4\)"):
        e[None, 0, 4]
    with pytest.raises(IndexError, match=r"index 9 is out of range for dimension 2 \(of size 5\)"):
        e[..., 9]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 3"):
        e[0, 0, 0, 0]
    with pytest.raises(IndexError, match="a single ellipsis"):
        e[..., 0, ...]
    with pytest.raises(TypeError, match="indexing a tensor with an object of type float"):
        e[1.5]
    with pytest.raises(TypeError, match="indexing a tensor with an object of type str"):
        e["a"]
    with pytest.raises(TypeError, match="indexing a tensor with an object of type bool"):
        e[True]
    with pytest.raises(TypeError, match="indexing a tensor with an object of type torch.FloatTensor"):
        e[ember.FloatTensor([0])]
    with pytest.raises(TypeError, match="indexing a tensor with an object of type torch.IntTensor"):
        e[ember.IntTensor([0])]
    with pytest.raises(TypeError, match="indexing a tensor with a sequence of float64"):
        e[[0.5, 1.0]]


# ---------------------------------------------------------------- advanced indexing: copies

@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
def test_long_tensor_and_sequence_indexing_match_torch(layout):
    torch = require_torch()
    e, t = pair(layout=layout)
    cases = [
        (ember.LongTensor([2, 0, 2]), torch.tensor([2, 0, 2])),
        ((slice(None), ember.LongTensor([3, 1])), (slice(None), torch.tensor([3, 1]))),
        ((ember.LongTensor([0, 2]), ember.LongTensor([1, 3])), (torch.tensor([0, 2]), torch.tensor([1, 3]))),
        ((1, slice(None), ember.LongTensor([4, -1])), (1, slice(None), torch.tensor([4, -1]))),
        ((Ellipsis, ember.LongTensor([[0, 1], [4, 4]])), (Ellipsis, torch.tensor([[0, 1], [4, 4]]))),
        ([0, 2], [0, 2]),
        ((slice(None), [1, 1], slice(1, 3)), (slice(None), [1, 1], slice(1, 3))),
        ((ember.LongTensor([0, 1]), slice(None), ember.LongTensor([2, 3])),
         (torch.tensor([0, 1]), slice(None), torch.tensor([2, 3]))),
        ((None, ember.LongTensor([1])), (None, torch.tensor([1]))),
        (np.array([1, 0]), np.array([1, 0])),
    ]
    for ke, kt in cases:
        r = e[ke]
        assert_same(r, t[kt])
        assert r.is_contiguous()
        r.fill_(0)  # a copy: the base is unchanged
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("name", TYPES)
def test_mask_indexing_matches_torch(name):
    torch = require_torch()
    e, t = pair(name=name, layout="transposed")
    rng = np.random.default_rng(0)
    for mshape in [(3, 4, 5), (3,), (3, 4)]:
        m = rng.integers(0, 2, size=mshape).astype(np.uint8)
        assert_same(e[ember.ByteTensor(m)], t[torch.from_numpy(m).bool()])
    m = rng.integers(0, 2, size=(4,)).astype(np.uint8)
    assert_same(e[1, ember.ByteTensor(m)], t[1, torch.from_numpy(m).bool()])
    assert_same(e[:, ember.ByteTensor(m), 2:4], t[:, torch.from_numpy(m).bool(), 2:4])
    assert_same(e[[True, False, True]], t[[True, False, True]])


def test_mask_selecting_nothing_gives_empty_tensor():
    e, _ = pair()
    r = e[ember.ByteTensor(3, 4, 5).zero_()]
    assert r.size() == ember.Size([]) and r.numel() == 0 and r.type() == "torch.FloatTensor"
    assert e[ember.LongTensor()].numel() == 0
    assert e[[]].numel() == 0


def test_advanced_indexing_errors():
    e, _ = pair()
    with pytest.raises(IndexError, match=r"index 3 is out of range for dimension 0 \(of size 3\)"):
        e[ember.LongTensor([0, 3])]
    with pytest.raises(IndexError, match=r"index -6 is out of range for dimension 2 \(of size 5\)"):
        e[:, :, ember.LongTensor([-6])]
    with pytest.raises(IndexError, match=r"index 4 is out of range for dimension 1 \(of size 4\)"):
        e[0, [1, 4]]
    with pytest.raises(IndexError, match=r"index 7 is out of range for dimension 0 \(of size 3\)"):
        e[7, ember.LongTensor([0])]
    with pytest.raises(IndexError, match=r"the mask of size \[2\] does not match the size \[3\] of the indexed "
                                         r"tensor at dimension 0"):
        e[ember.ByteTensor([1, 0])]
    with pytest.raises(IndexError, match="mask tensor can take 0 and 1 values only, got 2"):
        e[ember.ByteTensor([1, 2, 0])]
    with pytest.raises(IndexError, match=r"shape mismatch: indexing tensors could not be broadcast together with "
                                         r"sizes \[2\] \[3\]"):
        e[ember.LongTensor([0, 1]), ember.LongTensor([0, 1, 2])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 3"):
        e[ember.ByteTensor(3, 4, 5).zero_(), 0]


# ---------------------------------------------------------------- assignment

@pytest.mark.parametrize("layout", ["contiguous", "transposed", "stepped"])
def test_setitem_numbers_and_tensors_match_torch(layout):
    torch = require_torch()
    e, t = pair(layout=layout)
    rng = np.random.default_rng(1)
    m = rng.integers(0, 2, size=(3, 4, 5)).astype(np.uint8)
    cases = [
        ((1, 2, 3), (1, 2, 3), -1.5),
        ((0,), (0,), 7),
        ((slice(None), 1), (slice(None), 1), 2.5),
        ((Ellipsis, slice(None, None, 2)), (Ellipsis, slice(None, None, 2)), 9),
        ((None, 1), (None, 1), 4),
        ((ember.ByteTensor(m),), (torch.from_numpy(m).bool(),), -3),
        ((ember.LongTensor([2, 0]),), (torch.tensor([2, 0]),), 11),
        ((slice(None), ember.LongTensor([3])), (slice(None), torch.tensor([3])), 12),
    ]
    for ke, kt, v in cases:
        e[ke] = v
        t[kt] = v
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    tensor_cases = [
        ((1,), (1,), (4, 5)),
        ((slice(None), 0), (slice(None), 0), (5,)),  # broadcast along dim 0
        ((Ellipsis, 2), (Ellipsis, 2), (3, 1)),
        ((0, slice(1, 3)), (0, slice(1, 3)), (1, 5)),
        ((ember.LongTensor([0, 2]),), (torch.tensor([0, 2]),), (2, 4, 5)),
        ((ember.LongTensor([1, 1]), 3), (torch.tensor([1, 1]), 3), (5,)),
        ((ember.ByteTensor(m),), (torch.from_numpy(m).bool(),), (int(m.sum()),)),
    ]
    for ke, kt, shape in tensor_cases:
        vals = rng.integers(-50, 50, size=shape).astype(np.float32)
        e[ke] = ember.from_numpy(vals.copy())
        t[kt] = torch.from_numpy(vals.copy())
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("name", TYPES)
def test_setitem_casts_numbers_and_other_tensor_types(name):
    e, _ = pair(name=name)
    e[0, 0, 0] = 3.75
    assert e[0, 0, 0] == (np.array(3.75).astype(e._dtype)).item()
    e[1] = ember.DoubleTensor(4, 5).fill_(2.5)  # another type is copied with a cast, as copy_ does
    expected = np.full((4, 5), 2.5).astype(e._dtype)
    np.testing.assert_array_equal(e[1].numpy(), expected)


def test_setitem_0_2_fallbacks():
    e, _ = pair(shape=(2, 6))
    e[0] = ember.FloatTensor(2, 3).fill_(4)  # equal element counts copy elementwise (0.2's copy_)
    assert e[0].tolist() == [4] * 6
    x = ember.FloatTensor(2, 3).zero_()
    m = ember.ByteTensor([[1, 0, 1], [0, 1, 0]])
    x[m] = ember.FloatTensor([7, 8, 9, 10, 11])  # 0.2: t[mask] = source is masked_scatter_ (extra source unused)
    assert x.tolist() == [[7, 0, 8], [0, 9, 0]]


def test_setitem_overlapping_source():
    e = ember.FloatTensor([0, 1, 2, 3, 4, 5])
    e[1:] = e[:-1]
    assert e.tolist() == [0, 0, 1, 2, 3, 4]
    e = ember.FloatTensor([0, 1, 2, 3, 4, 5])
    e[ember.LongTensor([5, 4, 3])] = e[:3]
    assert e.tolist() == [0, 1, 2, 2, 1, 0]


def test_setitem_errors():
    e, _ = pair()
    with pytest.raises(TypeError, match=r"__setitem__: can't assign a str to a torch.FloatTensor"):
        e[0] = "a"
    with pytest.raises(TypeError, match=r"__setitem__: can't assign a list to a torch.FloatTensor"):
        e[0] = [1, 2]
    with pytest.raises(RuntimeError, match=r"__setitem__: can't assign a tensor of size \[3\] to a selection of "
                                           r"size \[4 x 5\]"):
        e[0] = ember.FloatTensor(3).zero_()
    with pytest.raises(IndexError, match=r"index 3 is out of range for dimension 0 \(of size 3\)"):
        e[3] = 1
    with pytest.raises(IndexError, match=r"index 9 is out of range for dimension 1 \(of size 4\)"):
        e[:, ember.LongTensor([9])] = 1
    with pytest.raises(ValueError, match="slice step has to be greater than 0"):
        e[::-1] = 1
    with pytest.raises(IndexError, match="shape mismatch: indexing tensors could not be broadcast"):
        e[ember.LongTensor([0, 1]), ember.LongTensor([0, 1, 2])] = 1
    with pytest.raises(RuntimeError, match=r"can't assign a tensor of size \[2\] to a selection of size \[3\]"):
        e[ember.ByteTensor([1, 1, 1]), 0, 0] = ember.FloatTensor([1, 2])
