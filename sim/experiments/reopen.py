"""Reopening a results folder written by any bureausim command (run, compare, sweep, sensitivity, robustness)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import ScenarioError
from sim.experiments.compare import CompareResult
from sim.experiments.robustness import RobustnessResult, read_robustness
from sim.experiments.sensitivity import SensitivityResult
from sim.experiments.sweep import SweepResult, summarise_points
from sim.scenario.schema import Scenario
from sim.storage.results_folder import read_table
from sim.storage.run_store import RunStore


@dataclass
class RunResult:
    """A folder written by ``bureausim run``: steps, agents and summary tables."""

    folder: Path
    scenario: Scenario
    steps: pd.DataFrame
    agents: pd.DataFrame
    summary: pd.DataFrame


def load_results(
    folder: str | Path,
) -> RunResult | CompareResult | SweepResult | SensitivityResult | RobustnessResult:
    """Reopen a results folder as the result object of the command that wrote it."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("is not a results folder (no manifest.json)", source=str(folder)) from None
    scenario = Scenario.model_validate(manifest["scenario"])
    scenario.source = manifest.get("scenario_file")
    kind = manifest.get("kind", "run")
    if kind == "run":
        return RunResult(
            folder,
            scenario,
            pd.read_parquet(folder / "steps.parquet"),
            pd.read_parquet(folder / "agents.parquet"),
            read_table(folder / "summary.csv"),
        )
    store = RunStore(folder, scenario, kind, readonly=True)
    runs = pd.read_parquet(folder / "runs.parquet")
    if kind == "compare":
        effects = read_table(folder / "effects.csv")
        return CompareResult(folder, scenario, effects, runs, store.failures(), manifest.get("stop_reason"))
    if kind == "sweep":
        points = read_table(folder / "points.csv")
        table = summarise_points(runs, [o.name for o in scenario.outcomes])
        return SweepResult(folder, scenario, points, table, runs, store.failures())
    if kind == "robustness":
        return read_robustness(folder, scenario, runs, store.failures())
    samples = read_table(folder / "samples.csv")
    indices = read_table(folder / "indices.csv")
    return SensitivityResult(folder, scenario, manifest["method"], samples, indices, runs, store.failures())
