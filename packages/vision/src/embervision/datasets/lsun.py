"""LSUN (torchvision 0.1.9): scene categories stored as lmdb databases of encoded images.

Needs the ``lmdb`` package (``pip install lmdb``, or ember-vision's ``[lsun]`` extra). ember changes from
0.1.9: the key list is kept in memory instead of a ``_cache_*`` file written into the working directory,
datasets on the same database share one read-only environment (lmdb refuses to open one twice in a
process), and ``classes='test'`` works (0.1.9 rejected it).
"""
import io
import os

from PIL import Image

from ember.utils import data


def _lmdb():
    try:
        import lmdb
    except ImportError:
        raise ImportError("LSUN reads lmdb databases: install the lmdb package (pip install lmdb)") from None
    return lmdb


_ENVS = {}  # real path -> the read-only environment this process (or its fork parent) opened


def _env(db_path):
    key = os.path.realpath(db_path)
    env = _ENVS.get(key)
    if env is None:
        lmdb = _lmdb()
        if not os.path.exists(db_path):
            raise RuntimeError("LSUN: lmdb database not found: {}".format(db_path))
        try:
            # lock=False: no reader table, so DataLoader workers forked later can keep reading it
            env = lmdb.open(db_path, max_readers=1, readonly=True, lock=False, readahead=False, meminit=False)
        except lmdb.Error as e:
            raise RuntimeError("{}: cannot open the lmdb database ({})".format(db_path, e)) from e
        _ENVS[key] = env
    return env


class LSUNClass(data.Dataset):
    """One LSUN category: items are ``(PIL Image RGB, None)``."""

    def __init__(self, db_path, transform=None, target_transform=None):
        self.db_path = db_path
        self.transform = transform
        self.target_transform = target_transform
        with _env(db_path).begin(write=False) as txn:
            self.length = txn.stat()["entries"]
            self.keys = [key for key in txn.cursor().iternext(keys=True, values=False)]

    def __getitem__(self, index):
        img, target = None, None
        with _env(self.db_path).begin(write=False) as txn:
            imgbuf = txn.get(self.keys[index])
        if imgbuf is None:
            raise RuntimeError("{}: key {!r} vanished from the database".format(self.db_path, self.keys[index]))
        try:
            img = Image.open(io.BytesIO(imgbuf)).convert("RGB")
        except OSError as e:
            raise RuntimeError("{}: the image under key {!r} is corrupt ({})".format(
                self.db_path, self.keys[index], e)) from e
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.length

    def __repr__(self):
        return self.__class__.__name__ + " (" + self.db_path + ")"


class LSUN(data.Dataset):
    """LSUN: items are ``(PIL Image RGB, int index of the category in classes)``.

    classes: 'train', 'val' (every category of that split) or 'test', or a list of
    '<category>_<split>' names such as ['bedroom_train', 'church_outdoor_train']; each is read from
    ``db_path/<name>_lmdb``."""
    categories = ["bedroom", "bridge", "church_outdoor", "classroom", "conference_room", "dining_room",
                  "kitchen", "living_room", "restaurant", "tower"]
    dset_opts = ["train", "val", "test"]

    def __init__(self, db_path, classes="train", transform=None, target_transform=None):
        self.db_path = db_path
        if isinstance(classes, str) and classes in self.dset_opts:
            classes = ["test"] if classes == "test" else [c + "_" + classes for c in self.categories]
        if not isinstance(classes, list) or not classes:
            raise ValueError("Unknown option for classes: {!r} (use 'train', 'val', 'test' or a list such as "
                             "['bedroom_train'])".format(classes))
        for c in classes:
            if c == "test":
                continue
            category, _, split = c.rpartition("_")
            if category not in self.categories:
                raise ValueError("Unknown LSUN class: " + category + "." "Options are: " + str(self.categories))
            if split not in self.dset_opts:
                raise ValueError("Unknown postfix: " + split + "." "Options are: " + str(self.dset_opts))
        self.classes = classes
        self.dbs = [LSUNClass(db_path=os.path.join(db_path, c + "_lmdb"), transform=transform) for c in classes]
        self.indices = []
        count = 0
        for db in self.dbs:
            count += len(db)
            self.indices.append(count)
        self.length = count
        self.target_transform = target_transform

    def __getitem__(self, index):
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError("LSUN: index out of range for {} images".format(self.length))
        target, sub = 0, 0
        for ind in self.indices:
            if index < ind:
                break
            target += 1
            sub = ind
        img, _ = self.dbs[target][index - sub]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.length

    def __repr__(self):
        return self.__class__.__name__ + " (" + self.db_path + ")"
