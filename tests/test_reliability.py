"""Every bad input of the catalogue (tests/catalogue.py) is answered clearly: exit status 2,
a one-paragraph message with the expected fragments, no traceback, nothing written."""

from __future__ import annotations

import pytest
from catalogue import CASES, observe
from conftest import ROOT


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_answered_clearly(case, tmp_path):
    seen = observe(case, tmp_path)
    assert seen.status == 2, f"exit status {seen.status}: {seen.message}"
    assert "Traceback" not in seen.message
    assert seen.message.startswith(("bureausim: error:", "usage:")), seen.message
    assert len(seen.message.splitlines()) <= 3, "one paragraph"
    for fragment in case.expect:
        assert fragment in seen.message, f"{fragment!r} not in {seen.message!r}"
    assert seen.written == [], f"wrote {seen.written}"
    assert not (tmp_path / "pwned").exists()


def test_the_catalogue_has_at_least_forty_distinct_cases():
    assert len({case.id for case in CASES}) == len(CASES) >= 40


def test_the_reliability_document_lists_every_case():
    text = (ROOT / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    missing = [case.id for case in CASES if f"`{case.id}`" not in text]
    assert not missing, f"run make reliability: docs/RELIABILITY.md lacks {missing}"


def test_a_second_command_on_the_same_output_folder_is_refused(tmp_path):
    """While one comparison writes a folder, another on the same folder exits 2 and writes nothing."""
    import subprocess
    import sys
    import time

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: busy\nhierarchy: {branching: [4, 4, 6]}\nsteps: 60\nreplications: 30\n"
        "arms: [{name: a}, {name: b, policies: [fault_tolerance]}]\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim", "compare", str(scenario), "--out", str(out), "--workers", "1", "--quiet"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (out / "experiment.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert first.poll() is None, "the first comparison should still be running"
        before = sorted(p.name for p in out.rglob("*"))
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        assert "being written by another bureausim command" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None or first.returncode == 0
        assert set(before) <= {p.name for p in out.rglob("*")}
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    assert (
        subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    )  # free again: resumes, nothing to do
