"""set_num_threads drives OpenMP (ember's kernels) and the BLAS pools (threadpoolctl)."""
import subprocess
import sys

import pytest

import ember


def test_set_get_num_threads_roundtrip_and_blas_limits():
    code = """
import ember
from threadpoolctl import threadpool_info
from ember._C import openmp
ember.set_num_threads(1)
assert ember.get_num_threads() == 1
assert openmp.get_max_threads() == 1, openmp.get_max_threads()
blas = [p for p in threadpool_info() if p['user_api'] == 'blas']
assert blas and all(p['num_threads'] == 1 for p in blas), blas
import numpy as np
a = np.random.RandomState(0).rand(300, 300)
want = np.einsum("ij,jk->ik", a, a)  # no BLAS
assert np.allclose(a @ a, want)  # one thread: BLAS computes in the caller (its pool was ended)
ember.set_num_threads(2)
assert ember.get_num_threads() == 2 and openmp.get_max_threads() == 2
blas = [p for p in threadpool_info() if p['user_api'] == 'blas']
assert all(p['num_threads'] == 2 for p in blas), blas
assert np.allclose(a @ a, want)  # the pool comes back on demand
print('ok')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_default_uses_available_cores():
    import os
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    code = "import ember; print(ember.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == n


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_invalid_thread_counts(bad):
    with pytest.raises(ValueError, match="set_num_threads expects a positive int"):
        ember.set_num_threads(bad)


def test_cudnn_flags_without_cuda():
    from ember.backends import cudnn
    assert cudnn.enabled is True and cudnn.benchmark is False
    if not ember.cuda.is_available():
        assert cudnn.version() is None
        assert cudnn.is_acceptable(ember.FloatTensor(1)) is False


def test_backcompat_warnings_toggle():
    from ember.utils import backcompat
    for w in (backcompat.broadcast_warning, backcompat.keepdim_warning):
        assert w.enabled is False
        w.enabled = True
        assert w.get_enabled() is True
        w.set_enabled(False)
        assert w.enabled is False


def test_small_products_run_numpy_blas_on_one_thread(monkeypatch):
    # OpenBLAS's idle workers spin after a threaded call: small products keep them asleep
    from threadpoolctl import threadpool_info
    from ember._C import openmp
    from ember._ops import blas
    import numpy as np

    def numpy_blas_threads():
        libs = [p for p in threadpool_info() if p["user_api"] == "blas" and "numpy" in p["filepath"]]
        return libs[0]["num_threads"] if libs else None

    old = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        if numpy_blas_threads() is None:
            pytest.skip("NumPy's BLAS is not an OpenBLAS threadpoolctl sees")
        saved = openmp.numpy_blas_single()
        assert saved == 2 and numpy_blas_threads() == 1
        openmp.numpy_blas_restore(saved)
        assert numpy_blas_threads() == 2

        seen = []
        real = np.matmul

        def spy(a, b, out=None):
            seen.append(numpy_blas_threads())
            return real(a, b, out=out)

        monkeypatch.setattr(blas.np, "matmul", spy)
        rng = np.random.default_rng(0)
        # 1.2M multiply-adds: threaded by OpenBLAS (over 2^18), too small to be worth it (under 2^26)
        small = rng.standard_normal((100, 120)).astype(np.float32)
        want = np.einsum("ij,jk->ik", small, small.T.copy())
        for got in (ember.from_numpy(small).mm(ember.from_numpy(small).t()),
                    ember.addmm(ember.zeros(100, 100), ember.from_numpy(small), ember.from_numpy(small).t()),
                    ember.from_numpy(small) @ ember.from_numpy(small.T.copy())):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-4)
        assert seen == [1, 1, 1]
        seen.clear()
        tiny = ember.FloatTensor(8, 8).fill_(1)
        tiny.mm(tiny)  # OpenBLAS runs it on the caller anyway: no switch
        assert seen == [2]
        assert numpy_blas_threads() == 2  # given back
        big = ember.FloatTensor(512, 512).zero_()
        seen.clear()
        big.mm(big)  # 2^27 multiply-adds: worth the threads
        assert seen == [2]
    finally:
        ember.set_num_threads(old)
