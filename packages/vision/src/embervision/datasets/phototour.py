"""PhotoTour (torchvision 0.1.9): the Multi-view Stereo Correspondence patches (Brown et al.).

The archive ``<name>.zip`` unpacks into ``root/<name>/``: ``patches*.bmp`` (1024 x 1024 grayscale pages
of 16 x 16 patches of 64 x 64, row by row), ``info.txt`` (the 3D point id of each patch, one per line) and
``m50_100000_100000_0.txt`` (pairs: patch id 1, point id 1, _, patch id 2, point id 2, _). They are
processed into ``root/<name>.pt``: ``(ByteTensor N x 64 x 64, LongTensor N, LongTensor M x 3)``.
ember extras: an already extracted folder is processed without ``download=True``; the patch count is
taken from ``info.txt``.
"""
import os

import numpy as np
from PIL import Image

import ember
from ember.utils import data

from .utils import _extract, _not_found, download_url


class PhotoTour(data.Dataset):
    """Training items are single 64 x 64 ByteTensor patches; test items are
    ``(patch 1, patch 2, 1 if both show the same 3D point else 0)`` from the matches file.

    Args: root, name ('notredame', 'yosemite' or 'liberty'), train, transform (applied to each patch),
    download."""
    urls = {
        "notredame": ["http://www.iis.ee.ic.ac.uk/~vbalnt/phototourism-patches/notredame.zip", "notredame.zip",
                      "509eda8535847b8c0a90bbb210c83484"],
        "yosemite": ["http://www.iis.ee.ic.ac.uk/~vbalnt/phototourism-patches/yosemite.zip", "yosemite.zip",
                     "533b2e8eb7ede31be40abc317b2fd4f0"],
        "liberty": ["http://www.iis.ee.ic.ac.uk/~vbalnt/phototourism-patches/liberty.zip", "liberty.zip",
                    "fdd9152f138ea5ef2091746689176414"],
    }
    mean = {"notredame": 0.4854, "yosemite": 0.4844, "liberty": 0.4437}
    std = {"notredame": 0.1864, "yosemite": 0.1818, "liberty": 0.2019}
    lens = {"notredame": 468159, "yosemite": 633587, "liberty": 450092}

    image_ext = "bmp"
    info_file = "info.txt"
    matches_files = "m50_100000_100000_0.txt"

    def __init__(self, root, name, train=True, transform=None, download=False):
        if name not in self.urls:
            raise ValueError("PhotoTour: unknown name {!r}; use one of {}".format(name, ", ".join(sorted(self.urls))))
        self.root = os.path.expanduser(root)
        self.name = name
        self.data_dir = os.path.join(self.root, name)
        self.data_down = os.path.join(self.root, "{}.zip".format(name))
        self.data_file = os.path.join(self.root, "{}.pt".format(name))
        self.train = train
        self.transform = transform
        if download:
            self.download()
        elif not self._check_datafile_exists() and self._check_downloaded():
            self._process()
        if not self._check_datafile_exists():
            raise _not_found("PhotoTour", self.data_file)
        self.data, self.labels, self.matches = _read_processed(self.data_file)

    def __getitem__(self, index):
        if self.train:
            data = self.data[index]
            if self.transform is not None:
                data = self.transform(data)
            return data
        m = self.matches[index]
        data1, data2 = self.data[m[0]], self.data[m[1]]
        if self.transform is not None:
            data1 = self.transform(data1)
            data2 = self.transform(data2)
        return data1, data2, m[2]

    def __len__(self):
        return self.data.size(0) if self.train else self.matches.size(0)

    def _check_datafile_exists(self):
        return os.path.exists(self.data_file)

    def _check_downloaded(self):
        return os.path.exists(self.data_dir)

    def download(self):
        if self._check_datafile_exists():
            print("# Found cached data {}".format(self.data_file))
            return
        if not self._check_downloaded():
            url, filename, md5 = self.urls[self.name]
            download_url(url, self.root, filename, md5)
            print("# Extracting data {}\n".format(self.data_down))
            # the archive's files sit at its top level: unpack into root/<name>
            _extract(self.data_down, self.data_dir)
            os.unlink(self.data_down)
        self._process()

    def _process(self):
        print("# Caching data {}".format(self.data_file))
        labels = read_info_file(self.data_dir, self.info_file)
        patches = read_image_file(self.data_dir, self.image_ext, labels.size(0))
        matches = read_matches_files(self.data_dir, self.matches_files)
        ember.save((patches, labels, matches), self.data_file)


def read_image_file(data_dir, image_ext, n):
    """The first ``n`` 64 x 64 patches of the page images in ``data_dir``, as a ByteTensor n x 64 x 64."""
    files = sorted(f for f in os.listdir(data_dir) if f.endswith(image_ext))
    pages = []
    for fname in files:
        path = os.path.join(data_dir, fname)
        try:
            with Image.open(path) as img:
                page = np.asarray(img.convert("L"))
        except OSError as e:
            raise RuntimeError("{}: corrupt patch image ({})".format(path, e)) from e
        if page.shape != (1024, 1024):
            raise RuntimeError("{}: a patch page must be 1024 x 1024, got {} x {}".format(path, page.shape[1],
                                                                                           page.shape[0]))
        # 16 x 16 patches of 64 x 64, in row-major order
        pages.append(page.reshape(16, 64, 16, 64).transpose(0, 2, 1, 3).reshape(256, 64, 64))
    patches = np.concatenate(pages) if pages else np.zeros((0, 64, 64), np.uint8)
    if len(patches) < n:
        raise RuntimeError("{}: {} lists {} patches but the images hold only {}".format(
            data_dir, PhotoTour.info_file, n, len(patches)))
    return ember.from_numpy(np.ascontiguousarray(patches[:n]))


def read_info_file(data_dir, info_file):
    """The 3D point id of each patch (first column of ``info_file``) as a LongTensor."""
    path = os.path.join(data_dir, info_file)
    try:
        with open(path, "r") as f:
            labels = [int(line.split()[0]) for line in f if line.strip()]
    except (ValueError, IndexError) as e:
        raise RuntimeError("{}: corrupt info file ({})".format(path, e)) from e
    return ember.LongTensor(labels)


def read_matches_files(data_dir, matches_file):
    """``[patch id 1, patch id 2, same 3D point]`` for each line of ``matches_file``, as a LongTensor M x 3."""
    path = os.path.join(data_dir, matches_file)
    matches = []
    try:
        with open(path, "r") as f:
            for line in f:
                fields = line.split()
                if fields:
                    matches.append([int(fields[0]), int(fields[3]), int(fields[1] == fields[4])])
    except (ValueError, IndexError) as e:
        raise RuntimeError("{}: corrupt matches file ({})".format(path, e)) from e
    return ember.LongTensor(matches)  # an empty file gives an empty tensor


def _read_processed(path):
    try:
        obj = ember.load(path, weights_only=True)
    except Exception as e:
        raise RuntimeError("PhotoTour: {} is corrupt ({}); delete it to process the patches again"
                           .format(path, e)) from e
    if not (isinstance(obj, (tuple, list)) and len(obj) == 3 and all(ember.is_tensor(t) for t in obj)):
        raise RuntimeError("PhotoTour: {} is not a processed PhotoTour file (expected (patches, labels, matches))"
                           .format(path))
    return tuple(obj)
