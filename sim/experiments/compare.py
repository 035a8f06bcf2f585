"""Comparing reforms: every arm × replications with common random numbers, paired effects.

:func:`compare` runs the scenario's arms (replication *k* of every arm shares a seed), stores
runs as they finish, and summarises from disk: per outcome, each arm's mean with its 95% CI
and, against the reference arm, the paired difference with its CI, a standardised effect size
and a verdict. With ``precision``, it adds replications in rounds until every paired
difference is known to within that half-width, or the replication cap is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.analysis.plots import forest_plot, series_by_arm
from sim.analysis.statistics import paired_effects
from sim.errors import ScenarioError
from sim.experiments.template import Experiment
from sim.model.run import replication_seeds
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.storage.run_store import RunSpec, RunStore

EFFECT_COLUMNS = [
    "arm",
    "outcome",
    "direction",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "difference",
    "difference_low",
    "difference_high",
    "effect_size",
    "verdict",
]


@dataclass
class CompareResult:
    """The outcome of a comparison, read back from its results folder.

    Attributes:
        folder: The results folder.
        scenario: The scenario compared.
        effects: Per arm and outcome: means, CIs, paired differences, effect sizes, verdicts.
        runs: One row per finished run with every output's value.
        failures: Runs that failed and have not finished since, by key.
        stop_reason: Why adding replications stopped (with ``precision``), else ``None``.
    """

    folder: Path
    scenario: Scenario
    effects: pd.DataFrame
    runs: pd.DataFrame
    failures: dict
    stop_reason: str | None = None

    @property
    def steps(self) -> pd.DataFrame:
        """Every finished run's steps table, read from disk (all at once: large for many runs)."""
        return RunStore(self.folder, self.scenario, "compare", readonly=True).steps()

    def bands(self, outputs: list[str] | None = None) -> pd.DataFrame:
        """Per arm (in scenario order), period and output: mean and 95% CI over the runs of ``effects``.

        Read part by part, so memory does not grow with the number of runs.
        """
        outputs = outputs or [o.name for o in self.scenario.outcomes]
        replications = int(self.runs["replication"].max()) + 1  # the runs the effects were computed from
        bands = RunStore(self.folder, self.scenario, "compare", readonly=True).bands(outputs, replications)
        order = {arm.name: position for position, arm in enumerate(self.scenario.arms)}
        return bands.sort_values(["arm", "output", "period"], key=lambda c: c.map(order) if c.name == "arm" else c)

    def plot_forest(self, path: Path | None = None):
        """Paired differences from the reference arm with 95% CIs, one panel per outcome."""
        return forest_plot(self.effects, self.scenario.reference_arm, path)

    def plot_series(self, outcomes: list[str] | None = None, path: Path | None = None):
        """Outcomes over time (default: the scenario's), one line per arm with its 95% band."""
        outcomes = outcomes or [o.name for o in self.scenario.outcomes]
        return series_by_arm(self.bands(outcomes), outcomes, path)


def compare(
    scenario: Scenario | str | Path,
    *,
    out: str | Path | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    command: list[str] | None = None,
) -> CompareResult:
    """Compare the scenario's arms over replications with common random numbers.

    Args:
        scenario: A scenario, or the path of a scenario file.
        out: Results folder (default ``results/<name>/<timestamp>/``). An existing folder of
            the same comparison is resumed: only missing runs are run.
        workers: Local processes (1 runs in this process; ``None`` uses every core).
        scheduler: A Dask scheduler address, or ``"local"`` for a new LocalCluster.
        precision: Add replications until every paired-difference CI half-width is at most this.
        max_replications: Cap on replications per arm with ``precision`` (default 10 × the scenario's).
        retry_failed: Run only the runs that failed before.
        progress: Show progress.
        command: The command line, for the manifest.

    Returns:
        The comparison's tables, also written to ``out``.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not scenario.arms:
        raise ScenarioError("has no arms to compare; add an arms: section", source=scenario.source, field="arms")
    if precision is not None and not precision > 0:
        raise ScenarioError("must be positive", source="--precision")
    cap = max_replications or 10 * scenario.replications
    if cap < scenario.replications:
        raise ScenarioError(
            f"is below the scenario's {scenario.replications} replications", source="--max-replications"
        )
    outcomes = [(o.name, o.direction) for o in scenario.outcomes]
    replications = scenario.replications
    stop_reason = None
    with Experiment(scenario, "compare", out, workers, scheduler, progress) as experiment:
        while True:
            experiment.run(_specs(scenario, replications), retry_failed=retry_failed)
            retry_failed = False
            values = _in_arm_order(experiment.values(replications), scenario)
            effects = paired_effects(values, outcomes, scenario.reference_arm)
            if precision is None:
                break
            widest = _widest_half_width(effects)
            if widest <= precision:
                stop_reason = (
                    f"precision reached: widest CI half-width {widest:.4g} <= {precision} "
                    f"with {replications} replications"
                )
                break
            if replications >= cap:
                stop_reason = f"replication cap {cap} reached: widest CI half-width {widest:.4g} > {precision}"
                break
            if math.isinf(widest):  # a CI is not known yet (fewer than 2 pairs): double
                needed = 2 * replications
            else:  # the ratio is capped so that squaring it cannot overflow
                needed = math.ceil(replications * min(widest / precision, cap) ** 2)
            replications = min(cap, max(replications + 2, needed))
        result = CompareResult(
            experiment.folder, scenario, effects[EFFECT_COLUMNS], values, experiment.store.failures(), stop_reason
        )
        _write_outputs(result)
        experiment.write_manifest(replications, command, reference=scenario.reference_arm, stop_reason=stop_reason)
    return result


def _specs(scenario: Scenario, replications: int) -> list[RunSpec]:
    seeds = replication_seeds(scenario.seed, replications)
    return [RunSpec(arm.name, 0, k, seeds[k]) for arm in scenario.arms for k in range(replications)]


def _in_arm_order(values: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    if values.empty:
        return values
    order = {arm.name: position for position, arm in enumerate(scenario.arms)}
    return values.sort_values(
        ["arm", "replication"], key=lambda c: c.map(order) if c.name == "arm" else c, kind="stable"
    )


def _widest_half_width(effects: pd.DataFrame) -> float:
    others = effects[effects["verdict"] != "reference"]
    half = (others["difference_high"] - others["difference_low"]) / 2
    return float(half.max()) if half.notna().all() else math.inf


def _write_outputs(result: CompareResult) -> None:
    folder = result.folder
    result.effects.to_csv(folder / "effects.csv", index=False)
    result.runs.to_parquet(folder / "runs.parquet", index=False)
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    result.plot_forest(plots / "forest.png")
    result.plot_series(path=plots / "series.png")
