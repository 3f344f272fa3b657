"""Property-based tests (hypothesis) of ember-core's broadcasting, views, Python indexing, reductions and type
conversions.

Hypothesis draws shapes, dtypes, memory layouts (permuted, stepped, expanded), chains of view ops and index
expressions. Every example is checked against NumPy, and against PyTorch 2.13 when it is installed (adapted to
0.2 as ../shared/reference/ORACLE.md says: no 0-dim results, ByteTensor comparisons, no empty slices, 0.2's
equal-numel broadcasting fallback). Runs are derandomized and keep no example database, so CI is reproducible.
"""
import math
import operator
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from numpy.lib.stride_tricks import as_strided, sliding_window_view

import ember

try:
    import torch
except ImportError:  # the NumPy half of every property still runs
    torch = None

# x / 0 gives inf or nan silently in 0.2; ember's own filter for NumPy's warnings is installed at import, which
# pytest's per-test warning capture does not keep
pytestmark = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                                        "ignore:invalid value:RuntimeWarning")

FLOATS = (ember.DoubleTensor, ember.FloatTensor)
INTS = (ember.LongTensor, ember.IntTensor, ember.ShortTensor, ember.CharTensor, ember.ByteTensor)
TYPES = FLOATS + INTS


def props(n):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)
seeds = st.integers(0, 2 ** 32 - 1)


# ---------------------------------------------------------------------- values and layouts

def values(rng, cls, shape):
    """Small values (many ties, for the comparisons); quarters for the float types (exact in half)."""
    if cls is ember.ByteTensor:
        v = rng.integers(0, 10, shape)
    elif cls._is_floating:
        v = rng.integers(-4, 5, shape) + rng.integers(0, 4, shape) / 4.0
    else:
        v = rng.integers(-5, 6, shape)
    return np.asarray(v).astype(cls._dtype)


def _inverse(perm):
    return [int(i) for i in np.argsort(perm)]


@st.composite
def laid_out(draw, cls, shape, kinds=("contiguous", "permuted", "stepped", "expanded"), make=values):
    """``(e, ref, tt)``: an ember tensor of ``shape`` (values from ``make``) stored in a random layout; ``ref``, an
    ndarray with the same values and strides (its own memory, writable unless expanded); ``tt``, the same as a torch
    tensor (None without torch). Each is built from NumPy values by its own library's ops."""
    rng = np.random.default_rng(draw(seeds))
    kind = draw(st.sampled_from(kinds))
    nd = len(shape)
    tt = None
    if kind == "expanded":
        # the values are constant along the expanded dims
        flat = draw(st.sets(st.integers(0, nd - 1)))
        v = make(rng, cls, tuple(1 if i in flat else n for i, n in enumerate(shape)))
        e = ember.from_numpy(v.copy()).expand(*shape)
        ref = np.broadcast_to(v.copy(), shape)
        if torch is not None:
            tt = torch.from_numpy(v.copy()).expand(*shape)
        return e, ref, tt
    v = make(rng, cls, shape)
    if kind == "permuted":
        perm = draw(st.permutations(range(nd)))
        base = np.ascontiguousarray(v.transpose(perm))
        inv = _inverse(perm)
        e = ember.from_numpy(base.copy()).permute(*inv)
        ref = base.copy().transpose(inv)
        if torch is not None:
            tt = torch.from_numpy(base.copy()).permute(*inv)
    elif kind == "stepped":
        base = np.zeros(shape[:-1] + (2 * shape[-1] + 1,), cls._dtype)
        base[..., 1::2] = v
        e = ember.from_numpy(base.copy())[..., 1::2]
        ref = base.copy()[..., 1::2]
        if torch is not None:
            tt = torch.from_numpy(base.copy())[..., 1::2]
    else:
        e, ref = ember.from_numpy(v.copy()), v.copy()
        if torch is not None:
            tt = torch.from_numpy(v.copy())
    return e, ref, tt


def tnp(x):
    """A torch tensor's values as an ndarray (bool as uint8)."""
    x = x.detach()
    if x.dtype == torch.bool:
        x = x.to(torch.uint8)
    return x.numpy().copy()


def assert_values(e, expected, cls=None):
    """Ember tensor ``e`` has type ``cls``, ``expected``'s shape (0-dim as size (1,)) and exactly its values."""
    if cls is not None:
        assert type(e) is cls, "{} != {}".format(type(e).__name__, cls.__name__)
    expected = np.asarray(expected)
    if expected.ndim == 0:
        expected = expected.reshape(1)
    assert e.size() == expected.shape
    np.testing.assert_array_equal(e.numpy(), expected.astype(type(e)._dtype))


def overlaps(ref):
    """True when two elements of the ndarray ``ref`` share memory (an expanded or overlapping-unfold view)."""
    item = ref.itemsize
    offsets = np.zeros(ref.shape, np.int64)
    for d, (n, s) in enumerate(zip(ref.shape, ref.strides)):
        offsets = offsets + (np.arange(n) * (s // item)).reshape((n,) + (1,) * (ref.ndim - d - 1))
    return np.unique(offsets).size != ref.size


# ---------------------------------------------------------------------- broadcasting

ARITH = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
           "ge": np.greater_equal}
BINARY = dict(ARITH, **COMPARE)
OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
             "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
             "ge": operator.ge}
FORMS = ("function", "method", "operator", "out")


def call_binary(name, form, a, b):
    if name == "sub" and form in ("function", "out"):
        form = "method"  # 0.2 has no torch.sub
    if form == "function":
        return getattr(ember, name)(a, b)
    if form == "method":
        return getattr(a, name)(b)
    if form == "operator":
        return OPERATORS[name](a, b)
    # out= of any size is resized to the result's
    out = (ember.ByteTensor if name in COMPARE else type(a))(*a.size()[:1]).fill_(1)
    r = getattr(ember, name)(a, b, out=out)
    assert r is out
    return r


def strided_out(cls, shape):
    """``(base, out)``: ``out`` is a non-contiguous view of ``shape`` into ``base``, which holds ones. An out= of the
    right size keeps its layout (0.2's resize_ changes nothing then), so the result lands in base's memory."""
    base = cls(*(tuple(shape[:-1]) + (2 * shape[-1],))).fill_(1)
    return base, base.unfold(-1, 1, 2).squeeze(-1)


def assert_strided_out(base, expected):
    b = base.numpy()
    expected = np.asarray(expected)
    np.testing.assert_array_equal(b[..., ::2], expected.reshape(expected.shape or (1,)).astype(b.dtype))
    np.testing.assert_array_equal(b[..., 1::2], 1)


def result_class(name, a):
    return ember.ByteTensor if name in COMPARE else type(a)


def is_expanded(e):
    return any(s == 0 and n > 1 for n, s in zip(e.size(), e.stride()))


def broadcastable(sa, sb):
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        return False
    return True


@props(200)
@given(data=st.data(), bshapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=4, max_side=4),
       name=st.sampled_from(sorted(BINARY)), form=st.sampled_from(FORMS))
def test_binary_ops_broadcast_like_numpy_and_torch(data, bshapes, name, form):
    (sa, sb), shape = bshapes
    cls = data.draw(st.sampled_from(FLOATS if name == "div" else TYPES), label="type")
    a, va, ta = data.draw(laid_out(cls, sa), label="a")
    b, vb, tb = data.draw(laid_out(cls, sb), label="b")
    with np.errstate(all="ignore"):
        expected = BINARY[name](va, vb)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # broadcastable shapes never take the deprecated fallback
        r = call_binary(name, form, a, b)
    assert_values(r, expected, result_class(name, a))
    assert r.is_contiguous()
    np.testing.assert_array_equal(a.numpy(), va)  # the inputs are left alone
    np.testing.assert_array_equal(b.numpy(), vb)
    if torch is not None:
        np.testing.assert_array_equal(r.numpy(), tnp(getattr(torch, name)(ta, tb)).reshape(r.size()))
    if data.draw(st.booleans(), label="strided out") and name != "sub":
        base, out = strided_out(result_class(name, a), r.size())
        assert getattr(ember, name)(a, b, out=out) is out
        assert_strided_out(base, expected)
    if tuple(shape) == sa and not is_expanded(a):
        ra = getattr(a, name + "_")(b)
        assert ra is a
        assert_values(a, expected, cls)


@props(25)
@given(data=st.data(), shape=st.sampled_from(((256, 160), (41000,), (3, 128, 100))),
       name=st.sampled_from(sorted(ARITH)),
       cls=st.sampled_from((ember.FloatTensor, ember.DoubleTensor, ember.IntTensor)),
       form=st.sampled_from(("function", "operator", "number", "in-place", "out=a", "out=b", "strided out")))
def test_large_binary_ops_match_numpy(data, shape, name, cls, form):
    """Tensors large enough for the threaded kernels, with aliased out= and in-place forms."""
    assume(cls._is_floating or name != "div")
    a, va, _ = data.draw(laid_out(cls, shape, kinds=("contiguous", "permuted", "stepped")), label="a")
    b, vb, _ = data.draw(laid_out(cls, shape), label="b")
    if form == "number":
        b = vb = 3
    with np.errstate(all="ignore"):
        expected = BINARY[name](va, vb).astype(cls._dtype)
    if form in ("function", "number"):
        r = getattr(a, name)(b)
    elif form == "operator":
        r = OPERATORS[name](a, b)
    elif form == "in-place":
        r = getattr(a, name + "_")(b)
        assert r is a
    elif form == "strided out":
        base, out = strided_out(cls, shape)
        assert getattr(a, name)(b, out=out) is out
        assert_strided_out(base, expected)
        return
    else:
        out = a if form == "out=a" else b
        if is_expanded(out):
            return
        r = getattr(a, name)(b, out=out)
        assert r is out
    assert_values(r, expected, cls)


@st.composite
def same_numel_shapes(draw):
    """Two shapes with the same number of elements that do not broadcast together."""
    sa = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple))
    factors = []
    n = math.prod(sa)
    p = 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    factors = draw(st.permutations(factors))
    cuts = sorted(draw(st.sets(st.integers(1, max(len(factors) - 1, 1)), max_size=3)))
    sb = tuple(math.prod(factors[i:j]) for i, j in zip([0] + cuts, cuts + [len(factors)]) if j > i)
    sb = (1,) * draw(st.integers(0, 1)) + (sb or (1,))
    assume(not broadcastable(sa, sb))
    return sa, sb


@props(80)
@given(data=st.data(), pair=same_numel_shapes(), name=st.sampled_from(sorted(BINARY)),
       form=st.sampled_from(FORMS))
def test_equal_numel_fallback_combines_flattened_operands(data, pair, name, form):
    sa, sb = pair
    cls = data.draw(st.sampled_from(FLOATS if name == "div" else TYPES), label="type")
    a, va, _ = data.draw(laid_out(cls, sa), label="a")
    b, vb, _ = data.draw(laid_out(cls, sb), label="b")
    with np.errstate(all="ignore"):
        expected = BINARY[name](va.ravel(), vb.ravel()).reshape(sa)
    with pytest.warns(UserWarning, match="not broadcastable, but have the same number of elements"):
        r = call_binary(name, form, a, b)
    assert_values(r, expected, result_class(name, a))
    if not is_expanded(a):
        with pytest.warns(UserWarning, match="not broadcastable, but have the same number of elements"):
            getattr(a, name + "_")(b)
        assert_values(a, expected, cls)


def _mismatch_message(sa, sb):
    """0.2's text (THLongStorage_inferSize2): the first mismatch counted from the right."""
    nd = max(len(sa), len(sb))
    pa = (1,) * (nd - len(sa)) + sa
    pb = (1,) * (nd - len(sb)) + sb
    for i in range(nd - 1, -1, -1):
        if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
            return "The size of tensor a ({}) must match the size of tensor b ({}) at non-singleton dimension {}" \
                .format(pa[i], pb[i], i)


@props(60)
@given(data=st.data(), sa=shapes, sb=shapes, name=st.sampled_from(sorted(BINARY)), form=st.sampled_from(FORMS))
def test_incompatible_shapes_with_different_numel_raise(data, sa, sb, name, form):
    assume(not broadcastable(sa, sb) and math.prod(sa) != math.prod(sb))
    cls = data.draw(st.sampled_from(FLOATS if name == "div" else TYPES), label="type")
    a, va, _ = data.draw(laid_out(cls, sa), label="a")
    b, _, _ = data.draw(laid_out(cls, sb), label="b")
    with pytest.raises(RuntimeError, match=re.escape(_mismatch_message(sa, sb))):
        call_binary(name, form, a, b)
    with pytest.raises(RuntimeError, match=r"size of tensor a|can't change the size"):
        getattr(a, name + "_")(b)
    np.testing.assert_array_equal(a.numpy(), va)


# ---------------------------------------------------------------------- view chains

def np_expand(x, sizes):
    lead = len(sizes) - x.ndim
    shape, strides = [], []
    for i, want in enumerate(sizes):
        if i < lead:
            shape.append(want)
            strides.append(0)
            continue
        n, s = x.shape[i - lead], x.strides[i - lead]
        shape.append(n if want == -1 else want)
        strides.append(s if want in (-1, n) else 0)
    return as_strided(x, shape, strides)


def np_unfold(x, d, size, step):
    w = sliding_window_view(x, size, axis=d, writeable=True)
    return w[(slice(None),) * d + (slice(None, None, step),)]


def _pos(d, nd):
    return d + nd if d < 0 else d


def _piece(n, size, which):
    """(start, length) of piece ``which`` when a dim of ``n`` splits into pieces of ``size`` (the last shorter)."""
    start = min(which, (n - 1) // size) * size
    return start, min(size, n - start)


def apply_view(x, op, args, lib):
    """Apply the view ``op`` to ``x`` of library ``lib`` (ember and torch share the 0.2 API)."""
    if lib != "numpy":
        if op == "index":
            return x[args]
        if op == "squeeze_all":
            return x.squeeze()
        if op in ("chunk", "split"):
            pieces = getattr(x, op)(*args[:2])
            return pieces[min(args[2], len(pieces) - 1)]
        if op.endswith("_"):
            r = getattr(x, op)(*args)
            assert r is x
            return r
        return getattr(x, op)(*args)
    nd = x.ndim
    op = op.rstrip("_")
    if op == "transpose":
        return np.swapaxes(x, *args)
    if op == "t":
        return x.T
    if op == "permute":
        return np.transpose(x, args)
    if op in ("narrow", "chunk", "split"):
        if op == "narrow":
            d, start, length = args
        else:
            size, d, which = args
            n = x.shape[d]
            start, length = _piece(n, -(-n // size) if op == "chunk" else size, which)
        return x[(slice(None),) * _pos(d, nd) + (slice(start, start + length),)]
    if op == "select":
        d, i = args
        return x[(slice(None),) * _pos(d, nd) + (i,)]
    if op == "unsqueeze":
        return np.expand_dims(x, _pos(args[0], nd + 1))
    if op == "squeeze":
        d = _pos(args[0], nd)
        return np.squeeze(x, d) if x.shape[d] == 1 and nd > 1 else x  # 0.2 keeps a 1-D tensor as it is
    if op == "squeeze_all":
        return np.squeeze(x).reshape(-1) if x.size == 1 else np.squeeze(x)  # 0.2: ones squeeze to size (1,)
    if op == "expand":
        return np_expand(x, args)
    if op == "unfold":
        return np_unfold(x, _pos(args[0], nd), args[1], args[2])
    if op == "view":
        r = x.reshape(args)
        assert np.shares_memory(r, x)
        return r
    if op == "index":
        return x[args]
    raise AssertionError(op)


def draw_view_op(data, ref):
    """A view op and its arguments, valid for ``ref`` (the NumPy twin of the current view) under 0.2's rules."""
    shape, nd = ref.shape, ref.ndim
    dim = st.integers(-nd, nd - 1)
    ops = ["transpose", "transpose_", "permute", "narrow", "unsqueeze", "unsqueeze_", "expand", "unfold", "index",
           "view", "squeeze", "squeeze_", "squeeze_all", "chunk", "split"]
    if nd > 1:
        ops.append("select")
    if nd == 2:
        ops += ["t", "t_"]
    op = data.draw(st.sampled_from(ops), label="op")
    if op in ("transpose", "transpose_"):
        return op, (data.draw(dim), data.draw(dim))
    if op in ("t", "t_", "squeeze_all"):
        return op, ()
    if op == "permute":  # 0.2's permute takes dims >= 0 only
        return op, tuple(data.draw(st.permutations(range(nd))))
    if op in ("narrow", "select", "unfold", "chunk", "split"):
        d = data.draw(dim)
        n = shape[d]
        if op == "select":
            return op, (d, data.draw(st.integers(0, n - 1)))
        if op == "narrow":
            start = data.draw(st.integers(0, n - 1))
            return op, (d, start, data.draw(st.integers(1, n - start)))
        if op == "unfold":
            return op, (d, data.draw(st.integers(1, n)), data.draw(st.integers(1, 3)))
        return op, (data.draw(st.integers(1, n + 1)), d, data.draw(st.integers(0, n)))
    if op in ("unsqueeze", "unsqueeze_"):
        return op, (data.draw(st.integers(-nd - 1, nd)),)
    if op in ("squeeze", "squeeze_"):
        return op, (data.draw(dim),)
    if op == "expand":
        lead = [data.draw(st.integers(1, 3)) for _ in range(data.draw(st.integers(0, 2)))]
        rest = [data.draw(st.sampled_from((n, -1) if n != 1 else (1, 2, 3, -1))) for n in shape]
        return op, tuple(lead + rest)
    if op == "view":
        n = ref.size
        first = data.draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0]))
        return op, (first, data.draw(st.sampled_from((-1, n // first))))
    key = []
    for n in shape[:data.draw(st.integers(1, nd))]:
        start = data.draw(st.integers(0, n - 1))
        key.append(slice(start, data.draw(st.integers(start + 1, n + 1)), data.draw(st.integers(1, 3))))
    if data.draw(st.booleans()):
        key.insert(data.draw(st.integers(0, len(key))), None)
    return op, tuple(key)


def contiguous_strides(shape):
    return tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))


def np_offset(ref, base):
    return (ref.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // ref.itemsize


@props(250)
@given(data=st.data(), shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
       cls=st.sampled_from(TYPES), seed=seeds)
def test_view_chains_match_numpy_and_torch(data, shape, cls, seed):
    v = values(np.random.default_rng(seed), cls, shape)
    base, base_ref = ember.from_numpy(v.copy()), v.copy()
    base_t = torch.from_numpy(v.copy()) if torch is not None else None
    # the chain starts from a view, so that its in-place view ops (transpose_ ...) leave the base as it is
    e, ref = base.narrow(0, 0, shape[0]), base_ref[:]
    tt = base_t.narrow(0, 0, shape[0]) if torch is not None else None
    for _ in range(data.draw(st.integers(1, 6), label="chain length")):
        op, args = draw_view_op(data, ref)
        if op == "view" and not ref.flags.c_contiguous:
            with pytest.raises(RuntimeError, match="not contiguous"):
                e.view(*args)
            continue
        e, ref = apply_view(e, op, args, "ember"), apply_view(ref, op, args, "numpy")
        if tt is not None:
            if not (op.startswith("squeeze") and tt.dim() == 1):  # 0.2 never squeezes to 0-dim
                tt = apply_view(tt, op, args, "torch")
            elif op == "squeeze_all" and tt.size(0) == 1:  # 0.2's squeeze() of ones: size (1,), stride (1,)
                tt = tt.as_strided((1,), (1,), tt.storage_offset())
            if tt.dim() == 0:
                tt = tt.as_strided((1,), (1,), tt.storage_offset())
        if op == "view":  # 0.2's view has contiguous strides; torch 2's keeps odd strides of size-1 dims
            assert e.stride() == contiguous_strides(ref.shape)
            if tt is not None:
                tt = tt.as_strided(tt.size(), contiguous_strides(ref.shape), tt.storage_offset())
        assert e.size() == ref.shape, (op, args)
        np.testing.assert_array_equal(e.numpy(), ref)
        # strides of size-1 dims are layout conventions NumPy does not share; torch does (below)
        assert [s for s, n in zip(e.stride(), ref.shape) if n != 1] == \
               [s // ref.itemsize for s, n in zip(ref.strides, ref.shape) if n != 1], (op, args)
        assert e.storage_offset() == np_offset(ref, base_ref), (op, args)
        assert e.is_contiguous() == ref.flags.c_contiguous, (op, args)
        assert e.storage().data_ptr() == base.storage().data_ptr()
        if tt is not None:
            assert e.stride() == tt.stride(), (op, args)
            assert e.storage_offset() == tt.storage_offset(), (op, args)
            assert e.is_contiguous() == tt.is_contiguous(), (op, args)
    c = e.contiguous()
    assert c is e if ref.flags.c_contiguous else c.stride() == contiguous_strides(ref.shape) and \
        c.storage().data_ptr() != base.storage().data_ptr()
    np.testing.assert_array_equal(c.numpy(), ref)
    # writing through the final view changes the base exactly as NumPy and torch do
    writes = ["fill"] if overlaps(ref) else ["fill", "add_number", "add_tensor"]
    how = data.draw(st.sampled_from(writes), label="write")
    if how == "fill":
        e.fill_(7)
        ref[...] = 7
        if tt is not None:
            tt.fill_(7)
    elif how == "add_number":
        e.add_(3)
        ref += cls._dtype.type(3)
        if tt is not None:
            tt.add_(3)
    else:
        other = values(np.random.default_rng(seed + 1), cls, ref.shape)
        e.add_(ember.from_numpy(other.copy()))
        ref += other
        if tt is not None:
            tt.add_(torch.from_numpy(other.copy()))
    np.testing.assert_array_equal(base.numpy(), base_ref)
    if tt is not None:
        np.testing.assert_array_equal(base.numpy(), base_t.numpy())


# ---------------------------------------------------------------------- Python indexing

@st.composite
def index_keys(draw, shape, unique=False):
    """``(key, kind)``: a random index for ``shape`` of kind "basic" (ints, slices with positive steps, None,
    Ellipsis), "long" (plus LongTensors or int lists, all with one index shape) or "mask" (plus one ByteTensor
    mask over one or two consecutive dims). With ``unique``, no two LongTensor entries pick the same element."""
    nd = len(shape)
    kind = draw(st.sampled_from(("basic", "long", "mask")))
    rng = np.random.default_rng(draw(seeds))
    ishape = draw(st.sampled_from(((1,), (2,), (3,), (2, 2), (1, 3))))
    key = []
    has_ellipsis = has_adv = False
    first_long = True
    d = 0
    while d < nd:
        if draw(st.integers(0, 5)) == 0:
            key.append(None)
        choices = ["int", "slice", "slice"]
        if not has_ellipsis:
            choices += ["ellipsis", "stop"]
        if kind == "long":
            choices += ["long", "long"]
        elif kind == "mask" and not has_adv:
            choices += ["mask", "mask"]
        what = draw(st.sampled_from(choices))
        n = shape[d]
        if what == "stop":
            break
        if what == "ellipsis":
            has_ellipsis = True
            key.append(Ellipsis)
            d += draw(st.integers(0, nd - d))  # the dims it skips; the entries after it take the rest
            continue
        if what == "int":
            i = draw(st.integers(-n, n - 1))
            key.append(np.int64(i) if draw(st.integers(0, 4)) == 0 else i)  # NumPy ints index as ints
        elif what == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 1, n + 1)))
            key.append(slice(start, stop, draw(st.sampled_from((None, 1, 2, 3)))))
        elif what == "long":
            if unique and first_long:
                if math.prod(ishape) > n:
                    ishape = (1,)
                idx = rng.permutation(n)[:math.prod(ishape)].reshape(ishape)
            else:
                idx = rng.integers(0, n, ishape)
            first_long = False
            has_adv = True
            key.append(idx.tolist() if len(ishape) == 1 and draw(st.booleans()) else
                       ember.LongTensor(idx.astype(np.int64)))
        else:
            m = draw(st.integers(1, min(2, nd - d)))
            p = draw(st.sampled_from((0.0, 0.3, 0.7, 1.0)))
            mask = (rng.random(shape[d:d + m]) < p).astype(np.uint8)
            key.append(ember.ByteTensor(mask))
            has_adv = True
            d += m
            continue
        d += 1
    if draw(st.integers(0, 5)) == 0:
        key.append(None)
    if not has_adv:
        kind = "basic"
    return (key[0] if len(key) == 1 and draw(st.booleans()) else tuple(key)), kind


def key_for(key, lib):
    """The same key for NumPy or torch: LongTensors and masks become that library's index arrays."""
    def conv(k):
        if isinstance(k, ember.LongTensor):
            return torch.from_numpy(k.numpy().copy()) if lib == "torch" else k.numpy().copy()
        if isinstance(k, ember.ByteTensor):
            m = k.numpy().astype(bool)
            return torch.from_numpy(m) if lib == "torch" else m
        return k
    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


def mask_count(key):
    """The number of elements the key's ByteTensor masks select (None without a mask)."""
    masks = [k for k in (key if isinstance(key, tuple) else (key,)) if isinstance(k, ember.ByteTensor)]
    return int(masks[0].numpy().sum()) if masks else None


def numpy_agrees(key, kind):
    """NumPy indexes like torch except when ints mix with advanced indices (NumPy counts the ints as advanced
    indices in its rule for placing the result's dims; torch selects with them first)."""
    ks = key if isinstance(key, tuple) else (key,)
    return kind == "basic" or not any(isinstance(k, (int, np.integer)) for k in ks)


def expected_getitem(ref, tt, key, kind):
    """The reference result as an ndarray (torch's when installed, else NumPy's), or None when neither applies."""
    if tt is not None:
        return tnp(tt[key_for(key, "torch")])
    if numpy_agrees(key, kind):
        return np.asarray(ref[key_for(key, "numpy")])
    return None


@props(300)
@given(data=st.data(), shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
       cls=st.sampled_from(TYPES))
def test_getitem_matches_torch_and_numpy(data, shape, cls):
    e, ref, tt = data.draw(laid_out(cls, shape), label="tensor")
    key, kind = data.draw(index_keys(shape), label="key")
    expected = expected_getitem(ref, tt, key, kind)
    if expected is None:
        return
    if numpy_agrees(key, kind):
        np.testing.assert_array_equal(np.asarray(ref[key_for(key, "numpy")]), expected)
    if expected.size == 0 and kind == "basic":
        with pytest.raises(ValueError, match="result of slicing is an empty tensor"):
            e[key]
        return
    if expected.size == 0:  # only an all-zero mask gives an empty result whose 0.2 form is certain
        assume(mask_count(key) == 0)
    r = e[key]
    if expected.ndim == 0:  # a full int index: a Python number in 0.2
        assert type(r) is (float if cls._is_floating else int)
        assert r == expected.item()
        return
    assert type(r) is cls
    if expected.size == 0:  # an all-zero mask: 0.2's empty tensor
        assert r.size() == ember.Size([]) and r.numel() == 0
        return
    assert r.size() == expected.shape
    np.testing.assert_array_equal(r.numpy(), expected)
    if kind == "basic":  # a view, laid out as torch lays it out
        assert r.storage().data_ptr() == e.storage().data_ptr()
        if tt is not None:
            t_r = tt[key]
            assert r.stride() == t_r.stride()
            assert r.storage_offset() == t_r.storage_offset()
    else:  # a copy
        assert r.is_contiguous()
        if r.numel() > 0:
            assert r.data_ptr() != e.data_ptr()


@props(250)
@given(data=st.data(), shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
       cls=st.sampled_from(TYPES))
def test_setitem_matches_torch_and_numpy(data, shape, cls):
    e, ref, tt = data.draw(laid_out(cls, shape, kinds=("contiguous", "permuted", "stepped")), label="tensor")
    key, kind = data.draw(index_keys(shape, unique=True), label="key")
    sel = expected_getitem(ref, tt, key, kind)
    if sel is None:
        return
    if sel.size == 0 and kind == "basic":
        with pytest.raises(ValueError, match="result of slicing is an empty tensor"):
            e[key] = 1
        return
    if sel.size == 0:
        assume(mask_count(key) == 0)
    how = data.draw(st.sampled_from(("number", "broadcast", "same numel")), label="value")
    if how == "number":
        number = data.draw(st.integers(0, 9)) + (0.5 if cls._is_floating else 0)
        value, v_ref = number, number
    else:
        if how == "broadcast":  # leading dims dropped, others possibly 1
            vshape = tuple(sel.shape[data.draw(st.integers(0, sel.ndim)):])
            vshape = tuple(1 if n == 0 or data.draw(st.booleans()) else n for n in vshape) or (1,)
        else:  # 0.2 copies a tensor of as many elements elementwise, whatever its shape
            assume(sel.size)
            vshape = (sel.size,)
        v = values(np.random.default_rng(data.draw(seeds)), cls, vshape)
        value = ember.from_numpy(v.copy())
        # NumPy 2 refuses to store a one-element array into a single element; torch and 0.2 broadcast it
        v_ref = v.reshape(sel.shape) if how == "same numel" or sel.ndim == 0 else v
    e[key] = value
    if numpy_agrees(key, kind):
        ref[key_for(key, "numpy")] = v_ref
        np.testing.assert_array_equal(e.numpy(), ref)
    if tt is not None:
        tt[key_for(key, "torch")] = torch.from_numpy(v_ref.copy()) if isinstance(v_ref, np.ndarray) else v_ref
        np.testing.assert_array_equal(e.numpy(), tnp(tt))


# ---------------------------------------------------------------------- reductions

@props(150)
@given(data=st.data(), shape=shapes, cls=st.sampled_from(TYPES),
       op=st.sampled_from(("sum", "mean", "max", "min")), keepdim=st.sampled_from((None, True, False)),
       use_out=st.sampled_from((None, "fresh", "strided")))
def test_reductions_over_a_dim_match_numpy(data, shape, cls, op, keepdim, use_out):
    e, ref, _ = data.draw(laid_out(cls, shape), label="tensor")
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1), label="dim")
    kw = {} if keepdim is None else {"keepdim": keepdim}
    if op == "mean" and not cls._is_floating:
        with pytest.raises(TypeError, match="mean"):
            e.mean(dim, **kw)
        return
    keep = bool(keepdim)
    out_shape = tuple(1 if i == dim % nd else n for i, n in enumerate(shape)) if keep else \
        tuple(n for i, n in enumerate(shape) if i != dim % nd) or (1,)
    bases = None
    if use_out == "fresh":
        kw["out"] = (cls(), ember.LongTensor()) if op in ("max", "min") else cls()
    elif use_out == "strided":
        bases, outs = zip(strided_out(cls, out_shape), strided_out(ember.LongTensor, out_shape))
        kw["out"] = outs if op in ("max", "min") else outs[0]
    r = getattr(ember, op)(e, dim, **kw) if data.draw(st.booleans()) else getattr(e, op)(dim, **kw)
    if op in ("sum", "mean"):
        acc = ref.astype(np.float64) if cls._is_floating else ref
        expected = getattr(acc, op)(axis=dim, keepdims=keep, **({} if cls._is_floating else {"dtype": cls._dtype}))
        assert type(r) is cls
        if use_out:
            assert r is kw["out"]
        want = expected.reshape(expected.shape or (1,))
        assert r.size() == want.shape
        np.testing.assert_allclose(r.numpy(), want.astype(cls._dtype), rtol=1e-6)
        if bases:
            assert_strided_out(bases[0], r.numpy())
        return
    vals, idx = r
    if use_out:
        assert vals is kw["out"][0] and idx is kw["out"][1]
    expected = (ref.max if op == "max" else ref.min)(axis=dim, keepdims=keep)
    assert_values(vals, expected, cls)
    if bases:
        assert_strided_out(bases[0], expected)
        assert_strided_out(bases[1], idx.numpy())
    assert type(idx) is ember.LongTensor and idx.size() == vals.size()
    picked = np.take_along_axis(ref, idx.numpy().reshape(ref.max(axis=dim, keepdims=True).shape), axis=dim)
    np.testing.assert_array_equal(picked.reshape(vals.size()), vals.numpy())


@props(20)
@given(data=st.data(), shape=st.sampled_from(((64, 700), (3, 130, 90), (2, 4, 65, 70))),
       cls=st.sampled_from((ember.FloatTensor, ember.DoubleTensor)), op=st.sampled_from(("sum", "mean", "max", "min")))
def test_large_reductions_match_numpy(data, shape, cls, op):
    """Tensors large enough for the threaded kernels, in every layout (they reduce in memory order)."""
    e, ref, _ = data.draw(laid_out(cls, shape), label="tensor")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    r = getattr(e, op)(dim)
    if op in ("sum", "mean"):
        expected = getattr(ref.astype(np.float64), op)(axis=dim)
        np.testing.assert_allclose(r.numpy(), expected, rtol=1e-5, atol=1e-4)
        assert type(r) is cls and r.size() == expected.shape
        return
    vals, idx = r
    assert_values(vals, (ref.max if op == "max" else ref.min)(axis=dim), cls)
    picked = np.take_along_axis(ref, np.expand_dims(idx.numpy(), dim), axis=dim)
    np.testing.assert_array_equal(picked.squeeze(dim), vals.numpy())


@props(80)
@given(data=st.data(), shape=shapes, cls=st.sampled_from(TYPES), op=st.sampled_from(("sum", "mean", "max", "min")))
def test_reductions_over_all_elements_give_python_numbers(data, shape, cls, op):
    assume(op != "mean" or cls._is_floating)
    e, ref, _ = data.draw(laid_out(cls, shape), label="tensor")
    r = getattr(ember, op)(e) if data.draw(st.booleans()) else getattr(e, op)()
    assert type(r) is (float if cls._is_floating else int)
    expected = getattr(ref.astype(np.float64) if cls._is_floating else ref.astype(np.int64), op)()
    assert r == pytest.approx(float(expected), rel=1e-6)


# ---------------------------------------------------------------------- type conversions

CONVERSIONS = {ember.DoubleTensor: "double", ember.FloatTensor: "float", ember.HalfTensor: "half",
               ember.LongTensor: "long", ember.IntTensor: "int", ember.ShortTensor: "short",
               ember.CharTensor: "char", ember.ByteTensor: "byte"}


def convert(e, dst, how):
    if how == "method":
        return getattr(e, CONVERSIONS[dst])()
    if how == "class":
        return e.type(dst)
    if how == "torch name":
        return e.type(dst._typename)
    if how == "ember name":
        return e.type(dst._typename.replace("torch.", "ember."))
    return e.type_as(dst())


@props(150)
@given(data=st.data(), shape=shapes, src=st.sampled_from(list(CONVERSIONS)), dst=st.sampled_from(list(CONVERSIONS)),
       how=st.sampled_from(("method", "class", "torch name", "ember name", "type_as")))
def test_type_conversions_round_trip(data, shape, src, dst, how):
    def exact(rng, cls, shape):  # values every type holds exactly: integers in [0, 100], quarters when both float
        v = rng.integers(0, 101, shape).astype(np.float64)
        if src._is_floating and dst._is_floating:
            v += rng.integers(0, 4, shape) / 4.0
        return v.astype(cls._dtype)
    e, base, _ = data.draw(laid_out(src, shape, make=exact), label="tensor")
    base = base.copy()
    v = base.astype(np.float64)
    c = convert(e, dst, how)
    if src is dst:
        assert c is e
        return
    assert_values(c, v, dst)
    assert c.is_contiguous()
    back = convert(c, src, how)
    assert_values(back, base, src)
    np.testing.assert_array_equal(e.numpy(), base)  # the source is untouched


@props(60)
@given(data=st.data(), shape=shapes, src=st.sampled_from((ember.DoubleTensor, ember.FloatTensor)),
       dst=st.sampled_from(INTS))
def test_float_to_integer_conversion_truncates_toward_zero(data, shape, src, dst):
    rng = np.random.default_rng(data.draw(seeds))
    low = 0 if dst is ember.ByteTensor else -100
    v = (rng.integers(low, 101, shape) + rng.integers(0, 4, shape) / 4.0 * np.sign(rng.integers(-1, 2, shape)))
    v = np.clip(v, low, 100).astype(src._dtype)
    c = ember.from_numpy(v.copy()).type(dst)
    assert_values(c, np.trunc(v.astype(np.float64)), dst)
    if torch is not None:
        np.testing.assert_array_equal(c.numpy(), tnp(torch.from_numpy(v.copy()).to(getattr(torch, dst._dtype.name))))


# ---------------------------------------------------------------------- regressions found by the properties above
# Expected layouts follow 0.2's TH formulas (THTensor_unsqueeze1d, THLongStorage_inferExpandGeometry, view's
# contiguous strides, THTensor_squeeze), which PyTorch 2.13 shares except where noted.

def test_unsqueeze_keeps_strides_and_takes_0_2s_stride_for_the_new_dim():
    t = ember.from_numpy(np.arange(24.0).reshape(2, 3, 4)).transpose(0, 2)  # size (4, 3, 2), stride (1, 4, 12)
    assert t.unsqueeze(3).stride() == (1, 4, 12, 1)
    assert t.unsqueeze(-1).stride() == (1, 4, 12, 1)
    assert t.unsqueeze(0).stride() == (4, 1, 4, 12)
    col = ember.from_numpy(np.arange(2.0).reshape(1, 2)).t()  # size (2, 1), stride (1, 2)
    assert col.unsqueeze(0).stride() == (2, 1, 2)
    assert col.unsqueeze_(2).stride() == (1, 2, 1)


def test_expand_gives_new_size_1_dims_0_2s_stride_and_refuses_empty_tensors():
    t = ember.from_numpy(np.arange(3.0))
    assert t.expand(1, 1, 3).stride() == (3, 3, 1)
    assert t.expand(1, 2, 1, 3).stride() == (0, 0, 3, 1)
    with pytest.raises(RuntimeError, match="can't expand an empty tensor"):
        ember.FloatTensor().expand(2, 3)


def test_view_lays_out_size_1_dims_contiguously():
    t = ember.from_numpy(np.arange(4.0))[1:2:2].unfold(0, 1, 2)  # size (1, 1), stride (4, 2)
    assert t.view(1, -1).stride() == (1, 1)
    assert ember.from_numpy(np.arange(6.0)).view(2, 1, 3).stride() == (3, 3, 1)


def test_squeeze_of_only_size_1_dims_gives_size_1_stride_1():
    t = ember.from_numpy(np.arange(8.0))[3::5]  # size (1,), stride (5,)
    assert t.squeeze().size() == (1,) and t.squeeze().stride() == (1,)
    assert t.unsqueeze(0).squeeze().stride() == (1,)
    assert t.squeeze().storage_offset() == 3
    assert t.squeeze(0).stride() == (5,)  # squeeze(dim) of a 1-D tensor changes nothing in 0.2


@pytest.mark.parametrize("numel", [8, 1 << 16])  # NumPy's path and the threaded kernels
def test_out_of_the_right_size_keeps_its_layout(numel):
    base = ember.zeros(2, numel)
    out = base.narrow(1, 0, numel // 2)  # non-contiguous, of the result's size
    src = ember.from_numpy(np.arange(numel, dtype=np.float32).reshape(2, numel // 2))
    assert ember.add(src, 1, out=out) is out
    expected = np.zeros((2, numel), np.float32)
    expected[:, :numel // 2] = np.arange(numel).reshape(2, numel // 2) + 1
    np.testing.assert_array_equal(base.numpy(), expected)
    assert out.stride() == (numel, 1)
    ember.sum(src.unsqueeze(2), 2, out=out)
    expected[:, :numel // 2] -= 1
    np.testing.assert_array_equal(base.numpy(), expected)
