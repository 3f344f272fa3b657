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
