"""User-defined Functions: the old (instance) style and the new (@staticmethod + apply) style, the ctx
API (save_for_backward, saved_tensors/saved_variables, needs_input_grad, mark_dirty,
mark_non_differentiable, mark_shared_storage), once_differentiable, InplaceFunction, NestedIOFunction."""
import numpy as np
import pytest

import ember
from ember.autograd import Function, InplaceFunction, NestedIOFunction, Variable, gradcheck, once_differentiable
from ember.autograd.gradcheck import gradgradcheck

from _helpers.oracle import to_numpy


def rand(*shape, seed=0):
    return ember.from_numpy(np.random.RandomState(seed).randn(*shape))


def leaf(*shape, seed=0):
    return Variable(rand(*shape, seed=seed), requires_grad=True)


# ---------------------------------------------------------------------- old style

class Square(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, grad_output):
        x, = self.saved_tensors
        assert isinstance(x, ember.DoubleTensor) and isinstance(grad_output, ember.DoubleTensor)
        return grad_output * 2 * x


def test_old_style_forward_and_backward_receive_tensors():
    x = leaf(4)
    y = Square()(x)
    assert isinstance(y, Variable) and isinstance(y.grad_fn, Square) and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad.data), 2 * to_numpy(x.data))


def test_old_style_attributes():
    x, c = leaf(3), Variable(rand(3))
    fn = Square()
    y = fn(x)
    assert fn.needs_input_grad == (True,) and fn.requires_grad
    assert fn.num_inputs == 1 and fn.num_outputs == 1
    assert fn.next_functions == fn.previous_functions
    assert fn.next_functions[0][0] is x._grad_acc
    fn2 = Square()
    fn2(c)
    assert fn2.needs_input_grad == (False,) and not fn2.requires_grad
    assert y.creator is fn


def test_old_style_argument_errors():
    with pytest.raises(RuntimeError, match="expected a Variable argument, but got torch.DoubleTensor"):
        Square()(rand(3))


class TwoOutputs(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a + b, a * b

    def backward(self, g_sum, g_prod):
        a, b = self.saved_tensors
        return g_sum + g_prod * b, g_sum + g_prod * a


def test_multiple_outputs_and_zero_filled_missing_gradients():
    a, b = leaf(3), leaf(3, seed=1)
    s, p = TwoOutputs()(a, b)
    assert s.output_nr == 0 and p.output_nr == 1 and s.grad_fn is p.grad_fn
    p.sum().backward()  # the unused output's gradient arrives as zeros
    np.testing.assert_allclose(to_numpy(a.grad.data), to_numpy(b.data))
    assert gradcheck(lambda x, y: TwoOutputs()(x, y), (leaf(3), leaf(3, seed=2)), raise_exception=True)


class WrongCount(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g


def test_wrong_number_of_gradients():
    y = WrongCount()(leaf(2), leaf(2))
    with pytest.raises(RuntimeError, match="function WrongCount returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        y.sum().backward()


class WrongSize(Function):
    def forward(self, a):
        return a.sum(0)

    def backward(self, g):
        return g


def test_wrong_gradient_size():
    y = WrongSize()(leaf(2, 3))
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0 - expected size"):
        y.sum().backward()


class SavesIntermediate(Function):
    def forward(self, a):
        t = a * 2
        self.save_for_backward(t)
        return t + 1


def test_save_for_backward_accepts_only_inputs_and_outputs():
    with pytest.raises(RuntimeError, match="save_for_backward can only save input or output tensors, but "
                                           "argument 0 doesn't satisfy this condition"):
        SavesIntermediate()(leaf(2))


class AddOneInPlace(InplaceFunction):
    def forward(self, x):
        if self.inplace:
            self.mark_dirty(x)
            return x.add_(1)
        return x + 1

    def backward(self, g):
        return g


def test_mark_dirty_makes_the_input_the_output():
    x = leaf(3)
    h = x * 2
    version = h._version
    y = AddOneInPlace(inplace=True)(h)
    assert y is h and h._version == version + 1 and isinstance(h.grad_fn, AddOneInPlace)
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad.data), [2, 2, 2])
    assert AddOneInPlace()(x) is not x
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place "
                                           "operation."):
        AddOneInPlace(True)(x)


class MaxWithIndex(Function):
    def forward(self, x):
        values, idx = x.max(0)
        self.mark_non_differentiable(idx)
        self.save_for_backward(x, idx)
        return values, idx

    def backward(self, g_values, g_idx):
        x, idx = self.saved_tensors
        assert g_idx is None or float(g_idx.abs().sum()) == 0
        grad = x.new(x.size()).zero_()
        grad.scatter_(0, idx.view(1, -1), g_values.view(1, -1))
        return grad


def test_mark_non_differentiable():
    x = leaf(3, 4)
    values, idx = MaxWithIndex()(x)
    assert values.requires_grad and not idx.requires_grad and idx.grad_fn is None
    values.sum().backward()
    expected = np.zeros((3, 4))
    expected[to_numpy(idx.data), np.arange(4)] = 1
    np.testing.assert_array_equal(to_numpy(x.grad.data), expected)


class ViewOf(Function):
    def forward(self, x):
        v = x.view(-1)
        self.mark_shared_storage((x, v))
        return v

    def backward(self, g):
        return g.view(2, 3)


def test_mark_shared_storage_shares_the_version_counter():
    h = leaf(2, 3) * 1
    v = ViewOf()(h)
    assert v._vc is h._vc
    with pytest.raises(RuntimeError, match="sharing it"):
        v.add_(1)


def test_docs_style_function_reused_for_several_calls():
    fn = Square()
    a = fn(leaf(2))
    a.sum().backward()
    b = fn(leaf(2, seed=1))
    b.sum().backward()


# ---------------------------------------------------------------------- new style

class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        r = x.exp()
        ctx.save_for_backward(r)
        return r

    @staticmethod
    def backward(ctx, grad_output):
        r, = ctx.saved_variables
        assert isinstance(r, Variable) and isinstance(grad_output, Variable)
        return grad_output * r


def test_new_style_apply_and_double_backward():
    x = leaf(4)
    y = Exp.apply(x)
    assert type(y.grad_fn).__name__ == "ExpBackward" and y.grad_fn._forward_cls is Exp
    y.sum().backward(create_graph=True)
    np.testing.assert_allclose(to_numpy(x.grad.data), np.exp(to_numpy(x.data)))
    assert gradcheck(Exp.apply, (leaf(4),), raise_exception=True)
    assert gradgradcheck(Exp.apply, (leaf(4),), raise_exception=True)


class ScaleBy(Function):
    @staticmethod
    def forward(ctx, x, factor, y=None):
        ctx.factor = factor
        ctx.has_y = y is not None
        return x * factor if y is None else x * factor + y

    @staticmethod
    def backward(ctx, g):
        return g * ctx.factor, None, (g if ctx.has_y else None)


def test_new_style_with_constant_arguments():
    x, y = leaf(3), leaf(3, seed=1)
    out = ScaleBy.apply(x, 3.0, y)
    fn = out.grad_fn
    assert fn.needs_input_grad == (True, False, True)
    out.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad.data), [3, 3, 3])
    np.testing.assert_allclose(to_numpy(y.grad.data), [1, 1, 1])
    assert not ScaleBy.apply(Variable(rand(2)), 2.0).requires_grad


def test_new_style_volatile_and_no_grad_inputs():
    out = Exp.apply(Variable(rand(3), volatile=True))
    assert out.volatile and out.grad_fn is None
    out = Exp.apply(Variable(rand(3)))
    assert not out.requires_grad and out.grad_fn is None


def test_ctx_is_not_callable():
    y = Exp.apply(leaf(2))
    with pytest.raises(RuntimeError, match=r"call Exp.apply\(...\) instead"):
        y.grad_fn(leaf(2))


class OnceExp(Function):
    @staticmethod
    def forward(ctx, x):
        r = x.exp()
        ctx.save_for_backward(r)
        return r

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        r, = ctx.saved_tensors
        assert isinstance(grad_output, ember.DoubleTensor)
        return grad_output * r


def test_once_differentiable():
    x = leaf(3)
    y = OnceExp.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad.data), np.exp(to_numpy(x.data)))
    x.grad = None
    gx, = ember.autograd.grad(OnceExp.apply(x).sum(), x, create_graph=True)
    assert gx.requires_grad
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was markedwith "
                                           "@once_differentiable"):
        gx.sum().backward()


def test_old_style_backward_is_not_differentiable_twice():
    x = leaf(3)
    gx, = ember.autograd.grad(Square()(x).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="markedwith @once_differentiable"):
        gx.sum().backward()


# ---------------------------------------------------------------------- NestedIOFunction

class NestedAdd(NestedIOFunction):
    def forward_extended(self, pair, c):
        a, b = pair
        return (a + b, (a * c,))

    def backward_extended(self, g_sum, g_nested):
        g_prod, = g_nested
        return ((g_sum + g_prod, g_sum), g_prod * 0)


def test_nested_io_function():
    a, b, c = leaf(2), leaf(2, seed=1), Variable(ember.DoubleTensor([1, 1]))
    s, (p,) = NestedAdd()((a, b), c)
    assert isinstance(s, Variable) and isinstance(p, Variable)
    (s + p).sum().backward()
    np.testing.assert_allclose(to_numpy(a.grad.data), [2, 2])
    np.testing.assert_allclose(to_numpy(b.grad.data), [1, 1])
