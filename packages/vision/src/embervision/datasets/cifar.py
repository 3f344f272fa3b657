"""CIFAR10 / CIFAR100 (torchvision 0.1.9): the python-pickle batches of the official archives.

The batches are read with a restricted unpickler that resolves only NumPy's array reconstruction, so a
hostile file can't run code. ember extra: only the split that is asked for has to be present.
"""
import codecs
import os
import pickle

import numpy as np
from PIL import Image

from ember.utils import data

from .utils import _extract, _not_found, check_integrity, download_url


class CIFAR10(data.Dataset):
    """CIFAR-10: items are ``(PIL Image RGB 32x32, int target)``; ``train_data`` / ``test_data`` are
    uint8 arrays N x 32 x 32 x 3 and ``train_labels`` / ``test_labels`` lists of ints."""
    base_folder = "cifar-10-batches-py"
    url = "http://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cd2ae1bea35b8a83a4b9c5a3f1b8d"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [
        ["test_batch", "40351d587109b95175f43aff81a1287e"],
    ]
    _label_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(root)
        self.transform = transform
        self.target_transform = target_transform
        self.train = train  # training set or test set
        if download:
            self.download()
        files = self.train_list if train else self.test_list
        if not self._check_integrity(files):
            raise _not_found(type(self).__name__, self._first_bad(files), corrupted=True)
        images, labels = [], []
        for name, _ in files:
            batch = _load_pickle(os.path.join(self.root, self.base_folder, name))
            x, y = _batch_arrays(batch, self._label_key, os.path.join(self.root, self.base_folder, name))
            images.append(x)
            labels += y
        images = np.concatenate(images).reshape((-1, 3, 32, 32)).transpose((0, 2, 3, 1))  # to HWC
        if train:
            self.train_data, self.train_labels = images, labels
        else:
            self.test_data, self.test_labels = images, labels

    def __getitem__(self, index):
        if self.train:
            img, target = self.train_data[index], self.train_labels[index]
        else:
            img, target = self.test_data[index], self.test_labels[index]
        # a PIL Image, as every other dataset returns
        img = Image.fromarray(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.train_data) if self.train else len(self.test_data)

    def _check_integrity(self, files=None):
        files = self.train_list + self.test_list if files is None else files
        return all(check_integrity(os.path.join(self.root, self.base_folder, name), md5) for name, md5 in files)

    def _first_bad(self, files):
        for name, md5 in files:
            path = os.path.join(self.root, self.base_folder, name)
            if not check_integrity(path, md5):
                return path

    def download(self):
        """Download the archive (md5-checked) and extract it, unless the batches are already intact."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        download_url(self.url, self.root, self.filename, self.tgz_md5)
        _extract(os.path.join(self.root, self.filename), self.root)


class CIFAR100(CIFAR10):
    """CIFAR-100 with its fine labels (``train_labels`` / ``test_labels`` hold 0..99)."""
    base_folder = "cifar-100-python"
    url = "http://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [
        ["train", "16019d7e3df5f24257cddd939b257f8d"],
    ]
    test_list = [
        ["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"],
    ]
    _label_key = "fine_labels"


def _numpy_reconstruct():
    core = getattr(np, "_core", None) or np.core
    return core.multiarray._reconstruct, core.multiarray.scalar


class _ArrayUnpickler(pickle.Unpickler):
    """Resolves only the globals a pickled NumPy array needs (``_codecs.encode`` carries the bytes of arrays
    pickled by Python 3 at protocol 2)."""

    def find_class(self, module, name):
        if module == "_codecs" and name == "encode":
            return codecs.encode
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in ("_reconstruct", "scalar"):
            reconstruct, scalar = _numpy_reconstruct()
            return reconstruct if name == "_reconstruct" else scalar
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        raise pickle.UnpicklingError("global '{}.{}' is not allowed in a dataset file".format(module, name))


def _load_pickle(path):
    """A CIFAR batch: a dict pickled by Python 2 (str keys come back as str through latin1)."""
    try:
        with open(path, "rb") as f:
            return _ArrayUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise RuntimeError("{}: corrupt CIFAR batch ({})".format(path, e)) from e


def _batch_arrays(batch, label_key, path):
    if not isinstance(batch, dict):
        raise RuntimeError("{}: corrupt CIFAR batch (a {} instead of a dict)".format(path, type(batch).__name__))
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    x, y = batch.get("data"), batch.get(label_key)
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3 * 32 * 32:
        raise RuntimeError("{}: corrupt CIFAR batch ('data' should be a uint8 array N x 3072, got {})".format(
            path, getattr(x, "shape", type(x).__name__)))
    if y is None or len(y) != len(x):
        raise RuntimeError("{}: corrupt CIFAR batch ('{}' should hold {} labels)".format(path, label_key, len(x)))
    return x, [int(v) for v in y]
