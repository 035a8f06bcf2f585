"""Global sensitivity analysis over the scenario's ``uncertainties:`` with SALib.

Morris elementary effects (screening: mu*, sigma) or Sobol indices (S1 and ST with confidence
intervals). The sample matrix comes from SALib, seeded with the scenario's seed; every row is
a point, run for the scenario's replications with common random numbers; each point's value
of an outcome is the mean over its replications. Integer parameters are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from sim.analysis.plots import sensitivity_bars
from sim.atomic import write_table
from sim.errors import RunsFailed, ScenarioError
from sim.experiments.budget import check_run_count, counted
from sim.experiments.template import (
    Design,
    ExecutionKeywords,
    Experiment,
    ExperimentKind,
    ExperimentOptions,
    draw_each_outcome,
    run_experiment,
)
from sim.scenario.schema import Scenario, typed_values
from sim.storage.results_folder import read_table
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
    **execution: Unpack[ExecutionKeywords],
) -> SensitivityResult:
    """Sample the uncertainties, run every point, and compute sensitivity indices.

    Args:
        scenario: A scenario with ``uncertainties:``, or its path.
        method: ``morris`` (``samples`` trajectories) or ``sobol`` (``samples`` base samples,
            a power of two; Saltelli's scheme without second-order terms).
        samples: Morris trajectories, or Sobol base samples.
        **execution: Where and how it runs, as for every experiment (``out``, ``workers``,
            ``scheduler``, ``retry_failed``, ``allow_other_code``, ``overrides``, ``progress``, ``command``): see
            :class:`sim.experiments.template.ExperimentOptions`.
    """
    return run_experiment(SensitivityKind(method, samples), scenario, ExperimentOptions(**execution))


@dataclass(frozen=True, kw_only=True)
class SensitivityDesign(Design):
    """SALib's problem and sample matrix: every row a point, run for the scenario's replications."""

    points_field: ClassVar[str] = "uncertainties"

    problem: dict
    matrix: np.ndarray
    sample: pd.DataFrame

    def specs(self, replications: int) -> list[RunSpec]:
        """Replication *k* of every point, with the same seed at every point; integer parameters rounded."""
        seeds = self.seeds(replications)
        return [
            RunSpec("", point, k, seed, typed_values(row))
            for point, row in enumerate(self.sample.to_dict("records"))
            for k, seed in enumerate(seeds)
        ]


@dataclass(frozen=True)
class SensitivityKind(ExperimentKind):
    """``sensitivity``: Morris elementary effects or Sobol indices over the scenario's uncertainties.

    Attributes:
        method: ``morris`` (``samples`` trajectories) or ``sobol`` (``samples`` base samples, a power of two).
        samples: Morris trajectories, or Sobol base samples.
    """

    method: str = "morris"
    samples: int = 16
    name: ClassVar[str] = "sensitivity"

    @staticmethod
    def applies(scenario: Scenario) -> bool:
        """A scenario with two or more uncertainties can be analysed."""
        return len(scenario.uncertainties) >= 2

    def design(self, scenario: Scenario, options: ExperimentOptions) -> SensitivityDesign:
        """Refuse an unknown method, fewer than two uncertainties, or a bad sample count; draw the sample."""
        method, samples = self.method, self.samples
        if method not in METHODS:
            raise ScenarioError(f"unknown method {method!r}; one of {', '.join(METHODS)}", source="--method")
        if len(scenario.uncertainties) < 2:
            raise ScenarioError(
                "needs at least two uncertain parameters", source=scenario.source, field="uncertainties"
            )
        if samples < 2 or (method == "sobol" and samples & (samples - 1)):
            raise ScenarioError("must be at least 2 (and a power of two for sobol)", source="--samples")
        k = len(scenario.uncertainties)
        per_sample = k + 1 if method == "morris" else 2 * k + 2
        replications = counted(scenario.replications, "replication")
        check_run_count(
            samples * per_sample * scenario.replications,
            f"{samples:,} {method} samples x {per_sample} points each x {replications}",
            scenario,
            source="--samples",
        )
        problem = {
            "num_vars": len(scenario.uncertainties),
            "names": list(scenario.uncertainties),
            "bounds": [list(bounds) for bounds in scenario.uncertainties.values()],
        }
        matrix = _sample(problem, method, samples, scenario.seed)
        sample = pd.DataFrame(matrix, columns=problem["names"])
        identity = {"method": method, "samples": samples, "sample": table_digest(sample)}
        return SensitivityDesign(
            scenario=scenario,
            replications=scenario.replications,
            identity=identity,
            problem=problem,
            matrix=matrix,
            sample=sample,
        )

    def analyse(
        self, design: SensitivityDesign, runs: pd.DataFrame, replications: int, experiment: Experiment
    ) -> SensitivityResult:
        """Each point's mean over its replications, and the indices computed from them; every point must have run."""
        scenario = design.scenario
        means = runs.groupby("point").mean(numeric_only=True)
        missing = sorted(set(range(len(design.sample))) - set(means.index))
        if missing:
            raise RunsFailed(
                f"{len(missing)} point(s) have no finished run, so indices cannot be computed; "
                f"see {experiment.folder / 'failures.jsonl'} and re-run with --retry-failed"
            )
        outcomes = [o.name for o in scenario.outcomes]
        indices = _analyse(design.problem, self.method, design.matrix, means.sort_index(), outcomes, scenario.seed)
        return SensitivityResult(
            experiment.folder,
            scenario,
            self.method,
            design.sample.reset_index(names="point"),
            indices,
            runs,
            experiment.store.failures(),
        )

    def write(self, design: SensitivityDesign, result: SensitivityResult) -> dict[str, Any]:
        """``samples.csv``, ``indices.csv``, ``runs.parquet`` and one bar chart per outcome."""
        folder = result.folder
        write_table(result.samples, folder / "samples.csv")
        write_table(result.indices, folder / "indices.csv")
        write_table(result.runs, folder / "runs.parquet")
        self.draw(result)
        return {"method": self.method, "samples": self.samples, "points": len(design.sample)}

    @classmethod
    def draw(cls, result: SensitivityResult) -> None:
        """``plots/<method>_<outcome>.png``, one per outcome."""
        draw_each_outcome(result, result.method)

    @classmethod
    def read(
        cls, folder: Path, scenario: Scenario, manifest: dict, runs: pd.DataFrame, failures: dict
    ) -> SensitivityResult:
        """The sample and indices as written."""
        samples = read_table(folder / "samples.csv")
        indices = read_table(folder / "indices.csv")
        return SensitivityResult(folder, scenario, manifest["method"], samples, indices, runs, failures)


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
