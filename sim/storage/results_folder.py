"""Writing a run's results folder, all or nothing.

A results folder holds ``steps.parquet``, ``agents.parquet``, ``summary.csv``,
``manifest.json`` and ``plots/`` (and, for a portfolio of tasks, ``tasks.csv``: the per-task
outputs as a long table). Everything is written into a hidden staging folder beside
the destination and moved into place with one rename at the end, so an interrupted or
failed write leaves no half-written results folder behind.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.analysis.plots import write_plots
from sim.analysis.statistics import summarise
from sim.atomic import write_table, write_text
from sim.model.run import RunTables
from sim.scenario.output_names import long_task_table, output_columns, tasks_in
from sim.scenario.schema import Scenario
from sim.storage.provenance import build_manifest


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table bureausim wrote, read back with text such as an arm named ``NA`` or ``None`` kept as text.

    Only empty cells are missing values: that is how pandas writes ``NaN``.
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def default_output(scenario: Scenario, root: Path = Path("results")) -> Path:
    """``results/<name>/<UTC timestamp>/``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return root / scenario.name / stamp


def write_results(
    out: Path, scenario: Scenario, tables: RunTables, *, seeds: list[int], wall_time: float, command: list[str]
) -> Path:
    """Write the results folder for one run of a scenario and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    for leftover in out.parent.glob(f".{out.name}.partial-*"):  # a killed run's (the caller holds the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    staging.mkdir()
    try:
        write_table(tables.steps, staging / "steps.parquet")
        write_table(tables.agents, staging / "agents.parquet")
        tasks = tasks_in(tables.steps.columns)
        outputs = output_columns(tables.steps.columns, tables.level_names)
        write_table(summarise(tables.steps, outputs, scenario.burn_in_periods), staging / "summary.csv")
        if tasks:  # a portfolio: its per-task outputs, long
            write_table(long_task_table(tables.steps), staging / "tasks.csv")
        write_plots(tables.steps, tables.level_names, staging / "plots", scenario.burn_in_periods)
        manifest = build_manifest(scenario, seeds=seeds, wall_time=wall_time, command=command)
        write_text(staging / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        if out.exists():
            out.rmdir()  # check_run_folder allowed only an empty folder
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
