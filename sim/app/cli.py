"""The ``bureausim`` command line: run, compare, explore, judge robustness, report.

User mistakes (a bad scenario, an unknown ``--set`` path, an output folder that cannot be
written) end with a one-paragraph message on standard error and exit status 2, with no
traceback and nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import annotated_types
import matplotlib
import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim import __version__
from sim.analysis.statistics import summarise
from sim.errors import RunsFailed, ScenarioError, UserError
from sim.model.hierarchy import build_layout
from sim.model.run import replication_seeds, run_replications
from sim.scenario.loader import load_scenario
from sim.scenario.parameters import parameter_paths
from sim.scenario.policies import REGISTRY
from sim.scenario.schema import Scenario
from sim.storage.locks import output_lock
from sim.storage.output_checks import check_output_file, check_run_folder
from sim.storage.results_folder import default_output, write_results

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one sub-command per verb."""
    parser = argparse.ArgumentParser(
        prog="bureausim",
        description="Agent-based simulator of bureaucratic implementation chains.",
    )
    parser.add_argument("--version", action="version", version=f"bureausim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write its results folder")
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--arm", help="run one of the scenario's arms (default: the scenario without arms)")
    run.add_argument("--out", type=Path, help="results folder (default: results/<name>/<timestamp>/)")
    run.add_argument("--seed", type=int, help="master seed (overrides the scenario's)")
    run.add_argument("--steps", type=int, help="periods per replication")
    run.add_argument("--replications", type=int, help="number of replications")
    run.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override any scenario value, e.g. --set parameters.relay.escalation=0.2 (repeatable)",
    )
    run.add_argument("--quiet", action="store_true", help="print only the results folder")

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", type=Path, nargs="+", help="scenario YAML files")

    compare = commands.add_parser("compare", help="compare a scenario's arms over replications (paired effects)")
    compare.add_argument("scenario", type=Path, help="scenario YAML file with arms")
    _experiment_options(compare)
    compare.add_argument("--precision", type=float, help="add replications until every CI half-width is at most this")
    compare.add_argument(
        "--max-replications", type=int, help="cap on replications per arm with --precision (default 10x the scenario's)"
    )

    sweep = commands.add_parser("sweep", help="run a scenario's sweep: points over replications")
    sweep.add_argument("scenario", type=Path, help="scenario YAML file with a sweep: section")
    _experiment_options(sweep)

    sensitivity = commands.add_parser("sensitivity", help="Morris or Sobol sensitivity over the uncertainties")
    sensitivity.add_argument("scenario", type=Path, help="scenario YAML file with uncertainties:")
    sensitivity.add_argument("--method", choices=["morris", "sobol"], default="morris", help="default: morris")
    sensitivity.add_argument("--samples", type=int, default=16, help="Morris trajectories or Sobol base samples")
    _experiment_options(sensitivity)

    robust = commands.add_parser("robustness", help="every arm in many uncertain futures: regret, satisficing")
    robust.add_argument("scenario", type=Path, help="scenario YAML file with arms: and uncertainties:")
    robust.add_argument("--futures", type=int, help="futures to draw (default: the scenario's robustness.futures)")
    robust.add_argument(
        "--discover",
        action="append",
        default=[],
        metavar="'ARM: CONDITION'",
        help="scenario discovery question, e.g. 'fault_tolerance: goal_attainment <= status_quo' (repeatable)",
    )
    _experiment_options(robust)

    report = commands.add_parser("report", help="one self-contained HTML page of a results folder")
    report.add_argument("folder", type=Path, help="folder written by run, compare, sweep, sensitivity or robustness")
    report.add_argument("--out", type=Path, help="HTML file to write (default: FOLDER/report.html)")

    validation = commands.add_parser("validation", help="regenerate the validation report (docs/VALIDATION.md)")
    validation.add_argument("--out", type=Path, default=Path("docs/VALIDATION.md"), help="Markdown report to write")
    validation.add_argument("--scenarios", type=Path, default=Path("scenarios"), help="folder of the scenarios")
    validation.add_argument("--quick", action="store_true", help="a few replications only: checks the machinery")

    viz = commands.add_parser("viz", help="serve the interactive page on localhost (extra: viz)")
    viz.add_argument("scenario", type=Path, nargs="?", help="scenario YAML file (default: the one-province default)")
    viz.add_argument("--port", type=int, default=8765, help="port on localhost (default 8765)")
    viz.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")

    commands.add_parser("describe", help="list every parameter and policy")

    bench = commands.add_parser("bench", help="measure the engines' speed and memory on this machine")
    bench.add_argument("--out", type=Path, default=Path("benchmarks/results.md"), help="Markdown report to write")
    bench.add_argument("--repeats", type=int, default=5, help="repetitions per figure (median)")
    bench.add_argument("--no-villages", action="store_true", help="skip the village-level run (about a minute)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``bureausim`` and ``python -m sim``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    matplotlib.use("Agg")  # figures go to files; no display is needed or wanted
    args.argv = argv
    console = Console(stderr=True)
    try:
        if args.command == "run":
            return _run(args, console)
        if args.command == "validate":
            return _validate(args.scenarios)
        if args.command == "compare":
            return _compare(args, console)
        if args.command in ("sweep", "sensitivity"):
            return _explore(args, console)
        if args.command == "robustness":
            return _robustness(args, console)
        if args.command == "report":
            return _report(args)
        if args.command == "viz":
            return _viz(args)
        if args.command == "validation":
            return _validation(args, console)
        if args.command == "bench":
            return _bench(args, console)
        return _describe()
    except UserError as error:
        print(f"bureausim: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RunsFailed as error:
        print(f"bureausim: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "bureausim: interrupted. A run writes its results folder only at the end, so nothing was written; "
            "compare, sweep, sensitivity and robustness keep the runs that finished: the same command resumes them",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:  # output piped into a reader that stopped early, e.g. `| head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(args: argparse.Namespace, console: Console) -> int:
    scenario = load_scenario(args.scenario)
    assignments = list(args.assignments)
    for option in ("seed", "steps", "replications"):
        if getattr(args, option) is not None:
            assignments.append(f"{option}={getattr(args, option)}")
    if assignments:
        scenario = scenario.with_overrides(assignments)
    check_hierarchy_source(scenario)
    if args.arm is not None:
        scenario.resolved_parameters(args.arm)  # an unknown arm is a user mistake, reported now
    out = args.out or default_output(scenario)
    check_run_folder(out)
    with output_lock(out):
        check_run_folder(out)  # again, now that no other command can be writing there
        return _run_locked(args, scenario, out, console)


def _run_locked(args: argparse.Namespace, scenario: Scenario, out: Path, console: Console) -> int:
    start = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{scenario.name}: replications", total=scenario.replications)
        tables = run_replications(scenario, arm=args.arm, progress=lambda done: progress.update(task, completed=done))
    wall = time.perf_counter() - start
    seeds = replication_seeds(scenario.seed, scenario.replications)
    out = write_results(out, scenario, tables, seeds=seeds, wall_time=wall, command=["bureausim", *args.argv])
    if not args.quiet:
        _print_summary(scenario, tables.steps, console)
    print(out)
    return 0


def check_hierarchy_source(scenario: Scenario) -> None:
    """Read and check a scenario's hierarchy (graph file or counts) without running it."""
    base_dir = Path(scenario.source).parent if scenario.source else None
    build_layout(scenario.hierarchy, np.random.default_rng(scenario.seed), base_dir)


def _print_summary(scenario: Scenario, steps: Any, console: Console) -> None:
    names = [o.name for o in scenario.outcomes if o.name in steps.columns]
    summary = summarise(steps, names)
    final = summary[summary["statistic"] == "final"]
    table = Table(title=f"{scenario.name}: last period, {scenario.replications} replications")
    for column in ("outcome", "mean", "95% CI"):
        table.add_column(column, justify="left" if column == "outcome" else "right")
    for row in final.itertuples():
        interval = "—" if row.replications < 2 else f"[{row.ci_low:.3f}, {row.ci_high:.3f}]"
        table.add_row(row.output, f"{row.mean:.3f}", interval)
    console.print(table)


def _validate(paths: list[Path]) -> int:
    failures = 0
    for path in paths:
        try:
            check_hierarchy_source(load_scenario(path))
        except ScenarioError as error:
            print(f"bureausim: error: {error}", file=sys.stderr)
            failures += 1
        else:
            print(f"{path}: ok")
    return EXIT_USAGE if failures else 0


def _experiment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="results folder; an existing one of the same experiment is resumed")
    parser.add_argument("--workers", type=int, help="local processes (default: all cores; 1 runs in-process)")
    parser.add_argument("--scheduler", help="Dask scheduler address, or 'local' to start a LocalCluster")
    parser.add_argument("--retry-failed", action="store_true", help="run only the runs that failed before")
    parser.add_argument(
        "--set", dest="assignments", action="append", default=[], metavar="PATH=VALUE", help="override a scenario value"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the results folder")


def _experiment_scenario(args: argparse.Namespace) -> Scenario:
    """The scenario of an experiment command, with its ``--set`` overrides, checked before anything runs."""
    scenario = load_scenario(args.scenario)
    if args.assignments:
        scenario = scenario.with_overrides(args.assignments)
    check_hierarchy_source(scenario)
    return scenario


def _execution(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments every experiment function takes from the shared options."""
    return {
        "out": args.out,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "retry_failed": args.retry_failed,
        "progress": not args.quiet,
        "command": ["bureausim", *args.argv],
    }


def _compare(args: argparse.Namespace, console: Console) -> int:
    from sim.experiments.compare import compare

    result = compare(
        _experiment_scenario(args),
        precision=args.precision,
        max_replications=args.max_replications,
        **_execution(args),
    )
    if not args.quiet:
        _print_effects(result, console)
    print(result.folder)
    if result.failures:
        print(
            f"bureausim: {len(result.failures)} run(s) failed (see failures.jsonl); "
            "re-run with --retry-failed to run only those",
            file=sys.stderr,
        )
        return 1
    return 0


def _explore(args: argparse.Namespace, console: Console) -> int:
    """``sweep`` and ``sensitivity``: run, print the summary table, report failures."""
    scenario = _experiment_scenario(args)
    options = _execution(args)
    if args.command == "sweep":
        from sim.experiments.sweep import sweep

        result = sweep(scenario, **options)
        table = result.table.merge(result.points, on="point")
    else:
        from sim.experiments.sensitivity import sensitivity

        result = sensitivity(scenario, method=args.method, samples=args.samples, **options)
        table = result.indices
    if not args.quiet:
        text = table.to_string(index=False, float_format=lambda v: f"{v:.4f}")
        Console(file=console.file, width=max(console.width, 150)).print(text)
    print(result.folder)
    if result.failures:
        print(
            f"bureausim: {len(result.failures)} run(s) failed (see failures.jsonl); re-run with --retry-failed",
            file=sys.stderr,
        )
        return 1
    return 0


def _robustness(args: argparse.Namespace, console: Console) -> int:
    from sim.experiments.robustness import robustness

    scenario = _experiment_scenario(args)
    for assignment in args.assignments:
        path = assignment.partition("=")[0].removeprefix("parameters.")
        if path in scenario.uncertainties:
            raise ScenarioError(
                f"{path} is uncertain in this scenario, so every future replaces its value; "
                "change its range under uncertainties: instead",
                source="--set",
                field=assignment.partition("=")[0],
            )
    result = robustness(scenario, futures=args.futures, discover=args.discover, **_execution(args))
    if not args.quiet:
        _print_robustness(result, console)
    print(result.folder)
    return 0


def _print_robustness(result: Any, console: Console) -> None:
    """Per arm, for the first outcome: mean, maximum and 90th-percentile regret, satisficing; with ranks."""
    scenario = result.scenario
    first = scenario.outcomes[0].name
    criteria = {
        f"mean {first}": "mean",
        f"max regret {first}": "max regret",
        f"p90 regret {first}": "p90 regret",
        "satisficing (all thresholds)": "satisficing",
    }
    ranks = result.rankings.set_index(["criterion", "arm"])
    table = Table(
        title=f"{scenario.name}: {first} over {len(result.futures)} futures, "
        f"{scenario.replications} replications per arm and future (rank in brackets)"
    )
    table.add_column("arm")
    shown = [c for c in criteria if c in ranks.index.get_level_values("criterion")]
    for criterion in shown:
        table.add_column(criteria[criterion], justify="right")
    for arm in scenario.arms:
        cells = [f"{ranks.at[(c, arm.name), 'value']:.3f} ({ranks.at[(c, arm.name), 'rank']})" for c in shown]
        table.add_row(arm.name, *cells)
    wide = Console(file=console.file, width=max(console.width, 120))
    wide.print(table)
    for found in result.discoveries:
        stats = found.stats
        line = f"discovery, {stats['condition']}: holds in {stats['cases']} of {stats['futures']} futures"
        if found.chosen is not None:
            line += f"; box coverage {stats['coverage']:.2f}, density {stats['density']:.2f}: {stats['restricted']}"
        wide.print(line + (f" ({found.note})" if found.note else ""))


def _report(args: argparse.Namespace) -> int:
    from sim.app.report import write_report

    out = args.out or args.folder / "report.html"
    check_output_file(out)
    print(write_report(args.folder, out))
    return 0


def _print_effects(result: Any, console: Console) -> None:
    effects = result.effects
    table = Table(title=f"{result.scenario.name}: against {result.scenario.reference_arm} (paired, 95% CI)")
    for column in ("arm", "outcome", "mean [95% CI]", "difference [95% CI]", "effect", "verdict"):
        table.add_column(column)
    for row in effects.itertuples():
        if row.verdict == "reference":
            difference = effect = ""
        else:
            difference = f"{row.difference:+.3f} [{row.difference_low:+.3f}, {row.difference_high:+.3f}]"
            effect = f"{row.effect_size:+.2f}"
        table.add_row(
            row.arm,
            row.outcome,
            f"{row.mean:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}]",
            difference,
            effect,
            row.verdict,
        )
    Console(file=console.file, width=max(console.width, 150)).print(table)
    if result.stop_reason:
        console.print(result.stop_reason)


def _viz(args: argparse.Namespace) -> int:
    import importlib.util
    import subprocess

    if importlib.util.find_spec("solara") is None:
        raise ScenarioError("needs the optional viz extra: pip install 'bureausim[viz]'", source="viz")
    environment = dict(os.environ)
    if args.scenario is not None:
        check_hierarchy_source(load_scenario(args.scenario))  # mistakes are reported here, not in the page
        environment["BUREAUSIM_SCENARIO"] = str(args.scenario.resolve())
    command = [sys.executable, "-m", "solara", "run", "sim.app.viz_app", "--host", args.host, "--port", str(args.port)]
    print(f"bureausim: serving http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    return subprocess.call([*command, "--production"], env=environment)


def _validation(args: argparse.Namespace, console: Console) -> int:
    from sim.checks.validation import Settings, build_report, write_markdown

    check_output_file(args.out)
    for needed in ("patterns", "validation"):
        if not (args.scenarios / needed).is_dir():
            raise ScenarioError(f"has no {needed}/ folder", source=str(args.scenarios))
    settings = Settings.quick() if args.quick else Settings()
    figures = args.out.parent / "figures"
    report = build_report(args.scenarios, figures, settings, say=lambda m: console.log(m))
    args.out.write_text(write_markdown(report, settings, figures_link="figures"), encoding="utf-8")
    print(f"written to {args.out} and {figures}/")
    return 0


def _bench(args: argparse.Namespace, console: Console) -> int:
    from sim.checks.bench import report, run_benchmarks

    if args.repeats < 1:
        raise ScenarioError("must be at least 1", source="--repeats")
    check_output_file(args.out)
    results = run_benchmarks(repeats=args.repeats, villages=not args.no_villages, say=lambda m: console.log(m))
    text = report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {args.out}")
    return 0


def _range(info: Any) -> str:
    low = high = None
    low_open = high_open = False
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Gt):
            low, low_open = item.gt, True
        elif isinstance(item, annotated_types.Le):
            high = item.le
        elif isinstance(item, annotated_types.Lt):
            high, high_open = item.lt, True
    if low is None and high is None:
        return ""
    left = f"{'(' if low_open else '['}{low if low is not None else '-inf'}"
    right = f"{high if high is not None else 'inf'}{')' if high_open else ']'}"
    return f"{left}, {right}"


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("sim.scenario.parameters.", "")


def _describe() -> int:
    print("PARAMETERS (scenario path: parameters.<group>.<name>; keyword argument: <group>_<name>)\n")
    for path, info in parameter_paths().items():
        default = info.default.name.lower() if hasattr(info.default, "name") else info.default
        print(f"  {path:40s} {_type_name(info.annotation):18s} default {default!s:8s} {_range(info)}")
        print(f"      {info.description}")
    print("\nPOLICIES (scenario: policies: [name, {name: {option: value}}])\n")
    for policy in REGISTRY.values():
        print(f"  {policy.name}")
        print(f"      {policy.description}")
        print(f"      changes: {policy.changes}")
        for option, info in policy.options.model_fields.items():
            print(f"      option {option} = {info.default} {_range(info)}: {info.description}")
    return 0
