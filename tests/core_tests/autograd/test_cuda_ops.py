"""Autograd on CUDA Variables: every op case of test_ops_grad.py run on the GPU gives the CPU's values and
gradients; device moves (``cuda(device_id)``, ``cpu()``, ``copy_``) send gradients back where their
inputs live.

The cases run on the last GPU: on the fake's two devices that is not the current one, so an op that
allocates on the current device instead of its input's fails here.
"""
import importlib.util
import os

import numpy as np
import pytest

import ember
from ember.autograd import Function, Variable


def _load_op_table():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_ops_grad.py")
    spec = importlib.util.spec_from_file_location("_autograd_op_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


table = _load_op_table()


def _cuda_inputs(specs, arrays, gpu):
    """The CUDA twins of ``table.ember_inputs``: same values, same (non-)contiguity, on GPU ``gpu``."""
    out = []
    for s, a in zip(specs, arrays):
        if s.t:
            t = ember.from_numpy(np.ascontiguousarray(a.T)).cuda(gpu).t()
        else:
            t = ember.from_numpy(a.copy()).cuda(gpu)
        out.append(Variable(t, requires_grad=s.grad))
    return out


def _assert_on(t, gpu, like):
    assert type(t) is ember.cuda.DoubleTensor and t.get_device() == gpu
    np.testing.assert_allclose(t.cpu().numpy(), like.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(table.CASES))
def test_op_matches_cpu(name, device_mode, monkeypatch):
    table._skip_missing(name)
    f, specs = table.CASES[name]
    arrays = table.make_inputs(specs, 5)
    ins = table.ember_inputs(specs, arrays)
    out = f(ember, *ins)
    seed = np.random.RandomState(6).randn(*out.size())
    out.backward(ember.from_numpy(seed.copy()))

    gpu = ember.cuda.device_count() - 1
    # the cases build their index and mask tensors through these two: put them on the GPU as well
    monkeypatch.setattr(table, "long", lambda lib, values: ember.LongTensor(values).cuda(gpu))
    monkeypatch.setattr(table, "mask", lambda lib, values: ember.ByteTensor(values).cuda(gpu))
    cuda_ins = _cuda_inputs(specs, arrays, gpu)
    cuda_out = f(ember, *cuda_ins)
    _assert_on(cuda_out.data, gpu, out.data)
    cuda_out.backward(ember.from_numpy(seed.copy()).cuda(gpu))
    for v, c in zip(ins, cuda_ins):
        if v.requires_grad:
            _assert_on(c.grad.data, gpu, v.grad.data)


def test_gradient_crosses_cuda_and_cpu(device_mode):
    x = Variable(ember.DoubleTensor([1.0, -2.0, 3.0]), requires_grad=True)
    y = (x.cuda() * x.cuda()).cpu() * 3
    assert type(y.data) is ember.DoubleTensor
    y.sum().backward()
    assert type(x.grad.data) is ember.DoubleTensor
    np.testing.assert_allclose(x.grad.data.numpy(), [6.0, -12.0, 18.0])


def test_gradient_of_type_conversion_on_cuda(device_mode):
    x = Variable(ember.cuda.DoubleTensor([1.0, 2.0]), requires_grad=True)
    (x.float() * x.float()).sum().backward()
    assert type(x.grad.data) is ember.cuda.DoubleTensor
    np.testing.assert_allclose(x.grad.data.cpu().numpy(), [2.0, 4.0])


def test_cuda_device_id_and_gradients_between_gpus(fake_cuda):
    x = Variable(ember.DoubleTensor([1.0, 2.0]).cuda(0), requires_grad=True)
    y = x.cuda(1)
    assert y.get_device() == 1 and x.cuda(0) is x
    z = Variable(ember.cuda.DoubleTensor(2).zero_())  # on GPU 0
    w = (y * 2).copy_(x * 3).cuda(0) + z  # copy_ across GPUs, then back
    w.backward(ember.cuda.DoubleTensor([1.0, 1.0]))
    assert x.grad.data.get_device() == 0
    np.testing.assert_allclose(x.grad.data.cpu().numpy(), [3.0, 3.0])  # y's old value got no gradient


def test_backward_of_a_loss_on_another_gpu(fake_cuda):
    """The implicit gradient of a one-element output, and every node's allocations, land on its GPU
    even when another one is current."""
    x = Variable(ember.randn(3, 4).double().cuda(1), requires_grad=True)
    with ember.cuda.device(0):
        loss = (x.diag().sum() + x[1, 2] + x.max()).mean()
        assert loss.get_device() == 1
        loss.backward()
    assert x.grad.get_device() == 1
    assert x.grad.data.cpu().numpy().sum() == pytest.approx(5.0)


class Doubled(Function):
    """Allocates its output with the array module, as the nn Functions do."""

    @staticmethod
    def forward(ctx, x):
        xp = type(x)._xp
        out = xp.empty(x._a.shape, x._a.dtype)
        xp.multiply(x._a, 2, out=out)
        return type(x)._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 2


def test_function_runs_on_its_inputs_gpu(fake_cuda):
    x = Variable(ember.cuda.DoubleTensor([1.0, 2.0]).cuda(1), requires_grad=True)
    y = Doubled.apply(x)
    assert y.get_device() == 1
    y.sum().backward()
    assert x.grad.get_device() == 1
    np.testing.assert_array_equal(x.grad.data.cpu().numpy(), [2.0, 2.0])


def test_cpu_index_of_a_cuda_variable_raises(device_mode):
    x = Variable(ember.cuda.FloatTensor(3, 4).zero_(), requires_grad=True)
    with pytest.raises(TypeError, match=r"index_select\(\): index must be a torch.cuda.LongTensor \(or a "
                                        r"Variable of one\), got torch.LongTensor"):
        x.index_select(0, ember.LongTensor([0, 2]))
    with pytest.raises(TypeError, match=r"gather\(\): index must be a torch.cuda.LongTensor"):
        x.gather(1, Variable(ember.LongTensor([[0], [1], [2]])))
