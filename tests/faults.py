"""Faults: the command killed at random moments, by SIGTERM and SIGKILL, and resumed each time.

``python tests/faults.py docs/RELIABILITY.md`` (part of ``make reliability``) runs a
``bureausim compare`` with two worker processes into one folder, kills it twenty times at a
random moment (start-up, mid-run, while storing; SIGTERM and SIGKILL alternately), checks
after each kill that no process it started (workers, forkserver, resource tracker) is left,
then lets the same command finish and compares its tables, cell for cell, with an undisturbed
run's. The figures go into the report; ``tests/test_reliability.py`` runs a shorter attack.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pandas.testing import assert_frame_equal


def scenario_text(replications: int) -> str:
    """A two-arm comparison of a 10-official chain: many short runs, so that kills land mid-batch."""
    return (
        "name: faults\nhierarchy: {branching: [2, 3]}\nsteps: 10\n"
        f"replications: {replications}\narms: [{{name: status_quo}}, {{name: fault_tolerance, "
        "policies: [fault_tolerance]}]\n"
    )


def command(scenario: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "sim", "compare", str(scenario), "--out", str(out), "--workers", "2", "--quiet"]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now."""
    found, frontier = set(), [pid]
    while frontier:
        listed = subprocess.run(["pgrep", "-P", str(frontier.pop())], capture_output=True, text=True).stdout.split()
        found.update(int(child) for child in listed)
        frontier += [int(child) for child in listed]
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet collected, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Attack:
    """What the kills did: one entry per kill."""

    signals: list[str] = field(default_factory=list)
    moments: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    stored: list[int] = field(default_factory=list)
    left_behind: list[int] = field(default_factory=list)
    finished_early: int = 0


def stored_runs(out: Path) -> int:
    index = out / "index.jsonl"
    return sum(1 for _ in index.open()) if index.exists() else 0


def attack(
    folder: Path,
    kills: int,
    replications: int,
    seed: int = 1,
    window: tuple[float, float] = (0.5, 9.0),
    from_workers: bool = False,
):
    """Kill the comparison ``kills`` times, then finish it; return the attack and whether its tables match.

    Each kill lands a random time from ``window`` after the command starts or, with
    ``from_workers``, after its worker processes are up (so that, on a loaded machine, the
    kill still lands while runs are being made and stored rather than during start-up).
    """
    rng = random.Random(seed)
    scenario = folder / "faults.yaml"
    scenario.write_text(scenario_text(replications))
    out, whole = folder / "attacked", folder / "whole"
    record = Attack()
    while len(record.signals) < kills:
        number = signal.SIGTERM if len(record.signals) % 2 == 0 else signal.SIGKILL
        moment = rng.uniform(*window)
        process = subprocess.Popen(command(scenario, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started, seen = time.monotonic(), set()
        while from_workers and len(seen) < 4 and process.poll() is None and time.monotonic() - started < 120:
            seen |= descendants(process.pid)  # the resource tracker, the forkserver and two workers
            time.sleep(0.05)
        started = time.monotonic()
        while time.monotonic() - started < moment and process.poll() is None:
            seen |= descendants(process.pid)
            time.sleep(0.05)
        if process.poll() is not None:  # it finished before the kill: nothing left to attack
            record.finished_early += 1
            break
        seen |= descendants(process.pid)
        process.send_signal(number)
        status = process.wait(timeout=120)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        record.signals.append(number.name)
        record.moments.append(moment)
        record.statuses.append(status)
        record.stored.append(stored_runs(out))
        record.left_behind.append(sum(alive(pid) for pid in seen))
    finished = subprocess.run(command(scenario, out), capture_output=True, text=True, timeout=1800)
    undisturbed = subprocess.run(command(scenario, whole), capture_output=True, text=True, timeout=1800)
    assert finished.returncode == 0 and undisturbed.returncode == 0, finished.stderr + undisturbed.stderr
    return record, same_tables(out, whole)


def same_tables(folder: Path, other: Path) -> bool:
    """Whether two comparisons' runs and effects are equal, cell for cell."""
    for name, order in (("runs.parquet", ["arm", "replication"]), ("effects.csv", None)):
        read = pd.read_parquet if name.endswith(".parquet") else pd.read_csv
        mine, theirs = read(folder / name), read(other / name)
        if order:
            mine = mine.sort_values(order, kind="stable").reset_index(drop=True)
            theirs = theirs.sort_values(order, kind="stable").reset_index(drop=True)
        try:
            assert_frame_equal(mine, theirs, check_exact=True)
        except AssertionError:
            return False
    return True


def section(record: Attack, same: bool, replications: int, seconds: float) -> str:
    """The attack's figures as a Markdown section."""
    statuses = ", ".join(f"{status}" for status in sorted(set(record.statuses)))
    rows = [
        f"| {k + 1} | {name} | {moment:.2f} | {status} | {stored:,} | {left} |"
        for k, (name, moment, status, stored, left) in enumerate(
            zip(record.signals, record.moments, record.statuses, record.stored, record.left_behind, strict=True)
        )
    ]
    return "\n".join(
        [
            "## Kills at random moments",
            "",
            f"`bureausim compare` of {2 * replications:,} runs (two worker processes) into one folder, killed "
            f"{len(record.signals)} times at a random moment 0.5–9 s after its start (SIGTERM and SIGKILL "
            f"alternately) and started again each time (`python tests/faults.py`, {seconds:.0f} s): exit statuses "
            f"{statuses} (143 = stopped cleanly by SIGTERM, -9 = killed); processes left behind after the kills: "
            f"{sum(record.left_behind)}; the finished tables are "
            f"{'identical, cell for cell,' if same else 'NOT identical'} to an undisturbed run's.",
            "",
            "| kill | signal | after (s) | exit | runs stored | processes left |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )


def replace_section(text: str, heading: str, body: str) -> str:
    """``text`` with its section ``heading`` (up to the next ``## ``) replaced by ``body``, or ``body`` added."""
    if heading not in text:
        return text.rstrip() + "\n\n" + body
    before, rest = text.split(heading, 1)
    after = rest.split("\n## ", 1)
    return before + body + ("\n## " + after[1] if len(after) > 1 else "")


if __name__ == "__main__":
    report = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/RELIABILITY.md")
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        replications = 5_000
        record, same = attack(Path(folder), kills=20, replications=replications)
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    report.write_text(
        replace_section(
            text, "## Kills at random moments", section(record, same, replications, time.monotonic() - start)
        ),
        encoding="utf-8",
    )
    print(f"{len(record.signals)} kills, {sum(record.left_behind)} processes left, tables identical: {same}")
    sys.exit(0 if same and not sum(record.left_behind) and len(record.signals) == 20 else 1)
