"""Experiments: ``compare`` over executors, common random numbers, resuming, failures, precision.

Every comparison here is small (a 33-official chain, a dozen periods) so that the whole file
runs in seconds; the interrupted comparison is the only one big enough to be killed part-way.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal
from rich.console import Console
from scipy import stats

import sim
import sim.experiments.executors
from sim import compare
from sim.analysis.statistics import band, paired_effects, streaming_bands
from sim.app.cli import main
from sim.errors import ScenarioError
from sim.experiments.executors import execute_run, payload_for
from sim.experiments.progress import RunProgress
from sim.model.run import replication_seeds
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.storage.run_store import RunSpec, RunStore

ROOT = Path(__file__).resolve().parent.parent
FAULT_TOLERANCE = ROOT / "scenarios" / "reforms" / "fault_tolerance.yaml"
SMALL = ["replications=3", "steps=12", "hierarchy.branching=[2, 3, 4]"]
ARMS = ["status_quo", "fault_tolerance", "fault_tolerance_onsite", "fault_tolerance_precise"]
REAL_RUN_ONE = sim.experiments.executors.run_one


def small_comparison() -> Scenario:
    """fault_tolerance.yaml cut down: 4 arms × 3 replications × 12 periods on 33 officials."""
    return load_scenario(FAULT_TOLERANCE).with_overrides(SMALL)


def two_arms(**changes) -> Scenario:
    """A status quo and one reform, 3 replications of 12 periods on 33 officials."""
    data = {
        "name": "pair",
        "seed": 7,
        "steps": 12,
        "replications": 3,
        "hierarchy": {"branching": [2, 3, 4]},
        "arms": [{"name": "status_quo"}, {"name": "reform", "policies": ["fault_tolerance"]}],
    }
    data.update(changes)
    return Scenario.model_validate(data)


def write_scenario(scenario: Scenario, path: Path) -> Path:
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path


def run_compare(scenario: Scenario, out: Path, **options):
    return compare(scenario, out=out, progress=False, **{"workers": 1, **options})


def read_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = pd.read_parquet(folder / "runs.parquet")
    runs = runs.sort_values(["arm", "replication"], kind="stable").reset_index(drop=True)
    return runs, pd.read_csv(folder / "effects.csv")


def assert_same_tables(folder: Path, other: Path) -> None:
    runs, effects = read_tables(folder)
    other_runs, other_effects = read_tables(other)
    assert_frame_equal(runs, other_runs, check_exact=True)
    assert_frame_equal(effects, other_effects, check_exact=True)


def parts(folder: Path) -> list[Path]:
    return sorted((folder / "runs").rglob("*.parquet"))


def stored_runs(folder: Path) -> dict[tuple[str, int], int]:
    """Periods stored per (arm, replication) over every part: a run stored twice counts twice."""
    found = parts(folder)
    if not found:
        return {}
    steps = pd.concat([pd.read_parquet(part, columns=["arm", "replication"]) for part in found])
    return {(arm, int(k)): int(n) for (arm, k), n in steps.groupby(["arm", "replication"]).size().items()}


def assert_each_run_stored_once(folder: Path, arms: list[str], replications: int, steps: int) -> None:
    assert stored_runs(folder) == {(arm, k): steps for arm in arms for k in range(replications)}
    keys = [json.loads(line)["key"] for line in index_lines(folder)]
    assert len(keys) == len(arms) * replications == len(set(keys))
    assert not list(folder.rglob("*.tmp-*"))


def complete_index_lines(folder: Path) -> int:
    """Runs recorded in index.jsonl so far, read without opening (and so repairing) the store."""
    path = folder / "index.jsonl"
    if not path.exists():
        return 0
    return sum(line.endswith("\n") for line in path.read_text(encoding="utf-8").splitlines(keepends=True))


def index_lines(folder: Path) -> list[str]:
    return (folder / "index.jsonl").read_text(encoding="utf-8").splitlines()


def manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The small comparison, uninterrupted, in this process."""
    return run_compare(small_comparison(), tmp_path_factory.mktemp("baseline") / "out")


# --- executors ---------------------------------------------------------------------------------


def test_baseline_has_every_run_once_and_every_output(baseline):
    runs, effects = read_tables(baseline.folder)
    assert sorted(zip(runs["arm"], runs["replication"], strict=True)) == sorted(
        (arm, k) for arm in ARMS for k in range(3)
    )
    assert_each_run_stored_once(baseline.folder, ARMS, 3, 12)
    assert list(effects["arm"].unique()) == ARMS
    assert set(effects["outcome"]) == {o.name for o in baseline.scenario.outcomes}
    assert (effects.loc[effects["arm"] == "status_quo", "verdict"] == "reference").all()
    assert effects["n"].eq(3).all()
    for name in ("effects.csv", "runs.parquet", "manifest.json", "plots/forest.png"):
        assert (baseline.folder / name).is_file(), name
    assert manifest(baseline.folder)["executor"] == "in-process"
    assert baseline.failures == {}


def test_executors_give_identical_numbers(baseline, tmp_path):
    processes = run_compare(small_comparison(), tmp_path / "processes", workers=2)
    dask = run_compare(small_comparison(), tmp_path / "dask", workers=2, scheduler="local")
    assert "local processes" in manifest(processes.folder)["executor"]
    assert "Dask LocalCluster" in manifest(dask.folder)["executor"]
    for result in (processes, dask):
        assert result.failures == {}
        assert_same_tables(baseline.folder, result.folder)
        assert_frame_equal(result.effects.reset_index(drop=True), baseline.effects.reset_index(drop=True))
        assert_each_run_stored_once(result.folder, ARMS, 3, 12)


UNGUARDED_SCRIPT = """
import sim
from sim.scenario.schema import Scenario
scenario = Scenario.model_validate({scenario!r})
result = sim.compare(scenario, workers=2, scheduler={scheduler!r}, out="out", progress=False)
print("rows", len(result.effects), "runs", len(result.runs))
"""


@pytest.mark.parametrize("scheduler", [None, "local"])
def test_a_plain_script_without_a_main_guard_runs_in_parallel(tmp_path, scheduler):
    """Worker processes do not import the caller's script, so an unguarded call starts no experiment twice."""
    scenario = small_comparison().model_dump(mode="json")
    script = tmp_path / "script.py"
    script.write_text(UNGUARDED_SCRIPT.format(scenario=scenario, scheduler=scheduler), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    rows = len(ARMS) * len(small_comparison().outcomes)
    assert done.stdout.split() == ["rows", str(rows), "runs", str(len(ARMS) * 3)]
    expected = "local processes" if scheduler is None else "Dask LocalCluster"
    assert expected in manifest(tmp_path / "out")["executor"]


def test_execute_run_returns_the_error_instead_of_raising():
    scenario = two_arms()
    outcome = execute_run(payload_for(scenario), RunSpec("no_such_arm", 0, 0, 1))
    assert outcome.steps is None and outcome.values is None
    assert "Traceback" in outcome.error and "no_such_arm" in outcome.error
    good = execute_run(payload_for(scenario), RunSpec("reform", 0, 2, 99))
    assert good.error is None
    assert set(good.steps["replication"]) == {2} and set(good.steps["seed"]) == {99}
    assert set(good.steps["arm"]) == {"reform"} and set(good.steps["point"]) == {0}
    assert "goal_attainment" in good.values and "period" not in good.values


# --- common random numbers ---------------------------------------------------------------------


def test_common_random_numbers(tmp_path):
    scenario = two_arms(
        arms=[{"name": "status_quo"}, {"name": "same"}, {"name": "reform", "policies": ["fault_tolerance"]}],
        replications=4,
    )
    result = run_compare(scenario, tmp_path / "out")
    runs, effects = read_tables(result.folder)
    seeds = runs.pivot(index="replication", columns="arm", values="seed")
    assert list(seeds.index) == [0, 1, 2, 3]
    assert (seeds.nunique(axis=1) == 1).all(), "replication k must have the same seed in every arm"
    assert list(seeds["status_quo"]) == replication_seeds(scenario.seed, 4)
    assert seeds["status_quo"].nunique() == 4

    outcomes = [o.name for o in scenario.outcomes]
    same = effects[effects["arm"] == "same"].set_index("outcome")
    assert (same.loc[outcomes, ["difference", "difference_low", "difference_high"]] == 0.0).all().all()
    assert (same["verdict"] == "no detectable difference").all()
    by_arm = runs.set_index(["arm", "replication"])
    assert_frame_equal(
        by_arm.loc["same", outcomes], by_arm.loc["status_quo", outcomes], check_exact=True, check_names=False
    )
    # the comparison is not trivially zero everywhere: the reform does change something
    reform = effects[effects["arm"] == "reform"].set_index("outcome")
    assert (reform["difference"] != 0).any()


# --- resume after a crash ----------------------------------------------------------------------


# The command line, with runs stored at least every 0.2 s: a store may gather finished runs
# before writing them (FLUSH_SECONDS), and the kill must land while some are stored and some not.
CHILD = (
    "import sys, sim.storage.run_store; sim.storage.run_store.FLUSH_SECONDS = 0.2; "
    "from sim.app.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_a_killed_comparison_resumes_to_the_same_tables(tmp_path):
    scenario = two_arms(replications=6, steps=300, hierarchy={"branching": [4, 4, 6]})
    path = write_scenario(scenario, tmp_path / "killed.yaml")
    out = tmp_path / "killed"
    command = [sys.executable, "-c", CHILD, "compare", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    with open(tmp_path / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            deadline = time.monotonic() + 60
            while complete_index_lines(out) < 2:
                assert process.poll() is None, (tmp_path / "stderr.txt").read_text()
                assert time.monotonic() < deadline, "no run was stored within 60 s"
                time.sleep(0.005)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert 2 <= complete_index_lines(out) < 12, "the comparison should have been interrupted part-way"
    assert not (out / "effects.csv").exists()
    before = {part: part.stat().st_mtime_ns for part in parts(out)}

    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == str(out)
    whole = run_compare(load_scenario(path), tmp_path / "whole", workers=2)

    assert_same_tables(whole.folder, out)
    assert_each_run_stored_once(out, ["status_quo", "reform"], 6, 300)
    # what was stored before the crash was kept, not written again
    assert {part: part.stat().st_mtime_ns for part in before} == before
    assert not (out / "failures.jsonl").exists()


def test_index_is_rebuilt_from_the_parts(baseline, tmp_path):
    scenario = small_comparison()
    expected = RunStore(baseline.folder, scenario, "compare").values()
    assert len(expected) == 12

    folder = tmp_path / "cut"
    shutil.copytree(baseline.folder, folder)
    lines = index_lines(folder)
    (folder / "index.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    strays = [next(iter(parts(folder))).with_suffix(".tmp-12345"), folder / "runs" / ".part-000009.partial-1.parquet"]
    for stray in strays:  # a part being written when the command was killed (as 0.1 named it, and as now)
        stray.write_bytes(b"half a parquet file")
    store = RunStore(folder, scenario, "compare")
    assert_frame_equal(store.values(), expected, check_exact=True)
    assert not any(stray.exists() for stray in strays)
    assert len(index_lines(folder)) == 12
    assert all(json.loads(line) for line in index_lines(folder))

    (folder / "index.jsonl").unlink()
    assert_frame_equal(RunStore(folder, scenario, "compare").values(), expected, check_exact=True)
    assert len(index_lines(folder)) == 12

    # the parts are the truth: runs whose part is gone are no longer finished, and are run again
    gone = parts(folder)[0]
    lost = set(pd.read_parquet(gone, columns=["arm", "replication"]).itertuples(index=False, name=None))
    assert lost
    gone.unlink()
    store = RunStore(folder, scenario, "compare")
    every = {(arm, k) for arm in ARMS for k in range(3)}
    assert {(row["arm"], row["replication"]) for row in store.values().to_dict("records")} == every - lost
    assert len(store.done()) == len(index_lines(folder)) == 12 - len(lost)
    run_compare(scenario, folder)
    assert_same_tables(baseline.folder, folder)
    assert_each_run_stored_once(folder, ARMS, 3, 12)


def test_a_cut_failures_line_does_not_break_the_folder(tmp_path):
    scenario = two_arms()
    store = RunStore(tmp_path / "out", scenario, "compare")
    store.record_failure(RunSpec("reform", 0, 1, 5), "Traceback: first")
    store.record_failure(RunSpec("reform", 0, 2, 6), "Traceback: second")
    path = tmp_path / "out" / "failures.jsonl"
    text = path.read_text()
    path.write_text(text[: len(text) - 20])  # a crash in the middle of the second line
    assert list(RunStore(tmp_path / "out", scenario, "compare").failures()) == ["reform/p00000-r00001-s5"]


# --- failures ----------------------------------------------------------------------------------


def test_a_failing_run_does_not_stop_the_others_and_can_be_retried(baseline, tmp_path, monkeypatch, capsys):
    def failing(scenario, seed, *, arm=None, replication=0, **options):
        if (arm, replication) == ("fault_tolerance", 1):
            raise RuntimeError("injected failure")
        return REAL_RUN_ONE(scenario, seed, arm=arm, replication=replication, **options)

    monkeypatch.setattr(sim.experiments.executors, "run_one", failing)
    out = tmp_path / "out"
    result = run_compare(small_comparison(), out)
    key = f"fault_tolerance/p00000-r00001-s{replication_seeds(result.scenario.seed, 3)[1]}"
    assert list(result.failures) == [key]
    assert len(result.runs) == 11
    assert ("fault_tolerance", 1) not in set(zip(result.runs["arm"], result.runs["replication"], strict=True))
    n = result.effects.set_index("arm")["n"]
    assert (n.loc["fault_tolerance"] == 2).all() and (n.drop("fault_tolerance") == 3).all()
    records = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [r["key"] for r in records] == [key]
    assert "Traceback" in records[0]["error"] and "RuntimeError: injected failure" in records[0]["error"]
    assert len(stored_runs(out)) == 11 and ("fault_tolerance", 1) not in stored_runs(out)
    assert manifest(out)["runs_failed"] == 1

    capsys.readouterr()
    path = write_scenario(small_comparison(), tmp_path / "small.yaml")
    status = main(["compare", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    assert status == 1
    assert "1 run(s) failed" in captured.err and "--retry-failed" in captured.err
    assert "Traceback" not in captured.err
    assert captured.out.strip() == str(out)

    calls = []

    def counting(scenario, seed, *, arm=None, replication=0, **options):
        calls.append((arm, replication))
        return REAL_RUN_ONE(scenario, seed, arm=arm, replication=replication, **options)

    monkeypatch.setattr(sim.experiments.executors, "run_one", counting)
    retried = run_compare(small_comparison(), out, retry_failed=True)
    assert calls == [("fault_tolerance", 1)]
    assert retried.failures == {}
    assert_same_tables(baseline.folder, out)
    assert_each_run_stored_once(out, ARMS, 3, 12)
    assert manifest(out)["runs_failed"] == 0

    calls.clear()
    run_compare(small_comparison(), out)
    assert calls == [], "a finished comparison runs nothing again"


# --- precision ---------------------------------------------------------------------------------


def replications_per_arm(folder: Path) -> dict[str, list[int]]:
    runs, _ = read_tables(folder)
    return {arm: sorted(group["replication"]) for arm, group in runs.groupby("arm")}


def test_precision_stops_at_the_cap(tmp_path):
    result = run_compare(two_arms(), tmp_path / "out", precision=1e-9, max_replications=4)
    assert result.stop_reason is not None and "cap 4" in result.stop_reason
    assert not result.stop_reason.startswith("precision reached")
    assert replications_per_arm(result.folder) == {"status_quo": [0, 1, 2, 3], "reform": [0, 1, 2, 3]}
    assert result.effects["n"].eq(4).all()
    assert manifest(result.folder)["replications"] == 4


def test_precision_reached(tmp_path):
    result = run_compare(two_arms(), tmp_path / "out", precision=10.0, max_replications=9)
    assert result.stop_reason is not None and result.stop_reason.startswith("precision reached")
    assert replications_per_arm(result.folder) == {"status_quo": [0, 1, 2], "reform": [0, 1, 2]}
    reform = result.effects[result.effects["arm"] == "reform"]
    assert ((reform["difference_high"] - reform["difference_low"]) / 2 <= 10.0).all()


def test_precision_from_a_single_replication(tmp_path):
    # with one replication no CI is known yet; the comparison must add replications, not crash
    result = run_compare(two_arms(replications=1), tmp_path / "out", precision=10.0, max_replications=6)
    assert result.stop_reason.startswith("precision reached")
    counts = {arm: len(reps) for arm, reps in replications_per_arm(result.folder).items()}
    assert counts["status_quo"] == counts["reform"] >= 2


def test_precision_arguments_are_checked(tmp_path):
    with pytest.raises(ScenarioError, match="positive"):
        run_compare(two_arms(), tmp_path / "a", precision=0.0)
    with pytest.raises(ScenarioError, match="below"):
        run_compare(two_arms(), tmp_path / "b", precision=0.1, max_replications=2)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --- folders and scenarios that are refused ----------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_of_another_scenario_is_refused(baseline, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(baseline.folder, folder)
    before = snapshot(folder)
    changed = small_comparison().with_overrides(["parameters.relay.escalation=0.2"])
    with pytest.raises(ScenarioError, match="another scenario"):
        run_compare(changed, folder)
    with pytest.raises(ScenarioError, match="another scenario"):
        RunStore(folder, small_comparison().with_overrides(["steps=13"]), "compare")
    with pytest.raises(ScenarioError, match="another scenario"):
        RunStore(folder, small_comparison(), "sweep")
    assert snapshot(folder) == before

    path = write_scenario(changed, tmp_path / "changed.yaml")
    capsys.readouterr()
    assert main(["compare", str(path), "--out", str(folder), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bureausim: error:") and "another scenario" in err and "Traceback" not in err
    assert snapshot(folder) == before


def test_a_folder_without_an_experiment_is_refused(tmp_path, capsys):
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="holds no experiment"):
        run_compare(two_arms(), folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    afile = tmp_path / "a_file"
    afile.write_text("x")
    with pytest.raises(ScenarioError):
        run_compare(two_arms(), afile)

    path = write_scenario(two_arms(), tmp_path / "pair.yaml")
    capsys.readouterr()
    assert main(["compare", str(path), "--out", str(folder), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bureausim: error:") and "holds no experiment" in err and "Traceback" not in err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_scenario_without_arms_is_refused(tmp_path, capsys):
    with pytest.raises(ScenarioError, match="no arms"):
        run_compare(two_arms(arms=[]), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    path = write_scenario(two_arms(arms=[]), tmp_path / "armless.yaml")
    capsys.readouterr()
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bureausim: error:") and "no arms" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# --- paired effects on hand-made values --------------------------------------------------------


def t_half(sample: np.ndarray) -> float:
    return stats.t.ppf(0.975, len(sample) - 1) * sample.std(ddof=1) / np.sqrt(len(sample))


REFERENCE = np.array([1.0, 2.0, 4.0, 3.0])  # replications 0..3
VALUES = pd.DataFrame(
    {
        "arm": ["ref"] * 4 + ["up"] * 3 + ["down"] * 5 + ["noisy"] * 4,
        "replication": [0, 1, 2, 3, 0, 1, 3, 0, 1, 2, 3, 4, 0, 1, 2, 3],
        # up misses replication 2: paired differences 1.5, 1.0, 2.0 (mean 1.5) while the
        # difference of the arms' means is 3.5 - 2.5 = 1.0; down has a replication 4 that the
        # reference lacks, which counts in down's mean but in no paired difference
        "x": [*REFERENCE, 2.5, 3.0, 5.0, 0.5, 1.4, 3.6, 2.3, 9.0, 2.0, 1.0, 5.0, 2.9],
    }
)
VALUES["y"] = VALUES["x"]


def up_values(outcome: str) -> np.ndarray:
    """The ``up`` arm's values of ``outcome`` by replication."""
    return VALUES[VALUES["arm"] == "up"].sort_values("replication")[outcome].to_numpy()


def effects_of(values: pd.DataFrame, reference: str = "ref") -> pd.DataFrame:
    effects = paired_effects(values, [("x", "maximize"), ("y", "minimize")], reference)
    return effects.set_index(["arm", "outcome"])


def test_paired_effects_means_and_intervals():
    effects = effects_of(VALUES)
    assert list(effects.index.get_level_values("arm").unique()) == ["ref", "up", "down", "noisy"]
    for arm, group in VALUES.groupby("arm"):
        sample = group["x"].to_numpy()
        row = effects.loc[(arm, "x")]
        assert row["n"] == len(sample)
        assert row["mean"] == pytest.approx(sample.mean(), abs=1e-12)
        assert row["ci_low"] == pytest.approx(sample.mean() - t_half(sample), abs=1e-12)
        assert row["ci_high"] == pytest.approx(sample.mean() + t_half(sample), abs=1e-12)
    reference = effects.loc[("ref", "x")]
    assert reference["verdict"] == "reference"
    unknown = ["difference", "difference_low", "difference_high", "cohens_d", "paired_dz", "p_value"]
    assert np.isnan(reference[unknown].astype(float)).all()


def test_paired_difference_is_the_mean_of_per_replication_differences():
    up = effects_of(VALUES).loc[("up", "x")]
    diff = np.array([1.5, 1.0, 2.0])
    assert up["difference"] == pytest.approx(1.5, abs=1e-12)
    assert up["difference"] != pytest.approx(1.0)  # not the difference of means
    assert up["difference_low"] == pytest.approx(1.5 - t_half(diff), abs=1e-12)
    assert up["difference_high"] == pytest.approx(1.5 + t_half(diff), abs=1e-12)
    assert up["paired_dz"] == pytest.approx(diff.mean() / diff.std(ddof=1), abs=1e-12)
    pooled = np.sqrt((np.var(up_values("x"), ddof=1) + np.var(REFERENCE[[0, 1, 3]], ddof=1)) / 2)
    assert up["cohens_d"] == pytest.approx(diff.mean() / pooled, abs=1e-12)
    assert up["p_value"] == pytest.approx(stats.ttest_rel(up_values("x"), REFERENCE[[0, 1, 3]]).pvalue, abs=1e-12)

    down = effects_of(VALUES).loc[("down", "x")]
    assert down["n"] == 5
    diff = np.array([0.5, 1.4, 3.6, 2.3]) - REFERENCE
    assert down["difference"] == pytest.approx(diff.mean(), abs=1e-12)
    assert down["paired_dz"] == pytest.approx(diff.mean() / diff.std(ddof=1), abs=1e-12)

    # pairs are matched by replication, not by row position
    shuffled = VALUES.sample(frac=1.0, random_state=3)
    assert shuffled["replication"].tolist() != VALUES["replication"].tolist()
    again = effects_of(shuffled).loc[[("up", "x"), ("down", "x"), ("noisy", "x")]]
    expected = effects_of(VALUES).loc[[("up", "x"), ("down", "x"), ("noisy", "x")]]
    assert_frame_equal(again, expected, check_exact=False, rtol=1e-12)


def test_verdicts_follow_the_direction():
    effects = effects_of(VALUES)
    assert effects.loc[("up", "x"), "verdict"] == "better"  # higher, maximize
    assert effects.loc[("up", "y"), "verdict"] == "worse"  # higher, minimize
    assert effects.loc[("down", "x"), "verdict"] == "worse"  # lower, maximize
    assert effects.loc[("down", "y"), "verdict"] == "better"  # lower, minimize
    noisy = effects.loc[("noisy", "x")]
    assert noisy["difference_low"] < 0 < noisy["difference_high"]
    assert noisy["verdict"] == effects.loc[("noisy", "y"), "verdict"] == "no detectable difference"


def test_effect_sizes_are_labelled_and_a_zero_difference_is_zero():
    """Cohen's d uses the arms' pooled spread; dz the spread of the differences; no difference is 0, not NaN."""
    same = pd.DataFrame(
        {"arm": ["a"] * 4 + ["b"] * 4, "replication": list(range(4)) * 2, "x": [1.0, 2.0, 3.0, 4.0] * 2}
    )
    row = paired_effects(same, [("x", "maximize")], "a").iloc[1]
    assert (row["difference"], row["cohens_d"], row["paired_dz"], row["p_value"]) == (0.0, 0.0, 0.0, 1.0)
    assert row["verdict"] == "no detectable difference"
    shifted = same.assign(x=same["x"] + np.where(same["arm"] == "b", 0.5, 0.0))
    row = paired_effects(shifted, [("x", "maximize")], "a").iloc[1]
    assert row["paired_dz"] == np.inf, "a constant shift has no spread of differences"
    assert row["cohens_d"] == pytest.approx(0.5 / np.std([1.0, 2.0, 3.0, 4.0], ddof=1), abs=1e-12)
    assert (row["p_value"], row["verdict"]) == (0.0, "better")


def test_an_outcome_without_a_direction_is_reported_but_never_judged():
    effects = paired_effects(VALUES, [("x", "none")], "ref").set_index("arm")
    assert effects.loc["up", "verdict"] == "higher"
    assert effects.loc["down", "verdict"] == "lower"
    assert effects.loc["noisy", "verdict"] == "no detectable difference"


def test_a_difference_whose_interval_lies_within_the_smallest_effect_is_negligible():
    up = VALUES[VALUES["arm"].isin(["ref", "up"])]
    judged = paired_effects(up, [("x", "maximize", 10.0)], "ref").iloc[-1]
    assert judged["verdict"] == "negligible", "detectable (CI above 0) but inside +-10"
    judged = paired_effects(up, [("x", "maximize", 0.1)], "ref").iloc[-1]
    assert judged["verdict"] == "better", "a CI reaching beyond the smallest effect keeps its verdict"
    noisy = VALUES[VALUES["arm"].isin(["ref", "noisy"])]
    wide = paired_effects(noisy, [("x", "maximize", 0.01)], "ref").iloc[-1]
    assert wide["verdict"] == "no detectable difference", "a wide CI is not evidence of no effect"


@pytest.mark.parametrize(("method", "name"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_follow_statsmodels_and_decide_the_verdicts(method, name):
    from statsmodels.stats.multitest import multipletests

    outcomes = [("x", "maximize"), ("y", "minimize")]
    plain = paired_effects(VALUES, outcomes, "ref")
    adjusted = paired_effects(VALUES, outcomes, "ref", adjust=method)
    judged = adjusted["verdict"] != "reference"
    expected = multipletests(plain.loc[judged, "p_value"], method=name)[1]
    np.testing.assert_allclose(adjusted.loc[judged, "p_adjusted"], expected, rtol=0, atol=1e-15)
    assert (adjusted.loc[judged, "p_adjusted"] >= adjusted.loc[judged, "p_value"] - 1e-15).all()
    detected = adjusted.loc[judged, "verdict"].isin(["better", "worse"])
    assert (detected == (adjusted.loc[judged, "p_adjusted"] < 0.05)).all()
    assert "p_adjusted" not in plain.columns


def test_paired_effects_against_another_reference():
    effects = effects_of(VALUES, reference="down")
    assert effects.loc[("down", "x"), "verdict"] == "reference"
    ref = effects.loc[("ref", "x")]
    diff = REFERENCE - np.array([0.5, 1.4, 3.6, 2.3])
    assert ref["difference"] == pytest.approx(diff.mean(), abs=1e-12)
    assert ref["verdict"] == "better"


# --- progress ----------------------------------------------------------------------------------


def test_progress_prints_a_plain_line_when_not_a_terminal(capsys):
    console = Console(file=io.StringIO(), force_terminal=False)
    with RunProgress("pair: runs", 3, enabled=True, console=console) as bar:
        for failed in (False, True, False):
            bar.advance(failed)
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines and lines[-1] == "pair: runs: 3/3 done, 1 failed, ETA 0 s"
    assert all(line.startswith("pair: runs: ") for line in lines)
    assert captured.out == "" and console.file.getvalue() == ""


def test_progress_prints_nothing_when_disabled(capsys):
    for terminal in (False, True):
        console = Console(file=io.StringIO(), force_terminal=terminal)
        with RunProgress("pair: runs", 2, enabled=False, console=console) as bar:
            bar.advance(False)
            bar.advance(True)
        captured = capsys.readouterr()
        assert captured.err == "" and captured.out == "" and console.file.getvalue() == ""


def test_progress_on_a_terminal_draws_a_bar_instead_of_lines(capsys):
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with RunProgress("pair: runs", 2, enabled=True, console=console) as bar:
        bar.advance(False)
        bar.advance(True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert "pair: runs" in console.file.getvalue()


def test_when_every_run_fails_the_exit_status_is_1_not_a_user_mistake(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(sim.experiments.executors, "run_one", broken)
    path = write_scenario(small_comparison(), tmp_path / "s.yaml")
    assert main(["compare", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "no run finished" in err and "Traceback" not in err
    assert "model exploded" in (tmp_path / "out" / "failures.jsonl").read_text()


def test_the_scenario_hash_covers_a_graph_files_contents(tmp_path):
    from sim.storage.run_store import scenario_hash

    graph = tmp_path / "chain.edges"
    graph.write_text("top a\ntop b\n")
    scenario = Scenario.model_validate({"name": "g", "hierarchy": {"file": "chain.edges"}})
    scenario.source = str(tmp_path / "g.yaml")
    before = scenario_hash(scenario)
    graph.write_text("top a\ntop b\ntop c\n")
    assert scenario_hash(scenario) != before


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_bands_read_batch_by_batch_equal_bands_of_everything(batch):
    """Merging counts, means and squared deviations batch by batch gives the same mean and CI."""
    rng = np.random.default_rng(5)
    rows = pd.DataFrame(
        {
            "arm": rng.choice(["a", "b"], size=300),
            "period": rng.integers(1, 6, size=300),
            "x": 1e8 + rng.normal(0.0, 1.0, size=300),  # a large offset: a naive sum of squares loses the spread
            "y": rng.uniform(size=300),
        }
    )
    batches = [rows.iloc[start : start + batch] for start in range(0, len(rows), batch)]
    merged = streaming_bands(batches, ["arm", "period"], ["x", "y"])
    for (arm, output), group in merged.groupby(["arm", "output"]):
        expected = band(rows[rows["arm"] == arm], output).set_index("period")
        got = group.set_index("period").loc[expected.index]
        np.testing.assert_allclose(got["mean"], expected["mean"], rtol=1e-12)
        half = (expected["ci_high"] - expected["mean"]).to_numpy()
        assert np.all(half > 0.05)
        np.testing.assert_allclose((got["ci_high"] - got["mean"]).to_numpy(), half, rtol=1e-5)
        np.testing.assert_allclose((got["mean"] - got["ci_low"]).to_numpy(), half, rtol=1e-5)
        counts = rows[rows["arm"] == arm].groupby("period").size()
        assert got["n"].tolist() == counts.loc[expected.index].tolist()


def test_comparison_bands_come_from_every_stored_run(tmp_path):
    scenario = small_comparison()
    result = compare(scenario, out=tmp_path / "out", workers=1, progress=False)
    bands = result.bands(["goal_attainment"])
    assert list(dict.fromkeys(bands["arm"])) == [arm.name for arm in scenario.arms]
    steps = result.steps
    for arm, group in steps.groupby("arm"):
        expected = band(group, "goal_attainment").set_index("period")
        got = bands[bands["arm"] == arm].set_index("period").loc[expected.index]
        np.testing.assert_allclose(got["mean"], expected["mean"], rtol=1e-12)
        np.testing.assert_allclose(got["ci_high"], expected["ci_high"], rtol=1e-10)


def test_bands_leave_out_missing_values_as_band_does():
    rows = pd.DataFrame({"arm": ["a"] * 4, "period": [1] * 4, "x": [np.nan, 1.0, 2.0, 3.0]})
    merged = streaming_bands([rows.iloc[:1], rows.iloc[1:]], ["arm", "period"], ["x"])
    expected = band(rows, "x")
    assert merged["n"].tolist() == [3]
    np.testing.assert_allclose(
        merged[["mean", "ci_low", "ci_high"]].to_numpy(), expected[["mean", "ci_low", "ci_high"]].to_numpy()
    )
    nothing = streaming_bands([rows.iloc[:1]], ["arm", "period"], ["x"])
    assert nothing["n"].tolist() == [0] and nothing[["mean", "ci_low", "ci_high"]].isna().all(axis=None)


def test_comparison_bands_use_the_replications_of_its_effects_and_refuse_unknown_outputs(tmp_path):
    scenario = small_comparison()
    more = scenario.model_copy(update={"replications": scenario.replications + 2})
    compare(more, out=tmp_path / "out", workers=1, progress=False)  # extra runs in the same store...
    result = compare(scenario, out=tmp_path / "out2", workers=1, progress=False)
    for name in ("runs", "index.jsonl"):  # ...copied under the smaller scenario's folder
        source, target = tmp_path / "out" / name, tmp_path / "out2" / name
        if source.is_dir():
            shutil.rmtree(target)
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    bands = result.bands(["goal_attainment", "goal_attainment"])  # a repeated output is read once
    assert set(bands["n"]) == {scenario.replications}
    assert len(bands) == len(scenario.arms) * scenario.steps
    with pytest.raises(ValueError, match=r"unknown outputs \['nope'\]"):
        result.bands(["nope"])


def test_a_missing_graph_file_is_refused_from_python_before_anything_is_written(tmp_path):
    scenario_file = tmp_path / "graph.yaml"
    scenario_file.write_text(
        "name: graph\nsteps: 4\nreplications: 2\nhierarchy: {file: missing.graphml}\n"
        "arms: [{name: a}, {name: b, policies: [fault_tolerance]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(sim.GraphFileError, match="no such graph file"):
        compare(scenario_file, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- resuming under other code -----------------------------------------------------------------


def _record_code(folder: Path, code: dict | None) -> None:
    """Make a folder look as if an experiment was started in it by other code (or by a bureausim without the check)."""
    path = folder / "experiment.json"
    identity = json.loads(path.read_text(encoding="utf-8"))
    if code is None:
        identity.pop("code")
    else:
        identity["code"] = code
    path.write_text(json.dumps(identity) + "\n", encoding="utf-8")


@pytest.mark.parametrize("code", [{"bureausim": "0.0.9", "model_source": "0123456789abcdef"}, None])
def test_a_resume_under_other_code_is_refused_naming_both_unless_allowed(tmp_path, code):
    from sim.storage.provenance import code_identity

    out = tmp_path / "out"
    scenario = small_comparison()
    compare(scenario, out=out, progress=False)
    _record_code(out, code)
    (out / "effects.csv").unlink()
    with pytest.raises(ScenarioError) as refused:
        compare(scenario, out=out, progress=False)
    message = str(refused.value)
    assert "other code" in message and code_identity()["model_source"] in message
    assert ("0123456789abcdef" in message) if code else ("recorded no code identity" in message)
    assert not (out / "effects.csv").exists()  # nothing was analysed or written
    again = compare(scenario, out=out, progress=False, allow_other_code=True)
    assert not again.effects.empty
    last = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["invocations"][-1]
    assert last["resumed_under_other_code"] == (code or {}) and last["code"] == code_identity()
    assert last["runs_run"] == 0


def test_the_code_identity_changes_with_the_model_source_only(tmp_path):
    from sim.storage.provenance import source_digest

    package = tmp_path / "sim"
    shutil.copytree(ROOT / "sim", package, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_digest(package)
    (package / "app" / "cli.py").write_text("# the command line changed\n", encoding="utf-8")
    assert source_digest(package) == before
    rules = package / "model" / "rules.py"
    rules.write_text(rules.read_text(encoding="utf-8").replace("1.0 - dilution", "1.0 - 0.5 * dilution"))
    assert source_digest(package) != before


def test_the_one_writer_lock_belongs_to_the_folder_not_its_name(tmp_path):
    from sim.errors import FolderBusy
    from sim.storage.locks import output_lock

    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    (tmp_path / "parent").symlink_to(tmp_path)
    with output_lock(real):
        for other in (tmp_path / "alias", tmp_path / "parent" / "real", tmp_path / "." / "real"):
            with pytest.raises(FolderBusy, match="being written by another bureausim command"), output_lock(other):
                pass
    with output_lock(tmp_path / "alias"):  # free again once the holder is done
        pass


# --- the parts are the truth -------------------------------------------------------------------


def _finished(tmp_path: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    out = tmp_path / "out"
    result = compare(small_comparison(), out=out, progress=False)
    return out, result.effects, pd.read_parquet(out / "runs.parquet")


def _resumed(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = compare(small_comparison(), out=out, progress=False)
    return result.effects, pd.read_parquet(out / "runs.parquet")


def test_an_edited_index_line_is_recomputed_from_its_part(tmp_path):
    out, effects, runs = _finished(tmp_path)
    lines = (out / "index.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["values"]["goal_attainment"] = 0.999  # an edit by hand, or a flipped bit
    lines[0] = json.dumps(record)
    wrong_part = json.loads(lines[1]) | {"part": "part-000099.parquet"}
    lines[1] = json.dumps(wrong_part)
    (out / "index.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    again_effects, again_runs = _resumed(out)
    assert_frame_equal(again_effects, effects)
    assert_frame_equal(again_runs, runs)
    healed = [json.loads(line) for line in (out / "index.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["key"]: r["values"]["goal_attainment"] for r in healed}[record["key"]] != 0.999


def test_an_unreadable_part_is_set_aside_reported_and_its_runs_run_again(tmp_path, capsys):
    out, effects, runs = _finished(tmp_path)
    part = next((out / "runs").glob("part-*.parquet"))
    part.write_bytes(b"not a parquet file")
    again_effects, again_runs = _resumed(out)
    assert "could not be read" in capsys.readouterr().err
    assert (out / "runs" / "damaged" / part.name).read_bytes() == b"not a parquet file"
    assert_frame_equal(again_effects, effects)
    assert_frame_equal(again_runs, runs)
    last = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["invocations"][-1]
    assert last["parts_set_aside"] == [part.name] and last["runs_run"] == len(runs)


@pytest.mark.parametrize(
    "workers, runs, expected, note",
    [
        (64, 1000, 16, "--workers 64 is more than this machine's 16 cores; using 16"),
        (8, 3, 3, "--workers 8 is more than the 3 runs to do; using 3"),
        (4, 1000, 4, None),
        (None, 1000, 16, None),
        (None, 5, 5, None),
    ],
)
def test_workers_beyond_the_cores_or_the_runs_are_lowered_and_said(monkeypatch, workers, runs, expected, note):
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert sim.experiments.executors.worker_count(workers, runs) == (expected, note)


def test_a_remote_scheduler_keeps_the_worker_count_it_was_given(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert sim.experiments.executors.worker_count(64, 10, "tcp://10.0.0.1:8786") == (64, None)


def test_the_lowered_worker_count_is_said_on_stderr(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: w\nsteps: 2\nreplications: 1\nhierarchy: {branching: [2]}\narms: [{name: a}]\n")
    compare(str(scenario), out=tmp_path / "out", workers=50, progress=False)
    assert "--workers 50 is more than" in capsys.readouterr().err


@pytest.mark.parametrize(
    "address, fragment",
    [
        ("tcp://", "missing port"),
        ("not an address", "missing port"),
        ("tcp://host:notaport", "not a scheduler address"),
        ("foo://x:1", "unknown address scheme"),
        ("127.0.0.1:99999", "port 99999 is not 1 to 65535"),
        ("inproc://x", "in-process address"),
    ],
)
def test_a_malformed_scheduler_address_is_a_user_mistake(address, fragment):
    with pytest.raises(sim.ScenarioError, match=fragment) as error:
        sim.experiments.executors.make_executor(2, address)
    assert error.value.source == "--scheduler"


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.1 200 OK\r\n\r\nhello"])
def test_an_address_that_answers_but_is_no_scheduler_gives_up_in_time(monkeypatch, reply):
    """A silent server, and a web server (Dask would read a garbage frame length), fail within the deadline."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held = []

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            if reply:
                connection.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    monkeypatch.setattr(sim.experiments.executors, "CONNECT_SECONDS", 6)
    started = time.monotonic()
    try:
        with pytest.raises(sim.ClusterUnreachable, match="Dask scheduler"):
            sim.experiments.executors.make_executor(2, f"tcp://127.0.0.1:{server.getsockname()[1]}")
    finally:
        server.close()
        for connection in held:
            connection.close()
    assert time.monotonic() - started < 6 + 2
