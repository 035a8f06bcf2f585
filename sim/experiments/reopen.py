"""Reopening a results folder written by any bureausim command (run, an experiment of any kind, calibrate)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.experiments.compare import CompareResult
from sim.experiments.explain import ExplainResult
from sim.experiments.kinds import KINDS
from sim.experiments.replications import RunResult
from sim.experiments.robustness import RobustnessResult
from sim.experiments.sensitivity import SensitivityResult
from sim.experiments.sweep import SweepResult
from sim.scenario.messages import user_error
from sim.scenario.output_names import level_names_in
from sim.scenario.schema import Scenario
from sim.storage.records import read_record
from sim.storage.results_folder import read_table
from sim.storage.run_store import RunStore

if TYPE_CHECKING:
    from sim.experiments.calibrate import CalibrationResult


def load_results(
    folder: str | Path,
) -> RunResult | CompareResult | SweepResult | SensitivityResult | RobustnessResult | ExplainResult | CalibrationResult:
    """Reopen a results folder as the result object of the command that wrote it."""
    folder = Path(folder)
    manifest, scenario, kind = read_manifest(folder)
    with damaged_tables_refused(folder, "cannot be read back: a table is missing or damaged"):
        if kind == "run":
            steps = pd.read_parquet(folder / "steps.parquet")
            return RunResult(
                scenario,
                steps,
                pd.read_parquet(folder / "agents.parquet"),
                read_table(folder / "summary.csv"),
                [int(seed) for seed in manifest.get("replication_seeds", [])],
                level_names_in(steps.columns),
                folder,
            )
        if kind == "calibrate":
            from sim.experiments.calibrate import read_calibration  # its modules import only when needed

            return read_calibration(folder, scenario, manifest)
        store = RunStore(folder, scenario, kind, readonly=True)
        runs = pd.read_parquet(folder / "runs.parquet")
        return KINDS[kind].read(folder, scenario, manifest, runs, store.failures())


@contextlib.contextmanager
def damaged_tables_refused(folder: Path, problem: str) -> Iterator[None]:
    """Turn what reading a removed, cut or edited table raises into one :class:`ScenarioError` naming ``folder``.

    A user error raised inside (a table without a row the figures expect) is part of the message.
    """
    try:
        yield
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        detail = f"{type(error).__name__}: {error}"[:200]
        raise ScenarioError(
            f"{problem} ({detail}); run the command that wrote it again into a new --out", source=str(folder)
        ) from None


def read_manifest(folder: Path) -> tuple[dict, Scenario, str]:
    """A results folder's manifest, its scenario and its kind, each checked (see :mod:`sim.storage.records`)."""
    if not folder.exists():
        raise ScenarioError("does not exist", source=str(folder))
    if not (folder / "manifest.json").exists():
        if (folder / "experiment.json").is_file():
            raise ScenarioError(
                "holds an experiment that has not finished (no manifest.json yet); run the command that started it "
                "again, with the same --out, to finish it",
                source=str(folder),
            )
        raise ScenarioError("is not a results folder (no manifest.json)", source=str(folder))
    hint = "run the command that wrote the folder again, with the same --out, to write it anew"
    manifest = read_record(folder / "manifest.json", {"scenario": dict}, hint=hint)
    kind = manifest.get("kind", "run")
    known = ["run", *KINDS, "calibrate"]
    if kind not in known:
        raise ScenarioError(
            f"holds an experiment of unknown kind {kind!r} (known: {', '.join(known)}); it was written by another "
            "program or another version of bureausim",
            source=str(folder),
        )
    try:
        scenario = Scenario.model_validate(manifest["scenario"])
    except ValidationError as error:
        problem = user_error(error, root=Scenario)
        raise ScenarioError(
            f"manifest.json is damaged (its scenario is not valid: {problem}); {hint}", source=str(folder)
        ) from None
    source = manifest.get("scenario_file")
    scenario.source = source if isinstance(source, str) else None
    return manifest, scenario, kind
