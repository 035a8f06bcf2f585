"""Calibration against numbers from the world (docs/ODD.md, section 16).

Targets are data with their uncertainty and source; refused input names file, line and field.
The method's arithmetic (implausibility, contraction, one-to-one maps) is checked on numbers
worked by hand. End to end, a small user-written calibration recovers a parameter from targets
made by the model itself at a known value (the posterior covers it and contracts), while the
same targets with uncertainty so wide they say nothing leave the posterior as wide as the prior
(the negative control); it gives the same posterior serially and on two processes, and a second
call on its folder runs nothing and finds the same.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.analysis.history_matching import Observation, implausibility, one_to_one, weighted_summary
from sim.checks.calibration import run_calibration
from sim.errors import ScenarioError
from sim.experiments.calibrate import most_patterns
from sim.model.run import replication_seeds, run_one
from sim.scenario.loader import load_scenario
from sim.scenario.outcome_values import run_value
from sim.scenario.parameters import UNCALIBRATED, Parameters, value_at
from sim.scenario.schema import Scenario
from sim.scenario.targets import RANGE_SDS, Target

ROOT = Path(__file__).resolve().parent.parent

TRUE_BLAME_SHIFT = 0.8
TRUE_DILUTION = 0.05


def user_scenario(targets: list[dict], **calibration) -> dict:
    """A small user-written calibration: three levels, blame shifting and dilution to fit."""
    return {
        "name": "user_calibration",
        "seed": 11,
        "steps": 30,
        "burn_in": 10,
        "hierarchy": {"branching": [3, 4]},
        "parameters": {"relay": {"report_rule": "rate"}},
        "targets": targets,
        "calibration": {
            "parameters": {"accountability.blame_shift": [0.5, 0.99], "relay.dilution": [0.0, 0.15]},
            "replications": 2,
            "screening": 0,
            "waves": 2,
            "points": 12,
            "space_sample": 2000,
            "population": 16,
            "generations": 3,
            "draws": 4,
        }
        | calibration,
    }


def write(tmp_path: Path, data: dict, name: str = "user.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def truth() -> dict[str, float]:
    """The township share and clarity the small model gives at the true blame shift (8 replications)."""
    scenario = Scenario.model_validate(
        user_scenario([{"name": "x", "output": "goal_attainment", "value": 1, "sd": 1, "source": "none"}])
    )
    values = {"sanction_share_township": [], "clarity_at_bottom": [], "goal_attainment": []}
    for k, seed in enumerate(replication_seeds(99, 8)):
        steps = run_one(
            scenario,
            seed,
            replication=k,
            overrides={"accountability.blame_shift": TRUE_BLAME_SHIFT, "relay.dilution": TRUE_DILUTION},
            agents=False,
        ).steps
        after = steps[steps["period"] > scenario.burn_in_periods]
        for name in values:
            values[name].append(run_value(after[name]))
    return {name: float(np.mean(v)) for name, v in values.items()}


def targets_from(truth: dict[str, float], sd: float) -> list[dict]:
    """The model's own values at the true point as targets: two fitted (with ``sd``), attainment held out."""
    return [
        {
            "name": "township_share",
            "output": "sanction_share_township",
            "value": round(truth["sanction_share_township"], 4),
            "sd": sd,
            "source": "the model itself at blame_shift 0.8",
        },
        {
            "name": "clarity",
            "output": "clarity_at_bottom",
            "value": round(truth["clarity_at_bottom"], 4),
            "sd": sd,
            "source": "the model itself at blame_shift 0.8",
        },
        {
            "name": "attainment",
            "output": "goal_attainment",
            "value": round(truth["goal_attainment"], 4),
            "sd": 0.05,
            "held_out": True,
            "source": "the model itself",
        },
    ]


@pytest.fixture(scope="module")
def recovered(tmp_path_factory, truth):
    folder = tmp_path_factory.mktemp("calibration")
    path = write(folder, user_scenario(targets_from(truth, 0.03)))
    serial = run_calibration(path, out=folder / "serial", workers=1, progress=False)
    return path, folder, serial


# --- targets as data -------------------------------------------------------------------------


def test_a_range_is_a_95_percent_interval_and_its_centre_the_value():
    target = Target(name="gap", output="implementation_gap", range=(0.1, 0.3), source="a source")
    assert target.observed == pytest.approx(0.2)
    assert target.observation_sd == pytest.approx(0.2 / RANGE_SDS)
    assert target.total_sd(0.05) == pytest.approx(math.hypot(0.2 / RANGE_SDS, 0.01))
    given = Target(
        name="gap", output="implementation_gap", value=0.15, range=(0.1, 0.3), discrepancy=0.0, source="a source"
    )
    assert given.observed == 0.15 and given.total_sd(0.5) == pytest.approx(0.2 / RANGE_SDS)


@pytest.mark.parametrize(
    ("target", "field", "words"),
    [
        ({"name": "a", "output": "goal_attainment", "value": 0.5, "source": "s s s"}, "targets.0", "sd"),
        (
            {"name": "a", "output": "goal_attainment", "value": 0.5, "sd": 0.1, "range": [0, 1], "source": "s s s"},
            "targets.0",
            "not both",
        ),
        (
            {"name": "a", "output": "goal_attainment", "value": 2, "range": [0, 1], "source": "s s s"},
            "targets.0",
            "outside its range",
        ),
        (
            {"name": "a", "output": "goal_attainment", "range": [1, 0], "source": "s s s"},
            "targets.0.range",
            "low < high",
        ),
        ({"name": "a", "output": "goal_attainment", "value": 0.5, "sd": 0.1}, "targets.0.source", "source"),
        (
            {"name": "a", "output": "goal_attainment", "value": 0.5, "sd": 0.1, "source": "s s s", "arm": "nope"},
            "targets.0",
            "no arm nope",
        ),
    ],
)
def test_a_bad_target_is_refused_with_file_line_and_field(tmp_path, target, field, words):
    path = write(tmp_path, user_scenario([target]))
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    message = str(error.value)
    assert str(path) in message and field in message and words in message
    assert re.search(r"user\.yaml:\d+: ", message)  # the line of the value


def test_the_same_target_named_twice_and_a_non_numeric_parameter_are_refused(tmp_path):
    twice = {"name": "a", "output": "goal_attainment", "value": 0.5, "sd": 0.1, "source": "s s s"}
    with pytest.raises(ScenarioError, match="named twice"):
        load_scenario(write(tmp_path, user_scenario([twice, dict(twice)])))
    data = user_scenario([twice])
    data["calibration"]["parameters"] = {"relay.report_rule": [0, 1]}
    with pytest.raises(ScenarioError, match=r"calibration.parameters.relay.report_rule"):
        load_scenario(write(tmp_path, data))


def test_calibrate_refuses_what_it_cannot_fit_before_any_run(tmp_path):
    held = {"name": "a", "output": "goal_attainment", "value": 0.5, "sd": 0.1, "source": "s s s", "held_out": True}
    path = write(tmp_path, user_scenario([held]))
    with pytest.raises(ScenarioError, match="not held out"):
        run_calibration(path, out=tmp_path / "out", progress=False)
    unknown = {"name": "a", "output": "no_such_output", "value": 0.5, "sd": 0.1, "source": "s s s"}
    with pytest.raises(ScenarioError, match="no_such_output"):
        run_calibration(write(tmp_path, user_scenario([unknown])), out=tmp_path / "out", progress=False)
    fine = {"name": "a", "output": "goal_attainment", "value": 0.5, "sd": 0.1, "source": "s s s"}
    with pytest.raises(ScenarioError, match=r"calibration.patterns.0: no pattern P99"):
        run_calibration(write(tmp_path, user_scenario([fine], patterns=["P99"])), out=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_the_shipped_calibration_names_its_sources_and_holds_targets_out():
    scenario = load_scenario(ROOT / "scenarios" / "calibration" / "china.yaml")
    assert {t.name for t in scenario.targets if t.held_out} and {t.name for t in scenario.targets if not t.held_out}
    assert all(len(t.source) > 40 for t in scenario.targets)
    share = next(t for t in scenario.targets if t.output == "sanction_share_township")
    assert 0.7 < share.observed < 0.8  # leading cadres, not the headline 95%
    first = next(t for t in scenario.targets if t.output == "escalation_at_province")
    assert scenario.hierarchy.levels[0] == "centre" and first.observed == pytest.approx(9.9 / 7.5, abs=0.005)


def test_the_defaults_move_exactly_the_calibrated_parameters_and_the_lean_arm_restores_them():
    """ODD "Default values": seven defaults are the calibration's; china.yaml runs at them; one arm undoes them."""
    china = load_scenario(ROOT / "scenarios" / "calibration" / "china.yaml")
    calibrated = set(china.calibration.parameters)
    assert set(UNCALIBRATED) == calibrated
    assert not any(china.sets_parameter(path) for path in calibrated)  # its runs are at the code's defaults
    defaults = {path: value_at(Parameters(), path) for path in calibrated}
    assert all(defaults[path] != value for path, value in UNCALIBRATED.items())
    for path, (low, high) in china.calibration.parameters.items():
        assert low <= defaults[path] <= high, path
    arms = {arm.name: arm for arm in load_scenario(ROOT / "scenarios" / "calibration" / "before_after.yaml").arms}
    assert arms["uncalibrated"].set == UNCALIBRATED and not arms["calibrated"].set


# --- the arithmetic --------------------------------------------------------------------------


def test_implausibility_is_the_largest_standardised_distance():
    observed = [Observation("a", 1.0, 0.03), Observation("b", 0.0, 0.01)]
    means = np.array([[1.2, 0.0], [1.0, 0.3], [np.nan, 0.0]])
    variances = np.array([[0.01, 0.0], [0.0, 0.08], [0.0, 0.0]])
    scores = implausibility(means, variances, observed)
    assert scores[0] == pytest.approx(0.2 / math.sqrt(0.04))
    assert scores[1] == pytest.approx(0.3 / math.sqrt(0.09))
    assert scores[2] == math.inf


def test_contraction_is_near_zero_for_the_prior_and_near_one_for_a_point():
    rng = np.random.default_rng(1)
    box = {"x": (0.0, 1.0)}
    wide = weighted_summary(pd.DataFrame({"x": rng.uniform(0, 1, 5000)}), np.ones(5000), box)
    narrow = weighted_summary(pd.DataFrame({"x": rng.normal(0.4, 0.01, 5000)}), np.ones(5000), box)
    assert abs(wide["contraction"].iloc[0]) < 0.05
    assert narrow["contraction"].iloc[0] > 0.99 and narrow["mean"].iloc[0] == pytest.approx(0.4, abs=0.001)


def test_one_to_one_names_a_parameter_that_alone_moves_one_target():
    screening = pd.DataFrame(
        {
            "parameter": ["e", "m", "b", "e", "m", "b"],
            "target": ["escalation", "escalation", "escalation", "share", "share", "share"],
            "mu_star_sd": [5.0, 0.1, 0.0, 0.1, 2.0, 3.0],
        }
    )
    assert one_to_one(screening, 0.5) == [("e", "escalation")]
    screening.loc[3, "mu_star_sd"] = 1.0  # e now moves the share too: no longer one to one
    assert one_to_one(screening, 0.5) == []


# --- end to end ------------------------------------------------------------------------------


def test_escalation_by_level_gives_each_level_its_markup():
    scenario = Scenario.model_validate(
        {
            "steps": 6,
            "hierarchy": {"branching": [2, 2, 3], "levels": ["centre", "province", "county", "township"]},
            "parameters": {"relay": {"escalation_by_level": [0.32, 0.1, 0.05], "escalation_pressure": 0.0}},
        }
    )
    steps = run_one(scenario, 1, agents=False).steps
    assert steps["escalation_at_province"].to_numpy() == pytest.approx(1.32)
    assert steps["escalation_at_county"].to_numpy() == pytest.approx(1.32 * 1.1)
    assert steps["escalation_at_bottom"].to_numpy() == pytest.approx(1.32 * 1.1 * 1.05)
    agents = run_one(scenario.model_copy(update={"engine": "agents"}), 1, agents=False).steps
    pd.testing.assert_frame_equal(steps, agents)
    plain = run_one(Scenario.model_validate({"steps": 2, "hierarchy": {"branching": [2, 3]}}), 1, agents=False).steps
    assert not [c for c in plain.columns if c.startswith("escalation_at_") and c != "escalation_at_bottom"]


def test_a_user_calibration_recovers_a_known_parameter(recovered):
    _, _, result = recovered
    summary = result.summary.set_index("parameter")
    blame = summary.loc["accountability.blame_shift"]
    assert blame["q05"] <= TRUE_BLAME_SHIFT <= blame["q95"]
    assert blame["contraction"] > 0.5
    dilution = summary.loc["relay.dilution"]  # the clarity target pins it
    assert dilution["q05"] <= TRUE_DILUTION <= dilution["q95"] and dilution["contraction"] > 0.5
    assert result.waves["ruled_out_share"].sum() > 0.3  # the township share rules most of the box out
    for name in (
        "screening.csv",
        "waves.csv",
        "posterior.csv",
        "posterior_summary.csv",
        "predictive_checks.csv",
        "identifiability.md",
        "calibrated.yaml",
        "posterior_pairs.png",
        "predictive_checks.png",
        "abc.db",
    ):
        assert (result.folder / name).is_file(), name
    held = result.predictive.set_index("target").loc["attainment"]
    assert bool(held["held_out"]) and held["consistent"]
    fitted = result.at_calibrated.set_index("target").loc["township_share"]
    assert fitted["met"]
    calibrated = yaml.safe_load((result.folder / "calibrated.yaml").read_text(encoding="utf-8"))
    assert calibrated["parameters"]["accountability"]["blame_shift"] == pytest.approx(
        result.calibrated["accountability.blame_shift"], rel=1e-5
    )


def test_targets_that_say_nothing_pin_nothing_down(tmp_path, truth):
    """The negative control: the same target with an sd of 10 leaves the posterior as wide as the prior."""
    path = write(tmp_path, user_scenario(targets_from(truth, 10.0), generations=2, population=48))
    result = run_calibration(path, out=tmp_path / "vague", workers=1, progress=False)
    summary = result.summary.set_index("parameter")
    assert summary.loc["accountability.blame_shift", "contraction"] < 0.3
    assert result.waves["ruled_out_share"].sum() == 0
    assert any("not identified" in note for note in result.notes)


def test_the_same_posterior_on_two_processes_and_after_a_resume(recovered):
    path, folder, serial = recovered
    parallel = run_calibration(path, out=folder / "parallel", workers=2, progress=False)
    pd.testing.assert_frame_equal(serial.posterior, parallel.posterior)
    assert serial.calibrated == parallel.calibrated
    again = run_calibration(path, out=folder / "serial", workers=1, progress=False)
    pd.testing.assert_frame_equal(serial.posterior, again.posterior)
    manifest = json.loads((folder / "serial" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["invocations"][-1]["runs_run"] == 0  # every run was stored: none ran again


def test_bureausim_calibrate_on_the_command_line(tmp_path, truth):
    path = write(tmp_path, user_scenario(targets_from(truth, 0.02), generations=1, waves=1))
    out = tmp_path / "cli"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "calibrate", str(path), "--out", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(str(out))
    assert "calibrated point" in done.stderr and "township_share" in done.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "calibrate",
            str(ROOT / "scenarios" / "baseline.yaml"),
            "--out",
            str(tmp_path / "none"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "calibration:" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "none").exists()


# --- reform effects over the posterior -------------------------------------------------------

COMPARED = {
    "name": "compared",
    "seed": 3,
    "steps": 24,
    "replications": 3,
    "hierarchy": {"branching": [2, 4]},
    "parameters": {"relay": {"report_rule": "rate"}},
    "arms": [{"name": "status_quo"}, {"name": "fault_tolerance", "policies": ["fault_tolerance"]}],
    "outcomes": [{"name": "goal_attainment", "direction": "maximize"}],
}


def fake_calibration(folder: Path, particles: pd.DataFrame) -> Path:
    """A calibration folder as bureausim calibrate leaves it, as far as compare --posterior reads it."""
    folder.mkdir(parents=True)
    particles.to_csv(folder / "posterior.csv", index=False)
    manifest = {"kind": "calibrate", "calibration": {"parameters": ["execution.intrinsic_motivation"], "draws": 6}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_reform_effects_over_the_posterior_carry_parameter_uncertainty(tmp_path):
    """Draws of one parameter value spread nothing (common seeds); a wide posterior spreads the effect."""
    from sim import compare

    scenario = write(tmp_path, COMPARED, "compared.yaml")
    point = fake_calibration(
        tmp_path / "point", pd.DataFrame({"execution.intrinsic_motivation": [0.9] * 5, "weight": [0.2] * 5})
    )
    wide = fake_calibration(
        tmp_path / "wide",
        pd.DataFrame({"execution.intrinsic_motivation": [0.4, 0.6, 0.9, 1.2, 1.5], "weight": [0.2] * 5}),
    )
    at_point = compare(scenario, posterior=point, out=tmp_path / "a", workers=1, progress=False).effects
    over = compare(scenario, posterior=wide, out=tmp_path / "b", workers=1, progress=False).effects
    plain = compare(scenario, out=tmp_path / "c", workers=1, progress=False).effects
    row = at_point.set_index("arm").loc["fault_tolerance"]
    assert row["draws"] == 6 and row["n"] == 18 and "posterior draws" in row["uncertainty"]
    assert row["draw_low"] == pytest.approx(row["draw_high"])  # same parameters, same seeds: no spread
    spread = over.set_index("arm").loc["fault_tolerance"]
    assert spread["draw_high"] - spread["draw_low"] > 0.005
    assert "uncertainty" not in plain  # the plain comparison's table is unchanged
    with pytest.raises(ScenarioError, match="not the folder of a finished calibration"):
        compare(scenario, posterior=tmp_path, out=tmp_path / "d", progress=False)


def test_a_pattern_scenario_keeps_the_values_it_sets_itself():
    """A calibration's point fills only what a pattern file leaves to the defaults (ODD 16)."""
    p7h = load_scenario(ROOT / "scenarios" / "patterns" / "p7h_oversight_differ.yaml")
    assert p7h.sets_parameter("execution.motivated_share")
    assert p7h.sets_parameter("relay.report_rule")
    assert not p7h.sets_parameter("relay.dilution")
    assert not p7h.sets_parameter("middle.inspection_rate")
    p12 = load_scenario(ROOT / "scenarios" / "patterns" / "p12_middle_relay.yaml")
    assert p12.sets_parameter("middle.inspection_rate")


def test_without_a_point_holding_every_pattern_the_one_holding_most_is_chosen():
    names = ["relay.dilution"]
    rows = [
        ("posterior mean", 0.1, "P3", True),
        ("posterior mean", 0.1, "P4", False),
        ("posterior mean", 0.1, "P5", False),
        ("design point wave 2 point 7", 0.05, "P3", True),
        ("design point wave 2 point 7", 0.05, "P4", True),
        ("design point wave 2 point 7", 0.05, "P5", False),
        ("particle of density rank 2", 0.2, "P3", True),
        ("particle of density rank 2", 0.2, "P4", True),
        ("particle of density rank 2", 0.2, "P5", False),
    ]
    checks = pd.DataFrame(rows, columns=["where", *names, "pattern", "holds"])
    assert most_patterns(checks, names) == ("design point wave 2 point 7", {"relay.dilution": 0.05})


def test_the_calibration_figures_are_labelled_and_never_crowd(recovered):
    from test_figures import check_figure

    from sim.analysis.calibration_plots import pair_plot, predictive_plot, screening_plot, waves_plot

    _, _, result = recovered
    if not result.screening.empty:
        check_figure(screening_plot(result.screening))
    check_figure(waves_plot(result.waves))
    check_figure(pair_plot(result.posterior, result.summary, result.calibrated))
    check_figure(predictive_plot(result.predictive))


def test_a_calibration_is_read_back_drawn_again_and_reported(recovered, tmp_path):
    """load_results reopens a calibration; bureausim plot redraws its figures; bureausim report shows it."""
    from test_redraw import fingerprints

    from sim import load_results, redraw
    from sim.app.report import write_report

    _, folder, result = recovered
    serial = folder / "serial"
    back = load_results(serial)
    assert back.calibrated == pytest.approx(result.calibrated) and back.calibrated_by == result.calibrated_by
    assert back.kept == result.kept and back.notes == result.notes
    pd.testing.assert_frame_equal(back.summary, result.summary, check_dtype=False)
    before = fingerprints(serial)
    written = redraw(serial, formats="svg")
    assert {path.stem for path in written} == {path.stem for path in serial.glob("*.png")}
    assert all(path.parent == serial and path.suffix == ".svg" for path in written)
    assert fingerprints(serial) == before
    page = write_report(serial, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Targets at the calibrated point" in page and "posterior_pairs.png" in page


def test_the_calibration_figures_drawn_in_chinese_have_no_english_sentence_left(recovered):
    from test_figures import english_left

    from sim.analysis import style
    from sim.analysis.calibration_plots import pair_plot, predictive_plot, screening_plot, waves_plot
    from sim.analysis.plots import parameter_words, shown

    _, _, result = recovered
    names = [parameter_words(p) for p in result.summary["parameter"]] + [shown(t) for t in result.predictive["target"]]
    with style.using(language="zh"):
        figures = [waves_plot(result.waves), pair_plot(result.posterior, result.summary, result.calibrated)]
        figures.append(predictive_plot(result.predictive))
        if not result.screening.empty:
            figures.append(screening_plot(result.screening))
        for fig in figures:
            assert not english_left(fig, names), english_left(fig, names)
