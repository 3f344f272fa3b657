"""Factory functions: zeros, ones, eye, arange, range, linspace, logspace, zeros_like, ones_like.

References: NumPy formulas, PyTorch 2.13 (the oracle, where installed) and values worked out by hand
from 0.2's TH code (documented per case)."""
import warnings

import numpy as np
import pytest

import ember as torch
from _helpers.oracle import assert_same, require_torch

ALL_TYPES = [torch.DoubleTensor, torch.FloatTensor, torch.HalfTensor, torch.LongTensor, torch.IntTensor,
             torch.ShortTensor, torch.CharTensor, torch.ByteTensor]
FLOAT_TYPES = [torch.DoubleTensor, torch.FloatTensor]


@pytest.fixture
def double_default():
    torch.set_default_tensor_type("torch.DoubleTensor")
    yield
    torch.set_default_tensor_type("torch.FloatTensor")


# ---------------------------------------------------------------------- zeros / ones

@pytest.mark.parametrize("fn, value", [(torch.zeros, 0), (torch.ones, 1)])
@pytest.mark.parametrize("sizes", [(2, 3), ((2, 3),), ([2, 3],), (torch.Size([2, 3]),), (4,), (1, 2, 1, 3)])
def test_zeros_ones_size_forms(fn, value, sizes):
    t = fn(*sizes)
    assert type(t) is torch.FloatTensor
    shape = np.empty(sizes[0] if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes).shape
    np.testing.assert_array_equal(t.numpy(), np.full(shape, value, np.float32))
    assert t.is_contiguous()


def test_zeros_ones_follow_default_type(double_default):
    assert type(torch.zeros(2)) is torch.DoubleTensor
    assert type(torch.ones(2, 2)) is torch.DoubleTensor
    assert type(torch.eye(2)) is torch.DoubleTensor
    assert type(torch.arange(3)) is torch.DoubleTensor
    assert type(torch.linspace(0, 1, 3)) is torch.DoubleTensor


@pytest.mark.parametrize("cls", ALL_TYPES)
def test_zeros_ones_out(cls):
    out = cls(5)
    r = torch.ones(2, 3, out=out)
    assert r is out and r.size() == torch.Size([2, 3])
    np.testing.assert_array_equal(out.numpy(), np.ones((2, 3), cls._dtype))
    r = torch.zeros(4, out=out)
    assert r is out
    np.testing.assert_array_equal(out.numpy(), np.zeros(4, cls._dtype))


def test_out_of_the_right_size_is_written_in_place():
    base = torch.ones(4, 4)
    view = base.t()[1:3]  # non-contiguous view of base
    torch.zeros(2, 4, out=view)
    expected = np.ones((4, 4), np.float32)
    expected[:, 1:3] = 0
    np.testing.assert_array_equal(base.numpy(), expected)


def test_zero_sizes_give_empty_tensors():
    for t in (torch.zeros(), torch.zeros(0), torch.ones(3, 0), torch.zeros(torch.Size([]))):
        assert t.dim() == 0 and t.numel() == 0 and t.size() == torch.Size([])
        assert repr(t) == "[torch.FloatTensor with no dimension]\n"
    out = torch.LongTensor(3)
    assert torch.ones(0, out=out).numel() == 0


def test_zeros_ones_errors():
    with pytest.raises(RuntimeError, match=r"zeros\(\): sizes must be non-negative, got \[2, -1\]"):
        torch.zeros(2, -1)
    with pytest.raises(TypeError, match=r"ones\(\): sizes must be ints"):
        torch.ones(2, 1.5)
    with pytest.raises(TypeError, match=r"zeros\(\): expected a sequence of ints"):
        torch.zeros("3")
    with pytest.raises(TypeError, match=r"ones\(\): out must be a tensor, got list"):
        torch.ones(2, out=[])


def test_zeros_ones_parity():
    th = require_torch()
    assert_same(torch.zeros(2, 3), th.zeros(2, 3))
    assert_same(torch.ones(3, 1, 2), th.ones(3, 1, 2))
    assert_same(torch.ones(2, out=torch.LongTensor()), th.ones(2, dtype=th.int64))


# ---------------------------------------------------------------------- zeros_like / ones_like

@pytest.mark.parametrize("cls", ALL_TYPES)
def test_like_keeps_type_and_size(cls):
    src = cls(2, 3).t()  # sizes come from a non-contiguous tensor
    z = torch.zeros_like(src)
    o = torch.ones_like(src)
    assert type(z) is cls and type(o) is cls
    assert z.size() == torch.Size([3, 2]) and z.is_contiguous()
    np.testing.assert_array_equal(z.numpy(), np.zeros((3, 2), cls._dtype))
    np.testing.assert_array_equal(o.numpy(), np.ones((3, 2), cls._dtype))
    assert torch.zeros_like(cls()).numel() == 0


def test_like_errors():
    with pytest.raises(TypeError, match=r"zeros_like\(\): expected a tensor, got list"):
        torch.zeros_like([1, 2])


# ---------------------------------------------------------------------- eye

@pytest.mark.parametrize("n, m", [(1, None), (3, None), (2, 4), (4, 2), (3, 3)])
def test_eye(n, m):
    t = torch.eye(n) if m is None else torch.eye(n, m)
    assert type(t) is torch.FloatTensor
    np.testing.assert_array_equal(t.numpy(), np.eye(n, m, dtype=np.float32))


def test_eye_m_not_positive_means_square():
    # 0.2's THTensor_(eye): `if (m <= 0) m = n;`
    np.testing.assert_array_equal(torch.eye(3, 0).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(torch.eye(2, -5).numpy(), np.eye(2, dtype=np.float32))


@pytest.mark.parametrize("cls", ALL_TYPES)
def test_eye_out(cls):
    out = cls(7)
    assert torch.eye(2, 3, out=out) is out
    np.testing.assert_array_equal(out.numpy(), np.eye(2, 3, dtype=cls._dtype))


def test_eye_errors():
    with pytest.raises(RuntimeError, match=r"eye\(\): n must be positive, got 0"):
        torch.eye(0)
    with pytest.raises(TypeError, match=r"eye\(\): argument 'n' must be an int, got float"):
        torch.eye(2.5)
    with pytest.raises(TypeError, match=r"eye\(\): argument 'm' must be an int, got str"):
        torch.eye(2, "3")


def test_eye_parity():
    th = require_torch()
    assert_same(torch.eye(3), th.eye(3))
    assert_same(torch.eye(2, 5), th.eye(2, 5))


# ---------------------------------------------------------------------- arange

@pytest.mark.parametrize("start, end, step", [
    (1, 8, 1), (0, 10, 3), (0, 10, 2), (10, 0, -3), (-5, 5, 0.5), (0, 1, 0.1), (0.1, 0.5, 0.05),
    (0, 1, 0.2), (2.5, -1.0, -0.75), (0, 1e6, 1), (3, 4, 10),
])
def test_arange_against_numpy(start, end, step):
    t = torch.arange(start, end, step)
    expected = np.arange(start, end, step, dtype=np.float64)
    assert t.size() == torch.Size([expected.size])
    np.testing.assert_allclose(t.numpy(), expected.astype(np.float32), rtol=1e-6, atol=1e-6)


def test_arange_excludes_end():
    # the documented [start, end): 0.2's TH sometimes included end with float steps (fixed in 0.4)
    assert torch.arange(0, 1, 0.2).numel() == 5
    assert torch.arange(1, 8).tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert torch.arange(0, 10, 3).tolist() == [0, 3, 6, 9]


def test_arange_one_argument_and_empty():
    # ember extras: arange(end) counts from 0; start == end gives an empty tensor
    assert torch.arange(4).tolist() == [0, 1, 2, 3]
    assert torch.arange(2.5).tolist() == [0, 1, 2]
    e = torch.arange(3, 3)
    assert e.numel() == 0 and e.dim() == 0


@pytest.mark.parametrize("cls", ALL_TYPES)
def test_arange_out(cls):
    out = cls()
    assert torch.arange(0, 10, 3, out=out) is out
    np.testing.assert_array_equal(out.numpy(), np.array([0, 3, 6, 9], cls._dtype))


def test_arange_integer_out_rejects_fractions():
    assert torch.arange(0.0, 4.0, out=torch.LongTensor()).tolist() == [0, 1, 2, 3]
    with pytest.raises(TypeError, match=r"arange\(\): argument 'step' must be an int for torch.LongTensor"):
        torch.arange(0, 4, 0.5, out=torch.LongTensor())


def test_arange_errors():
    with pytest.raises(RuntimeError, match=r"arange\(\): step must be nonzero"):
        torch.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match=r"arange\(\): upper bound and larger bound inconsistent with step sign"):
        torch.arange(5, 0)
    with pytest.raises(RuntimeError, match=r"must be finite"):
        torch.arange(0, float("inf"))
    with pytest.raises(TypeError, match=r"arange\(\): argument 'end' must be a number, got str"):
        torch.arange(0, "5")
    with pytest.raises(TypeError, match=r"arange\(\): argument 'start' must be a number, got torch.FloatTensor"):
        torch.arange(torch.zeros(1), 5)


def test_arange_parity():
    th = require_torch()
    for args in [(1, 8), (0, 10, 3), (0, 1, 0.1), (0.1, 0.5, 0.05), (10, 0, -3), (-3, 2.5, 0.25)]:
        assert_same(torch.arange(*args), th.arange(*args, dtype=th.float32))
    assert_same(torch.arange(0, 100, 7, out=torch.LongTensor()), th.arange(0, 100, 7))


# ---------------------------------------------------------------------- range (end inclusive)

def test_range_includes_end():
    assert torch.range(1, 4).tolist() == [1, 2, 3, 4]
    assert torch.range(0, 1, 0.25).tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert torch.range(10, 0, -3).tolist() == [10, 7, 4, 1]
    assert torch.range(2, 2).tolist() == [2]
    # 0.2: size = floor((end - start) / step) + 1
    assert torch.range(0, 1, 0.3).numel() == 4


@pytest.mark.parametrize("cls", ALL_TYPES)
def test_range_out(cls):
    out = cls(2, 2)
    assert torch.range(1, 5, 2, out=out) is out
    np.testing.assert_array_equal(out.numpy(), np.array([1, 3, 5], cls._dtype))


def test_range_errors():
    with pytest.raises(RuntimeError, match=r"range\(\): step must be nonzero"):
        torch.range(0, 1, 0)
    with pytest.raises(RuntimeError, match=r"range\(\): upper bound and larger bound inconsistent"):
        torch.range(1, 0)
    with pytest.raises(TypeError):
        torch.range(5)


def test_range_parity():
    th = require_torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args in [(1, 4), (0, 1, 0.25), (10, 0, -3), (-2, 3, 0.5)]:
            assert_same(torch.range(*args), th.range(*args, dtype=th.float32))


# ---------------------------------------------------------------------- linspace / logspace

@pytest.mark.parametrize("cls", FLOAT_TYPES)
@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-10, 10, 7), (3, -2, 11), (0, 1, 100), (1e-3, 1e3, 50)])
def test_linspace_against_numpy(cls, start, end, steps):
    t = torch.linspace(start, end, steps, out=cls())
    expected = np.linspace(start, end, steps)
    assert t.size() == torch.Size([steps])
    np.testing.assert_allclose(t.numpy(), expected.astype(cls._dtype), rtol=1e-6, atol=1e-6 * max(abs(start), abs(end)))
    assert t.numpy()[0] == cls._dtype.type(start)


def test_linspace_default_steps():
    t = torch.linspace(-1, 1)
    assert type(t) is torch.FloatTensor and t.numel() == 100
    np.testing.assert_allclose(t.numpy(), np.linspace(-1, 1, 100), rtol=1e-6, atol=1e-6)


def test_linspace_integer_types_use_c_division():
    # 0.2: a + i*(b-a)/(n-1) in the tensor's C type, integer division truncating toward zero
    assert torch.linspace(0, 10, 5, out=torch.LongTensor()).tolist() == [0, 2, 5, 7, 10]
    assert torch.linspace(0, -10, 5, out=torch.IntTensor()).tolist() == [0, -2, -5, -7, -10]
    assert torch.linspace(3, 4, 3, out=torch.ShortTensor()).tolist() == [3, 3, 4]


def test_linspace_one_point():
    # 0.2 accepts steps=1 only when start == end
    assert torch.linspace(2, 2, 1).tolist() == [2]
    with pytest.raises(RuntimeError, match=r"linspace\(\): invalid number of points"):
        torch.linspace(0, 1, 1)
    with pytest.raises(RuntimeError, match=r"linspace\(\): invalid number of points"):
        torch.linspace(0, 1, 0)
    with pytest.raises(TypeError, match=r"linspace\(\): argument 'steps' must be an int, got float"):
        torch.linspace(0, 1, 2.5)


def test_linspace_out_and_parity():
    th = require_torch()
    out = torch.DoubleTensor(3, 3)
    assert torch.linspace(-2, 6, 17, out=out) is out
    assert_same(out, th.linspace(-2, 6, 17, dtype=th.float64), rtol=1e-12, atol=1e-12)
    assert_same(torch.linspace(0, 1, 11), th.linspace(0, 1, 11))


@pytest.mark.parametrize("cls", FLOAT_TYPES)
def test_logspace_against_numpy(cls):
    t = torch.logspace(-2, 3, 11, out=cls())
    np.testing.assert_allclose(t.numpy(), np.logspace(-2, 3, 11), rtol=1e-5)
    assert torch.logspace(0, 2, 3).tolist() == [1, 10, 100]
    assert torch.logspace(1, 1, 1).tolist() == [10]
    assert torch.logspace(0, 1).numel() == 100


def test_logspace_errors_and_parity():
    with pytest.raises(TypeError, match=r"logspace\(\): not implemented for torch.LongTensor"):
        torch.logspace(0, 2, 3, out=torch.LongTensor())
    with pytest.raises(RuntimeError, match=r"logspace\(\): invalid number of points"):
        torch.logspace(0, 2, 1)
    th = require_torch()
    assert_same(torch.logspace(-1, 2, 7), th.logspace(-1, 2, 7), rtol=1e-6)


def test_half_out():
    np.testing.assert_allclose(torch.linspace(0, 1, 5, out=torch.HalfTensor()).numpy(),
                               np.linspace(0, 1, 5).astype(np.float16))
    np.testing.assert_allclose(torch.logspace(0, 1, 3, out=torch.HalfTensor()).numpy(),
                               np.logspace(0, 1, 3).astype(np.float16), rtol=1e-3)


def test_factories_are_not_tensor_methods():
    for name in ("zeros", "ones", "eye", "arange", "range", "linspace", "logspace", "zeros_like"):
        assert not hasattr(torch.FloatTensor, name)
