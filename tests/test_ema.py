"""The EMA Workbench adapter: the workbench's experiments give bureausim's own numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.statistics import run_values
from sim.errors import ScenarioError
from sim.experiments.ema import ema_model, ema_policies
from sim.model.run import replication_seeds, run_one
from sim.scenario.schema import Scenario

SCENARIO = {
    "name": "ema_small",
    "seed": 11,
    "steps": 6,
    "replications": 2,
    "hierarchy": {"branching": [2, 3]},
    "arms": [{"name": "status_quo"}, {"name": "tolerant", "policies": ["fault_tolerance"]}],  # the lever sets strength
    "uncertainties": {"relay.escalation": [0.0, 0.4], "learning.forgetting": [0.05, 0.3]},
    "outcomes": [
        {"name": "goal_attainment", "direction": "maximize"},
        {"name": "burden", "direction": "minimize"},
        {"name": "reported_attainment", "direction": "none"},
    ],
}


def own_value(scenario: Scenario, arm: str, world: dict, point: dict, outcome: str) -> float:
    """bureausim's number for one experiment: the mean over replications of the run values."""
    seeds = replication_seeds(scenario.seed, scenario.replications)
    burn_in = scenario.burn_in_periods
    values = [
        run_values(run_one(scenario, seed, arm=arm, world=world, overrides=point, agents=False).steps, burn_in)[outcome]
        for seed in seeds
    ]
    return float(np.mean(values))


def test_perform_experiments_on_two_processes_gives_bureausims_numbers():
    from ema_workbench import MultiprocessingEvaluator, ScalarOutcome, perform_experiments

    scenario = Scenario.model_validate(SCENARIO)
    model = ema_model(scenario, levers={"policies.fault_tolerance.strength": (0.2, 0.9)})
    assert [u.name for u in model.uncertainties] == ["relay_escalation", "learning_forgetting"]
    assert [lever.name for lever in model.levers] == ["arm", "policies_fault_tolerance_strength"]
    kinds = {o.name: o.kind for o in model.outcomes}
    assert kinds == {
        "goal_attainment": ScalarOutcome.MAXIMIZE,
        "burden": ScalarOutcome.MINIMIZE,
        "reported_attainment": ScalarOutcome.INFO,
    }
    policies = ema_policies(scenario)
    for policy in policies:
        policy["policies_fault_tolerance_strength"] = 0.9
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=3, policies=policies, evaluator=evaluator)
    assert len(experiments) == 3 * 2
    frame = pd.DataFrame(outcomes)
    for index, row in experiments.iterrows():
        world = {"relay.escalation": row["relay_escalation"], "learning.forgetting": row["learning_forgetting"]}
        point = {"policies.fault_tolerance.strength": 0.9}
        for outcome in ("goal_attainment", "burden"):
            assert frame.loc[index, outcome] == own_value(scenario, row["arm"], world, point, outcome), (index, outcome)
    by_arm = frame.assign(arm=experiments["arm"].to_numpy(), scenario=experiments["scenario"].to_numpy())
    wide = by_arm.pivot(index="scenario", columns="arm", values="goal_attainment")
    assert (wide["tolerant"] != wide["status_quo"]).all(), "the policy lever reaches the arm that has the policy"


def test_the_adapter_refuses_what_it_cannot_sample():
    with pytest.raises(ScenarioError, match="has no uncertainties"):
        ema_model(Scenario.model_validate({k: v for k, v in SCENARIO.items() if k != "uncertainties"}))
    scenario = Scenario.model_validate(SCENARIO)
    with pytest.raises(ScenarioError, match="did you mean 'strength'"):
        ema_model(scenario, levers={"policies.fault_tolerance.strenght": (0.1, 0.5)})
    with pytest.raises(ScenarioError, match="low < high"):
        ema_model(scenario, levers={"relay.dilution": (0.3, 0.1)})
    explicit = Scenario.model_validate(
        {**SCENARIO, "arms": [{"name": "weak", "policies": [{"fault_tolerance": {"strength": 0.2}}]}]}
    )
    with pytest.raises(ScenarioError, match="arm weak sets fault_tolerance's strength itself"):
        ema_model(explicit, levers={"policies.fault_tolerance.strength": (0.1, 0.5)})
    with pytest.raises(ScenarioError, match=r"only hierarchy\.extra_principals"):
        ema_model(scenario, levers={"hierarchy.branching": (2, 4)})
