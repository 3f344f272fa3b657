"""Install ember's locally built wheels (from `tox -e build`) by file path, never from an index.

usage: python tools/install_wheels.py DIST_DIR core [nn optim vision legacy]
"""
import glob
import os
import subprocess
import sys

NAMES = {"core": "ember_core", "nn": "ember_nn", "optim": "ember_optim", "vision": "ember_vision",
         "legacy": "ember_legacy"}


def main(argv):
    dist, parts = argv[0], argv[1:]
    wheels = []
    for p in parts:
        found = sorted(glob.glob(os.path.join(dist, NAMES[p] + "-*.whl")))
        if not found:
            sys.exit("no wheel for {} in {}: run `tox -e build` first".format(p, dist))
        wheels.append(found[-1])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps"] + wheels)
    # dependencies (numpy, scipy, ...) from the index, the wheels themselves from disk
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + wheels)


if __name__ == "__main__":
    main(sys.argv[1:])
