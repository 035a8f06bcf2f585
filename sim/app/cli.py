"""The ``bureausim`` command line: run, compare, explore, judge robustness, report.

User mistakes (a bad scenario, an unknown ``--set`` path, an output folder that cannot be
written) end with a one-paragraph message on standard error and exit status 2, with no
traceback and nothing written.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.errors import RunsFailed, ScenarioError, UserError

if TYPE_CHECKING:
    from rich.console import Console

    from sim.experiments.template import ExperimentOptions

EXIT_USAGE = 2
RETRY_HINTS = {"compare": "re-run with --retry-failed to run only those"}
"""What the message about failed runs advises, by command (default: re-run with --retry-failed)."""


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
    _figure_options(run)
    run.add_argument(
        "--allow-absolute-paths",
        action="store_true",
        help="read a graph file the scenario names by an absolute path (by default only paths relative to it)",
    )

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("scenarios", type=Path, nargs="+", help="scenario YAML files")
    validate.add_argument(
        "--allow-absolute-paths",
        action="store_true",
        help="read a graph file the scenario names by an absolute path (by default only paths relative to it)",
    )

    compare = commands.add_parser("compare", help="compare a scenario's arms over replications (paired effects)")
    compare.add_argument("scenario", type=Path, help="scenario YAML file with arms")
    _experiment_options(compare)
    compare.add_argument("--precision", type=float, help="add replications until every CI half-width is at most this")
    compare.add_argument(
        "--max-replications", type=int, help="cap on replications per arm with --precision (default 10x the scenario's)"
    )
    compare.add_argument(
        "--adjust",
        choices=["holm", "bh"],
        help="adjust p-values over every arm x outcome (Holm, or Benjamini-Hochberg); verdicts follow them",
    )
    compare.add_argument(
        "--min-effect",
        type=float,
        help="smallest difference of interest, for outcomes without their own min_effect: a CI inside it is negligible",
    )
    compare.add_argument(
        "--posterior",
        type=Path,
        metavar="FOLDER",
        help="a calibration's folder: run every arm at its posterior draws, so effects carry parameter uncertainty",
    )
    compare.add_argument("--draws", type=int, help="posterior draws with --posterior (default: the calibration's)")

    sweep = commands.add_parser("sweep", help="run a scenario's sweep: points over replications")
    sweep.add_argument("scenario", type=Path, help="scenario YAML file with a sweep: section")
    _experiment_options(sweep)

    explain = commands.add_parser(
        "explain", help="where the goal is lost: the shortfall split by mechanism and by level (Shapley values)"
    )
    explain.add_argument(
        "scenario", type=Path, help="scenario YAML file (with arms: each arm, and each reform's effect)"
    )
    explain.add_argument(
        "--permutations",
        type=int,
        help="orders of the mechanisms per replication, an even number (default 8; not with --exact)",
    )
    explain.add_argument(
        "--exact", action="store_true", help="every coalition of the mechanisms (2^M runs per replication)"
    )
    _experiment_options(explain)

    sensitivity = commands.add_parser("sensitivity", help="Morris or Sobol sensitivity over the uncertainties")
    sensitivity.add_argument("scenario", type=Path, help="scenario YAML file with uncertainties:")
    sensitivity.add_argument("--method", choices=["morris", "sobol"], default="morris", help="default: morris")
    sensitivity.add_argument("--samples", type=int, default=16, help="Morris trajectories or Sobol base samples")
    _experiment_options(sensitivity)

    calibrate = commands.add_parser(
        "calibrate", help="fit a scenario's calibration: parameters to its targets: screening, waves, ABC-SMC"
    )
    calibrate.add_argument("scenario", type=Path, help="scenario YAML file with targets: and calibration:")
    calibrate.add_argument(
        "--out", type=Path, help="results folder; an existing one of the same calibration is resumed"
    )
    calibrate.add_argument("--workers", type=int, help="local processes (default: all cores; 1 runs in-process)")
    calibrate.add_argument("--scheduler", help="Dask scheduler address, or 'local' to start a LocalCluster")
    calibrate.add_argument(
        "--patterns",
        type=Path,
        help="folder of the pattern scenarios (default: patterns/ beside the scenario's folder)",
    )
    calibrate.add_argument(
        "--allow-other-code",
        action="store_true",
        help="resume a folder started under other code (another version or an edited model); recorded in the manifest",
    )
    calibrate.add_argument(
        "--set", dest="assignments", action="append", default=[], metavar="PATH=VALUE", help="override a scenario value"
    )
    calibrate.add_argument("--quiet", action="store_true", help="print only the results folder")
    _figure_options(calibrate)
    calibrate.add_argument(
        "--allow-absolute-paths",
        action="store_true",
        help="read a graph file the scenario names by an absolute path (by default only paths relative to it)",
    )

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
    report.add_argument("folder", type=Path, help="folder written by run, an experiment or calibrate")
    report.add_argument("--out", type=Path, help="HTML file to write (default: FOLDER/report.html)")

    plot = commands.add_parser(
        "plot", help="draw a finished results folder's figures again (another format, size or language); runs nothing"
    )
    plot.add_argument("folder", type=Path, help="folder written by run, an experiment or calibrate")
    _figure_options(plot)
    plot.add_argument("--quiet", action="store_true", help="print only the results folder")

    validation = commands.add_parser("validation", help="regenerate the validation report (docs/VALIDATION.md)")
    validation.add_argument("--out", type=Path, default=Path("docs/VALIDATION.md"), help="Markdown report to write")
    validation.add_argument("--scenarios", type=Path, default=Path("scenarios"), help="folder of the scenarios")
    validation.add_argument("--quick", action="store_true", help="a few replications only: checks the machinery")

    viz = commands.add_parser("viz", help="serve the interactive page on localhost (extra: viz)")
    viz.add_argument("scenario", type=Path, nargs="?", help="scenario YAML file (default: the one-province default)")
    viz.add_argument("--port", type=int, default=8765, help="port on localhost (default 8765)")
    viz.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    viz.add_argument(
        "--allow-absolute-paths",
        action="store_true",
        help="read a graph file the scenario names by an absolute path (by default only paths relative to it)",
    )

    commands.add_parser("describe", help="list every parameter and policy")

    bench = commands.add_parser("bench", help="measure the engines' speed and memory on this machine")
    bench.add_argument("--out", type=Path, default=Path("benchmarks/results.md"), help="Markdown report to write")
    bench.add_argument("--repeats", type=int, default=5, help="repetitions per figure (median)")
    bench.add_argument("--no-villages", action="store_true", help="skip the village-level run (about a minute)")
    return parser


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the command is, so that it stops as cleanly as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``bureausim`` and ``python -m sim``; returns the exit status.

    SIGTERM and SIGHUP stop a command as Ctrl-C does (finished runs kept, the same command
    resumes), with the conventional status 128 + the signal's number (143, 129; 130 for Ctrl-C).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    in_main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    stops = (signal.SIGTERM, signal.SIGHUP) if in_main_thread else ()
    previous = {number: signal.signal(number, _stop) for number in stops}
    formatting, warnings.formatwarning = warnings.formatwarning, _warning_line  # the command's own, while it runs
    try:
        return _dispatch(args)
    finally:
        warnings.formatwarning = formatting
        for number, handler in previous.items():
            signal.signal(number, handler)


def _warning_line(message, category, filename, lineno, line=None) -> str:
    """Figure warnings as the command line says them (one line, no source); any other as Python does."""
    from sim.analysis.style import FigureWarning

    if issubclass(category, FigureWarning):
        return f"bureausim: warning: {message}\n"
    return _PYTHON_WARNING_FORMAT(message, category, filename, lineno, line)


_PYTHON_WARNING_FORMAT = warnings.formatwarning


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command ``args`` names; turn user mistakes and interruptions into a message and a status."""
    try:
        with _figure_style(args):
            return _command(args)
    except UserError as error:
        print(f"bureausim: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RunsFailed as error:
        print(f"bureausim: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interruption:
        number = getattr(interruption, "signum", signal.SIGINT)
        print(
            f"bureausim: interrupted ({signal.Signals(number).name}). A run writes its results folder only at the "
            "end, so nothing was written; compare, sweep, sensitivity and robustness keep the runs that finished: "
            "the same command resumes them",
            file=sys.stderr,
        )
        return 128 + number
    except BrokenPipeError:  # output piped into a reader that stopped early, e.g. `| head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a genuine I/O fault (a full disk, a failing device): said, not a traceback
        where = f"{error.filename}: " if error.filename else ""
        print(
            f"bureausim: error: {where}{error.strerror or error}; nothing was left half-written (every file is "
            "written whole or not at all): run the same command again once this is put right",
            file=sys.stderr,
        )
        return 1


def _command(args: argparse.Namespace) -> int:
    """Run the command ``args`` names."""
    if args.command == "run":
        return _run(args)
    if args.command == "validate":
        return _validate(args.scenarios, args.allow_absolute_paths)
    if args.command in ("compare", "sweep", "sensitivity", "robustness", "explain"):
        return _experiment(args)
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "report":
        return _report(args)
    if args.command == "plot":
        return _plot(args)
    if args.command == "viz":
        return _viz(args)
    if args.command == "validation":
        return _validation(args)
    if args.command == "bench":
        return _bench(args)
    return _describe()


def _figure_style(args: argparse.Namespace):
    """The figure style the command's ``--format``, ``--size`` and ``--language`` ask for (else the default)."""
    from sim.analysis import style

    formats = getattr(args, "format", None)
    size = getattr(args, "size", None)
    return style.using(
        formats=style.parse_formats(formats) if formats is not None else ("png",),
        size=style.parse_size(size) if size is not None else None,
        language=getattr(args, "language", None) or "en",
    )


def _figure_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", help="figure formats, comma-separated: png, pdf, svg (default png), e.g. --format pdf,png"
    )
    parser.add_argument("--size", help="figure size in inches, width x height (default: each figure's own), e.g. 7x4")
    parser.add_argument("--language", choices=["en", "zh"], help="language of the figures' labels (default en)")


def _stderr_console() -> Console:
    """A console on standard error, for progress and log lines."""
    from rich.console import Console

    return Console(stderr=True)


def _figures_to_files() -> None:
    """Draw figures for files only: no display is needed or wanted."""
    import matplotlib

    matplotlib.use("Agg")


def _run(args: argparse.Namespace) -> int:

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sim.app.console import print_summary
    from sim.experiments.replications import prepared, run_prepared
    from sim.storage.output_checks import check_run_folder
    from sim.storage.results_folder import default_output

    _figures_to_files()
    scenario = prepared(
        args.scenario,
        arm=args.arm,
        seed=args.seed,
        steps=args.steps,
        replications=args.replications,
        overrides=args.assignments,
        allow_absolute_paths=args.allow_absolute_paths,
    )
    out = args.out or default_output(scenario)
    check_run_folder(out)  # before the progress bar: a refusal is one paragraph
    console = _stderr_console()
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
        result = run_prepared(
            scenario,
            arm=args.arm,
            out=out,
            progress=lambda done: progress.update(task, completed=done),
            command=["bureausim", *args.argv],
        )
    if not args.quiet:
        print_summary(scenario, result.summary, console)
    print(result.folder)
    return 0


def _validate(paths: list[Path], allow_absolute_paths: bool) -> int:
    from sim.experiments.kinds import check_every_command
    from sim.scenario.loader import load_scenario

    failures = 0
    for path in paths:
        try:
            checked = check_every_command(load_scenario(path, allow_absolute_paths=allow_absolute_paths))
        except ScenarioError as error:
            print(f"bureausim: error: {error}", file=sys.stderr)
            failures += 1
        else:
            print(f"{path}: ok" + (f" (run, {', '.join(checked)})" if checked else " (run)"))
    return EXIT_USAGE if failures else 0


def _experiment_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="results folder; an existing one of the same experiment is resumed")
    parser.add_argument("--workers", type=int, help="local processes (default: all cores; 1 runs in-process)")
    parser.add_argument("--scheduler", help="Dask scheduler address, or 'local' to start a LocalCluster")
    parser.add_argument("--retry-failed", action="store_true", help="run only the runs that failed before")
    parser.add_argument(
        "--allow-other-code",
        action="store_true",
        help="resume a folder started under other code (another version or an edited model); recorded in the manifest",
    )
    parser.add_argument(
        "--set", dest="assignments", action="append", default=[], metavar="PATH=VALUE", help="override a scenario value"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the results folder")
    _figure_options(parser)
    parser.add_argument("--steps", type=int, help="periods per replication (overrides the scenario's)")
    parser.add_argument("--replications", type=int, help="replications (overrides the scenario's)")
    parser.add_argument(
        "--dry-run", action="store_true", help="check everything, say how many runs and about how long; run nothing"
    )
    parser.add_argument(
        "--allow-absolute-paths",
        action="store_true",
        help="read a graph file the scenario names by an absolute path (by default only paths relative to it)",
    )


def _options(args: argparse.Namespace) -> ExperimentOptions:
    """The options every experiment command shares, with its ``--set`` overrides, checked before anything runs."""
    from sim.experiments.template import ExperimentOptions

    return ExperimentOptions(
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        retry_failed=args.retry_failed,
        allow_other_code=args.allow_other_code,
        allow_absolute_paths=args.allow_absolute_paths,
        overrides=(
            *args.assignments,
            *(
                f"{option}={getattr(args, option)}"
                for option in ("steps", "replications")
                if getattr(args, option) is not None
            ),
        ),
        progress=not args.quiet,
        command=("bureausim", *args.argv),
    )


def _experiment(args: argparse.Namespace) -> int:
    """``compare``, ``sweep``, ``sensitivity`` and ``robustness``: run, print the summary, report failures.

    The kind's own options (``--precision``, ``--method``, ``--futures``, ...) are the command's
    options of the same names.
    """
    import dataclasses

    from sim.app.console import print_result
    from sim.experiments.kinds import KINDS
    from sim.experiments.template import run_experiment

    _figures_to_files()
    console = _stderr_console()
    kind_type = KINDS[args.command]
    kind = kind_type(**{option.name: getattr(args, option.name) for option in dataclasses.fields(kind_type)})
    if args.dry_run:
        from sim.experiments.template import dry_run

        print(f"bureausim {args.command}: {dry_run(kind, args.scenario, _options(args)).describe()}")
        return 0
    result = run_experiment(kind, args.scenario, _options(args))
    if not args.quiet:
        print_result(args.command, result, console)
    print(result.folder)
    if result.failures:
        hint = RETRY_HINTS.get(args.command, "re-run with --retry-failed")
        print(f"bureausim: {len(result.failures)} run(s) failed (see failures.jsonl); {hint}", file=sys.stderr)
        return 1
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    """``calibrate``: screening, history matching, ABC-SMC; print what was found and where it was written."""
    from sim.checks.calibration import run_calibration

    _figures_to_files()
    result = run_calibration(
        args.scenario,
        patterns_folder=args.patterns,
        out=args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        allow_other_code=args.allow_other_code,
        allow_absolute_paths=args.allow_absolute_paths,
        overrides=args.assignments,
        progress=not args.quiet,
        command=("bureausim", *args.argv),
    )
    if not args.quiet:
        from sim.app.console import print_calibration

        print_calibration(result, _stderr_console())
    print(result.folder)
    return 0


def _report(args: argparse.Namespace) -> int:
    from sim.app.report import write_report
    from sim.storage.output_checks import check_output_file

    out = args.out or args.folder / "report.html"
    check_output_file(out)
    print(write_report(args.folder, out))
    return 0


def _plot(args: argparse.Namespace) -> int:
    """``plot``: the figures drawn again, in the style ``--format``, ``--size`` and ``--language`` set."""
    from sim.experiments.redraw import redraw

    written = redraw(args.folder)
    if not args.quiet:
        for path in written:
            print(path)
    print(args.folder)
    return 0


def _viz(args: argparse.Namespace) -> int:
    import importlib.util
    import subprocess

    from sim.experiments.scenario_checks import check_runs
    from sim.scenario.loader import load_scenario

    if importlib.util.find_spec("solara") is None:
        raise ScenarioError("needs the optional viz extra: pip install 'bureausim[viz]'", source="viz")
    environment = dict(os.environ)
    if args.scenario is not None:
        check_runs(load_scenario(args.scenario, allow_absolute_paths=args.allow_absolute_paths))  # not in the page
        environment["BUREAUSIM_SCENARIO"] = str(args.scenario.resolve())
        environment["BUREAUSIM_ALLOW_ABSOLUTE_PATHS"] = "1" if args.allow_absolute_paths else ""
    command = [sys.executable, "-m", "solara", "run", "sim.app.viz_app", "--host", args.host, "--port", str(args.port)]
    print(f"bureausim: serving http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    return subprocess.call([*command, "--production"], env=environment)


def _validation(args: argparse.Namespace) -> int:
    from sim.atomic import write_text
    from sim.checks.validation import Settings, build_report, write_markdown
    from sim.storage.output_checks import check_output_file

    _figures_to_files()
    console = _stderr_console()

    check_output_file(args.out)
    for needed in ("patterns", "validation"):
        if not (args.scenarios / needed).is_dir():
            raise ScenarioError(f"has no {needed}/ folder", source=str(args.scenarios))
    settings = Settings.quick() if args.quick else Settings()
    figures = args.out.parent / "figures"
    report = build_report(args.scenarios, figures, settings, say=lambda m: console.log(m))
    write_text(args.out, write_markdown(report, settings, figures_link="figures"))
    print(f"written to {args.out} and {figures}/")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from sim.atomic import write_text
    from sim.checks.bench import report, run_benchmarks
    from sim.storage.output_checks import check_output_file

    _figures_to_files()
    console = _stderr_console()

    if args.repeats < 1:
        raise ScenarioError("must be at least 1", source="--repeats")
    check_output_file(args.out)
    results = run_benchmarks(repeats=args.repeats, villages=not args.no_villages, say=lambda m: console.log(m))
    text = report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.out, text)
    print(text)
    print(f"written to {args.out}")
    return 0


def _range(info: Any) -> str:
    import annotated_types

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
    """A field's type in words: ``float``, ``float | None``, ``list[float] | None``, ``sum | rate``."""
    import types
    import typing

    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(str(value) for value in arguments)
    if origin is typing.Annotated:
        return _type_name(arguments[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(argument) for argument in arguments)
    if origin is list:
        return f"list[{_type_name(arguments[0])}]"
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("sim.scenario.parameters.", "").replace("NoneType", "None")


def _describe() -> int:
    from sim.scenario.output_names import (
        CHOSEN_INFLATION,
        DIRECTIONS,
        FEEDBACK_OUTPUTS,
        LEVEL_GAP_PREFIX,
        MIDDLE_OUTPUTS,
        SHIELD_SHARE,
        TYPE_OUTPUTS,
        direction_note,
        optional_output_switch,
    )
    from sim.scenario.parameters import parameter_paths
    from sim.scenario.policies import REGISTRY
    from sim.scenario.schema import Scenario
    from sim.scenario.tasks import TaskSpec

    defaults = Scenario.model_fields
    print("SCENARIO DEFAULTS (a scenario file that leaves them out gets these)\n")
    for name in ("seed", "steps", "replications", "engine"):
        print(f"  {name:40s} {defaults[name].default!s:27s} {defaults[name].description}")
    print(f"  {'burn_in':40s} {'a third of steps':27s} periods left out of each run's outcome values")
    print("\n  outcomes (a run's value of each: its mean over the periods after the burn-in)")
    for name, direction in DIRECTIONS.items():
        print(f"      {name:36s} {direction:27s} {direction_note(direction)}")
    print("\n  outputs that exist only with a switch on (ODD sections 12-15)")
    switched = (TYPE_OUTPUTS, (f"{LEVEL_GAP_PREFIX}<level>",), (CHOSEN_INFLATION,), MIDDLE_OUTPUTS, (SHIELD_SHARE,))
    for names in (*switched, FEEDBACK_OUTPUTS):
        print(f"      {', '.join(names)}")
        print(f"          with {optional_output_switch(names[0])}")
    print("\nPARAMETERS (scenario path: parameters.<group>.<name>; keyword argument: <group>_<name>)\n")
    for path, info in parameter_paths().items():
        default = info.default.name.lower() if hasattr(info.default, "name") else info.default
        print(f"  {path:40s} {_type_name(info.annotation):18s} default {default!s:8s} {_range(info)}")
        print(f"      {info.description}")
    print("\nTASKS (scenario: tasks: [{name: ..., issuer: ...}, ...]; path: tasks.<task>.<field>; ODD section 11)\n")
    for name, info in TaskSpec.model_fields.items():
        default = "required" if info.is_required() else info.default
        print(f"  {name:40s} {_type_name(info.annotation):18s} default {default!s:8s} {_range(info)}")
        print(f"      {info.description}")
    print("\nPOLICIES (scenario: policies: [name, {name: {option: value}}])\n")
    for policy in REGISTRY.values():
        print(f"  {policy.name}")
        print(f"      {policy.description}")
        print(f"      changes: {policy.changes}")
        for option, info in policy.options.model_fields.items():
            print(f"      option {option} = {info.default} {_range(info)}: {info.description}")
    return 0
