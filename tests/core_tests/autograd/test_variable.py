"""Variable: construction, flags and their 0.2 propagation rules, grad, hooks, detach, retain_grad,
printing, pickling, and the Tensor API on Variables (operators, indexing, comparisons, conversions)."""
import copy
import pickle
import weakref

import numpy as np
import pytest

import ember
from ember.autograd import Variable

from _helpers.oracle import assert_same, require_torch, to_numpy


def rand(*shape, dtype=np.float64, seed=0):
    return ember.from_numpy(np.random.RandomState(seed).randn(*shape).astype(dtype))


# ---------------------------------------------------------------------- construction and flags

def test_construction_defaults_and_positional_flags():
    t = rand(2, 3)
    v = Variable(t)
    assert v.data is t
    assert v.grad is None and v.grad_fn is None and v.creator is None
    assert v.requires_grad is False and v.volatile is False and v.is_leaf
    assert Variable(t, True).requires_grad is True
    assert Variable(t, False, True).volatile is True
    empty = Variable()
    assert empty.data.numel() == 0 and type(empty.data) is ember.FloatTensor
    assert ember.autograd.Variable is Variable


def test_construction_errors_use_0_2_texts():
    with pytest.raises(RuntimeError, match="Variable data has to be a tensor, but got list"):
        Variable([1, 2])
    with pytest.raises(RuntimeError, match="Variable data has to be a tensor, but got int"):
        Variable(3)
    with pytest.raises(RuntimeError, match="Variable can't be volatile and require_grad at the same time!"):
        Variable(rand(2), requires_grad=True, volatile=True)


def test_reference_docs_requires_grad_example():
    x = Variable(ember.randn(5, 5))
    y = Variable(ember.randn(5, 5))
    z = Variable(ember.randn(5, 5), requires_grad=True)
    a = x + y
    assert a.requires_grad is False
    b = a + z
    assert b.requires_grad is True
    assert b.grad_fn is not None and b.creator is b.grad_fn
    assert a.grad_fn is None


def test_volatile_propagates_and_drops_history():
    w = Variable(ember.randn(5, 5), requires_grad=True)
    regular = Variable(ember.randn(5, 5))
    vol = Variable(ember.randn(5, 5), volatile=True)
    out = regular.mm(w).tanh()
    assert out.requires_grad and not out.volatile and out.grad_fn is not None
    vout = vol.mm(w).tanh()
    assert vout.requires_grad is False
    assert vout.volatile is True
    assert vout.creator is None and vout.grad_fn is None
    # one volatile input is enough, whatever the other flags
    assert (vol + w).volatile and (w * vol).volatile and (w * vol).grad_fn is None


def test_flags_change_only_on_leaves():
    w = Variable(rand(3), requires_grad=True)
    y = w * 2
    with pytest.raises(RuntimeError, match=r"you can only change requires_grad flags of leaf variables\.$"):
        y.requires_grad = True
    with pytest.raises(RuntimeError, match="If you want to use a computed variable in a subgraph that doesn't "
                                           "require differentiation use var_no_grad = var.detach()"):
        y.requires_grad = False
    with pytest.raises(RuntimeError, match="volatile can only be set on leaf variables"):
        y.volatile = True
    leaf = Variable(rand(3))
    leaf.requires_grad = True
    assert leaf.requires_grad and (leaf * 2).requires_grad
    leaf.requires_grad = False
    assert not (leaf * 2).requires_grad
    leaf.volatile = True
    assert (leaf * 2).volatile


def test_data_is_settable_and_tensor_facts_fall_through():
    v = Variable(rand(2, 3))
    assert v.size() == ember.Size([2, 3]) and v.size(1) == 3 and v.dim() == 2 and v.ndimension() == 2
    assert v.numel() == 6 and v.nelement() == 6 and len(v) == 2
    assert v.stride() == (3, 1) and v.is_contiguous() and v.element_size() == 8
    assert v.is_cuda is False and v.is_signed() and v.get_device() == -1
    assert v.shape == ember.Size([2, 3])
    new = rand(4)
    v.data = new
    assert v.data is new and v.size() == ember.Size([4])


def test_grad_assignment_checks():
    v = Variable(rand(2, 3), requires_grad=True)
    v.grad = Variable(rand(2, 3))
    v.grad = None
    assert v.grad is None
    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got torch.DoubleTensor\)"):
        v.grad = rand(2, 3)
    with pytest.raises(RuntimeError, match="can't assign Variable as its own grad"):
        v.grad = v
    with pytest.raises(RuntimeError, match="assigned grad has data of a different type"):
        v.grad = Variable(rand(2, 3).float())
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        v.grad = Variable(rand(3, 2))


def test_bool_and_repr():
    v = Variable(ember.FloatTensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="bool value of Variable objects containing non-empty torch.FloatTensor "
                                           "is ambiguous"):
        bool(v)
    assert not Variable()
    assert repr(v) == "Variable containing:" + repr(v.data)
    assert str(v).startswith("Variable containing:\n")
    assert "[torch.FloatTensor of size 3]" in repr(v)


# ---------------------------------------------------------------------- detach, retain_grad, hooks

def test_detach_shares_data_and_cuts_the_graph():
    x = Variable(rand(3), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.data is y.data and d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert (d * x).grad_fn.next_functions[0][0] is None
    vol = Variable(rand(3), volatile=True).detach()
    assert vol.volatile
    z = x * 3
    z.detach_()
    assert z.is_leaf and z.grad_fn is None and not z.requires_grad


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = Variable(rand(3), requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.retain_grad()  # a second call registers nothing more
    (y * y).sum().backward()
    np.testing.assert_allclose(to_numpy(y.grad.data), 2 * to_numpy(y.data))
    leaf = Variable(rand(2))
    leaf.retain_grad()  # no-op on leaves
    assert leaf.grad is None
    probs = Variable(ember.DoubleTensor([0.2, 0.8]), requires_grad=True)
    sample = probs.multinomial(1)  # a stochastic output: has a grad_fn but does not require grad
    assert sample.grad_fn is not None and not sample.requires_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on Variable that has requires_grad=False"):
        sample.retain_grad()


def test_register_hook_errors():
    with pytest.raises(RuntimeError, match="cannot register a hook on a volatile variable"):
        Variable(rand(2), volatile=True).register_hook(lambda g: None)
    with pytest.raises(RuntimeError, match="cannot register a hook on a variable that doesn't require gradient"):
        Variable(rand(2)).register_hook(lambda g: None)


def test_hooks_on_non_leaf_see_and_replace_the_gradient_in_order():
    x = Variable(ember.DoubleTensor([1, 2, 3]), requires_grad=True)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(("first", to_numpy(g.data).tolist())))
    h = y.register_hook(lambda g: g * 10)
    y.register_hook(lambda g: seen.append(("third", to_numpy(g.data).tolist())))
    y.backward(ember.DoubleTensor([1, 1, 1]))
    assert seen == [("first", [1, 1, 1]), ("third", [10, 10, 10])]
    np.testing.assert_allclose(to_numpy(x.grad.data), [20, 20, 20])
    h.remove()
    x.grad = None
    seen.clear()
    y2 = x * 2
    y2.register_hook(lambda g: g * 10)
    h2 = y2.register_hook(lambda g: g * 0)
    with h2:
        pass  # leaving the with block removes the hook
    y2.backward(ember.DoubleTensor([1, 1, 1]))
    np.testing.assert_allclose(to_numpy(x.grad.data), [20, 20, 20])


def test_hook_must_return_a_variable_or_none():
    x = Variable(rand(2), requires_grad=True)
    x.register_hook(lambda g: g.data)
    with pytest.raises(TypeError, match="must return a Variable or None"):
        (x * 2).sum().backward()


# ---------------------------------------------------------------------- pickling and copying

def test_pickle_and_deepcopy_of_leaves():
    v = Variable(rand(2, 3), requires_grad=True)
    w = pickle.loads(pickle.dumps(v))
    assert type(w) is Variable and w.requires_grad and not w.volatile
    np.testing.assert_array_equal(to_numpy(w.data), to_numpy(v.data))
    vol = pickle.loads(pickle.dumps(Variable(rand(2), volatile=True), protocol=0))
    assert vol.volatile
    c = copy.deepcopy(v)
    assert c.requires_grad and c.data is not v.data
    np.testing.assert_array_equal(to_numpy(c.data), to_numpy(v.data))
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(v * 2)
    with pytest.raises(RuntimeError, match="graph leaves"):
        pickle.dumps(v * 2)


def test_subclass_survives_pickling():
    class Param(Variable):
        __slots__ = ()

        def __new__(cls, data=None, requires_grad=True):
            return super(Param, cls).__new__(cls, data, requires_grad=requires_grad)

    globals()["Param"] = Param  # picklable by name
    Param.__qualname__ = "Param"
    p = Param(rand(3))
    assert p.requires_grad
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is Param and q.requires_grad


# ---------------------------------------------------------------------- the Tensor API on Variables

def test_operators_match_tensor_results():
    a, b = Variable(rand(3, 4)), Variable(rand(3, 4, seed=1).abs() + 1)
    A, B = a.data, b.data
    pairs = [(a + b, A + B), (a - b, A - B), (a * b, A * B), (a / b, A / B), (b ** 2, B ** 2), (b ** b, B ** B),
             (2 + a, A + 2), (2 - a, 2 - A), (2 * a, A * 2), (2 / b, 2 / B), (2 ** a, ember.pow(2, A)), (-a, -A),
             (a % 0.5, A % 0.5), (a.add(2, b), A.add(2, B)), (a.sub(2, b), A.sub(2, B))]
    for got, want in pairs:
        assert isinstance(got, Variable)
        assert_same(got.data, to_numpy(want))


def test_matmul_operator_and_torch_functions_accept_variables():
    a, b = Variable(rand(3, 4)), Variable(rand(4, 2, seed=1))
    assert_same((a @ b).data, to_numpy(a.data.mm(b.data)))
    assert_same(ember.mm(a, b).data, to_numpy(a.data.mm(b.data)))
    assert_same(ember.exp(a).data, to_numpy(a.data.exp()))
    assert_same(ember.add(a, 1).data, to_numpy(a.data + 1))
    assert isinstance(ember.cat([a, a], 0), Variable)
    assert isinstance(ember.stack([a, a], 0), Variable)
    assert isinstance(ember.matmul(a, b), Variable)


def test_mixing_variables_and_tensors_raises():
    a = Variable(rand(3))
    with pytest.raises(TypeError, match="Variables and tensors can't be mixed"):
        a + rand(3)
    with pytest.raises(TypeError, match="Variables and tensors can't be mixed"):
        a.mul(rand(3))
    with pytest.raises(TypeError):
        Variable(rand(3)) + Variable(rand(3).float())  # two tensor types, as for tensors
    with pytest.raises(TypeError, match="expected a sequence of Variables"):
        ember.cat([a, rand(3)])


def test_in_place_operators_and_their_limits():
    a = Variable(rand(3))
    ref = to_numpy(a.data).copy()
    a += 1
    a -= 0.5
    a *= 2
    a /= 4
    np.testing.assert_allclose(to_numpy(a.data), (ref + 0.5) * 2 / 4)
    assert a._version == 4
    with pytest.raises(RuntimeError, match="mul_ only supports scalar multiplication"):
        a.mul_(Variable(rand(3)))
    with pytest.raises(RuntimeError, match="div_ only supports scalar multiplication"):
        a.div_(Variable(rand(3)))
    with pytest.raises(NotImplementedError, match="in-place pow not implemented"):
        a **= 2


def test_comparisons_return_byte_variables_without_grad():
    a = Variable(rand(3, 4), requires_grad=True)
    b = Variable(rand(3, 4, seed=1))
    for got, want in [(a == b, a.data.eq(b.data)), (a != b, a.data.ne(b.data)), (a < b, a.data.lt(b.data)),
                      (a <= 0, a.data.le(0)), (a > b, a.data.gt(b.data)), (a >= 0.1, a.data.ge(0.1)),
                      (a.eq(b), a.data.eq(b.data)), (ember.lt(a, b), a.data.lt(b.data))]:
        assert isinstance(got, Variable) and type(got.data) is ember.ByteTensor
        assert not got.requires_grad and got.grad_fn is None
        np.testing.assert_array_equal(to_numpy(got.data), to_numpy(want))
    assert hash(a) == id(a)
    assert a.equal(a) and not a.equal(b)
    nz = (a > 0).nonzero()
    assert isinstance(nz, Variable) and type(nz.data) is ember.LongTensor


def test_indexing_and_index_assignment():
    base = rand(4, 5)
    v = Variable(base.clone())
    assert_same(v[1].data, to_numpy(base[1]))
    assert_same(v[1:3, ::2].data, to_numpy(base[1:3, ::2]))
    assert_same(v[:, 2].data, to_numpy(base[:, 2]))
    assert_same(v[ember.LongTensor([3, 0])].data, to_numpy(base[ember.LongTensor([3, 0])]))
    mask = base.gt(0)
    assert_same(v[mask].data, to_numpy(base[mask]))
    assert_same(v[Variable(mask)].data, to_numpy(base[mask]))
    # 0.2 Variables have no scalars: one element is a Variable of size 1
    one = v[1, 2]
    assert isinstance(one, Variable) and one.size() == ember.Size([1])
    assert one.data[0] == base[1][2]
    one_d = Variable(ember.DoubleTensor([1, 2, 3]))[-1]
    assert one_d.size() == ember.Size([1]) and one_d.data[0] == 3
    v[0] = 7
    v[1, 1:3] = Variable(ember.DoubleTensor([8, 9]))
    expected = to_numpy(base).copy()
    expected[0] = 7
    expected[1, 1:3] = [8, 9]
    np.testing.assert_array_equal(to_numpy(v.data), expected)
    with pytest.raises(IndexError):
        v[10]
    with pytest.raises(TypeError, match="can't assign"):
        v[0] = rand(5)


def test_iteration_and_len():
    v = Variable(rand(3, 2))
    rows = list(v)
    assert len(rows) == 3 and all(isinstance(r, Variable) and r.size() == ember.Size([2]) for r in rows)
    assert_same(rows[2].data, to_numpy(v.data[2]))


def test_type_conversions():
    v = Variable(rand(2, 3), requires_grad=True)
    assert v.type() == "torch.DoubleTensor"
    assert v.double() is v and v.type("torch.DoubleTensor") is v
    f = v.float()
    assert type(f.data) is ember.FloatTensor and f.requires_grad and f.grad_fn is not None
    assert type(v.type(ember.FloatTensor).data) is ember.FloatTensor
    assert type(v.type_as(Variable(ember.IntTensor(2))).data) is ember.IntTensor
    assert type(v.long().data) is ember.LongTensor
    assert v.cpu() is v
    f.sum().backward()
    assert type(v.grad.data) is ember.DoubleTensor
    np.testing.assert_array_equal(to_numpy(v.grad.data), np.ones((2, 3)))


def test_contiguous_replaces_data_in_place_as_0_2():
    v = Variable(rand(3, 4)).t()
    assert not v.is_contiguous()
    assert v.contiguous() is v and v.is_contiguous()


def test_view_shares_memory_and_version_counter():
    x = Variable(rand(2, 3))
    y = x.view(6)
    assert y.data.data_ptr() == x.data.data_ptr()
    x.data[0][0] = 5
    assert y.data[0] == 5
    assert y._vc is x._vc


def test_methods_without_gradient_formula():
    v = Variable(rand(3, 4))
    h = v.histc(4)
    assert isinstance(h, Variable) and not h.requires_grad
    np.testing.assert_array_equal(to_numpy(h.data), to_numpy(v.data.histc(4)))
    assert (v > -100).all()
    # a Tensor method without a gradient formula runs on data when no gradient is needed ...
    t = v.take(ember.LongTensor([0, 5]))
    assert isinstance(t, Variable)
    np.testing.assert_array_equal(to_numpy(t.data), to_numpy(v.data.take(ember.LongTensor([0, 5]))))
    # ... and refuses when one is
    w = Variable(rand(3, 4), requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"take\(\): no gradient formula"):
        w.take(ember.LongTensor([0]))


def test_weakref_to_variable():
    v = Variable(rand(2))
    r = weakref.ref(v)
    del v
    assert r() is None


def test_sum_and_reductions_return_size_one_variables():
    v = Variable(rand(3, 4))
    s = v.sum()
    assert isinstance(s, Variable) and s.size() == ember.Size([1])
    assert abs(s.data[0] - v.data.sum()) < 1e-12
    m = v.max()
    assert m.size() == ember.Size([1]) and m.data[0] == v.data.max()
    vals, idx = v.max(1)
    assert vals.size() == ember.Size([3]) and type(idx.data) is ember.LongTensor and not idx.requires_grad


def test_parity_of_forward_values_with_torch():
    torch = require_torch()
    a = Variable(rand(3, 4))
    ta = torch.from_numpy(to_numpy(a.data))
    assert_same(a.sigmoid().data, torch.sigmoid(ta))
    assert_same(a.clamp(-0.2, 0.3).data, ta.clamp(-0.2, 0.3))
    assert_same(a.norm(3, 1).data, ta.norm(3, 1))


# every method 0.2's torch/autograd/variable.py lists (pytorch-0.2-api.md section 4)
API_0_2 = """__getitem__ __setitem__ __deepcopy__ __repr__ __bool__ backward register_hook reinforce detach detach_
retain_grad contiguous clone type type_as cuda cpu double float half long int short char byte is_same_size add
add_ sub sub_ mul mul_ div div_ pow exp exp_ log log1p neg neg_ tanh tanh_ sigmoid sigmoid_ sin cos tan asin acos
atan atan2 sinh cosh abs clamp reciprocal floor ceil frac sqrt round sign trunc fmod remainder lerp rsqrt sum prod
mean max min mode median kthvalue sort topk view view_as split repeat cumsum cumprod unfold var std renorm matmul mm
bmm mv ger resize resize_as addmm addmm_ addbmm addbmm_ baddbmm baddbmm_ addmv addmv_ addr addr_ dot addcmul addcdiv
addcmul_ addcdiv_ norm dist index_add index_add_ index_copy index_copy_ index_fill index_fill_ index_select gather
scatter scatter_ scatter_add scatter_add_ masked_copy masked_copy_ masked_scatter masked_scatter_ masked_fill
masked_fill_ masked_select expand expand_as t transpose select narrow chunk squeeze squeeze_ unsqueeze permute diag
tril triu trace cross inverse gesv multinomial bernoulli eq ne gt ge lt le __len__ __iter__ dim element_size
get_device is_contiguous is_set_to is_signed ndimension nelement numel size stride __add__ __radd__ __sub__
__rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __pow__ __rpow__ __mod__ __matmul__ __neg__ __iadd__ __isub__
__imul__ __itruediv__ __ipow__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __hash__""".split()


def test_the_0_2_variable_api_is_complete():
    missing = [name for name in API_0_2 if not callable(getattr(Variable, name, None))]
    assert not missing
    for name in ("data", "grad", "requires_grad", "volatile", "is_leaf", "grad_fn", "creator", "output_nr",
                 "_version", "_backward_hooks", "is_cuda"):
        assert hasattr(Variable(rand(2)), name)


def test_out_of_place_index_ops_leave_the_input_untouched():
    base = rand(3, 4)
    v = Variable(base.clone())
    idx = ember.LongTensor([0, 2])
    r = v.index_fill(0, idx, 5)
    np.testing.assert_array_equal(to_numpy(v.data), to_numpy(base))
    expected = to_numpy(base).copy()
    expected[[0, 2]] = 5
    np.testing.assert_array_equal(to_numpy(r.data), expected)
    m = v.masked_fill(Variable(base.gt(0)), 0)
    np.testing.assert_array_equal(to_numpy(m.data), np.where(to_numpy(base) > 0, 0, to_numpy(base)))
    np.testing.assert_array_equal(to_numpy(v.data), to_numpy(base))


def test_numpy_scalars_combine_with_variables():
    v = Variable(ember.DoubleTensor([1, 2]))
    r = np.float64(2.0) * v
    assert isinstance(r, Variable)
    np.testing.assert_array_equal(to_numpy(r.data), [2, 4])
    assert isinstance(v + np.float64(1), Variable)


def test_subclass_with_its_own_init():
    class Param(Variable):
        __slots__ = ()

        def __init__(self, data, requires_grad=True):
            super(Param, self).__init__(data, requires_grad=requires_grad)
            self.requires_grad = requires_grad

    p = Param(rand(2))
    assert p.requires_grad and isinstance(p, Variable)
    (p * 2).sum().backward()
    np.testing.assert_array_equal(to_numpy(p.grad.data), [2, 2])
