"""Fixtures for the CUDA tests (a pytest plugin loaded by tests/conftest.py): ``fake_cuda`` runs ember.cuda on the NumPy stand-in (every machine),
``device_mode`` runs a test once on the fake and once on a real GPU (the latter marked ``gpu``)."""
import pytest

from ember import _backend


@pytest.fixture
def fake_cuda():
    previous = _backend.use_fake_cuda(True)
    try:
        yield
    finally:
        _backend.use_fake_cuda(previous)


@pytest.fixture(params=["fake", pytest.param("gpu", marks=pytest.mark.gpu)])
def device_mode(request):
    if request.param == "gpu":
        if not _backend._real_available:
            pytest.skip("needs CUDA and CuPy")
        previous = _backend.use_fake_cuda(False)
    else:
        previous = _backend.use_fake_cuda(True)
    try:
        yield request.param
    finally:
        _backend.use_fake_cuda(previous)


def forward_backward_on(move, f, arrays):
    """``f`` on Variables of ``arrays`` placed by ``move`` (e.g. ``lambda t: t.cuda()``), backpropagating a
    fixed random gradient: [output, input gradients...] as tensors, to compare one placement with another."""
    import numpy as np
    import ember
    from ember.autograd import Variable
    xs = [Variable(move(ember.from_numpy(a.copy())), requires_grad=True) for a in arrays]
    out = f(*xs)
    grad = np.random.RandomState(9).standard_normal(tuple(out.size())).astype(arrays[0].dtype)
    out.backward(move(ember.from_numpy(grad)))
    return [out.data] + [x.grad.data for x in xs]


def assert_cuda_matches_cpu(f, arrays, half=False):
    """``f``'s output and input gradients on CUDA Variables equal those on CPU ones (double), or follow them
    to half precision (``half``: the CUDA inputs are HalfTensors)."""
    import numpy as np
    want = forward_backward_on(lambda t: t, f, arrays)
    got = forward_backward_on((lambda t: t.cuda().half()) if half else (lambda t: t.cuda()), f, arrays)
    for g, w in zip(got, want):
        expected = "torch.cuda.HalfTensor" if half else w.type().replace("torch.", "torch.cuda.")
        assert g.is_cuda and g.type() == expected, (g.type(), expected)
        tol = dict(rtol=1e-2, atol=2e-2) if half else dict(rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g.cpu().numpy().astype(np.float64), w.numpy(), **tol)
