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


ARMS = [{"name": "status_quo"}, {"name": "tolerant", "policies": [{"fault_tolerance": {"strength": 0.5}}]}]


def run_values_of(scenario_: Scenario, seed: int, arm: str | None = None) -> dict[str, float]:
    """A run's outcome values computed directly, as a sweep's runs must reproduce them."""
    from sim.analysis.statistics import run_values
    from sim.model.run import run_one

    return run_values(run_one(scenario_, seed, arm=arm, agents=False).steps, scenario_.burn_in_periods)


def test_a_sweep_crosses_its_points_with_every_arm_on_common_random_numbers(tmp_path):
    swept = scenario(arms=ARMS, sweep={"grid": {"relay.escalation": [0.0, 0.3]}})
    result = sim.sweep(swept, out=tmp_path / "sweep", progress=False)
    assert len(result.runs) == 2 * 2 * 2  # arms x points x replications
    seeds = result.runs.groupby(["arm", "point"])["seed"].apply(tuple)
    assert seeds.nunique() == 1, "replication k has one seed in every arm and at every point"
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert list(table.columns[:3]) == ["arm", "point", "outcome"]
    assert list(dict.fromkeys(table["arm"])) == ["status_quo", "tolerant"]
    row = result.runs.query("arm == 'tolerant' and point == 1 and replication == 0").iloc[0]
    expected = run_values_of(swept.with_overrides(["parameters.relay.escalation=0.3"]), int(row["seed"]), "tolerant")
    assert row["goal_attainment"] == expected["goal_attainment"]
    assert json.loads((tmp_path / "sweep" / "manifest.json").read_text())["arms"] == ["status_quo", "tolerant"]


def test_a_sweep_over_a_hierarchy_value_runs_each_hierarchy(tmp_path):
    swept = scenario(sweep={"grid": {"hierarchy.extra_principals": [0, 2]}})
    result = sim.sweep(swept, out=tmp_path / "sweep", progress=False)
    row = result.runs.query("point == 1 and replication == 1").iloc[0]
    two = scenario(hierarchy={"branching": [2, 3, 4], "extra_principals": 2})
    assert row["burden"] == run_values_of(two, int(row["seed"]))["burden"]
    burden = result.table.query("outcome == 'burden'").set_index("point")["mean"]
    assert burden[1] > burden[0], "two line departments per township add paperwork"


def test_a_sweep_over_a_policy_option_changes_the_arms_that_have_the_policy_only(tmp_path):
    arms = [ARMS[0], {"name": "tolerant", "policies": ["fault_tolerance"]}]  # the sweep sets its strength
    swept = scenario(arms=arms, sweep={"zip": {"policies.fault_tolerance.strength": [0.0, 1.0]}})
    runs = sim.sweep(swept, out=tmp_path / "sweep", progress=False).runs.set_index(["arm", "point", "replication"])
    status_quo = runs.loc["status_quo", "goal_attainment"]
    assert (status_quo.xs(0, level="point") == status_quo.xs(1, level="point")).all()
    tolerant = runs.loc["tolerant"]
    seed = int(tolerant.loc[(1, 0), "seed"])
    strong = scenario(arms=[ARMS[0], {"name": "tolerant", "policies": [{"fault_tolerance": {"strength": 1.0}}]}])
    assert tolerant.loc[(1, 0), "goal_attainment"] == run_values_of(strong, seed, "tolerant")["goal_attainment"]
    assert tolerant.loc[(0, 0), "goal_attainment"] != tolerant.loc[(1, 0), "goal_attainment"]


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ({"grid": {"hierarchy.extra_principal": [1]}}, "did you mean 'extra_principals'"),
        ({"grid": {"hierarchy.extra_principals": [99]}}, "hierarchy.extra_principals"),
        ({"grid": {"policies.fault_tolerence.strength": [0.5]}}, "did you mean 'fault_tolerance'"),
        ({"grid": {"policies.fault_tolerance.strenght": [0.5]}}, "did you mean 'strength'"),
        ({"grid": {"policies.fault_tolerance.strength": [7]}}, "policies.fault_tolerance.strength"),
    ],
)
def test_bad_hierarchy_and_policy_points_are_refused_with_the_path(sweep, message):
    with pytest.raises(ScenarioError, match=message):
        sim.parse_scenario(json.dumps({"name": "x", "sweep": sweep}), "bad.yaml")


def test_a_policy_option_of_a_policy_switched_on_nowhere_is_refused_before_any_run(tmp_path):
    data = {"name": "small", **SMALL, "sweep": {"grid": {"policies.fault_tolerance.strength": [0.5]}}}
    with pytest.raises(ScenarioError, match="fault_tolerance is not switched on in the scenario or any arm"):
        sim.parse_scenario(json.dumps(data), "s.yaml")
    future = scenario(arms=[{"name": "a"}, {"name": "b"}], uncertainties={"policies.fault_tolerance.strength": [0, 1]})
    with pytest.raises(ScenarioError, match="fault_tolerance is not switched on in the scenario or any arm"):
        sim.robustness(future, out=tmp_path / "robust", progress=False)
    assert not (tmp_path / "robust").exists()


def test_hierarchy_values_are_bureau_model_keywords():
    from sim import BureauModel

    by_keyword = BureauModel(scenario(), extra_principals=2, seed=4)
    by_scenario = BureauModel(scenario(hierarchy={"branching": [2, 3, 4], "extra_principals": 2}), seed=4)
    assert (by_keyword.layout.principals == by_scenario.layout.principals).all()
    by_keyword.run_model()
    by_scenario.run_model()
    pd.testing.assert_frame_equal(
        by_keyword.datacollector.get_model_vars_dataframe(), by_scenario.datacollector.get_model_vars_dataframe()
    )
    counted = BureauModel(counts=[3, 7], spread="random", seed=1)
    assert counted.layout.sizes == [1, 3, 7]


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


def test_sweep_arms_chooses_the_arms_and_an_arm_setting_a_swept_path_is_refused(tmp_path):
    arms = [*ARMS, {"name": "strict", "set": {"relay.escalation": 0.4}}]
    grid = {"grid": {"relay.escalation": [0.0, 0.3]}}
    with pytest.raises(ScenarioError, match=r"arm strict sets relay\.escalation, which the sweep varies"):
        sim.parse_scenario(json.dumps({"name": "x", "arms": arms, "sweep": grid}), "s.yaml")
    with pytest.raises(ScenarioError, match="did you mean 'tolerant'"):
        sim.parse_scenario(json.dumps({"name": "x", "arms": arms, "sweep": grid | {"arms": ["tolerent"]}}), "s.yaml")
    chosen = scenario(arms=arms, sweep=grid | {"arms": ["tolerant"]})
    result = sim.sweep(chosen, out=tmp_path / "one", progress=False)
    assert set(result.runs["arm"]) == {"tolerant"} and len(result.runs) == 2 * 2
    alone = sim.sweep(scenario(arms=arms, sweep=grid | {"arms": []}), out=tmp_path / "alone", progress=False)
    assert set(alone.runs["arm"]) == {""}, "sweep.arms: [] runs the scenario itself"


def test_a_hierarchy_point_invalid_with_the_scenarios_level_names_is_refused_in_one_paragraph(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nsteps: 4\nreplications: 1\nhierarchy: {branching: [2, 2], levels: [top, mid, base]}\n"
        "arms: [{name: a}, {name: b}]\nsweep: {grid: {hierarchy.branching: [[2, 2], [2, 2, 2]]}}\n"
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "s.yaml:6: sweep: point 1 (hierarchy.branching=[2, 2, 2])" in err and "3 level names for 4 levels" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("arms", "sweep", "message"),
    [
        (  # fault_tolerance sets accountability.excuse_genuine: the sweep would undo it
            [{"name": "none"}, {"name": "ft", "policies": ["fault_tolerance"]}],
            {"grid": {"accountability.excuse_genuine": [0.1, 0.5]}},
            "arm ft's policies set accountability.excuse_genuine",
        ),
        (
            [{"name": "weak", "policies": [{"fault_tolerance": {"strength": 0.2}}]}],
            {"grid": {"policies.fault_tolerance.strength": [0.3]}},
            "arm weak sets fault_tolerance's strength itself",
        ),
        (
            [{"name": "a"}, {"name": "ft", "policies": ["fault_tolerance"]}],
            {"grid": {"policies.fault_tolerance.strength": [0.3]}, "arms": ["a"]},
            "not switched on in the scenario or any arm the sweep runs",
        ),
    ],
)
def test_a_sweep_that_would_undo_what_an_arm_does_is_refused(arms, sweep, message):
    with pytest.raises(ScenarioError, match=message):
        sim.parse_scenario(json.dumps({"name": "x", "arms": arms, "sweep": sweep}), "s.yaml")
