"""Sweeps, sensitivity analysis and reopening results folders."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim
from sim.app.cli import main
from sim.errors import ScenarioError
from sim.model.run import replication_seeds
from sim.scenario.schema import Scenario, Sweep

SMALL = {"hierarchy": {"branching": [2, 3, 4]}, "steps": 8, "replications": 2, "seed": 5}


def scenario(**sections) -> Scenario:
    return Scenario.model_validate({"name": "small", **SMALL, **sections})


def test_grid_points_are_every_combination_and_zip_points_go_in_step():
    grid = Sweep(grid={"relay.escalation": [0.1, 0.2], "relay.dilution": [0.0, 0.05, 0.1]})
    assert grid.points()[:4] == [
        {"relay.escalation": 0.1, "relay.dilution": 0.0},
        {"relay.escalation": 0.1, "relay.dilution": 0.05},
        {"relay.escalation": 0.1, "relay.dilution": 0.1},
        {"relay.escalation": 0.2, "relay.dilution": 0.0},
    ]
    assert len(grid.points()) == 6
    zipped = Sweep(zip={"relay.escalation": [0.1, 0.2], "relay.dilution": [0.0, 0.05]})
    assert zipped.points() == [
        {"relay.escalation": 0.1, "relay.dilution": 0.0},
        {"relay.escalation": 0.2, "relay.dilution": 0.05},
    ]


@pytest.mark.parametrize(
    "section, message",
    [
        ({"grid": {"relay.escalation": [0.1]}, "zip": {"relay.dilution": [0.1]}}, "either grid or zip"),
        ({}, "either grid or zip"),
        ({"grid": {"relay.escalaton": [0.1]}}, "did you mean 'relay.escalation'"),
        ({"grid": {"relay.dilution": [0.1, 1.5]}}, "relay.dilution"),
        ({"zip": {"relay.escalation": [0.1, 0.2], "relay.dilution": [0.1]}}, "equally long"),
        ({"grid": {"relay.escalation": []}}, "at least one value"),
    ],
)
def test_bad_sweeps_are_refused(section, message):
    with pytest.raises(ScenarioError, match=message):
        sim.parse_scenario(json.dumps({"name": "x", "sweep": section}), "bad.yaml")


def test_sweep_runs_every_point_with_common_random_numbers(tmp_path):
    rates = [0.0, 0.25, 1.0]
    result = sim.sweep(
        scenario(sweep={"grid": {"accountability.inspection_rate": rates}}), out=tmp_path / "sweep", progress=False
    )
    assert len(result.runs) == len(rates) * 2
    seeds = replication_seeds(5, 2)
    for _, group in result.runs.groupby("point"):
        assert group.sort_values("replication")["seed"].tolist() == seeds
    burden = result.table[result.table["outcome"] == "burden"].sort_values("point")["mean"].to_numpy()
    assert burden[0] < burden[1] < burden[2]  # hosting more inspections costs more capacity
    assert (tmp_path / "sweep" / "plots" / "sweep_goal_attainment.png").stat().st_size > 0
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert sorted(table["accountability.inspection_rate"].unique()) == rates
    again = sim.load_results(tmp_path / "sweep")
    pd.testing.assert_frame_equal(again.table, result.table)


def test_a_two_parameter_grid_is_drawn_as_a_heat_map(tmp_path):
    grid = {"grid": {"relay.escalation": [0.0, 0.2], "relay.dilution": [0.0, 0.1]}}
    result = sim.sweep(scenario(sweep=grid, replications=1), out=tmp_path / "grid", progress=False)
    figure = result.plot("goal_attainment")
    assert figure.axes[0].images, "a heat map draws an image"
    assert len(result.points) == 4


def test_morris_screening_ranks_escalation_above_a_parameter_that_does_nothing(tmp_path):
    uncertainties = {
        "relay.escalation": [0.0, 0.5],
        "task.clarity": [0.99, 1.0],
        "accountability.inspection_cap": [1, 4],
    }
    base = scenario(uncertainties=uncertainties, replications=1, steps=15)
    result = sim.sensitivity(base, method="morris", samples=4, out=tmp_path / "morris", progress=False)
    assert len(result.samples) == 4 * (len(uncertainties) + 1)
    caps = result.runs.merge(result.samples, on="point")["accountability.inspection_cap"]
    assert set(result.samples["accountability.inspection_cap"]).issubset({1.0, 2.0, 3.0, 4.0})
    assert caps.notna().all()
    goal = result.indices[result.indices["outcome"] == "goal_attainment"].set_index("parameter")
    assert goal.loc["relay.escalation", "mu_star"] > goal.loc["task.clarity", "mu_star"]
    assert (tmp_path / "morris" / "samples.csv").exists() and (tmp_path / "morris" / "indices.csv").exists()
    reopened = sim.load_results(tmp_path / "morris")
    assert reopened.method == "morris"
    pd.testing.assert_frame_equal(reopened.indices, result.indices)


def test_sobol_indices_have_confidence_intervals(tmp_path):
    uncertainties = {"relay.escalation": [0.0, 0.5], "relay.dilution": [0.0, 0.2]}
    base = scenario(uncertainties=uncertainties, replications=1, steps=5)
    result = sim.sensitivity(base, method="sobol", samples=8, out=tmp_path / "sobol", progress=False)
    assert len(result.samples) == 8 * (len(uncertainties) + 2)
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(result.indices.columns)


@pytest.mark.parametrize(
    "options, message",
    [({"method": "fast"}, "unknown method"), ({"method": "sobol", "samples": 6}, "power of two")],
)
def test_bad_sensitivity_options_are_refused(tmp_path, options, message):
    base = scenario(uncertainties={"relay.escalation": [0.0, 0.5], "relay.dilution": [0.0, 0.2]})
    with pytest.raises(ScenarioError, match=message):
        sim.sensitivity(base, out=tmp_path / "x", progress=False, **options)
    assert not (tmp_path / "x").exists()


def test_sensitivity_needs_two_uncertainties(tmp_path):
    with pytest.raises(ScenarioError, match="two uncertain"):
        sim.sensitivity(scenario(uncertainties={"relay.escalation": [0.0, 0.5]}), out=tmp_path / "x", progress=False)


def test_cli_sweep_and_refusal_without_a_sweep_section(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"name": "s", **SMALL, "sweep": {"zip": {"relay.escalation": [0.0, 0.3]}}}))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 0
    assert (tmp_path / "out" / "sweep.csv").exists()
    bare = tmp_path / "bare.yaml"
    bare.write_text(json.dumps({"name": "bare", **SMALL}))
    assert main(["sweep", str(bare), "--out", str(tmp_path / "none"), "--quiet"]) == 2
    assert "no sweep" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


def test_load_results_reopens_a_run_folder(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(json.dumps({"name": "r", **SMALL}))
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    result = sim.load_results(tmp_path / "run")
    assert len(result.steps) == 2 * 8 and result.scenario.name == "r"
    with pytest.raises(ScenarioError, match="not a results folder"):
        sim.load_results(tmp_path)


def test_a_sensitivity_folder_refuses_another_method_or_sample_size(tmp_path):
    uncertainties = {"relay.escalation": [0.0, 0.5], "relay.dilution": [0.0, 0.2]}
    base = scenario(uncertainties=uncertainties, replications=1, steps=4)
    sim.sensitivity(base, method="morris", samples=2, out=tmp_path / "s", progress=False)
    for options in ({"method": "sobol", "samples": 2}, {"method": "morris", "samples": 4}):
        with pytest.raises(ScenarioError, match="another scenario or design"):
            sim.sensitivity(base, out=tmp_path / "s", progress=False, **options)
    again = sim.sensitivity(base, method="morris", samples=2, out=tmp_path / "s", progress=False)
    assert len(again.samples) == 2 * 3
