"""ember.legacy.nn against real Lua Torch7 nn: the 245 forward/backward cases of
shared/data/t7/lua_nn_reference (INDEX.md describes the procedure and the fields).

Each case loads its .t7 file twice: once for the module/criterion to run (as stored, with the parameters
restored from ``params``, which were cloned before Lua's pass) and once, untouched, for the expected values
(outputs and modules in a file share tensors, so a module writing into its buffers would otherwise change
what it is compared with). Lua's 1-based data become 0-based Python data here, as a user porting Lua code
would do: class-index targets (LongTensor anywhere in a target, number targets of ClassNLLCriterion; the 0
terminator of MultiLabelMarginCriterion becomes -1) and LookupTable indices. Double cases must match to
1e-10, Float cases to 1e-5. A case whose module type (or a type inside it) ember.legacy.nn doesn't have
yet is skipped, naming the type. Every case also runs with the module on CUDA (``module.type()`` to the CUDA
twin of its tensor type, as Lua's ``:cuda()``), against the same Lua values."""
import csv
import math
import re

import numpy as np
import pytest

import ember
from ember.legacy.serialization import T7ReaderException, load_lua

from _helpers.data import shared_data

REF = shared_data("t7", "lua_nn_reference")


def _cases():
    with open(REF + "/MANIFEST.tsv") as f:
        return [row for row in csv.DictReader(f, delimiter="\t")]


CASES = _cases()
_UNKNOWN = re.compile(r"deserialize Lua class (nn\.\w+)")
# criteria whose number targets are class indices (tensor targets are indices when they are LongTensors)
_INDEX_NUMBER_TARGETS = {"nn.ClassNLLCriterion", "nn.CrossEntropyCriterion", "nn.ClassSimplexCriterion",
                         "nn.MultiMarginCriterion"}


def _load(name):
    try:
        return load_lua(REF + "/" + name)
    except T7ReaderException as e:
        m = _UNKNOWN.search(str(e))
        if m:
            pytest.skip("{} is not implemented in ember.legacy.nn yet".format(m.group(1)))
        raise


def _zero_based(x):
    """Lua's 1-based indices in a (nested) target or LookupTable input, 0-based."""
    if isinstance(x, list):
        return [_zero_based(v) for v in x]
    if ember.is_tensor(x):
        return x - 1
    return x


def _lua_target(module_type, target):
    if isinstance(target, list):
        return [_lua_target(module_type, t) for t in target]
    if isinstance(target, ember.LongTensor):
        return target - 1
    if isinstance(target, (int, float)) and module_type in _INDEX_NUMBER_TARGETS:
        return int(target) - 1
    return target


def _walk(obj, path):
    """The field at ``path`` ('weight', '2.1.bias': modules[1].modules[0].bias) of a module."""
    *parents, field = path.split(".")
    for p in parents:
        children = obj.modules if hasattr(obj, "modules") else obj.criterions
        obj = children[int(p) - 1]
    return getattr(obj, field)


def _check(actual, expected, tol, what):
    if isinstance(expected, list):
        assert isinstance(actual, list), "{}: expected a list (Lua table), got {}".format(what, type(actual))
        assert len(actual) == len(expected), "{}: {} elements, expected {}".format(what, len(actual), len(expected))
        for i, (a, e) in enumerate(zip(actual, expected)):
            _check(a, e, tol, "{}[{}]".format(what, i))
    elif ember.is_tensor(expected):
        assert ember.is_tensor(actual), "{}: expected a tensor, got {!r}".format(what, actual)
        assert actual.type() == expected.type(), "{}: {} instead of {}".format(what, actual.type(), expected.type())
        assert actual.size() == expected.size(), "{}: size {} instead of {}".format(what, actual.size(),
                                                                                    expected.size())
        if expected.numel():
            np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=tol, atol=tol, err_msg=what)
    else:
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), \
            "{}: expected a number, got {!r}".format(what, actual)
        assert math.isclose(actual, expected, rel_tol=tol, abs_tol=tol), "{}: {} != {}".format(what, actual,
                                                                                              expected)


def _on_cuda(tensor_type):
    """(to the GPU, back to the host) for a case's data: floating tensors become ``tensor_type``'s CUDA twin
    (the module is converted with ``type()``, as Lua's ``:cuda()``/``:type()``), index tensors move as they are."""
    cuda_type = tensor_type.replace("torch.", "torch.cuda.")

    def there(x):
        if isinstance(x, list):
            return [there(v) for v in x]
        if ember.is_tensor(x):
            return x.type(cuda_type) if type(x)._is_floating else x.cuda()
        return x

    def back(x):
        if isinstance(x, list):
            return [back(v) for v in x]
        return x.cpu() if ember.is_tensor(x) else x
    return cuda_type, there, back


def run_case(case, cuda=False):
    name = case["file"]
    rec = _load(name)
    want = _load(name)
    module_type = rec["moduleType"]
    module = rec["module"]
    assert repr(module).startswith(module_type), (repr(module), module_type)
    tol = 1e-5 if rec["tensorType"] == "torch.FloatTensor" else 1e-10

    params = rec.get("params") or {}
    for path, value in params.items():
        _walk(module, path).copy_(value)
    there = back = (lambda x: x)
    if cuda:
        cuda_type, there, back = _on_cuda(rec["tensorType"])
        module.type(cuda_type)

    if rec["kind"] == "criterion":
        target = there(_lua_target(module_type, rec["target"]))
        inp = there(rec["input"])
        loss = module.forward(inp, target)
        _check(loss, want["loss"], tol, "loss")
        grad_input = module.backward(inp, target)
        _check(back(grad_input), want["gradInput"], tol, "gradInput")
        return

    inp = rec["input"]
    if module_type == "nn.LookupTable":
        inp = _zero_based(inp)
    inp = there(inp)
    extra = rec.get("extra") or {}
    if "poolInput" in extra:  # SpatialMaxUnpooling: its pooling module ran first
        module.pooling.forward(there(extra["poolInput"]))
    getattr(module, rec["mode"])()
    module.zeroGradParameters()
    output = module.forward(inp)
    _check(back(output), want["output"], tol, "output")
    grad_input = module.backward(inp, there(rec["gradOutput"]))
    _check(back(grad_input), want["gradInput"], tol, "gradInput")
    for field in ("gradWeight", "gradBias"):
        if field in want:
            _check(back(getattr(module, field)), want[field], tol, field)
    for path, value in (want.get("gradParams") or {}).items():
        _check(back(_walk(module, path)), value, tol, path)
    # state the pass changed (BatchNormalization's running stats, LookupTable's max-norm renormalisation)
    for path in params:
        _check(back(_walk(module, path)), _walk(want["module"], path), tol, "module." + path + " after the pass")


@pytest.mark.parametrize("case", CASES, ids=[c["file"][:-3] for c in CASES])
def test_lua_nn_reference(case):
    run_case(case)


@pytest.mark.parametrize("case", CASES, ids=[c["file"][:-3] for c in CASES])
def test_lua_nn_reference_on_cuda(case, device_mode):
    if case["file"].startswith("Copy_"):
        pytest.skip("nn.Copy converts between its own intype/outtype: :type() rewrites both (Lua too)")
    run_case(case, cuda=True)
