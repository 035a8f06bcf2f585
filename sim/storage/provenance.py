"""Provenance of a results folder: the manifest of a run, the versions it ran with, the commit of the code.

Everything needed to reproduce and cite a result is recorded beside it: the scenario and its
seeds, the Python and platform, the version of every dependency that can change a number, and
the git commit of the source tree the package runs from.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

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
"""Distributions whose versions every manifest records."""


NUMBERS_SOURCE = ("scenario", "model", "analysis/statistics.py")
"""The parts of the package whose code decides a run's numbers: what an experiment's identity hashes."""


@functools.cache
def code_identity() -> dict[str, str | None]:
    """The code an experiment's runs come from: bureausim's version and a hash of the source that decides numbers.

    The hash covers every module of the scenario and model layers and the statistics that
    turn a run into its outcome values (:data:`NUMBERS_SOURCE`), file names included, so it
    changes with any edit that can change a number, whether or not the tree is committed.
    """
    return {"bureausim": version("bureausim"), "model_source": source_digest(Path(__file__).resolve().parents[1])}


def source_digest(package: Path) -> str:
    """A short hash of the :data:`NUMBERS_SOURCE` modules of the package at ``package``, names and bytes."""
    digest = hashlib.sha256()
    for part in NUMBERS_SOURCE:
        path = package / part
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_manifest(scenario: Scenario, *, seeds: list[int], wall_time: float, command: list[str]) -> dict[str, Any]:
    """Everything needed to reproduce and cite a run."""
    return {
        "kind": "run",
        "bureausim": version("bureausim"),
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
        "dependencies": {name: version(name) for name in DEPENDENCIES},
        "git_commit": git_commit(),
        "code": code_identity(),
    }


def version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or ``None`` if it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def git_commit(*, short: bool = False, mark_dirty: bool = True) -> str | None:
    """The commit of the source tree this package runs from, or ``None`` outside a git checkout.

    Args:
        short: Abbreviate the commit as ``git rev-parse --short`` does.
        mark_dirty: Append ``-dirty`` if tracked files have been modified since the commit.
    """
    source = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", *(["--short"] if short else []), "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        if not mark_dirty:
            return commit
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
