"""ember's CUDA C kernels (``ember.kernels.cuda._raw``): every one compiles for a real GPU, with NVRTC (what
CuPy's RawKernel compiles with: no host headers) and nvcc, where installed (no GPU is needed to compile);
and the fake CUDA's RawKernel, which runs them on the host in CI, checks launches as strictly as a GPU
would need. The kernels' results are tested through the ops that use them (the ``device_mode`` tests of
each kernel family compare them with the CPU kernels)."""
import ctypes
import glob
import importlib
import os
import pkgutil
import shutil
import subprocess

import numpy as np
import pytest

import ember.kernels.cuda
from ember import _backend
from ember.cuda import _fake, _fake_kernels
from ember.kernels.cuda import _raw

NVCC = shutil.which("nvcc")


def _nvrtc():
    """libnvrtc from the nvidia-cuda-nvrtc wheel or the CUDA toolkit, or None."""
    from ember.cuda import _libraries
    for path in _libraries.candidates("nvrtc"):
        try:
            # NVRTC opens its builtins library by name: load the one beside it first
            for b in glob.glob(os.path.join(os.path.dirname(path), "libnvrtc-builtins.so.*")):
                if ".alt." not in b:
                    ctypes.CDLL(b, mode=ctypes.RTLD_GLOBAL)
            return ctypes.CDLL(path)
        except OSError:
            pass
    return None


NVRTC = _nvrtc()


def _nvrtc_compile(code, name, options):
    """NVRTC's log for ``code``, or None when it compiled."""
    lib, prog = NVRTC, ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), code.encode(), (name + ".cu").encode(), 0, None, None) == 0
    try:
        opts = (ctypes.c_char_p * len(options))(*(o.encode() for o in options))
        if lib.nvrtcCompileProgram(prog, len(options), opts) == 0:
            return None
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        return log.value.decode(errors="replace")
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


def _all_kernels():
    for m in pkgutil.iter_modules(ember.kernels.cuda.__path__):
        importlib.import_module("ember.kernels.cuda." + m.name)
    return sorted(_raw.registered().items())


@pytest.mark.skipif(NVCC is None, reason="needs nvcc (the CUDA toolkit)")
@pytest.mark.parametrize("scalar,index", [(np.float32, np.int32), (np.float64, np.int64)])
def test_every_kernel_compiles_for_the_gpu(tmp_path, scalar, index):
    """The sources as CuPy gives them to NVRTC: no host headers, warnings as errors, sm_90 code (ptxas runs)."""
    kernels = _all_kernels()
    assert len(kernels) >= 6
    failures = []
    for name, kernel in kernels:
        full, code = kernel.variant(scalar, index)
        src = tmp_path / (full + ".cu")
        src.write_text(code)
        r = subprocess.run([NVCC, "-cubin", "-arch=sm_90", "-Werror", "all-warnings", "-o",
                            str(tmp_path / (full + ".cubin")), str(src)], capture_output=True, text=True)
        if r.returncode:
            failures.append("{}:\n{}".format(full, r.stdout + r.stderr))
        else:
            # the kernel is there under its unique name
            assert full.encode() in (tmp_path / (full + ".cubin")).read_bytes()
    assert not failures, "\n".join(failures)


@pytest.mark.skipif(NVRTC is None, reason="needs NVRTC (the CUDA toolkit or the nvidia-cuda-nvrtc wheel)")
def test_every_kernel_compiles_with_nvrtc():
    """Exactly what CuPy's RawKernel does with a source on an sm_90 device (CuPy adds no headers to it)."""
    failures = []
    for name, kernel in _all_kernels():
        for scalar, index in [(np.float32, np.int32), (np.float64, np.int64)]:
            full, code = kernel.variant(scalar, index)
            log = _nvrtc_compile(code, full, ["--gpu-architecture=compute_90", "--std=c++17"])
            if log is not None:
                failures.append("{}:\n{}".format(full, log))
    assert not failures, "\n".join(failures)


def test_variants_have_unique_names():
    names = [k.variant(s, i)[0] for _, k in _all_kernels() for s in (np.float32, np.float64)
             for i in (np.int32, np.int64)]
    assert len(set(names)) == len(names)
    with pytest.raises(ValueError, match="already defined"):
        _raw.Kernel("im2col", "")


# ---------------------------------------------------------------------- the fake's RawKernel

_AXPY = r"""
extern "C" __global__ void axpy(const float* x, float* y, float a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}
"""


def test_fake_raw_kernel_runs_every_thread_of_the_grid(fake_cuda):
    xp = _backend.cupy
    x, y = xp.arange(1000, dtype=np.float32), xp.ones(1000, np.float32)
    k = _fake.RawKernel(_AXPY, "axpy")
    k((4,), (256,), (x, y, np.float32(2), np.int32(1000)))  # 1024 threads, the last 24 idle
    np.testing.assert_array_equal(xp.asnumpy(y), 1 + 2 * np.arange(1000, dtype=np.float32))
    k((2,), (256,), (x, y, np.float32(-2), np.int32(1000)))  # too few threads: the tail stays as it was
    got = xp.asnumpy(y)
    assert (got[:512] == 1).all() and (got[512:] == 1 + 2 * np.arange(512, 1000)).all()


def test_fake_raw_kernel_sees_block_and_grid_indices(fake_cuda):
    xp = _backend.cupy
    out = xp.zeros((2, 3, 4, 5), np.int32)
    k = _fake.RawKernel(r"""
extern "C" __global__ void where(int* out) {
    int i = ((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    out[i] = blockIdx.y * 1000 + blockIdx.x * 100 + threadIdx.y * 10 + threadIdx.x;
}""", "where")
    k((3, 2), (5, 4), (out,))
    b_y, b_x, t_y, t_x = np.indices((2, 3, 4, 5))
    np.testing.assert_array_equal(xp.asnumpy(out), b_y * 1000 + b_x * 100 + t_y * 10 + t_x)


def test_fake_raw_kernel_checks_arguments_as_a_gpu_needs_them(fake_cuda):
    xp = _backend.cupy
    k = _fake.RawKernel(_AXPY, "axpy")
    x, y = xp.zeros(8, np.float32), xp.zeros(8, np.float32)
    with pytest.raises(TypeError, match=r"argument 0: a float64 array where the kernel takes a pointer to "
                                        r"4-byte float"):
        k((1,), (8,), (xp.zeros(8), y, np.float32(1), np.int32(8)))
    with pytest.raises(TypeError, match=r"argument 3: a int64 scalar where the kernel takes a 4-byte integer"):
        k((1,), (8,), (x, y, np.float32(1), 8))  # a Python int goes as int64, as CuPy passes it
    with pytest.raises(TypeError, match=r"argument 2: an array where the kernel takes a 4-byte float"):
        k((1,), (8,), (x, y, x, np.int32(8)))
    with pytest.raises(TypeError, match=r"argument 0: a host array"):
        k((1,), (8,), (np.zeros(8, np.float32), y, np.float32(1), np.int32(8)))
    with pytest.raises(ValueError, match=r"argument 0: the array is not C-contiguous"):
        k((1,), (4,), (xp.zeros(16, np.float32)[::2], y, np.float32(1), np.int32(4)))
    with pytest.raises(TypeError, match="takes 4 arguments, got 3"):
        k((1,), (8,), (x, y, np.float32(1)))
    with _fake.Device(1):
        with pytest.raises(ValueError, match=r"argument 0: the array is on device 0, the launch on device 1"):
            k((1,), (8,), (x, y, np.float32(1), np.int32(8)))
    with pytest.raises(_fake.CUDARuntimeError, match="block"):
        k((1,), (2048,), (x, y, np.float32(1), np.int32(8)))
    with pytest.raises(_fake.CUDARuntimeError, match="grid"):
        k((1, 70000), (1,), (x, y, np.float32(1), np.int32(8)))


@pytest.mark.parametrize("body", [
    "__shared__ float s[4]; s[0] = x[0];",  # threads run one at a time: nothing to share
    "__syncthreads();",
    "x[0] = max(x[0], 1.0f);",  # CUDA's float max drops NaNs: kernels must say what they mean
    "x[0] = undefined_name;",
])
def test_fake_raw_kernel_refuses_what_it_cannot_emulate(fake_cuda, body):
    k = _fake.RawKernel('extern "C" __global__ void bad(float* x) { ' + body + ' }', "bad")
    with pytest.raises(_fake_kernels.CompileException, match="kernel bad did not compile"):
        k((1,), (1,), (_backend.cupy.zeros(1, np.float32),))


def test_kernel_launch_converts_python_numbers_and_picks_the_index_type(fake_cuda):
    xp = _backend.cupy
    k = _raw.Kernel("test_fill_scaled", r"""
extern "C" __global__ void test_fill_scaled(scalar_t* y, scalar_t a, index_t n) {
    EMBER_LOOP(i, n) { y[i] = a * (scalar_t)i; }
}""")
    try:
        for dtype in (np.float32, np.float64):
            y = xp.empty(70000, dtype)
            k(y.size, y, 0.5, y.size, dtype=dtype)
            np.testing.assert_array_equal(xp.asnumpy(y), 0.5 * np.arange(70000, dtype=dtype))
        assert "ember_test_fill_scaled_f32_i32" in k.variant(np.float32, np.int32)[0]
        k(0, xp.empty(0, np.float32), 1.0, 0, dtype=np.float32)  # nothing to do: no launch
        with pytest.raises(TypeError, match="numpy.int32, not bool"):
            k(1, xp.empty(1, np.float32), True, 1, dtype=np.float32)
    finally:
        del _raw._registry["test_fill_scaled"]


def test_index_type_widens_before_anything_overflows():
    class Big(object):
        size = 1 << 31
    assert _raw.index_type(1000, (Big.__new__(Big),)) is np.int64
    assert _raw.index_type(1000, (np.zeros(3), 5, 1.0)) is np.int32
    # the last grid-stride step goes up to blocks * block past n: int32 stops well short of 2**31
    limit = (1 << 31) - _raw.BLOCK * _raw._MAX_BLOCKS
    assert _raw.index_type(limit - 1, ()) is np.int32 and _raw.index_type(limit, ()) is np.int64


_READ_PAST = r'''
import numpy as np
from ember import _backend
_backend.use_fake_cuda(True)
from ember.cuda import _fake
xp = _backend.cupy
x, y = xp.ones(5, np.float32), xp.zeros(8, np.float32)
k = _fake.RawKernel(r"""
extern "C" __global__ void copy(const float* x, float* y, int n) {
    for (int i = 0; i < n; ++i) y[i] = x[i];
}""", "copy")
k((1,), (1,), (x, y, np.int32(N)))
print("copied", xp.asnumpy(y).tolist())
'''


@pytest.mark.parametrize("n,ok", [(5, True), (6, False), (9, False)])
def test_fake_raw_kernel_stops_at_an_access_past_an_array(n, ok):
    """Arrays reach kernels with an inaccessible page right after them: reading x[5] of 5 elements (or
    writing y[8] of 8) ends the process, where the GPU would have raised an illegal address."""
    import sys
    code = _READ_PAST.replace("N)", "{})".format(n))
    r = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code], capture_output=True, text=True, timeout=120)
    if ok:
        assert r.returncode == 0 and "copied [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]" in r.stdout, r.stderr
    else:
        assert r.returncode != 0 and "Segmentation fault" in r.stderr
