"""The table-driven module harness (as PyTorch's common_nn): one case per module configuration.

A case is a dict:
    name            id of the case (unique within the table)
    module          ember.nn class name (also the torch.nn class name unless `torch_module` is given)
    args, kwargs    constructor arguments (the same for both libraries unless `torch_args`/`torch_kwargs`);
                    numpy arrays among them become each library's tensor (e.g. a loss's class weights)
    input_size      size of the (double) input, filled from N(0, 1) with a fixed seed; or
    input_fn        a function(rng) -> numpy array (for inputs with constraints, e.g. probabilities)
    extra_inputs    further differentiable inputs after the first, each a size or a function(rng) -> array
                    (MarginRankingLoss's input2, TripletMarginLoss's positive and negative)
    target_fn       for criteria: function(rng) -> numpy array target (LongTensor when its dtype is integral)
    modes           ("train", "eval") by default
    check_gradcheck True by default: gradcheck of the module in double on the input
    random          True for modules whose output is random (skips value comparison with torch)
    rtol, atol      tolerances (default 1e-6, 1e-7 in double)
    repr            expected ember repr string (0.2's format), optional
    skip_torch      reason string: the oracle can't build the same thing (checked against formulas elsewhere)
    input_grad      True by default; False when the inputs take no gradient (indices): grad_input is not
                    compared (set check_gradcheck False too, and check parameter gradients elsewhere)
    call            a function(lib_nn, module, *inputs) -> output, run with ember.nn and with torch.nn in place of
                    module(*inputs) (recurrent layers: hidden-state tuples, packed sequences)
A module may return several outputs (nested tuples, e.g. an LSTM's (output, (h, c))): each Variable among
them gets its own random grad_output and is compared.

`run_case(case)` builds the ember module (and the torch one in the parity env), copies the parameters and
buffers from ember to torch, runs forward in each mode, backpropagates the same random grad_output and compares
the output, the input gradient and every parameter gradient.
"""
import numpy as np

import ember
import ember.nn as nn
from ember.autograd import Variable, gradcheck

from .oracle import to_numpy

# state_dict keys that exist in only one of the libraries (ORACLE.md)
_ONLY_IN_TORCH = ("num_batches_tracked",)


def _make_input(case, rng):
    if "input_fn" in case:
        arr = np.asarray(case["input_fn"](rng))
    else:
        arr = rng.standard_normal(case["input_size"])
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float64)
    return arr


def _make_inputs(case, rng):
    """The first input and the case's extra inputs, as float64 arrays."""
    inputs = [_make_input(case, rng)]
    for extra in case.get("extra_inputs", ()):
        arr = np.asarray(extra(rng)) if callable(extra) else rng.standard_normal(extra)
        inputs.append(arr.astype(np.float64) if arr.dtype.kind == "f" else arr)
    return inputs


def _ember_tensor(arr):
    return ember.from_numpy(np.ascontiguousarray(arr).copy())


def _lib_args(args, kwargs, from_numpy):
    """Constructor arguments with numpy arrays turned into the library's tensors."""
    def conv(v):
        return from_numpy(np.ascontiguousarray(v).copy()) if isinstance(v, np.ndarray) else v
    return [conv(a) for a in args], {k: conv(v) for k, v in kwargs.items()}


def build_ember(case):
    ember.manual_seed(0)
    cls = getattr(nn, case["module"])
    args, kwargs = _lib_args(case.get("args", ()), case.get("kwargs", {}), ember.from_numpy)
    return cls(*args, **kwargs).double()


def build_torch(case, torch, ember_module):
    cls = getattr(torch.nn, case.get("torch_module", case["module"]))
    args = case.get("torch_args", case.get("args", ()))
    kwargs = case.get("torch_kwargs", case.get("kwargs", {}))
    args, kwargs = _lib_args(args, kwargs, torch.from_numpy)
    tm = cls(*args, **kwargs).double()
    copy_state_to_torch(ember_module, tm, torch)
    return tm


def copy_state_to_torch(ember_module, torch_module, torch):
    """Copy every parameter and buffer of the ember module into the torch module (names must agree, except
    the keys ORACLE.md lists)."""
    esd = ember_module.state_dict()
    tsd = torch_module.state_dict()
    for key, value in tsd.items():
        if key.endswith(_ONLY_IN_TORCH):
            continue
        assert key in esd, "torch key {} missing in ember's state_dict ({})".format(key, list(esd))
        value.copy_(torch.from_numpy(to_numpy(esd[key]).copy()))
    extra = [k for k in esd if k not in tsd]
    return extra


def _params(module):
    return [p for _, p in module.named_parameters()]


def run_case(case, torch=None):
    """Compare ember and torch on one case; returns nothing, asserts on mismatch."""
    rng = np.random.RandomState(abs(hash(case["name"])) % (2 ** 31))
    inputs = _make_inputs(case, rng)
    target = None
    if "target_fn" in case:
        target = np.asarray(case["target_fn"](rng))
    em = build_ember(case)
    if "repr" in case:
        assert repr(em) == case["repr"], "repr {!r} != {!r}".format(repr(em), case["repr"])
    tm = build_torch(case, torch, em) if (torch is not None and not case.get("skip_torch")) else None
    for mode in case.get("modes", ("train", "eval")):
        em.train(mode == "train")
        if tm is not None:
            tm.train(mode == "train")
        input_grad = case.get("input_grad", True)
        xs = [Variable(_ember_tensor(inp), requires_grad=input_grad) for inp in inputs]
        args = list(xs)
        if target is not None:
            args.append(Variable(_ember_tensor(target)))
        outs = _outputs(_call(case, nn, em, args))
        gouts = [rng.standard_normal(tuple(o.size()) if o.dim() else (1,)) for o in outs]
        ember.autograd.backward(outs, [_ember_tensor(g).view_as(o.data) for g, o in zip(gouts, outs)])
        if tm is None or case.get("random"):
            continue
        txs = [torch.from_numpy(inp.copy()).requires_grad_(input_grad) for inp in inputs]
        targs = list(txs)
        if target is not None:
            targs.append(torch.from_numpy(target.copy()))
        touts = _outputs(_call(case, torch.nn, tm, targs), torch)
        torch.autograd.backward(touts, [torch.from_numpy(g.copy()).reshape(t.shape) for g, t in zip(gouts, touts)])
        rtol, atol = case.get("rtol", 1e-6), case.get("atol", 1e-7)
        assert len(outs) == len(touts), "{}: {} outputs, torch {}".format(case["name"], len(outs), len(touts))
        for k, (out, tout) in enumerate(zip(outs, touts)):
            _close(out.data, tout, rtol, atol, "{} [{}] output {}".format(case["name"], mode, k))
        for i, (x, tx) in enumerate(zip(xs, txs) if input_grad else ()):
            _close(x.grad.data, tx.grad, rtol, atol, "{} [{}] grad_input {}".format(case["name"], mode, i))
        tparams = dict(tm.named_parameters())
        for name, p in em.named_parameters():
            tp = tparams[name]
            if tp.grad is None:
                assert p.grad is None or float(p.grad.data.abs().max()) == 0, name
                continue
            _close(p.grad.data, tp.grad, rtol, atol, "{} [{}] grad of {}".format(case["name"], mode, name))
            p.grad.data.zero_()
            tp.grad = None
        # buffers updated by the forward pass (running statistics) must agree too
        tbuf = dict(tm.named_buffers())
        for name, b in em.state_dict().items():
            if name in tbuf and name not in tparams:
                _close(b, tbuf[name], rtol, atol, "{} [{}] buffer {}".format(case["name"], mode, name))


def _call(case, lib_nn, module, args):
    return case["call"](lib_nn, module, *args) if "call" in case else module(*args)


def _outputs(result, torch=None):
    """The differentiable outputs in a (possibly nested) module result: ember Variables, or torch's
    floating-point tensors (``torch`` given)."""
    if isinstance(result, (tuple, list)):
        return [o for r in result for o in _outputs(r, torch)]
    if torch is None:
        return [result] if isinstance(result, Variable) else []
    return [result] if isinstance(result, torch.Tensor) and result.is_floating_point() else []


def _close(ember_value, torch_value, rtol, atol, what):
    a = to_numpy(ember_value)
    b = to_numpy(torch_value)
    if b.ndim == 0:
        b = b.reshape(1)
    assert a.shape == b.shape, "{}: shape {} != torch {}".format(what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def run_gradcheck(case):
    """gradcheck of the module on a small double input (criteria: w.r.t. the input only)."""
    if not case.get("check_gradcheck", True) or case.get("random"):
        return
    rng = np.random.RandomState(1)
    inputs = _make_inputs(case, rng)
    em = build_ember(case)
    em.eval() if "train" not in case.get("modes", ("train", "eval")) else em.train()
    target = None
    if "target_fn" in case:
        target = Variable(_ember_tensor(np.asarray(case["target_fn"](rng))))
    xs = tuple(Variable(_ember_tensor(inp), requires_grad=True) for inp in inputs)

    def fn(*xs_):
        return tuple(_outputs(_call(case, nn, em, list(xs_) + ([target] if target is not None else []))))

    assert gradcheck(fn, xs, eps=1e-6, atol=1e-5, rtol=1e-3), case["name"]


def run_state_dict_round_trip(case, tmp_path):
    em = build_ember(case)
    for p in em.parameters():
        p.data.uniform_(-1, 1)
    path = str(tmp_path / "{}.pt".format(case["name"]))
    ember.save(em.state_dict(), path)
    other = build_ember(case)
    other.load_state_dict(ember.load(path))
    for (n, a), (_, b) in zip(em.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=n)


def _forward_backward(case, em, inputs, target, gouts, mode, to_device):
    """ember forward and backward of one case with every tensor moved by ``to_device``; returns
    (outputs, input grads, parameter grads, buffers) as NumPy arrays."""
    em.train(mode == "train")
    input_grad = case.get("input_grad", True)
    xs = [Variable(to_device(_ember_tensor(inp)), requires_grad=input_grad) for inp in inputs]
    args = list(xs)
    if target is not None:
        args.append(Variable(to_device(_ember_tensor(target))))
    outs = _outputs(_call(case, nn, em, args))
    if gouts is None:
        rng = np.random.RandomState(7)
        gouts = [rng.standard_normal(tuple(o.size()) if o.dim() else (1,)) for o in outs]
    ember.autograd.backward(outs, [to_device(_ember_tensor(g)).view_as(o.data) for g, o in zip(gouts, outs)])
    result = {"output {}".format(k): to_numpy(o.data) for k, o in enumerate(outs)}
    if input_grad:
        result.update(("grad_input {}".format(i), to_numpy(x.grad.data)) for i, x in enumerate(xs))
    for name, p in em.named_parameters():
        if p.grad is not None:
            result["grad of " + name] = to_numpy(p.grad.data)
            p.grad = None
    params = dict(em.named_parameters())  # 0.2 has no named_buffers: buffers are the other state_dict entries
    result.update(("buffer " + name, to_numpy(b)) for name, b in em.state_dict().items() if name not in params)
    return result, gouts


def run_case_on_cuda(case):
    """The case on CUDA tensors (module.cuda(), inputs .cuda()) against the same case on the CPU: outputs,
    input and parameter gradients and buffers, in each mode. Random modules only have to run."""
    rng = np.random.RandomState(abs(hash(case["name"])) % (2 ** 31))
    inputs = _make_inputs(case, rng)
    target = np.asarray(case["target_fn"](rng)) if "target_fn" in case else None
    cpu_module = build_ember(case)
    gpu_module = build_ember(case).cuda()
    for p in gpu_module.parameters():
        assert p.is_cuda, "{}: a parameter stayed on the CPU after .cuda()".format(case["name"])
    rtol, atol = case.get("rtol", 1e-6), case.get("atol", 1e-7)
    for mode in case.get("modes", ("train", "eval")):
        want, gouts = _forward_backward(case, cpu_module, inputs, target, None, mode, lambda t: t)
        got, _ = _forward_backward(case, gpu_module, inputs, target, gouts, mode, lambda t: t.cuda())
        assert sorted(got) == sorted(want), "{} [{}]: results {} != CPU {}".format(case["name"], mode,
                                                                                   sorted(got), sorted(want))
        if case.get("random"):
            continue
        for key in want:
            assert got[key].shape == want[key].shape, "{} [{}] {}: shape {} != CPU {}".format(
                case["name"], mode, key, got[key].shape, want[key].shape)
            np.testing.assert_allclose(got[key], want[key], rtol=max(rtol, 1e-6), atol=max(atol, 1e-7),
                                       err_msg="{} [{}] {} (CUDA vs CPU)".format(case["name"], mode, key))
