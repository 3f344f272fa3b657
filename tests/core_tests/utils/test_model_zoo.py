"""ember.utils.model_zoo.load_url against a local HTTP server on 127.0.0.1."""
import hashlib
import os
import pathlib

import numpy as np
import pytest

import ember
from ember.utils import model_zoo
from _helpers.httpserver import http_server
from _helpers.oracle import require_torch


def _sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def _arrays():
    rng = np.random.RandomState(0)
    return {"fc.weight": rng.randn(4, 3).astype(np.float32), "fc.bias": rng.randn(4).astype(np.float64),
            "steps": np.arange(5, dtype=np.int64)}


def _write_checkpoint(directory, stem="net"):
    """An ember.save'd state dict named <stem>-<first 8 hex digits of its sha256>.pth."""
    tmp = directory / "unnamed.pth"
    ember.save({k: ember.from_numpy(v.copy()) for k, v in _arrays().items()}, str(tmp))
    name = "{}-{}.pth".format(stem, _sha256(tmp)[:8])
    tmp.rename(directory / name)
    return name


def _check_state(state):
    expected = _arrays()
    assert sorted(state) == sorted(expected)
    assert state["fc.weight"].type() == "torch.FloatTensor"
    assert state["fc.bias"].type() == "torch.DoubleTensor"
    assert state["steps"].type() == "torch.LongTensor"
    for k, v in expected.items():
        np.testing.assert_array_equal(state[k].numpy(), v)


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    with http_server(root) as server:
        server.root = root
        yield server


def test_downloads_verifies_caches_and_reports(served, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(model_zoo, "_tqdm", None)  # 0.2's plain fallback, whether tqdm is installed or not
    name = _write_checkpoint(served.root)
    cache = tmp_path / "cache" / "nested"  # created on demand
    state = model_zoo.load_url(served.url(name), model_dir=str(cache))
    _check_state(state)
    cached = cache / name
    assert cached.read_bytes() == (served.root / name).read_bytes()
    assert os.listdir(str(cache)) == [name]  # no temporary file left behind
    err = capsys.readouterr().err
    assert 'Downloading: "{}" to {}\n'.format(served.url(name), cached) in err
    assert "\r100.0%\n" in err
    # a second call loads the cached file without asking the server
    assert served.requests == ["/" + name]
    _check_state(model_zoo.load_url(served.url(name), model_dir=str(cache)))
    assert served.requests == ["/" + name]
    assert "Downloading" not in capsys.readouterr().err


def test_invalid_hash_raises_and_caches_nothing(served, tmp_path):
    good = _write_checkpoint(served.root)
    bad = "net-0123abcd.pth"
    (served.root / good).rename(served.root / bad)
    digest = _sha256(served.root / bad)
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match=r'^invalid hash value \(expected "0123abcd", got "{}"\)$'.format(digest)):
        model_zoo.load_url(served.url(bad), model_dir=str(cache))
    assert os.listdir(str(cache)) == []


def test_full_length_hash_and_no_hash(served, tmp_path):
    tmp = served.root / "x.pth"
    ember.save({"fc.weight": ember.from_numpy(_arrays()["fc.weight"])}, str(tmp))
    full = "w-{}.pth".format(_sha256(tmp))
    os.link(str(tmp), str(served.root / full))
    out = model_zoo.load_url(served.url(full), model_dir=str(tmp_path / "c"), progress=False)
    np.testing.assert_array_equal(out["fc.weight"].numpy(), _arrays()["fc.weight"])
    # a name without the -<hash>. part is accepted unchecked (an ember extra; 0.2 crashed on it)
    out = model_zoo.load_url(served.url("x.pth"), model_dir=str(tmp_path / "c"), progress=False)
    np.testing.assert_array_equal(out["fc.weight"].numpy(), _arrays()["fc.weight"])


def test_progress_false_is_silent(served, tmp_path, capsys):
    name = _write_checkpoint(served.root)
    model_zoo.load_url(served.url(name), model_dir=str(tmp_path / "c"), progress=False)
    err = capsys.readouterr().err
    assert err.startswith("Downloading: ") and "%" not in err


def test_tqdm_is_used_when_installed(served, tmp_path, monkeypatch):
    seen = {}

    class FakeTqdm(object):
        def __init__(self, total, **kwargs):
            seen["total"], seen["n"] = total, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            seen["closed"] = True

        def update(self, n):
            seen["n"] += n

    monkeypatch.setattr(model_zoo, "_tqdm", FakeTqdm)
    name = _write_checkpoint(served.root)
    model_zoo.load_url(served.url(name), model_dir=str(tmp_path / "c"))
    size = (served.root / name).stat().st_size
    assert seen == {"total": size, "n": size, "closed": True}


def test_existing_cached_file_is_not_downloaded_again(served, tmp_path):
    name = _write_checkpoint(served.root)
    cache = tmp_path / "c"
    cache.mkdir()
    (cache / name).write_bytes((served.root / name).read_bytes())
    _check_state(model_zoo.load_url(served.url(name), model_dir=str(cache)))
    assert served.requests == []


def test_file_url(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    name = _write_checkpoint(src)
    state = model_zoo.load_url((src / name).as_uri(), model_dir=str(tmp_path / "c"), progress=False)
    _check_state(state)
    assert (tmp_path / "c" / name).is_file()


def test_map_location_is_passed_to_load(served, tmp_path):
    name = _write_checkpoint(served.root)
    locations = []

    def where(storage, location):
        locations.append(location)
        return storage

    _check_state(model_zoo.load_url(served.url(name), model_dir=str(tmp_path / "c"), map_location=where))
    assert locations and set(locations) == {"cpu"}


@pytest.mark.parametrize("env, expected", [
    ({}, "home/.torch/models"),
    ({"TORCH_HOME": "th"}, "th/models"),
    ({"TORCH_HOME": "th", "TORCH_MODEL_ZOO": "tz"}, "tz"),
    ({"TORCH_MODEL_ZOO": "tz", "EMBER_HOME": "eh"}, "eh/models"),
    ({"TORCH_MODEL_ZOO": "tz", "EMBER_HOME": "eh", "EMBER_MODEL_ZOO": "ez"}, "ez"),
    ({"TORCH_HOME": "th", "EMBER_MODEL_ZOO": "ez"}, "ez"),
])
def test_cache_directory_from_environment(served, tmp_path, monkeypatch, env, expected):
    for var in ("TORCH_HOME", "TORCH_MODEL_ZOO", "EMBER_HOME", "EMBER_MODEL_ZOO"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for k, v in env.items():
        monkeypatch.setenv(k, str(tmp_path / v))
    name = _write_checkpoint(served.root)
    _check_state(model_zoo.load_url(served.url(name), progress=False))
    assert (tmp_path / expected / name).is_file()
    # an explicit model_dir wins over every variable
    other = tmp_path / "explicit"
    model_zoo.load_url(served.url(name), model_dir=str(other), progress=False)
    assert (other / name).is_file()


def test_truncated_download_raises_and_caches_nothing(served, tmp_path):
    name = _write_checkpoint(served.root)
    url = served.base + "/truncated/" + name
    with pytest.raises(RuntimeError, match=r'downloading "{}" failed'.format(url)):
        model_zoo.load_url(url, model_dir=str(tmp_path / "c"), progress=False)
    assert os.listdir(str(tmp_path / "c")) == []


def test_missing_url_and_bad_url(served, tmp_path):
    with pytest.raises(RuntimeError, match=r'downloading "http://127\.0\.0\.1:\d+/nothing-abcd\.pth" failed: '
                                           r'File not found'):
        model_zoo.load_url(served.url("nothing-abcd.pth"), model_dir=str(tmp_path / "c"), progress=False)
    assert os.listdir(str(tmp_path / "c")) == []
    with pytest.raises(ValueError, match="names no file"):
        model_zoo.load_url(served.base + "/", model_dir=str(tmp_path / "c"))


@pytest.mark.parametrize("zip_format", [True, False])
def test_checkpoint_written_by_torch_save(served, tmp_path, zip_format):
    torch = require_torch()
    arrays = _arrays()
    tmp = served.root / "t.pth"
    torch.save({k: torch.from_numpy(v) for k, v in arrays.items()}, str(tmp),
               _use_new_zipfile_serialization=zip_format)
    name = "torchnet-{}.pth".format(_sha256(tmp)[:10])
    tmp.rename(served.root / name)
    _check_state(model_zoo.load_url(served.url(name), model_dir=str(tmp_path / "c"), progress=False))
