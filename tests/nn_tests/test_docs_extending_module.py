"""The reference docs' "Extending torch.nn" example: a Linear Module built on the Linear Function of the
"Extending torch.autograd" example, run with `import ember as torch`. Its evident bugs are fixed and marked."""
import numpy as np

import ember as torch
import ember.nn as nn
from ember.autograd import Function, Variable, gradcheck


class LinearFunction(Function):
    def forward(self, input, weight, bias=None):
        self.save_for_backward(input, weight, bias)
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

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


class Linear(nn.Module):
    def __init__(self, input_features, output_features, bias=True):
        super(Linear, self).__init__()  # fixed: the docs forget Module.__init__
        self.input_features = input_features
        self.output_features = output_features
        # fixed: the Function computes input.mm(weight.t()), so the weight is (out, in); the docs had (in, out)
        self.weight = nn.Parameter(torch.Tensor(output_features, input_features))
        if bias:
            self.bias = nn.Parameter(torch.Tensor(output_features))
        else:
            self.register_parameter('bias', None)
        self.weight.data.uniform_(-0.1, 0.1)
        if bias:  # fixed: the docs test `bias is not None`, true for bias=False too
            self.bias.data.uniform_(-0.1, 0.1)

    def forward(self, input):
        if self.bias is None:
            return LinearFunction()(input, self.weight)
        return LinearFunction()(input, self.weight, self.bias)


def test_docs_linear_module_trains_and_matches_a_formula():
    torch.manual_seed(0)
    m = Linear(5, 3).double()
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    x = Variable(torch.randn(4, 5).double())
    y = m(x)
    want = x.data.numpy() @ m.weight.data.numpy().T + m.bias.data.numpy()
    np.testing.assert_allclose(y.data.numpy(), want, rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(m.weight.grad.data.numpy(), np.ones((4, 3)).T @ x.data.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.bias.grad.data.numpy(), np.full(3, 4.0), rtol=1e-12)
    nobias = Linear(5, 3, bias=False).double()
    assert nobias.bias is None and len(list(nobias.parameters())) == 1


def test_docs_linear_module_gradcheck():
    torch.manual_seed(1)
    m = Linear(4, 2).double()
    x = Variable(torch.randn(3, 4).double(), requires_grad=True)
    assert gradcheck(lambda inp: m(inp), (x,), eps=1e-6, atol=1e-4)
