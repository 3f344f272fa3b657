"""OpenMP thread control for ember's Cython kernels (a no-op build without OpenMP), and a cheap switch of
NumPy's BLAS to one thread around small products (ember/_ops/blas.py)."""
from posix.dlfcn cimport RTLD_LAZY, dlopen, dlsym

try:
    from numpy._core import _multiarray_umath    # NumPy 2
except ImportError:
    from numpy.core import _multiarray_umath

include "_blas_threads.pxi"

cdef BlasThreads _numpy_blas = _blas_thread_controls(_multiarray_umath.__file__)


def numpy_blas_single():
    """Make NumPy's BLAS single-threaded; returns what numpy_blas_restore needs (0: nothing to do)."""
    return _blas_single(&_numpy_blas)


def numpy_blas_restore(int n):
    _blas_restore(&_numpy_blas, n)


IF EMBER_OPENMP:
    cimport openmp

    def set_num_threads(int n):
        openmp.omp_set_num_threads(n)

    def get_max_threads():
        return openmp.omp_get_max_threads()

    has_openmp = True
ELSE:
    def set_num_threads(int n):
        pass

    def get_max_threads():
        return 1

    has_openmp = False
