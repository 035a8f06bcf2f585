"""The experiment template: one frame that every kind of experiment (compare, sweep, ...) runs in.

:func:`run_experiment` owns what every experiment does the same way: it loads the scenario
(given as a path) and applies the ``--set`` overrides, asks the kind for its design, opens the
results folder (refusing one it cannot use, resuming one of the same experiment), runs the
runs not yet finished and stores each as it arrives, hands the finished runs to the kind's
analysis, lets the kind write its tables and plots, and writes ``manifest.json``. A kind
(an :class:`ExperimentKind`) supplies only what is its own: the design, the analysis, the
writing, drawing its figures, and reading a finished folder back. Its analysis may ask for another round with more
replications (:class:`AnotherRound`), as ``compare --precision`` does.

Results are written by this process, one run at a time, as they arrive; every run's seed is
fixed by its spec, so the numbers do not depend on the executor or on the order runs finish.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypedDict

import pandas as pd

from sim.atomic import write_text
from sim.errors import RunsFailed
from sim.experiments.executors import make_executor, payload_for
from sim.experiments.progress import RunProgress
from sim.experiments.scenario_checks import check_runs
from sim.model.run import replication_seeds
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario
from sim.storage.locks import output_lock
from sim.storage.output_checks import check_experiment_folder
from sim.storage.provenance import build_manifest
from sim.storage.results_folder import default_output
from sim.storage.run_store import RunSpec, RunStore


@dataclass(frozen=True)
class ExperimentOptions:
    """Where and how an experiment runs: the options every kind shares (on the command line and in Python).

    Attributes:
        out: Results folder (default ``results/<name>/<timestamp>/``); an existing folder of
            the same experiment is resumed.
        workers: Local processes (1 runs in this process; ``None`` uses every core).
        scheduler: A Dask scheduler address, or ``"local"``.
        retry_failed: Run only the runs that failed before.
        allow_other_code: Resume a folder started under other code (another version, or an
            edited model), mixing runs of both; the manifest records it.
        allow_absolute_paths: Read a graph file that a scenario file names by an absolute path.
        overrides: ``--set PATH=VALUE`` assignments applied to the scenario before anything else.
        progress: Show progress.
        command: The command line, for the manifest.
    """

    out: str | os.PathLike | None = None
    workers: int | None = 1
    scheduler: str | None = None
    retry_failed: bool = False
    allow_other_code: bool = False
    allow_absolute_paths: bool = False
    overrides: tuple[str, ...] = ()
    progress: bool = True
    command: tuple[str, ...] | None = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "command", tuple(self.command or ()))


class ExecutionKeywords(TypedDict, total=False):
    """The keyword arguments of ``sim.compare``, ``sim.sweep``, ... that become :class:`ExperimentOptions`."""

    out: str | os.PathLike | None
    workers: int | None
    scheduler: str | None
    retry_failed: bool
    allow_other_code: bool
    allow_absolute_paths: bool
    overrides: Sequence[str]
    progress: bool
    command: Sequence[str] | None


@dataclass(frozen=True, kw_only=True)
class Design(ABC):
    """What an experiment runs, and what besides its scenario identifies it.

    A kind subclasses it to keep what its analysis needs from the design (the points, the sample).

    Attributes:
        scenario: The scenario the runs use (a kind may add to the one it was given).
        replications: Replications of the first round.
        identity: What besides the scenario decides the runs (see :class:`sim.storage.run_store.RunStore`).
        conditions: Outcomes named elsewhere than ``outcomes:``, by field, checked with them.
    """

    scenario: Scenario
    replications: int
    identity: dict | None = None
    conditions: dict[str, str] | None = None
    points_field: ClassVar[str] = "sweep"
    """The scenario field the runs' point values come from, named when one is refused."""

    @abstractmethod
    def specs(self, replications: int) -> list[RunSpec]:
        """The experiment's runs with ``replications`` replications."""

    def most_runs(self) -> int:
        """The most runs the experiment may make over all its rounds (a kind with rounds says more)."""
        return len(self.specs(self.replications))

    def seeds(self, replications: int) -> list[int]:
        """The seed of every replication, the same in every arm and point (common random numbers)."""
        return replication_seeds(self.scenario.seed, replications)


def check_design(design: Design) -> None:
    """Check every run of a design's first round, and the outcomes it names, before any run.

    A later round only adds replications of the same configurations, so this covers them too.
    """
    scenario = design.scenario
    outcomes = {f"outcomes.{index}": outcome.name for index, outcome in enumerate(scenario.outcomes)}
    check_runs(
        scenario,
        design.specs(design.replications),
        wanted=outcomes | (design.conditions or {}),
        points_field=design.points_field,
    )


def draw_each_outcome(result: Any, stem: str) -> None:
    """``plots/<stem>_<outcome>.png`` for each of the scenario's outcomes, by ``result.plot(outcome, path)``."""
    plots = result.folder / "plots"
    plots.mkdir(exist_ok=True)
    for outcome in result.scenario.outcomes:
        result.plot(outcome.name, plots / f"{stem}_{outcome.name}.png")


@dataclass(frozen=True)
class AnotherRound:
    """An analysis's answer that the runs so far are not enough: run again with ``replications``."""

    replications: int


class ExperimentKind(ABC):
    """One kind of experiment: its design, its analysis, its writing; :func:`run_experiment` does the rest.

    A kind is a value holding the kind's own options (``CompareKind(precision=0.01)``); every
    option has a default, so ``KindClass()`` is a valid experiment of that kind.
    """

    name: ClassVar[str]
    """The kind's name: its command, and what its results folder records."""

    @staticmethod
    @abstractmethod
    def applies(scenario: Scenario) -> bool:
        """Whether the scenario has what this kind needs (``bureausim validate`` then checks its runs too)."""

    @abstractmethod
    def design(self, scenario: Scenario, options: ExperimentOptions) -> Design:
        """Check the scenario and options for this kind and build the design; raise a user error before any run."""

    @abstractmethod
    def analyse(self, design: Design, runs: pd.DataFrame, replications: int, experiment: Experiment) -> Any:
        """The result object from this round's finished runs (one row per run), or an :class:`AnotherRound`."""

    @abstractmethod
    def write(self, design: Design, result: Any) -> dict[str, Any]:
        """Write the result's tables and plots into its folder; return what the manifest adds for this kind."""

    @classmethod
    @abstractmethod
    def draw(cls, result: Any) -> None:
        """Draw the result's figures into its folder's ``plots/``, from the result alone.

        ``write`` calls it after the tables; ``bureausim plot`` (:mod:`sim.experiments.redraw`)
        calls it on a result read back, so it must need nothing but what :meth:`read` returns.
        """

    @classmethod
    @abstractmethod
    def read(cls, folder: Path, scenario: Scenario, manifest: dict, runs: pd.DataFrame, failures: dict) -> Any:
        """The result object of a finished folder of this kind, read back."""


def run_experiment(kind: ExperimentKind, scenario: Scenario | str | os.PathLike, options: ExperimentOptions) -> Any:
    """Run an experiment of ``kind`` on ``scenario`` (or the scenario file at that path) and return its result.

    Raises:
        UserError: for a mistake in the scenario or the options, before anything is run.
        RunsFailed: when the runs give nothing to analyse.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, allow_absolute_paths=options.allow_absolute_paths)
    if options.overrides:
        scenario = scenario.with_overrides(list(options.overrides))
    design = kind.design(scenario, options)
    with Experiment(design, kind.name, options) as experiment:
        replications, retry_failed = design.replications, options.retry_failed
        while True:
            experiment.run(design.specs(replications), retry_failed=retry_failed)
            retry_failed = False  # a later round runs the replications it adds
            answer = kind.analyse(design, experiment.values(replications), replications, experiment)
            if not isinstance(answer, AnotherRound):
                break
            replications = answer.replications
        extra = kind.write(design, answer)
        experiment.write_manifest(replications, options.command, **extra)
    return answer


@dataclass(frozen=True)
class DryRun:
    """What an experiment would do: its runs, and about how long they would take.

    Attributes:
        runs: Runs of the first round.
        most_runs: The most runs its rounds may make (more than ``runs`` with ``--precision``).
        workers: The processes it would use.
        seconds: About how long the first round would take on them (``None`` for a graph file's hierarchy).
    """

    runs: int
    most_runs: int
    workers: int
    seconds: float | None

    def describe(self) -> str:
        """One line: ``240 runs on 2 workers, about 30 seconds; nothing was run``."""
        from sim.experiments.budget import counted, duration_text

        upto = f" (up to {self.most_runs:,} with more rounds)" if self.most_runs > self.runs else ""
        cost = ""
        if self.seconds is not None:
            text = duration_text(self.seconds)
            cost = f", {text}" if text == "under a second" else f", about {text}"
        return f"{counted(self.runs, 'run')}{upto} on {counted(self.workers, 'worker')}{cost}; nothing was run"


def dry_run(kind: ExperimentKind, scenario: Scenario | str | os.PathLike, options: ExperimentOptions) -> DryRun:
    """Design and check the experiment as :func:`run_experiment` would, and say what it would run; run nothing."""
    from sim.experiments.budget import run_seconds
    from sim.experiments.executors import worker_count

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, allow_absolute_paths=options.allow_absolute_paths)
    if options.overrides:
        scenario = scenario.with_overrides(list(options.overrides))
    design = kind.design(scenario, options)
    check_design(design)
    runs = len(design.specs(design.replications))
    workers, _ = worker_count(options.workers, design.most_runs(), options.scheduler)
    per_run = run_seconds(design.scenario)
    seconds = None if per_run is None else per_run * runs / workers
    return DryRun(runs=runs, most_runs=design.most_runs(), workers=workers, seconds=seconds)


class Experiment:
    """The folder, store and executor of one experiment, kept for all of its rounds.

    Use as a context manager: the executor's workers start once and stop at the end.

    Every run of the design is checked (:func:`check_design`) before the folder is touched.

    Args:
        design: The experiment's design (its scenario, runs and identity).
        kind: The kind's name (``compare``, ``sweep``, ...).
        options: Where and how it runs.
    """

    def __init__(self, design: Design, kind: str, options: ExperimentOptions) -> None:
        scenario = design.scenario
        self.scenario, self.kind, self.progress = scenario, kind, options.progress
        self.folder = Path(options.out) if options.out is not None else default_output(scenario)
        check_experiment_folder(self.folder)
        check_design(design)
        self._cleanup = contextlib.ExitStack()
        # refuses bad options before any write
        self.executor = make_executor(options.workers, options.scheduler, runs=design.most_runs())
        if self.executor.note:
            print(f"bureausim: {self.executor.note}", file=sys.stderr)
        self._cleanup.callback(self.executor.close)
        try:
            self._cleanup.enter_context(output_lock(self.folder))
            self.store = RunStore(
                self.folder, scenario, kind, design.identity, allow_other_code=options.allow_other_code
            )
            if self.store.set_aside:
                print(
                    f"bureausim: {len(self.store.set_aside)} part(s) of {self.folder / 'runs'} could not be read "
                    f"({', '.join(self.store.set_aside)}) and were moved to runs/damaged/; their runs are run again",
                    file=sys.stderr,
                )
        except BaseException:
            self._cleanup.close()
            raise
        self.payload = payload_for(scenario)
        self.started = time.perf_counter()
        self.runs_run = 0

    def __enter__(self) -> Experiment:
        return self

    def __exit__(self, *exc: object) -> None:
        self._cleanup.close()

    def run(self, specs: list[RunSpec], retry_failed: bool = False) -> None:
        """Run the specs not yet finished (or, with ``retry_failed``, only those that failed)."""
        done, failed = self.store.done(), self.store.failures()
        if retry_failed:
            todo = [spec for spec in specs if spec.key in failed]
        else:
            todo = [spec for spec in specs if spec.key not in done and spec.key not in failed]
        finished, _ = run_specs(
            self.store, self.payload, todo, self.executor, label=f"{self.scenario.name}: runs", progress=self.progress
        )
        self.runs_run += finished

    def values(self, replications: int) -> pd.DataFrame:
        """One row per finished run of the first ``replications`` replications; refuses an empty result."""
        values = self.store.values()
        if values.empty:
            raise RunsFailed(f"no run finished; see {self.folder / 'failures.jsonl'}")
        return values[values["replication"] < replications].reset_index(drop=True)

    def write_manifest(self, replications: int, command: Iterable[str], **extra: Any) -> None:
        """``manifest.json``: the scenario, its hash, seeds, executor, versions, commit, wall time.

        The top-level command, executor and wall time are this invocation's; ``invocations``
        keeps every command that has worked on the folder (a resume, a re-analysis), in order,
        with the runs each one ran.
        """
        path = self.folder / "manifest.json"
        earlier = json.loads(path.read_text(encoding="utf-8")).get("invocations", []) if path.exists() else []
        manifest = build_manifest(
            self.scenario,
            seeds=replication_seeds(self.scenario.seed, replications),
            wall_time=time.perf_counter() - self.started,
            command=list(command),
        )
        manifest |= {
            "kind": self.kind,
            "scenario_hash": self.store.hash,
            "replications": replications,
            "executor": self.executor.description,
            "runs_finished": len(self.store.done()),
            "runs_failed": len(self.store.failures()),
            **extra,
        }
        manifest["invocations"] = [
            *earlier,
            {
                key: manifest[key]
                for key in ("created", "command", "executor", "wall_time_seconds", "git_commit", "code")
            }
            | {"runs_run": self.runs_run}
            | ({"resumed_under_other_code": self.store.other_code} if self.store.other_code is not None else {})
            | ({"parts_set_aside": self.store.set_aside} if self.store.set_aside else {}),
        ]
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        write_text(path, text)


@contextlib.contextmanager
def _flushing(store: RunStore) -> Iterator[None]:
    """Write what the store still holds when the loop ends, however it ends."""
    try:
        yield
    finally:
        store.flush()


def run_specs(
    store: RunStore,
    payload: dict[str, Any],
    specs: Iterable[RunSpec],
    executor,
    *,
    label: str,
    progress: bool = True,
) -> tuple[int, int]:
    """Execute ``specs`` and store each outcome as it arrives; return (finished, failed)."""
    specs = list(specs)
    finished = failed = 0
    with RunProgress(label, len(specs), enabled=progress) as bar, _flushing(store):
        for outcome in executor.map_unordered(payload, specs):
            if outcome.error is None:
                store.write(outcome.spec, outcome.steps, outcome.values, outcome.seconds)
                finished += 1
            else:
                store.record_failure(outcome.spec, outcome.error)
                failed += 1
            bar.advance(outcome.error is not None)
    return finished, failed
