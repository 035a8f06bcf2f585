"""The benchmark report: every figure and target appears, verdicts follow the figures.

Speed itself is measured by `bureausim bench`, never asserted here."""

from __future__ import annotations

from sim.app.cli import main
from sim.checks.bench import Results, measure_overhead, report


def results(ratio: float, seconds: float) -> Results:
    r = Results(machine={"cpu": "test cpu", "cores": "2"})
    for size, officials in (("baseline", 1681), ("10k", 9733), ("national", 41950)):
        r.throughput[size] = {"agents": 10_000.0, "vectorized": 10_000.0 * ratio}
        r.officials[size] = officials
        r.construction[size] = 0.1
    r.bytes_per_official, r.resident_bytes_per_official = 900.0, 800.0
    r.replication_seconds = seconds
    r.ceiling = 2e9
    r.overhead_seconds = 2e-4
    r.village = {"seconds": 45.0, "megabytes": 1500.0, "officials": 691950.0}
    r.portfolio = {
        "seconds": seconds * 1.5,
        "one_task_seconds": seconds,
        "bytes_per_official": 1800.0,
        "second_edition_seconds": seconds * 1.1,
    }
    return r


def test_report_lists_every_figure_and_target():
    text = report(results(ratio=200, seconds=1.5))
    for needle in ("test cpu", "| national | 41,950 | 10,000 | 2,000,000 | 200× |", "1.50 s", "900 B peak", "1,500 MB"):
        assert needle in text
    verdicts = [line.rsplit("|", 2)[-2].strip() for line in text.splitlines() if line.startswith("| ") and "×" in line]
    assert "met" in verdicts
    assert "2.25 s (1.5× one task)" in text and "1,800 B peak" in text
    assert "| every switch of ODD sections 12-14 on, national replication ≤ 3 s | 1.65 s | met |" in text
    assert text.count("| met |") == 7 and text.count("| missed |") == 1  # the ceiling is 1,000× away


def test_verdicts_follow_the_figures():
    text = report(results(ratio=50, seconds=3.0))
    assert "| vectorised ≥ 100× the agent engine at national scale | 50× | missed |" in text
    assert "| national replication ≤ 2 s | 3.00 s | missed |" in text
    assert "| portfolio of 8 tasks, national replication ≤ 3 s | 4.50 s (1.5× one task) | missed |" in text
    assert "| every switch of ODD sections 12-14 on, national replication ≤ 3 s | 3.30 s | missed |" in text


def test_overhead_is_measured_on_a_single_official():
    assert 0 < measure_overhead(repeats=1, periods=3) < 1


def test_bench_refuses_bad_arguments(capsys, tmp_path):
    assert main(["bench", "--repeats", "0", "--out", str(tmp_path / "r.md")]) == 2
    assert "--repeats" in capsys.readouterr().err
    assert not (tmp_path / "r.md").exists()
