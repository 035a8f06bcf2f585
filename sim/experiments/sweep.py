"""Parameter sweeps: the scenario's ``sweep:`` points × its arms × replications, summarised per arm and point.

Replication *k* uses the same seed at every point and in every arm (common random numbers),
so differences between points and arms are not blurred by different draws. A point may set
parameters, hierarchy values (``hierarchy.extra_principals``) and policy options
(``policies.fault_tolerance.strength``). A scenario with arms is swept in every arm, or in
those ``sweep.arms`` lists (``[]``: the scenario alone); an arm that sets a swept path is
refused, since the sweep would replace its value. Each
arm's and point's outcomes are summarised with their means and 95% CIs; plots draw outcomes
against the swept parameter (one parameter, a line per arm), as heat maps (two, a panel per
arm), or against the point number (more, or zipped lists).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Unpack

import pandas as pd

from sim.analysis.plots import sweep_heatmap, sweep_lines
from sim.analysis.statistics import describe
from sim.atomic import write_table
from sim.errors import ScenarioError
from sim.experiments.budget import check_run_count, counted
from sim.experiments.template import (
    Design,
    ExecutionKeywords,
    Experiment,
    ExperimentKind,
    ExperimentOptions,
    draw_each_outcome,
    run_experiment,
)
from sim.scenario.schema import Scenario
from sim.storage.results_folder import read_table
from sim.storage.run_store import RunSpec, RunStore


@dataclass
class SweepResult:
    """The outcome of a sweep.

    Attributes:
        folder: The results folder.
        scenario: The scenario swept.
        points: One row per point: ``point`` and the value of every swept parameter.
        table: One row per arm, point and outcome: ``n``, ``mean``, ``ci_low``, ``ci_high``
            (``arm`` is empty for a scenario without arms).
        runs: One row per finished run with every output's value.
        failures: Runs that failed and have not finished since, by key.
    """

    folder: Path
    scenario: Scenario
    points: pd.DataFrame
    table: pd.DataFrame
    runs: pd.DataFrame
    failures: dict

    @property
    def steps(self) -> pd.DataFrame:
        """Every finished run's steps table, read from disk."""
        return RunStore(self.folder, self.scenario, "sweep", readonly=True).steps()

    def plot(self, outcome: str = "goal_attainment", path: Path | None = None):
        """The outcome against the swept parameters: lines with 95% CIs (one per arm), or heat maps for two."""
        parameters = [c for c in self.points.columns if c != "point"]
        rows = self.table[self.table["outcome"] == outcome].merge(self.points, on="point")
        numeric = all(pd.api.types.is_numeric_dtype(self.points[name]) for name in parameters)
        if self.scenario.sweep.grid is not None and len(parameters) == 2 and numeric:
            return sweep_heatmap(rows, parameters, outcome, path)
        x = parameters[0] if len(parameters) == 1 and numeric else "point"
        return sweep_lines(rows, x, outcome, path)


def sweep(
    scenario: Scenario | str | Path,
    **execution: Unpack[ExecutionKeywords],
) -> SweepResult:
    """Run the scenario's ``sweep:`` points, in each of its arms (if any), each for the scenario's replications.

    Args:
        scenario: A scenario with a ``sweep:`` section, or its path.
        **execution: Where and how it runs, as for every experiment (``out``, ``workers``,
            ``scheduler``, ``retry_failed``, ``allow_other_code``, ``overrides``, ``progress``, ``command``): see
            :class:`sim.experiments.template.ExperimentOptions`.
    """
    return run_experiment(SweepKind(), scenario, ExperimentOptions(**execution))


@dataclass(frozen=True, kw_only=True)
class SweepDesign(Design):
    """The sweep's points (each a set of values by dotted path) × arms × replications."""

    points: list[dict[str, Any]]

    def specs(self, replications: int) -> list[RunSpec]:
        """Replication *k* of every arm and point, with the same seed everywhere."""
        seeds = self.seeds(replications)
        arms = [arm.name for arm in self.scenario.swept_arms()] or [""]
        return [
            RunSpec(arm, point, k, seed, overrides)
            for arm in arms
            for point, overrides in enumerate(self.points)
            for k, seed in enumerate(seeds)
        ]

    def table(self) -> pd.DataFrame:
        """One row per point: ``point`` and the value of every swept parameter."""
        return pd.DataFrame([{"point": point, **overrides} for point, overrides in enumerate(self.points)])


@dataclass(frozen=True)
class SweepKind(ExperimentKind):
    """``sweep``: the scenario's ``sweep:`` points, each summarised with its means and 95% CIs."""

    name: ClassVar[str] = "sweep"

    @staticmethod
    def applies(scenario: Scenario) -> bool:
        """A scenario with a ``sweep:`` section can be swept."""
        return scenario.sweep is not None

    def design(self, scenario: Scenario, options: ExperimentOptions) -> SweepDesign:
        """Refuse a scenario without a ``sweep:`` section."""
        if scenario.sweep is None:
            raise ScenarioError("has no sweep: section to run", source=scenario.source, field="sweep")
        lengths = [len(values) for values in (scenario.sweep.grid or scenario.sweep.zip).values()]
        points = math.prod(lengths) if scenario.sweep.grid is not None else lengths[0]
        shape = " x ".join(f"{length:,}" for length in lengths) if scenario.sweep.grid is not None else f"{points:,}"
        arms = max(1, len(scenario.swept_arms()))
        in_arms = f" x {counted(arms, 'arm')}" if scenario.swept_arms() else ""
        check_run_count(
            points * arms * scenario.replications,
            f"a sweep of {shape} points{in_arms} x {counted(scenario.replications, 'replication')}",
            scenario,
            source=scenario.source,
            field="sweep",
        )
        return SweepDesign(scenario=scenario, replications=scenario.replications, points=scenario.sweep.points())

    def analyse(
        self, design: SweepDesign, runs: pd.DataFrame, replications: int, experiment: Experiment
    ) -> SweepResult:
        """Per point and outcome: replications, mean and 95% CI."""
        scenario = design.scenario
        table = summarise_points(runs, [o.name for o in scenario.outcomes], [arm.name for arm in scenario.swept_arms()])
        return SweepResult(experiment.folder, scenario, design.table(), table, runs, experiment.store.failures())

    def write(self, design: SweepDesign, result: SweepResult) -> dict[str, Any]:
        """``points.csv``, ``sweep.csv``, ``runs.parquet`` and one plot per outcome."""
        folder = result.folder
        write_table(result.points, folder / "points.csv")
        write_table(result.table.merge(result.points, on="point", sort=False), folder / "sweep.csv")
        write_table(result.runs, folder / "runs.parquet")
        self.draw(result)
        return {"points": len(design.points), "arms": [arm.name for arm in design.scenario.swept_arms()]}

    @classmethod
    def draw(cls, result: SweepResult) -> None:
        """``plots/sweep_<outcome>.png``, one per outcome."""
        draw_each_outcome(result, "sweep")

    @classmethod
    def read(cls, folder: Path, scenario: Scenario, manifest: dict, runs: pd.DataFrame, failures: dict) -> SweepResult:
        """The points as written; the summary table is computed again from the runs (fast)."""
        points = read_table(folder / "points.csv")
        table = summarise_points(runs, [o.name for o in scenario.outcomes], [arm.name for arm in scenario.swept_arms()])
        return SweepResult(folder, scenario, points, table, runs, failures)


def summarise_points(runs: pd.DataFrame, outcomes: list[str], arms: list[str] | None = None) -> pd.DataFrame:
    """Per arm (in ``arms`` order), point and outcome: replications, mean and 95% CI."""
    order = {arm: position for position, arm in enumerate(arms or [])}
    rows = []
    keyed = runs.assign(_order=runs["arm"].map(order).fillna(-1))
    for (_, arm, point), group in keyed.groupby(["_order", "arm", "point"], sort=True):
        for outcome in outcomes:
            summary = describe(group[outcome])
            del summary["sd"]
            rows.append({"arm": arm, "point": point, "outcome": outcome} | summary)
    return pd.DataFrame(rows)
