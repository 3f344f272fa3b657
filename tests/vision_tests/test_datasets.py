"""embervision.datasets on real data from shared/data (MNIST idx files, CIFAR-10 JPEGs, hymenoptera photos,
a COCO annotation file with its images) and, for formats with no real sample, on fixtures built here from
those real images in each dataset's own on-disk format (CIFAR pickles, STL10 binaries, SVHN .mat, LSUN lmdb,
PhotoTour patch pages). Downloads come from a local HTTP server on 127.0.0.1."""
import gzip
import hashlib
import json
import os
import pickle
import shutil
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

import ember
from ember.utils.data import DataLoader
from embervision import datasets, transforms
from embervision.datasets import utils as dutils
from embervision.datasets.folder import IMG_EXTENSIONS, find_classes, is_image_file, make_dataset
from _helpers.data import shared_data
from _helpers.httpserver import http_server

MNIST_FIRST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # shared/data/mnist/SOURCES.md
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _md5(path):
    return hashlib.md5(open(str(path), "rb").read()).hexdigest()


def _rgb(path):
    with Image.open(str(path)) as img:
        return np.array(img.convert("RGB"))


def _idx_images(path):
    """Independent idx3 parse: the uint8 array N x rows x cols."""
    raw = gzip.open(str(path), "rb").read()
    n, rows, cols = np.frombuffer(raw, ">i4", 3, offset=4)
    return np.frombuffer(raw, np.uint8, offset=16).reshape(n, rows, cols)


def _idx_labels(path):
    raw = gzip.open(str(path), "rb").read()
    return np.frombuffer(raw, np.uint8, offset=8).astype(np.int64)


def _write_idx(path, arr, magic):
    header = np.array([magic] + list(arr.shape), ">i4").tobytes()
    with gzip.open(str(path), "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


@pytest.fixture(scope="module")
def real_mnist():
    raw = shared_data("mnist", "raw")
    images = _idx_images(os.path.join(raw, "t10k-images-idx3-ubyte.gz"))
    labels = _idx_labels(os.path.join(raw, "t10k-labels-idx1-ubyte.gz"))
    return raw, images, labels


@pytest.fixture(scope="module")
def cifar_images():
    """The real CIFAR-10 JPEG sample: 20 RGB 32x32 arrays per class, with their class index."""
    base = shared_data("cifar10_jpg", "test")
    out = []
    for label, cls in enumerate(CIFAR_CLASSES):
        for name in sorted(os.listdir(os.path.join(base, cls))):
            out.append((_rgb(os.path.join(base, cls, name)), label))
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    with http_server(root) as server:
        server.root = root
        yield server


def _tar_gz(path, folder, arcname):
    with tarfile.open(str(path), "w:gz") as t:
        t.add(str(folder), arcname=arcname)


# ============================================================================================== MNIST
def _mnist_root(tmp_path, real_mnist, names=("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")):
    root = tmp_path / "mnist"
    (root / "raw").mkdir(parents=True)
    for n in names:
        shutil.copy(os.path.join(real_mnist[0], n), str(root / "raw" / n))
    return root


def test_mnist_test_split_from_the_real_raw_files(tmp_path, real_mnist):
    _, images, labels = real_mnist
    root = _mnist_root(tmp_path, real_mnist)
    ds = datasets.MNIST(str(root), train=False)
    assert len(ds) == 10000
    assert ds.test_data.type() == "torch.ByteTensor" and tuple(ds.test_data.size()) == (10000, 28, 28)
    assert ds.test_labels.type() == "torch.LongTensor"
    assert [ds[i][1] for i in range(10)] == MNIST_FIRST_LABELS
    for i in (0, 1, 9999, -1):
        img, target = ds[i]
        assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
        assert type(target) is int and target == labels[i]
        np.testing.assert_array_equal(np.asarray(img), images[i])
    # 0.1.9's processed layout: only the requested split was processed
    assert sorted(os.listdir(str(root / "processed"))) == ["test.pt"]
    data, targets = ember.load(str(root / "processed" / "test.pt"))
    np.testing.assert_array_equal(data.numpy(), images)
    np.testing.assert_array_equal(targets.numpy(), labels)
    # later constructions read processed/ alone
    shutil.rmtree(str(root / "raw"))
    again = datasets.MNIST(str(root), train=False)
    np.testing.assert_array_equal(again.test_labels.numpy(), labels)
    with pytest.raises(IndexError):
        ds[10000]


def test_mnist_train_split_needs_its_own_files(tmp_path, real_mnist):
    root = _mnist_root(tmp_path, real_mnist, names=("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                                                    "train-labels-idx1-ubyte.gz"))
    with pytest.raises(RuntimeError, match=r"^Dataset not found\. You can use download=True to download it "
                                           r"\(MNIST: missing .*training\.pt \(or the raw file "
                                           r".*raw/train-images-idx3-ubyte\.gz\)\)"):
        datasets.MNIST(str(root), train=True)
    assert len(datasets.MNIST(str(root), train=False)) == 10000
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(str(tmp_path / "nothing"))


def test_mnist_processed_file_is_readable_by_pytorch(tmp_path, real_mnist):
    from _helpers.oracle import require_torch
    torch = require_torch()
    root = _mnist_root(tmp_path, real_mnist)
    datasets.MNIST(str(root), train=False)
    data, targets = torch.load(str(root / "processed" / "test.pt"))
    np.testing.assert_array_equal(data.numpy(), real_mnist[1])
    assert targets.dtype == torch.int64 and targets[:10].tolist() == MNIST_FIRST_LABELS


def test_mnist_transforms_and_dataloader(tmp_path, real_mnist):
    _, images, labels = real_mnist
    root = _mnist_root(tmp_path, real_mnist)
    ds = datasets.MNIST(str(root), train=False, transform=transforms.Compose([
        transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]), target_transform=lambda t: t + 100)
    x, y = ds[3]
    assert y == labels[3] + 100
    np.testing.assert_allclose(x.numpy()[0], (images[3] / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081),
                               rtol=1e-5, atol=1e-6)
    batches = iter(DataLoader(ds, batch_size=16))
    bx, by = next(batches)
    assert bx.type() == "torch.FloatTensor" and tuple(bx.size()) == (16, 1, 28, 28)
    assert by.type() == "torch.LongTensor" and by.numpy().tolist() == (labels[:16] + 100).tolist()


def test_mnist_decompressed_raw_files_as_0_1_9_left_them(tmp_path, real_mnist):
    root = tmp_path / "m"
    (root / "raw").mkdir(parents=True)
    for n in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (root / "raw" / n).write_bytes(gzip.open(os.path.join(real_mnist[0], n + ".gz")).read())
    ds = datasets.MNIST(str(root), train=False)
    np.testing.assert_array_equal(np.asarray(ds[5][0]), real_mnist[1][5])


def test_mnist_corrupt_raw_files(tmp_path, real_mnist):
    root = _mnist_root(tmp_path, real_mnist)
    images = root / "raw" / "t10k-images-idx3-ubyte.gz"
    good = images.read_bytes()
    images.write_bytes(good[:len(good) // 2])
    with pytest.raises(RuntimeError, match=r"t10k-images-idx3-ubyte\.gz: corrupt gzip file"):
        datasets.MNIST(str(root), train=False)
    shutil.copy(str(root / "raw" / "t10k-labels-idx1-ubyte.gz"), str(images))
    with pytest.raises(RuntimeError,
                       match=r"t10k-images-idx3-ubyte\.gz: not an idx file of images \(magic number 2049"):
        datasets.MNIST(str(root), train=False)
    with gzip.open(str(images), "wb") as f:  # the header promises 5 images, 3 bytes are missing
        f.write(np.array([2051, 5, 28, 28], ">i4").tobytes() + real_mnist[1][:5].tobytes()[:-3])
    with pytest.raises(RuntimeError, match=r"corrupt idx file \(header says 5 x 28 x 28 but the file holds"):
        datasets.MNIST(str(root), train=False)
    _write_idx(images, real_mnist[1][:7], 2051)
    with pytest.raises(RuntimeError, match=r"has 7 images but .*t10k-labels-idx1-ubyte\.gz has 10000 labels"):
        datasets.MNIST(str(root), train=False)
    assert not (root / "processed" / "test.pt").exists()


def test_mnist_corrupt_processed_file(tmp_path, real_mnist):
    root = _mnist_root(tmp_path, real_mnist)
    (root / "processed").mkdir()
    (root / "processed" / "test.pt").write_bytes(b"not a tensor file at all")
    with pytest.raises(RuntimeError, match=r"MNIST: .*processed/test\.pt is corrupt"):
        datasets.MNIST(str(root), train=False)
    ember.save({"a": 1}, str(root / "processed" / "test.pt"))
    with pytest.raises(RuntimeError, match=r"test\.pt is not a processed MNIST split"):
        datasets.MNIST(str(root), train=False)


def test_mnist_unwritable_processed_folder_keeps_data_in_memory(tmp_path, real_mnist, monkeypatch):
    root = _mnist_root(tmp_path, real_mnist)

    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(ember, "save", refuse)
    with pytest.warns(UserWarning, match=r"MNIST: could not write .*test\.pt .*kept in memory only"):
        ds = datasets.MNIST(str(root), train=False)
    assert ds[0][1] == 7 and not (root / "processed" / "test.pt").exists()


@pytest.fixture(scope="module")
def mnist_served(served, real_mnist):
    """The four MNIST files on the server: the real t10k pair, and a train pair derived from the first
    100 t10k images and labels (the real train images are not in shared/data)."""
    raw, images, labels = real_mnist
    d = served.root / "mnist"
    d.mkdir()
    for n in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(raw, n), str(d / n))
    _write_idx(d / "train-images-idx3-ubyte.gz", images[:100], 2051)
    _write_idx(d / "train-labels-idx1-ubyte.gz", labels[:100], 2049)
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz"]

    class LocalMNIST(datasets.MNIST):
        urls = [served.url("mnist/" + n) for n in names]
        md5 = {n: _md5(d / n) for n in names}

    return LocalMNIST


def test_mnist_download(tmp_path, served, mnist_served, real_mnist, capsys, monkeypatch):
    from ember.utils import model_zoo
    monkeypatch.setattr(model_zoo, "_tqdm", None)  # the plain progress bar, whether tqdm is installed or not
    root = tmp_path / "dl"
    before = len(served.requests)
    ds = mnist_served(str(root), train=True, download=True)
    assert len(served.requests) - before == 4
    assert len(ds) == 100 and ds[99][1] == real_mnist[2][99]
    np.testing.assert_array_equal(np.asarray(ds[42][0]), real_mnist[1][42])
    assert sorted(os.listdir(str(root / "processed"))) == ["test.pt", "training.pt"]
    assert sorted(os.listdir(str(root / "raw"))) == sorted(os.path.basename(u) for u in mnist_served.urls)
    out = capsys.readouterr()
    assert "Downloading " + mnist_served.urls[0] in out.out and "Processing..." in out.out
    assert "100.0%" in out.err  # the progress bar
    # everything is there now: no more requests, and the test split is ready
    test = mnist_served(str(root), train=False, download=True)
    assert len(served.requests) - before == 4
    assert len(test) == 10000


def test_mnist_download_bad_checksum(tmp_path, mnist_served):
    class Tampered(mnist_served):
        md5 = dict(mnist_served.md5, **{"t10k-labels-idx1-ubyte.gz": "0" * 32})

    root = tmp_path / "bad"
    with pytest.raises(RuntimeError, match=r"raw/t10k-labels-idx1-ubyte\.gz: md5 checksum mismatch for the file "
                                           r"downloaded from \"http://127\.0\.0\.1:\d+/mnist/t10k-labels-idx1-ubyte\.gz"
                                           r"\" \(expected 0{32}, got [0-9a-f]{32}\)"):
        Tampered(str(root), train=False, download=True)
    # the files before it were kept, the bad one (and any temporary file) was not
    assert sorted(os.listdir(str(root / "raw"))) == ["t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz",
                                                    "train-labels-idx1-ubyte.gz"]


def test_fashion_mnist_extra(tmp_path, real_mnist):
    assert all("fashion-mnist" in u for u in datasets.FashionMNIST.urls)
    assert set(datasets.FashionMNIST.md5) == set(datasets.MNIST.md5)
    assert not set(datasets.FashionMNIST.md5.values()) & set(datasets.MNIST.md5.values())
    assert len(datasets.FashionMNIST.classes) == 10
    root = _mnist_root(tmp_path, real_mnist)  # the same idx format
    ds = datasets.FashionMNIST(str(root), train=False)
    assert isinstance(ds, datasets.MNIST) and len(ds) == 10000
    with pytest.raises(RuntimeError, match=r"FashionMNIST: missing"):
        datasets.FashionMNIST(str(root), train=True)


# ============================================================================================== CIFAR
def _cifar_batch(path, items, label_key="labels", bytes_keys=False, extra=None):
    data = np.stack([img.transpose(2, 0, 1).reshape(-1) for img, _ in items])  # rows of R, G, B planes
    d = {"batch_label": "batch", label_key: [int(lbl) for _, lbl in items], "data": data,
         "filenames": ["img_{}.png".format(i) for i in range(len(items))]}
    d.update(extra or {})
    if bytes_keys:
        d = {k.encode(): v for k, v in d.items()}
    with open(str(path), "wb") as f:
        pickle.dump(d, f, protocol=2)


@pytest.fixture(scope="module")
def cifar10_served(served, cifar_images, tmp_path_factory):
    """A CIFAR-10 archive in the official layout built from the real JPEG sample: 5 train batches of 6
    images, a test batch of 10."""
    build = tmp_path_factory.mktemp("cifar10") / "cifar-10-batches-py"
    build.mkdir()
    train = [cifar_images[i * 20 + j] for j in range(3) for i in range(10)]
    test = [cifar_images[i * 20 + 10] for i in range(10)]
    for b in range(5):
        _cifar_batch(build / "data_batch_{}".format(b + 1), train[b * 6:(b + 1) * 6])
    _cifar_batch(build / "test_batch", test)
    with open(str(build / "batches.meta"), "wb") as f:
        pickle.dump({"label_names": CIFAR_CLASSES, "num_vis": 3072}, f, protocol=2)
    archive = served.root / "cifar-10-python.tar.gz"
    _tar_gz(archive, build, "cifar-10-batches-py")

    class LocalCIFAR10(datasets.CIFAR10):
        url = served.url("cifar-10-python.tar.gz")
        tgz_md5 = _md5(archive)
        train_list = [["data_batch_{}".format(b + 1), _md5(build / "data_batch_{}".format(b + 1))] for b in range(5)]
        test_list = [["test_batch", _md5(build / "test_batch")]]

    return LocalCIFAR10, train, test


def test_cifar10_download_and_items(tmp_path, served, cifar10_served, capsys):
    cls, train, test = cifar10_served
    root = tmp_path / "c10"
    ds = cls(str(root), train=True, download=True)
    assert len(ds) == 30
    assert ds.train_data.dtype == np.uint8 and ds.train_data.shape == (30, 32, 32, 3)
    for i in (0, 7, 29):
        img, target = ds[i]
        assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
        np.testing.assert_array_equal(np.asarray(img), train[i][0])
        assert type(target) is int and target == train[i][1]
    test_ds = cls(str(root), train=False, transform=transforms.ToTensor(), target_transform=lambda t: -t)
    assert len(test_ds) == 10
    x, y = test_ds[4]
    np.testing.assert_array_equal(x.numpy(), test[4][0].transpose(2, 0, 1) / np.float32(255))
    assert y == -test[4][1]
    n = len(served.requests)
    cls(str(root), download=True)
    assert len(served.requests) == n and "Files already downloaded and verified" in capsys.readouterr().out


def test_cifar10_missing_or_corrupt(tmp_path, cifar10_served):
    cls = cifar10_served[0]
    with pytest.raises(RuntimeError, match=r"^Dataset not found or corrupted\. You can use download=True to download "
                                           r"it \(CIFAR10: missing or corrupt .*cifar-10-batches-py/data_batch_1\)"):
        datasets.CIFAR10(str(tmp_path))
    root = tmp_path / "c"
    cls(str(root), download=True)
    batch = root / "cifar-10-batches-py" / "data_batch_3"
    raw = bytearray(batch.read_bytes())
    raw[-100] ^= 0xFF
    batch.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match=r"corrupt .*data_batch_3\)$"):
        cls(str(root), train=True)
    assert len(cls(str(root), train=False)) == 10  # the test split does not need the train batches


def test_cifar_hostile_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil(object):
        def __reduce__(self):
            return (open, (str(marker), "w"))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(str(folder / "test_batch"), "wb") as f:
        pickle.dump({"data": Evil()}, f, protocol=2)

    class Unchecked(datasets.CIFAR10):
        test_list = [["test_batch", None]]

    with pytest.raises(RuntimeError, match=r"test_batch: corrupt CIFAR batch \(global '\w+\.open' is not allowed"):
        Unchecked(str(tmp_path), train=False)
    assert not marker.exists()
    with open(str(folder / "test_batch"), "wb") as f:
        pickle.dump({"data": np.zeros((2, 5), np.uint8), "labels": [0, 1]}, f, protocol=2)
    with pytest.raises(RuntimeError, match=r"'data' should be a uint8 array N x 3072, got \(2, 5\)"):
        Unchecked(str(tmp_path), train=False)


def test_cifar100_offline_fine_labels_and_bytes_keys(tmp_path, cifar_images):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    items = [(img, 37 + lbl) for img, lbl in cifar_images[::20]]  # one image per class, labels 37..46
    coarse = {"coarse_labels": [lbl % 20 for _, lbl in items]}
    _cifar_batch(folder / "train", items, label_key="fine_labels", extra=coarse)
    _cifar_batch(folder / "test", items[:4], label_key="fine_labels", extra=coarse, bytes_keys=True)

    class Local(datasets.CIFAR100):
        train_list = [["train", _md5(folder / "train")]]
        test_list = [["test", _md5(folder / "test")]]

    ds = Local(str(tmp_path))
    assert len(ds) == 10 and ds.train_labels == [37 + i for i in range(10)]
    np.testing.assert_array_equal(np.asarray(ds[3][0]), items[3][0])
    test = Local(str(tmp_path), train=False)
    assert [test[i][1] for i in range(4)] == [37, 38, 39, 40]
    with pytest.raises(RuntimeError, match=r"CIFAR100: missing or corrupt .*cifar-100-python/train"):
        datasets.CIFAR100(str(tmp_path))  # the real md5s do not match this fixture


def test_corrupt_archive_download(tmp_path, served):
    (served.root / "broken.tar.gz").write_bytes(b"\x1f\x8b" + b"garbage" * 50)

    class Broken(datasets.CIFAR10):
        url = served.url("broken.tar.gz")
        filename = "broken.tar.gz"
        tgz_md5 = _md5(served.root / "broken.tar.gz")

    with pytest.raises(RuntimeError, match=r"broken\.tar\.gz: corrupt archive"):
        Broken(str(tmp_path / "r"), download=True)
    assert os.listdir(str(tmp_path / "r")) == ["broken.tar.gz"]  # no half-extracted folder


def test_extract_refuses_escaping_members(tmp_path):
    evil = tmp_path / "evil.tar"
    payload = tmp_path / "payload"
    payload.write_bytes(b"x")
    with tarfile.open(str(evil), "w") as t:
        t.add(str(payload), arcname="../escaped")
    with pytest.raises(RuntimeError, match=r"evil\.tar: refusing to extract '\.\./escaped' outside the target folder"):
        dutils._extract(str(evil), str(tmp_path / "out"))
    link = tmp_path / "link.tar"
    with tarfile.open(str(link), "w") as t:
        info = tarfile.TarInfo("data/passwd")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(info)
    with pytest.raises(RuntimeError, match=r"refusing to extract 'data/passwd' \(links and devices are not allowed\)"):
        dutils._extract(str(link), str(tmp_path / "out"))
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(str(z), "w") as zf:
        zf.writestr("/abs/name", b"x")
    with pytest.raises(RuntimeError, match="refusing to extract '/abs/name'"):
        dutils._extract(str(z), str(tmp_path / "out"))
    assert not (tmp_path / "escaped").exists() and os.listdir(str(tmp_path / "out")) == []


def test_check_integrity_and_download_url(tmp_path, served, capsys):
    f = tmp_path / "f.bin"
    f.write_bytes(b"abc")
    assert dutils.check_integrity(str(f), hashlib.md5(b"abc").hexdigest())
    assert dutils.check_integrity(str(f), None)
    assert not dutils.check_integrity(str(f), "0" * 32)
    assert not dutils.check_integrity(str(tmp_path / "missing"), None)
    (served.root / "blob.bin").write_bytes(b"blob" * 1000)
    md5 = hashlib.md5(b"blob" * 1000).hexdigest()
    n = len(served.requests)
    dutils.download_url(served.url("blob.bin"), str(tmp_path / "d"), "blob.bin", md5)
    assert (tmp_path / "d" / "blob.bin").read_bytes() == b"blob" * 1000
    dutils.download_url(served.url("blob.bin"), str(tmp_path / "d"), "blob.bin", md5)
    assert len(served.requests) == n + 1
    assert "Using downloaded and verified file: " in capsys.readouterr().out
    with pytest.raises(RuntimeError, match=r'downloading "http://127\.0\.0\.1:\d+/none\.bin" failed'):
        dutils.download_url(served.url("none.bin"), str(tmp_path / "d"), "none.bin", None)
    assert sorted(os.listdir(str(tmp_path / "d"))) == ["blob.bin"]


# ============================================================================================== STL10
@pytest.fixture(scope="module")
def stl10_served(served, tmp_path_factory):
    """An stl10_binary archive built from 96x96 crops of the real hymenoptera photos."""
    base = shared_data("hymenoptera", "train")
    photos = [os.path.join(base, c, n) for c in ("ants", "bees") for n in sorted(os.listdir(os.path.join(base, c)))
              if n.endswith(".jpg")]
    crops = [_rgb(p)[40:136, 60:156] for p in photos[:9]]
    build = tmp_path_factory.mktemp("stl") / "stl10_binary"
    build.mkdir()

    def write(name, imgs, labels=None):
        # per image: the R, G, B planes, each stored column by column
        np.stack([im.transpose(2, 1, 0) for im in imgs]).astype(np.uint8).tofile(str(build / (name + "_X.bin")))
        if labels is not None:
            np.array(labels, np.uint8).tofile(str(build / (name + "_y.bin")))

    write("train", crops[:4], [1, 2, 3, 10])
    write("test", crops[4:7], [5, 6, 7])
    write("unlabeled", crops[7:9])
    archive = served.root / "stl10_binary.tar.gz"
    _tar_gz(archive, build, "stl10_binary")

    class LocalSTL10(datasets.STL10):
        url = served.url("stl10_binary.tar.gz")
        tgz_md5 = _md5(archive)
        train_list = [[n, _md5(build / n)] for n in ("train_X.bin", "train_y.bin", "unlabeled_X.bin")]
        test_list = [[n, _md5(build / n)] for n in ("test_X.bin", "test_y.bin")]

    return LocalSTL10, crops


def test_stl10_splits(tmp_path, stl10_served):
    cls, crops = stl10_served
    root = tmp_path / "stl"
    train = cls(str(root), split="train", download=True)
    assert len(train) == 4 and train.data.shape == (4, 3, 96, 96)
    assert train.labels.tolist() == [0, 1, 2, 9]
    for i in range(4):
        img, target = train[i]
        assert img.mode == "RGB" and img.size == (96, 96) and type(target) is int
        np.testing.assert_array_equal(np.asarray(img), crops[i])
    test = cls(str(root), split="test")
    assert [test[i][1] for i in range(3)] == [4, 5, 6]
    np.testing.assert_array_equal(np.asarray(test[2][0]), crops[6])
    unl = cls(str(root), split="unlabeled")
    assert len(unl) == 2 and [unl[i][1] for i in range(2)] == [-1, -1]
    both = cls(str(root), split="train+unlabeled", transform=transforms.ToTensor())
    assert len(both) == 6 and both.labels.tolist() == [0, 1, 2, 9, -1, -1]
    np.testing.assert_array_equal(both[5][0].numpy(), crops[8].transpose(2, 0, 1) / np.float32(255))


def test_stl10_errors(tmp_path, stl10_served):
    cls = stl10_served[0]
    with pytest.raises(ValueError, match="STL10: unknown split 'val'; use one of train, train\\+unlabeled"):
        cls(str(tmp_path), split="val")
    with pytest.raises(RuntimeError, match=r"Dataset not found or corrupted.*STL10: missing or corrupt .*train_X\.bin"):
        cls(str(tmp_path), split="train")
    folder = tmp_path / "stl10_binary"
    folder.mkdir()
    (folder / "test_X.bin").write_bytes(b"\0" * 1000)
    (folder / "test_y.bin").write_bytes(b"\1")

    class Unchecked(datasets.STL10):
        test_list = [["test_X.bin", None], ["test_y.bin", None]]

    with pytest.raises(RuntimeError, match=r"test_X\.bin: corrupt STL10 image file \(1000 bytes"):
        Unchecked(str(tmp_path), split="test")
    (folder / "test_X.bin").write_bytes(b"\0" * (2 * 3 * 96 * 96))
    with pytest.raises(RuntimeError, match=r"test_y\.bin: corrupt STL10 label file \(1 labels for 2 images\)"):
        Unchecked(str(tmp_path), split="test")


# =============================================================================================== SVHN
@pytest.fixture(scope="module")
def svhn_served(served, cifar_images, tmp_path_factory):
    import scipy.io as sio
    items = cifar_images[5::20]  # one real 32x32 photo per class
    labels = [10, 1, 2, 3, 4, 5, 6, 7, 8, 9]  # SVHN stores the digit 0 as 10
    path = served.root / "train_32x32.mat"
    sio.savemat(str(path), {"X": np.stack([img for img, _ in items], axis=3),
                            "y": np.array(labels, np.uint8).reshape(-1, 1)})

    class LocalSVHN(datasets.SVHN):
        split_list = dict(datasets.SVHN.split_list,
                          train=[served.url("train_32x32.mat"), "train_32x32.mat", _md5(path)])

    return LocalSVHN, [img for img, _ in items]


def test_svhn(tmp_path, svhn_served):
    cls, imgs = svhn_served
    ds = cls(str(tmp_path), split="train", download=True)
    assert len(ds) == 10 and ds.data.shape == (10, 3, 32, 32)
    assert [ds[i][1] for i in range(10)] == list(range(10))
    for i in (0, 9):
        img, _ = ds[i]
        assert img.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(img), imgs[i])
    with pytest.raises(ValueError, match=r'^Wrong split entered! Please use split="train" or split="extra" or '
                                         r'split="test"$'):
        cls(str(tmp_path), split="valid")
    with pytest.raises(RuntimeError,
                       match=r"Dataset not found or corrupted.*SVHN: missing or corrupt .*test_32x32\.mat"):
        cls(str(tmp_path), split="test")
    (tmp_path / "extra_32x32.mat").write_bytes(b"MATLAB 5.0 but not really")

    class Unchecked(datasets.SVHN):
        split_list = dict(datasets.SVHN.split_list, extra=["", "extra_32x32.mat", None])

    with pytest.raises(RuntimeError, match=r"extra_32x32\.mat: corrupt SVHN file"):
        Unchecked(str(tmp_path), split="extra")


# ======================================================================================== ImageFolder
def test_image_folder_hymenoptera_skips_the_gif():
    root = shared_data("hymenoptera", "train")
    ds = datasets.ImageFolder(root)
    assert ds.classes == ["ants", "bees"] and ds.class_to_idx == {"ants": 0, "bees": 1}
    assert len(ds) == 24 and not any(p.endswith(".gif") for p, _ in ds.imgs)
    expected = [(os.path.join(root, c, n), i) for i, c in enumerate(["ants", "bees"])
                for n in sorted(os.listdir(os.path.join(root, c))) if n.endswith(".jpg")]
    assert ds.imgs == expected
    img, target = ds[13]
    assert target == 1 and img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), _rgb(expected[13][0]))
    # ember extra: the extension filter; with .gif the palette GIF loads as RGB
    with_gif = datasets.ImageFolder(root, extensions=IMG_EXTENSIONS + [".gif"])
    assert len(with_gif) == 25
    gif = [i for i, (p, _) in enumerate(with_gif.imgs) if p.endswith("imageNotFound.gif")][0]
    img, target = with_gif[gif]
    assert target == 0 and img.mode == "RGB" and img.size == (300, 300)


def test_image_folder_loader_transforms_and_errors(tmp_path):
    root = shared_data("hymenoptera", "val")
    seen = []

    def loader(path):
        seen.append(path)
        return path

    ds = datasets.ImageFolder(root, transform=len, target_transform=lambda t: t * 10, loader=loader)
    assert len(ds) == 12
    assert ds[11] == (len(ds.imgs[11][0]), 10) and seen == [ds.imgs[11][0]]
    (tmp_path / "cls" / "sub").mkdir(parents=True)
    (tmp_path / "cls" / "sub" / "note.txt").write_text("x")
    (tmp_path / "cls" / "shout.Jpg").write_bytes(b"")
    with pytest.raises(RuntimeError, match=r"^Found 0 images in subfolders of: {}\nSupported image extensions are: "
                                           r"\.jpg,\.JPG,\.jpeg,\.JPEG,\.png,\.PNG,\.ppm,\.PPM,\.bmp,\.BMP$"
                                           .format(tmp_path)):
        datasets.ImageFolder(str(tmp_path))
    with pytest.raises(RuntimeError, match="ImageFolder: root folder not found: "):
        datasets.ImageFolder(str(tmp_path / "nope"))
    assert is_image_file("a.PNG") and not is_image_file("a.Png") and not is_image_file("a.gif")
    assert find_classes(str(tmp_path)) == (["cls"], {"cls": 0})
    (tmp_path / "cls" / "sub" / "b.ppm").write_bytes(b"")
    (tmp_path / "cls" / "a.bmp").write_bytes(b"")
    assert make_dataset(str(tmp_path), {"cls": 0}) == [(str(tmp_path / "cls" / "a.bmp"), 0),
                                                     (str(tmp_path / "cls" / "sub" / "b.ppm"), 0)]


def test_image_folder_cifar_sample_with_dataloader():
    ds = datasets.ImageFolder(shared_data("cifar10_jpg", "test"), transform=transforms.Compose([
        transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]))
    assert ds.classes == sorted(CIFAR_CLASSES) and len(ds) == 200
    x, y = next(iter(DataLoader(ds, batch_size=8, shuffle=False)))
    assert tuple(x.size()) == (8, 3, 32, 32) and x.type() == "torch.FloatTensor"
    assert y.numpy().tolist() == [0] * 8
    first = _rgb(ds.imgs[0][0]).transpose(2, 0, 1)
    np.testing.assert_allclose(x.numpy()[0], (first / np.float32(255) - 0.5) / 0.5, rtol=1e-6, atol=1e-6)


# =============================================================================================== COCO
def test_coco_detection_real_annotations():
    root = shared_data("coco_labelme")
    ann_file = os.path.join(root, "annotations.json")
    ds = datasets.CocoDetection(root, ann_file)
    raw = json.load(open(ann_file))
    assert len(ds) == 3 and ds.ids == [im["id"] for im in raw["images"]]
    for i, info in enumerate(raw["images"]):
        img, target = ds[i]
        assert img.mode == "RGB" and img.size == (info["width"], info["height"])
        np.testing.assert_array_equal(np.asarray(img), _rgb(os.path.join(root, info["file_name"])))
        assert target == [a for a in raw["annotations"] if a["image_id"] == info["id"]]
    assert sum(len(ds[i][1]) for i in range(3)) == 12
    ds = datasets.CocoDetection(root, ann_file, transform=transforms.ToTensor(), target_transform=len)
    x, n = ds[0]
    assert tuple(x.size()) == (3, raw["images"][0]["height"], raw["images"][0]["width"]) and n >= 1


def test_coco_captions(tmp_path):
    root = shared_data("coco_labelme")
    raw = json.load(open(os.path.join(root, "annotations.json")))
    caps = {"images": raw["images"], "annotations": [
        {"id": 10, "image_id": raw["images"][1]["id"], "caption": "A second caption."},
        {"id": 11, "image_id": raw["images"][0]["id"], "caption": "A photo from PASCAL VOC."},
        {"id": 12, "image_id": raw["images"][1]["id"], "caption": "Another caption."}]}
    ann_file = tmp_path / "captions.json"  # a captions file (derived) for the real images
    ann_file.write_text(json.dumps(caps))
    ds = datasets.CocoCaptions(root, str(ann_file))
    assert len(ds) == 3
    assert ds[0][1] == ["A photo from PASCAL VOC."]
    assert ds[1][1] == ["A second caption.", "Another caption."]
    assert ds[2][1] == []


def test_coco_index_on_real_keypoints_excerpt_and_errors(tmp_path):
    ann_file = shared_data("coco_keypoints_excerpt", "annotations", "person_keypoints_val2017.json")
    raw = json.load(open(ann_file))
    coco = datasets.coco.COCO(ann_file)
    assert coco.getImgIds() == [im["id"] for im in raw["images"]] == [785, 1000, 9483]
    for img_id in (785, 1000, 9483):
        ids = coco.getAnnIds(imgIds=img_id)
        assert ids == [a["id"] for a in raw["annotations"] if a["image_id"] == img_id]
        assert coco.loadAnns(ids) == [a for a in raw["annotations"] if a["image_id"] == img_id]
    assert coco.getCatIds() == [1] and coco.loadCats(1)[0]["name"] == "person"
    assert coco.loadImgs([1000])[0]["width"] == 640
    crowd = coco.getAnnIds(iscrowd=1)
    assert crowd == [a["id"] for a in raw["annotations"] if a["iscrowd"] == 1]
    with pytest.raises(FileNotFoundError, match="COCO: annotation file not found: .*nope.json"):
        datasets.CocoDetection(str(tmp_path), str(tmp_path / "nope.json"))
    (tmp_path / "bad.json").write_text('{"images": [')
    with pytest.raises(RuntimeError, match=r"bad\.json: corrupt COCO annotation file"):
        datasets.CocoCaptions(str(tmp_path), str(tmp_path / "bad.json"))
    (tmp_path / "bad.json").write_text('{"annotations": []}')
    with pytest.raises(RuntimeError, match=r"bad\.json: not a COCO annotation file \(no 'images' list\)"):
        datasets.CocoCaptions(str(tmp_path), str(tmp_path / "bad.json"))


# =============================================================================================== LSUN
@pytest.fixture(scope="module")
def lsun_root(tmp_path_factory):
    lmdb = pytest.importorskip("lmdb")
    root = tmp_path_factory.mktemp("lsun")
    base = shared_data("cifar10_jpg", "test")
    contents = {}
    for cat, cls, n in (("bedroom_train", "cat", 3), ("bridge_train", "ship", 2), ("test", "frog", 1)):
        files = [os.path.join(base, cls, f) for f in sorted(os.listdir(os.path.join(base, cls)))[:n]]
        env = lmdb.open(str(root / (cat + "_lmdb")), map_size=1 << 22)
        with env.begin(write=True) as txn:
            for i, f in enumerate(files):  # LSUN keys are hex ids; the values the encoded image bytes
                txn.put("{:040x}".format(i * 7919).encode(), open(f, "rb").read())
        env.close()
        contents[cat] = [_rgb(f) for f in files]
    return root, contents


def test_lsun_classes_and_items(lsun_root):
    root, contents = lsun_root
    ds = datasets.LSUN(str(root), classes=["bedroom_train", "bridge_train"], target_transform=lambda t: t + 1)
    assert len(ds) == 5 and repr(ds) == "LSUN ({})".format(root)
    expected = [(img, 1) for img in contents["bedroom_train"]] + [(img, 2) for img in contents["bridge_train"]]
    for i, (arr, target) in enumerate(expected):
        img, t = ds[i]
        assert img.mode == "RGB" and t == target
        np.testing.assert_array_equal(np.asarray(img), arr)
    assert ds[-1][1] == 2
    with pytest.raises(IndexError):
        ds[5]
    one = datasets.LSUNClass(str(root / "bridge_train_lmdb"), transform=transforms.ToTensor())
    assert len(one) == 2 and repr(one) == "LSUNClass ({})".format(root / "bridge_train_lmdb")
    x, target = one[1]
    assert target is None
    np.testing.assert_array_equal(x.numpy(), contents["bridge_train"][1].transpose(2, 0, 1) / np.float32(255))
    test = datasets.LSUN(str(root), classes="test")  # 0.1.9 rejected 'test'
    assert test.classes == ["test"] and len(test) == 1


def test_lsun_with_dataloader_workers(lsun_root):
    root, contents = lsun_root
    ds = datasets.LSUN(str(root), classes=["bedroom_train", "bridge_train"], transform=transforms.ToTensor())
    ds[0]  # the parent has the environment open when the workers fork
    batches = list(DataLoader(ds, batch_size=5, num_workers=2))
    assert len(batches) == 1
    x, y = batches[0]
    assert tuple(x.size()) == (5, 3, 32, 32) and y.numpy().tolist() == [0, 0, 0, 1, 1]
    np.testing.assert_array_equal(x.numpy()[4], contents["bridge_train"][1].transpose(2, 0, 1) / np.float32(255))


def test_lsun_errors(lsun_root, tmp_path):
    root = lsun_root[0]
    with pytest.raises(ValueError, match=r"^Unknown LSUN class: attic\.Options are: \['bedroom', "):
        datasets.LSUN(str(root), classes=["attic_train"])
    with pytest.raises(ValueError, match=r"^Unknown postfix: training\.Options are: \['train', 'val', 'test'\]"):
        datasets.LSUN(str(root), classes=["bedroom_training"])
    with pytest.raises(ValueError, match="Unknown option for classes"):
        datasets.LSUN(str(root), classes="bedroom")
    with pytest.raises(RuntimeError, match=r"LSUN: lmdb database not found: .*bedroom_val_lmdb$"):
        datasets.LSUN(str(root), classes="val")


# ========================================================================================== PhotoTour
@pytest.fixture(scope="module")
def phototour_served(served, real_mnist, tmp_path_factory):
    """A 'notredame' archive in the Brown et al. layout: 300 patches of 64x64 (real MNIST digits scaled up)
    on two 1024x1024 pages, info.txt and the m50 matches file."""
    digits = real_mnist[1][:300]
    patches = np.stack([np.asarray(Image.fromarray(d).resize((64, 64), Image.BILINEAR)) for d in digits])
    build = tmp_path_factory.mktemp("pt")
    for page in range(2):
        canvas = np.zeros((1024, 1024), np.uint8)
        for k in range(256):
            idx = page * 256 + k
            if idx < len(patches):
                r, c = divmod(k, 16)
                canvas[r * 64:(r + 1) * 64, c * 64:(c + 1) * 64] = patches[idx]
        Image.fromarray(canvas).save(str(build / "patches{:04d}.bmp".format(page)))
    points = [i // 3 for i in range(300)]
    (build / "info.txt").write_text("".join("{} 0\n".format(p) for p in points))
    pairs = [(0, 1), (0, 5), (298, 299), (10, 250)]
    (build / "m50_100000_100000_0.txt").write_text(
        "".join("{} {} 0 {} {} 0\n".format(a, points[a], b, points[b]) for a, b in pairs))
    archive = served.root / "notredame.zip"
    with zipfile.ZipFile(str(archive), "w") as z:
        for f in sorted(os.listdir(str(build))):
            z.write(str(build / f), arcname=f)

    class LocalPhotoTour(datasets.PhotoTour):
        urls = dict(datasets.PhotoTour.urls, notredame=[served.url("notredame.zip"), "notredame.zip", _md5(archive)])

    return LocalPhotoTour, patches, points, pairs


def test_phototour_download_train_and_test_items(tmp_path, phototour_served):
    cls, patches, points, pairs = phototour_served
    root = tmp_path / "pt"
    ds = cls(str(root), "notredame", download=True)
    assert sorted(os.listdir(str(root))) == ["notredame", "notredame.pt"]  # the zip is removed
    assert ds.data.type() == "torch.ByteTensor" and tuple(ds.data.size()) == (300, 64, 64)
    np.testing.assert_array_equal(ds.data.numpy(), patches)
    assert ds.labels.numpy().tolist() == points
    assert ds.matches.numpy().tolist() == [[a, b, int(points[a] == points[b])] for a, b in pairs]
    assert len(ds) == 300
    patch = ds[257]
    assert patch.type() == "torch.ByteTensor"
    np.testing.assert_array_equal(patch.numpy(), patches[257])
    test = cls(str(root), "notredame", train=False, transform=lambda t: t.float().div(255))
    assert len(test) == 4
    p1, p2, same = test[2]
    np.testing.assert_allclose(p1.numpy(), patches[298] / np.float32(255), rtol=1e-6)
    np.testing.assert_allclose(p2.numpy(), patches[299] / np.float32(255), rtol=1e-6)
    assert same == 1 and test[3][2] == 0
    assert cls.mean["notredame"] == 0.4854 and cls.std["liberty"] == 0.2019


def test_phototour_offline_folder_and_errors(tmp_path, phototour_served):
    cls, patches = phototour_served[:2]
    with pytest.raises(ValueError, match="PhotoTour: unknown name 'paris'"):
        cls(str(tmp_path), "paris")
    with pytest.raises(RuntimeError, match=r"Dataset not found\. .*PhotoTour: missing .*yosemite\.pt"):
        cls(str(tmp_path), "yosemite")
    cls(str(tmp_path / "a"), "notredame", download=True)
    offline = tmp_path / "b"
    shutil.copytree(str(tmp_path / "a" / "notredame"), str(offline / "notredame"))
    ds = datasets.PhotoTour(str(offline), "notredame")  # an extracted folder is processed without download
    np.testing.assert_array_equal(ds[299].numpy(), patches[299])
    (offline / "notredame.pt").write_bytes(b"\x80\x02garbage")
    with pytest.raises(RuntimeError, match=r"PhotoTour: .*notredame\.pt is corrupt"):
        datasets.PhotoTour(str(offline), "notredame")
    os.unlink(str(offline / "notredame.pt"))
    with open(str(offline / "notredame" / "info.txt"), "a") as f:
        f.write("".join("1 0\n" for _ in range(300)))
    with pytest.raises(RuntimeError, match=r"info\.txt lists 600 patches but the images hold only 512"):
        datasets.PhotoTour(str(offline), "notredame")


# ========================================================================================== FakeData
def test_fake_data_is_deterministic_per_index_and_restores_the_rng():
    ds = datasets.FakeData(size=4, image_size=(3, 6, 5), num_classes=7)
    assert len(ds) == 4
    ember.manual_seed(123)
    expected_next = ember.rand(3).numpy()
    ember.manual_seed(123)
    img, target = ds[2]
    np.testing.assert_array_equal(ember.rand(3).numpy(), expected_next)  # the global state is untouched
    assert img.mode == "RGB" and img.size == (5, 6)
    assert isinstance(target, float) and target == int(target) and 0 <= target < 7
    # image i is ToPILImage()(randn(*image_size)) drawn after manual_seed(i)
    ember.manual_seed(2)
    noise = ember.randn(3, 6, 5).numpy()
    np.testing.assert_array_equal(np.asarray(img), (noise * np.float32(255)).astype(np.int64).astype(np.uint8)
                                  .transpose(1, 2, 0))
    again, target2 = ds[2]
    np.testing.assert_array_equal(np.asarray(again), np.asarray(img))
    assert target2 == target
    assert not np.array_equal(np.asarray(ds[1][0]), np.asarray(img))
    with pytest.raises(IndexError, match="FakeData: index 4 out of range for 4 images"):
        ds[4]
    gray = datasets.FakeData(size=2, image_size=(1, 4, 4), transform=transforms.ToTensor(), target_transform=int)
    x, t = gray[0]
    assert tuple(x.size()) == (1, 4, 4) and type(t) is int
    assert len(list(iter(DataLoader(gray, batch_size=2)))) == 1


def test_default_loader_follows_the_image_backend(monkeypatch):
    import sys
    import types
    import embervision
    from embervision.datasets import folder
    path = shared_data("hymenoptera", "val", "bees", "10870992_eebeeb3a12.jpg")
    calls = []

    class FakeAccImage(object):
        def __init__(self, p):
            calls.append(p)
            if p.endswith(".jpg"):
                raise IOError("cannot decode")  # accimage_loader falls back to PIL

    monkeypatch.setitem(sys.modules, "accimage", types.SimpleNamespace(Image=FakeAccImage))
    monkeypatch.setattr(embervision, "_image_backend", "accimage")
    img = folder.default_loader(path)
    assert calls == [path] and img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), _rgb(path))
    monkeypatch.setattr(embervision, "_image_backend", "PIL")
    folder.default_loader(path)
    assert calls == [path]
