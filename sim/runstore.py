"""Crash-safe, resumable storage of an experiment's runs.

Every finished run is one Parquet part, ``runs/<arm>/p<point>-r<replication>-s<seed>.parquet``,
written to a temporary file and renamed into place, so a part is either complete or absent.
The parts are the truth: ``index.jsonl`` (one line per run with its outcome values, so
summaries never need to load the parts) is rebuilt from them whenever the store is opened.
Failed runs are recorded in ``failures.jsonl`` with their tracebacks. A store belongs to one
scenario: opening it for another (a different hash) is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ScenarioError
from sim.scenario import Scenario
from sim.stats import run_values


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: an arm, a point (of a sweep or a design), a replication and its seed.

    Attributes:
        arm: Arm name, or ``""`` for the scenario without arms.
        point: Index of the parameter point (0 when there is only one).
        replication: Replication number; its seed is the same in every arm and point.
        seed: The run's seed.
        overrides: Parameter values of the point, by dotted path.
    """

    arm: str
    point: int
    replication: int
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        """Where the run is stored, relative to ``runs/``: unique per arm, point, replication and seed."""
        return f"{self.arm or '_'}/p{self.point:05d}-r{self.replication:05d}-s{self.seed}"


def scenario_hash(scenario: Scenario) -> str:
    """A short hash of everything in a scenario that changes its runs."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class RunStore:
    """The runs folder of one experiment.

    Args:
        folder: The results folder (created if missing).
        scenario: The experiment's scenario; its hash must match the folder's.
        kind: The experiment kind (``compare``, ``sweep``, ``sensitivity``), recorded once.
    """

    def __init__(self, folder: Path, scenario: Scenario, kind: str) -> None:
        self.folder = Path(folder)
        self.hash = scenario_hash(scenario)
        self.burn_in = scenario.burn_in_periods
        identity = self.folder / "experiment.json"
        if identity.exists():
            recorded = json.loads(identity.read_text(encoding="utf-8"))
            if recorded.get("scenario_hash") != self.hash or recorded.get("kind") != kind:
                raise ScenarioError(
                    f"holds a {recorded.get('kind')} of another scenario (hash {recorded.get('scenario_hash')}, "
                    f"this one is {self.hash}); choose a new --out",
                    source=str(self.folder),
                )
        self.runs = self.folder / "runs"
        self.runs.mkdir(parents=True, exist_ok=True)
        if not identity.exists():
            _write_atomically(identity, json.dumps({"kind": kind, "scenario_hash": self.hash}) + "\n")
        self._index = self._rebuild_index()

    # --- writing -------------------------------------------------------------------------

    def write(self, spec: RunSpec, steps: pd.DataFrame, values: dict[str, float], seconds: float) -> None:
        """Store one finished run: its part atomically, then its line in the index."""
        path = self.runs / f"{spec.key}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".tmp-{os.getpid()}")
        steps.to_parquet(temporary, index=False)
        os.replace(temporary, path)
        record = {**_spec_record(spec), "seconds": round(seconds, 4), "values": values}
        with open(self.folder / "index.jsonl", "a", encoding="utf-8") as index:
            index.write(json.dumps(record) + "\n")
        self._index[spec.key] = record

    def record_failure(self, spec: RunSpec, error: str) -> None:
        """Record a run that raised, with its traceback."""
        with open(self.folder / "failures.jsonl", "a", encoding="utf-8") as failures:
            failures.write(json.dumps({**_spec_record(spec), "error": error}) + "\n")

    # --- reading -------------------------------------------------------------------------

    def done(self) -> set[str]:
        """Keys of the finished runs."""
        return set(self._index)

    def failures(self) -> dict[str, dict[str, Any]]:
        """The last failure of each run that has failed and not finished since."""
        path = self.folder / "failures.jsonl"
        if not path.exists():
            return {}
        failed: dict[str, dict[str, Any]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                failed[record["key"]] = record
        return {key: record for key, record in failed.items() if key not in self._index}

    def values(self) -> pd.DataFrame:
        """One row per finished run: arm, point, replication, seed and every output's value."""
        rows = [
            {key: record[key] for key in ("arm", "point", "replication", "seed")} | record["values"]
            for record in self._index.values()
        ]
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        return frame.sort_values(["arm", "point", "replication"], kind="stable").reset_index(drop=True)

    def steps(self, keys: list[str] | None = None) -> pd.DataFrame:
        """The steps tables of finished runs (all of them by default), concatenated."""
        chosen = sorted(self._index) if keys is None else keys
        return pd.concat([pd.read_parquet(self.runs / f"{key}.parquet") for key in chosen], ignore_index=True)

    def _rebuild_index(self) -> dict[str, dict[str, Any]]:
        """Index every complete part; recompute values of parts the index missed; drop temporaries."""
        recorded: dict[str, dict[str, Any]] = {}
        index = self.folder / "index.jsonl"
        if index.exists():
            for line in index.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash; its part (if any) is re-read below
                recorded[record["key"]] = record
        for temporary in self.runs.rglob("*.tmp-*"):
            temporary.unlink()
        present = {str(p.relative_to(self.runs).with_suffix("")) for p in self.runs.rglob("*.parquet")}
        rebuilt = {key: recorded[key] for key in sorted(present) if key in recorded}
        missing = present - set(rebuilt)
        if missing:
            for key in sorted(missing):
                steps = pd.read_parquet(self.runs / f"{key}.parquet")
                first = steps.iloc[0]
                rebuilt[key] = {
                    "key": key,
                    "arm": str(first["arm"]),
                    "point": int(first["point"]),
                    "replication": int(first["replication"]),
                    "seed": int(first["seed"]),
                    "seconds": None,
                    "values": run_values(steps, self.burn_in),
                }
        if rebuilt != recorded:
            _write_atomically(index, "".join(json.dumps(r) + "\n" for r in rebuilt.values()))
        return rebuilt


def _spec_record(spec: RunSpec) -> dict[str, Any]:
    record = asdict(spec)
    record["key"] = spec.key
    return record


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_suffix(f".tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
