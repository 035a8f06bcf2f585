"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

A run is a :class:`sim.storage.run_store.RunSpec` executed by :func:`execute_run`, which never raises:
a run that fails comes back with its traceback. Executors differ only in where runs execute:
in this process, in local worker processes (kept alive for the whole experiment), or on a
Dask distributed cluster. Every run's seed is fixed by its spec, so the numbers are the same
whichever executor runs them and in whatever order runs finish.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
import traceback
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.statistics import run_values
from sim.errors import ClusterUnreachable, RunsFailed, ScenarioError
from sim.model.run import run_one
from sim.scenario.schema import Scenario
from sim.storage.run_store import RunSpec, scenario_hash


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


COMMAND_POLL_SECONDS = 0.5
"""How often a worker process checks that the command that started it is still there."""


def watch_command(command: int) -> None:
    """In a worker process: exit as soon as the command (process ``command``) has gone.

    A pool's workers are children of the forkserver, which outlives a command killed by
    SIGKILL (as does the resource tracker, held open by the workers); without a watch a worker
    would finish its run and wait for work for ever, keeping its memory. So a daemon thread
    polls the command and ends the worker (``os._exit``) once it has ended; the forkserver and
    the resource tracker then end too, their last client gone.
    """
    born = _started(command)
    if born is not None:  # with /proc: the very process (by its start time), and not a zombie

        def alive() -> bool:
            return _started(command) == born
    else:

        def alive() -> bool:
            return _exists(command)

    def watch() -> None:
        while alive():
            time.sleep(COMMAND_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="bureausim-command-watch", daemon=True).start()


def _started(pid: int) -> str | None:
    """When process ``pid`` started (from /proc, so a reused pid is not taken for it); ``None`` if gone or unknown.

    A zombie, killed but not yet collected by its parent, counts as gone.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def _exists(pid: int) -> bool:
    """Whether process ``pid`` exists (where /proc is not available)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


@contextlib.contextmanager
def main_module_hidden() -> Iterator[None]:
    """While worker processes start: a bare ``__main__``, so that workers do not import the caller's script.

    Processes started by ``forkserver`` or ``spawn`` import the main module of the process
    that starts them (as ``__mp_main__``) unless it is hidden: a script whose call to
    ``sim.compare(..., workers=2)`` is not under ``if __name__ == "__main__":`` would then start
    the experiment again in every worker, and each would fail. Workers here need nothing from
    the caller's script (a run is a scenario's data and a spec, executed by this module), so
    the standard library is shown a module without a file while the processes start, and the
    real one is put back at once. Scripts with the guard work the same, and start faster.
    """
    real = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


class SerialExecutor:
    """Runs in this process, one after another."""

    description = "in-process"

    def map_unordered(self, payload: dict[str, Any], specs: list[RunSpec]) -> Iterator[RunOutcome]:
        """Execute ``specs``, yielding outcomes as they finish."""
        for spec in specs:
            yield execute_run(payload, spec)

    def close(self) -> None:
        """Nothing to release."""


def process_context():
    """The start method of bureausim's worker processes: ``forkserver`` where the platform has it, else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["sim.experiments.executors"])
    return context


def map_in_processes(function, items: list, workers: int | None) -> Iterator:
    """``function`` over ``items`` in local processes (in this one with one worker), results in order.

    For work that is not runs of a scenario (the validation report's pattern checks in many
    worlds); each item's result depends only on the item, so the order of execution changes nothing.
    """
    workers = worker_count(workers, len(items))[0]
    if workers <= 1:
        yield from map(function, items)
        return
    with main_module_hidden(), ProcessPoolExecutor(max_workers=workers, mp_context=process_context()) as pool:
        yield from pool.map(function, items)


class ProcessExecutor:
    """Runs in local worker processes, started once and kept for the whole experiment.

    The start method is chosen here, explicitly: ``forkserver`` where the platform has it
    (workers fork from a server that has already imported the model), ``spawn`` elsewhere.
    This keeps the pool independent of any start method set globally by other libraries
    (importing ``mesa.batchrunner`` forces ``spawn`` for every later default pool).
    """

    def __init__(self, workers: int) -> None:
        context = process_context()
        self.pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=watch_command, initargs=(os.getpid(),)
        )
        self.description = f"{workers} local processes ({context.get_start_method()})"

    def map_unordered(self, payload: dict[str, Any], specs: list[RunSpec]) -> Iterator[RunOutcome]:
        """Execute ``specs`` on the pool, yielding outcomes as they finish."""
        with main_module_hidden():  # the pool starts its processes as work is submitted
            pending = {self.pool.submit(execute_run, payload, spec) for spec in specs}
        try:
            for future in as_completed(pending):
                pending.discard(future)  # so a consumed result is not kept until the batch ends
                try:
                    yield future.result()
                except BrokenProcessPool:
                    raise RunsFailed(
                        "a worker process died (killed, or out of memory); the runs that finished are stored: "
                        "re-run the same command to resume"
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
            with main_module_hidden():  # its worker processes start now
                self.cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
                )
            self.client = Client(self.cluster)
            self.description = f"Dask LocalCluster, {workers} workers"
        else:
            self.client = _connect(Client, check_scheduler_address(scheduler))
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


CONNECT_SECONDS = 30
"""How long a Dask scheduler has to answer, and to answer as a scheduler, before the command gives up."""


def check_scheduler_address(address: str) -> str:
    """A ``--scheduler`` address checked for form: ``[scheme://]host:port`` with a scheme Dask knows and a real port.

    Raises:
        ScenarioError: for a malformed address (a user mistake, exit 2), before any connection.
    """
    from distributed.comm import parse_address, parse_host_port
    from distributed.comm.registry import backends

    hint = "give 'local' or an address like tcp://10.0.0.5:8786"
    try:
        scheme, location = parse_address(address)
        if scheme == "inproc":
            raise ValueError("an in-process address cannot be reached from another process")
        if scheme not in backends:
            raise ValueError(f"unknown address scheme {scheme!r}; one of {', '.join(sorted(backends))}")
        host, port = parse_host_port(location)
    except ValueError as error:
        raise ScenarioError(f"{address!r} is not a scheduler address ({error}); {hint}", source="--scheduler") from None
    if not host or not 1 <= port <= 65_535:
        raise ScenarioError(
            f"{address!r} is not a scheduler address (port {port} is not 1 to 65535); {hint}", source="--scheduler"
        )
    return address


def _connect(client_type, address: str):
    """A Dask client of the scheduler at ``address``, or :class:`ClusterUnreachable` within :data:`CONNECT_SECONDS`.

    ``Client(timeout=...)`` bounds reaching the address but not the handshake after it: a
    server that accepts and stays silent would hold the command for ever, and one that answers
    with something else (a web server) makes Dask read a garbage frame length and fail with a
    ``MemoryError``. So the connection is made in a daemon thread: the address must be reached
    within 25 s (Dask's own timeout) and the whole handshake done within 30 s; anything but a
    client by then is reported as the scheduler's fault.
    """
    outcome: dict[str, Any] = {}

    def connect() -> None:
        try:
            outcome["client"] = client_type(address, timeout=max(CONNECT_SECONDS - 5, 1))
        except BaseException as error:  # reported below, in the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=connect, name="bureausim-dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS)
    if "client" in outcome:
        return outcome["client"]
    if thread.is_alive():
        problem = f"it accepted the connection but did not answer as a Dask scheduler within {CONNECT_SECONDS} s"
    elif isinstance(outcome.get("error"), OSError):
        problem = str(outcome["error"])
    else:
        error = outcome.get("error")
        problem = f"it answered, but not as a Dask scheduler ({type(error).__name__})"
    raise ClusterUnreachable(f"cannot use the Dask scheduler at {address}: {problem}", source="--scheduler")


def worker_count(workers: int | None, runs: int | None, scheduler: str | None = None) -> tuple[int, str | None]:
    """The processes to start for ``--workers``, and a note when fewer than asked for.

    More local processes than cores only slow each other down, and more than there are runs
    sit idle, so a count beyond either is lowered to it (and said); without ``--workers`` every
    core is used, up to the number of runs. A remote Dask scheduler has its own workers, so its
    count is left alone.

    Raises:
        ScenarioError: for a count below 1.
    """
    if workers is not None and workers < 1:
        raise ScenarioError("must be at least 1", source="--workers")
    if scheduler not in (None, "local"):
        return workers or 1, None
    cores = os.cpu_count() or 1
    count = min(workers or cores, cores, max(runs or 1, 1) if runs is not None else cores)
    if workers is None or count == workers:
        return count, None
    reason = f"this machine's {cores} cores" if count == cores else f"the {runs:,} runs to do"
    return count, f"--workers {workers} is more than {reason}; using {count}"


def make_executor(workers: int | None = None, scheduler: str | None = None, runs: int | None = None):
    """The executor for ``--workers`` / ``--scheduler``: all cores by default (at most one per run), in-process for 1.

    A count beyond the cores or the runs is lowered (see :func:`worker_count`); the executor's
    ``note`` says so, or is ``None``.
    """
    count, note = worker_count(workers, runs, scheduler)
    executor = (
        DaskExecutor(scheduler, count)
        if scheduler is not None
        else (SerialExecutor() if count == 1 else ProcessExecutor(count))
    )
    executor.note = note
    return executor
