"""Activation functions (PyTorch 0.2's nn.functional activations and their autograd Functions).

Every function takes a Variable of a floating point tensor. The Functions compute on the tensor's array
(``cls._xp`` is NumPy on CPU). Backward passes:
- piecewise-linear activations (threshold, relu, hardtanh, leaky_relu, rrelu, hard/softshrink) keep the
  derivative factor as an array computed in forward; the gradient is ``grad_output * factor``, which is
  exactly differentiable again (the factor is constant almost everywhere);
- smooth ones (elu, selu, softplus, logsigmoid, prelu, softmax, log_softmax) compute on arrays in a plain
  backward pass, and with differentiable Variable formulas when the backward pass is itself recorded
  (``create_graph=True``), so double backward works;
- glu computes on arrays in both passes (a Variable formula when the backward pass is recorded);
- the rest (tanhshrink, softsign, softmin, tanh, sigmoid) are compositions of Variable ops.
0.2 has no ``dim`` argument for softmax/log_softmax/softmin: 1-D and 3-D inputs are normalised over dim 0,
2-D and 4-D over dim 1 (THNN's rule). ``dim=`` is accepted as an ember extra.
"""
import ember
from ember import kernels
from ember.autograd import Function, Variable
from ember.kernels import activation as _act
from ember.tensor import _fmt_size, _typename_of

__all__ = ["threshold", "relu", "hardtanh", "relu6", "elu", "selu", "leaky_relu", "prelu", "rrelu", "glu",
           "logsigmoid", "hardshrink", "tanhshrink", "softsign", "softplus", "softmin", "softmax", "softshrink",
           "log_softmax", "tanh", "sigmoid"]

# SELU's constants (Klambauer et al., 2017), as 0.2 defines them
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ---------------------------------------------------------------------- helpers shared by the nn Functions

def float_array(t, op, name="input"):
    """The array of ``t``, which must be a floating point tensor (a Function's forward sees tensors)."""
    if getattr(type(t), "_is_floating", False):
        return t._a
    kinds = ("torch.cuda.FloatTensor, torch.cuda.DoubleTensor or torch.cuda.HalfTensor" if getattr(t, "is_cuda", False)
             else "torch.FloatTensor or torch.DoubleTensor")
    raise TypeError("{}(): expected {} to be a Variable of a floating point tensor ({}), got {}"
                    .format(op, name, kinds, _typename_of(t)))


def size_of(t):
    """0.2's size text of a tensor or Variable: '[2 x 3]' ('[]' when empty)."""
    a = (t.data if isinstance(t, Variable) else t)._a
    return _fmt_size(a.shape if a.size else ())


def new_like(cls, a):
    """A fresh C-contiguous array of ``a``'s shape and dtype."""
    return cls._xp.empty(a.shape, a.dtype)


def times(grad_output, factor):
    """``grad_output * factor`` for an array ``factor`` (broadcastable, not differentiated): a tensor in a plain
    backward pass, a recorded product when the backward pass is itself differentiated."""
    g = grad_output.data
    cls = type(g)
    if grad_output.volatile:
        out = cls._xp.empty(g._a.shape, g._a.dtype)
        cls._xp.multiply(g._a, factor, out=out)
        return cls._make(out)
    f = factor.astype(g._a.dtype)
    return grad_output * Variable(cls._make(f if f.flags.c_contiguous else cls._xp.ascontiguousarray(f)))


def _number(x, op, name):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        try:
            return float(x)
        except (TypeError, ValueError):
            raise TypeError("{}(): {} must be a number, got {}".format(op, name, _typename_of(x))) from None
    return x


def _inplace_or_new(ctx, input, a, inplace):
    """(output tensor, its array): ``input`` itself (marked dirty) or a fresh array to fill."""
    if inplace:
        ctx.mark_dirty(input)
        return input, a
    cls = type(input)
    out = new_like(cls, a)
    return cls._make(out), out


# ---------------------------------------------------------------------- piecewise-linear activations

class Threshold(Function):
    """y = x if x > threshold else value."""

    @staticmethod
    def forward(ctx, input, threshold, value, inplace=False):
        a = float_array(input, "threshold")
        xp = type(input)._xp
        if inplace and value > threshold:
            raise RuntimeError("in-place processing requires value ({}) to not exceed threshold ({})"
                               .format(value, threshold))
        ctx.threshold = threshold
        # as 0.2, the backward reads x > threshold from the saved input: in place the output, which is greater
        # exactly where x was, as value <= threshold
        ctx.save_for_backward(input)
        if threshold == value:  # relu and friends: NaN passes (0.2's in-place form), in both forms
            if not _act.applies(a):
                if inplace:
                    ctx.mark_dirty(input)
                    return input.clamp_(min=threshold)
                return input.clamp(min=threshold)
            output, out = _inplace_or_new(ctx, input, a, inplace)
            _act.threshold_in_place(a, threshold, value, out)
            return output
        output, out = _inplace_or_new(ctx, input, a, inplace)
        if _act.applies(a):
            _act.threshold(a, threshold, value, out)
        elif inplace:
            xp.copyto(out, value, where=xp.less_equal(a, threshold))
        else:
            out[...] = xp.where(xp.greater(a, threshold), a, value)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.volatile:
            x, = ctx.saved_tensors
            g = grad_output.data
            if _act.applies(x._a, g._a):
                return type(g)._make(_act.threshold_grad(x._a, g._a, ctx.threshold)), None, None, None
        else:
            x = ctx.saved_variables[0].data
        return times(grad_output, type(x)._xp.greater(x._a, ctx.threshold)), None, None, None


class Hardtanh(Function):
    """y = min(max(x, min_val), max_val)."""

    @staticmethod
    def forward(ctx, input, min_val, max_val, inplace=False):
        a = float_array(input, "hardtanh")
        xp = type(input)._xp
        if ctx.needs_input_grad[0]:
            ctx.factor = xp.greater(a, min_val) & xp.less(a, max_val)
        if inplace:
            ctx.mark_dirty(input)
            return input.clamp_(min_val, max_val)
        return input.clamp(min_val, max_val)

    @staticmethod
    def backward(ctx, grad_output):
        return times(grad_output, ctx.factor), None, None, None


class LeakyReLU(Function):
    """y = x if x > 0 else negative_slope * x."""

    @staticmethod
    def forward(ctx, input, negative_slope, inplace=False):
        a = float_array(input, "leaky_relu")
        xp = type(input)._xp
        ctx.slope = negative_slope
        # as 0.2, the backward reads x > 0 from the saved input (in place: the output)
        ctx.save_for_backward(input)
        output, out = _inplace_or_new(ctx, input, a, inplace)
        if _act.applies(a):
            _act.leaky_relu(a, negative_slope, out)
        else:
            xp.multiply(a, xp.where(xp.greater(a, 0), a.dtype.type(1), a.dtype.type(negative_slope)), out=out)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.volatile:
            x, = ctx.saved_tensors
            g = grad_output.data
            if _act.applies(x._a, g._a):
                return type(g)._make(_act.leaky_relu_grad(x._a, g._a, ctx.slope)), None, None
        else:
            x = ctx.saved_variables[0].data
        a = x._a
        xp = type(x)._xp
        return times(grad_output, xp.where(xp.greater(a, 0), a.dtype.type(1), a.dtype.type(ctx.slope))), None, None


class RReLU(Function):
    """Randomized leaky ReLU: in training each x <= 0 is scaled by a slope drawn from U(lower, upper); in
    evaluation by the fixed slope (lower + upper) / 2."""

    @staticmethod
    def forward(ctx, input, lower, upper, train, inplace=False):
        a = float_array(input, "rrelu")
        cls = type(input)
        xp = cls._xp
        pos = xp.greater(a, 0)
        if train:
            slopes = input.new(input.size()).uniform_(lower, upper)._a if a.size else a.copy()
            xp.copyto(slopes, 1, where=pos)
        else:
            slopes = xp.where(pos, a.dtype.type(1), a.dtype.type((lower + upper) / 2))
        ctx.factor = slopes
        output, out = _inplace_or_new(ctx, input, a, inplace)
        xp.multiply(a, slopes, out=out)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        return times(grad_output, ctx.factor), None, None, None, None


class _Shrink(Function):
    """THNN's shrinks: hardshrink keeps x beyond +-lambd, softshrink moves it lambd towards 0; the rest
    (NaN too, as THNN's comparisons leave it) is 0. The backward passes the gradient where |x| > lambd."""
    soft = False

    @classmethod
    def forward(cls, ctx, input, lambd):
        op = "softshrink" if cls.soft else "hardshrink"
        a = float_array(input, op)
        ctx.lambd = lambd
        ctx.save_for_backward(input)
        if _act.applies(a):
            r = (_act.softshrink if cls.soft else _act.hardshrink)(a, lambd)
        else:
            xp = type(input)._xp
            lam = a.dtype.type(lambd)
            if cls.soft:
                r = xp.where(a > lam, a - lam, xp.where(a < -lam, a + lam, a.dtype.type(0)))
            else:
                r = xp.where((a > lam) | (a < -lam), a, a.dtype.type(0))
        return type(input)._make(r)

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.volatile:
            x, = ctx.saved_tensors
            g = grad_output.data
            if _act.applies(x._a, g._a):
                return type(g)._make(_act.shrink_grad(x._a, g._a, ctx.lambd)), None
        else:
            x = ctx.saved_variables[0].data
        a = x._a
        lam = a.dtype.type(ctx.lambd)
        return times(grad_output, (a > lam) | (a < -lam)), None


class Hardshrink(_Shrink):
    """y = x if |x| > lambd else 0."""


class Softshrink(_Shrink):
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    soft = True


# ---------------------------------------------------------------------- smooth activations

class ELU(Function):
    """y = x if x > 0 else alpha * (exp(x) - 1), times ``scale`` (ELU: scale 1; SELU: 0.2's constants)."""

    @staticmethod
    def forward(ctx, input, alpha, scale, inplace=False):
        a = float_array(input, "selu" if scale != 1 else "elu")
        xp = type(input)._xp
        if _act.applies(a):
            output, out = _inplace_or_new(ctx, input, a, inplace)
            _act.elu(a, alpha, scale, out)
        else:
            neg = xp.expm1(xp.minimum(a, 0))  # no overflow warnings from the discarded positive side
            neg *= alpha * scale
            y = xp.where(xp.greater(a, 0), a * scale if scale != 1 else a, neg)
            if inplace:
                ctx.mark_dirty(input)
                a[...] = y
                output = input
            else:
                output = type(input)._make(y)
        ctx.alpha, ctx.scale = alpha, scale
        ctx.save_for_backward(output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        # dy/dx = scale where y > 0, else y + scale * alpha (the output carries exp(x))
        c = ctx.alpha * ctx.scale
        if grad_output.volatile:
            y, = ctx.saved_tensors
            g = grad_output.data._a
            if _act.applies(y._a, g):
                return type(y)._make(_act.elu_grad(y._a, g, ctx.alpha, ctx.scale)), None, None, None
            xp = type(y)._xp
            return times(grad_output, xp.where(xp.greater(y._a, 0), y._a.dtype.type(ctx.scale), y._a + c)), \
                None, None, None
        y, = ctx.saved_variables
        pos = Variable(y.data.gt(0).type_as(y.data))
        return grad_output * (pos * ctx.scale + (1 - pos) * (y + c)), None, None, None


class Softplus(Function):
    """y = log(1 + exp(beta * x)) / beta, or x where beta * x > threshold."""

    @staticmethod
    def forward(ctx, input, beta, threshold):
        a = float_array(input, "softplus")
        xp = type(input)._xp
        if _act.applies(a):
            out = _act.softplus(a, beta, threshold)
        else:
            bx = a * beta
            out = xp.logaddexp(0, bx)
            if beta != 1:
                out /= beta
            xp.copyto(out, a, where=xp.greater(bx, threshold))
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(input)
        return type(input)._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        # dy/dx = sigmoid(beta * x), 1 on the linear part
        beta, th = ctx.beta, ctx.threshold
        if grad_output.volatile:
            x, = ctx.saved_tensors
            g = grad_output.data._a
            if _act.applies(x._a, g):
                return type(x)._make(_act.softplus_grad(x._a, g, beta, th)), None, None
            bx = x.mul(beta)
            d = bx.sigmoid()._a
            type(x)._xp.copyto(d, 1, where=bx._a > th)
            return times(grad_output, d), None, None
        x, = ctx.saved_variables
        linear = Variable(x.data.mul(beta).gt(th).type_as(x.data))
        return grad_output * (linear + (1 - linear) * (x * beta).sigmoid()), None, None


class LogSigmoid(Function):
    """y = log(1 / (1 + exp(-x))), computed without overflow."""

    @staticmethod
    def forward(ctx, input):
        a = float_array(input, "logsigmoid")
        xp = type(input)._xp
        if _act.applies(a):
            out = _act.logsigmoid(a)
        else:
            out = xp.logaddexp(0, -a)
            xp.negative(out, out=out)
        ctx.save_for_backward(input)
        return type(input)._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        # dy/dx = sigmoid(-x)
        if grad_output.volatile:
            x, = ctx.saved_tensors
            g = grad_output.data._a
            if _act.applies(x._a, g):
                return type(x)._make(_act.logsigmoid_grad(x._a, g))
            return times(grad_output, x.neg().sigmoid()._a)
        x, = ctx.saved_variables
        return grad_output * (-x).sigmoid()


def _prelu_layout(input, weight):
    """(channel dim, broadcast shape of the weight) for prelu: one weight, or one per channel (dim 1; dim 0
    of a 1-D input)."""
    a = float_array(input, "prelu")
    w = float_array(weight, "prelu", "weight")
    if type(weight) is not type(input):
        raise TypeError("prelu(): expected weight to be a {} (the input's type), got {}"
                        .format(type(input)._typename, type(weight)._typename))
    nd = a.ndim if a.size else 0
    if nd == 0:
        raise RuntimeError("prelu(): expected a non-empty input")
    if w.size == 1:
        return None, (1,) * nd
    cdim = 1 if nd > 1 else 0
    if a.shape[cdim] != w.size:
        raise RuntimeError("prelu(): Wrong number of input planes. Expected {} but got {} (weight has {} elements, "
                           "input has size {})".format(w.size, a.shape[cdim], w.size, size_of(input)))
    shape = [1] * nd
    shape[cdim] = w.size
    return cdim, tuple(shape)


class PReLU(Function):
    """y = x if x > 0 else weight * x, with one learnable weight or one per channel."""

    @staticmethod
    def forward(ctx, input, weight):
        cdim, wshape = _prelu_layout(input, weight)
        cls = type(input)
        xp = cls._xp
        a = input._a
        if _act.applies(a, weight._a):
            out = _act.prelu(a, weight._a, cdim)
        else:
            out = new_like(cls, a)
            xp.multiply(a, xp.where(xp.greater(a, 0), a.dtype.type(1), weight._a.reshape(wshape)), out=out)
        ctx.cdim, ctx.wshape = cdim, wshape
        ctx.save_for_backward(input, weight)
        return cls._make(out)

    @staticmethod
    def backward(ctx, grad_output):
        wshape = ctx.wshape
        if grad_output.volatile:
            x, w = ctx.saved_tensors
            xp = type(x)._xp
            a = x._a
            g = grad_output.data._a
            if _act.applies(a, g, w._a):
                gx, gw = _act.prelu_grad(a, g, w._a, ctx.cdim, ctx.needs_input_grad[0], ctx.needs_input_grad[1])
                return (None if gx is None else type(x)._make(gx)), (None if gw is None else type(w)._make(gw))
            pos = xp.greater(a, 0)
            gi = times(grad_output, xp.where(pos, a.dtype.type(1), w._a.reshape(wshape))) \
                if ctx.needs_input_grad[0] else None
            gw = None
            if ctx.needs_input_grad[1]:
                contrib = xp.where(pos, a.dtype.type(0), grad_output.data._a * a)
                axes = tuple(d for d in range(a.ndim) if d != ctx.cdim)
                gw = type(w)._make(xp.ascontiguousarray(contrib.sum(axis=axes).reshape(w._a.shape)))
            return gi, gw
        x, w = ctx.saved_variables
        pos = Variable(x.data.gt(0).type_as(x.data))
        neg = 1 - pos
        gi = grad_output * (pos + neg * w.view(*wshape)) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            contrib = grad_output * x * neg
            if ctx.cdim is None:
                gw = contrib.sum().view(w.size())
            else:
                gw = contrib.transpose(0, ctx.cdim).contiguous().view(w.size(0), -1).sum(1)
        return gi, gw


class GatedLinear(Function):
    """GLU: the first half along ``dim`` times the sigmoid of the second (THNN's order of operations)."""

    @staticmethod
    def forward(ctx, input, dim):
        a = float_array(input, "glu")
        ctx.dim = dim
        ctx.save_for_backward(input)
        if _act.glu_applies(a, dim):
            return type(input)._make(_act.glu(a, dim))
        first, second = _halves(a, dim)
        out = _sigmoid(type(input)._xp, second)
        out *= first
        return type(input)._make(type(input)._xp.ascontiguousarray(out))

    @staticmethod
    def backward(ctx, grad_output):
        dim = ctx.dim
        if grad_output.volatile:
            x, = ctx.saved_tensors
            a, g = x._a, grad_output.data._a
            if _act.glu_applies(a, dim):
                return type(x)._make(_act.glu_grad(a, g, dim)), None
            xp = type(x)._xp
            first, second = _halves(a, dim)
            z = _sigmoid(xp, second)
            out = xp.empty(a.shape, a.dtype)
            o1, o2 = _halves(out, dim)
            xp.multiply(z, g, out=o1)
            xp.multiply((1 - z) * z * g, first, out=o2)
            return type(x)._make(out), None
        x, = ctx.saved_variables
        h = x.size(dim) // 2
        z = x.narrow(dim, h, h).sigmoid()
        return ember.cat([z * grad_output, (1 - z) * z * grad_output * x.narrow(dim, 0, h)], dim), None


def _sigmoid(xp, b):
    """1 / (1 + exp(-b)) as a new array, the glu kernel's formula."""
    z = xp.exp(-b)
    z += 1
    return xp.divide(1, z, out=z)


def _halves(a, dim):
    """The two halves of array ``a`` along ``dim`` (views)."""
    h = a.shape[dim] // 2
    lead = (slice(None),) * dim
    return a[lead + (slice(0, h),)], a[lead + (slice(h, None),)]


# ---------------------------------------------------------------------- softmax family

def _softmax_dim(input, dim, op):
    """THNN's implicit dim (1-D/3-D: 0, 2-D/4-D: 1), or the explicit ``dim`` (ember extra)."""
    a = input._a
    nd = a.ndim if a.size else 0
    if dim is not None:
        return dim
    if nd == 1 or nd == 3:
        return 0
    if nd == 2 or nd == 4:
        return 1
    raise RuntimeError("{}(): 1D, 2D, 3D or 4D tensor expected, got a {}D tensor of size {}"
                       .format(op, nd, size_of(input)))


class Softmax(Function):
    @staticmethod
    def forward(ctx, input, dim=None):
        float_array(input, "softmax")
        ctx.dim = _softmax_dim(input, dim, "softmax")
        y = kernels.softmax_forward(input, ctx.dim)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.volatile:
            y, = ctx.saved_tensors
            return kernels.softmax_backward(grad_output.data, y, ctx.dim), None
        y, = ctx.saved_variables
        return y * (grad_output - (grad_output * y).sum(ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, input, dim=None):
        float_array(input, "log_softmax")
        ctx.dim = _softmax_dim(input, dim, "log_softmax")
        y = kernels.log_softmax_forward(input, ctx.dim)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        if grad_output.volatile:
            y, = ctx.saved_tensors
            return kernels.log_softmax_backward(grad_output.data, y, ctx.dim), None
        y, = ctx.saved_variables
        return grad_output - y.exp() * grad_output.sum(ctx.dim, keepdim=True), None


# ---------------------------------------------------------------------- the functional forms

def threshold(input, threshold, value, inplace=False):
    """y = x if x > threshold else value."""
    return Threshold.apply(input, _number(threshold, "threshold", "threshold"), _number(value, "threshold", "value"),
                           inplace)


def relu(input, inplace=False):
    """y = max(0, x)."""
    return Threshold.apply(input, 0, 0, inplace)


def hardtanh(input, min_val=-1., max_val=1., inplace=False):
    """y = x clamped to [min_val, max_val]."""
    return Hardtanh.apply(input, _number(min_val, "hardtanh", "min_val"), _number(max_val, "hardtanh", "max_val"),
                          inplace)


def relu6(input, inplace=False):
    """y = min(max(0, x), 6)."""
    return Hardtanh.apply(input, 0, 6, inplace)


def elu(input, alpha=1., inplace=False):
    """y = x if x > 0 else alpha * (exp(x) - 1)."""
    return ELU.apply(input, _number(alpha, "elu", "alpha"), 1, inplace)


def selu(input, inplace=False):
    """y = scale * (x if x > 0 else alpha * (exp(x) - 1)) with alpha = 1.6733 and scale = 1.0507."""
    return ELU.apply(input, _SELU_ALPHA, _SELU_SCALE, inplace)


def leaky_relu(input, negative_slope=1e-2, inplace=False):
    """y = x if x > 0 else negative_slope * x."""
    return LeakyReLU.apply(input, _number(negative_slope, "leaky_relu", "negative_slope"), inplace)


def prelu(input, weight):
    """y = x if x > 0 else weight * x; ``weight`` has one element or one per channel (input dim 1)."""
    return PReLU.apply(input, weight)


def rrelu(input, lower=1. / 8, upper=1. / 3, training=False, inplace=False):
    """Randomized leaky ReLU (slopes drawn from U(lower, upper) when training, (lower + upper) / 2 otherwise)."""
    lower, upper = _number(lower, "rrelu", "lower"), _number(upper, "rrelu", "upper")
    if not 0 <= lower <= upper:
        raise ValueError("rrelu(): expected 0 <= lower <= upper, got lower={} and upper={}".format(lower, upper))
    return RReLU.apply(input, lower, upper, bool(training), inplace)


def glu(input, dim=-1):
    """The gated linear unit: the first half of ``input`` along ``dim`` times the sigmoid of the second half."""
    ndim = input.dim()
    if dim < -ndim or dim >= ndim:
        raise IndexError("glu(): dim {} is out of boundary for an input of size {}".format(dim, size_of(input)))
    if dim < 0:
        dim += ndim
    n = input.size(dim)
    if n % 2:
        raise RuntimeError("glu(): Halving dimension must be even, but dimension {} is size {} (input of size {})"
                           .format(dim, n, size_of(input)))
    return GatedLinear.apply(input, dim)


def logsigmoid(input):
    """y = log(1 / (1 + exp(-x)))."""
    return LogSigmoid.apply(input)


def hardshrink(input, lambd=0.5):
    """y = x if |x| > lambd else 0."""
    return Hardshrink.apply(input, _number(lambd, "hardshrink", "lambd"))


def tanhshrink(input):
    """y = x - tanh(x)."""
    return input - input.tanh()


def softsign(input):
    """y = x / (1 + |x|)."""
    return input / (input.abs() + 1)


def softplus(input, beta=1, threshold=20):
    """y = log(1 + exp(beta * x)) / beta (linear where beta * x > threshold)."""
    return Softplus.apply(input, _number(beta, "softplus", "beta"), _number(threshold, "softplus", "threshold"))


def softmin(input, dim=None):
    """softmax(-input) (0.2's implicit dim; ``dim=`` is an ember extra)."""
    return Softmax.apply(-input, dim)


def softmax(input, dim=None):
    """exp(x) / sum(exp(x)) over dim 0 of a 1-D/3-D input, dim 1 of a 2-D/4-D input (``dim=``: ember extra)."""
    return Softmax.apply(input, dim)


def softshrink(input, lambd=0.5):
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    return Softshrink.apply(input, _number(lambd, "softshrink", "lambd"))


def log_softmax(input, dim=None):
    """log(softmax(x)) over 0.2's implicit dim (``dim=``: ember extra)."""
    return LogSoftmax.apply(input, dim)


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()

