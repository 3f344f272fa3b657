"""The backward engine: accumulation, ordering, retain_graph, create_graph, autograd.backward/grad,
in-place correctness checks, hooks on nodes, stochastic functions, and freeing of graphs."""
import gc
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import ember
from ember import autograd
from ember.autograd import Variable

from _helpers.oracle import require_torch, to_numpy

FREED = ("Trying to backward through the graph a second time, but the buffers have already been freed. "
         "Specify retain_graph=True when calling backward the first time.")


def rand(*shape, seed=0):
    return ember.from_numpy(np.random.RandomState(seed).randn(*shape))


def leaf(*shape, seed=0):
    return Variable(rand(*shape, seed=seed), requires_grad=True)


def g(v):
    return to_numpy(v.grad.data)


# ---------------------------------------------------------------------- accumulation and order

def test_gradients_accumulate_across_backward_calls():
    x = leaf(3)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(g(x), [5, 5, 5])
    x.grad.data.zero_()
    (x * x).sum().backward()
    np.testing.assert_allclose(g(x), 2 * to_numpy(x.data))


def test_diamond_graph_sums_both_paths_before_running_the_shared_node():
    x = leaf(4)
    h = x.exp()          # shared node, reached through two paths
    y = (h * 2 + h.sin()).sum()
    y.backward()
    xe = np.exp(to_numpy(x.data))
    np.testing.assert_allclose(g(x), (2 + np.cos(xe)) * xe, rtol=1e-12)


def test_the_same_variable_used_twice_in_one_op():
    x = leaf(3)
    (x * x * x).sum().backward()
    np.testing.assert_allclose(g(x), 3 * to_numpy(x.data) ** 2, rtol=1e-12)


def test_leaf_gradients_never_alias_each_other():
    a, b = leaf(3), leaf(3, seed=1)
    (a + b).sum().backward()  # both receive the same gradient object
    a.grad.data.add_(1)
    np.testing.assert_allclose(g(b), [1, 1, 1])
    given = ember.DoubleTensor([1, 2, 3])
    c = leaf(3)
    c.backward(given)  # backward on a leaf: the user's tensor is not adopted as .grad
    c.grad.data.zero_()
    np.testing.assert_allclose(to_numpy(given), [1, 2, 3])


def test_fresh_gradients_are_adopted_without_a_copy(monkeypatch):
    copies = []
    clone = ember.DoubleTensor.clone
    monkeypatch.setattr(ember.DoubleTensor, "clone", lambda self: copies.append(1) or clone(self))
    x, w = leaf(3, 4), leaf(4, 5, seed=1)
    x.mm(w).tanh().sum().backward()  # both leaf gradients are fresh products nobody else holds
    assert copies == []
    (x.sum() + w.sum()).backward()   # expanded views: accumulated in place into the existing .grad
    assert copies == []
    x.grad = w.grad = None
    (x.sum() + w.sum()).backward()   # expanded views must be copied to become .grad
    assert len(copies) == 2


def test_backward_grads_are_volatile_variables_of_the_data_type():
    x = Variable(rand(2).float(), requires_grad=True)
    (x * 2).sum().backward()
    assert isinstance(x.grad, Variable) and type(x.grad.data) is ember.FloatTensor
    assert x.grad.volatile and not x.grad.requires_grad


def test_non_scalar_output_needs_a_gradient():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(ember.DoubleTensor([1, 2, 3]))
    np.testing.assert_allclose(g(x), [2, 4, 6])
    x.grad = None
    (x * 2).backward(Variable(ember.DoubleTensor([1, 1, 1])))
    np.testing.assert_allclose(g(x), [2, 2, 2])


def test_gradient_argument_is_checked():
    x = leaf(3)
    with pytest.raises(TypeError, match="gradient 0 has type torch.FloatTensor"):
        (x * 2).backward(ember.FloatTensor([1, 1, 1]))
    with pytest.raises(RuntimeError, match="gradient 0 has size"):
        (x * 2).backward(ember.DoubleTensor([1, 1]))
    with pytest.raises(TypeError, match="gradients can be either Tensors, Variables or None"):
        (x * 2).backward([1, 1, 1])


def test_backward_of_several_outputs_sums_their_contributions():
    x = leaf(3)
    y1, y2 = x * 2, x.exp()
    autograd.backward([y1, y2], [ember.DoubleTensor([1, 1, 1]), ember.DoubleTensor([1, 2, 3])])
    np.testing.assert_allclose(g(x), 2 + np.exp(to_numpy(x.data)) * [1, 2, 3], rtol=1e-12)
    x.grad = None
    autograd.backward([(x * x).sum(), x.sum()])  # scalar outputs need no gradients
    np.testing.assert_allclose(g(x), 2 * to_numpy(x.data) + 1, rtol=1e-12)


def test_backward_errors_for_outputs_without_history():
    with pytest.raises(RuntimeError, match="element 0 of variables tuple does not require grad"):
        Variable(rand(1)).backward()
    with pytest.raises(RuntimeError, match="element 0 of variables tuple is volatile"):
        Variable(rand(1), volatile=True).backward()
    x = leaf(1)
    with pytest.raises(RuntimeError, match="element 1 of variables tuple does not require grad"):
        autograd.backward([x * 2, Variable(rand(1))], [None, None])


# ---------------------------------------------------------------------- retain_graph

def test_second_backward_without_retain_graph_raises_the_0_2_message():
    x = leaf(3)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="^" + FREED.replace(".", r"\.") + "$"):
        y.backward()


def test_retain_graph_allows_a_second_pass():
    x = leaf(3)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = g(x).copy()
    y.backward()
    np.testing.assert_allclose(g(x), 2 * first)
    with pytest.raises(RuntimeError, match="buffers have already been freed"):
        y.backward()


def test_retain_variables_is_the_deprecated_alias():
    x = leaf(3)
    y = (x * x).sum()
    with pytest.warns(UserWarning, match="retain_variables option is deprecated and will be removed in 0.3. "
                                         "Use retain_graph instead."):
        y.backward(retain_variables=True)
    y.backward()  # still there
    with pytest.raises(ValueError, match="only one of retain_graph and retain_variables can be specified"):
        (x * x).sum().backward(retain_graph=True, retain_variables=True)


def test_graph_without_saved_tensors_can_run_twice():
    x = leaf(2)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(g(x), [2, 2])


# ---------------------------------------------------------------------- create_graph and autograd.grad

def test_create_graph_gives_differentiable_gradients():
    x = leaf(3)
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    gx = x.grad
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(g(x), 6 * to_numpy(x.data), rtol=1e-12)


def test_create_graph_defaults_to_whether_the_given_gradient_requires_grad():
    x = leaf(3)
    w = Variable(ember.DoubleTensor([1, 2, 3]), requires_grad=True)
    (x * x).backward(w)  # create_graph=None: True because w requires grad
    assert x.grad.grad_fn is not None
    x.grad = None
    (x * x).backward(Variable(ember.DoubleTensor([1, 2, 3])))
    assert x.grad.grad_fn is None and x.grad.volatile


def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = leaf(3), leaf(3, seed=1)
    z = (x * y).sum()
    gx, gy = autograd.grad(z, (x, y), retain_graph=True)
    np.testing.assert_allclose(to_numpy(gx.data), to_numpy(y.data))
    np.testing.assert_allclose(to_numpy(gy.data), to_numpy(x.data))
    assert x.grad is None and y.grad is None
    gx, = autograd.grad([z], [x], only_inputs=False)
    assert y.grad is not None and x.grad is None  # the other leaves accumulate
    np.testing.assert_allclose(g(y), to_numpy(x.data))


def test_grad_of_non_leaf_inputs_and_grad_outputs():
    x = leaf(3)
    h = x * 2
    out = h.exp()
    gh, = autograd.grad(out, h, ember.DoubleTensor([1, 2, 3]))
    np.testing.assert_allclose(to_numpy(gh.data), np.exp(to_numpy(h.data)) * [1, 2, 3])
    assert x.grad is None


def test_grad_errors():
    x, unused = leaf(3), leaf(3)
    with pytest.raises(RuntimeError, match="One of the differentiated Variables appears to not have been used in "
                                           "the graph"):
        autograd.grad((x * 2).sum(), (x, unused))
    with pytest.raises(RuntimeError, match="One of the differentiated Variables does not require grad"):
        autograd.grad((x * 2).sum(), Variable(rand(3)))


def test_double_backward_through_grad():
    x = leaf(4)
    y = (x.tanh() * x).sum()
    gx, = autograd.grad(y, x, create_graph=True)
    assert gx.requires_grad
    gg, = autograd.grad(gx.sum(), x)
    t = np.tanh(to_numpy(x.data))
    s2 = 1 - t ** 2
    expected = 2 * s2 - 2 * to_numpy(x.data) * t * s2  # d/dx (tanh x + x sech^2 x)
    np.testing.assert_allclose(to_numpy(gg.data), expected, rtol=1e-10)


def test_double_backward_matches_torch():
    torch = require_torch()
    x = leaf(5)
    y = (x.sigmoid() * x.exp()).sum()
    gx, = autograd.grad(y, x, create_graph=True)
    hv, = autograd.grad((gx * gx).sum(), x)
    tx = torch.from_numpy(to_numpy(x.data)).requires_grad_()
    ty = (tx.sigmoid() * tx.exp()).sum()
    tgx, = torch.autograd.grad(ty, tx, create_graph=True)
    thv, = torch.autograd.grad((tgx * tgx).sum(), tx)
    np.testing.assert_allclose(to_numpy(hv.data), thv.numpy(), rtol=1e-10)


# ---------------------------------------------------------------------- in-place correctness

def test_modified_saved_tensor_is_detected_at_backward():
    x = leaf(3)
    h = x * 1
    y = h * h          # saves h
    h.add_(1)          # bumps h's version
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been "
                                           "modified by an inplace operation"):
        y.sum().backward()


def test_modified_saved_output_is_detected():
    x = leaf(3)
    e = x.exp()        # saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_in_place_on_a_leaf_that_requires_grad_raises():
    x = leaf(3)
    for op in (lambda v: v.add_(1), lambda v: v.exp_(), lambda v: v.zero_(), lambda v: v.__setitem__(0, 1),
               lambda v: v.copy_(Variable(rand(3))), lambda v: v.clamp_(0, 1)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place "
                                               "operation."):
            op(x)


def test_in_place_on_a_view_of_a_live_variable_raises():
    x = Variable(rand(4, 3))
    row = x[0]
    with pytest.raises(RuntimeError, match="in-place operations can be only used on variables that don't share "
                                           "storage with any other variables, but detected that there are 2 "
                                           "objects sharing it"):
        row.add_(1)
    del x
    gc.collect()
    row.add_(1)  # the base is gone: allowed


def test_in_place_ops_build_correct_gradients():
    x = leaf(4)
    y = x * 2
    y.add_(1).mul_(3).exp_()
    y.sum().backward()
    xd = to_numpy(x.data)
    np.testing.assert_allclose(g(x), 6 * np.exp(3 * (2 * xd + 1)), rtol=1e-12)
    assert y._version == 3


def test_in_place_with_a_requiring_grad_operand_turns_a_leaf_into_a_node():
    buf = Variable(ember.DoubleTensor(3).zero_())
    w = leaf(3)
    buf.add_(w)
    assert not buf.is_leaf and buf.requires_grad
    (buf * 2).sum().backward()
    np.testing.assert_allclose(g(w), [2, 2, 2])


def test_setitem_gradients():
    x = leaf(2, 3)
    v = leaf(2, seed=1)
    y = x * 1
    y[0, 1:] = v
    y[1] = 5
    (y * Variable(ember.DoubleTensor([[1, 2, 3], [4, 5, 6]]))).sum().backward()
    np.testing.assert_allclose(g(x), [[1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(g(v), [2, 3])


# ---------------------------------------------------------------------- hooks on graph nodes

def test_function_hooks_see_and_replace_grad_inputs():
    x, w = leaf(3), leaf(3, seed=1)
    y = x * w
    calls = []

    def hook(grad_inputs, grad_outputs):
        calls.append((len(grad_inputs), len(grad_outputs)))
        return (grad_inputs[0] * 0, grad_inputs[1])
    h = y.grad_fn.register_hook(hook)
    y.sum().backward()
    assert calls == [(2, 1)]
    np.testing.assert_allclose(g(x), [0, 0, 0])
    np.testing.assert_allclose(g(w), to_numpy(x.data))
    h.remove()


def test_next_functions_describe_the_graph():
    x, w = leaf(3), Variable(rand(3))
    y = x * w
    fn = y.grad_fn
    (acc, nr), (none, _) = fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and nr == 0 and acc.variable() is x
    assert none is None
    assert fn.previous_functions == fn.next_functions
    assert fn.needs_input_grad == (True, False) and fn.requires_grad
    assert fn.num_inputs == 2 and fn.num_outputs == 1


# ---------------------------------------------------------------------- stochastic functions

def test_reinforce_multinomial():
    probs = Variable(ember.DoubleTensor([0.2, 0.3, 0.5]), requires_grad=True)
    sample = probs.multinomial(1)
    assert not sample.requires_grad and sample.grad_fn is not None
    k = int(sample.data[0])
    sample.reinforce(2.0)
    autograd.backward([sample], [None])
    expected = np.zeros(3)
    expected[k] = -2.0 / (to_numpy(probs.data)[k] + 1e-6)
    np.testing.assert_allclose(g(probs), expected, rtol=1e-9)


def test_reinforce_bernoulli_and_normal():
    p = Variable(ember.DoubleTensor([0.3, 0.6]), requires_grad=True)
    s = p.bernoulli()
    s.reinforce(ember.DoubleTensor([1.0, -1.0]))
    autograd.backward([s], [None])
    pd, sd = to_numpy(p.data), to_numpy(s.data)
    np.testing.assert_allclose(g(p), (pd - sd) / (pd * (1 - pd) + 1e-6) * [1, -1], rtol=1e-9)
    means = Variable(ember.DoubleTensor([0.0, 1.0]), requires_grad=True)
    out = ember.normal(means, 2.0)
    out.reinforce(ember.DoubleTensor([1.0, 1.0]))
    autograd.backward([out], [None])
    np.testing.assert_allclose(g(means), (to_numpy(means.data) - to_numpy(out.data)) / (1e-6 + 4.0), rtol=1e-9)


def test_stochastic_without_reward_raises():
    p = Variable(ember.DoubleTensor([0.3, 0.6]), requires_grad=True)
    s = p.bernoulli()
    with pytest.raises(RuntimeError, match="differentiating stochastic functions requires providing a reward"):
        autograd.backward([s], [None])
    with pytest.raises(RuntimeError, match="reinforce\\(\\) can be only called on outputs of stochastic functions"):
        (p * 2).reinforce(1.0)


# ---------------------------------------------------------------------- memory

def test_graph_is_freed_by_reference_counting():
    gc.disable()
    try:
        x = leaf(10)
        y = (x.exp() * x).tanh().sum()
        refs = [weakref.ref(y.grad_fn)]
        fn = y.grad_fn
        while fn.next_functions and fn.next_functions[0][0] is not None:
            fn = fn.next_functions[0][0]
            refs.append(weakref.ref(fn))
        del fn
        assert all(r() is not None for r in refs)
        del y
        assert all(r() is None for r in refs[:-1])  # every node but x's accumulator (alive with x)
        h = x * 2
        h.register_hook(lambda grad: grad)
        h.retain_grad()
        node = weakref.ref(h.grad_fn)
        del h
        assert node() is None
    finally:
        gc.enable()


def test_memory_stays_flat_over_many_iterations():
    x = leaf(8)
    w = leaf(8, seed=1)

    def step():
        (x * w + x).sum().backward()
    for _ in range(200):
        step()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for _ in range(10000):
        step()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert growth < 64 * 1024, "memory grew by {} bytes over 10000 iterations".format(growth)


def test_no_warnings_on_plain_use():
    x = leaf(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x * 2 + 1).sum().backward()
