"""ember.kernels.conv: 1-D/2-D/3-D convolutions and transposed convolutions, forward and backward,
against torch.nn.functional's forward and torch autograd's gradients (input, weight, bias).

The tables mix odd sizes, strides, paddings, dilations, groups (depthwise too), output_padding, batch
sizes that do and don't divide by the thread count, 1x1 kernels (the no-im2col path), float and
double, and non-contiguous inputs; both thread settings run (images split over threads, and single
images with split gemms)."""
import numpy as np
import pytest

import ember
import ember.cuda
from _helpers.oracle import assert_same, require_torch
from ember.kernels import conv as K

TYPES = {"FloatTensor": np.float32, "DoubleTensor": np.float64}
# float sums run over up to a few hundred products of N(0, 1) values
TOL = {"FloatTensor": dict(rtol=1e-4, atol=2e-4), "DoubleTensor": dict(rtol=1e-10, atol=1e-10)}


@pytest.fixture(params=[2, 1], ids=["2threads", "1thread"])
def threads(request, monkeypatch):
    # the test convolutions are small: let them use threads anyway, to cover the parallel paths
    monkeypatch.setattr(K, "_PARALLEL_FLOPS", 0)
    old = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(old)


def tensor(arr, name, layout="contig", cuda=False):
    """An ember tensor of type ``name`` (a CUDA one if ``cuda``) with ``arr``'s values, contiguous or as a
    strided view."""
    cls = getattr(ember.cuda if cuda else ember, name)
    arr = np.asarray(arr, TYPES[name])
    if layout == "contig":
        return cls(arr)
    if layout == "transposed":  # the last two dims swapped in memory
        base = cls(np.ascontiguousarray(np.swapaxes(arr, -1, -2)))
        t = base.transpose(arr.ndim - 2, arr.ndim - 1)
    else:  # "narrow": every other channel of a wider tensor
        wide = np.zeros(arr.shape[:1] + (2 * arr.shape[1],) + arr.shape[2:], arr.dtype)
        wide[:, ::2] = arr
        t = cls(wide)[:, ::2]
    assert not t.is_contiguous()
    return t


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def torch_conv(dim, transposed):
    F = require_torch().nn.functional
    return getattr(F, "conv_transpose{}d".format(dim) if transposed else "conv{}d".format(dim))


def check(dim, n, cin, cout, spatial, k, stride, padding, dilation, groups, name, layout="contig",
          transposed=False, output_padding=0, bias=True, seed=0, cuda=False):
    """Forward and the three gradients (of CUDA tensors if ``cuda``) against torch; returns the ember
    input, weight, grad_output, the arguments and torch's input and weight gradients."""
    torch = require_torch()
    ks = (k,) * dim if isinstance(k, int) else tuple(k)
    wshape = (cin, cout // groups) + ks if transposed else (cout, cin // groups) + ks
    x = rand((n, cin) + tuple(spatial), seed)
    w = rand(wshape, seed + 1)
    b = rand((cout,), seed + 2) if bias else None
    ex, ew = tensor(x, name, layout, cuda), tensor(w, name, cuda=cuda)
    eb = tensor(b, name, cuda=cuda) if bias else None
    tx = torch.from_numpy(x.astype(TYPES[name])).requires_grad_()
    tw = torch.from_numpy(w.astype(TYPES[name])).requires_grad_()
    tb = torch.from_numpy(b.astype(TYPES[name])).requires_grad_() if bias else None
    tol = TOL[name]
    if transposed:
        ty = torch_conv(dim, True)(tx, tw, tb, stride, padding, output_padding, groups, dilation)
        ey = K.conv_transpose_forward(ex, ew, eb, stride, padding, output_padding, dilation, groups)
    else:
        ty = torch_conv(dim, False)(tx, tw, tb, stride, padding, dilation, groups)
        ey = K.conv_forward(ex, ew, eb, stride, padding, dilation, groups)
    assert type(ey) is getattr(ember.cuda if cuda else ember, name)
    assert_same(ey, ty, **tol)

    gy = rand(tuple(ty.shape), seed + 3)
    ty.backward(torch.from_numpy(gy.astype(TYPES[name])))
    egy = tensor(gy, name, layout, cuda)
    args = (stride, padding, output_padding, dilation, groups) if transposed else (stride, padding, dilation, groups)
    backward = K.conv_transpose_backward if transposed else K.conv_backward
    gi, gw, gb = backward(egy, ex, ew, *args, output_mask=(True, True, bias))
    assert_same(gi, tx.grad, **tol)
    assert_same(gw, tw.grad, rtol=tol["rtol"], atol=tol["atol"] * 10)
    if bias:
        assert_same(gb, tb.grad, rtol=tol["rtol"], atol=tol["atol"] * 10)
    for g in (ey, gi, gw) + ((gb,) if bias else ()):
        assert type(g) is type(ey)
    return ex, ew, egy, args, tx.grad, tw.grad


# (n, cin, cout, spatial, kernel, stride, padding, dilation, groups)
CASES_2D = [
    (2, 3, 4, (7, 9), 3, 1, 1, 1, 1),
    (1, 4, 6, (8, 5), (2, 3), (2, 1), (1, 0), (1, 2), 2),
    (3, 4, 8, (6, 7), 3, 2, 1, 1, 4),           # depthwise, channel multiplier 2
    (4, 5, 5, (9, 9), 3, 1, 1, 1, 5),           # depthwise
    (2, 6, 4, (5, 5), 1, 1, 0, 1, 1),           # 1x1: no im2col
    (1, 6, 4, (10, 12), 1, 1, 0, 1, 2),         # 1x1 grouped, one image
    (2, 6, 4, (9, 7), 1, 2, 0, 1, 2),           # 1x1 strided
    (5, 2, 3, (11, 10), (3, 5), (3, 2), (2, 1), (2, 1), 1),
    (2, 3, 5, (4, 4), 4, 1, 0, 1, 1),           # kernel as large as the input
    (3, 2, 2, (3, 3), 3, 1, 3, 1, 1),           # padding larger than the kernel
    (1, 4, 6, (13, 11), 3, 1, 1, 1, 1),         # one image: split gemm
    (1, 1, 1, (1, 1), 1, 1, 0, 1, 1),
    # enough output positions for the forward to split images into tiles of output rows (uneven ones)
    (2, 128, 4, (23, 21), 3, 1, 1, 1, 1),
    (1, 128, 3, (23, 21), 3, 1, 1, 1, 1),
    (2, 64, 8, (20, 21), 3, 1, 1, 1, 4),
    (3, 48, 5, (41, 30), 3, 2, 2, 1, 1),
    # stride 1, rows at least 24 wide and products at least 64 deep: float forwards read the zero-padded
    # input instead of im2col
    (2, 16, 5, (19, 30), 3, 1, 1, 1, 1),
    (2, 16, 8, (17, 26), 3, 1, 1, 1, 2),
    (1, 8, 4, (20, 28), 3, 1, 2, 2, 1),
    (2, 8, 6, (18, 30), (3, 5), 1, (0, 2), 1, 1),
    (9, 8, 2, (13, 30), 3, 1, 1, 1, 1),         # more images than one padded chunk holds
    # and at least 16 input channels: the float input gradient runs as a forward convolution (the weight
    # transposed and flipped) unless the padding reaches beyond the kernel
    (1, 16, 6, (10, 28), 3, 1, 1, 2, 1),        # dilation
    (2, 16, 4, (9, 26), 3, 1, 3, 1, 1),         # padding beyond the kernel's reach: the backward kernel
]
# groups of one input channel (conv_depthwise.h, output rows at least 32 wide; backward only with one output
# a group and stride 1): vector chunks (float: 16 and 32 columns; the last chunk overlaps the one before),
# columns near the edges that some kernel columns miss, strides 1-3, dilation, padding wider than the
# kernel's reach, multipliers 1-4, and 5 (back to gemm)
DEPTHWISE_2D = [
    (2, 8, 8, (9, 56), 3, 1, 1, 1, 8),
    (1, 4, 8, (7, 47), 3, 1, 1, 1, 4),          # multiplier 2
    (2, 3, 12, (6, 40), (3, 5), 1, (1, 2), 1, 3),  # multiplier 4
    (2, 3, 15, (6, 40), 3, 1, 1, 1, 3),         # multiplier 5: im2col + gemm
    (2, 6, 6, (11, 70), 3, 2, 1, 1, 6),         # stride 2
    (1, 4, 4, (8, 100), (1, 7), (1, 3), (0, 3), 1, 4),
    (2, 5, 5, (10, 44), 3, 1, 2, 2, 5),         # dilation
    (1, 2, 2, (5, 33), (2, 4), 1, (0, 6), 1, 2),  # padding beyond the kernel: all-padding columns
    (1, 2, 2, (3, 4), (1, 3), 1, (0, 19), (1, 5), 2),  # kernel columns whose ranges do not overlap
    (3, 4, 4, (5, 32), (3, 17), 1, (1, 8), 1, 4),  # exactly one float vector of columns inside
    (1, 1, 3, (12, 50), 5, 1, 2, 1, 1),         # one input channel, no groups (LeNet's first layer)
]
DEPTHWISE_1D = [(4, 16, 16, (200,), 5, 1, 2, 1, 16), (2, 8, 16, (97,), 3, 2, 0, 2, 8)]
DEPTHWISE_3D = [(2, 4, 4, (3, 5, 37), 3, (1, 1, 1), 1, 1, 4), (1, 3, 6, (4, 6, 33), (2, 3, 3), (2, 1, 1), (0, 1, 1),
                                                                 (1, 2, 1), 3)]
CASES_1D = [
    (2, 3, 4, (11,), 3, 1, 1, 1, 1),
    (3, 4, 6, (20,), 5, 3, 2, 2, 2),
    (1, 2, 2, (7,), 1, 1, 0, 1, 1),
    (4, 6, 6, (9,), 3, 2, 1, 1, 6),
    (1, 3, 5, (70,), 4, 1, 2, 3, 1),
    (2, 16, 4, (500,), 5, 1, 2, 1, 1),          # read from the padded input (float)
]
CASES_3D = [
    (2, 3, 4, (5, 6, 7), 3, 1, 1, 1, 1),
    (1, 4, 4, (4, 5, 6), (2, 3, 1), (1, 2, 1), (1, 0, 1), (2, 1, 1), 2),
    (3, 2, 4, (3, 4, 5), 1, 1, 0, 1, 2),
    (2, 2, 2, (6, 5, 4), 2, 2, 0, 1, 2),
    (1, 32, 3, (4, 9, 12), 3, 1, 1, 1, 1),     # row tiles that cross depth slices
    # stride 1, rows at least 24 wide, products at least 64 deep: float forwards read the zero-padded input
    # (tiles of the padded grid's rows cross depths, dropping the rows between them)
    (2, 4, 5, (5, 7, 30), 3, 1, 1, 1, 1),
    (1, 3, 4, (6, 6, 28), 3, 1, 2, 2, 1),        # dilation
    (2, 8, 6, (4, 5, 26), 3, 1, 1, 1, 2),        # groups
    (2, 4, 4, (5, 6, 30), (2, 3, 3), 1, (0, 1, 1), 1, 1),
    (9, 4, 2, (3, 4, 28), 3, 1, 1, 1, 1),        # more images than one padded chunk holds
    (1, 16, 4, (3, 5, 26), (2, 3, 3), 1, (1, 1, 2), 1, 2),  # input gradient as a forward, groups
]


def _ids(cases):
    return ["-".join(str(v).replace(" ", "") for v in c) for c in cases]


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("case", CASES_2D, ids=_ids(CASES_2D))
def test_conv2d(case, name, threads):
    check(2, *case, name=name)


@pytest.fixture(params=[0, 1, 2], ids=["blas", "avx2", "avx512"])
def sgemm(request):
    """Float forward tiles on one of the gemms (ember/_C/sgemm.h): BLAS, ember's AVX2 or AVX-512 kernel."""
    from ember._C import conv as C
    if request.param not in C.sgemm_levels():
        pytest.skip("this CPU has no {} kernel".format(request.node.callspec.id.split("-")[-1]))
    old = C.use_sgemm(request.param)
    yield request.param
    C.use_sgemm(old)


@pytest.mark.parametrize("case", CASES_2D + [(3, 20, 17, (13, 11), 3, 1, 1, 1, 1), (2, 300, 9, (5, 6), 3, 1, 1, 1, 1)],
                         ids=_ids(CASES_2D) + ["rows-m-tail", "k-blocks"])
def test_conv2d_float_gemms(case, sgemm, threads):
    # every float kernel against torch: edge tiles in m (output channels) and n (positions), and k
    # past one block of 256 (channels x kernel)
    check(2, *case, name="FloatTensor")


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("dim,case", [(2, c) for c in DEPTHWISE_2D] + [(1, c) for c in DEPTHWISE_1D]
                         + [(3, c) for c in DEPTHWISE_3D])
def test_depthwise_conv(dim, case, name, threads):
    check(dim, *case, name)
    check(dim, *case, name, bias=False, seed=7)


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("case", [(2, (9, 40), 6, 6, 3, 1, 1, 0, 1, 6), (2, (7, 35), 4, 4, 3, 2, 1, 1, 1, 4),
                                  (1, (5, 36), 6, 3, (2, 5), 1, (0, 2), 0, (1, 2), 3)], ids=str)
def test_depthwise_conv_transpose(case, name, threads):
    _tcheck(2, case, name)


@pytest.mark.parametrize("case", CASES_3D, ids=_ids(CASES_3D))
def test_conv3d_float_gemms(case, sgemm):
    check(3, *case, name="FloatTensor")


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("case", CASES_1D, ids=_ids(CASES_1D))
def test_conv1d(case, name, threads):
    check(1, *case, name=name)


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("case", CASES_3D, ids=_ids(CASES_3D))
def test_conv3d(case, name, monkeypatch):
    monkeypatch.setattr(K, "_PARALLEL_FLOPS", 0)
    check(3, *case, name=name)


@pytest.mark.parametrize("layout", ["transposed", "narrow"])
@pytest.mark.parametrize("dim,case", [(2, CASES_2D[0]), (2, CASES_2D[2]), (1, CASES_1D[1]), (3, CASES_3D[1])])
def test_conv_noncontiguous(dim, case, layout):
    check(dim, *case, name="FloatTensor", layout=layout)


def test_conv_without_bias():
    check(2, *CASES_2D[1], name="DoubleTensor", bias=False)
    torch = require_torch()
    x, w = rand((2, 3, 6, 6), 0), rand((4, 3, 3, 3), 1)
    y = K.conv_forward(ember.DoubleTensor(x), ember.DoubleTensor(w), None, 1, 1)
    assert_same(y, torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), None, 1, 1), 1e-12, 1e-12)


# transposed: (n, cin, cout, spatial, kernel, stride, padding, output_padding, dilation, groups)
TCASES = [
    (2, (7, 9), 3, 4, 3, 1, 1, 0, 1, 1),
    (2, (5, 6), 4, 6, 3, 2, 1, 1, 1, 2),           # output_padding < stride
    (3, (4, 5), 3, 2, (3, 2), (2, 3), (0, 1), (1, 2), (1, 1), 1),
    (2, (6, 6), 4, 4, 3, 1, 0, 1, 2, 4),           # output_padding < dilation (stride 1), depthwise
    (1, (6, 7), 4, 6, 1, 1, 0, 0, 1, 2),           # 1x1
    (1, (12, 11), 6, 4, 3, 1, 1, 0, 1, 1),         # one image: split gemm
    (2, (5, 4), 2, 4, 1, 1, 0, 1, 2, 1),           # 1x1 with output_padding: output larger than input
]
TCASES_1D = [(2, (9,), 3, 4, 3, 2, 1, 1, 1, 1), (3, (8,), 4, 2, 4, 3, 2, 2, 2, 2)]
TCASES_3D = [(2, (3, 4, 5), 2, 4, 3, 2, 1, 1, 1, 2), (1, (4, 3, 3), 3, 2, (2, 1, 3), 1, (0, 0, 1), 0, (1, 1, 2), 1)]


def _tcheck(dim, case, name, layout="contig", bias=True, cuda=False):
    n, spatial, cin, cout, k, s, p, op, d, g = case
    return check(dim, n, cin, cout, spatial, k, s, p, d, g, name, layout=layout, transposed=True,
                 output_padding=op, bias=bias, cuda=cuda)


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("case", TCASES, ids=_ids(TCASES))
def test_conv_transpose2d(case, name, threads):
    _tcheck(2, case, name)


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("dim,case", [(1, c) for c in TCASES_1D] + [(3, c) for c in TCASES_3D])
def test_conv_transpose_1d_3d(dim, case, name, monkeypatch):
    monkeypatch.setattr(K, "_PARALLEL_FLOPS", 0)
    _tcheck(dim, case, name)


@pytest.mark.parametrize("layout", ["transposed", "narrow"])
def test_conv_transpose_noncontiguous(layout):
    _tcheck(2, TCASES[1], "FloatTensor", layout=layout)
    _tcheck(2, TCASES[3], "DoubleTensor", layout=layout, bias=False)


# ------------------------------------------------------------------------------ single-gradient kernels
def test_backward_kernels_take_sizes_and_out():
    ex, ew, egy, args, gx, gw = check(2, *CASES_2D[7], name="DoubleTensor")
    gi = K.conv_backward_input(egy, ex.size(), ew, *args)
    assert_same(gi, gx, 1e-10, 1e-10)
    out = ember.DoubleTensor(3)
    r = K.conv_backward_weight(egy, ex, ember.Size(ew.size()), *args, out=out)
    assert r is out
    assert_same(out, gw, 1e-10, 1e-9)
    gb = K.conv_backward_bias(egy)
    assert_same(gb, egy.contiguous()._a.sum(axis=(0, 2, 3)), 1e-10, 1e-10)
    gi2, gw2, gb2 = K.conv_backward(egy, list(ex.size()), ew, *args, output_mask=(True, False, False))
    assert gw2 is None and gb2 is None
    assert_same(gi2, gx, 1e-10, 1e-10)
    gi3, gw3, gb3 = K.conv_backward(egy, ex, ew.size(), *args, output_mask=(False, True, True))
    assert gi3 is None
    assert_same(gw3, gw, 1e-10, 1e-9)
    assert_same(gb3, gb, 1e-10, 1e-10)
    gi4, gw4, gb4 = K.conv_backward(egy, ex.size(), ew.size(), *args, output_mask=(False, False, True))
    assert gi4 is None and gw4 is None
    assert_same(gb4, gb, 1e-10, 1e-10)


def test_transpose_backward_kernels():
    ex, ew, egy, args, gx, gw = _tcheck(2, TCASES[2], "DoubleTensor")
    assert_same(K.conv_transpose_backward_input(egy, ex.size(), ew, *args), gx, 1e-10, 1e-10)
    assert_same(K.conv_transpose_backward_weight(egy, ex, ew.size(), *args), gw, 1e-10, 1e-9)


def test_forward_out_and_repeated_calls():
    torch = require_torch()
    F = torch.nn.functional
    x, w, b = rand((3, 4, 9, 8), 0).astype(np.float32), rand((6, 2, 3, 3), 1).astype(np.float32), rand((6,), 2)
    out = ember.FloatTensor(2, 2)
    ref = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b.astype(np.float32)), 2, 1, 1, 2)
    # a larger and a smaller convolution in between reuse the cached buffers
    for shape in [(3, 4, 9, 8), (2, 4, 30, 31), (1, 4, 3, 3), (3, 4, 9, 8)]:
        xs = rand(shape, 5).astype(np.float32) if shape != x.shape else x
        r = K.conv_forward(ember.FloatTensor(xs), ember.FloatTensor(w), ember.FloatTensor(b), 2, 1, 1, 2, out=out)
        assert r is out
    assert_same(out, ref, 1e-5, 1e-5)
    assert out.is_contiguous()


def test_unbatched_input():
    torch = require_torch()
    F = torch.nn.functional
    x, w, b = rand((3, 7, 6), 0), rand((4, 3, 3, 2), 1), rand((4,), 2)
    ey = K.conv_forward(ember.DoubleTensor(x), ember.DoubleTensor(w), ember.DoubleTensor(b), 1, 1)
    ty = F.conv2d(torch.from_numpy(x)[None], torch.from_numpy(w), torch.from_numpy(b), 1, 1)[0]
    assert ey.size() == ember.Size(ty.shape)
    assert_same(ey, ty, 1e-12, 1e-12)
    gy = ember.DoubleTensor(rand(tuple(ty.shape), 3))
    gi, gw, gb = K.conv_backward(gy, ember.DoubleTensor(x), ember.DoubleTensor(w), 1, 1)
    assert gi.size() == ember.Size([3, 7, 6])
    # the transposed convolution of the gradient is the input gradient
    gt = K.conv_transpose_forward(gy, ember.DoubleTensor(w), None, 1, 1)
    assert_same(gi, gt._a, 1e-12, 1e-12)


def test_conv_forward_matches_numpy_formula():
    # an independent direct loop (no torch): y[n,o,i,j] = b[o] + sum w[o,c,a,b] x[n,c,i*s+a*d-p, j*s+b*d-p]
    x, w, b = rand((2, 3, 6, 5), 0), rand((4, 3, 2, 3), 1), rand((4,), 2)
    s, p, d = 2, 1, 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    oh, ow = (6 + 2 * p - d * 1 - 1) // s + 1, (5 + 2 * p - d * 2 - 1) // s + 1
    ref = np.zeros((2, 4, oh, ow)) + b[None, :, None, None]
    for a in range(2):
        for c in range(3):
            patch = xp[:, :, a * d: a * d + s * (oh - 1) + 1: s, c * d: c * d + s * (ow - 1) + 1: s]
            ref += np.einsum("ncij,oc->noij", patch, w[:, :, a, c])
    y = K.conv_forward(ember.DoubleTensor(x), ember.DoubleTensor(w), ember.DoubleTensor(b), s, p, d)
    assert_same(y, ref, 1e-12, 1e-12)


def test_small_convolutions_stay_on_one_thread():
    # below the threshold, waking a second thread costs more than it saves
    small, _ = K._plan("t", (4, 3, 8, 8), (4, 3, 3, 3), 1, 1, 1, 1)
    big, _ = K._plan("t", (4, 16, 32, 32), (16, 16, 3, 3), 1, 1, 1, 1)
    assert small.nthreads == small.image_threads == 1
    assert big.nthreads == big.image_threads == ember.get_num_threads()


def test_output_size_helpers():
    assert K.conv_output_size((32, 7), (3, 3), (1, 2), (1, 0), (1, 2)) == (32, 2)
    assert K.conv_transpose_output_size((5,), (3,), (2,), (1,), (1,), (1,)) == (10,)


# ------------------------------------------------------------------------------ errors
def F32(*shape):
    return ember.FloatTensor(*shape).zero_()


def test_error_output_too_small():
    with pytest.raises(RuntimeError, match=r"Given input size: \(3 x 2 x 2\)\. Calculated output size: "
                                           r"\(6 x 0 x 0\)\. Output size is too small"):
        K.conv_forward(F32(1, 3, 2, 2), F32(6, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"Given input size: \(2 x 4\)\. Calculated output size: \(5 x -2\)"):
        K.conv_forward(F32(1, 2, 4), F32(5, 2, 3), dilation=3)
    with pytest.raises(RuntimeError, match=r"Given input size: \(2x3x3x3\)\. Calculated output size: \(4x1x1x0\)"):
        K.conv_forward(F32(1, 2, 3, 3, 3), F32(4, 2, 3, 3, 4))
    with pytest.raises(RuntimeError, match=r"Output size is too small"):
        K.conv_transpose_forward(F32(1, 2, 1, 1), F32(2, 3, 1, 1), padding=1)


def test_error_channels():
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight\[6, 3, 3, 3\], so expected input\[1, 4, 5, 5\] "
                                           r"to have 3 channels, but got 4 channels instead"):
        K.conv_forward(F32(1, 4, 5, 5), F32(6, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"Given groups=2, weight\[6, 3, 3, 3\], so expected input\[1, 3, 5, 5\] "
                                           r"to have 6 channels, but got 3 channels instead"):
        K.conv_forward(F32(1, 3, 5, 5), F32(6, 3, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight\[4, 3, 3, 3\], so expected input\[1, 3, 5, 5\] "
                                           r"to have 4 channels, but got 3 channels instead"):
        K.conv_transpose_forward(F32(1, 3, 5, 5), F32(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"weight.size\(0\) \(5\) must be divisible by groups \(2\)"):
        K.conv_forward(F32(1, 4, 5, 5), F32(5, 2, 3, 3), groups=2)


def test_error_dims_and_types():
    with pytest.raises(RuntimeError, match=r"3D or 4D input tensor expected but got: \[3 x 5\]"):
        K.conv_forward(F32(3, 5), F32(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"4D or 5D input tensor expected but got: \[1 x 2 x 3 x 4 x 5 x 6\]"):
        K.conv_forward(F32(1, 2, 3, 4, 5, 6), F32(2, 2, 1, 1, 1))
    with pytest.raises(RuntimeError, match=r"expected a 3D, 4D or 5D weight"):
        K.conv_forward(F32(1, 2, 3), F32(2, 2))
    with pytest.raises(TypeError, match=r"conv_forward\(\): expected weight to be a torch.FloatTensor .*got "
                                        r"torch.DoubleTensor"):
        K.conv_forward(F32(1, 2, 5, 5), ember.DoubleTensor(3, 2, 3, 3))
    with pytest.raises(TypeError, match=r"expected input to be a torch.FloatTensor or torch.DoubleTensor, "
                                        r"got torch.LongTensor"):
        K.conv_forward(ember.LongTensor(1, 2, 5, 5), ember.LongTensor(3, 2, 3, 3))
    with pytest.raises(TypeError, match=r"expected input to be a torch.FloatTensor or torch.DoubleTensor, got list"):
        K.conv_forward([1, 2], F32(3, 2, 3, 3))
    with pytest.raises(TypeError, match=r"expected bias to be a torch.FloatTensor .*got torch.DoubleTensor"):
        K.conv_forward(F32(1, 2, 5, 5), F32(3, 2, 3, 3), ember.DoubleTensor(3))
    with pytest.raises(RuntimeError, match=r"Need bias of dimension 1 and bias.size\[0\] == 3 but got bias to be of "
                                           r"shape: \[4\]"):
        K.conv_forward(F32(1, 2, 5, 5), F32(3, 2, 3, 3), F32(4))
    with pytest.raises(TypeError, match=r"expected out to be a torch.FloatTensor"):
        K.conv_forward(F32(1, 2, 5, 5), F32(3, 2, 3, 3), out=ember.DoubleTensor())


def test_error_params():
    x, w = F32(1, 2, 5, 5), F32(3, 2, 3, 3)
    with pytest.raises(RuntimeError, match=r"stride should be greater than zero, but got dH: 0 dW: 1"):
        K.conv_forward(x, w, stride=(0, 1))
    with pytest.raises(RuntimeError, match=r"dilation should be greater than zero, but got dilationH: 1 dilationW: 0"):
        K.conv_forward(x, w, dilation=(1, 0))
    with pytest.raises(RuntimeError, match=r"negative padding is not supported"):
        K.conv_forward(x, w, padding=-1)
    with pytest.raises(TypeError, match=r"expected stride to be an int or a tuple of 2 ints, got \(1, 2, 3\)"):
        K.conv_forward(x, w, stride=(1, 2, 3))
    with pytest.raises(TypeError, match=r"expected padding to be an int or a tuple of 2 ints, got 1.5"):
        K.conv_forward(x, w, padding=1.5)
    with pytest.raises(RuntimeError, match=r"groups must be a positive int, got 0"):
        K.conv_forward(x, w, groups=0)
    with pytest.raises(RuntimeError, match=r"output padding must be smaller than either stride or dilation, but got "
                                           r"adjH: 2 adjW: 0 dH: 2 dW: 1 dilationH: 1 dilationW: 1"):
        K.conv_transpose_forward(F32(1, 3, 5, 5), F32(3, 2, 3, 3), stride=(2, 1), output_padding=(2, 0))
    with pytest.raises(RuntimeError, match=r"negative output_padding is not supported"):
        K.conv_transpose_forward(F32(1, 3, 5, 5), F32(3, 2, 3, 3), stride=2, output_padding=-1)


def test_error_grad_output_shape():
    x, w = F32(2, 2, 5, 5), F32(3, 2, 3, 3)
    with pytest.raises(RuntimeError, match=r"conv_backward\(\): Need gradOutput of dimension 4 and "
                                           r"gradOutput.size\[2\] == 3 but got gradOutput to be of shape: "
                                           r"\[2 x 3 x 4 x 3\]"):
        K.conv_backward(F32(2, 3, 4, 3), x, w)
    with pytest.raises(RuntimeError, match=r"Need gradOutput of dimension 4 and gradOutput.size\[1\] == 2"):
        K.conv_transpose_backward_input(F32(2, 3, 7, 7), F32(2, 3, 5, 5), F32(3, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"expected gradOutput of 3 to 5 dims"):
        K.conv_backward_bias(F32(2, 3))
    with pytest.raises(TypeError, match=r"expected input to be a tensor or a sequence of ints, got float"):
        K.conv_backward_input(F32(2, 3, 3, 3), 1.5, w)
    with pytest.raises(TypeError, match=r"expected input to be a torch.FloatTensor"):
        K.conv_backward_weight(F32(2, 3, 3, 3), [2, 2, 5, 5], w)


# ------------------------------------------------------------------------------ CUDA
# every case of the tables above on CUDA tensors: fake CUDA everywhere, a real GPU where marked gpu
CUDA_CASES = [(2, c) for c in CASES_2D] + [(1, c) for c in CASES_1D] + [(3, c) for c in CASES_3D]
CUDA_TCASES = [(2, c) for c in TCASES] + [(1, c) for c in TCASES_1D] + [(3, c) for c in TCASES_3D]


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("dim,case", CUDA_CASES, ids=["{}d-{}".format(d, i) for d, i in zip(
    [d for d, _ in CUDA_CASES], _ids([c for _, c in CUDA_CASES]))])
def test_cuda_conv(dim, case, name, device_mode):
    check(dim, *case, name=name, cuda=True)


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("dim,case", CUDA_TCASES, ids=["{}d-{}".format(d, i) for d, i in zip(
    [d for d, _ in CUDA_TCASES], _ids([c for _, c in CUDA_TCASES]))])
def test_cuda_conv_transpose(dim, case, name, device_mode):
    _tcheck(dim, case, name, cuda=True)


@pytest.mark.parametrize("layout", ["transposed", "narrow"])
def test_cuda_noncontiguous_and_without_bias(layout, device_mode):
    check(2, *CASES_2D[2], name="FloatTensor", layout=layout, cuda=True)
    check(3, *CASES_3D[1], name="DoubleTensor", layout=layout, bias=False, cuda=True)
    _tcheck(2, TCASES[1], "FloatTensor", layout=layout, cuda=True)
    _tcheck(2, TCASES[3], "DoubleTensor", layout=layout, bias=False, cuda=True)


def _half_rounded(shape, seed):
    return rand(shape, seed).astype(np.float16).astype(np.float64)


@pytest.mark.parametrize("transposed", [False, True])
def test_cuda_half_matches_double(transposed, device_mode):
    # half inputs compute in float32: against double arithmetic on the same (half-rounded) values
    x, gy_seed = _half_rounded((2, 4, 7, 6), 0), 3
    w = _half_rounded((4, 3, 3, 2) if transposed else (6, 2, 3, 2), 1)
    b = _half_rounded((6,), 2)
    args = (2, 1, 1, 1, 2) if transposed else (2, 1, 1, 2)  # stride, padding, [output_padding,] dilation, groups
    forward = K.conv_transpose_forward if transposed else K.conv_forward
    backward = K.conv_transpose_backward if transposed else K.conv_backward
    results = {}
    for name in ("HalfTensor", "DoubleTensor"):
        cls = getattr(ember.cuda, name)
        ex, ew, eb = (cls(a.astype(np.float16 if name == "HalfTensor" else np.float64)) for a in (x, w, b))
        y = forward(ex, ew, eb, *args)
        gy = cls(_half_rounded(tuple(y.size()), gy_seed).astype(np.float16 if name == "HalfTensor" else np.float64))
        results[name] = (y,) + backward(gy, ex, ew, *args)
    for got, want in zip(results["HalfTensor"], results["DoubleTensor"]):
        assert type(got) is ember.cuda.HalfTensor
        assert_same(got, want._a.get(), rtol=1e-2, atol=1e-2, check_type=False)


def test_cuda_single_gradient_kernels_sizes_and_out(device_mode):
    ex, ew, egy, args, gx, gw = check(2, *CASES_2D[7], name="DoubleTensor", cuda=True)
    assert_same(K.conv_backward_input(egy, ex.size(), ew, *args), gx, 1e-10, 1e-10)
    out = ember.cuda.DoubleTensor(3)
    assert K.conv_backward_weight(egy, ex, ember.Size(ew.size()), *args, out=out) is out
    assert_same(out, gw, 1e-10, 1e-9)
    gb = K.conv_backward_bias(egy)
    assert type(gb) is ember.cuda.DoubleTensor
    assert_same(gb, egy.cpu().contiguous()._a.sum(axis=(0, 2, 3)), 1e-10, 1e-10)
    gi, gw2, gb2 = K.conv_backward(egy, ex.size(), ew.size(), *args, output_mask=(False, False, True))
    assert gi is None and gw2 is None
    assert_same(gb2, gb._a.get(), 1e-10, 1e-10)
    ex, ew, egy, args, gx, gw = _tcheck(2, TCASES[2], "DoubleTensor", cuda=True)
    assert_same(K.conv_transpose_backward_input(egy, ex.size(), ew, *args), gx, 1e-10, 1e-10)
    assert_same(K.conv_transpose_backward_weight(egy, ex, ew.size(), *args), gw, 1e-10, 1e-9)


def test_cuda_forward_out_and_unbatched(device_mode):
    x, w, b = rand((3, 7, 6), 0), rand((4, 3, 3, 2), 1), rand((4,), 2)
    want = K.conv_forward(ember.DoubleTensor(x), ember.DoubleTensor(w), ember.DoubleTensor(b), 2, 1)
    out = ember.cuda.DoubleTensor(5)
    got = K.conv_forward(ember.cuda.DoubleTensor(x), ember.cuda.DoubleTensor(w), ember.cuda.DoubleTensor(b), 2, 1,
                         out=out)
    assert got is out and got.size() == want.size()
    assert_same(got, want._a, 1e-12, 1e-12)
    gi = K.conv_backward_input(out, (3, 7, 6), ember.cuda.DoubleTensor(w), 2, 1)
    assert_same(gi, K.conv_backward_input(want, (3, 7, 6), ember.DoubleTensor(w), 2, 1)._a, 1e-12, 1e-12)


def test_cuda_errors(device_mode):
    x, w, b = F32(1, 2, 5, 5).cuda(), F32(3, 2, 3, 3).cuda(), F32(3).cuda()
    with pytest.raises(TypeError, match=r"conv_forward\(\): expected weight to be a torch.cuda.FloatTensor \(the "
                                        r"input's type\), got torch.FloatTensor"):
        K.conv_forward(x, w.cpu())
    with pytest.raises(TypeError, match=r"expected bias to be a torch.cuda.FloatTensor .*got torch.FloatTensor"):
        K.conv_forward(x, w, b.cpu())
    with pytest.raises(TypeError, match=r"expected out to be a torch.cuda.FloatTensor .*got torch.FloatTensor"):
        K.conv_forward(x, w, out=F32(1))
    gy = F32(1, 3, 3, 3).cuda()
    with pytest.raises(TypeError, match=r"conv_backward\(\): expected input to be a torch.cuda.FloatTensor .*got "
                                        r"torch.FloatTensor"):
        K.conv_backward(gy, x.cpu(), w)
    with pytest.raises(TypeError, match=r"conv_transpose_forward\(\): expected input to be a torch.cuda.FloatTensor, "
                                        r"torch.cuda.DoubleTensor or torch.cuda.HalfTensor, got torch.cuda.LongTensor"):
        K.conv_transpose_forward(ember.cuda.LongTensor(1, 3, 3, 3), w)
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight\[3, 2, 3, 3\], so expected input\[1, 4, 5, 5\]"):
        K.conv_forward(F32(1, 4, 5, 5).cuda(), w)


def test_cuda_second_device(fake_cuda):
    # tensors on GPU 1 compute there, whichever GPU is current; a weight elsewhere is refused
    x, w, b = rand((2, 3, 6, 5), 0), rand((4, 3, 3, 3), 1), rand((4,), 2)
    want = K.conv_forward(ember.DoubleTensor(x), ember.DoubleTensor(w), ember.DoubleTensor(b), 1, 1)
    ex, ew, eb = (ember.DoubleTensor(a).cuda(1) for a in (x, w, b))
    y = K.conv_forward(ex, ew, eb, 1, 1)
    assert y.get_device() == 1
    assert_same(y, want._a, 1e-12, 1e-12)
    gi, gw, gb = K.conv_backward(y, ex, ew, 1, 1)
    assert gi.get_device() == gw.get_device() == gb.get_device() == 1
    assert K.conv_transpose_forward(y, ew, None, 1, 1).get_device() == 1
    with pytest.raises(TypeError, match=r"conv_forward\(\): expected weight on GPU 1 \(where the input is\), got "
                                        r"torch.cuda.DoubleTensor on GPU 0"):
        K.conv_forward(ex, ew.cuda(0))
