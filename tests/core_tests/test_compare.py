"""Comparisons against PyTorch 2.13 (the oracle) and NumPy, with 0.2's rules: eq ne lt le gt ge return
ByteTensors (the oracle's bool results compare as uint8), in-place forms write 0/1 into self, a number
is cast to the tensor's type first, tensor types never mix; ``equal`` compares sizes and values."""
import operator

import numpy as np
import pytest

import ember as torch
from _helpers.oracle import assert_same, require_torch, to_torch

FLOATS = [torch.FloatTensor, torch.DoubleTensor]
INTS = [torch.LongTensor, torch.IntTensor, torch.ShortTensor, torch.CharTensor, torch.ByteTensor]
ALL = FLOATS + INTS
NP = {torch.FloatTensor: np.float32, torch.DoubleTensor: np.float64, torch.HalfTensor: np.float16,
      torch.LongTensor: np.int64, torch.IntTensor: np.int32, torch.ShortTensor: np.int16,
      torch.CharTensor: np.int8, torch.ByteTensor: np.uint8}
OPS = ["eq", "ne", "lt", "le", "gt", "ge"]
PY = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
      "ge": operator.ge}


def data(cls, shape, seed=0):
    # few distinct values, so that equal elements are common
    a = np.random.RandomState(seed).randint(0, 5, shape).astype(NP[cls])
    return torch.from_numpy(a)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("name", OPS)
def test_compare_against_torch(name, cls):
    T = require_torch()
    x, y = data(cls, (4, 6)), data(cls, (4, 6), seed=1)
    tx, ty = to_torch(x), to_torch(y)
    expected = getattr(T, name)(tx, ty)
    xt = torch.from_numpy(np.ascontiguousarray(x.numpy().T)).t()  # same values, non-contiguous
    for v in (x, xt):
        for r in (getattr(torch, name)(v, y), getattr(v, name)(y), PY[name](v, y)):
            assert type(r) is torch.ByteTensor
            assert_same(r, expected)
        assert_same(getattr(v, name)(2), getattr(T, name)(tx, 2))
    # broadcasting
    row = data(cls, (6,), seed=2)
    assert_same(getattr(x, name)(row), getattr(T, name)(tx, to_torch(row)))
    assert_same(PY[name](x, row.view(1, 6)), getattr(T, name)(tx, to_torch(row).view(1, 6)))


@pytest.mark.parametrize("cls", [torch.FloatTensor, torch.LongTensor, torch.ByteTensor])
@pytest.mark.parametrize("name", OPS)
def test_compare_in_place_and_out(name, cls):
    T = require_torch()
    x, y = data(cls, (3, 5)), data(cls, (3, 5), seed=1)
    expected = getattr(T, name)(to_torch(x), to_torch(y)).to(to_torch(x).dtype)
    z = x.clone()
    assert getattr(z, name + "_")(y) is z
    assert type(z) is cls
    assert_same(z, expected)
    z = x.clone()
    getattr(z, name + "_")(3)
    assert_same(z, getattr(T, name)(to_torch(x), 3).to(to_torch(x).dtype))
    out = torch.ByteTensor(2)
    assert getattr(torch, name)(x, y, out=out) is out
    assert_same(out, expected.to(T.uint8))
    same = cls(1)  # 0.2 also accepts an out tensor of the input's type
    assert getattr(torch, name)(x, y, out=same) is same
    assert_same(same, expected)
    with pytest.raises(TypeError, match=r"out must be a torch\.ByteTensor or a {}, got torch\.IntTensor"
                       .format(cls._typename.replace(".", r"\."))):
        getattr(torch, name)(x, y, out=torch.IntTensor(1) if cls is not torch.IntTensor else torch.ShortTensor(1))


def test_compare_number_is_cast_to_the_tensor_type():
    x = torch.LongTensor([1, 2, 3])
    assert x.lt(2.5).tolist() == [1, 0, 0]  # 2.5 becomes 2 (a C cast), as in 0.2
    assert (x == 2.9).tolist() == [0, 1, 0]
    assert (x > 1.5).tolist() == [0, 1, 1]
    assert (torch.ByteTensor([0, 255]) == -1).tolist() == [0, 1]  # -1 wraps to 255
    assert (torch.FloatTensor([1, 2.5]) == 2.5).tolist() == [0, 1]


def test_compare_nan():
    x = torch.DoubleTensor([float("nan"), 1, 2])
    y = torch.DoubleTensor([float("nan"), 1, float("nan")])
    assert x.eq(y).tolist() == [0, 1, 0]
    assert x.ne(y).tolist() == [1, 0, 1]
    assert (x < y).tolist() == [0, 0, 0]
    assert (x >= y).tolist() == [0, 1, 0]


def test_compare_large_non_contiguous_matches_numpy():
    rng = np.random.RandomState(3)
    a = rng.randn(300, 400).astype(np.float32)
    b = rng.randn(400, 300).astype(np.float32)
    x, y = torch.from_numpy(a), torch.from_numpy(b).t()
    for name in OPS:
        np.testing.assert_array_equal(getattr(x, name)(y).numpy(), PY[name](a, b.T).astype(np.uint8))


def test_equal_numel_fallback_warns():
    x = data(torch.FloatTensor, (2, 3))
    y = data(torch.FloatTensor, (3, 2), seed=1)
    with pytest.warns(UserWarning, match="not broadcastable, but have the same number of elements"):
        r = x.lt(y)
    np.testing.assert_array_equal(r.numpy(), (x.numpy() < y.numpy().reshape(2, 3)).astype(np.uint8))


def test_compare_errors():
    f, d = torch.FloatTensor([1, 2]), torch.DoubleTensor([1, 2])
    for fn in (lambda: f == d, lambda: f.lt(d), lambda: torch.ge(f, d), lambda: f.eq_(d), lambda: f < d):
        with pytest.raises(TypeError, match=r"got \(torch\.DoubleTensor\), but expected a number or a "
                                            r"torch\.FloatTensor"):
            fn()
    with pytest.raises(TypeError, match=r"lt\(\): expected a tensor as first argument, got int"):
        torch.lt(1, f)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        torch.FloatTensor(2, 3).zero_() < torch.FloatTensor(4, 5).zero_()
    with pytest.raises(RuntimeError, match=r"in-place operation can't change the size of self \[3\]"):
        torch.FloatTensor(3).zero_().lt_(torch.FloatTensor(2, 3).zero_())
    assert (f == None) is False  # noqa: E711 - not a tensor comparison: Python's identity fallback
    assert (f != "a") is True
    with pytest.raises(TypeError, match="not supported"):
        f < "a"


@pytest.mark.parametrize("cls", ALL)
def test_equal(cls):
    x = data(cls, (3, 4))
    assert torch.equal(x, x.clone())
    assert x.equal(x.t().clone().t())
    y = x.clone()
    y[1, 2] = 4 if y[1, 2] != 4 else 0
    assert not torch.equal(x, y)
    assert not x.equal(x.view(12))  # same values, different size
    assert torch.equal(cls(), cls())


def test_equal_errors():
    with pytest.raises(TypeError, match=r"equal received an invalid combination of arguments - got "
                                        r"\(torch\.DoubleTensor\), but expected \(torch\.FloatTensor other\)"):
        torch.equal(torch.FloatTensor([1]), torch.DoubleTensor([1]))
    with pytest.raises(TypeError, match=r"got \(list\)"):
        torch.FloatTensor([1]).equal([1])
    with pytest.raises(TypeError, match=r"equal\(\): expected a tensor as first argument, got list"):
        torch.equal([1], torch.FloatTensor([1]))
