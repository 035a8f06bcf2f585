"""Running many runs: executors, progress, and streaming results into a run store.

A run is a :class:`sim.storage.run_store.RunSpec` executed by :func:`execute_run`, which never raises:
a run that fails comes back with its traceback. Executors differ only in where runs execute:
in this process, in local worker processes (kept alive for the whole experiment), or on a
Dask distributed cluster. Every run's seed is fixed by its spec, so the numbers are the same
whichever executor runs them and in whatever order runs finish. Results are written by this
process, one run at a time, as they arrive.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sim.analysis.statistics import run_values
from sim.errors import ClusterUnreachable, RunsFailed, ScenarioError
from sim.model.hierarchy import build_layout, default_level_names
from sim.model.run import run_one
from sim.scenario.output_names import model_output_names
from sim.scenario.schema import Scenario
from sim.storage.locks import output_lock
from sim.storage.run_store import RunSpec, RunStore, scenario_hash


@dataclass
class RunOutcome:
    """What one run produced: its steps table and outcome values, or the error it raised."""

    spec: RunSpec
    steps: pd.DataFrame | None
    values: dict[str, float] | None
    error: str | None
    seconds: float


def payload_for(scenario: Scenario) -> dict[str, Any]:
    """What a worker needs to rebuild the scenario: its data and the file it came from."""
    return {"scenario": scenario.model_dump(mode="json"), "source": scenario.source, "hash": scenario_hash(scenario)}


_SCENARIOS: dict[str, Scenario] = {}


def _scenario(payload: dict[str, Any]) -> Scenario:
    """The payload's scenario, validated once per worker process."""
    cache_key = f"{payload['hash']}:{payload['source']}"
    scenario = _SCENARIOS.get(cache_key)
    if scenario is None:
        scenario = Scenario.model_validate(payload["scenario"])
        scenario.source = payload["source"]
        _SCENARIOS[cache_key] = scenario
    return scenario


def execute_run(payload: dict[str, Any], spec: RunSpec) -> RunOutcome:
    """Run one spec; return its tables or, if it raised, its traceback."""
    start = time.perf_counter()
    try:
        scenario = _scenario(payload)
        steps = run_one(
            scenario,
            spec.seed,
            arm=spec.arm or None,
            replication=spec.replication,
            overrides=spec.overrides,
            world=spec.world,
            agents=False,
        ).steps
        steps["arm"] = spec.arm  # parts carry the spec's own arm, so a run's key can be read back
        steps.insert(1, "point", spec.point)
        return RunOutcome(spec, steps, run_values(steps, scenario.burn_in_periods), None, time.perf_counter() - start)
    except Exception:
        return RunOutcome(spec, None, None, traceback.format_exc(), time.perf_counter() - start)


# --- executors -------------------------------------------------------------------------------


class SerialExecutor:
    """Runs in this process, one after another."""

    description = "in-process"

    def map_unordered(self, payload: dict[str, Any], specs: list[RunSpec]) -> Iterator[RunOutcome]:
        """Execute ``specs``, yielding outcomes as they finish."""
        for spec in specs:
            yield execute_run(payload, spec)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    """Runs in local worker processes, started once and kept for the whole experiment.

    The start method is chosen here, explicitly: ``forkserver`` where the platform has it
    (workers fork from a server that has already imported the model), ``spawn`` elsewhere.
    This keeps the pool independent of any start method set globally by other libraries
    (importing ``mesa.batchrunner`` forces ``spawn`` for every later default pool).
    """

    def __init__(self, workers: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(["sim.experiments.template"])
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        self.description = f"{workers} local processes ({context.get_start_method()})"

    def map_unordered(self, payload: dict[str, Any], specs: list[RunSpec]) -> Iterator[RunOutcome]:
        """Execute ``specs`` on the pool, yielding outcomes as they finish."""
        pending = {self.pool.submit(execute_run, payload, spec) for spec in specs}
        try:
            for future in as_completed(pending):
                pending.discard(future)  # so a consumed result is not kept until the batch ends
                try:
                    yield future.result()
                except BrokenProcessPool:
                    raise RunsFailed(
                        "a worker process died (killed, or out of memory; or, in a script, the call that starts "
                        "the experiment is not under `if __name__ == '__main__':`, which worker processes need); "
                        "the runs that finished are stored: re-run the same command to resume"
                    ) from None
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the workers."""
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Runs on a Dask distributed cluster: an existing one by address, or a new local one."""

    def __init__(self, scheduler: str, workers: int) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - a dependency, but say so if it is missing
            raise ScenarioError("needs the 'distributed' package", source="--scheduler") from None
        self.cluster = None
        if scheduler == "local":
            self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            self.client = Client(self.cluster)
            self.description = f"Dask LocalCluster, {workers} workers"
        else:
            try:
                self.client = Client(scheduler, timeout=30)
            except OSError as error:
                raise ClusterUnreachable(f"cannot reach the Dask scheduler: {error}", source="--scheduler") from None
            self.description = f"Dask cluster at {scheduler}"

    def map_unordered(self, payload: dict[str, Any], specs: list[RunSpec]) -> Iterator[RunOutcome]:
        """Execute ``specs`` on the cluster, yielding outcomes as they finish."""
        from distributed import as_completed as dask_completed

        pending = {self.client.submit(execute_run, payload, spec, pure=False) for spec in specs}
        try:
            for future in dask_completed(pending):
                pending.discard(future)
                outcome = future.result()
                future.release()  # the cluster may forget the result once it is here
                yield outcome
        finally:
            self.client.cancel(list(pending))

    def close(self) -> None:
        """Disconnect, and stop the cluster if this executor started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int | None = None, scheduler: str | None = None):
    """The executor for ``--workers`` / ``--scheduler``: all cores by default, in-process for 1."""
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise ScenarioError("must be at least 1", source="--workers")
    if scheduler is not None:
        return DaskExecutor(scheduler, count)
    return SerialExecutor() if count == 1 else ProcessExecutor(count)


# --- the run loop ----------------------------------------------------------------------------


class RunProgress:
    """Done / failed / ETA: a progress bar on a terminal, a plain line every few seconds elsewhere."""

    def __init__(self, label: str, total: int, enabled: bool = True, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.label, self.total, self.enabled = label, total, enabled
        self.done = self.failed = 0
        self.start = self._last = time.monotonic()
        self.bar: Progress | None = None

    def __enter__(self) -> RunProgress:
        if self.enabled and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task(self.label, total=self.total, failed=0)
        return self

    def advance(self, failed: bool) -> None:
        """Count one finished run."""
        self.done += 1
        self.failed += int(failed)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, failed=self.failed)
        elif self.enabled and (time.monotonic() - self._last > 5 or self.done == self.total):
            self._last = time.monotonic()
            elapsed = self._last - self.start
            eta = elapsed / self.done * (self.total - self.done)
            print(
                f"{self.label}: {self.done}/{self.total} done, {self.failed} failed, ETA {eta:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


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
    on_outcome: Callable[[RunOutcome], None] | None = None,
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
            if on_outcome is not None:
                on_outcome(outcome)
            bar.advance(outcome.error is not None)
    return finished, failed


def check_outcomes(scenario: Scenario, wanted: dict[str, str]) -> None:
    """Refuse, before any run, outcomes the scenario's hierarchy does not produce.

    A sanction share names a level (``sanction_share_village``); the scenario schema accepts
    any level name, and only the hierarchy says which levels exist, so it is built once here.

    Args:
        scenario: The experiment's scenario.
        wanted: Outcome names by the field that names them (``outcomes.0``, ``robustness.satisficing.1``).
    """
    shares = {field: name for field, name in wanted.items() if name.startswith("sanction_share_")}
    if not shares:
        return
    base_dir = Path(scenario.source).parent if scenario.source else None
    layout, _ = build_layout(scenario.hierarchy, np.random.default_rng(scenario.seed), base_dir)
    produced = model_output_names(scenario.hierarchy.levels or default_level_names(layout.depth + 1))
    for field, name in shares.items():
        if name not in produced:
            levels = ", ".join(output for output in produced if output.startswith("sanction_share_"))
            raise ScenarioError(
                f"{name} is not an output of this hierarchy, whose levels give {levels}",
                source=scenario.source,
                field=field,
            )


# --- one experiment --------------------------------------------------------------------------


class Experiment:
    """The folder, store and executor of one experiment, kept for all of its rounds.

    Use as a context manager: the executor's workers start once and stop at the end.

    Args:
        scenario: The experiment's scenario.
        kind: ``compare``, ``sweep``, ``sensitivity`` or ``robustness``.
        out: Results folder (default ``results/<name>/<timestamp>/``); an existing folder of
            the same experiment is resumed.
        workers: Local processes (1 runs in this process; ``None`` uses every core).
        scheduler: A Dask scheduler address, or ``"local"``.
        progress: Show progress.
        design: What besides the scenario decides the runs (see :class:`sim.storage.run_store.RunStore`).
        conditions: Outcomes named elsewhere than ``outcomes:``, by field, checked with them.
    """

    def __init__(
        self,
        scenario: Scenario,
        kind: str,
        out: str | os.PathLike | None = None,
        workers: int | None = 1,
        scheduler: str | None = None,
        progress: bool = True,
        design: dict | None = None,
        conditions: dict[str, str] | None = None,
    ) -> None:
        from sim.storage.results_folder import default_output

        self.scenario, self.kind, self.progress = scenario, kind, progress
        self.folder = Path(out) if out is not None else default_output(scenario)
        check_experiment_folder(self.folder)
        outcomes = {f"outcomes.{index}": outcome.name for index, outcome in enumerate(scenario.outcomes)}
        check_outcomes(scenario, outcomes | (conditions or {}))
        self._cleanup = contextlib.ExitStack()
        self.executor = make_executor(workers, scheduler)  # refuses bad options before anything is written
        self._cleanup.callback(self.executor.close)
        try:
            self._cleanup.enter_context(output_lock(self.folder))
            self.store = RunStore(self.folder, scenario, kind, design)
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

    def write_manifest(self, replications: int, command: list[str] | None, **extra: Any) -> None:
        """``manifest.json``: the scenario, its hash, seeds, executor, versions, commit, wall time.

        The top-level command, executor and wall time are this invocation's; ``invocations``
        keeps every command that has worked on the folder (a resume, a re-analysis), in order,
        with the runs each one ran.
        """
        from sim.model.run import replication_seeds
        from sim.storage.results_folder import build_manifest

        path = self.folder / "manifest.json"
        earlier = json.loads(path.read_text(encoding="utf-8")).get("invocations", []) if path.exists() else []
        manifest = build_manifest(
            self.scenario,
            seeds=replication_seeds(self.scenario.seed, replications),
            wall_time=time.perf_counter() - self.started,
            command=command or [],
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
            {key: manifest[key] for key in ("created", "command", "executor", "wall_time_seconds", "git_commit")}
            | {"runs_run": self.runs_run},
        ]
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")


def check_experiment_folder(folder: Path) -> None:
    """Allow a new folder, an empty one, or one holding an experiment (to resume); refuse others."""
    if folder.exists() and not folder.is_dir():
        raise ScenarioError("exists and is not a folder", source=str(folder))
    if folder.exists() and any(folder.iterdir()) and not (folder / "experiment.json").exists():
        raise ScenarioError(
            "exists, is not empty and holds no experiment to resume; choose a new --out", source=str(folder)
        )
