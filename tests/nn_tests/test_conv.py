"""F.conv1d/2d/3d, F.conv_transpose1d/2d/3d and the Conv*/ConvTranspose* layers: against torch.nn.functional
(parity; outputs and every gradient, float and double, non-contiguous inputs), double backward against torch's
and by gradgradcheck, real Lua nn results (shared/data), the reference docs' shape examples, 0.2's
initialisation, output_size rule and errors."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import Variable, gradcheck
from ember.autograd import grad as autograd_grad
from ember.autograd.gradcheck import gradgradcheck
from _helpers.data import shared_data
from _helpers.oracle import assert_same, require_torch

TOL = {np.float64: (1e-10, 1e-12), np.float32: (1e-4, 1e-5)}

# (spatial dims, input size, out channels, kernel, keyword arguments); weights follow the groups
CONV = [
    (1, (2, 4, 9), 6, 3, {}),
    (1, (1, 3, 10), 2, 2, dict(stride=3, padding=2, dilation=2)),
    (1, (2, 4, 7), 4, 3, dict(groups=4, padding=1)),
    (2, (2, 3, 7, 6), 4, (3, 2), dict(stride=(2, 1), padding=(1, 0))),
    (2, (1, 4, 8, 9), 6, 3, dict(stride=2, padding=1, dilation=2, groups=2)),
    (2, (3, 2, 5, 5), 2, 5, {}),
    (3, (1, 2, 4, 5, 6), 3, (2, 3, 2), dict(stride=(1, 2, 2), padding=(1, 0, 1))),
    (3, (2, 4, 3, 4, 4), 4, 2, dict(dilation=(1, 2, 1), groups=2)),
]
TRANSPOSED = [
    (1, (2, 4, 5), 6, 3, dict(stride=2, padding=1, output_padding=1)),
    (1, (1, 2, 6), 4, 2, dict(groups=2, dilation=2)),
    (2, (2, 3, 4, 5), 2, (3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    (2, (1, 4, 3, 3), 4, 3, dict(stride=2, groups=4, dilation=(1, 2))),
    (3, (1, 2, 2, 3, 3), 3, 2, dict(stride=2, padding=(0, 1, 0), output_padding=(1, 0, 1))),
    (3, (2, 2, 2, 2, 3), 2, (2, 1, 2), dict(dilation=2, output_padding=1)),
]

_FN = {(1, False): "conv1d", (2, False): "conv2d", (3, False): "conv3d",
       (1, True): "conv_transpose1d", (2, True): "conv_transpose2d", (3, True): "conv_transpose3d"}


def _weight_shape(x_shape, out_ch, k, kw, transposed):
    nd = len(x_shape) - 2
    ksize = (k,) * nd if isinstance(k, int) else k
    g = kw.get("groups", 1)
    c = x_shape[1]
    return (c, out_ch // g) + ksize if transposed else (out_ch, c // g) + ksize


def _noncontig(a, cuda=False):
    """An ember tensor (a CUDA one if ``cuda``) with a's values, laid out in memory with its first two dims
    swapped."""
    t = ember.from_numpy(np.ascontiguousarray(np.swapaxes(a, 0, 1)).copy())
    return (t.cuda() if cuda else t).transpose(0, 1)


def _tensor(a, cuda=False):
    t = ember.from_numpy(a.copy())
    return t.cuda() if cuda else t


def _params(request_id, x_shape, out_ch, k, kw, transposed, dtype):
    rng = np.random.RandomState(request_id)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(_weight_shape(x_shape, out_ch, k, kw, transposed)).astype(dtype)
    b = rng.standard_normal(out_ch).astype(dtype)
    return rng, x, w, b


# ---------------------------------------------------------------------- functional forms against torch

ALL = [(False, i) for i in range(len(CONV))] + [(True, i) for i in range(len(TRANSPOSED))]


def _functional_against_torch(case, transposed, dtype, cuda=False):
    torch = require_torch()
    nd, x_shape, out_ch, k, kw = (TRANSPOSED if transposed else CONV)[case]
    rng, x, w, b = _params(case, x_shape, out_ch, k, kw, transposed, dtype)
    fname = _FN[nd, transposed]

    ex = Variable(_noncontig(x, cuda), requires_grad=True)  # strided input and weight
    ew = Variable(_noncontig(w, cuda), requires_grad=True)
    eb = Variable(_tensor(b, cuda), requires_grad=True)
    out = getattr(F, fname)(ex, ew, eb, **kw)
    assert out.is_cuda == cuda
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
    tout = getattr(torch.nn.functional, fname)(tx, tw, tb, **kw)
    rtol, atol = TOL[dtype]
    assert_same(out.data, tout, rtol, atol)

    go = rng.standard_normal(tuple(tout.shape)).astype(dtype)
    out.backward(_tensor(go, cuda))
    tout.backward(torch.from_numpy(go))
    for e, t in ((ex, tx), (ew, tw), (eb, tb)):
        assert e.grad.is_cuda == cuda
        assert_same(e.grad.data, t.grad, rtol, atol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("transposed,case", ALL)
def test_functional_matches_torch(case, transposed, dtype):
    _functional_against_torch(case, transposed, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("transposed,case", ALL)
def test_cuda_functional_matches_torch(case, transposed, dtype, device_mode):
    _functional_against_torch(case, transposed, dtype, cuda=True)


@pytest.mark.parametrize("transposed", [False, True])
def test_gradients_only_where_required(transposed):
    nd, x_shape, out_ch, k, kw = (TRANSPOSED if transposed else CONV)[3]
    _, x, w, b = _params(0, x_shape, out_ch, k, kw, transposed, np.float64)
    fn = getattr(F, _FN[nd, transposed])
    for need in [(True, False, False), (False, True, False), (False, False, True), (False, True, True)]:
        vs = [Variable(ember.from_numpy(a.copy()), requires_grad=r) for a, r in zip((x, w, b), need)]
        out = fn(*vs, **kw)
        out.sum().backward()
        for v, r in zip(vs, need):
            assert (v.grad is not None) == r
        full = [Variable(ember.from_numpy(a.copy()), requires_grad=True) for a in (x, w, b)]
        fn(*full, **kw).sum().backward()
        for v, f, r in zip(vs, full, need):
            if r:
                np.testing.assert_allclose(v.grad.data.numpy(), f.grad.data.numpy(), 1e-12, 1e-12)


def test_no_bias_and_volatile():
    _, x, w, _ = _params(1, (2, 3, 7, 6), 4, 3, {}, False, np.float64)
    ex = Variable(ember.from_numpy(x.copy()), volatile=True)
    out = F.conv2d(ex, Variable(ember.from_numpy(w.copy())))
    assert out.volatile and out.grad_fn is None
    ref = F.conv2d(Variable(ember.from_numpy(x.copy())), Variable(ember.from_numpy(w.copy())),
                   Variable(ember.zeros(4).double()))
    np.testing.assert_allclose(out.data.numpy(), ref.data.numpy(), 1e-12, 1e-12)


# ---------------------------------------------------------------------- double backward

def _double_backward_against_torch(case, transposed, cuda=False):
    """Second derivatives through every argument, grad_output included: the first-order gradients are
    recorded (create_graph) and a random combination of them is differentiated again."""
    torch = require_torch()
    table = TRANSPOSED if transposed else CONV
    nd, x_shape, out_ch, k, kw = table[case % len(table)]
    rng, x, w, b = _params(case, x_shape, out_ch, k, kw, transposed, np.float64)
    fname = _FN[nd, transposed]
    tx, tw, tb = (torch.from_numpy(a.copy()).requires_grad_() for a in (x, w, b))
    tout = getattr(torch.nn.functional, fname)(tx, tw, tb, **kw)
    go = rng.standard_normal(tuple(tout.shape))
    r = [rng.standard_normal(a.shape) for a in (x, w, b)]

    tgo = torch.from_numpy(go.copy()).requires_grad_()
    tg = torch.autograd.grad(tout, (tx, tw, tb), tgo, create_graph=True)
    sum(((g * torch.from_numpy(ri)).sum() for g, ri in zip(tg, r))).backward()

    ex, ew, eb = (Variable(_tensor(a, cuda), requires_grad=True) for a in (x, w, b))
    out = getattr(F, fname)(ex, ew, eb, **kw)
    ego = Variable(_tensor(go, cuda), requires_grad=True)
    eg = autograd_grad(out, (ex, ew, eb), ego, create_graph=True)
    total = None
    for g, ri in zip(eg, r):
        term = (g * Variable(_tensor(ri, cuda))).sum()
        total = term if total is None else total + term
    total.backward()
    for e, t in ((ex, tx), (ew, tw), (ego, tgo)):
        assert e.grad.is_cuda == cuda
        assert_same(e.grad.data, t.grad, 1e-10, 1e-12)
    assert eb.grad is None or float(eb.grad.data.abs().max()) == 0


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("case", [1, 4, 6])
def test_double_backward_matches_torch(case, transposed):
    _double_backward_against_torch(case, transposed)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("case", [1, 4])
def test_cuda_double_backward_matches_torch(case, transposed, device_mode):
    _double_backward_against_torch(case, transposed, cuda=True)


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_gradcheck_and_gradgradcheck(nd, transposed):
    x_shape = {1: (2, 2, 5), 2: (1, 2, 4, 3), 3: (1, 2, 3, 2, 3)}[nd]
    kw = dict(stride=2, padding=1, groups=2)
    if transposed:
        kw["output_padding"] = 1
    rng, x, w, b = _params(nd, x_shape, 2, 2, kw, transposed, np.float64)
    vs = tuple(Variable(ember.from_numpy(a.copy()), requires_grad=True) for a in (x, w, b))
    fn = getattr(F, _FN[nd, transposed])

    def f(*args):
        return fn(*args, **kw)
    assert gradcheck(f, vs, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert gradgradcheck(f, vs, eps=1e-6, atol=1e-5, rtol=1e-3)


# ---------------------------------------------------------------------- real Lua nn results

def _lua(name):
    pytest.importorskip("ember.legacy", reason="reading .t7 files needs ember-legacy")
    from ember.utils.serialization import load_lua
    return load_lua(shared_data("t7", "lua_nn_reference", name + ".t7"), unknown_classes=True)


def _lua_layer(m, nd, transposed):
    """The ember layer with a Lua nn module's geometry (Lua lists W before H)."""
    names = {2: "HW", 3: "THW"}[nd]

    def per_dim(prefix, default):
        return tuple(getattr(m, prefix + n, default) for n in names)
    kwargs = dict(stride=per_dim("d", 1), padding=per_dim("pad", 0))
    if transposed:
        kwargs["output_padding"] = per_dim("adj", 0)
    else:
        kwargs["dilation"] = per_dim("dilation", 1)
    cls = getattr(nn, ("ConvTranspose{}d" if transposed else "Conv{}d").format(nd))
    return cls(m.nInputPlane, m.nOutputPlane, per_dim("k", 1), bias=getattr(m, "bias", None) is not None,
               **kwargs)


@pytest.mark.parametrize("name,nd,transposed", [
    ("SpatialConvolution", 2, False), ("SpatialConvolution_stride_pad", 2, False),
    ("SpatialConvolution_nobias", 2, False), ("SpatialConvolution_float", 2, False),
    ("SpatialConvolutionMM_stride_pad", 2, False), ("SpatialDilatedConvolution", 2, False),
    ("SpatialDilatedConvolution_stride", 2, False), ("SpatialFullConvolution", 2, True),
    ("SpatialFullConvolution_stride_pad_adj", 2, True), ("VolumetricConvolution", 3, False),
    ("VolumetricConvolution_stride_pad", 3, False), ("VolumetricFullConvolution", 3, True),
    ("VolumetricFullConvolution_stride_pad_adj", 3, True),
])
def test_matches_lua_nn(name, nd, transposed):
    rec = _lua(name)
    m = rec["module"]
    layer = _lua_layer(m, nd, transposed)
    if rec["tensorType"] == "torch.DoubleTensor":
        layer.double()
    weight = rec["params"]["weight"]
    layer.weight.data.copy_(weight.view(*layer.weight.size()))  # SpatialConvolutionMM keeps it 2-D
    if layer.bias is not None:
        layer.bias.data.copy_(rec["params"]["bias"])
    x = Variable(rec["input"], requires_grad=True)
    out = layer(x)
    tol = (1e-10, 1e-12) if rec["tensorType"] == "torch.DoubleTensor" else (1e-4, 1e-5)
    assert_same(out.data, rec["output"].numpy(), *tol)
    out.backward(rec["gradOutput"])
    assert_same(x.grad.data, rec["gradInput"].numpy(), *tol)
    assert_same(layer.weight.grad.data, rec["gradWeight"].numpy().reshape(layer.weight.size()), *tol)
    if layer.bias is not None:
        assert_same(layer.bias.grad.data, rec["gradBias"].numpy(), *tol)


# ---------------------------------------------------------------------- modules: the reference docs' examples

def _run(m, *size):
    return m(Variable(ember.randn(*size), volatile=True)).size()


def test_reference_docs_shape_examples():
    assert _run(nn.Conv1d(16, 33, 3, stride=2), 20, 16, 50) == ember.Size([20, 33, 24])
    assert _run(nn.Conv2d(16, 33, 3, stride=2), 20, 16, 50, 100) == ember.Size([20, 33, 24, 49])
    assert _run(nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2)), 20, 16, 50, 100) == \
        ember.Size([20, 33, 28, 100])
    assert _run(nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1)), 20, 16, 50, 100) == \
        ember.Size([20, 33, 26, 100])
    assert _run(nn.Conv3d(16, 33, (3, 5, 2), stride=(2, 1, 1), padding=(4, 2, 0)), 2, 16, 10, 50, 100) == \
        ember.Size([2, 33, 8, 50, 99])
    assert _run(nn.ConvTranspose2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2)), 20, 16, 50, 100) == \
        ember.Size([20, 33, 93, 100])
    assert _run(nn.ConvTranspose3d(16, 33, 3, stride=2), 2, 16, 4, 5, 6) == ember.Size([2, 33, 9, 11, 13])
    # exact output size can be also specified as an argument
    input = Variable(ember.randn(1, 16, 12, 12))
    downsample = nn.Conv2d(16, 16, 3, stride=2, padding=1)
    upsample = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
    h = downsample(input)
    assert h.size() == ember.Size([1, 16, 6, 6])
    output = upsample(h, output_size=input.size())
    assert output.size() == ember.Size([1, 16, 12, 12])
    # the output_size picks the output_padding: the same as giving it
    ref = F.conv_transpose2d(h, upsample.weight, upsample.bias, stride=2, padding=1, output_padding=1)
    np.testing.assert_array_equal(output.data.numpy(), ref.data.numpy())


@pytest.mark.parametrize("output_size", [(11, 11), (12, 11), [1, 16, 11, 12]])
def test_conv_transpose_output_size(output_size):
    up = nn.ConvTranspose2d(16, 4, 3, stride=2, padding=1).double()
    h = Variable(ember.randn(1, 16, 6, 6).double(), requires_grad=True)
    out = up(h, output_size=output_size)
    assert tuple(out.size())[2:] == tuple(output_size)[-2:]
    out.sum().backward()
    assert h.grad.size() == h.size()


def test_conv_transpose_output_size_errors():
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    h = Variable(ember.randn(1, 2, 6, 6))
    with pytest.raises(ValueError, match=r"ConvTranspose2d: requested an output size of \[13, 11\], but valid "
                                         r"sizes range from \[11, 11\] to \[12, 12\]"):
        up(h, output_size=(13, 11))
    with pytest.raises(ValueError, match=r"output_size must have 2 or 4 elements \(got 3\)"):
        up(h, output_size=(1, 12, 12))


# ---------------------------------------------------------------------- modules: parameters and init

@pytest.mark.parametrize("cls,args,kwargs,wshape", [
    (nn.Conv1d, (4, 6, 3), dict(groups=2), (6, 2, 3)),
    (nn.Conv2d, (3, 8, (3, 5)), {}, (8, 3, 3, 5)),
    (nn.Conv3d, (2, 4, 2), {}, (4, 2, 2, 2, 2)),
    (nn.ConvTranspose1d, (4, 6, 3), dict(groups=2), (4, 3, 3)),
    (nn.ConvTranspose2d, (3, 8, (3, 5)), {}, (3, 8, 3, 5)),
    (nn.ConvTranspose3d, (6, 4, 2), dict(groups=2), (6, 2, 2, 2, 2)),
])
def test_parameters_and_reset(cls, args, kwargs, wshape):
    ember.manual_seed(3)
    m = cls(*args, **kwargs)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert tuple(m.weight.size()) == wshape and tuple(m.bias.size()) == (args[1],)
    # 0.2's bound: 1/sqrt(in_channels * prod(kernel)), the groups not counted
    n = args[0] * int(np.prod(m.kernel_size))
    bound = 1.0 / math.sqrt(n)
    for p in (m.weight, m.bias):
        a = p.data.numpy()
        assert a.min() >= -bound and a.max() <= bound
    w = m.weight.data.numpy().ravel()
    assert w.max() > 0.8 * bound and w.min() < -0.8 * bound  # fills the range: uniform, not a narrower law
    assert cls(*args, bias=False, **kwargs).bias is None


def test_attributes_are_tuples():
    m = nn.Conv2d(2, 3, 3, stride=2, padding=(1, 0), dilation=1)
    assert (m.kernel_size, m.stride, m.padding, m.dilation, m.output_padding) == ((3, 3), (2, 2), (1, 0), (1, 1),
                                                                                    (0, 0))
    assert m.transposed is False and m.groups == 1
    t = nn.ConvTranspose1d(2, 3, 3, output_padding=1, stride=2)
    assert (t.kernel_size, t.output_padding, t.transposed) == ((3,), (1,), True)


def test_module_forward_matches_functional():
    m = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
    x = Variable(ember.randn(2, 4, 7, 7))
    ref = F.conv2d(x, m.weight, m.bias, stride=2, padding=1, groups=2)
    np.testing.assert_array_equal(m(x).data.numpy(), ref.data.numpy())


# ---------------------------------------------------------------------- errors

def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)


@pytest.mark.parametrize("fname,dim", [("conv1d", 3), ("conv2d", 4), ("conv3d", 5), ("conv_transpose2d", 4)])
def test_functional_wrong_dim(fname, dim):
    x = Variable(ember.randn(*([3] * (dim - 1))))
    w = Variable(ember.randn(*([3] * dim)))
    with pytest.raises(ValueError, match="Expected {}D tensor as input, got {}D tensor instead".format(dim, dim - 1)):
        getattr(F, fname)(x, w)


def test_layer_wrong_channels_names_layer_and_sizes():
    m = nn.Conv2d(3, 6, 5)
    with pytest.raises(RuntimeError, match=r"^Conv2d: .*Given groups=1, weight\[6, 3, 5, 5\], so expected "
                                           r"input\[1, 4, 32, 32\] to have 3 channels, but got 4 channels instead"):
        m(Variable(ember.randn(1, 4, 32, 32)))
    t = nn.ConvTranspose2d(3, 6, 5)
    with pytest.raises(RuntimeError, match=r"^ConvTranspose2d: .*weight\[3, 6, 5, 5\], so expected "
                                           r"input\[1, 4, 8, 8\] to have 3 channels, but got 4"):
        t(Variable(ember.randn(1, 4, 8, 8)))


def test_layer_input_smaller_than_kernel():
    m = nn.Conv2d(3, 6, 5, padding=1)
    with pytest.raises(RuntimeError, match=r"^Conv2d: .*Given input size: \(3 x 2 x 9\)\. Calculated output "
                                           r"size: \(6 x 0 x 7\)\. Output size is too small"):
        m(Variable(ember.randn(1, 3, 2, 9)))
    m3 = nn.Conv3d(2, 2, 3, dilation=2)
    with pytest.raises(RuntimeError, match=r"^Conv3d: .*Given input size: \(2x5x4x5\)\. Calculated output "
                                           r"size: \(2x1x0x1\)"):
        m3(Variable(ember.randn(1, 2, 5, 4, 5)))


def test_layer_wrong_dim_names_layer():
    with pytest.raises(ValueError, match=r"^Conv1d: Expected 3D tensor as input, got 2D tensor instead\."):
        nn.Conv1d(2, 2, 3)(Variable(ember.randn(2, 7)))


def test_mixed_types():
    x = Variable(ember.randn(1, 2, 5, 5))
    w = Variable(ember.randn(2, 2, 3, 3).double())
    with pytest.raises(TypeError, match="torch.DoubleTensor"):
        F.conv2d(x, w)


def test_cuda_input_with_cpu_weight(device_mode):
    x = Variable(ember.randn(1, 2, 5, 5).cuda())
    w = Variable(ember.randn(2, 2, 3, 3))
    with pytest.raises(TypeError, match=r"expected weight to be a torch.cuda.FloatTensor \(the input's type\), got "
                                        r"torch.FloatTensor"):
        F.conv2d(x, w)
    with pytest.raises(TypeError, match=r"expected weight to be a torch.cuda.FloatTensor"):
        nn.ConvTranspose2d(2, 2, 3)(x)


def test_bad_stride_argument():
    with pytest.raises(TypeError, match=r"conv2d: expected stride to be an int or a tuple of 2 ints, got \(1, 2, 3\)"):
        F.conv2d(Variable(ember.randn(1, 1, 4, 4)), Variable(ember.randn(1, 1, 2, 2)), stride=(1, 2, 3))
