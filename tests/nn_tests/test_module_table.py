"""Runs every module case of tests/nn_tests/cases against PyTorch (parity env), gradcheck and state_dict
round trips (see tests/_helpers/module_tests.py)."""
import pytest

from _helpers import module_tests
from cases import all_cases

CASES = all_cases()
IDS = [c["name"] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_against_torch(case):
    torch = pytest.importorskip("torch")
    if case.get("skip_torch"):
        pytest.skip(case["skip_torch"])
    module_tests.run_case(case, torch)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    module_tests.run_gradcheck(case)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_backward_runs_without_torch(case):
    module_tests.run_case(case, None)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_dict_round_trip(case, tmp_path):
    module_tests.run_state_dict_round_trip(case, tmp_path)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cuda_matches_cpu(case, device_mode):
    module_tests.run_case_on_cuda(case)
