"""Checks of where a command will write, made before anything runs, so that a mistake costs nothing.

Each command refuses what it cannot use: ``run`` a folder that is not new or empty, an
experiment a folder that holds something other than an experiment to resume, and a report
(HTML or Markdown) a path that cannot be written.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.errors import ScenarioError


def check_run_folder(out: Path) -> None:
    """Refuse an output folder that exists with content, or whose location cannot be written.

    Raises:
        ScenarioError: before anything is run or written.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScenarioError("exists and is not an empty folder; choose a new --out", source=str(out))
    parent = _nearest_existing(out.parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScenarioError(f"cannot be created: {parent} is not writable", source=str(out))


def check_experiment_folder(folder: Path) -> None:
    """Allow a new folder, an empty one, or one holding an experiment (to resume); refuse others."""
    if folder.exists() and not folder.is_dir():
        raise ScenarioError("exists and is not a folder", source=str(folder))
    if folder.exists() and any(folder.iterdir()) and not (folder / "experiment.json").exists():
        raise ScenarioError(
            "exists, is not empty and holds no experiment to resume; choose a new --out", source=str(folder)
        )


def check_output_file(path: Path) -> None:
    """Refuse a report path whose folder cannot be written, before measuring anything."""
    parent = _nearest_existing(path.parent if str(path.parent) else Path("."))
    if path.is_dir() or not os.access(parent, os.W_OK):
        raise ScenarioError("cannot be written", source=str(path))


def _nearest_existing(folder: Path) -> Path:
    """``folder`` or its nearest ancestor that exists: where a new path would be created."""
    while not folder.exists():
        folder = folder.parent
    return folder
