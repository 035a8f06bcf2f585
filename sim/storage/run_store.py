"""Crash-safe, resumable storage of an experiment's runs.

Finished runs are gathered and written together as Parquet parts, ``runs/part-<n>.parquet``
(every ``FLUSH_RUNS`` runs, when a run finishes ``FLUSH_SECONDS`` or more after the last write,
and at the end), each written to a
temporary file and renamed into place, so a part is either complete or absent. A run is
finished once its part is in place; runs taken but not yet written when a process dies are
simply run again on resume, so nothing is lost or stored twice. The parts are the truth:
``index.jsonl`` (one line per run with its outcome values, so summaries never need to load
the parts) is rebuilt from them whenever the store is opened. Every index line carries a
check of its own content; a line that fails it (edited, or cut short), or that names another
part than the one holding its run, is recomputed from the part. A part that cannot be read
is moved aside to ``runs/damaged/`` and named in :attr:`RunStore.set_aside`, and its runs
count as not run, so they are run again.
Failed runs are recorded in ``failures.jsonl`` with their tracebacks. A store belongs to one
scenario: opening it for another (a different hash) is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset
import pyarrow.parquet

from sim.analysis.statistics import run_values, streaming_bands
from sim.atomic import remove_leftovers, write_table, write_text
from sim.errors import ScenarioError
from sim.scenario.schema import Scenario
from sim.storage.output_checks import read_identity
from sim.storage.provenance import code_identity

FLUSH_RUNS = 50
"""Finished runs gathered into one Parquet part, at most."""
FLUSH_SECONDS = 5.0
"""A run that finishes this long after the last write is written at once, with those held since."""
KEY_COLUMNS = ("arm", "point", "replication", "seed")


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: an arm, a point (of a sweep or a design), a replication and its seed.

    Attributes:
        arm: Arm name, or ``""`` for the scenario without arms.
        point: Index of the parameter point (0 when there is only one).
        replication: Replication number; its seed is the same in every arm and point.
        seed: The run's seed.
        overrides: Parameter values of the point, by dotted path, applied after the arm.
        world: Parameter values of a future, by dotted path: the scenario's own values, which
            the arm's policies and overrides then act on.
    """

    arm: str
    point: int
    replication: int
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    world: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> str:
        """Where the run is stored, relative to ``runs/``: unique per arm, point, replication and seed."""
        return f"{self.arm or '_'}/p{self.point:05d}-r{self.replication:05d}-s{self.seed}"


NOT_HASHED = {
    "description": True,
    "arms": {"__all__": {"description"}},
    "factors": {"__all__": {"description"}},
    "robustness": True,
    "targets": True,
    "calibration": True,
}
"""Parts of a scenario that change no run: descriptions, what ``robustness`` reports (its
number of futures is part of that experiment's design instead), and the calibration's targets
and settings (a calibration's design names them in its identity)."""


def scenario_hash(scenario: Scenario) -> str:
    """A short hash of what decides a scenario's runs, and of a graph file's contents.

    Descriptions and the ``robustness`` section (thresholds and discovery questions are
    analysis) are left out, so editing them does not stop a results folder from resuming.
    """
    data = scenario.model_dump(mode="json", exclude=NOT_HASHED)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8"))
    path = scenario.graph_file
    if path is not None:
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest.hexdigest()[:16]


def table_digest(frame: pd.DataFrame) -> str:
    """A short hash of a table's column names, order and exact values (a sample design's identity)."""
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()[:16]


class RunStore:
    """The runs folder of one experiment.

    Args:
        folder: The results folder (created if missing).
        scenario: The experiment's scenario; its hash must match the folder's.
        kind: The experiment kind (``compare``, ``sweep``, ``sensitivity``, ``robustness``), recorded once.
        design: What else decides which runs an experiment makes (a sensitivity analysis's
            method, size and sample; a robustness analysis's futures); must match the folder's too.
        readonly: Open a finished folder for reading only: no identity check, nothing
            created, cleaned or rewritten (``sim.load_results``).
        allow_other_code: Resume a folder whose runs came from other code (another version, or
            an edited model): its runs and this code's are then mixed, and
            :attr:`other_code` says which code the folder was started under.

    Attributes:
        set_aside: Parts that could not be read when the store was opened, moved to
            ``runs/damaged/``; their runs are run again.
        other_code: The code identity recorded in the folder, when it differs from this
            code's and ``allow_other_code`` let the folder be resumed; else ``None``.
    """

    def __init__(
        self,
        folder: Path,
        scenario: Scenario,
        kind: str,
        design: dict | None = None,
        readonly: bool = False,
        allow_other_code: bool = False,
    ) -> None:
        self.folder = Path(folder)
        self.hash = scenario_hash(scenario)
        self.burn_in = scenario.burn_in_periods
        self.runs = self.folder / "runs"
        self.readonly = readonly
        identity = self.folder / "experiment.json"
        wanted = {"kind": kind, "scenario_hash": self.hash, "design": design or {}}
        code = code_identity()
        self.other_code = None
        if identity.exists() and not readonly:
            recorded = read_identity(self.folder)
            if {key: recorded.get(key, {} if key == "design" else None) for key in wanted} != wanted:
                there = str(recorded.get("kind") or "experiment")
                differs = []
                if recorded.get("kind") != kind:
                    differs.append(f"its kind ({there} there, {kind} here)")
                if recorded.get("scenario_hash") != self.hash:
                    differs.append(f"the scenario (hash {recorded.get('scenario_hash')} there, {self.hash} here)")
                if recorded.get("design", {}) != wanted["design"]:
                    differs.append(
                        f"the design ({recorded.get('design') or 'none'} there, {wanted['design'] or 'none'} here)"
                    )
                article = "an" if there[:1] and there[0] in "aeiou" else "a"
                raise ScenarioError(
                    f"holds {article} {there} of another scenario or design: {'; '.join(differs)} "
                    "(or it was written by an earlier bureausim); choose a new --out",
                    source=str(self.folder),
                )
            if recorded.get("code") != code:
                if not allow_other_code:
                    raise ScenarioError(
                        f"was started under other code ({_describe_code(recorded.get('code'))}; this is "
                        f"{_describe_code(code)}), and resuming would mix runs of both; choose a new --out, or "
                        "pass --allow-other-code to resume anyway (the manifest records it)",
                        source=str(self.folder),
                    )
                self.other_code = recorded.get("code") or {}
        if not readonly:
            self.runs.mkdir(parents=True, exist_ok=True)
            if not identity.exists():
                write_text(identity, json.dumps(wanted | {"code": code}) + "\n")
        self._buffer: list[tuple[RunSpec, pd.DataFrame, dict[str, Any]]] = []
        self._flushed = time.monotonic()
        self._index = self._rebuild_index()

    # --- writing -------------------------------------------------------------------------

    def write(self, spec: RunSpec, steps: pd.DataFrame, values: dict[str, float], seconds: float) -> None:
        """Take one finished run; it is stored with the next flush.

        That is at most ``FLUSH_RUNS`` runs or ``FLUSH_SECONDS`` seconds later, or at the end.
        """
        self._buffer.append((spec, steps, {**_spec_record(spec), "seconds": round(seconds, 4), "values": values}))
        if len(self._buffer) >= FLUSH_RUNS or time.monotonic() - self._flushed >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the runs taken since the last flush as one part, atomically, then index them."""
        self._flushed = time.monotonic()
        if not self._buffer:
            return
        name = f"part-{self._next_part:06d}.parquet"
        write_table(pd.concat([steps for _, steps, _ in self._buffer], ignore_index=True), self.runs / name)
        records = [_checked(record | {"part": name}) for _, _, record in self._buffer]
        with open(self.folder / "index.jsonl", "a", encoding="utf-8") as index:
            index.write("".join(json.dumps(record) + "\n" for record in records))
        self._index.update((record["key"], record) for record in records)
        self._buffer.clear()
        self._next_part += 1

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
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # blank, or cut short by a crash: that run is simply run again
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

    def steps(self) -> pd.DataFrame:
        """The steps tables of all finished runs, read from the parts."""
        parts = sorted(str(path) for path in self.runs.glob("part-*.parquet"))
        if not parts:
            return pd.DataFrame()
        return pyarrow.dataset.dataset(parts, format="parquet").to_table().to_pandas()

    def bands(self, outputs: list[str], replications: int | None = None) -> pd.DataFrame:
        """Per arm, period and output: the mean over finished runs and its 95% CI, read part by part.

        Memory is that of one part (at most ``FLUSH_RUNS`` runs), whatever the number of runs.

        Args:
            outputs: Output columns (repeats are read once).
            replications: Use only replications below this (the runs a table was computed from).
        """
        outputs = list(dict.fromkeys(outputs))
        parts = sorted(self.runs.glob("part-*.parquet"))
        if parts:
            known = [n for n in pyarrow.parquet.read_schema(parts[0]).names if n not in (*KEY_COLUMNS, "period")]
            unknown = [name for name in outputs if name not in known]
            if unknown:
                raise ValueError(f"unknown outputs {unknown}; the runs have {', '.join(known)}")
        batches = (self._band_rows(part, outputs, replications) for part in parts)
        return streaming_bands(batches, ["arm", "period"], outputs)

    @staticmethod
    def _band_rows(part: Path, outputs: list[str], replications: int | None) -> pd.DataFrame:
        rows = pyarrow.parquet.read_table(part, columns=["arm", "replication", "period", *outputs]).to_pandas()
        return rows if replications is None else rows[rows["replication"] < replications]

    def _rebuild_index(self) -> dict[str, dict[str, Any]]:
        """Index every run of every complete part; recompute what the index missed; drop temporaries."""
        recorded: dict[str, dict[str, Any]] = {}
        index = self.folder / "index.jsonl"
        if index.exists():
            for line in index.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a crash; its run is re-read from its part below
                if isinstance(record, dict) and record.get("check") == _record_check(record):
                    recorded[record["key"]] = record  # else edited or damaged: recomputed from its part
        if not self.readonly:
            remove_leftovers(self.folder)  # the folder's lock is held: a temporary file is a killed writer's
            for temporary in self.runs.glob("part-*.tmp-*"):  # the temporary parts of bureausim 0.1
                temporary.unlink()
        parts = sorted(self.runs.glob("part-*.parquet"))
        self._next_part = 1 + max((int(p.stem.split("-")[1]) for p in parts), default=0)
        self.set_aside: list[str] = []
        rebuilt: dict[str, dict[str, Any]] = {}
        for part in parts:
            try:
                rebuilt.update(self._index_part(part, recorded))
            except (OSError, pyarrow.ArrowException, ValueError, KeyError):
                self.set_aside.append(part.name)
                if not self.readonly:
                    damaged = self.runs / "damaged"
                    damaged.mkdir(exist_ok=True)
                    os.replace(part, damaged / part.name)
        if rebuilt != recorded and not self.readonly:
            write_text(index, "".join(json.dumps(r) + "\n" for r in rebuilt.values()))
        return rebuilt

    def _index_part(self, part: Path, recorded: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The index records of one part's runs: the recorded ones that check out, the others recomputed."""
        keys = pyarrow.parquet.read_table(part, columns=list(KEY_COLUMNS)).to_pandas().drop_duplicates()
        found: dict[str, dict[str, Any]] = {}
        missing = set()
        for arm, point, replication, seed in keys.itertuples(index=False):
            key = RunSpec(arm, int(point), int(replication), int(seed)).key
            if key in recorded and recorded[key].get("part") == part.name:
                found[key] = recorded[key]
            else:
                missing.add(key)
        if missing:
            steps = pd.read_parquet(part)
            for (arm, point, replication, seed), run in steps.groupby(list(KEY_COLUMNS), sort=False):
                spec = RunSpec(arm, int(point), int(replication), int(seed))
                if spec.key in missing:
                    values = run_values(run, self.burn_in)
                    record = _spec_record(spec) | {"seconds": None, "values": values, "part": part.name}
                    found[spec.key] = _checked(record)
        return found


def _describe_code(code: dict | None) -> str:
    """A code identity in words: version and model-source hash (or that none was recorded)."""
    if not code:
        return "an earlier bureausim, which recorded no code identity"
    return f"bureausim {code.get('bureausim')}, model source {code.get('model_source')}"


def _record_check(record: dict[str, Any]) -> str:
    """A short hash of an index record's content (without its check): what makes an edited line visible."""
    content = {key: value for key, value in record.items() if key != "check"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def _checked(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its check."""
    return record | {"check": _record_check(record)}


def _spec_record(spec: RunSpec) -> dict[str, Any]:
    record = asdict(spec)
    record["key"] = spec.key
    return record
