"""Factorial designs: the cells as arms, main effects and interactions with paired CIs."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.factorial import factorial_effects
from sim.errors import ScenarioError
from sim.scenario.schema import Scenario

TWO = {"fault_tolerance": {"policies": ["fault_tolerance"]}, "burden_reduction": {"policies": ["burden_reduction"]}}


def cells_of(factors: list[str]) -> dict[str, frozenset[str]]:
    names = ["none"]
    sets = [frozenset()]
    for size in range(1, len(factors) + 1):
        for cell in itertools.combinations(factors, size):
            names.append("-".join(cell))
            sets.append(frozenset(cell))
    return dict(zip(names, sets, strict=True))


def hand_made(value, factors: list[str], replications: int = 4, noise: float = 0.01) -> pd.DataFrame:
    """Runs whose outcome is ``value(cell)`` plus noise shared by a replication's cells (common random numbers)."""
    rng = np.random.default_rng(0)
    shared = rng.normal(0, 1, replications)
    rows = []
    for arm, cell in cells_of(factors).items():
        for r in range(replications):
            rows.append({"arm": arm, "replication": r, "y": value(cell) + shared[r] + noise * rng.normal()})
    return pd.DataFrame(rows)


def test_two_factors_give_main_effects_averaged_over_the_other_and_the_difference_in_differences():
    def value(cell):  # A adds 0.3, B adds 0.1, together 0.05 less than the sum
        return 0.3 * ("a" in cell) + 0.1 * ("b" in cell) - 0.05 * ({"a", "b"} <= cell)

    values = hand_made(value, ["a", "b"])
    effects = factorial_effects(values, cells_of(["a", "b"]), ["a", "b"], [("y", "maximize")]).set_index("term")
    assert effects.loc["a", "effect"] == pytest.approx(0.3 - 0.05 / 2, abs=0.02)
    assert effects.loc["b", "effect"] == pytest.approx(0.1 - 0.05 / 2, abs=0.02)
    assert effects.loc["a x b", "effect"] == pytest.approx(-0.05, abs=0.03)
    wide = values.pivot(index="replication", columns="arm", values="y")
    diff_in_diff = (wide["a-b"] - wide["b"]) - (wide["a"] - wide["none"])
    assert effects.loc["a x b", "effect"] == pytest.approx(diff_in_diff.mean(), abs=1e-12)
    main_a = ((wide["a-b"] - wide["b"]) + (wide["a"] - wide["none"])) / 2
    assert effects.loc["a", "effect"] == pytest.approx(main_a.mean(), abs=1e-12)
    assert effects.loc["a", "verdict"] == "better"
    assert effects.loc["a x b", "verdict"] in {"offsetting", "no detectable effect"}
    assert list(effects["order"]) == [1, 1, 2]


def test_a_reinforcing_interaction_and_a_minimised_outcome():
    def value(cell):
        return -0.2 * ({"a", "b"} <= cell)  # together they cut the outcome; alone nothing

    values = hand_made(value, ["a", "b"], noise=0.001)
    effects = factorial_effects(values, cells_of(["a", "b"]), ["a", "b"], [("y", "minimize")]).set_index("term")
    assert effects.loc["a x b", "verdict"] == "reinforcing"
    assert effects.loc["a", "verdict"] == "better"  # -0.1 on average over b, for an outcome to minimise
    negligible = factorial_effects(values, cells_of(["a", "b"]), ["a", "b"], [("y", "minimize", 1.0)])
    assert set(negligible["verdict"]) == {"negligible"}


def test_three_factors_give_every_term_of_the_design():
    def value(cell):
        return 0.1 * len(cell) + 0.2 * ({"a", "b", "c"} <= cell)

    values = hand_made(value, ["a", "b", "c"], noise=0.0)
    effects = factorial_effects(values, cells_of(["a", "b", "c"]), ["a", "b", "c"], [("y", "maximize")])
    assert list(effects["term"]) == ["a", "b", "c", "a x b", "a x c", "b x c", "a x b x c"]
    by_term = effects.set_index("term")["effect"]
    assert by_term["a x b x c"] == pytest.approx(0.2, abs=1e-9)  # the third-order difference
    assert by_term["a x b"] == pytest.approx(0.1, abs=1e-9)  # 0.2 with c on, 0 with c off: averaged
    assert by_term["a"] == pytest.approx(0.1 + 0.2 / 4, abs=1e-9)


def test_factors_make_every_cell_an_arm_with_none_the_reference():
    scenario = Scenario.model_validate({"name": "f", "factors": TWO})
    assert [arm.name for arm in scenario.arms] == [
        "none",
        "fault_tolerance",
        "burden_reduction",
        "fault_tolerance-burden_reduction",
    ]
    assert [p.name for p in scenario.arms[3].policies] == ["fault_tolerance", "burden_reduction"]
    assert scenario.reference_arm == "none"
    again = Scenario.model_validate(scenario.model_dump(mode="json"))  # as workers rebuild it
    assert again.arms == scenario.arms


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"factors": {"only": {"policies": ["fault_tolerance"]}}}, "2 to 6 factors"),
        ({"factors": {**TWO, "bad-name": {}}}, "without '-'"),
        ({"factors": TWO, "arms": [{"name": "mine"}]}, "makes its own arms"),
        ({"factors": {"a": {"set": {"relay.escalation": 0.2}}, "b": {"set": {"relay.escalation": 0.3}}}}, "both set"),
        ({"factors": {"a": {"set": {"relay.escalaton": 0.2}}, "b": {}}}, "did you mean 'relay.escalation'"),
    ],
)
def test_bad_factorial_designs_are_refused(data, message):
    with pytest.raises(ScenarioError, match=message):
        sim.parse_scenario(json.dumps({"name": "f", **data}), "f.yaml")


def test_compare_writes_the_factorial_table_from_the_runs(tmp_path):
    scenario = Scenario.model_validate(
        {"name": "f", "steps": 8, "replications": 3, "hierarchy": {"branching": [2, 3]}, "factors": TWO}
    )
    result = sim.compare(scenario, out=tmp_path / "out", progress=False)
    table = pd.read_csv(tmp_path / "out" / "factorial.csv")
    assert len(table) == 3 * len(scenario.outcomes)
    wide = result.runs.pivot(index="replication", columns="arm", values="goal_attainment")
    both = "fault_tolerance-burden_reduction"
    expected = ((wide[both] - wide["burden_reduction"]) - (wide["fault_tolerance"] - wide["none"])).mean()
    row = table[(table["outcome"] == "goal_attainment") & (table["term"] == "fault_tolerance x burden_reduction")]
    assert row["effect"].item() == pytest.approx(expected, abs=1e-12)
    assert sim.load_results(tmp_path / "out").factorial.equals(result.factorial)
    from sim.app.report import write_report

    page = write_report(tmp_path / "out", tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Main effects and interactions" in page and "fault_tolerance x burden_reduction" in page


def test_a_policy_option_point_reaches_the_factorial_cells_that_have_the_policy(tmp_path):
    data = {"name": "f", "steps": 6, "replications": 1, "hierarchy": {"branching": [2, 3]}, "factors": TWO}
    scenario = Scenario.model_validate(data)
    moved, rest = scenario.at_point({"policies.fault_tolerance.strength": 0.9})
    assert rest == {}
    strengths = {arm.name: [p.options for p in arm.policies if p.name == "fault_tolerance"] for arm in moved.arms}
    assert strengths["fault_tolerance"] == [{"strength": 0.9}] and strengths["burden_reduction"] == []
    swept = Scenario.model_validate({**data, "sweep": {"grid": {"policies.fault_tolerance.strength": [0.2, 0.9]}}})
    result = sim.sweep(swept, out=tmp_path / "sweep", progress=False)
    assert len(result.runs) == 4 * 2


def test_a_factor_description_is_not_part_of_the_experiments_identity():
    from sim.storage.run_store import scenario_hash

    described = {name: {**factor, "description": "edited"} for name, factor in TWO.items()}
    plain = Scenario.model_validate({"name": "f", "factors": TWO})
    assert scenario_hash(plain) == scenario_hash(Scenario.model_validate({"name": "f", "factors": described}))


def test_a_min_effect_given_as_text_from_python_is_a_user_error():
    with pytest.raises(ScenarioError, match="--min-effect: must be a positive number"):
        sim.compare(Scenario.model_validate({"name": "f", "factors": TWO}), min_effect="0.02")
