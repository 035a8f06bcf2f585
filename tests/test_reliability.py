"""Every bad input of the catalogue (tests/catalogue.py) is answered clearly: exit status 2,
a one-paragraph message with the expected fragments, no traceback, nothing written."""

from __future__ import annotations

import signal

import pytest
from catalogue import CASES, observe
from conftest import ROOT, not_finite_outputs


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_answered_clearly(case, tmp_path):
    seen = observe(case, tmp_path)
    assert seen.status == 2, f"exit status {seen.status}: {seen.message}"
    assert "Traceback" not in seen.message
    assert seen.message.startswith(("bureausim: error:", "usage:")), seen.message
    assert len(seen.message.splitlines()) <= 3, "one paragraph"
    for fragment in case.expect:
        assert fragment in seen.message, f"{fragment!r} not in {seen.message!r}"
    assert seen.written == [], f"wrote {seen.written}"
    assert not (tmp_path / "pwned").exists()


def test_the_catalogue_has_at_least_forty_distinct_cases():
    assert len({case.id for case in CASES}) == len(CASES) >= 40


def test_the_reliability_document_lists_every_case():
    text = (ROOT / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    missing = [case.id for case in CASES if f"`{case.id}`" not in text]
    assert not missing, f"run make reliability: docs/RELIABILITY.md lacks {missing}"


def comparison_command(folder, replications: int, workers: int):
    """A two-arm comparison that takes a few seconds, and the command line that runs it into ``folder/out``."""
    import sys

    scenario = folder / "s.yaml"
    scenario.write_text(
        f"name: busy\nhierarchy: {{branching: [4, 4, 6]}}\nsteps: 60\nreplications: {replications}\n"
        "arms: [{name: a}, {name: b, policies: [fault_tolerance]}]\n"
    )
    out = folder / "out"
    return out, [
        sys.executable,
        "-m",
        "sim",
        "compare",
        str(scenario),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--quiet",
    ]


def test_a_second_command_on_the_same_output_folder_is_refused(tmp_path):
    """While one comparison writes a folder, another on the same folder exits 2 and writes nothing."""
    import subprocess
    import time

    out, command = comparison_command(tmp_path, replications=30, workers=1)
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (out / "experiment.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert first.poll() is None, "the first comparison should still be running"
        before = sorted(p.name for p in out.rglob("*"))
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2
        assert "being written by another bureausim command" in second.stderr
        assert "Traceback" not in second.stderr
        assert first.poll() is None or first.returncode == 0
        assert set(before) <= {p.name for p in out.rglob("*")}
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    assert (
        subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    )  # free again: resumes, nothing to do


def test_a_killed_worker_stops_the_batch_cleanly_and_the_same_command_resumes(tmp_path):
    """SIGKILL to a worker process: exit 1 with a clear message, then a re-run completes the batch."""
    import os
    import signal
    import subprocess
    import time

    out, command = comparison_command(tmp_path, replications=100, workers=2)
    batch = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def children(pid: int) -> list[int]:
        listed = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        return [int(child) for child in listed]

    workers: list[int] = []  # pool workers are forked by the forkserver, a child of the batch process
    deadline = time.monotonic() + 60
    while not workers and time.monotonic() < deadline:
        workers = [worker for child in children(batch.pid) for worker in children(child)]
        time.sleep(0.2)
    assert workers, "no worker process found"
    time.sleep(1.0)
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = batch.communicate(timeout=120)
    if batch.returncode == 0:
        pytest.skip("the batch finished before a worker could be killed")
    assert batch.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert "re-run the same command to resume" in stderr or "worker" in stderr
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 200 and not runs.duplicated(["arm", "replication"]).any()


@pytest.mark.parametrize(
    "overrides",
    [
        {"relay_escalation": 0.0, "relay_dilution": 0.0, "relay_stripping": 0.0, "task_risk": 0.0},
        {"relay_dilution": 1.0, "relay_stripping": 1.0, "task_risk": 1.0, "accountability_blame_shift": 0.0},
        {"learning_temperature": 0.0, "learning_forgetting": 1.0},
        {"learning_temperature": 100.0, "learning_forgetting": 0.0, "learning_learning_rate": 100.0},
        {"execution_capacity_mean": 100.0, "execution_capacity_sd": 3.0, "execution_risk_aversion_sd": 3.0},
        {"execution_capacity_mean": 1e-6, "task_paperwork": 10.0, "accountability_hosting_cost": 10.0},
        {
            "accountability_inspection_rate": 50.0,
            "accountability_onsite_share": 1.0,
            "accountability_third_party_rate": 1.0,
        },
        {"accountability_excuse_genuine": 1.0, "accountability_ranking_fraction": 1.0, "accountability_precise": True},
        {"task_target": 100.0, "task_resources": 0.0, "task_weight": 10.0, "relay_escalation_pressure": 20.0},
    ],
)
@pytest.mark.parametrize("branching", [[], [1] * 10, [3, 4]])
def test_numerical_extremes_stay_finite(overrides, branching):
    import math

    from sim import BureauModel

    model = BureauModel(branching=branching, seed=1, **overrides)
    for _ in range(5):
        model.step()
        assert not not_finite_outputs(model)
    for state in model.levels:
        assert all(map(math.isfinite, state.attractions.ravel()))


def test_ctrl_c_stops_cleanly_and_resuming_equals_an_undisturbed_run(tmp_path):
    import signal
    import subprocess
    import time

    import pandas as pd

    # 300 runs: the first part is stored after 50, so most of the batch is still to run when the
    # signal is sent, on any host (with 120 runs a fast host sometimes finished first)
    out, command = comparison_command(tmp_path, replications=150, workers=1)
    batch = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((out / "runs").glob("part-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.1)
    batch.send_signal(signal.SIGINT)
    _, stderr = batch.communicate(timeout=120)
    if batch.returncode == 0:
        pytest.skip("the batch finished before it could be interrupted")
    assert batch.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    stored = sum(1 for _ in (out / "index.jsonl").open())
    assert 0 < stored < 300
    assert subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    (tmp_path / "u").mkdir()
    undisturbed_out, undisturbed = comparison_command(tmp_path / "u", replications=150, workers=1)
    assert subprocess.run(undisturbed, capture_output=True, timeout=300).returncode == 0
    resumed = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(resumed, pd.read_parquet(undisturbed_out / "runs.parquet"))
    pd.testing.assert_frame_equal(pd.read_csv(out / "effects.csv"), pd.read_csv(undisturbed_out / "effects.csv"))


def test_a_lost_dask_worker_changes_nothing_in_the_results(tmp_path):
    """SIGKILL to a Dask worker mid-comparison: its tasks run again elsewhere; tables equal a serial run's."""
    import os
    import signal
    import threading
    import time

    import pandas as pd
    from distributed import Client, LocalCluster

    from sim import compare, load_scenario

    out, _ = comparison_command(tmp_path, replications=150, workers=2)
    scenario = load_scenario(tmp_path / "s.yaml")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        victim = next(iter(client.run(os.getpid).values()))
        outcome: dict = {}
        batch = threading.Thread(
            target=lambda: outcome.update(
                result=compare(scenario, out=out, workers=2, scheduler=cluster.scheduler_address, progress=False)
            )
        )
        batch.start()
        time.sleep(3)
        killed_mid_batch = batch.is_alive()
        os.kill(victim, signal.SIGKILL)
        batch.join(timeout=300)
        assert "result" in outcome, "the comparison did not finish after losing a worker"
    finally:
        client.close()
        cluster.close()
    if not killed_mid_batch:
        pytest.skip("the comparison finished before the worker was killed")
    serial = compare(scenario, out=tmp_path / "serial", workers=1, progress=False)
    pd.testing.assert_frame_equal(outcome["result"].runs.reset_index(drop=True), serial.runs.reset_index(drop=True))
    pd.testing.assert_frame_equal(outcome["result"].effects, serial.effects)


def test_finished_runs_leave_no_model_alive():
    """Mesa 3.3 keeps every model in Agent._ids; the runner releases it, so long batches stay flat."""
    import gc

    from conftest import small

    from sim.model.bureau_model import BureauModel
    from sim.model.run import run_one

    def alive() -> int:
        gc.collect()
        return sum(isinstance(o, BureauModel) for o in gc.get_objects())

    scenario = small(steps=3)
    before = alive()  # other tests in this process may hold models of their own
    for seed in range(30):
        run_one(scenario, seed, agents=False)
    assert alive() == before


@pytest.mark.parametrize(
    "name, content",
    [
        ("passwd", "root:x:0:0:SECRET:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin\n"),
        ("notes.txt", "SECRET is the word\n"),
        ("keys", "a b\nSECRET\n"),
        ("g.graphml", "<graphml><graph edgedefault='directed'><node id='SECRET'/><oops SECRET</graph>"),
        ("g.graphml", "SECRET, not XML at all"),
        ("binary.edges", "\xff\xfeSECRET\x00"),
    ],
)
def test_a_graph_file_that_is_not_a_graph_discloses_nothing_of_its_text(tmp_path, name, content):
    """A path to a file that is not a graph (/etc/passwd, notes, keys) is refused without echoing its text."""
    from catalogue import Case

    case = Case("x", "x", ("run", "s.yaml", "--quiet"), {"s.yaml": f"name: x\nhierarchy: {{file: {name}}}\n"})
    (tmp_path / name).write_bytes(content.encode("latin-1"))
    seen = observe(case, tmp_path)
    assert seen.status == 2 and "Traceback" not in seen.message
    assert "SECRET" not in seen.message, seen.message


def test_killed_by_sigterm_and_sigkill_at_random_moments_it_resumes_to_the_same_tables(tmp_path):
    """A shorter run of tests/faults.py: four kills, nothing left running, tables equal an undisturbed run's."""
    from faults import attack

    record, same = attack(tmp_path, kills=4, replications=800, seed=7, window=(0.5, 3.0), from_workers=True)
    assert record.signals == ["SIGTERM", "SIGKILL", "SIGTERM", "SIGKILL"], record
    assert set(record.statuses) <= {128 + signal.SIGTERM, -signal.SIGTERM, -signal.SIGKILL}, record
    assert 128 + signal.SIGTERM in record.statuses, "a SIGTERM should have been handled as a clean stop"
    assert record.left_behind == [0, 0, 0, 0], record
    assert record.stored[-1] > 0, "some kills should have landed after runs were stored"
    assert same


def test_sigterm_and_sighup_stop_a_run_cleanly_with_their_status(tmp_path):
    """`run` stopped by SIGTERM (143) or SIGHUP (129): a message, no traceback, nothing written."""
    import subprocess
    import sys
    import time

    scenario = tmp_path / "s.yaml"
    # Far longer than the test waits on any host (minutes), so the signal always lands mid-run; it
    # is sent once the run holds its folder's lock (its process number written in the lock file),
    # i.e. once it is working, not after a fixed sleep that a fast host outruns.
    scenario.write_text("name: x\nsteps: 400\nreplications: 2000\nhierarchy: {branching: [8, 8, 8]}\n")
    for number in (signal.SIGTERM, signal.SIGHUP):
        out = tmp_path / f"out-{number}"
        process = subprocess.Popen(
            [sys.executable, "-m", "sim", "run", str(scenario), "--out", str(out), "--quiet"],
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        lock = tmp_path / f".{out.name}.lock"
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.1)
        time.sleep(1)
        assert process.poll() is None, process.stderr.read()
        process.send_signal(number)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 128 + number, stderr
        assert f"interrupted ({signal.Signals(number).name})" in stderr and "Traceback" not in stderr
        assert not out.exists() and not list(tmp_path.glob(f".{out.name}.partial-*"))
