"""Writing a run's results folder, all or nothing.

A results folder holds ``steps.parquet``, ``agents.parquet``, ``summary.csv``,
``manifest.json`` and ``plots/``. Everything is written into a hidden staging folder beside
the destination and moved into place with one rename at the end, so an interrupted or
failed write leaves no half-written results folder behind.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.plots import write_plots
from sim.analysis.statistics import summarise
from sim.errors import ScenarioError
from sim.model.run import RunTables
from sim.scenario.output_names import model_output_names
from sim.scenario.schema import Scenario

DEPENDENCIES = (
    "mesa",
    "numpy",
    "networkx",
    "pandas",
    "pyarrow",
    "pydantic",
    "matplotlib",
    "scipy",
    "pyyaml",
    "rich",
    "SALib",
    "dask",
    "distributed",
    "ema_workbench",
)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table bureausim wrote, read back with text such as an arm named ``NA`` or ``None`` kept as text.

    Only empty cells are missing values: that is how pandas writes ``NaN``.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def default_output(scenario: Scenario, root: Path = Path("results")) -> Path:
    """``results/<name>/<UTC timestamp>/``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return root / scenario.name / stamp


def check_output(out: Path) -> None:
    """Refuse an output folder that exists with content, or whose location cannot be written.

    Raises:
        ScenarioError: before anything is run or written.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScenarioError("exists and is not an empty folder; choose a new --out", source=str(out))
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScenarioError(f"cannot be created: {parent} is not writable", source=str(out))


def write_results(
    out: Path, scenario: Scenario, tables: RunTables, *, seeds: list[int], wall_time: float, command: list[str]
) -> Path:
    """Write the results folder for one run of a scenario and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        tables.steps.to_parquet(staging / "steps.parquet", index=False)
        tables.agents.to_parquet(staging / "agents.parquet", index=False)
        outputs = model_output_names(tables.level_names)
        summarise(tables.steps, outputs).to_csv(staging / "summary.csv", index=False)
        write_plots(tables.steps, tables.level_names, staging / "plots")
        manifest = build_manifest(scenario, seeds=seeds, wall_time=wall_time, command=command)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        if out.exists():
            out.rmdir()  # check_output allowed only an empty folder
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def build_manifest(scenario: Scenario, *, seeds: list[int], wall_time: float, command: list[str]) -> dict[str, Any]:
    """Everything needed to reproduce and cite a run."""
    return {
        "kind": "run",
        "bureausim": _version("bureausim"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "scenario_file": scenario.source,
        "scenario": scenario.model_dump(mode="json"),
        "resolved_parameters": scenario.resolved_parameters().model_dump(mode="json"),
        "master_seed": scenario.seed,
        "replication_seeds": seeds,
        "wall_time_seconds": round(wall_time, 3),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "git_commit": _git_commit(),
    }


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """The commit of the source tree this package runs from, marked ``-dirty`` if modified."""
    source = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")
