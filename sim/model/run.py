"""Running replications: one master seed, one child seed per replication.

:func:`run_one` is the unit everything else composes: one scenario, one arm, one seed, in,
two tables out. :func:`run_replications` derives the replication seeds from the scenario's
master seed with ``numpy.random.SeedSequence.spawn``, so replication *k* has the same seed in
every arm and every execution order, and records every seed in its tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.model.bureau_model import BureauModel
from sim.scenario.outcome_values import RUN_VALUE_PREFIX
from sim.scenario.parameters import Parameters, is_task_path, with_values
from sim.scenario.schema import Scenario


def replication_seeds(master: int, replications: int) -> list[int]:
    """Independent 63-bit seeds for ``replications`` replications of one master seed."""
    children = np.random.SeedSequence(master).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


@dataclass
class RunTables:
    """Results of one or more replications.

    Attributes:
        steps: One row per replication × period (periods 1..steps), every model output.
        agents: One row per replication × official, at the last period (``None`` if not asked for).
        level_names: Names of the hierarchy's levels, top first.
    """

    steps: pd.DataFrame
    agents: pd.DataFrame | None
    level_names: list[str]


def run_one(
    scenario: Scenario,
    seed: int,
    *,
    arm: str | None = None,
    replication: int = 0,
    steps: int | None = None,
    overrides: dict[str, Any] | None = None,
    world: dict[str, Any] | None = None,
    agents: bool = True,
) -> RunTables:
    """Run one replication and return its tables.

    Args:
        scenario: The scenario to run.
        seed: The replication's seed.
        arm: One of the scenario's arms, or ``None`` for the scenario itself.
        replication: Replication number written into the tables.
        steps: Periods to run (default: the scenario's).
        overrides: A sweep point's values by dotted path: parameters (applied after the arm),
            ``hierarchy.<field>`` and ``policies.<policy>.<option>`` (see ``Scenario.at_point``).
        world: Parameter values by dotted path that replace the scenario's own before its
            policies and the arm act on them (a future of a robustness analysis).
        agents: Whether to return the agents table (of the last period).

    Returns:
        The replication's tables, tagged with ``replication``, ``seed`` and ``arm``.
    """
    scenario, values = in_world(scenario, world).at_point(overrides or {})  # a point's hierarchy and policy options
    keywords = {path.replace(".", "_", 1): value for path, value in values.items()}
    periods = steps or scenario.steps
    recorded = "end" if agents else False  # the agents table holds the last period only
    model = BureauModel(scenario, seed=seed, arm=arm, steps=periods, record_agents=recorded, **keywords)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    run_values = [name for name in frame.columns if name.startswith(RUN_VALUE_PREFIX)]
    frame = frame.drop(columns=["seed", *run_values])  # the seed goes in front; run values are the caller's to take
    frame.insert(0, "period", np.arange(1, len(frame) + 1))
    tables = [frame]
    if agents:
        officials = model.datacollector.get_agent_vars_dataframe().xs(model.steps, level="Step").reset_index()
        officials = officials.rename(columns={"AgentID": "agent_id"})
        officials.insert(2, "level_name", [model.level_names[level] for level in officials["level"]])
        nodes = {agent.unique_id: str(agent.node) for agent in model.agents}
        officials.insert(1, "node", officials["agent_id"].map(nodes))
        if len(model.chains) > 1:  # a portfolio with line departments: whose office each official holds
            lines = {agent.unique_id: model.tasks.issuers[agent.chain_index] for agent in model.agents}
            officials.insert(4, "line", officials["agent_id"].map(lines))
        tables.append(officials)
    for table in tables:
        table.insert(0, "seed", seed)
        table.insert(0, "replication", replication)
        table.insert(0, "arm", arm or scenario.name)
    model.release()
    return RunTables(
        steps=frame.reset_index(drop=True), agents=tables[1] if agents else None, level_names=model.level_names
    )


def in_world(scenario: Scenario, world: dict[str, Any] | None) -> Scenario:
    """The scenario with its own values replaced by a future's (by dotted path), before policies and arms act.

    A future's parameters replace the scenario's; its policy options
    (``policies.<policy>.<option>``) are set wherever the policy is switched on.

    Raises:
        pydantic.ValidationError: for values that are not valid together.
        ScenarioError: for an option of a policy switched on nowhere.
    """
    if not world:
        return scenario
    scenario, values = scenario.at_point(world)
    tasks = {path: value for path, value in values.items() if is_task_path(path)}
    update = {"parameters": with_values(scenario.parameters, {p: v for p, v in values.items() if p not in tasks})}
    if tasks:  # a task's field: the scenario's own task, before its policies and arms
        update["tasks"] = with_values(Parameters(tasks=scenario.tasks), tasks).tasks
    return scenario.model_copy(update=update)


def run_replications(
    scenario: Scenario,
    *,
    arm: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunTables:
    """Run the scenario's replications one after another.

    Args:
        scenario: The scenario (its ``seed``, ``steps`` and ``replications`` are used).
        arm: One of the scenario's arms, or ``None``.
        progress: Called with the number of replications finished after each one.

    Returns:
        The tables of all replications, concatenated in replication order.
    """
    seeds = replication_seeds(scenario.seed, scenario.replications)
    results = []
    for replication, seed in enumerate(seeds):
        results.append(run_one(scenario, seed, arm=arm, replication=replication))
        if progress is not None:
            progress(replication + 1)
    return RunTables(
        steps=pd.concat([r.steps for r in results], ignore_index=True),
        agents=pd.concat([r.agents for r in results], ignore_index=True),
        level_names=results[0].level_names,
    )
