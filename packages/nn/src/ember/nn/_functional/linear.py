"""Linear maps (PyTorch 0.2's F.linear and F.bilinear), written with differentiable Variable ops."""
import ember
from .activation import size_of

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias; ``input`` (N, in_features) or any number of leading dims (..., in_features),
    ``weight`` (out_features, in_features), ``bias`` (out_features).

    A wrong in_features raises 0.2's ``size mismatch, m1: [N x in], m2: [in' x out]``."""
    if bias is not None and input.dim() == 2:
        return ember.addmm(bias, input, weight.t())  # one fused op: the common case
    output = input.matmul(weight.t())
    if bias is not None:
        output += bias
    return output


def bilinear(input1, input2, weight, bias=None):
    """y[n, k] = sum_ij input1[n, i] * weight[k, i, j] * input2[n, j] + bias[k]; inputs (N, in1) and (N, in2),
    ``weight`` (out, in1, in2), ``bias`` (out)."""
    if input1.dim() != 2 or input2.dim() != 2 or weight.dim() != 3:
        raise RuntimeError("bilinear(): expected 2-D inputs and a 3-D weight, got input1 of size {}, input2 of size "
                           "{} and weight of size {}".format(size_of(input1), size_of(input2), size_of(weight)))
    n, in1 = input1.size()
    out, w1, in2 = weight.size()
    if input2.size(0) != n or input2.size(1) != in2 or w1 != in1:
        raise RuntimeError("bilinear(): size mismatch, input1: {}, input2: {}, weight: {} (expected input1 [N x in1], "
                           "input2 [N x in2], weight [out x in1 x in2])"
                           .format(size_of(input1), size_of(input2), size_of(weight)))
    if bias is not None and bias.numel() != out:
        raise RuntimeError("bilinear(): expected a bias of {} elements, got size {}".format(out, size_of(bias)))
    # (input1 @ W[k]) for every k at once: (N, in1) @ (in1, out * in2)
    t = input1.mm(weight.transpose(0, 1).contiguous().view(in1, out * in2))
    output = (t.view(n, out, in2) * input2.unsqueeze(1)).sum(2)
    if bias is not None:
        output += bias
    return output
