"""The PyTorch oracle (tox env `parity`), adapted to 0.2 semantics as ../shared/reference/ORACLE.md says.

Tests that compare with PyTorch call ``require_torch()`` (skips where torch is not installed) and use
``to_torch`` / ``assert_same`` to move values between the two libraries.
"""
import numpy as np
import pytest

_TORCH_DTYPES = {
    "torch.DoubleTensor": "float64", "torch.FloatTensor": "float32", "torch.HalfTensor": "float16",
    "torch.LongTensor": "int64", "torch.IntTensor": "int32", "torch.ShortTensor": "int16",
    "torch.CharTensor": "int8", "torch.ByteTensor": "uint8",
}


def require_torch():
    return pytest.importorskip("torch", reason="PyTorch (the oracle) is installed only in the parity env")


def to_numpy(x):
    """An ndarray from an ember tensor, a torch tensor (bool cast to uint8, 0-dim kept), a number or array."""
    if hasattr(x, "_typename"):
        return np.array(x._a.get() if x.is_cuda else x._a)
    mod = type(x).__module__
    if mod.startswith("torch"):
        t = x.detach().cpu()
        if str(t.dtype) == "torch.bool":
            t = t.to(__import__("torch").uint8)
        return t.numpy().copy()
    return np.asarray(x)


def to_torch(x, requires_grad=False):
    """A torch tensor with the same values and dtype as the ember tensor (or Variable's data) ``x``."""
    torch = require_torch()
    data = getattr(x, "data", None) if not hasattr(x, "_typename") else x
    if data is None:
        data = x
    t = torch.from_numpy(np.ascontiguousarray(to_numpy(data)))
    return t.requires_grad_(requires_grad) if requires_grad else t


def assert_same(ember_value, expected, rtol=1e-6, atol=1e-6, check_type=True):
    """``ember_value`` (tensor or number) equals ``expected`` (torch tensor, ndarray or number).

    0.2 adaptations: torch's 0-dim results compare as size (1,) or as a Python number; torch's bool
    results compare as ByteTensor values."""
    if hasattr(ember_value, "_typename") and hasattr(expected, "dtype") and check_type:
        exp_dtype = str(to_numpy(expected).dtype)
        got = _TORCH_DTYPES.get(ember_value._typename.replace("torch.cuda.", "torch."))
        assert got == exp_dtype, "type {} (dtype {}) != expected dtype {}".format(
            ember_value._typename, got, exp_dtype)
    a = to_numpy(ember_value)
    b = to_numpy(expected)
    if b.ndim == 0 and a.shape == (1,):
        b = b.reshape(1)
    if a.ndim == 0 and b.shape == (1,):
        a = a.reshape(1)
    assert a.shape == b.shape, "shape {} != expected {}".format(a.shape, b.shape)
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)
