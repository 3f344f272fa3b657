"""embervision: torchvision 0.1.9 on ember (`import embervision as torchvision`).

Subpackages: models, datasets, transforms, utils.
"""
from embervision import models, datasets, transforms, utils

__all__ = ["models", "datasets", "transforms", "utils", "set_image_backend", "get_image_backend"]

__version__ = "0.1.9+ember.0.1.0"  # the torchvision API level, then ember-vision's own version

_image_backend = "PIL"


def set_image_backend(backend):
    """Choose the package used to load images: ``'PIL'`` or ``'accimage'``."""
    global _image_backend
    if backend not in ["PIL", "accimage"]:
        raise ValueError("Invalid backend '{}'. Options are 'PIL' and 'accimage'".format(backend))
    _image_backend = backend


def get_image_backend():
    """The name of the package used to load images."""
    return _image_backend
