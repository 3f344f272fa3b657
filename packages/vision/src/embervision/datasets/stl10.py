"""STL10 (torchvision 0.1.9): the binary files of ``stl10_binary``.

``*_X.bin`` holds uint8 images of 3 x 96 x 96 stored column-major per channel; ``*_y.bin`` uint8 labels
1..10 (stored) which become 0..9; unlabeled images get the label -1.
"""
import os

import numpy as np
from PIL import Image

from .cifar import CIFAR10
from .utils import _not_found

_IMAGE_BYTES = 3 * 96 * 96


class STL10(CIFAR10):
    """STL-10: items are ``(PIL Image RGB 96x96, int target)``; ``data`` is uint8 N x 3 x 96 x 96,
    ``labels`` an int64 array (-1 for unlabeled images).

    split: 'train', 'test', 'unlabeled' or 'train+unlabeled'."""
    base_folder = "stl10_binary"
    url = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    filename = "stl10_binary.tar.gz"
    tgz_md5 = "91f7769df0f17e558f3565bffb0c7dfb"
    train_list = [
        ["train_X.bin", "918c2871b30a85fa023e0c44e0bee87f"],
        ["train_y.bin", "5a34089d4802c674881badbb80307741"],
        ["unlabeled_X.bin", "5242ba1fed5e4be9e1e742405eb56ca4"],
    ]
    test_list = [
        ["test_X.bin", "7f263ba9f9e0b06b93213547f721ac82"],
        ["test_y.bin", "36f9794fa4beb8a2c72628de14fa638e"],
    ]
    splits = ("train", "train+unlabeled", "unlabeled", "test")

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False):
        if split not in self.splits:
            raise ValueError('STL10: unknown split {!r}; use one of {}'.format(split, ", ".join(self.splits)))
        self.root = os.path.expanduser(root)
        self.transform = transform
        self.target_transform = target_transform
        self.split = split
        if download:
            self.download()
        needed = {"train": ["train_X.bin", "train_y.bin"], "test": ["test_X.bin", "test_y.bin"],
                  "unlabeled": ["unlabeled_X.bin"],
                  "train+unlabeled": ["train_X.bin", "train_y.bin", "unlabeled_X.bin"]}[split]
        files = [f for f in self.train_list + self.test_list if f[0] in needed]
        if not self._check_integrity(files):
            raise _not_found("STL10", self._first_bad(files), corrupted=True)
        parts = []
        if split in ("train", "train+unlabeled"):
            parts.append(self._loadfile("train_X.bin", "train_y.bin"))
        if split == "test":
            parts.append(self._loadfile("test_X.bin", "test_y.bin"))
        if split in ("unlabeled", "train+unlabeled"):
            parts.append(self._loadfile("unlabeled_X.bin"))
        self.data = np.concatenate([p[0] for p in parts])
        self.labels = np.concatenate([p[1] for p in parts])

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
        return self.data.shape[0]

    def _loadfile(self, data_file, labels_file=None):
        path = os.path.join(self.root, self.base_folder, data_file)
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % _IMAGE_BYTES:
            raise RuntimeError("{}: corrupt STL10 image file ({} bytes is not a whole number of 3x96x96 images)"
                               .format(path, raw.size))
        images = np.transpose(raw.reshape((-1, 3, 96, 96)), (0, 1, 3, 2))  # stored column-major
        if labels_file is None:
            return images, np.full(len(images), -1, dtype=np.int64)
        lpath = os.path.join(self.root, self.base_folder, labels_file)
        labels = np.fromfile(lpath, dtype=np.uint8).astype(np.int64) - 1  # stored as 1..10
        if len(labels) != len(images):
            raise RuntimeError("{}: corrupt STL10 label file ({} labels for {} images)".format(
                lpath, len(labels), len(images)))
        return images, labels
