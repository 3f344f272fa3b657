# Shared by the kernels that run one of NumPy's own inner loops (its SIMD exp, log1p, trunc, ...) on parts
# of arrays from nogil code (elementwise.pyx, nn_activation.pyx). Needs `cimport numpy as cnp` and
# `import numpy as np` in the including module.
ctypedef void (*loop_t)(char **, cnp.npy_intp *, cnp.npy_intp *, void *) noexcept nogil


cdef int _numpy_loop(cnp.ufunc ufunc, object dtype, loop_t *f, void **data) except -1:
    """The inner loop of ``ufunc`` whose inputs and output all have ``dtype`` (the one NumPy itself picks)."""
    cdef cnp.dtype dt = np.dtype(dtype)
    cdef int i
    # ``ufunc.types`` (public: 'ff->f', ...) lists the legacy loops in the order of the functions/data
    # tables; the raw type table is not part of NumPy 2.5's Cython declarations any more (and, where it
    # is, ``ufunc.types`` would read it, hence the Python-level lookup)
    signatures = getattr(ufunc, "types")
    if len(signatures) != ufunc.ntypes:
        raise RuntimeError("{}.types lists {} loops but the ufunc has {}"
                           .format(ufunc.__name__, len(signatures), ufunc.ntypes))
    wanted = dt.char * ufunc.nin + "->" + dt.char
    for i in range(ufunc.ntypes):
        if signatures[i] == wanted:
            # the first match is the loop NumPy itself picks (its SIMD dispatch fills this slot)
            f[0] = <loop_t><void *>ufunc.functions[i]
            data[0] = ufunc.data[i]
            return 0
    raise TypeError("{} has no loop for {}".format(ufunc.__name__, dt))


cdef inline void _unary_loop(loop_t f, void *data, void *src, void *dst, cnp.npy_intp n,
                             cnp.npy_intp size) noexcept nogil:
    """dst[:n] = ufunc(src[:n]) for contiguous elements of ``size`` bytes (src may be dst)."""
    cdef char *args[2]
    cdef cnp.npy_intp steps[2]
    args[0] = <char *>src
    args[1] = <char *>dst
    steps[0] = size
    steps[1] = size
    f(args, &n, steps, data)
