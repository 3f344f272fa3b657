"""MNIST (torchvision 0.1.9) and, as an ember extra, Fashion-MNIST.

Layout under ``root``: ``raw/`` holds the four idx files (gzipped as downloaded, or decompressed as
0.1.9 left them), ``processed/`` holds ``training.pt`` / ``test.pt`` (``ember.save`` of
``(ByteTensor N x 28 x 28, LongTensor N)``, readable by PyTorch too). ember extras: raw files already on
disk are processed without ``download=True`` (a split needs only its own pair), downloads are checked
against the published md5s, and a read-only ``processed/`` leaves the data in memory with a warning.
"""
import gzip
import os
import warnings
import zlib

import numpy as np
from PIL import Image

import ember
from ember.utils import data

from .utils import _not_found, download_url


class MNIST(data.Dataset):
    """MNIST: items are ``(PIL Image mode 'L', int target)``.

    Args: root (the folder holding ``raw/`` and ``processed/``), train (training or test split),
    transform / target_transform (applied to the image / the target), download (fetch the raw files
    when the processed split is missing)."""
    urls = [
        "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
        "http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz",
        "http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz",
        "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz",
    ]
    md5 = {  # ember extra: file name -> md5 of the published file
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    raw_folder = "raw"
    processed_folder = "processed"
    training_file = "training.pt"
    test_file = "test.pt"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(root)
        self.transform = transform
        self.target_transform = target_transform
        self.train = train  # training set or test set
        if download:
            self.download()
        if self.train:
            self.train_data, self.train_labels = self._load_split(True)
        else:
            self.test_data, self.test_labels = self._load_split(False)

    def __getitem__(self, index):
        if self.train:
            img, target = self.train_data[index], self.train_labels[index]
        else:
            img, target = self.test_data[index], self.test_labels[index]
        # a PIL Image, as every other dataset returns
        img = Image.fromarray(img.numpy())
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.train_data) if self.train else len(self.test_data)

    def _check_exists(self):
        return all(os.path.exists(os.path.join(self.root, self.processed_folder, f))
                   for f in (self.training_file, self.test_file))

    def download(self):
        """Download the raw files that are missing (or fail their md5) and process both splits."""
        if self._check_exists():
            return
        raw = os.path.join(self.root, self.raw_folder)
        for url in self.urls:
            name = os.path.basename(url)
            if name.endswith(".gz") and os.path.isfile(os.path.join(raw, name[:-3])):
                continue  # already decompressed, as 0.1.9 left its raw files
            download_url(url, raw, name, self.md5.get(name))
        print("Processing...")
        self._load_split(True)
        self._load_split(False)
        print("Done!")

    def _raw_names(self, train):
        names = [os.path.basename(u) for u in self.urls]
        names = names[:2] if train else names[2:4]
        return [n[:-3] if n.endswith(".gz") else n for n in names]

    def _load_split(self, train):
        processed = os.path.join(self.root, self.processed_folder, self.training_file if train else self.test_file)
        if os.path.exists(processed):
            return _read_processed(processed, type(self).__name__)
        raw = os.path.join(self.root, self.raw_folder)
        paths = []
        for name in self._raw_names(train):
            found = [p for p in (os.path.join(raw, name), os.path.join(raw, name + ".gz")) if os.path.isfile(p)]
            if not found:
                raise _not_found(type(self).__name__, "{} (or the raw file {}.gz)".format(
                    processed, os.path.join(raw, name)))
            paths.append(found[0])
        images, labels = read_image_file(paths[0]), read_label_file(paths[1])
        if len(images) != len(labels):
            raise RuntimeError("{}: {} has {} images but {} has {} labels".format(
                type(self).__name__, paths[0], len(images), paths[1], len(labels)))
        try:
            os.makedirs(os.path.dirname(processed), exist_ok=True)
            ember.save((images, labels), processed)
        except OSError as e:
            warnings.warn("{}: could not write {} ({}); the processed data is kept in memory only"
                          .format(type(self).__name__, processed, e))
        return images, labels


class FashionMNIST(MNIST):
    """Fashion-MNIST (an ember extra, as torchvision added later): MNIST's format and layout."""
    urls = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
    ]
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


def _read_idx(path, magic, ndim):
    """The header dims and the payload of an idx file (gzipped when its name ends in .gz)."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            with open(path, "rb") as f:
                raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise RuntimeError("{}: corrupt gzip file ({})".format(path, e)) from e
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise RuntimeError("{}: truncated idx file ({} bytes)".format(path, len(raw)))
    fields = np.frombuffer(raw, dtype=">i4", count=1 + ndim)
    if fields[0] != magic:
        raise RuntimeError("{}: not an idx file of {} (magic number {}, expected {})".format(
            path, "images" if ndim == 3 else "labels", int(fields[0]), magic))
    dims = [int(d) for d in fields[1:]]
    expected = int(np.prod(dims))
    if min(dims) < 0 or len(raw) - header != expected:
        raise RuntimeError("{}: corrupt idx file (header says {} but the file holds {} bytes of data)".format(
            path, " x ".join(map(str, dims)), len(raw) - header))
    return dims, np.frombuffer(raw, dtype=np.uint8, offset=header)


def read_image_file(path):
    """An idx3 image file (magic 2051) as a ByteTensor N x rows x cols."""
    dims, payload = _read_idx(path, 2051, 3)
    return ember.from_numpy(payload.reshape(dims).copy())


def read_label_file(path):
    """An idx1 label file (magic 2049) as a LongTensor N."""
    dims, payload = _read_idx(path, 2049, 1)
    return ember.from_numpy(payload.astype(np.int64))


def _read_processed(path, dataset):
    try:
        obj = ember.load(path, weights_only=True)
    except Exception as e:
        raise RuntimeError("{}: {} is corrupt ({}); delete it to rebuild it from the raw files"
                           .format(dataset, path, e)) from e
    if not (isinstance(obj, (tuple, list)) and len(obj) == 2 and isinstance(obj[0], ember.ByteTensor)
            and isinstance(obj[1], ember.LongTensor) and obj[0].dim() == 3 and obj[1].dim() == 1
            and obj[0].size(0) == obj[1].size(0)):
        raise RuntimeError("{}: {} is not a processed MNIST split (expected a pair (ByteTensor N x H x W, "
                           "LongTensor N)); delete it to rebuild it from the raw files".format(dataset, path))
    return obj[0], obj[1]
