"""Module test tables: each module here defines CASES (see tests/_helpers/module_tests.py for the format).
test_module_table.py runs every case of every table."""
import importlib
import pkgutil


def all_cases():
    cases = []
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(__name__ + "." + info.name)
        cases.extend(getattr(mod, "CASES", []))
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, "duplicate case names: {}".format(sorted(dup))
    return cases
