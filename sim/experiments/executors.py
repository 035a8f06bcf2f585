"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

A run is a :class:`sim.storage.run_store.RunSpec` executed by :func:`execute_run`, which never raises:
a run that fails comes back with its traceback. Executors differ only in where runs execute:
in this process, in local worker processes (kept alive for the whole experiment), or on a
Dask distributed cluster. Every run's seed is fixed by its spec, so the numbers are the same
whichever executor runs them and in whatever order runs finish.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
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
            context.set_forkserver_preload(["sim.experiments.executors"])
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
