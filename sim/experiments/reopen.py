"""Reopening a results folder written by any bureausim command (run, compare, sweep, sensitivity, robustness)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import ScenarioError
from sim.experiments.compare import CompareResult
from sim.experiments.kinds import KINDS
from sim.experiments.robustness import RobustnessResult
from sim.experiments.sensitivity import SensitivityResult
from sim.experiments.sweep import SweepResult
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
    return KINDS[kind].read(folder, scenario, manifest, runs, store.failures())
