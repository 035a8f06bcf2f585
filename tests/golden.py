"""Golden outputs: a fixed set of runs and experiments whose every table is pinned bit for bit.

Each case is a command line of ``bureausim`` (run, compare, sweep, sensitivity, robustness)
on a shipped scenario, made small with ``--set``. A case's tables are every CSV and Parquet
file the command writes, plus the steps tables of an experiment's run parts (read in key
order, so the parts' flush timing does not matter). A table is pinned by the SHA-256 of its
canonical text (CSV with every float written as ``repr``, which round-trips exactly), its
shape and its columns, in ``tests/golden/<case>.json``; Parquet tables of at most
:data:`STORED_ROWS` rows and CSV files of at most :data:`STORED_CSV_ROWS` are stored whole as
well, so a failure can name the first cell that moved.

Commands only, through the command line: the cases stay the same whatever moves inside the
package. Regenerate after a deliberate change of the model's numbers, and say why in the
commit::

    make golden            # or: python tests/golden.py
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# isort: off
import kernels  # noqa: F401  (before numpy: the SIMD kernels the golden tables are pinned with)

# isort: on
import pandas as pd

from sim.scenario.parameters import UNCALIBRATED

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
GOLDEN = Path(__file__).resolve().parent / "golden"
STORED_ROWS = 30
"""Parquet tables this short are stored whole beside their digest."""
STORED_CSV_ROWS = 300
"""CSV files are stored whole up to this length (a portfolio's long ``tasks.csv`` is pinned by its digest)."""
VOLATILE = {"seconds", "wall_time_seconds"}
"""Columns that measure the machine, not the model: left out of the comparison."""

SMALL = ["--set", "replications=2"]
LITTLE = ["--set", "hierarchy.branching=[4,4,6]"]
FIRST_EDITION = ["--set", "relay.report_rule=sum"]  # the baseline scenario as it was before completion-rate reports
BEFORE_CALIBRATION = {path: "null" if value is None else repr(value) for path, value in UNCALIBRATED.items()}
"""The seven calibrated parameters' defaults before the calibration, as ``--set`` values (docs/ODD.md, section 16).

Every case but the ``calibrated_*`` ones runs at them (where its scenario leaves them to the
defaults): when the defaults became the calibrated values no stored file moved, so the move
changed values only, no equation; the ``calibrated_*`` cases pin the new defaults.
"""


@dataclass(frozen=True)
class Case:
    """One pinned command, ``bureausim <args> --out <folder>``, and the golden files it must match.

    Cases that must agree exactly (the same run on every engine) share one set of golden files.
    """

    name: str
    args: tuple[str, ...]
    golden: str = ""

    @property
    def pinned(self) -> str:
        """The name of the golden files this case is compared with."""
        return self.golden or self.name


def cases() -> list[Case]:
    """Every golden case, in a fixed order.

    Engines, reforms and patterns are found, not listed: a registered engine runs the cases
    every engine must match, a registered reform runs its scenario's arm, and every pattern
    scenario runs each of its arms.
    """
    from sim.model.engines import ENGINES
    from sim.scenario.loader import load_scenario
    from sim.scenario.policies import REGISTRY

    baseline = str(SCENARIOS / "baseline.yaml")
    found = [
        Case("baseline", ("run", baseline, "--steps", "12", *FIRST_EDITION, *SMALL)),
        Case("baseline_rates", ("run", baseline, "--steps", "12", *SMALL)),
    ]
    for engine in ENGINES:
        engine_set = ("--set", f"engine={engine}")
        found.append(
            Case(
                f"baseline_short_{engine}",
                ("run", baseline, "--steps", "6", "--set", "replications=1", *FIRST_EDITION, *engine_set),
                "baseline_short",
            )
        )
        small = (
            "run",
            baseline,
            "--steps",
            "20",
            "--set",
            "hierarchy.branching=[3,3,4]",
            *FIRST_EDITION,
            *engine_set,
            *SMALL,
        )
        found.append(Case(f"small_{engine}", small, "small"))
        five = ("run", str(GOLDEN / "five_levels.yaml"), *engine_set, *SMALL)
        found.append(Case(f"five_levels_{engine}", five, "five_levels"))
    found.append(
        Case("china_full", ("run", str(SCENARIOS / "china_full.yaml"), "--steps", "3", "--set", "replications=1"))
    )
    for path in sorted((SCENARIOS / "patterns").glob("*.yaml")):
        arms = [arm.name for arm in load_scenario(path).arms] or [None]
        for arm in arms:
            extra = () if arm is None else ("--arm", arm)
            found.append(Case(f"{path.stem}_{arm or 'run'}", ("run", str(path), *extra, *SMALL)))
    for reform in REGISTRY:
        path = str(SCENARIOS / "reforms" / f"{reform}.yaml")
        found.append(Case(f"reform_{reform}", ("run", path, "--arm", reform, "--steps", "30", *SMALL)))
    reforms = SCENARIOS / "reforms"
    experiments = (
        ("compare", "compare", reforms / "fault_tolerance.yaml", ["--set", "steps=24", *SMALL]),
        ("compare_all_reforms", "compare", reforms / "all_reforms.yaml", ["--set", "steps=12", *SMALL, *LITTLE]),
        ("sweep", "sweep", SCENARIOS / "patterns" / "p7_oversight.yaml", ["--set", "steps=16", *SMALL]),
        (
            "sensitivity",
            "sensitivity",
            SCENARIOS / "baseline.yaml",
            ["--samples", "2", "--set", "steps=8", "--set", "replications=1", *FIRST_EDITION, *LITTLE],
        ),
        (
            "robustness",
            "robustness",
            SCENARIOS / "robustness" / "reforms.yaml",
            ["--futures", "3", "--set", "steps=8", "--set", "replications=1", *LITTLE],
        ),
    )
    for name, command, path, options in experiments:
        found.append(Case(name, (command, str(path), *options, "--workers", "1")))
    found = [Case(case.name, (*case.args, *before_calibration(*case.args[:2])), case.golden) for case in found]
    found.append(Case("calibrated_baseline", ("run", baseline, "--steps", "12", *SMALL)))
    for engine in ENGINES:
        five = ("run", str(GOLDEN / "five_levels.yaml"), "--set", f"engine={engine}", *SMALL)
        found.append(Case(f"calibrated_five_levels_{engine}", five, "calibrated_five_levels"))
    return found


def before_calibration(command: str, path: str) -> tuple[str, ...]:
    """``--set`` the pre-calibration default of every value the scenario at ``path`` leaves to the defaults.

    In the experiments that sample a scenario's uncertainties, an uncertain value is left out:
    every future or sample replaces it (and robustness refuses a ``--set`` of it).
    """
    from sim.scenario.loader import load_scenario

    scenario = load_scenario(path)
    sampled = scenario.uncertainties if command in {"robustness", "sensitivity"} else {}
    return tuple(
        item
        for name, value in BEFORE_CALIBRATION.items()
        if not scenario.sets_parameter(name) and name not in sampled
        for item in ("--set", f"parameters.{name}={value}")
    )


def canonical(table: pd.DataFrame) -> str:
    """The table as CSV with exact floats (``repr`` round-trips every float64)."""
    table = table.drop(columns=[c for c in table.columns if c in VOLATILE])
    return table.to_csv(index=False, float_format=lambda value: repr(float(value)), lineterminator="\n")


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Every table a command wrote into ``folder``, by its relative path."""
    tables: dict[str, pd.DataFrame] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if relative.startswith("runs/"):
            continue
        if path.suffix == ".csv":
            tables[relative] = pd.read_csv(path, keep_default_na=False, na_values=[""])
        elif path.suffix == ".parquet":
            tables[relative] = pd.read_parquet(path)
    parts = sorted((folder / "runs").glob("*.parquet"))
    if parts:
        steps = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)
        keys = [c for c in ("arm", "point", "replication", "period") if c in steps.columns]
        tables["runs/*.parquet"] = steps.sort_values(keys, kind="stable").reset_index(drop=True)
    return tables


def produce(case: Case, work: Path) -> dict[str, pd.DataFrame]:
    """Run the case's command into a fresh folder under ``work`` and read its tables."""
    from sim.app.cli import main

    out = work / case.name
    status = main([*case.args, "--out", str(out), "--quiet"])
    if status != 0:
        raise RuntimeError(f"golden case {case.name}: bureausim {' '.join(case.args)} exited with {status}")
    return read_tables(out)


def pin(tables: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Digest, shape and columns of every table."""
    pinned = {}
    for name, table in tables.items():
        text = canonical(table)
        pinned[name] = {
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "rows": len(table),
            "columns": [c for c in table.columns if c not in VOLATILE],
        }
    return pinned


def stored_csv(case: Case, table: str) -> Path:
    """Where a short table of a case is stored whole."""
    name = table.replace("/", "__").replace("*", "all")
    return GOLDEN / case.pinned / (name if name.endswith(".csv") else name + ".csv")


def differences(case: Case, tables: dict[str, pd.DataFrame]) -> list[str]:
    """What differs between a case's tables and its stored golden values (empty when none)."""
    expected = json.loads((GOLDEN / f"{case.pinned}.json").read_text(encoding="utf-8"))
    actual = pin(tables)
    problems = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual or name not in expected:
            problems.append(f"{name}: {'missing' if name not in actual else 'not in the golden files'}")
            continue
        if actual[name] == expected[name]:
            continue
        detail = f"{name}: digest differs ({expected[name]['rows']} rows expected, {actual[name]['rows']} found)"
        path = stored_csv(case, name)
        if path.exists():
            detail += "; " + _first_difference(path.read_text(encoding="utf-8"), canonical(tables[name]))
        problems.append(detail)
    return problems


def _first_difference(expected: str, actual: str) -> str:
    """The first line and cell in which two canonical CSV texts differ."""
    old, new = expected.splitlines(), actual.splitlines()
    header = old[0].split(",") if old else []
    for number, (before, after) in enumerate(zip(old, new, strict=False)):
        if before != after:
            for column, (a, b) in enumerate(zip(before.split(","), after.split(","), strict=False)):
                if a != b:
                    name = header[column] if column < len(header) else column
                    row = after.split(",")[0]
                    return f"first at line {number + 1} ({row}), column {name}: {a} expected, {b} found"
    return f"{len(old)} lines expected, {len(new)} found"


def regenerate() -> None:
    """Run every case and store its pinned tables (replacing the old ones).

    Cases that share golden files must produce the same tables; a disagreement is an error,
    not a file overwritten.
    """
    for stale in GOLDEN.glob("*.json"):
        stale.unlink()
    for folder in [p for p in GOLDEN.iterdir() if p.is_dir()]:
        for file in folder.glob("*.csv"):
            file.unlink()
        folder.rmdir()
    written: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as work:
        for case in cases():
            tables = produce(case, Path(work))
            pinned = pin(tables)
            if case.pinned in written:
                if written[case.pinned] != pinned:
                    raise RuntimeError(f"{case.name} differs from the other cases pinned as {case.pinned}")
                continue
            written[case.pinned] = pinned
            (GOLDEN / f"{case.pinned}.json").write_text(json.dumps(pinned, indent=1) + "\n", encoding="utf-8")
            for name, table in tables.items():
                if len(table) <= (STORED_CSV_ROWS if name.endswith(".csv") else STORED_ROWS):
                    path = stored_csv(case, name)
                    path.parent.mkdir(exist_ok=True)
                    path.write_text(canonical(table), encoding="utf-8")
            print(f"{case.name}: {len(tables)} tables", file=sys.stderr)


if __name__ == "__main__":
    regenerate()
