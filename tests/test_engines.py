"""The vectorised engine and the per-agent engine give identical numbers.

Both engines call the same elementwise rules (sim/model/rules.py) on the same per-level arrays and
accumulate every sum in the same order, so the comparison is exact: every model output in
every period, and every entry of every state array, to the last bit. The one exception is
``severity_now`` above the grassroots: the engines add sanction severities onto an
intermediate official in a different order (unit by unit against channel by channel), so it
is compared to a relative 1e-12. No rule reads it.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest
from conftest import small
from hypothesis import HealthCheck, example, given, settings
from property import scenarios

from sim import BureauModel
from sim.model.engines import ENGINES
from sim.model.state import LEVEL_FIELDS
from sim.scenario.policies import REGISTRY
from sim.scenario.schema import Scenario

ORDER_DEPENDENT = {"severity_now"}


REFERENCE = "agents"
"""The readable reference engine every other registered engine must agree with."""


def run_all(scenario, steps) -> dict[str, BureauModel]:
    """The scenario run on every registered engine."""
    models = {}
    for engine in ENGINES:
        model = BureauModel.from_scenario(scenario.model_copy(update={"engine": engine}))
        for _ in range(steps):
            model.step()
        models[engine] = model
    return models


def assert_all_identical(models: dict[str, BureauModel]) -> None:
    """Every engine's model equals the reference engine's, to the last bit."""
    assert len(models) > 1, "a single engine has nothing to agree with"
    for engine, model in models.items():
        if engine != REFERENCE:
            assert_identical(models[REFERENCE], model)


def states(model: BureauModel) -> list[tuple[int, object]]:
    """Every level's state with its depth: the territorial line and the grassroots, then every department's offices."""
    found = list(enumerate(model.levels))
    for chain in model.chains[1:]:
        found.extend(enumerate(chain))
    return found


def assert_identical(agents: BureauModel, vectorized: BureauModel) -> None:
    pd.testing.assert_frame_equal(
        agents.datacollector.get_model_vars_dataframe(),
        vectorized.datacollector.get_model_vars_dataframe(),
        check_exact=True,
    )
    names = [
        *(field.name for field in LEVEL_FIELDS),
        "attractions",
        "report_attractions",
        "relay_attractions",
        "shifted_severity",
        "shield_attractions",
    ]
    pairs = zip(states(agents), states(vectorized), strict=True)
    for (level, a), (_, v) in pairs:
        for name in names:
            if not hasattr(a, name):  # a portfolio's own fields, absent from the one-directive model
                assert not hasattr(v, name)
                continue
            left, right = getattr(a, name), getattr(v, name)
            if name in ORDER_DEPENDENT and level < agents.relays:
                np.testing.assert_allclose(left, right, rtol=1e-12, err_msg=f"{name} on level {level}")
            else:
                np.testing.assert_array_equal(left, right, err_msg=f"{name} on level {level}")


LARGE = [
    Scenario.model_validate(
        {"name": "large", "hierarchy": {"branching": [12, 12, 12], "extra_principals": 2}, "policies": sorted(REGISTRY)}
    ),
    Scenario.model_validate(
        {
            "name": "large_counts",
            "seed": 7,
            "hierarchy": {"counts": [5, 60, 1800], "spread": "random"},
            "policies": ["campaign", "ranking_accountability", "precise_accountability"],
        }
    ),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@example(LARGE[0])
@example(LARGE[1])
@given(scenarios(max_officials=2000))
def test_engines_agree_exactly_on_random_scenarios(scenario):
    assert_all_identical(run_all(scenario, steps=6))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios(max_officials=600, tasks=True))
def test_engines_agree_exactly_on_random_portfolios(scenario):
    """Portfolios of 1-5 tasks from up to three issuers, with windows, vetoes and any measurability."""
    assert_all_identical(run_all(scenario, steps=8))


def test_engines_agree_on_a_portfolio_over_a_long_run():
    scenario = small(
        hierarchy={"branching": [3, 4, 5], "extra_principals": 1},
        policies=sorted(REGISTRY),
        tasks=[
            {"name": "environment", "issuer": "environment", "veto": True, "target": 0.3},
            {"name": "safety", "issuer": "safety", "veto": True, "target": 0.3, "start": 5, "end": 25},
            {"name": "revitalisation", "target": 0.3},
            {"name": "service", "measurability": 0.2, "target": 0.3},
        ],
    )
    models = run_all(scenario, steps=40)
    assert_all_identical(models)
    assert len(models[REFERENCE].chains) == 3 and models[REFERENCE].levels[-1].sanctions.sum() > 0


@pytest.mark.parametrize(
    "policies",
    [[], ["campaign"], ["fault_tolerance", "ranking_accountability", "third_party_evaluation"], "all"],
)
def test_engines_agree_over_a_long_run(policies):
    chosen = sorted(REGISTRY) if policies == "all" else policies
    scenario = small(hierarchy={"branching": [4, 4, 6], "extra_principals": 1}, policies=chosen)
    assert_all_identical(run_all(scenario, steps=40))


def test_the_default_engine_is_vectorized():
    assert BureauModel(small()).engine.name == "vectorized"
    assert BureauModel(small(engine="agents")).engine.name == "agents"


def test_agent_records_match_mesa_attribute_reporters():
    model = BureauModel(small(), seed=2)
    for _ in range(3):
        model.step()
    fast = list(model.datacollector._record_agents(model))
    reference = list(mesa.DataCollector._record_agents(model.datacollector, model))
    assert len(fast) == len(reference) == len(model.agents)
    for row, expected in zip(fast, reference, strict=True):
        assert row[:3] == expected[:3] and row[3] == expected[3]
        np.testing.assert_equal(np.array(row[4:], dtype=float), np.array(expected[4:], dtype=float))


def test_agent_records_can_be_switched_off_for_large_runs():
    model = BureauModel(small(), seed=2, record_agents=False)
    model.step()
    model.record_agents = True
    model.step()
    frame = model.datacollector.get_agent_vars_dataframe()
    assert set(frame.index.get_level_values("Step")) == {2}
