"""Checks of where a command will write, made before anything runs, so that a mistake costs nothing.

Each command refuses what it cannot use: ``run`` a folder that is not new or empty, an
experiment a folder that holds something other than an experiment to resume, and a report
(HTML or Markdown) a path that cannot be written. Every one of them also refuses a path the
file system cannot hold (a name over 255 bytes, the whole over 4,096), a symlink that leads
nowhere, and a location whose nearest existing folder is not a writable folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.errors import ScenarioError
from sim.storage.records import read_record


def check_run_folder(out: Path) -> None:
    """Refuse an output folder that exists with content, or whose location cannot be written.

    Raises:
        ScenarioError: before anything is run or written.
    """
    check_path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScenarioError("exists and is not an empty folder; choose a new --out", source=str(out))


NAME_MAX = 255
"""The longest name (in bytes) of one file or folder on the common file systems."""

HIDDEN_ROOM = 24
"""Bytes a written name needs to spare for the hidden files beside it (``.NAME.lock``, ``.NAME.partial-PID``)."""

PATH_MAX = 4096
"""The longest path (in bytes) Linux accepts."""


def check_path(path: Path) -> None:
    """Refuse an output path the file system cannot hold or that leads nowhere, before anything runs.

    Raises:
        ScenarioError: for a name over :data:`NAME_MAX` bytes, a path over :data:`PATH_MAX`, a
            symlink (on the path itself or a parent) whose target does not exist, or a
            location whose nearest existing ancestor is not a writable folder.
    """
    path = Path(path)
    long = [part for part in path.parts if len(os.fsencode(part)) > NAME_MAX]
    if long:
        raise ScenarioError(
            f"has a name of {len(os.fsencode(long[0])):,} bytes ({long[0][:24]}...); file systems allow at most "
            f"{NAME_MAX}",
            source=_shortened(path),
        )
    if len(os.fsencode(path.name)) > NAME_MAX - HIDDEN_ROOM:
        raise ScenarioError(
            f"has a name of {len(os.fsencode(path.name)):,} bytes; at most {NAME_MAX - HIDDEN_ROOM} leave room for "
            "the hidden lock and temporary files written beside it",
            source=_shortened(path),
        )
    if len(os.fsencode(str(path.absolute()))) > PATH_MAX:
        raise ScenarioError(f"is longer than the {PATH_MAX:,} bytes a path may have", source=_shortened(path))
    for link in (path, *path.parents):
        if link.is_symlink() and not link.exists():
            raise ScenarioError(
                f"{'is' if link == path else f'goes through {link}, which is'} a symlink to "
                f"{os.readlink(link)}, which does not exist",
                source=str(path),
            )
    parent = _nearest_existing(path.parent if str(path.parent) else Path("."))
    if not parent.is_dir():
        raise ScenarioError(f"cannot be created: {parent} is not a folder", source=str(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScenarioError(f"cannot be created: {parent} is not writable", source=str(path))


def _shortened(path: Path) -> str:
    """A path too long to print whole, shortened for the message."""
    text = str(path)
    return text if len(text) <= 80 else f"{text[:40]}...{text[-20:]}"


def check_experiment_folder(folder: Path) -> None:
    """Allow a new folder, an empty one, or one holding an experiment (to resume); refuse others."""
    check_path(folder)
    if folder.exists() and not folder.is_dir():
        raise ScenarioError("exists and is not a folder", source=str(folder))
    if folder.exists() and any(folder.iterdir()) and not (folder / "experiment.json").exists():
        raise ScenarioError(
            "exists, is not empty and holds no experiment to resume; choose a new --out", source=str(folder)
        )
    if (folder / "experiment.json").exists():
        read_identity(folder)  # a damaged record is refused now, before the folder's lock is taken


def read_identity(folder: Path) -> dict:
    """The ``experiment.json`` of an experiment's folder: which experiment it holds (see :mod:`sim.storage.records`)."""
    return read_record(
        folder / "experiment.json",
        {"kind": str, "scenario_hash": str},
        hint="it says which experiment the folder holds, so the folder cannot be resumed; choose a new --out",
    )


def check_output_file(path: Path) -> None:
    """Refuse a report path whose folder cannot be written, before measuring anything."""
    check_path(path)
    if path.is_dir():
        raise ScenarioError("is a folder, not a file to write", source=str(path))


def _nearest_existing(folder: Path) -> Path:
    """``folder`` or its nearest ancestor that exists: where a new path would be created."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder
