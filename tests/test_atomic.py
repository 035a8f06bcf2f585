"""Every file a command writes is replaced atomically: a crash leaves the old file or the new one."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from sim.atomic import remove_leftovers, replaced_atomically, save_figure, write_table, write_text


def test_a_writer_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), replaced_atomically(path) as temporary:
        temporary.write_text("half of the new")
        raise RuntimeError("crash while writing")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]


def test_a_crash_before_the_rename_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "effects.csv"
    write_table(pd.DataFrame({"a": [1]}), path)
    monkeypatch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError("power cut")))
    with pytest.raises(OSError, match="power cut"):
        write_table(pd.DataFrame({"a": [2, 3]}), path)
    assert pd.read_csv(path)["a"].tolist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["effects.csv"]


def test_tables_texts_and_figures_arrive_whole_and_keep_their_format(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = pd.DataFrame({"x": [0.1, 0.2]})
    write_table(frame, tmp_path / "t.parquet")
    write_table(frame, tmp_path / "t.csv")
    write_text(tmp_path / "m.json", "{}\n")
    fig = plt.figure()
    save_figure(fig, tmp_path / "f.png")
    save_figure(fig, tmp_path / "f.svg")
    plt.close(fig)
    assert pd.read_parquet(tmp_path / "t.parquet").equals(frame)
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in (tmp_path / "f.svg").read_bytes()[:400]
    assert not list(tmp_path.glob(".*"))
    with pytest.raises(ValueError, match=r"writes \.csv or \.parquet"):
        write_table(frame, tmp_path / "t.xlsx")


def test_leftovers_of_a_killed_writer_are_removed_and_nothing_else(tmp_path):
    (tmp_path / "plots").mkdir()
    leftovers = [tmp_path / ".effects.partial-123.csv", tmp_path / "plots" / ".forest.partial-9.png"]
    for path in leftovers:
        path.write_text("half")
    kept = [tmp_path / "effects.csv", tmp_path / ".hidden"]
    for path in kept:
        path.write_text("whole")
    assert sorted(remove_leftovers(tmp_path)) == sorted(leftovers)
    assert all(path.exists() for path in kept) and not any(path.exists() for path in leftovers)


def test_a_killed_runs_hidden_partial_folder_is_removed_by_the_next_run(tmp_path, monkeypatch):
    from sim.app.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nsteps: 2\nreplications: 1\nhierarchy: {branching: [2]}\n")
    stale = tmp_path / ".out.partial-99999"
    stale.mkdir()
    (stale / "steps.parquet").write_text("half")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "s.yaml", "--out", "out", "--quiet"]) == 0
    assert not stale.exists() and (tmp_path / "out" / "manifest.json").exists()


def test_a_full_disk_while_writing_tables_exits_1_with_a_message_and_leaves_nothing_half_written(
    tmp_path, monkeypatch, capsys
):
    import errno

    import sim.atomic
    from sim.app.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nsteps: 2\nreplications: 1\nhierarchy: {branching: [2]}\narms: [{name: a}]\n")
    real = sim.atomic.replaced_atomically

    def full_disk_for_effects(path):
        if str(path).endswith("effects.csv"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path)

    monkeypatch.setattr(sim.atomic, "replaced_atomically", full_disk_for_effects)
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "s.yaml", "--out", "out", "--quiet", "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "nothing was left half-written" in err and "Traceback" not in err
    assert not list((tmp_path / "out").rglob(".*partial*")) and not (tmp_path / "out" / "effects.csv").exists()
    monkeypatch.setattr(sim.atomic, "replaced_atomically", real)
    assert main(["compare", "s.yaml", "--out", "out", "--quiet", "--workers", "1"]) == 0  # space again: it completes
    assert (tmp_path / "out" / "effects.csv").exists()


@pytest.mark.parametrize("command", ["run", "compare", "report"])
def test_an_output_location_that_cannot_be_written_is_refused_before_anything_runs(
    tmp_path, monkeypatch, capsys, command
):
    """A read-only parent (emulated: the tests may run as root, which writes anywhere) exits 2 for every command."""
    from sim.app.cli import main

    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: x\nsteps: 2\nreplications: 1\nhierarchy: {branching: [2]}\narms: [{name: a}]\n")
    assert main(["run", str(scenario), "--out", str(tmp_path / "results"), "--quiet"]) == 0
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    args = {
        "run": ["run", str(scenario), "--out", str(locked / "out"), "--quiet"],
        "compare": ["compare", str(scenario), "--out", str(locked / "out"), "--quiet", "--workers", "1"],
        "report": ["report", str(tmp_path / "results"), "--out", str(locked / "r.html")],
    }[command]
    assert main(args) == 2
    assert "is not writable" in capsys.readouterr().err
    assert list(locked.iterdir()) == []
