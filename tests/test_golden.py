"""Golden outputs: every table of a fixed set of runs and experiments, bit for bit (tests/golden.py)."""

from __future__ import annotations

import numpy as np
import pytest
from golden import GOLDEN, Case, cases, differences, produce

from sim.model import rules

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_tables_match_the_golden_files(case, tmp_path):
    problems = differences(case, produce(case, tmp_path))
    assert not problems, (
        f"{case.name} differs from tests/golden (regenerate with `make golden` only on purpose):\n"
        + "\n".join(problems)
    )


def test_every_case_has_golden_files_and_no_file_is_orphaned():
    pinned = {path.stem for path in GOLDEN.glob("*.json")}
    assert pinned == {case.pinned for case in CASES}


def test_a_changed_equation_fails_the_comparison(tmp_path, monkeypatch):
    """Negative control: one relay equation off by a factor of 1 + 1e-12 is caught."""
    original = rules.relayed_clarity
    monkeypatch.setattr(rules, "relayed_clarity", lambda clarity, dilution: original(clarity, dilution) * (1 + 1e-12))
    case = next(case for case in CASES if case.name == "small_vectorized")
    problems = differences(case, produce(case, tmp_path))
    assert any(problem.startswith("steps.parquet") for problem in problems)
    assert any(problem.startswith("summary.csv") and "first at line" in problem for problem in problems)


def test_the_digest_sees_the_last_bit(tmp_path):
    """Negative control: a table differing from the stored one in the last bit of one float is caught."""
    case = Case("baseline", CASES[0].args)
    tables = produce(case, tmp_path)
    steps = tables["steps.parquet"]
    column = "goal_attainment"
    steps.loc[3, column] = np.nextafter(steps.loc[3, column], 2.0)
    assert any(problem.startswith("steps.parquet") for problem in differences(case, tables))


def test_numpy_runs_the_kernels_the_golden_files_were_pinned_with():
    import platform

    from numpy._core._multiarray_umath import __cpu_features__

    if platform.machine().lower() not in {"x86_64", "amd64"}:
        pytest.skip("the kernels are pinned on x86-64 only (tests/kernels.py)")
    assert not __cpu_features__.get("X86_V4"), "numpy was imported before tests/kernels.py set its kernels"
