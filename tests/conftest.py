import os
import sys

import pytest

try:  # the oracle first: on a CUDA machine, PyTorch loaded after CuPy crashed (their CUDA libraries clash)
    import torch  # noqa: F401
except ImportError:
    pass

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # tests/_helpers is importable as `_helpers`
    sys.path.insert(0, HERE)

pytest_plugins = ["_helpers.cuda_fixtures"]


def pytest_collection_modifyitems(config, items):
    from _helpers.devices import cuda_available
    if cuda_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA and CuPy")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
