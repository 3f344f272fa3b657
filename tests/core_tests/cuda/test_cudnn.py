"""ember's cuDNN convolutions (ember/kernels/cuda/cudnn.py). Their results are tested on a GPU by the
convolution tests of tests/nn_tests/test_conv.py (``device_mode``, against the CPU kernels), which take
the cuDNN path there when cuDNN is installed. Here, without a GPU: the descriptor geometry, the switches,
and the fallback to ember's own kernels when cuDNN fails (driven through a stand-in for the library that
answers like cuDNN does)."""
import ctypes
import threading
import warnings

import numpy as np
import pytest

import ember
from ember import _backend
from ember.backends import cudnn as switches
from ember.kernels import conv as conv_kernels
from ember.kernels.cuda import cudnn


def _geom(op, x_shape, w_shape, **kw):
    plan, _ = conv_kernels._plan(op, x_shape, w_shape, kw.get("stride", 1), kw.get("padding", 0),
                                 kw.get("dilation", 1), kw.get("groups", 1), kw.get("transposed", False),
                                 kw.get("output_padding", 0))
    return plan.geom


def test_layout_uses_2d_descriptors_unless_the_depth_axis_is_real():
    g = _geom("conv2d", (2, 4, 9, 7), (6, 2, 3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    assert cudnn._layout(g) == ((2, 4, 9, 7), (2, 6, 5, 5), (6, 2, 3, 2), (1, 0), (2, 1), (1, 2))
    g = _geom("conv1d", (3, 2, 10), (4, 2, 3), stride=2)
    assert cudnn._layout(g) == ((3, 2, 1, 10), (3, 4, 1, 4), (4, 2, 1, 3), (0, 0), (1, 2), (1, 1))
    g = _geom("conv3d", (1, 2, 4, 5, 6), (3, 2, 2, 3, 3), padding=(1, 0, 1))
    assert cudnn._layout(g) == ((1, 2, 4, 5, 6), (1, 3, 5, 3, 6), (3, 2, 2, 3, 3), (1, 0, 1), (1, 1, 1),
                                (1, 1, 1))
    assert cudnn._strides((2, 3, 4, 5)) == (60, 20, 5, 1)


def test_layout_of_a_transposed_convolution_is_its_adjoint_convolution():
    # output_padding adds rows the adjoint convolution never reads: still its full output
    g = _geom("conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), stride=2, padding=1, output_padding=1,
              transposed=True)
    assert cudnn._layout(g) == ((2, 2, 8, 10), (2, 3, 4, 5), (3, 2, 3, 3), (1, 1), (2, 2), (1, 1))


def test_layout_refuses_an_output_cut_short():
    g = list(_geom("conv2d", (1, 1, 8, 8), (1, 1, 3, 3)))
    g[9] -= 1  # dst width one less than the convolution gives
    assert cudnn._layout(tuple(g)) is None


def test_no_cudnn_on_the_fake_or_when_switched_off(fake_cuda, monkeypatch):
    assert not cudnn.usable(np.float32)
    assert switches.version() is None
    monkeypatch.setattr(_backend, "fake", False)
    monkeypatch.setattr(cudnn, "library", lambda: object())
    assert cudnn.usable(np.float32) and cudnn.usable(np.float16) and not cudnn.usable(np.int64)
    monkeypatch.setattr(switches, "enabled", False)
    assert not cudnn.usable(np.float32)


class _StandIn(object):
    """Answers cuDNN's calls with status 0 and one algorithm, except ``failing``, which returns
    CUDNN_STATUS_BAD_PARAM (3); records the calls."""

    def __init__(self, failing):
        self.failing, self.calls = failing, []

    def __getattr__(self, name):
        def call(*args):
            self.calls.append(name)
            if name == "cudnnGetErrorString":
                return b"CUDNN_STATUS_BAD_PARAM"
            if name.endswith("Algorithm_v7"):
                args[-2]._obj.value = 1
                perf = args[-1]
                perf[0].algo, perf[0].status, perf[0].determinism = 1, 0, 1
            if name.endswith("WorkspaceSize"):
                args[-1]._obj.value = 64
            return 3 if name == self.failing else 0
        return call


@pytest.mark.parametrize("failing", ["cudnnConvolutionForward", "cudnnSetConvolutionNdDescriptor",
                                     "cudnnGetConvolutionForwardAlgorithm_v7"])
def test_a_cudnn_failure_falls_back_to_embers_kernels(fake_cuda, monkeypatch, failing):
    lib = _StandIn(failing)  # the stand-in's codes are its own (3 for a failure)
    monkeypatch.setattr(cudnn, "_lib", lib)
    monkeypatch.setattr(cudnn, "library", lambda: lib)
    monkeypatch.setattr(cudnn, "usable", lambda dtype: True)
    monkeypatch.setattr(cudnn, "_convs", type(cudnn._convs)())
    monkeypatch.setattr(cudnn, "_handles", threading.local())
    rng = np.random.RandomState(0)
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    want = conv_kernels.conv_forward(*(ember.from_numpy(a) for a in (x, w, b)), padding=1).numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = conv_kernels.conv_forward(*(ember.from_numpy(a).cuda() for a in (x, w, b)), padding=1)
        again = conv_kernels.conv_forward(*(ember.from_numpy(a).cuda() for a in (x, w, b)), padding=1)
    np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(again.cpu().numpy(), want, rtol=1e-12, atol=1e-12)
    runtime = [str(c.message) for c in caught if issubclass(c.category, RuntimeWarning)]
    if failing == "cudnnSetConvolutionNdDescriptor":
        assert runtime == []  # a geometry cuDNN refuses is not an error: silently ember's kernels
    else:
        assert len(runtime) == 1 and "CUDNN_STATUS_BAD_PARAM" in runtime[0]
    assert lib.calls.count(failing) == 1  # the geometry is remembered: cuDNN is not asked again


def test_the_stand_in_path_runs_every_call_in_order(fake_cuda, monkeypatch):
    """With every call succeeding, the forward, backward-data and backward-filter calls are made with the
    descriptors set up first (the stand-in computes nothing, so only the call sequence is checked)."""
    lib = _StandIn(None)
    monkeypatch.setattr(cudnn, "_lib", lib)
    monkeypatch.setattr(cudnn, "_convs", type(cudnn._convs)())
    monkeypatch.setattr(cudnn, "_handles", threading.local())
    xp = _backend.cupy
    g = _geom("conv2d", (2, 3, 6, 5), (4, 3, 3, 3), padding=1)
    x, w, y = xp.zeros(2 * 3 * 6 * 5), xp.zeros(4 * 3 * 9), xp.zeros(2 * 4 * 6 * 5)
    assert cudnn.forward(g, x, w, y) and cudnn.backward_data(g, w, y, x) and cudnn.backward_filter(g, x, y, w)
    runs = [c for c in lib.calls if c.startswith("cudnnConvolution")]
    assert runs == ["cudnnConvolutionForward", "cudnnConvolutionBackwardData", "cudnnConvolutionBackwardFilter"]
    first_run = lib.calls.index("cudnnConvolutionForward")
    for setup in ("cudnnSetTensorNdDescriptor", "cudnnSetFilterNdDescriptor", "cudnnSetConvolutionNdDescriptor",
                  "cudnnSetConvolutionGroupCount", "cudnnSetConvolutionMathType", "cudnnCreate", "cudnnSetStream",
                  "cudnnGetConvolutionForwardAlgorithm_v7", "cudnnGetConvolutionForwardWorkspaceSize"):
        assert lib.calls.index(setup) < first_run, setup
    assert lib.calls.count("cudnnSetFilterNdDescriptor") == 1  # one descriptor set per geometry
    assert ctypes.sizeof(cudnn._AlgoPerf) == 48  # the C struct's size on 64-bit Linux


_REAL = cudnn.library()  # the real cuDNN where one is installed (a GPU machine; no GPU needed here)


@pytest.mark.skipif(_REAL is None, reason="needs cuDNN (e.g. the nvidia-cudnn-cu13 wheel)")
@pytest.mark.parametrize("op,x,w,kw", [
    ("conv2d", (2, 4, 9, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ("conv1d", (3, 2, 10), (4, 2, 3), dict(stride=2, padding=1)),
    ("conv3d", (1, 2, 4, 5, 6), (3, 2, 2, 3, 3), dict(padding=(1, 0, 1), stride=(1, 2, 1))),
    ("conv2d", (1, 3, 224, 224), (64, 3, 7, 7), dict(stride=2, padding=3)),
    ("conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1,
                                                         transposed=True)),
    ("conv_transpose3d", (1, 4, 3, 3, 3), (4, 1, 3, 3, 3), dict(stride=3, dilation=2, groups=2, output_padding=2,
                                                               transposed=True)),
])
def test_descriptors_agree_with_cudnns_own_output_size(op, x, w, kw):
    """cuDNN sets up ember's descriptors (host calls: no GPU needed) and computes the same output size."""
    lib = _REAL
    fn = lib.cudnnGetConvolutionNdForwardOutputDim
    fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_void_p] * 3 + [ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    geom = _geom(op, x, w, **kw)
    conv = cudnn._Conv(geom, np.float32)
    _, ydims, _, _, _, _ = cudnn._layout(geom)
    out = (ctypes.c_int * len(ydims))()
    assert fn(conv.conv, conv.x, conv.w, len(ydims), out) == 0
    assert tuple(out) == ydims
    for dtype in (np.float64, np.float16):
        cudnn._Conv(geom, dtype)  # every data type's descriptors are accepted


# ---------------------------------------------------------------------- 0.2's ctypes helpers

@pytest.mark.skipif(_REAL is None, reason="needs cuDNN (e.g. the nvidia-cudnn-cu13 wheel)")
def test_tensor_and_filter_descriptors_read_back_from_cudnn(fake_cuda):
    lib = _REAL
    get_t, get_f = lib.cudnnGetTensorNdDescriptor, lib.cudnnGetFilterNdDescriptor
    ip = ctypes.POINTER(ctypes.c_int)
    get_t.restype, get_t.argtypes = ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ip, ip, ip, ip]
    get_f.restype, get_f.argtypes = ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ip, ip, ip, ip]

    def read_tensor(d):
        dt, nd, dims, strides = ctypes.c_int(), ctypes.c_int(), (ctypes.c_int * 8)(), (ctypes.c_int * 8)()
        assert get_t(d, 8, dt, nd, dims, strides) == 0
        return dt.value, tuple(dims[:nd.value]), tuple(strides[:nd.value])

    t = ember.cuda.DoubleTensor(2, 3, 4)
    d = switches.descriptor(t)
    assert d.as_tuple() == ("torch.cuda.DoubleTensor", (2, 3, 4, 1, 1), (12, 4, 1, 1, 1))
    assert read_tensor(d) == (switches.CUDNN_DATA_DOUBLE, (2, 3, 4, 1, 1), (12, 4, 1, 1, 1))
    steps = switches.descriptor_sequence(ember.cuda.FloatTensor(5, 3, 6), [5, 4, 2])
    assert [read_tensor(steps[i])[1] for i in range(3)] == [(5, 3, 6, 1, 1), (4, 3, 6, 1, 1), (2, 3, 6, 1, 1)]
    arr = switches.descriptor(ember.cuda.HalfTensor(4, 5), N=3)
    assert all(read_tensor(arr[i]) == (switches.CUDNN_DATA_HALF, (4, 5, 1, 1, 1), (5, 1, 1, 1, 1))
               for i in range(3))

    f = switches.FilterDescriptor()
    f.set(ember.cuda.FloatTensor(8, 3, 5, 5))
    dt, fmt, nd, dims = ctypes.c_int(), ctypes.c_int(), ctypes.c_int(), (ctypes.c_int * 8)()
    assert get_f(f, 8, dt, fmt, nd, dims) == 0
    assert (dt.value, fmt.value, tuple(dims[:nd.value])) == (0, switches.CUDNN_TENSOR_NCHW, (8, 3, 5, 5))
    assert f.as_tuple() == (8, 3, 5, 5)


@pytest.mark.skipif(_REAL is None, reason="needs cuDNN (e.g. the nvidia-cudnn-cu13 wheel)")
def test_errors_types_and_arrays(fake_cuda):
    assert switches.lib is None or switches.lib is _REAL
    bad_param = 2000 if cudnn.version() >= 90000 else 3  # cuDNN 9 renumbered its statuses
    assert switches.get_error_string(bad_param) == b"CUDNN_STATUS_BAD_PARAM"
    switches.check_error(0)
    with pytest.raises(switches.CuDNNError, match="{}: b'CUDNN_STATUS_BAD_PARAM'".format(bad_param)) as info:
        switches.check_error(bad_param)
    assert info.value.status == bad_param and switches.lib is _REAL
    assert switches.c_type(ember.cuda.HalfTensor(1)) is ctypes.c_float
    assert switches.c_type(ember.cuda.DoubleTensor(1)) is ctypes.c_double
    with pytest.raises(ValueError, match="unknown type 'torch.cuda.LongTensor'"):
        switches.c_type(ember.cuda.LongTensor(1))
    assert list(switches.int_array([3, 1, 2])) == [3, 1, 2]
    with pytest.raises(NotImplementedError, match="cuDNN 9 removed cudnnSetRNNDescriptor"):
        switches.RNNDescriptor(None, 4, 1, None, 0, False, switches.CUDNN_LSTM, switches.CUDNN_DATA_FLOAT)


def test_helpers_say_when_there_is_no_cudnn(monkeypatch):
    monkeypatch.setattr(switches, "lib", None)
    monkeypatch.setattr(cudnn, "library", lambda: None)
    with pytest.raises(RuntimeError, match="cuDNN is not available"):
        switches.TensorDescriptor()


def test_handles_dropout_descriptors_and_add_tensor_on_the_gpu(device_mode):
    """The helpers that need a device: one handle per device, a dropout descriptor with its states on the
    GPU, and cudnnAddTensor (C = alpha A + beta C) against NumPy."""
    if device_mode == "fake" or switches.version() is None:
        pytest.skip("cuDNN runs on a real GPU only")
    h = switches.get_handle()
    assert switches.get_handle() is h
    d = switches.DropoutDescriptor(h, 0.5, 7)
    assert d.state.is_cuda and d.state.numel() > 0
    rng = np.random.RandomState(1)
    a, c = rng.standard_normal((2, 3, 4)).astype(np.float32), rng.standard_normal((2, 3, 4)).astype(np.float32)
    ta, tc = ember.from_numpy(a).cuda(), ember.from_numpy(c).cuda()
    alpha, beta = switches.c_type(ta)(2.0), switches.c_type(ta)(0.5)
    switches.add_tensor(h, ctypes.byref(alpha), switches.descriptor(ta), ctypes.c_void_p(ta.data_ptr()),
                        ctypes.byref(beta), switches.descriptor(tc), ctypes.c_void_p(tc.data_ptr()))
    np.testing.assert_allclose(tc.cpu().numpy(), 2 * a + 0.5 * c, rtol=1e-6, atol=1e-6)
