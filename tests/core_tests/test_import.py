"""`import ember` stays light: SciPy's special functions and LAPACK wrappers load on first use."""
import subprocess
import sys


def test_import_does_not_load_scipy_special_or_linalg():
    code = ("import sys, ember\n"
            "heavy = [m for m in ('scipy.special', 'scipy.linalg') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "x = ember.DoubleTensor([0.5, 2.0])\n"
            "assert abs(x.lgamma()[1]) < 1e-12 and abs(x.sigmoid()[0] - 0.6224593312018546) < 1e-12\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
