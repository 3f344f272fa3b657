"""Where the CUDA libraries ember loads through ctypes may be: the ``nvidia-*`` wheels (PyTorch's and
CuPy's CUDA dependencies, under the ``nvidia`` namespace package), the CUDA toolkit, the system's
loader path."""
import ctypes.util
import glob
import os


def candidates(name):
    """Paths (newest version first within each place) and sonames to try for ``lib<name>.so``."""
    paths = []
    try:
        import nvidia
        for root in nvidia.__path__:
            paths += sorted(glob.glob(os.path.join(root, "*", "lib", "lib{}.so.*".format(name))), reverse=True)
    except ImportError:
        pass
    paths += sorted(glob.glob("/usr/local/cuda*/lib64/lib{}.so.*".format(name)), reverse=True)
    found = ctypes.util.find_library(name)
    return [p for p in paths if ".alt." not in p] + ([found] if found else [])
