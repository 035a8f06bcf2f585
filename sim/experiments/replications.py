"""``bureausim run`` as a function: a scenario's replications, their tables, and optionally the folder.

:func:`run` is what the ``run`` command does, for Python users: it loads the scenario (given
as a path), applies ``--set``-style overrides and the seed, steps and replications asked for,
checks the run before it starts, runs the replications and returns the tables the command
writes (``steps``, ``agents``, ``summary``); with ``out`` it writes the same results folder,
under the same one-writer lock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.statistics import summarise
from sim.experiments.scenario_checks import check_runs
from sim.model.run import RunTables, replication_seeds, run_replications
from sim.scenario.loader import load_scenario
from sim.scenario.output_names import output_columns
from sim.scenario.schema import Scenario
from sim.storage.locks import output_lock
from sim.storage.output_checks import check_run_folder
from sim.storage.results_folder import write_results
from sim.storage.run_store import RunSpec


@dataclass
class RunResult:
    """The tables of one scenario's replications, as ``bureausim run`` writes them.

    Attributes:
        scenario: The scenario run (overrides applied).
        steps: One row per replication × period: every model output.
        agents: One row per replication × official at the last period.
        summary: Per output: the mean of its run values (after the burn-in) and of its last
            period over the replications, with 95% CIs (``summary.csv``).
        seeds: Every replication's seed.
        level_names: The hierarchy's level names, top first.
        folder: The results folder written, or ``None``.
    """

    scenario: Scenario
    steps: pd.DataFrame
    agents: pd.DataFrame
    summary: pd.DataFrame
    seeds: list[int]
    level_names: list[str]
    folder: Path | None = None


def prepared(
    scenario: Scenario | str | os.PathLike,
    *,
    arm: str | None = None,
    seed: int | None = None,
    steps: int | None = None,
    replications: int | None = None,
    overrides: Sequence[str] = (),
    allow_absolute_paths: bool = False,
) -> Scenario:
    """The scenario to run, with its overrides, checked as every command checks it before the first period.

    Raises:
        UserError: for a bad scenario, override, arm, hierarchy or outcome.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, allow_absolute_paths=allow_absolute_paths)
    assignments = list(overrides)
    for option, value in (("seed", seed), ("steps", steps), ("replications", replications)):
        if value is not None:
            assignments.append(f"{option}={value}")
    if assignments:
        scenario = scenario.with_overrides(assignments)
    if arm is not None:
        scenario.resolved_parameters(arm)  # an unknown arm is a user mistake, reported now
    check_runs(scenario, [RunSpec(arm or "", 0, 0, 0)])
    return scenario


def run(
    scenario: Scenario | str | os.PathLike,
    *,
    arm: str | None = None,
    seed: int | None = None,
    steps: int | None = None,
    replications: int | None = None,
    overrides: Sequence[str] = (),
    out: str | os.PathLike | None = None,
    allow_absolute_paths: bool = False,
    progress: Callable[[int], None] | None = None,
    command: Sequence[str] = (),
) -> RunResult:
    """Run a scenario's replications and return the tables ``bureausim run`` writes.

    Args:
        scenario: A scenario, or the path of a scenario file.
        arm: One of the scenario's arms to run instead of the scenario itself.
        seed: Master seed (default: the scenario's); replication seeds derive from it.
        steps: Periods per replication (default: the scenario's).
        replications: Replications (default: the scenario's).
        overrides: ``PATH=VALUE`` assignments, as ``--set`` takes them.
        out: Write the results folder here too (it must be new or empty).
        allow_absolute_paths: Read a graph file the scenario file names by an absolute path.
        progress: Called with the number of replications finished after each one.
        command: The command line, for the manifest.

    Returns:
        The tables; ``folder`` is the folder written, if ``out`` was given.

    Raises:
        UserError: for a mistake in the scenario or the options, before anything is run or written.
    """
    scenario = prepared(
        scenario,
        arm=arm,
        seed=seed,
        steps=steps,
        replications=replications,
        overrides=overrides,
        allow_absolute_paths=allow_absolute_paths,
    )
    return run_prepared(scenario, arm=arm, out=out, progress=progress, command=command)


def run_prepared(
    scenario: Scenario,
    *,
    arm: str | None = None,
    out: str | os.PathLike | None = None,
    progress: Callable[[int], None] | None = None,
    command: Sequence[str] = (),
) -> RunResult:
    """:func:`run` for a scenario that :func:`prepared` returned: the replications, and the folder with ``out``."""
    if out is None:
        return _replications(scenario, arm, progress)
    out = Path(out)
    check_run_folder(out)
    with output_lock(out):
        check_run_folder(out)  # again, now that no other command can be writing there
        start = time.perf_counter()
        result = _replications(scenario, arm, progress)
        tables = RunTables(steps=result.steps, agents=result.agents, level_names=result.level_names)
        result.folder = write_results(
            out, scenario, tables, seeds=result.seeds, wall_time=time.perf_counter() - start, command=list(command)
        )
    return result


def _replications(scenario: Scenario, arm: str | None, progress: Callable[[int], None] | None) -> RunResult:
    tables = run_replications(scenario, arm=arm, progress=progress)
    summary = summarise(
        tables.steps, output_columns(tables.steps.columns, tables.level_names), scenario.burn_in_periods
    )
    seeds = replication_seeds(scenario.seed, scenario.replications)
    return RunResult(scenario, tables.steps, tables.agents, summary, seeds, tables.level_names)
