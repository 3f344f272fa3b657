# Shared by the kernels that call a BLAS library from nogil code (conv.pyx and rnn.pyx: scipy's) and by
# openmp.pyx (NumPy's): the library's own thread-count setter and getter, found with dlsym, so that a
# caller can keep that BLAS single-threaded for a while. Needs `from posix.dlfcn cimport RTLD_LAZY, dlopen,
# dlsym` in the including module.
ctypedef void (*_set_threads_t)(int) noexcept nogil
ctypedef int (*_get_threads_t)() noexcept nogil


cdef struct BlasThreads:
    _set_threads_t set    # NULL when the library's threads can't be controlled (not OpenBLAS)
    _get_threads_t get


cdef BlasThreads _blas_thread_controls(str module_file):
    """The thread controls of the OpenBLAS that the extension module ``module_file`` links to (dlsym on
    the module searches its libraries)."""
    cdef BlasThreads b
    cdef void* h = dlopen(module_file.encode(), RTLD_LAZY)
    cdef void* s
    cdef void* g
    b.set = NULL
    b.get = NULL
    if h == NULL:
        return b
    for prefix in (b"scipy_openblas", b"openblas"):
        for suffix in (b"64_", b""):
            s = dlsym(h, prefix + b"_set_num_threads" + suffix)
            g = dlsym(h, prefix + b"_get_num_threads" + suffix)
            if s != NULL and g != NULL:
                b.set = <_set_threads_t>s
                b.get = <_get_threads_t>g
                return b
    return b


cdef int _blas_single(const BlasThreads* b) noexcept nogil:
    """Make the BLAS single-threaded; returns the count to hand back to _blas_restore (0: nothing)."""
    cdef int n = 0
    if b.set != NULL:
        n = b.get()
        if n > 1:
            b.set(1)
    return n


cdef void _blas_restore(const BlasThreads* b, int n) noexcept nogil:
    if b.set != NULL and n > 1:
        b.set(n)
