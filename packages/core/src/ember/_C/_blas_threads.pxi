# Shared by the kernels that call scipy's BLAS from nogil code (conv.pyx, rnn.pyx): the BLAS library's own
# thread-count setter, found with dlsym, so a kernel can keep BLAS single-threaded inside its OpenMP region.
# Needs `from posix.dlfcn cimport RTLD_LAZY, dlopen, dlsym` in the including module.
ctypedef void (*_set_threads_t)(int) noexcept nogil
ctypedef int (*_get_threads_t)() noexcept nogil
cdef _set_threads_t _blas_set = NULL
cdef _get_threads_t _blas_get = NULL


cdef void _find_blas_thread_controls():
    # dlsym on scipy's cython_blas module searches the BLAS library it links to
    global _blas_set, _blas_get
    import scipy.linalg.cython_blas as mod
    cdef void* h = dlopen(mod.__file__.encode(), RTLD_LAZY)
    if h == NULL:
        return
    cdef void* s
    cdef void* g
    for prefix in (b"scipy_openblas", b"openblas"):
        for suffix in (b"64_", b""):
            s = dlsym(h, prefix + b"_set_num_threads" + suffix)
            g = dlsym(h, prefix + b"_get_num_threads" + suffix)
            if s != NULL and g != NULL:
                _blas_set = <_set_threads_t>s
                _blas_get = <_get_threads_t>g
                return


_find_blas_thread_controls()
