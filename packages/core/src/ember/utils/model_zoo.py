"""ember.utils.model_zoo: load a serialized object (pretrained weights) from a URL, cached on disk.

``load_url`` is PyTorch 0.2's: the file goes to ``model_dir`` (default ``$TORCH_MODEL_ZOO``, else
``$TORCH_HOME/models`` with ``$TORCH_HOME`` defaulting to ``~/.torch``) and is checked against the
sha256 prefix in its name (``resnet18-5c106cde.pth``). ember extras: ``$EMBER_MODEL_ZOO`` and
``$EMBER_HOME`` take precedence over the torch variables; downloads are atomic (a temporary file beside
the target, renamed once complete and verified); ``progress=False`` silences the progress bar; a name
without a hash is accepted unchecked (0.2 failed on it with an AttributeError).
"""
import hashlib
import http.client
import os
import re
import sys
import tempfile
from urllib.error import URLError
from urllib.parse import urlparse
from urllib.request import urlopen

import ember

HASH_REGEX = re.compile(r'-([a-f0-9]*)\.')

_CHUNK = 1 << 16

try:
    from tqdm import tqdm as _tqdm
except ImportError:  # tqdm is optional, as in 0.2
    _tqdm = None


def load_url(url, model_dir=None, map_location=None, progress=True):
    """Load the object serialized at ``url``, downloading it into ``model_dir`` the first time.

    The file name part of the URL should follow ``name-<sha256 prefix>.ext``; the downloaded file's
    sha256 must start with that prefix (RuntimeError otherwise, and nothing is cached).
    ``map_location`` is passed to ``ember.load``."""
    if model_dir is None:
        model_dir = _default_model_dir()
    model_dir = os.path.expanduser(model_dir)
    os.makedirs(model_dir, exist_ok=True)
    filename = os.path.basename(urlparse(url).path)
    if not filename:
        raise ValueError('load_url: the URL "{}" names no file (expected .../name-<sha256>.ext)'.format(url))
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stderr.write('Downloading: "{}" to {}\n'.format(url, cached_file))
        match = HASH_REGEX.search(filename)
        _download_url_to_file(url, cached_file, hash_prefix=match.group(1) if match else None,
                              progress=progress)
    return ember.load(cached_file, map_location=map_location)


def _default_model_dir():
    if os.environ.get("EMBER_MODEL_ZOO"):
        return os.environ["EMBER_MODEL_ZOO"]
    if os.environ.get("EMBER_HOME"):
        return os.path.join(os.path.expanduser(os.environ["EMBER_HOME"]), "models")
    if os.environ.get("TORCH_MODEL_ZOO"):
        return os.environ["TORCH_MODEL_ZOO"]
    return os.path.join(os.path.expanduser(os.environ.get("TORCH_HOME") or "~/.torch"), "models")


def _download_url_to_file(url, dst, hash_prefix=None, progress=True, md5=None):
    """Stream ``url`` into ``dst`` atomically, checking the sha256 prefix and/or the md5 when given.

    Shared with embervision's dataset downloads (``md5=``). Failures raise RuntimeError naming the URL
    or the file and leave ``dst`` untouched."""
    try:
        response = urlopen(url)
    except (URLError, ValueError, OSError) as e:
        raise RuntimeError('downloading "{}" failed: {}'.format(url, getattr(e, "reason", e))) from e
    directory = os.path.dirname(os.path.abspath(dst))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(dst) + ".", suffix=".part")
    try:
        with response, os.fdopen(fd, "wb") as f:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            sha256 = hashlib.sha256()
            md5sum = hashlib.md5() if md5 is not None else None
            received = 0
            with _progress_bar(total, progress) as bar:
                while True:
                    try:
                        buf = response.read(_CHUNK)
                    except (http.client.IncompleteRead, OSError) as e:
                        raise RuntimeError('downloading "{}" failed after {} bytes: {}'
                                           .format(url, received, e)) from e
                    if not buf:
                        break
                    f.write(buf)
                    sha256.update(buf)
                    if md5sum is not None:
                        md5sum.update(buf)
                    received += len(buf)
                    bar.update(len(buf))
            if total is not None and received != total:
                raise RuntimeError('downloading "{}" failed: got {} of {} bytes'.format(url, received, total))
            f.flush()
            os.fsync(f.fileno())
        if hash_prefix is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError('invalid hash value (expected "{}", got "{}")'.format(hash_prefix, digest))
        if md5 is not None and md5sum.hexdigest() != md5:
            raise RuntimeError('{}: md5 checksum mismatch for the file downloaded from "{}" (expected {}, got {})'
                               .format(dst, url, md5, md5sum.hexdigest()))
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _progress_bar(total, enabled):
    if not enabled:
        return _NoBar()
    if _tqdm is not None:
        return _tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024)
    return _PlainBar(total)


class _NoBar(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


class _PlainBar(_NoBar):
    """0.2's fallback when tqdm is missing: ``\\r{:.1f}%`` on stderr (a byte count when the size is unknown)."""

    def __init__(self, total):
        self.total = total
        self.n = 0
        self._shown = None

    def update(self, n):
        self.n += n
        if self.total:
            text = "\r{:.1f}%".format(100.0 * self.n / self.total)
        else:
            text = "\r{} bytes".format(self.n)
        if text != self._shown:  # one write per visible change, not per chunk
            self._shown = text
            sys.stderr.write(text)
            sys.stderr.flush()

    def __exit__(self, *exc):
        if self._shown is not None:
            sys.stderr.write("\n")
            sys.stderr.flush()
        return False
