"""Benchmarks: the engines' speed and memory, measured in one run on this machine.

``bureausim bench`` (or ``make bench``) prints every figure and writes them, with a
description of the machine, to ``benchmarks/results.md``. Speed is never asserted in tests:
machines are shared and noisy, so figures are medians of several repetitions, and the two
engines are timed in the same run, interleaved, so their ratio holds even when absolute
times drift.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sim.model.bureau_model import BureauModel
from sim.model.run import run_one
from sim.scenario.schema import Scenario

SIZES = {
    "baseline": {"branching": [16, 8, 12]},
    "10k": {"counts": [12, 120, 9600]},
    "national": {"counts": [31, 333, 2844, 38741]},
}
"""Hierarchies benchmarked: one province, about 10k officials, the four-level national chain."""

VILLAGES = {
    "counts": [31, 333, 2844, 38741, 650_000],
    "levels": ["centre", "province", "municipality", "county", "township", "village"],
}

PORTFOLIO = [
    {"name": "environment", "issuer": "ecology_bureau", "target": 0.15, "weight": 1.5, "veto": True},
    {"name": "safety", "issuer": "emergency_bureau", "target": 0.1, "weight": 1.5, "veto": True},
    {"name": "revitalisation", "target": 0.2},
    {"name": "services", "issuer": "civil_affairs_bureau", "target": 0.1, "measurability": 0.2},
    {"name": "elderly_care", "issuer": "civil_affairs_bureau", "target": 0.1, "measurability": 0.3},
    {"name": "waste", "issuer": "ecology_bureau", "target": 0.1},
    {"name": "stability", "target": 0.15, "measurability": 0.5},
    {"name": "party_building", "target": 0.1, "measurability": 0.2},
]
"""The portfolio benchmarked: eight tasks from four issuers (the territorial line and three departments)."""

SECOND_EDITION = {
    "execution": {"motivated_share": 0.5},
    "relay": {"report_rule": "rate", "inflation_options": [0.0, 0.05, 0.15], "tournament_markup": 0.1},
    "accountability": {"report_audit_rate": 0.1, "audit_rate": 0.1, "audit_lag": 12, "statistical_discount": 0.05},
    "middle": {"relay_choice": True, "inspection_rate": 0.1, "shielding": True, "skip_level_rate": 0.05},
    "time": {"period_months": 1.0},
}
"""Every switch of ODD sections 12-14 on: officials who differ, rate reports, chosen inflation, audits, a
tournament, middle levels that decide and are inspected, shielding, level-skipping inspections, monthly periods."""

TARGETS = {
    "ratio": 100.0,  # vectorised / agents at national scale, at least
    "replication_seconds": 2.0,  # national, 120 periods, construction included, at most
    "ceiling_ratio": 5.0,  # numpy streaming ceiling / vectorised throughput, at most
    "bytes_per_official": 1024.0,  # peak, Mesa objects included, at most
    "village_seconds": 60.0,
    "village_megabytes": 2048.0,
    "portfolio_seconds": 3.0,  # national, 8 tasks from 4 issuers, 120 periods, at most
    "portfolio_bytes_per_official": 2048.0,  # peak, at most
    "second_edition_seconds": 3.0,  # national, every switch of ODD sections 12-14 on, 120 periods, at most
}


def scenario_for(
    hierarchy: dict, name: str = "bench", tasks: list[dict] | None = None, parameters: dict | None = None
) -> Scenario:
    """A default scenario on the given hierarchy (with a portfolio of ``tasks``, with these ``parameters``)."""
    data = {"name": name, "hierarchy": hierarchy, "parameters": parameters or {}}
    return Scenario.model_validate(data | ({"tasks": tasks} if tasks else {}))


def median_time(run: Callable[[], None], repeats: int) -> float:
    """Median wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@dataclass
class Results:
    """Every figure of one benchmark run."""

    machine: dict[str, str]
    throughput: dict[str, dict[str, float]] = field(default_factory=dict)  # size -> engine -> agent-periods/s
    officials: dict[str, int] = field(default_factory=dict)
    construction: dict[str, float] = field(default_factory=dict)  # size -> seconds
    bytes_per_official: float = 0.0
    resident_bytes_per_official: float = 0.0
    replication_seconds: float = 0.0
    ceiling: float = 0.0  # element-updates per second
    overhead_seconds: float = 0.0  # one vectorised period of a single official: fixed cost per period
    experiment: dict[str, float] = field(default_factory=dict)  # 200-run comparison: model and total seconds
    village: dict[str, float] = field(default_factory=dict)
    portfolio: dict[str, float] = field(default_factory=dict)  # one-task and portfolio seconds, bytes per official


def describe_machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory = "unknown"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def measure_throughput(size: str, repeats: int, budget: float) -> tuple[dict[str, float], int]:
    """Agent-periods per second of both engines on one hierarchy, interleaved, medians.

    Each repetition times, for each engine in turn, enough periods to take about ``budget``
    seconds (at least one), continuing the same two models.
    """
    scenario = scenario_for(SIZES[size])
    models = {
        engine: BureauModel(scenario, seed=scenario.seed, engine=engine, record_agents=False)
        for engine in ("agents", "vectorized")
    }
    officials = len(models["vectorized"].agents)
    periods = {}
    for engine, model in models.items():
        start = time.perf_counter()
        model.step()  # warm-up, and a first estimate of the time per period
        periods[engine] = max(1, int(budget / max(time.perf_counter() - start, 1e-6)))
    rates: dict[str, list[float]] = {engine: [] for engine in models}
    for _ in range(repeats):
        for engine, model in models.items():
            start = time.perf_counter()
            for _ in range(periods[engine]):
                model.step()
            rates[engine].append(officials * periods[engine] / (time.perf_counter() - start))
    return {engine: statistics.median(values) for engine, values in rates.items()}, officials


def measure_construction(size: str, repeats: int) -> float:
    """Median time to build the model (hierarchy, state arrays, Mesa agents)."""
    scenario = scenario_for(SIZES[size])
    return median_time(lambda: BureauModel(scenario, seed=scenario.seed, record_agents=False), repeats)


def measure_memory(size: str = "national", periods: int = 5, tasks: list[dict] | None = None) -> tuple[float, float]:
    """Peak and resident bytes per official while building and running the vectorised model.

    Traced with ``tracemalloc``, which counts every Python and numpy allocation, Mesa's
    agents and agent sets included. Officials are the hierarchy's (a portfolio's department
    offices are counted as memory, not as officials).
    """
    scenario = scenario_for(SIZES[size], tasks=tasks)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    model = BureauModel(scenario, seed=scenario.seed, record_agents=False)
    for _ in range(periods):
        model.step()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    officials = sum(model.layout.sizes)
    return (peak - base) / officials, (current - base) / officials


def measure_replication(repeats: int, periods: int = 120) -> float:
    """Median time of one national replication as the runner does it: build, run, tables."""
    scenario = scenario_for(SIZES["national"])
    return median_time(lambda: run_one(scenario, seed=1, steps=periods), repeats)


def measure_portfolio(repeats: int, periods: int = 120) -> dict[str, float]:
    """National replications, timed alternately, and the portfolio's memory.

    Three models: the one-task model, :data:`PORTFOLIO`, and the one-task model with :data:`SECOND_EDITION`.
    """
    plain, portfolio = scenario_for(SIZES["national"]), scenario_for(SIZES["national"], tasks=PORTFOLIO)
    thick = scenario_for(SIZES["national"], parameters=SECOND_EDITION)
    times: dict[str, list[float]] = {"one_task_seconds": [], "seconds": [], "second_edition_seconds": []}
    for _ in range(repeats):
        for key, scenario in (("one_task_seconds", plain), ("seconds", portfolio), ("second_edition_seconds", thick)):
            start = time.perf_counter()
            run_one(scenario, seed=1, steps=periods)
            times[key].append(time.perf_counter() - start)
    figures = {key: float(np.median(values)) for key, values in times.items()}
    figures["bytes_per_official"], _ = measure_memory(tasks=PORTFOLIO)
    return figures


def measure_overhead(repeats: int, periods: int = 200) -> float:
    """Seconds per vectorised period of a one-official model: the fixed cost a period pays."""
    model = BureauModel(scenario_for({"branching": []}), seed=1, record_agents=False)

    def run() -> None:
        for _ in range(periods):
            model.step()

    return median_time(run, repeats) / periods


def measure_experiment_overhead(runs: int = 200) -> dict[str, float]:
    """A comparison of the baseline's status quo and fault tolerance, ``runs`` runs in this process.

    Model time is the sum of the runs' own timings, recorded by the run store as each run
    finishes; everything else in the comparison's wall time (scheduling, storing every run,
    summarising from disk, plots, the manifest) is the experiment layer's overhead. Both come
    from the same run, so the ratio does not depend on how busy the machine was.
    """
    import json
    import tempfile

    from sim.experiments.compare import compare

    scenario = Scenario.model_validate(
        {
            "name": "overhead",
            "hierarchy": SIZES["baseline"],
            "replications": runs // 2,
            "arms": [{"name": "status_quo"}, {"name": "fault_tolerance", "policies": ["fault_tolerance"]}],
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "overhead"
        start = time.perf_counter()
        compare(scenario, out=out, workers=1, progress=False)
        total = time.perf_counter() - start
        lines = (out / "index.jsonl").read_text(encoding="utf-8").splitlines()
        model = sum(json.loads(line)["seconds"] for line in lines)
    return {"runs": float(len(lines)), "model_seconds": model, "total_seconds": total}


def measure_ceiling(level_sizes: list[int], repeats: int, sweeps: int = 200) -> float:
    """Element-updates per second of a plain numpy streaming update over a hierarchy.

    One expression per level, ``x = 0.99 * x + y``, over arrays of the levels' sizes: the
    simplest possible period of a model whose state lives in per-level arrays.
    """
    rng = np.random.default_rng(0)
    xs = [rng.random(size) for size in level_sizes]
    ys = [rng.random(size) for size in level_sizes]

    def sweep() -> None:
        for _ in range(sweeps):
            for level, (x, y) in enumerate(zip(xs, ys, strict=True)):
                xs[level] = 0.99 * x + y

    return sum(level_sizes) * sweeps / median_time(sweep, repeats)


VILLAGE_SCRIPT = """
import resource, sys, time
from sim.checks.bench import VILLAGES, scenario_for
from sim.model.run import run_one
start = time.perf_counter()
tables = run_one(scenario_for(VILLAGES, "villages"), seed=1, steps=int(sys.argv[1]))
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(tables.agents))
"""


def measure_villages(periods: int = 120) -> dict[str, float]:
    """One replication with the village level, in a fresh process: seconds and peak resident MB."""
    done = subprocess.run(
        [sys.executable, "-c", VILLAGE_SCRIPT, str(periods)], capture_output=True, text=True, check=True
    )
    seconds, megabytes, officials = done.stdout.split()
    return {"seconds": float(seconds), "megabytes": float(megabytes), "officials": float(officials)}


def run_benchmarks(
    *, repeats: int = 5, budget: float = 0.5, villages: bool = True, say: Callable[[str], None] = print
) -> Results:
    """Measure everything; ``say`` reports progress."""
    results = Results(machine=describe_machine())
    for size in SIZES:
        say(f"throughput and construction: {size}")
        results.throughput[size], results.officials[size] = measure_throughput(size, repeats, budget)
        results.construction[size] = measure_construction(size, repeats)
    say("memory")
    results.bytes_per_official, results.resident_bytes_per_official = measure_memory()
    say("full-scale replication")
    results.replication_seconds = measure_replication(max(3, repeats // 2))
    say("full-scale replication of a portfolio of 8 tasks from 4 issuers, against the one-task model")
    results.portfolio = measure_portfolio(max(1, repeats // 3))
    say("numpy streaming ceiling")
    results.ceiling = measure_ceiling([1, *SIZES["national"]["counts"]], repeats)
    results.overhead_seconds = measure_overhead(repeats)
    say("experiment layer: a 200-run comparison, overhead beyond model time")
    results.experiment = measure_experiment_overhead()
    if villages:
        say("village level (one replication in a fresh process)")
        results.village = measure_villages()
    return results


def verdict(ok: bool) -> str:
    """Met or missed, as a word."""
    return "met" if ok else "missed"


def report(results: Results) -> str:
    """The results as Markdown: machine, tables, targets."""
    r, t = results, TARGETS
    lines = [
        "# Benchmarks",
        "",
        "Generated by `bureausim bench` (`make bench`). Figures are medians; the two engines",
        "were timed in the same run, interleaved.",
        "",
    ]
    lines += ["## Machine", ""] + [f"- {key}: {value}" for key, value in r.machine.items()] + [""]
    lines += [
        "## Throughput (agent-periods per second)",
        "",
        "| hierarchy | officials | agents engine | vectorised engine | ratio | construction (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for size, rates in r.throughput.items():
        ratio = rates["vectorized"] / rates["agents"]
        lines.append(
            f"| {size} | {r.officials[size]:,} | {rates['agents']:,.0f} | {rates['vectorized']:,.0f} | "
            f"{ratio:,.0f}× | {r.construction[size]:.3f} |"
        )
    national = r.throughput["national"]
    ratio = national["vectorized"] / national["agents"]
    ceiling_ratio = r.ceiling / national["vectorized"]
    lines += [
        "",
        "## Scale and memory",
        "",
        f"- One national replication (41,950 officials, 120 periods, construction and result tables included): "
        f"{r.replication_seconds:.2f} s",
        f"- Memory per official, national, vectorised: peak {r.bytes_per_official:,.0f} B while building and running, "
        f"{r.resident_bytes_per_official:,.0f} B held by the model after 5 periods (tracemalloc; Mesa agents included)",
        f"- Plain numpy streaming update, one expression `x = 0.99 * x + y` per level of the national hierarchy "
        f"({r.officials['national']:,} elements): {r.ceiling:,.0f} element-updates per second; the vectorised "
        f"engine's agent-periods per second are {ceiling_ratio:,.0f}× fewer",
    ]
    period = r.officials["national"] / national["vectorized"]
    lines.append(
        f"- A national period takes {period * 1000:.1f} ms; a one-official model takes "
        f"{r.overhead_seconds * 1000:.2f} ms per period, so fixed per-period overhead (Python calls, "
        f"DataCollector) is {r.overhead_seconds / period:.0%} of it and the rest is array work. Per official "
        f"and period, that work equals about {ceiling_ratio:,.0f} such updates: "
        "the logit over six strategies, the six execution outcomes, fourteen uniform draws per unit, "
        "attribution and learning. Closing the gap to the ceiling would need fused, compiled kernels, "
        "which would no longer do the same floating-point arithmetic as the agent engine."
    )
    if r.experiment:
        e = r.experiment
        lines.append(
            f"- Experiment layer: a {e['runs']:.0f}-run comparison of the baseline took "
            f"{e['total_seconds']:.1f} s in one process against {e['model_seconds']:.1f} s "
            "of model time (the runs' own timings): "
            f"{e['total_seconds'] / e['model_seconds'] - 1:.1%} overhead for scheduling, storing each run, "
            "summarising from disk, plots and the manifest"
        )
    if r.portfolio:
        p = r.portfolio
        lines.append(
            f"- A portfolio of {len(PORTFOLIO)} tasks from 4 issuers on the national hierarchy (120 periods, "
            f"construction and tables included): {p['seconds']:.2f} s against {p['one_task_seconds']:.2f} s for the "
            f"one-task model timed beside it ({p['seconds'] / p['one_task_seconds']:.1f}×); peak "
            f"{p['bytes_per_official']:,.0f} B per official (department offices included in the memory)"
        )
        lines.append(
            f"- The one-task model with every switch of ODD sections 12-14 on (officials who differ, completion-rate "
            f"reports, chosen inflation with report audits, audits of past periods, a tournament markup, middle "
            f"levels that decide and are inspected, shielding, level-skipping inspections, monthly periods), "
            f"national, 120 periods: {p['second_edition_seconds']:.2f} s "
            f"({p['second_edition_seconds'] / p['one_task_seconds']:.2f}× the one-task model timed beside it)"
        )
    if r.village:
        lines.append(
            f"- Village level ({r.village['officials']:,.0f} officials, 120 periods, construction included): "
            f"{r.village['seconds']:.1f} s, peak resident memory {r.village['megabytes']:,.0f} MB"
        )
    rows = [
        (f"vectorised ≥ {t['ratio']:.0f}× the agent engine at national scale", f"{ratio:,.0f}×", ratio >= t["ratio"]),
        (
            f"national replication ≤ {t['replication_seconds']:.0f} s",
            f"{r.replication_seconds:.2f} s",
            r.replication_seconds <= t["replication_seconds"],
        ),
        (
            f"within {t['ceiling_ratio']:.0f}× of the numpy streaming ceiling",
            f"{ceiling_ratio:,.0f}×",
            ceiling_ratio <= t["ceiling_ratio"],
        ),
        ("≤ 1 KB per official", f"{r.bytes_per_official:,.0f} B peak", r.bytes_per_official <= t["bytes_per_official"]),
    ]
    if r.portfolio:
        p = r.portfolio
        rows.append(
            (
                f"portfolio of 8 tasks, national replication ≤ {t['portfolio_seconds']:.0f} s",
                f"{p['seconds']:.2f} s ({p['seconds'] / p['one_task_seconds']:.1f}× one task)",
                p["seconds"] <= t["portfolio_seconds"],
            )
        )
        rows.append(
            (
                "portfolio ≤ 2 KB per official",
                f"{p['bytes_per_official']:,.0f} B peak",
                p["bytes_per_official"] <= t["portfolio_bytes_per_official"],
            )
        )
        rows.append(
            (
                f"every switch of ODD sections 12-14 on, national replication ≤ {t['second_edition_seconds']:.0f} s",
                f"{p['second_edition_seconds']:.2f} s",
                p["second_edition_seconds"] <= t["second_edition_seconds"],
            )
        )
    if r.experiment:
        overhead = r.experiment["total_seconds"] / r.experiment["model_seconds"] - 1
        rows.append(("experiment layer overhead < 10% (200-run comparison)", f"{overhead:.1%}", overhead < 0.10))
    if r.village:
        rows.append(
            (
                "village level < 1 min and < 2 GB",
                f"{r.village['seconds']:.1f} s, {r.village['megabytes']:,.0f} MB",
                r.village["seconds"] < t["village_seconds"] and r.village["megabytes"] < t["village_megabytes"],
            )
        )
    lines += ["", "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {label} | {measured} | {verdict(ok)} |" for label, measured, ok in rows]
    return "\n".join(lines) + "\n"
