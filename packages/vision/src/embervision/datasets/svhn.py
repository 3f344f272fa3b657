"""SVHN (torchvision 0.1.9): the cropped-digits ``.mat`` files (``X``: 32 x 32 x 3 x N, ``y``: N x 1)."""
import os

import numpy as np
from PIL import Image

from ember.utils import data

from .utils import _not_found, check_integrity, download_url


class SVHN(data.Dataset):
    """SVHN: items are ``(PIL Image RGB 32x32, int target)``; the digit 0, stored as label 10, is 0.

    split: 'train', 'test' or 'extra'. ``data`` is uint8 N x 3 x 32 x 32, ``labels`` int64 N."""
    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(root)
        self.transform = transform
        self.target_transform = target_transform
        self.split = split  # training set or test set or extra set
        if self.split not in self.split_list:
            raise ValueError('Wrong split entered! Please use split="train" or split="extra" or split="test"')
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        path = os.path.join(self.root, self.filename)
        if not self._check_integrity():
            raise _not_found("SVHN", path, corrupted=True)
        import scipy.io as sio  # ember-core depends on SciPy
        try:
            loaded = sio.loadmat(path)
        except Exception as e:
            raise RuntimeError("{}: corrupt SVHN file ({})".format(path, e)) from e
        x, y = loaded.get("X"), loaded.get("y")
        if (not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[2] != 3 or y is None
                or np.size(y) != x.shape[3]):
            raise RuntimeError("{}: corrupt SVHN file (expected X of 32 x 32 x 3 x N and N labels y, got {} and {})"
                               .format(path, getattr(x, "shape", None), getattr(y, "shape", None)))
        self.data = np.transpose(x.astype(np.uint8, copy=False), (3, 2, 0, 1))  # N x C x H x W
        self.labels = np.asarray(y, dtype=np.int64).reshape(-1)
        # SVHN stores the digit 0 as 10; torch expects 0..C-1
        np.place(self.labels, self.labels == 10, 0)

    def __getitem__(self, index):
        img, target = self.data[index], int(self.labels[index])
        # a PIL Image, as every other dataset returns
        img = Image.fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self):
        download_url(self.url, self.root, self.filename, self.file_md5)
