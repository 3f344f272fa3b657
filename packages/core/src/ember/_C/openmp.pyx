"""OpenMP thread control for ember's Cython kernels (a no-op build without OpenMP)."""

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
