"""``RawKernel`` for ember's fake CUDA: the CUDA C source of a kernel, compiled for the host with g++ and
run one emulated thread at a time, so that CI runs the very kernel code that a GPU would.

A prelude maps the CUDA dialect onto C++: ``__global__``/``__device__`` vanish, ``threadIdx``,
``blockIdx``, ``blockDim`` and ``gridDim`` are thread-local variables that the launcher sets before it
calls the kernel for each (block, thread) of the grid in turn, ``atomicAdd`` is a plain add. What a serial
emulation cannot honour does not compile here (``__shared__``, ``__syncthreads``, warp functions): the
kernels ember launches are written so that no thread depends on another. ``min``/``max`` take integers only
(CUDA's float overloads drop NaNs, which kernels must decide on themselves).

The launcher checks each argument against the kernel's parameter as a GPU would need it and CuPy does not:
a device array for a pointer to elements of its size and kind (float or integer), C-contiguous (kernels
index raw memory) and on the current device; a NumPy scalar of the parameter's size and kind for a value
(CuPy passes Python ints as int64 and floats as float64, and so does this). Launch shapes are checked
against CUDA's limits, and arrays sit right before an inaccessible page (see ``_Guarded``), so an
out-of-bounds access fails here as it would on a GPU. Compiled kernels are cached on disk by a hash of
their source.
"""
import ctypes
import hashlib
import mmap
import os
import subprocess
import tempfile
import threading

import numpy as np

_PRELUDE = r"""
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

struct ember_uint3 { unsigned int x, y, z; };
static thread_local ember_uint3 threadIdx, blockIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)

// CUDA declares the float overloads of the math functions globally, as C++ does in std
using std::isnan;
using std::isinf;
using std::isfinite;
using std::exp;
using std::log;
using std::log1p;
using std::tanh;
using std::cos;
using std::tan;
using std::floor;
using std::ceil;
using std::sqrt;
using std::fabs;
using std::pow;

template <class A, class B> inline typename std::common_type<A, B>::type min(A a, B b) {
    static_assert(std::is_integral<A>::value && std::is_integral<B>::value, "min() on floats: decide on NaN");
    return b < a ? b : a;
}
template <class A, class B> inline typename std::common_type<A, B>::type max(A a, B b) {
    static_assert(std::is_integral<A>::value && std::is_integral<B>::value, "max() on floats: decide on NaN");
    return a < b ? b : a;
}
template <class T> inline T atomicAdd(T* address, T value) { T old = *address; *address = old + value; return old; }

namespace ember_emulation {
template <class T> int describe_one() {
    typedef typename std::remove_cv<T>::type U;
    if (std::is_pointer<U>::value) {
        typedef typename std::remove_cv<typename std::remove_pointer<U>::type>::type E;
        return 1000 + (std::is_floating_point<E>::value ? 100 : 0) + (int)sizeof(E);
    }
    return (std::is_floating_point<U>::value ? 100 : 0) + (int)sizeof(U);
}
template <class... A> int describe(void (*)(A...), int* out) {
    int codes[] = {describe_one<A>()..., 0};
    for (std::size_t i = 0; i < sizeof...(A); ++i) out[i] = codes[i];
    return (int)sizeof...(A);
}
template <class... A, std::size_t... I>
void call(void (*f)(A...), void** p, std::index_sequence<I...>) {
    f(*static_cast<typename std::remove_cv<A>::type*>(p[I])...);
}
template <class... A> void launch(void (*f)(A...), void** p, const unsigned* g, const unsigned* b) {
    gridDim = {g[0], g[1], g[2]};
    blockDim = {b[0], b[1], b[2]};
    for (unsigned bz = 0; bz < g[2]; ++bz)
    for (unsigned by = 0; by < g[1]; ++by)
    for (unsigned bx = 0; bx < g[0]; ++bx)
    for (unsigned tz = 0; tz < b[2]; ++tz)
    for (unsigned ty = 0; ty < b[1]; ++ty)
    for (unsigned tx = 0; tx < b[0]; ++tx) {
        blockIdx = {bx, by, bz};
        threadIdx = {tx, ty, tz};
        call(f, p, std::index_sequence_for<A...>{});
    }
}
}  // namespace ember_emulation
"""

_ENTRY = r"""
extern "C" int ember_describe(int* out) { return ember_emulation::describe(%(name)s, out); }
extern "C" void ember_launch(void** p, const unsigned* g, const unsigned* b) {
    ember_emulation::launch(%(name)s, p, g, b);
}
"""

_FLAGS = ("-std=c++17", "-O2", "-shared", "-fPIC")
_MAX_PARAMS = 64


# Guard pages: each array a kernel gets is copied to the end of its own pages, with an inaccessible page
# after it and one before the first, so a read or write past its end (or far before its start) stops the
# process with a segmentation fault (faulthandler names the launch) instead of passing unnoticed; on a GPU
# it would be an illegal address that ends the CUDA context. EMBER_FAKE_KERNEL_GUARD=0 passes arrays as
# they are (faster for big arrays).
_GUARD = os.environ.get("EMBER_FAKE_KERNEL_GUARD", "1") != "0"
_PAGE = mmap.PAGESIZE
_PROT_NONE = 0
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)


def _overlapping(arrays):
    """Whether two of the (index, NumPy array) pairs share memory: guarded copies would not."""
    spans = sorted((n.ctypes.data, n.ctypes.data + n.nbytes) for _, n in arrays if n.nbytes)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


class _Guarded(object):
    """Copies of ``arrays`` in one anonymous mapping, each ending where an inaccessible page starts."""

    def __init__(self, arrays):
        self.arrays = arrays
        sizes = [-(-n.nbytes // _PAGE) * _PAGE for n in arrays]
        self.map = mmap.mmap(-1, _PAGE + sum(sizes) + _PAGE * len(sizes))
        self._view = ctypes.c_char.from_buffer(self.map)
        base = ctypes.addressof(self._view)
        self._protect(base, _PROT_NONE)
        self.addresses, start = [], base + _PAGE
        for n, size in zip(arrays, sizes):
            end = start + size
            address = end - n.nbytes
            ctypes.memmove(address, n.ctypes.data, n.nbytes)
            self.addresses.append(address)
            self._protect(end, _PROT_NONE)
            start = end + _PAGE

    @staticmethod
    def _protect(address, prot):
        if _libc.mprotect(address, _PAGE, prot):
            raise OSError(ctypes.get_errno(), "mprotect failed")

    def copy_back(self):
        for n, address in zip(self.arrays, self.addresses):
            ctypes.memmove(n.ctypes.data, address, n.nbytes)

    def close(self):
        del self._view
        self.map.close()


class CompileException(Exception):
    """The kernel source did not compile (CuPy raises ``cupy.cuda.compiler.CompileException``)."""


def _cache_dir():
    d = os.environ.get("EMBER_FAKE_KERNEL_CACHE")
    if not d:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(base, "ember", "fake-kernels")
    os.makedirs(d, exist_ok=True)
    return d


_lock = threading.Lock()


def _library(source, name):
    """The shared library of ``source`` with the launch entry points of kernel ``name`` (compiled once)."""
    text = _PRELUDE + "#line 1 \"kernel\"\n" + source + _ENTRY % {"name": name}
    key = hashlib.sha256("\0".join((text,) + _FLAGS).encode()).hexdigest()[:32]
    path = os.path.join(_cache_dir(), key + ".so")
    with _lock:
        if not os.path.exists(path):
            with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as tmp:
                src = os.path.join(tmp, "kernel.cpp")
                with open(src, "w") as f:
                    f.write(text)
                out = os.path.join(tmp, "kernel.so")
                r = subprocess.run(("g++",) + _FLAGS + (src, "-o", out), capture_output=True, text=True)
                if r.returncode:
                    raise CompileException("kernel {} did not compile:\n{}".format(name, r.stderr))
                os.replace(out, path)  # atomic: another process never loads half a file
    return ctypes.CDLL(path)


def _dims(v, what):
    t = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    if not 1 <= len(t) <= 3:
        raise ValueError("{} must have 1 to 3 dimensions, got {!r}".format(what, v))
    t = tuple(int(e) for e in t) + (1,) * (3 - len(t))
    if any(e < 1 for e in t):
        raise ValueError("{} must be positive, got {!r}".format(what, v))
    return t


def _kind(code):
    return "{}{}-byte {}".format("pointer to " if code >= 1000 else "", code % 100,
                                 "float" if code % 1000 >= 100 else "integer")


class RawKernel(object):
    """CuPy's ``RawKernel(code, name, options=())``: launched as ``kernel(grid, block, args)``."""

    def __init__(self, code, name, options=(), backend="nvrtc", translate_cucomplex=False,
                 enable_cooperative_groups=False, jitify=False):
        if enable_cooperative_groups or jitify or translate_cucomplex:
            raise NotImplementedError("fake CUDA RawKernel: cooperative groups, jitify and cuComplex translation")
        self.code, self.name, self.options = code, name, tuple(options)
        self._lib = None
        self._params = None

    def _load(self):
        if self._lib is None:
            lib = _library(self.code, self.name)
            codes = (ctypes.c_int * _MAX_PARAMS)()
            n = lib.ember_describe(codes)
            lib.ember_launch.restype = None
            self._params = tuple(codes[:n])
            self._lib = lib
        return self._lib

    def compile(self, log_stream=None):
        self._load()

    def __call__(self, grid, block, args, shared_mem=0, stream=None, enable_cooperative_groups=False):
        from ember.cuda import _fake
        if shared_mem:
            raise NotImplementedError("fake CUDA RawKernel: dynamic shared memory (the emulation runs threads "
                                      "one at a time)")
        g, b = _dims(grid, "grid"), _dims(block, "block")
        if b[0] * b[1] * b[2] > 1024 or b[2] > 64:
            raise _fake.CUDARuntimeError("cudaErrorInvalidValue: block {} exceeds the device's limits".format(b))
        if g[0] >= 1 << 31 or g[1] > 65535 or g[2] > 65535:
            raise _fake.CUDARuntimeError("cudaErrorInvalidValue: grid {} exceeds the device's limits".format(g))
        lib = self._load()
        args = tuple(args)
        if len(args) != len(self._params):
            raise TypeError("kernel {} takes {} arguments, got {}".format(self.name, len(self._params), len(args)))
        device = _fake._current()
        keep, ptrs = [], (ctypes.c_void_p * max(len(args), 1))()
        for i, (a, code) in enumerate(zip(args, self._params)):
            buf = self._argument(a, code, i, device, _fake)
            keep.append(buf)
            ptrs[i] = ctypes.addressof(buf)
        arrays = [(i, a._n) for i, a in enumerate(args) if isinstance(a, _fake.ndarray)]
        guard = _Guarded([n for _, n in arrays]) if _GUARD and arrays and not _overlapping(arrays) else None
        if guard is not None:
            for (i, _), address in zip(arrays, guard.addresses):
                keep[i].value = address
        try:
            lib.ember_launch(ptrs, (ctypes.c_uint * 3)(*g), (ctypes.c_uint * 3)(*b))
        finally:
            if guard is not None:
                guard.copy_back()
                guard.close()

    def _argument(self, a, code, i, device, fake):
        """A ctypes buffer holding argument ``i`` as the kernel's parameter (code ``code``) reads it."""
        where = "kernel {} argument {}".format(self.name, i)
        if isinstance(a, fake.ndarray):
            n = a._n
            if code < 1000:
                raise TypeError("{}: an array where the kernel takes a {}".format(where, _kind(code)))
            if n.dtype.itemsize != code % 100 or (n.dtype.kind == "f") != (code % 1000 >= 100):
                raise TypeError("{}: a {} array where the kernel takes a {}".format(where, n.dtype, _kind(code)))
            if a._dev != device:
                raise ValueError("{}: the array is on device {}, the launch on device {}".format(where, a._dev, device))
            if not n.flags.c_contiguous:
                raise ValueError("{}: the array is not C-contiguous (kernels index raw memory)".format(where))
            return ctypes.c_void_p(n.ctypes.data)
        if isinstance(a, np.ndarray):
            raise TypeError("{}: a host array (numpy.ndarray) cannot be passed to a kernel".format(where))
        if isinstance(a, bool):
            a = np.bool_(a)
        elif isinstance(a, int):
            a = np.int64(a)
        elif isinstance(a, float):
            a = np.float64(a)
        if not isinstance(a, np.generic):
            raise TypeError("{}: unsupported type {}".format(where, type(a).__name__))
        if code >= 1000 or a.dtype.itemsize != code % 100 or (a.dtype.kind == "f") != (code >= 100):
            raise TypeError("{}: a {} scalar where the kernel takes a {}".format(where, a.dtype, _kind(code)))
        return ctypes.create_string_buffer(a.tobytes(), a.dtype.itemsize)
