"""Where the real test data lives: ../shared/data beside the repository root."""
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_DATA = os.environ.get("EMBER_SHARED_DATA", os.path.join(os.path.dirname(REPO), "shared", "data"))


def shared_data(*parts):
    """Path of a file under shared/data; skips the test only when the whole folder is missing."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip("shared/data is not present beside the repository")
    return os.path.join(SHARED_DATA, *parts)
