"""Import smoke test of every distribution and the namespace recipe (DESIGN.md, Namespace packaging)."""
import importlib
import importlib.util
import subprocess
import sys

import pytest

SATELLITES = {"nn": "ember-nn", "optim": "ember-optim", "legacy": "ember-legacy"}


def _installed(sub):
    try:
        return importlib.util.find_spec("ember." + sub) is not None
    except ImportError:  # ember's finder for missing satellites
        return False


def test_core_imports_and_exports():
    import ember
    assert ember.__path__ and len(ember.__path__) >= 1
    for name in ("FloatTensor", "Size", "typename", "is_tensor", "set_default_tensor_type", "from_numpy",
                 "set_num_threads", "get_num_threads"):
        assert hasattr(ember, name), name
    importlib.import_module("ember.cuda")
    importlib.import_module("ember.backends.cudnn")
    importlib.import_module("ember.utils.backcompat")


@pytest.mark.parametrize("sub", sorted(SATELLITES))
def test_satellite_attribute_or_clear_error(sub):
    import ember
    if _installed(sub):
        mod = getattr(ember, sub)
        assert mod.__name__ == "ember." + sub
        return
    with pytest.raises(ImportError, match="pip install {}".format(SATELLITES[sub])):
        getattr(ember, sub)


@pytest.mark.parametrize("sub", sorted(SATELLITES))
def test_import_statement_of_missing_satellite_names_the_distribution(sub):
    # a fresh interpreter, so no earlier import in this process hides the finder's behaviour
    code = ("import sys\ntry:\n    import ember.{0}\nexcept ImportError as e:\n    print('ERR', e)\n"
            "else:\n    print('OK')\n").format(sub)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    if out.startswith("OK"):
        assert _installed(sub)
    else:
        assert "pip install {}".format(SATELLITES[sub]) in out


def test_unknown_attribute_is_attribute_error():
    import ember
    with pytest.raises(AttributeError):
        ember.no_such_thing


def test_extension_modules_load():
    from ember._C import openmp
    assert openmp.get_max_threads() >= 1
