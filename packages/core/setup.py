"""Build ember-core's Cython extensions (ember/_C/*.pyx).

Environment switches:
  EMBER_DEBUG=1          bounds checks and wraparound back on, -O0 -g
  EMBER_NO_OPENMP=1      build without OpenMP even when the compiler has it
  EMBER_ONLY=a,b         build only these extensions (fast rebuilds while developing one kernel file)
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
DEBUG = os.environ.get("EMBER_DEBUG") == "1"


def _compiler_has_openmp():
    if os.environ.get("EMBER_NO_OPENMP") == "1":
        return False
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        return False
    src = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.c")
        with open(path, "w") as f:
            f.write(src)
        res = subprocess.run([cc, "-fopenmp", path, "-o", os.path.join(tmp, "t")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return res.returncode == 0


def extensions():
    openmp = _compiler_has_openmp()
    compile_args = ["-O0", "-g"] if DEBUG else ["-O3"]
    link_args = []
    if openmp:
        compile_args.append("-fopenmp")
        link_args.append("-fopenmp")
    only = {s for s in os.environ.get("EMBER_ONLY", "").split(",") if s}
    exts = []
    # the C headers the kernels include: a change must rebuild them
    headers = sorted(os.path.relpath(h, HERE) for h in glob.glob(os.path.join(HERE, "src", "ember", "_C", "*.h")))
    for pyx in sorted(glob.glob(os.path.join(HERE, "src", "ember", "_C", "*.pyx"))):
        name = os.path.splitext(os.path.basename(pyx))[0]
        if only and name not in only:
            continue
        exts.append(Extension(
            "ember._C." + name,
            [os.path.relpath(pyx, HERE)],
            include_dirs=[numpy.get_include()],
            depends=headers,
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
        ))
    directives = {
        "language_level": 3,
        "boundscheck": DEBUG,
        "wraparound": DEBUG,
        "cdivision": True,
        "initializedcheck": DEBUG,
        "nonecheck": False,
        "embedsignature": True,
    }
    return cythonize(exts, compiler_directives=directives,
                     compile_time_env={"EMBER_OPENMP": openmp}, quiet=True)


setup(ext_modules=extensions())
