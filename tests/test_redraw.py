"""``bureausim plot FOLDER`` / ``sim.redraw``: a finished folder's figures drawn again from its tables.

For every kind of folder: the figures come back under the same names in the formats asked for,
the PNGs drawn again in the default style equal the first ones byte for byte (the same function
on the same tables), and no table or manifest changes. Bad input is refused before anything is
written; a folder another command is writing is left alone.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

from sim import ScenarioError, compare, explain, redraw, robustness, sensitivity, sweep
from sim.experiments.replications import run
from sim.scenario.loader import parse_scenario
from sim.storage.locks import output_lock

SCENARIO = """
name: redraw
seed: 3
steps: 8
replications: 2
hierarchy: {branching: [2, 2, 3]}
uncertainties:
  relay.escalation: [0.0, 0.4]
  accountability.inspection_rate: [0.05, 1.0]
robustness: {futures: 6}
outcomes:
  - {name: goal_attainment, direction: maximize}
  - {name: burden, direction: minimize}
"""

ARMS = """
arms:
  - {name: status_quo}
  - {name: fault_tolerance, policies: [fault_tolerance]}
"""

SWEEP = """
sweep: {grid: {relay.dilution: [0.05, 0.2], accountability.inspection_rate: [0.1, 0.5]}}
"""

FIGURES = (".png", ".pdf", ".svg")


def _scenario(extra: str):
    return parse_scenario(SCENARIO + extra)


MAKERS = {
    "run": lambda out: run(_scenario(""), out=out),
    "compare": lambda out: compare(_scenario(ARMS), out=out, progress=False),
    "sweep": lambda out: sweep(_scenario(SWEEP), out=out, progress=False),
    "sensitivity": lambda out: sensitivity(_scenario(""), method="morris", samples=2, out=out, progress=False),
    "robustness": lambda out: robustness(
        _scenario(ARMS), discover=["fault_tolerance: goal_attainment >= 0"], out=out, progress=False
    ),
    "explain": lambda out: explain(_scenario(""), permutations=2, out=out, progress=False),
    "explain_arms": lambda out: explain(_scenario(ARMS), permutations=2, out=out, progress=False),
}


@pytest.fixture(scope="module", params=list(MAKERS))
def finished(request, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(request.param) / "out"
    MAKERS[request.param](out)
    return out


def figures(folder: Path, suffix: str) -> set[str]:
    return {path.stem for path in folder.rglob(f"*{suffix}")}


def fingerprints(folder: Path) -> dict[str, str]:
    """Every file that is not a figure, by its path, with a digest of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix not in FIGURES
    }


def test_the_figures_come_back_in_other_formats_and_nothing_else_changes(finished):
    first = figures(finished, ".png")
    assert first, "the command drew no figure"
    before = fingerprints(finished)
    written = redraw(finished, formats="svg,pdf", language="zh", size="6x4")
    assert {path.suffix for path in written} == {".svg", ".pdf"}
    assert all(path.is_file() and path.stat().st_size > 0 for path in written)
    assert figures(finished, ".svg") == first and figures(finished, ".pdf") == first
    assert {path.stem for path in written} == first
    assert fingerprints(finished) == before, "a table or the manifest changed"
    assert figures(finished, ".png") == first, "figures in other formats are kept"


def test_drawn_again_in_the_default_style_each_png_is_the_same_file(finished):
    pngs = sorted(finished.rglob("*.png"))
    first = {path: path.read_bytes() for path in pngs}
    written = redraw(finished)
    assert sorted(written) == pngs
    changed = [path.name for path in pngs if path.read_bytes() != first[path]]
    assert not changed, f"drawn differently the second time: {changed}"


def test_chinese_labels_reach_the_figures_drawn_again(tmp_path):
    out = tmp_path / "run"
    run(_scenario(""), out=out)
    svg = out / "plots" / "attainment.svg"  # SVG keeps its text as text
    redraw(out, formats="svg")
    assert "目标实际完成度" not in svg.read_text(encoding="utf-8")
    redraw(out, formats="svg", language="zh")
    assert "目标实际完成度" in svg.read_text(encoding="utf-8"), "goal attainment is not labelled in Chinese"


def test_the_command_line_draws_again_and_lists_the_files(tmp_path):
    out = tmp_path / "run"
    run(_scenario(""), out=out)
    done = subprocess.run(
        [sys.executable, "-m", "sim", "plot", str(out), "--format", "pdf"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    listed = [Path(line) for line in done.stdout.splitlines()]
    assert listed[-1] == out and all(path.suffix == ".pdf" and path.is_file() for path in listed[:-1])
    assert {path.stem for path in listed[:-1]} == figures(out, ".png")


def _nothing_written(folder: Path, call) -> None:
    before = {path: path.stat().st_mtime_ns for path in folder.rglob("*")}
    call()
    assert {path: path.stat().st_mtime_ns for path in folder.rglob("*")} == before


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"formats": "png,tiff"}, "tiff is not a figure format"),
        ({"size": "7 by 4"}, "is not a size"),
        ({"size": (0.2, 4)}, "1 to 40 inches"),
        ({"language": "fr"}, "not a language"),
    ],
)
def test_bad_options_are_refused_before_anything_is_drawn(tmp_path, options, fragment):
    out = tmp_path / "run"
    run(_scenario(""), out=out)

    def call():
        with pytest.raises(ScenarioError, match=fragment):
            redraw(out, **options)

    _nothing_written(out, call)


def test_what_is_not_a_finished_results_folder_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ScenarioError, match="not a results folder"):
        redraw(empty)
    with pytest.raises(ScenarioError, match="missing: does not exist"):
        redraw(tmp_path / "missing")
    assert not (tmp_path / "missing").exists() and not (tmp_path / ".missing.lock").exists()
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "experiment.json").write_text("{}")
    with pytest.raises(ScenarioError, match="has not finished"):
        redraw(unfinished)
    assert sorted(p.name for p in unfinished.iterdir()) == ["experiment.json"]


def test_a_folder_with_a_damaged_table_is_refused_in_one_message(tmp_path):
    out = tmp_path / "run"
    run(_scenario(""), out=out)
    (out / "steps.parquet").write_bytes(b"not parquet")
    done = subprocess.run([sys.executable, "-m", "sim", "plot", str(out)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot be read back" in done.stderr and str(out) in done.stderr


def test_a_folder_another_command_is_writing_is_left_alone(tmp_path):
    out = tmp_path / "run"
    run(_scenario(""), out=out)
    plot = [sys.executable, "-m", "sim", "plot", str(out)]

    def call():
        with output_lock(out):  # as a command writing the folder holds it
            done = subprocess.run(plot, capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "being written by another bureausim command" in done.stderr

    _nothing_written(out, call)


def test_every_kind_of_folder_is_drawn_again_above():
    """A new experiment kind must join MAKERS, so its ``draw`` is checked against its first figures."""
    from sim.experiments.kinds import KINDS

    assert set(KINDS) | {"run"} <= set(MAKERS)


def test_a_table_damaged_inside_is_refused_and_no_figure_is_replaced(tmp_path):
    """A table that reads but lacks a column fails while drawing: exit 2, one paragraph, every figure as it was."""
    out = tmp_path / "explain"
    explain(_scenario(ARMS), permutations=2, out=out, progress=False)
    levels = out / "levels.csv"
    levels.write_text(levels.read_text().replace(",mean,", ",avg,"))
    plot = [sys.executable, "-m", "sim", "plot", str(out)]

    def call():
        done = subprocess.run(plot, capture_output=True, text=True)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert "cannot be drawn: a table is missing or damaged, or lacks what its figures read" in done.stderr

    _nothing_written(out, call)


def test_a_size_too_small_is_drawn_and_each_crowded_figure_said_in_one_line(tmp_path):
    out = tmp_path / "run"
    run(_scenario(""), out=out)
    done = subprocess.run(
        [sys.executable, "-m", "sim", "plot", str(out), "--size", "2x1.5", "--quiet"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "give a larger --size" in line]
    assert said and all(line.startswith("bureausim: warning: ") for line in said)
    stems = {path.stem for path in (out / "plots").glob("*.png")}
    named = [line.removeprefix("bureausim: warning: ").split(":")[0] for line in said]
    assert set(named) <= stems and len(named) == len(set(named))  # one line for each figure it names
    assert "FigureWarning" not in done.stderr  # ours are said as the command says them; matplotlib says its own
