"""ember's compiled kernels (Cython). There is no pure-Python fallback: a missing build fails here."""
try:
    from . import openmp  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "ember's compiled extensions (ember._C) are missing or broken ({}). Install ember-core with pip "
        "(`pip install ./packages/core`), or build in place for development with "
        "`cd packages/core && python setup.py build_ext --inplace`.".format(e)) from e
