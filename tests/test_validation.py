"""The validation report: its statistics, verdicts and the command that writes it.

The model's patterns themselves are tested in test_patterns.py (the same claims the report
evaluates); here a quick report checks the machinery end to end."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SCENARIOS

from sim.app.cli import main
from sim.checks.patterns import PATTERNS
from sim.checks.validation import Settings, build_report, closed_forms, write_markdown


def test_closed_forms_hold_exactly():
    frame = closed_forms(SCENARIOS / "patterns", depths=(1, 3))
    assert set(frame["pattern"]) == {"P1", "P2"}
    assert frame["relative_deviation"].max() < 1e-12


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    figures = tmp_path_factory.mktemp("figures")
    return build_report(SCENARIOS, figures, Settings.quick(), say=lambda message: None), figures


def test_quick_report_has_every_section_figure_and_verdict(quick_report):
    report, figures = quick_report
    text = write_markdown(report, Settings.quick())
    for heading in (
        "## Summary",
        "## Closed forms",
        f"## Patterns {PATTERNS[0].id}–{PATTERNS[-1].id}",
        "## Calibration",
        "## Robustness",
        "## What the top believes: summed claims against completion rates",
        "## Where sanctions land: blame shifting and middle levels that decide",
        "## Replications",
    ):
        assert heading in text
    levels = report.sanction_levels
    for _, group in levels.groupby(["blame_shift", "setting"]):
        assert group["mean"].sum() == pytest.approx(1.0)  # the shares of every level add up
    rates = report.reports.set_index(["rule", "output"])["mean"]
    assert rates["sum", "goal_attainment"] == rates["rate", "goal_attainment"]  # the rule changes beliefs only
    assert rates["sum", "reported_attainment"] > rates["rate", "reported_attainment"]
    for pattern in PATTERNS:
        assert f"### {pattern.id}:" in text
        assert (figures / f"{pattern.id.lower()}.png").stat().st_size > 0
    for name in (
        "p1_closed_form",
        "p2_closed_form",
        "calibration_waves",
        "calibration_posterior_pairs",
        "calibration_predictive_checks",
        "robustness",
        "replications",
    ):
        assert (figures / f"{name}.png").stat().st_size > 0
    assert {r.pattern for r in report.patterns} == {p.id for p in PATTERNS}
    assert set(report.robustness["pattern"]) == {p.id for p in PATTERNS}
    calibration = report.calibration  # the shipped calibration, made tiny (Settings.quick)
    for target in calibration.scenario.targets:
        assert target.name in text and target.name in set(report.at_defaults["target"])
    assert "(held out)" in text and "at the defaults" in text
    assert set(report.pattern_draws["pattern"]) == {p.id for p in PATTERNS}
    assert "fitted targets met at the calibrated point" in text


def test_validation_command_refuses_a_folder_without_validation_scenarios(tmp_path, capsys):
    assert main(["validation", "--quick", "--scenarios", str(tmp_path), "--out", str(tmp_path / "V.md")]) == 2
    assert "has no patterns/ folder" in capsys.readouterr().err
    assert not (tmp_path / "V.md").exists()


def test_the_robustness_worlds_give_the_same_rows_on_two_processes():
    from sim.checks.validation import robustness
    from sim.scenario.loader import load_scenario

    sampled = load_scenario(SCENARIOS / "validation" / "robustness.yaml")
    serial = robustness(sampled, SCENARIOS / "patterns", 2, 1, lambda message: None, workers=1)
    parallel = robustness(sampled, SCENARIOS / "patterns", 2, 1, lambda message: None, workers=2)
    pd.testing.assert_frame_equal(serial[0], parallel[0])
    pd.testing.assert_frame_equal(serial[1], parallel[1])
