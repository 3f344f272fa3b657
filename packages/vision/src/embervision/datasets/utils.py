"""Download and integrity helpers shared by the datasets (torchvision 0.1.9's datasets.utils, hardened).

``download_url`` streams through ember's model-zoo downloader: a progress bar, the md5 checked before the
file is put in place, and an atomic rename, so an interrupted or corrupt download never leaves a file that
looks complete. ``_extract`` unpacks tar / zip archives without letting a member escape the target folder
and moves the result into place only once the whole archive has been read.
"""
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile

from ember.utils.model_zoo import _download_url_to_file


def calculate_md5(fpath, chunk_size=1024 * 1024):
    md5 = hashlib.md5()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            md5.update(chunk)
    return md5.hexdigest()


def check_integrity(fpath, md5):
    """True when ``fpath`` is a file whose md5 is ``md5`` (any file when ``md5`` is None)."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or calculate_md5(fpath) == md5


def download_url(url, root, filename, md5, progress=True):
    """Download ``url`` to ``root/filename`` unless a file with that md5 is already there.

    Raises RuntimeError when the download fails or its md5 is not ``md5`` (the file is then not kept)."""
    root = os.path.expanduser(root)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        print("Using downloaded and verified file: " + fpath)
        return
    print("Downloading " + url + " to " + fpath)
    _download_url_to_file(url, fpath, md5=md5, progress=progress)


def _extract(archive, dest):
    """Unpack a .tar(.gz) or .zip ``archive`` into ``dest``; each top-level entry replaces any old one."""
    dest = os.path.abspath(dest)
    os.makedirs(dest, exist_ok=True)
    staging = tempfile.mkdtemp(dir=dest, prefix=".extract-")
    try:
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as z:
                    for name in z.namelist():
                        _check_member(archive, name)
                    z.extractall(staging)
            else:
                with tarfile.open(archive) as t:
                    members = t.getmembers()
                    for m in members:
                        _check_member(archive, m.name)
                        if not (m.isfile() or m.isdir()):
                            raise RuntimeError("{}: refusing to extract '{}' (links and devices are not allowed)"
                                               .format(archive, m.name))
                    # the 'data' filter (where Python has it) also drops setuid bits and odd permissions
                    extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                    t.extractall(staging, members=members, **extra)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as e:
            raise RuntimeError("{}: corrupt archive ({})".format(archive, e)) from e
        for entry in os.listdir(staging):
            target = os.path.join(dest, entry)
            old = None
            if os.path.lexists(target):
                old = tempfile.mkdtemp(dir=dest, prefix=".old-")
                os.replace(target, os.path.join(old, entry))
            os.replace(os.path.join(staging, entry), target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_member(archive, name):
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise RuntimeError("{}: refusing to extract '{}' outside the target folder".format(archive, name))


def _not_found(dataset, missing, corrupted=False):
    what = "Dataset not found or corrupted." if corrupted else "Dataset not found."
    return RuntimeError("{} You can use download=True to download it ({}: {})".format(
        what, dataset, "missing or corrupt " + missing if corrupted else "missing " + missing))
