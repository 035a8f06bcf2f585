"""Comparing reforms: every arm × replications with common random numbers, paired effects.

:func:`compare` runs the scenario's arms (replication *k* of every arm shares a seed), stores
runs as they finish, and summarises from disk: per outcome, each arm's mean with its 95% CI
and, against the reference arm, the paired difference with its CI, a standardised effect size
and a verdict. With ``precision``, it adds replications in rounds until every paired
difference is known to within that half-width, or the replication cap is reached.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import ScenarioError
from sim.experiment import make_executor, payload_for, run_specs
from sim.plots import forest_plot, series_by_arm
from sim.runner import replication_seeds
from sim.runstore import RunSpec, RunStore
from sim.scenario import Scenario, load_scenario
from sim.stats import paired_effects
from sim.store import build_manifest, default_output

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
        """Every finished run's steps table, read from disk."""
        return RunStore(self.folder, self.scenario, "compare").steps()

    def plot_forest(self, path: Path | None = None):
        """Paired differences from the reference arm with 95% CIs, one panel per outcome."""
        return forest_plot(self.effects, self.scenario.reference_arm, path)

    def plot_series(self, outcome: str = "goal_attainment", path: Path | None = None):
        """The outcome over time, one line per arm with its 95% band."""
        return series_by_arm(self.steps, outcome, path)


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
    folder = Path(out) if out is not None else default_output(scenario)
    check_experiment_folder(folder)
    start = time.perf_counter()
    store = RunStore(folder, scenario, "compare")
    payload = payload_for(scenario)
    outcomes = [(o.name, o.direction) for o in scenario.outcomes]
    reference = scenario.reference_arm
    replications = scenario.replications
    executor = make_executor(workers, scheduler)
    stop_reason = None
    try:
        while True:
            specs = _specs(scenario, replications)
            done, failed = store.done(), store.failures()
            if retry_failed:
                todo = [spec for spec in specs if spec.key in failed]
            else:
                todo = [spec for spec in specs if spec.key not in done and spec.key not in failed]
            run_specs(store, payload, todo, executor, label=f"{scenario.name}: runs", progress=progress)
            retry_failed = False
            values = _in_arm_order(store.values(), scenario)
            values = values[values["replication"] < replications]
            _check_outcomes(values, outcomes)
            effects = paired_effects(values, outcomes, reference)
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
            needed = math.ceil(replications * (widest / precision) ** 2)
            replications = min(cap, max(replications + 2, needed))
        executor_description = executor.description
    finally:
        executor.close()
    failures = store.failures()
    result = CompareResult(folder, scenario, effects[EFFECT_COLUMNS], values, failures, stop_reason)
    _write_outputs(result, replications, executor_description, time.perf_counter() - start, command)
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


def _check_outcomes(values: pd.DataFrame, outcomes: list[tuple[str, str]]) -> None:
    missing = [name for name, _ in outcomes if not values.empty and name not in values.columns]
    if missing:
        raise ScenarioError(f"outcomes {missing} are not outputs of this hierarchy", field="outcomes")
    if values.empty:
        raise ScenarioError("no run finished; see failures.jsonl in the results folder")


def _widest_half_width(effects: pd.DataFrame) -> float:
    others = effects[effects["verdict"] != "reference"]
    half = (others["difference_high"] - others["difference_low"]) / 2
    return float(half.max()) if half.notna().all() else math.inf


def check_experiment_folder(folder: Path) -> None:
    """Allow a new folder, an empty one, or one holding an experiment (to resume); refuse others."""
    if folder.exists() and not folder.is_dir():
        raise ScenarioError("exists and is not a folder", source=str(folder))
    if folder.exists() and any(folder.iterdir()) and not (folder / "experiment.json").exists():
        raise ScenarioError(
            "exists, is not empty and holds no experiment to resume; choose a new --out", source=str(folder)
        )


def _write_outputs(result: CompareResult, replications: int, executor: str, wall: float, command) -> None:
    folder = result.folder
    result.effects.to_csv(folder / "effects.csv", index=False)
    result.runs.to_parquet(folder / "runs.parquet", index=False)
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    result.plot_forest(plots / "forest.png")
    steps = result.steps
    for name, _ in [(o.name, o.direction) for o in result.scenario.outcomes]:
        series_by_arm(steps, name, plots / f"series_{name}.png")
    manifest = build_manifest(
        result.scenario,
        seeds=replication_seeds(result.scenario.seed, replications),
        wall_time=wall,
        command=command or [],
    )
    manifest |= {
        "kind": "compare",
        "scenario_hash": RunStore(folder, result.scenario, "compare").hash,
        "replications": replications,
        "reference": result.scenario.reference_arm,
        "executor": executor,
        "stop_reason": result.stop_reason,
        "runs_finished": len(result.runs),
        "runs_failed": len(result.failures),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
