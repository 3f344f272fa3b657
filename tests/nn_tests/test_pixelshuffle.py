"""F.pixel_shuffle and nn.PixelShuffle against torch, with gradients and errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable
from ember.autograd.gradcheck import gradgradcheck

from _helpers.oracle import assert_same, require_torch


@pytest.mark.parametrize("r,shape", [(2, (2, 8, 3, 4)), (3, (1, 18, 2, 3)), (1, (2, 3, 2, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pixel_shuffle_against_torch(r, shape, dtype):
    torch = require_torch()
    x = np.random.RandomState(0).standard_normal(shape[:2] + shape[:1:-1]).astype(dtype)  # (N, C, W, H)
    ev = Variable(ember.from_numpy(x.copy()), requires_grad=True)
    tv = torch.from_numpy(x.copy()).requires_grad_(True)
    y = F.pixel_shuffle(ev.transpose(2, 3), r)  # a non-contiguous (N, C, H, W) input
    ty = torch.nn.functional.pixel_shuffle(tv.transpose(2, 3), r)
    assert y.size() == ember.Size([shape[0], shape[1] // r ** 2, shape[2] * r, shape[3] * r])
    assert_same(y.data, ty, rtol=0, atol=0)
    g = np.random.RandomState(1).standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(ember.from_numpy(g.copy()))
    ty.backward(torch.from_numpy(g))
    assert_same(ev.grad.data, tv.grad, rtol=0, atol=0)


def test_pixel_shuffle_module_docs_example_and_double_backward():
    ps = nn.PixelShuffle(3)
    assert repr(ps) == "PixelShuffle (upscale_factor=3)"
    assert ps(Variable(ember.Tensor(1, 9, 4, 4))).size() == ember.Size([1, 1, 12, 12])
    x = Variable(ember.randn(1, 4, 2, 3).double(), requires_grad=True)
    assert gradgradcheck(lambda v: F.pixel_shuffle(v, 2) ** 2, (x,))


def test_pixel_shuffle_errors():
    with pytest.raises(RuntimeError, match=r"expected a 4D input.*got size \[2 x 8 x 3\]"):
        F.pixel_shuffle(Variable(ember.randn(2, 8, 3)), 2)
    with pytest.raises(RuntimeError, match=r"number of input channels \(6\) must be divisible by upscale_factor\^2 "
                                           r"\(4\)"):
        F.pixel_shuffle(Variable(ember.randn(1, 6, 2, 2)), 2)
    with pytest.raises(ValueError, match="upscale_factor must be a positive int, got 0"):
        F.pixel_shuffle(Variable(ember.randn(1, 4, 2, 2)), 0)


def test_cuda_matches_cpu(device_mode):
    x = np.random.RandomState(1).standard_normal((2, 8, 3, 4))
    go = np.random.RandomState(2).standard_normal((2, 2, 6, 8))
    results = []
    for move in (lambda t: t, lambda t: t.cuda()):
        v = Variable(move(ember.from_numpy(x.copy())), requires_grad=True)
        y = F.pixel_shuffle(v, 2)
        y.backward(Variable(move(ember.from_numpy(go.copy()))))
        assert y.is_cuda == v.is_cuda
        results.append((y.data.cpu().numpy(), v.grad.data.cpu().numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
