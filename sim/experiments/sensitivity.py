"""Global sensitivity analysis over the scenario's ``uncertainties:`` with SALib.

Morris elementary effects (screening: mu*, sigma) or Sobol indices (S1 and ST with confidence
intervals). The sample matrix comes from SALib, seeded with the scenario's seed; every row is
a point, run for the scenario's replications with common random numbers; each point's value
of an outcome is the mean over its replications. Integer parameters are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.plots import sensitivity_bars
from sim.errors import RunsFailed, ScenarioError
from sim.experiments.template import Experiment
from sim.model.run import replication_seeds
from sim.scenario.loader import load_scenario
from sim.scenario.parameters import typed_values
from sim.scenario.schema import Scenario
from sim.storage.run_store import RunSpec, table_digest

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4


@dataclass
class SensitivityResult:
    """The outcome of a sensitivity analysis.

    Attributes:
        folder: The results folder.
        scenario: The scenario analysed.
        method: ``morris`` or ``sobol``.
        samples: The sample matrix: one row per point, one column per uncertain parameter.
        indices: One row per outcome and parameter: Morris ``mu``, ``mu_star``,
            ``mu_star_conf``, ``sigma``, or Sobol ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
        runs: One row per finished run with every output's value.
        failures: Runs that failed and have not finished since, by key.
    """

    folder: Path
    scenario: Scenario
    method: str
    samples: pd.DataFrame
    indices: pd.DataFrame
    runs: pd.DataFrame
    failures: dict

    def plot(self, outcome: str = "goal_attainment", path: Path | None = None):
        """Bar chart of the indices of one outcome, with their confidence intervals."""
        return sensitivity_bars(self.indices[self.indices["outcome"] == outcome], self.method, outcome, path)


def sensitivity(
    scenario: Scenario | str | Path,
    *,
    method: str = "morris",
    samples: int = 16,
    out: str | Path | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    command: list[str] | None = None,
) -> SensitivityResult:
    """Sample the uncertainties, run every point, and compute sensitivity indices.

    Args:
        scenario: A scenario with ``uncertainties:``, or its path.
        method: ``morris`` (``samples`` trajectories) or ``sobol`` (``samples`` base samples,
            a power of two; Saltelli's scheme without second-order terms).
        samples: Morris trajectories, or Sobol base samples.
        out: Results folder; an existing folder of the same analysis is resumed.
        workers: Local processes (1 runs in this process; ``None`` uses every core).
        scheduler: A Dask scheduler address, or ``"local"``.
        retry_failed: Run only the runs that failed before.
        progress: Show progress.
        command: The command line, for the manifest.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if method not in METHODS:
        raise ScenarioError(f"unknown method {method!r}; one of {', '.join(METHODS)}", source="--method")
    if len(scenario.uncertainties) < 2:
        raise ScenarioError("needs at least two uncertain parameters", source=scenario.source, field="uncertainties")
    if samples < 2 or (method == "sobol" and samples & (samples - 1)):
        raise ScenarioError("must be at least 2 (and a power of two for sobol)", source="--samples")
    problem = {
        "num_vars": len(scenario.uncertainties),
        "names": list(scenario.uncertainties),
        "bounds": [list(bounds) for bounds in scenario.uncertainties.values()],
    }
    matrix = _sample(problem, method, samples, scenario.seed)
    design = pd.DataFrame(matrix, columns=problem["names"])
    seeds = replication_seeds(scenario.seed, scenario.replications)
    specs = [
        RunSpec("", point, k, seed, typed_values(row))
        for point, row in enumerate(design.to_dict("records"))
        for k, seed in enumerate(seeds)
    ]
    identity = {"method": method, "samples": samples, "sample": table_digest(design)}
    with Experiment(scenario, "sensitivity", out, workers, scheduler, progress, identity) as experiment:
        experiment.run(specs, retry_failed=retry_failed)
        runs = experiment.values(scenario.replications)
        means = runs.groupby("point").mean(numeric_only=True)
        missing = sorted(set(range(len(design))) - set(means.index))
        if missing:
            raise RunsFailed(
                f"{len(missing)} point(s) have no finished run, so indices cannot be computed; "
                f"see {experiment.folder / 'failures.jsonl'} and re-run with --retry-failed"
            )
        outcomes = [o.name for o in scenario.outcomes]
        indices = _analyse(problem, method, matrix, means.sort_index(), outcomes, scenario.seed)
        result = SensitivityResult(
            experiment.folder,
            scenario,
            method,
            design.reset_index(names="point"),
            indices,
            runs,
            experiment.store.failures(),
        )
        result.samples.to_csv(experiment.folder / "samples.csv", index=False)
        indices.to_csv(experiment.folder / "indices.csv", index=False)
        runs.to_parquet(experiment.folder / "runs.parquet", index=False)
        plots = experiment.folder / "plots"
        plots.mkdir(exist_ok=True)
        for outcome in outcomes:
            result.plot(outcome, plots / f"{method}_{outcome}.png")
        experiment.write_manifest(scenario.replications, command, method=method, samples=samples, points=len(design))
    return result


def _sample(problem: dict, method: str, samples: int, seed: int) -> np.ndarray:
    from SALib.sample import morris as morris_sample  # SALib is imported only when it is used
    from SALib.sample import sobol as sobol_sample

    seed = seed % 2**32
    if method == "morris":
        return morris_sample.sample(problem, N=samples, num_levels=MORRIS_LEVELS, seed=seed)
    return sobol_sample.sample(problem, N=samples, calc_second_order=False, seed=seed)


def _analyse(
    problem: dict, method: str, matrix: np.ndarray, means: pd.DataFrame, outcomes: list[str], seed: int
) -> pd.DataFrame:
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    rows = []
    for outcome in outcomes:
        y = means[outcome].to_numpy(dtype=float)
        columns = (
            ("mu", "mu_star", "mu_star_conf", "sigma") if method == "morris" else ("S1", "S1_conf", "ST", "ST_conf")
        )
        if np.ptp(y) == 0:  # an outcome that never varies has no sensitivity to apportion
            rows += [
                {"outcome": outcome, "parameter": name} | dict.fromkeys(columns, np.nan) for name in problem["names"]
            ]
            continue
        if method == "morris":
            found = morris_analyze.analyze(
                problem, matrix, y, num_levels=MORRIS_LEVELS, seed=seed % 2**32, print_to_console=False
            )
        else:
            found = sobol_analyze.analyze(
                problem, y, calc_second_order=False, seed=seed % 2**32, print_to_console=False
            )
        for position, name in enumerate(problem["names"]):
            rows.append({"outcome": outcome, "parameter": name} | {c: float(found[c][position]) for c in columns})
    return pd.DataFrame(rows)
