"""A short tour of ember's tensor library, written as PyTorch 0.2 code (`import ember as torch`).

Run: python examples/tensor_tour.py
"""
import ember as torch

torch.manual_seed(0)

x = torch.FloatTensor([[1, 2, 3], [4, 5, 6]])
print("x =", x)
print("size:", x.size(), " stride:", x.stride(), " type:", x.type())

# views share storage with their base, as in 0.2
col = x[:, 1]
col.fill_(0)
print("after zeroing column 1 through a view:", x)

# broadcasting, reductions (a Python number over all elements), comparisons (ByteTensor)
y = x + torch.FloatTensor([10, 20, 30])
print("x + row:", y)
print("sum of all elements:", y.sum(), " max along dim 1:", y.max(1))
print("y > 15:", y > 15)

# linear algebra
a = torch.randn(4, 4).double()
b = torch.randn(4, 2).double()
solution, _ = torch.gesv(b, a)
print("gesv residual:", (a.mm(solution) - b).abs().max())

# NumPy interop shares memory both ways
n = x.numpy()
n[0, 0] = -1
print("x after writing through numpy():", x)
