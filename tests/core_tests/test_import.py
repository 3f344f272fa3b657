"""`import ember` stays light: SciPy's special functions and LAPACK wrappers load on first use."""
import subprocess
import sys


def test_import_does_not_load_scipy_special_or_linalg():
    code = ("import sys, ember\n"
            "heavy = [m for m in ('scipy.special', 'scipy.linalg') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "x = ember.DoubleTensor([0.5, 2.0])\n"
            "assert abs(x.lgamma()[1]) < 1e-12 and abs(x.sigmoid()[0] - 0.6224593312018546) < 1e-12\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_star_import_exports_what_0_2_torch_all_listed():
    import types
    import ember
    ns = {}
    exec("from ember import *", ns)
    # 0.2's Python part of torch.__all__, the types, and torch._C functions (a sample of the documented ones)
    listed = ["typename", "is_tensor", "is_storage", "set_default_tensor_type", "set_rng_state", "get_rng_state",
              "manual_seed", "initial_seed", "save", "load", "set_printoptions", "chunk", "split", "stack",
              "matmul", "DoubleStorage", "ByteStorage", "FloatTensor", "LongTensor", "ByteTensor", "abs", "addmm",
              "cat", "from_numpy", "get_num_threads", "set_num_threads", "numel", "zeros", "randn", "Size",
              "Generator", "has_cudnn"]
    assert [n for n in listed if n not in ns] == []
    assert all(ns[n] is getattr(ember, n) for n in listed if n != "has_cudnn")
    assert ns["has_cudnn"] is ember.has_cudnn and isinstance(ember.has_cudnn, bool)
    # not in 0.2's list: ember extras, Tensor/Storage, private names and submodules
    assert [n for n in ("zeros_like", "ones_like", "take", "seed", "Tensor", "Storage", "cuda", "autograd",
                        "tensor", "storage") if n in ns] == []
    assert not [n for n, v in ns.items() if n != "__builtins__" and (n.startswith("_")
                                                                     or isinstance(v, types.ModuleType))]
    assert len(ember.__all__) == len(set(ember.__all__))
