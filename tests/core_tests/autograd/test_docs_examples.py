"""The reference docs' autograd examples, run as written after ``import ember as torch`` (only their
evident bugs fixed, as noted inline): autograd mechanics (requires_grad, volatile), register_hook
with its printed output, and the Linear Function of "Extending torch.autograd" with gradcheck."""
import numpy as np

import ember as torch
from ember.autograd import Function, Variable

from _helpers.oracle import require_torch, to_numpy


def test_autograd_mechanics_requires_grad():
    x = Variable(torch.randn(5, 5))
    y = Variable(torch.randn(5, 5))
    z = Variable(torch.randn(5, 5), requires_grad=True)
    a = x + y
    assert a.requires_grad is False
    b = a + z
    assert b.requires_grad is True


def test_autograd_mechanics_volatile():
    # the docs use torchvision's resnet18; any model built from Variable ops shows the same flags
    weight = Variable(torch.randn(5, 3), requires_grad=True)

    def model(inp):
        return inp.mm(weight).tanh()

    regular_input = Variable(torch.randn(5, 5))
    volatile_input = Variable(torch.randn(5, 5), volatile=True)
    assert model(regular_input).requires_grad is True
    assert model(volatile_input).requires_grad is False
    assert model(volatile_input).volatile is True
    assert model(volatile_input).creator is None


def test_autograd_mechanics_freeze_parameters():
    # "switch requires_grad off for the frozen part; the new last layer still trains"
    frozen = [Variable(torch.randn(4, 4), requires_grad=True) for _ in range(2)]
    for param in frozen:
        param.requires_grad = False
    head = Variable(torch.randn(4, 2), requires_grad=True)
    out = Variable(torch.randn(3, 4)).mm(frozen[0]).mm(frozen[1]).mm(head).sum()
    out.backward()
    assert frozen[0].grad is None and frozen[1].grad is None and head.grad is not None


def test_register_hook_doubles_the_gradient(capsys):
    v = Variable(torch.Tensor([0, 0, 0]), requires_grad=True)
    h = v.register_hook(lambda grad: grad * 2)  # double the gradient
    v.backward(torch.Tensor([1, 1, 1]))
    print(v.grad.data)
    out = capsys.readouterr().out
    assert out.strip("\n") == " 2\n 2\n 2\n[torch.FloatTensor of size 3]"
    h.remove()  # removes the hook
    v.backward(torch.Tensor([1, 1, 1]))
    np.testing.assert_array_equal(to_numpy(v.grad.data), [3, 3, 3])


def test_register_hook_returning_none_keeps_the_gradient(capsys):
    def w_hook(grad):
        print("hello")
        return None
    w1 = Variable(torch.FloatTensor([1, 1, 1]), requires_grad=True)
    w1.register_hook(w_hook)  # a hook returning None leaves the computed gradient as it is
    w1.backward(gradient=torch.FloatTensor([1, 1, 1]))
    print(w1.grad)
    out = capsys.readouterr().out
    assert out == "hello\nVariable containing:\n 1\n 1\n 1\n[torch.FloatTensor of size 3]\n\n"


# ---------------------------------------------------------------------- Extending torch.autograd

# Inherit from Function
class Linear(Function):

    # bias is an optional argument
    def forward(self, input, weight, bias=None):
        self.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    # This function has only a single output, so it gets only one gradient
    def backward(self, grad_output):
        input, weight, bias = self.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if self.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if self.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and self.needs_input_grad[2]:
            grad_bias = grad_output.sum(0).squeeze(0)
        return grad_input, grad_weight, grad_bias


def linear(input, weight, bias=None):
    # First braces create a Function object. Any arguments given here
    # will be passed to __init__. Second braces will invoke the __call__
    # operator, that will then use forward() to compute the result and
    # return it.
    return Linear()(input, weight, bias)


def test_linear_function_passes_gradcheck(capsys):
    gradcheck = torch.autograd.gradcheck  # the docs' `from torch.autograd import gradcheck`

    # gradchek takes a tuple of tensor as input, check if your gradient
    # evaluated with these tensors are close enough to numerical
    # approximations and returns True if they all verify this condition.
    # Evident bugs fixed: Linear needs a weight (the docs pass only the input), and gradcheck is the
    # function itself (the docs call gradcheck.gradcheck).
    input = (Variable(torch.randn(20, 20).double(), requires_grad=True),
             Variable(torch.randn(30, 20).double(), requires_grad=True),)
    test = gradcheck(Linear(), input, eps=1e-6, atol=1e-4)
    print(test)
    assert capsys.readouterr().out == "True\n"


def test_linear_function_with_bias_and_helper():
    gradcheck = torch.autograd.gradcheck
    input = (Variable(torch.randn(4, 5).double(), requires_grad=True),
             Variable(torch.randn(3, 5).double(), requires_grad=True),
             Variable(torch.randn(3).double(), requires_grad=True))
    assert gradcheck(linear, input, eps=1e-6, atol=1e-4)
    out = linear(*input)
    expected = to_numpy(input[0].data) @ to_numpy(input[1].data).T + to_numpy(input[2].data)
    np.testing.assert_allclose(to_numpy(out.data), expected, rtol=1e-12)


def test_linear_function_gradients_match_torch():
    real = require_torch()
    x, w, b = (Variable(torch.randn(*s).double(), requires_grad=True) for s in ((4, 5), (3, 5), (3,)))
    linear(x, w, b).sum().backward()
    tx, tw, tb = (real.from_numpy(to_numpy(v.data)).requires_grad_() for v in (x, w, b))
    real.nn.functional.linear(tx, tw, tb).sum().backward()
    for v, t in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(to_numpy(v.grad.data), t.grad.numpy(), rtol=1e-12)


def test_broken_gradient_fails_gradcheck():
    class BadLinear(Linear):
        def backward(self, grad_output):
            gi, gw, gb = Linear.backward(self, grad_output)
            return gi * 1.01, gw, gb
    input = (Variable(torch.randn(3, 4).double(), requires_grad=True),
             Variable(torch.randn(2, 4).double(), requires_grad=True))
    assert torch.autograd.gradcheck(BadLinear(), input, eps=1e-6, atol=1e-4) is False


def test_autograd_backward_documented_signature():
    x = Variable(torch.randn(3).double(), requires_grad=True)
    y = x * 2
    torch.autograd.backward([y], [torch.ones(3).double()], retain_graph=True)
    torch.autograd.backward(y, torch.ones(3).double())
    np.testing.assert_array_equal(to_numpy(x.grad.data), [4, 4, 4])
