import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # the case tables import as `cases`
    sys.path.insert(0, HERE)
