"""Contracts that every registered piece inherits by being registered.

Engines (``sim.model.engines.ENGINES``), reforms (``sim.scenario.policies.REGISTRY``) and
strategies (``sim.scenario.strategies.STRATEGIES``) get the same checks here: determinism,
pickling, invariants of the outputs, and a place in the golden tests (tests/golden.py finds
them the same way). Nothing here lists names by hand: a new engine, reform or strategy is
checked the moment it is registered. Experiment kinds have their own contract file,
tests/test_experiment_kinds.py.
"""

from __future__ import annotations

import pickle
import re
import typing

import numpy as np
import pandas as pd
import pytest
from conftest import SCENARIOS, small
from golden import cases

from sim.model import rules
from sim.model.bureau_model import BureauModel
from sim.model.engines import ENGINES
from sim.scenario.loader import load_scenario
from sim.scenario.output_names import model_output_names
from sim.scenario.parameters import Execution
from sim.scenario.policies import REGISTRY
from sim.scenario.schema import Scenario
from sim.scenario.strategies import STRATEGIES, Strategy

STEPS = 8


def run(scenario: Scenario, seed: int = 3, steps: int = STEPS) -> pd.DataFrame:
    model = BureauModel(scenario, seed=seed)
    for _ in range(steps):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    model.release()
    return frame.drop(columns=[name for name in frame if name.startswith("run_value_")])  # NaN until the run ends


def assert_outputs_are_sound(frame: pd.DataFrame, scenario: Scenario) -> None:
    """Invariants every period's outputs keep, whatever the engine or reform."""
    model = BureauModel(scenario)
    level_names = model.level_names
    # the seed, then the outputs, then those its (reformed) parameters' switches turn on
    assert list(frame.columns) == ["seed", *model_output_names(level_names, parameters=model.p)]
    periods = frame
    assert np.isfinite(periods.to_numpy(dtype=float)).all()
    shares = periods[[f"share_{spec.label}" for spec in STRATEGIES]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, rtol=1e-12)
    sanction_shares = periods[[f"sanction_share_{name}" for name in level_names]].sum(axis=1)
    assert ((np.abs(sanction_shares - 1.0) < 1e-12) | (sanction_shares == 0.0)).all()
    for name in ("goal_attainment", "burden", "wrongful_sanction_rate", "clarity_at_bottom", "collateral_harm"):
        assert periods[name].between(0.0, 1.0).all(), name
    assert (periods["reported_attainment"] >= 0).all()
    np.testing.assert_allclose(
        periods["implementation_gap"], periods["reported_attainment"] - periods["goal_attainment"], rtol=0, atol=0
    )


# --- engines ---------------------------------------------------------------------------------


@pytest.fixture(params=list(ENGINES))
def engine(request) -> str:
    return request.param


def every_reform(engine: str) -> Scenario:
    return small(engine=engine, hierarchy={"branching": [3, 3, 4], "extra_principals": 1}, policies=sorted(REGISTRY))


def test_an_engine_is_deterministic(engine):
    scenario = every_reform(engine)
    pd.testing.assert_frame_equal(run(scenario), run(scenario), check_exact=True)
    assert not run(scenario, seed=4).equals(run(scenario))


def test_an_engine_keeps_the_output_invariants(engine):
    scenario = every_reform(engine)
    assert_outputs_are_sound(run(scenario), scenario)


def test_an_engine_and_its_model_pickle_and_carry_on_identically(engine):
    model = BureauModel(every_reform(engine), seed=5)
    for _ in range(3):
        model.step()
    copy = pickle.loads(pickle.dumps(model))
    assert type(copy.engine) is ENGINES[engine] and copy.engine.name == engine
    for _ in range(3):
        model.step()
        copy.step()
    pd.testing.assert_frame_equal(
        copy.datacollector.get_model_vars_dataframe(), model.datacollector.get_model_vars_dataframe(), check_exact=True
    )


def test_an_engine_is_named_as_registered_and_allowed_in_scenarios(engine):
    assert ENGINES[engine].name == engine
    field = Scenario.model_fields["engine"].annotation
    assert set(typing.get_args(field)) == set(ENGINES)


def test_an_engine_has_golden_cases_shared_with_the_others(engine):
    pinned = {case.pinned for case in cases() if case.name.endswith(f"_{engine}")}
    assert {"small", "baseline_short", "five_levels"} <= pinned


# --- reforms ---------------------------------------------------------------------------------


@pytest.fixture(params=list(REGISTRY))
def reform(request) -> str:
    return request.param


def test_a_reform_runs_deterministically_within_the_invariants(reform):
    scenario = small(hierarchy={"branching": [3, 3, 4]}, policies=[reform])
    first = run(scenario)
    pd.testing.assert_frame_equal(first, run(scenario), check_exact=True)
    assert_outputs_are_sound(first, scenario)


def test_a_reform_pickles_and_applies_the_same_after(reform):
    policy = pickle.loads(pickle.dumps(REGISTRY[reform]))
    parameters = Scenario().parameters
    assert policy.applied(parameters) == REGISTRY[reform].applied(parameters)


def test_a_reform_has_a_reform_scenario_with_its_arm_and_a_golden_case(reform):
    scenario = load_scenario(SCENARIOS / "reforms" / f"{reform}.yaml")
    arms = {arm.name: arm for arm in scenario.arms}
    assert reform in arms and reform in [p.name for p in arms[reform].policies]
    assert f"reform_{reform}" in {case.name for case in cases()}


# --- strategies ------------------------------------------------------------------------------


@pytest.fixture(params=list(Strategy), ids=lambda s: s.label)
def strategy(request) -> Strategy:
    return request.param


def test_a_strategy_has_one_row_that_describes_it(strategy):
    spec = STRATEGIES[strategy]
    assert spec.strategy is strategy and strategy.spec is spec
    assert re.fullmatch(r"#[0-9a-f]{6}", spec.colour) and spec.title
    assert 0.0 <= spec.effort_share <= 1.0
    assert f"share_{spec.label}" in model_output_names(["top", "bottom"])
    assert rules.EFFORT_SHARE[strategy] == spec.effort_share and rules.GENUINE[strategy] == spec.genuine


def test_a_strategy_has_rules_for_output_claim_and_risk(strategy):
    """Its output, claim, harm and risk are finite for any inputs, and a genuine one only claims what it did."""
    execution = Execution()
    code = np.array([int(strategy)])
    output, claim, harm = rules.execute(
        code, np.array([1.3]), np.array([0.7]), np.array([0.8]), np.array([0.5]), np.array([False]), execution
    )
    risk = rules.failure_risk(code, 0.1, 2.0)
    assert np.isfinite([output, claim, harm, risk]).all()
    assert 0.0 <= risk[0] <= 1.0 and 0.0 <= output[0] <= 1.3
    if STRATEGIES[strategy].genuine:
        assert claim[0] == output[0]
