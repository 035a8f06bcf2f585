"""``bureausim calibrate``: screening, history matching in waves, then ABC-SMC (docs/ODD.md, section 16).

A calibration runs in one results folder like every experiment: each run is stored as it
finishes, under a key fixed by its phase, point and seed, so a stopped calibration resumes
where its runs stopped, and every phase's design follows from the seed and the runs before it,
so the numbers do not depend on the executor (serial, processes or Dask) or on the order runs
finish. ABC-SMC is pyabc's, with a sampler of bureausim's own (:mod:`sim.experiments.abc_sampler`)
that keeps that promise.

Phases and their run keys (``runs/<arm>/p<point>-r<replication>-s<seed>``): screening points
from 0, history-matching wave *w* from *w* × 10⁶, ABC generation *t* from 10⁸ + (*t* + 1) × 10⁶,
posterior draws from :data:`DRAWS`, the calibrated point's check at :data:`CHOSEN`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sim.analysis.history_matching import (
    Emulator,
    Observation,
    box_to_unit,
    highest_density,
    identifiability_notes,
    implausibility,
    unit_to_box,
    weighted_correlations,
    weighted_summary,
)
from sim.analysis.sampling import latin_hypercube
from sim.atomic import write_text
from sim.errors import RunsFailed, ScenarioError
from sim.experiments.template import Design, Experiment, ExperimentOptions, run_specs
from sim.model.run import replication_seeds
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario, typed_values
from sim.scenario.targets import CalibrationSpec, Target
from sim.storage.results_folder import read_table
from sim.storage.run_store import RunSpec

WAVE = 1_000_000
ABC = 100_000_000
DRAWS = 9_000_000_000
CHOSEN = 9_500_000_000
CHOSEN_REPLICATIONS = 10
"""Replications run at the calibrated point to report each target's value there."""

Constraint = Callable[[dict[str, float]], dict[str, bool]]
"""Whether each pattern named holds at a parameter point (``{"P3": True, ...}``): the checks layer's."""


@dataclass(frozen=True, kw_only=True)
class CalibrationDesign(Design):
    """A calibration's prior box and targets; its first runs checked are the box's two corners in each arm."""

    points_field: ClassVar[str] = "calibration"
    box: dict[str, tuple[float, float]]
    arms: tuple[str, ...]

    def specs(self, replications: int) -> list[RunSpec]:
        """The runs checked before any is made: the scenario itself, then each corner of the box (all lows, all highs).

        Each in every arm a target is matched in; the scenario's own values come first, so a target
        naming an output its runs do not have is refused by its own line.
        """
        seed = self.seeds(1)[0]
        corners = [{}, {p: low for p, (low, _) in self.box.items()}, {p: high for p, (_, high) in self.box.items()}]
        return [
            RunSpec(arm, point, 0, seed, typed_values(values))
            for point, values in enumerate(corners)
            for arm in self.arms
        ]

    def most_runs(self) -> int:
        """Runs enough to use every worker: the calibration has many more than any one phase's."""
        spec = self.scenario.calibration
        return spec.waves * spec.points * spec.replications * len(self.arms)


@dataclass
class CalibrationResult:
    """What a calibration found, as written into its folder (README, *Reading a calibration*)."""

    folder: Path
    scenario: Scenario
    screening: pd.DataFrame
    kept: list[str]
    waves: pd.DataFrame
    design_points: pd.DataFrame
    patterns: pd.DataFrame
    posterior: pd.DataFrame
    summary: pd.DataFrame
    predictive: pd.DataFrame
    calibrated: dict[str, float]
    calibrated_by: str
    at_calibrated: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def calibration_design(scenario: Scenario) -> CalibrationDesign:
    """The calibration's design: its box, the arms its targets are matched in, and what identifies it."""
    spec, _, _ = calibration_setup(scenario)
    return CalibrationDesign(
        scenario=scenario,
        replications=spec.replications,
        identity={
            "targets": [t.model_dump(mode="json") for t in scenario.targets],
            "calibration": spec.model_dump(mode="json"),
        },
        conditions={f"targets.{i}.output": t.output for i, t in enumerate(scenario.targets)},
        box=dict(spec.parameters),
        arms=tuple(sorted({t.arm or "" for t in scenario.targets})),
    )


def calibration_setup(scenario: Scenario) -> tuple[CalibrationSpec, list[Target], list[Target]]:
    """The scenario's calibration settings, fitted targets and held-out targets; refuses a scenario without them."""
    where = scenario.source or "the scenario"
    if scenario.calibration is None:
        raise ScenarioError(
            f"{where}: calibration: bureausim calibrate needs a calibration: section naming the parameters to move "
            "with their prior ranges (docs/ODD.md, section 16)",
            source=scenario.source,
        )
    fitted = [t for t in scenario.targets if not t.held_out]
    if not fitted:
        raise ScenarioError(
            f"{where}: targets: bureausim calibrate needs at least one target that is not held out",
            source=scenario.source,
            line=scenario.line_of("targets"),
        )
    return scenario.calibration, fitted, [t for t in scenario.targets if t.held_out]


class PointRunner:
    """Runs parameter points (every arm the targets need, each replication) and gives each target's statistics."""

    def __init__(self, experiment: Experiment, targets: list[Target], replications: int, progress: bool) -> None:
        self.experiment, self.targets, self.replications, self.progress = experiment, targets, replications, progress
        self.arms = sorted({t.arm or "" for t in targets})
        self.outputs = sorted({t.output for t in targets})
        self.seeds = replication_seeds(experiment.scenario.seed, replications)

    def specs(self, points: list[dict[str, float]], ids: list[int], seeds: list[list[int]] | None) -> list[RunSpec]:
        """The runs of ``points``: the common replication seeds, or each point's own."""
        return [
            RunSpec(arm, point_id, k, seed, typed_values(values))
            for point_id, values, own in zip(ids, points, seeds or [self.seeds] * len(points), strict=True)
            for arm in self.arms
            for k, seed in enumerate(own)
        ]

    def run(self, specs: list[RunSpec], label: str) -> None:
        """Run the specs not yet stored or failed, keeping only the targets' outputs of their steps tables.

        A run that failed is not run again (its replication is missing from its point's statistics),
        so a resumed calibration sees the same runs as one that never stopped.
        """
        store = self.experiment.store
        done, failed = store.done(), store.failures()
        todo = [spec for spec in specs if spec.key not in done and spec.key not in failed]
        keep = ["arm", "point", "replication", "seed", "period", *self.outputs]
        executor = _Trimmed(self.experiment.executor, keep)
        finished, _ = run_specs(store, self.experiment.payload, todo, executor, label=label, progress=self.progress)
        self.experiment.runs_run += finished

    def statistics(
        self, points: list[dict[str, float]], ids: list[int], label: str, seeds: list[list[int]] | None = None
    ) -> pd.DataFrame:
        """Per point (one row, by id): each target's mean over replications and its mean's replicate variance."""
        self.run(self.specs(points, ids, seeds), label)
        values = self.experiment.store.values()
        if values.empty:
            raise RunsFailed(f"no run finished; see {self.experiment.folder / 'failures.jsonl'}")
        values = values[values["point"].isin(ids)]
        rows = []
        for point_id in ids:
            mine = values[values["point"] == point_id]
            row: dict[str, Any] = {"point": point_id}
            for target in self.targets:
                got = mine.loc[mine["arm"] == (target.arm or ""), target.output].to_numpy(dtype=float)
                got = got[np.isfinite(got)]
                row[target.name] = float(got.mean()) if len(got) else np.nan
                row[f"{target.name}_var"] = float(got.var(ddof=1) / len(got)) if len(got) > 1 else 0.0
            rows.append(row)
        return pd.DataFrame(rows)


class _Trimmed:
    """An executor whose runs' steps tables keep only some columns (a calibration stores thousands of runs)."""

    def __init__(self, executor, columns: list[str]) -> None:
        self.executor, self.columns = executor, columns

    def map_unordered(self, payload, specs):
        for outcome in self.executor.map_unordered(payload, specs):
            if outcome.steps is not None:
                kept = [c for c in self.columns if c in outcome.steps.columns]
                outcome = replace(outcome, steps=outcome.steps[kept])
            yield outcome


def observations(targets: list[Target], relative: float) -> list[Observation]:
    """The fitted targets as history matching sees them."""
    return [Observation(t.name, t.observed, t.total_sd(relative) ** 2) for t in targets]


# --- screening -------------------------------------------------------------------------------

MORRIS_LEVELS = 4


def screen(
    runner: PointRunner, spec: CalibrationSpec, fitted: list[Target], seed: int, notes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Morris elementary effects of every calibration parameter on every fitted target, and the parameters kept.

    μ* is divided by the target's total sd: how many sds the target moves across the range. A
    trajectory with a point where a target has no value (its runs failed, or the output was NaN
    throughout) is left out of that target's effects; what cannot be screened is said in ``notes``.
    """
    box = spec.parameters
    names = list(box)
    if spec.screening == 0 or len(names) < 2:
        return pd.DataFrame(columns=["parameter", "target", "mu_star", "sigma", "mu_star_sd"]), names
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem = {"num_vars": len(names), "names": names, "bounds": [list(box[p]) for p in names]}
    matrix = morris_sample.sample(problem, N=spec.screening, num_levels=MORRIS_LEVELS, seed=seed % 2**32)
    points = [dict(zip(names, row, strict=True)) for row in matrix.tolist()]
    stats = runner.statistics(points, list(range(len(points))), label="screening")
    rows = []
    width = len(names) + 1  # SALib's rows: one trajectory after another, k + 1 points each
    for target in fitted:
        y = stats[target.name].to_numpy(dtype=float)
        scale = target.total_sd(spec.discrepancy)
        complete = np.repeat(np.isfinite(y).reshape(-1, width).all(axis=1), width)
        if complete.sum() < 2 * width:
            found = {"mu_star": np.full(len(names), np.nan), "sigma": np.full(len(names), np.nan)}
            notes.append(
                f"Target `{target.name}` could not be screened: fewer than two Morris trajectories gave it a value "
                "at every point; no parameter was screened out for it."
            )
        elif np.ptp(y[complete]) == 0:
            found = {"mu_star": np.zeros(len(names)), "sigma": np.zeros(len(names))}
        else:
            found = morris_analyze.analyze(
                problem,
                matrix[complete],
                y[complete],
                num_levels=MORRIS_LEVELS,
                seed=seed % 2**32,
                print_to_console=False,
            )
        for position, name in enumerate(names):
            mu_star = float(found["mu_star"][position])
            rows.append(
                {
                    "parameter": name,
                    "target": target.name,
                    "mu_star": mu_star,
                    "sigma": float(found["sigma"][position]),
                    "mu_star_sd": mu_star / scale,
                }
            )
    table = pd.DataFrame(rows)
    unscreened = table.groupby("target", sort=False)["mu_star_sd"].apply(lambda v: v.isna().all())
    if unscreened.any():  # a target that could not be screened may depend on any parameter: keep them all
        return table, names
    strongest = table.groupby("parameter", sort=False)["mu_star_sd"].max()
    kept = [name for name in names if strongest.get(name, 0) >= spec.screen_threshold]
    if not kept:
        kept = [strongest.idxmax()]
        notes.append(
            f"No parameter moves a fitted target by {spec.screen_threshold:g} sds across its range; the strongest, "
            f"`{kept[0]}`, was kept so that there is something to fit."
        )
    return table, kept


# --- history matching ------------------------------------------------------------------------


@dataclass
class Waves:
    """The waves' record, the design points run, and the emulators that define the region not ruled out."""

    table: pd.DataFrame
    points: pd.DataFrame
    emulators: list[list[Emulator]]
    empty: bool


def history_match(
    runner: PointRunner, spec: CalibrationSpec, fitted: list[Target], box: dict[str, tuple[float, float]], seed: int
) -> Waves:
    """Waves of runs, each ruling out space by emulator implausibility (docs/ODD.md, section 16)."""
    names = list(box)
    unit_box = dict.fromkeys(names, (0.0, 1.0))
    space = latin_hypercube(unit_box, spec.space_sample, seed)
    alive = np.ones(len(space), dtype=bool)
    observed = observations(fitted, spec.discrepancy)
    rows, points, emulators = [], [], []
    for wave in range(1, spec.waves + 1):
        if wave == 1:
            unit = latin_hypercube(unit_box, spec.points, seed + wave)
        else:
            candidates = np.flatnonzero(alive)
            if len(candidates) == 0:
                break
            rng = np.random.default_rng([seed, 11, wave])
            chosen = rng.choice(candidates, size=min(spec.points, len(candidates)), replace=False)
            unit = space[np.sort(chosen)]
        values = unit_to_box(unit, box)
        ids = [wave * WAVE + i for i in range(len(unit))]
        stats = runner.statistics(
            [dict(zip(names, row, strict=True)) for row in values.tolist()], ids, label=f"wave {wave}"
        )
        means = stats[[t.name for t in fitted]].to_numpy(dtype=float)
        variances = stats[[f"{t.name}_var" for t in fitted]].to_numpy(dtype=float)
        simulated = implausibility(means, variances, observed)
        wave_emulators = [
            Emulator(unit, means[:, i], int(np.random.SeedSequence([seed, wave, i]).generate_state(1)[0]))
            for i in range(len(fitted))
        ]
        before = alive.mean()
        if alive.any():
            predicted = [e.predict(space[alive]) for e in wave_emulators]
            emulated = implausibility(
                np.column_stack([m for m, _ in predicted]), np.column_stack([v for _, v in predicted]), observed
            )
            survivors = np.flatnonzero(alive)
            alive[survivors[emulated > spec.cutoff]] = False
        emulators.append(wave_emulators)
        frame = stats.copy()
        frame.insert(0, "wave", wave)
        for position, name in enumerate(names):
            frame.insert(2 + position, name, values[:, position])
        frame["implausibility"] = simulated
        frame["not_ruled_out"] = simulated <= spec.cutoff
        points.append(frame)
        rows.append(
            {
                "wave": wave,
                "points": len(unit),
                "runs": len(unit) * spec.replications * len(runner.arms),
                "points_not_ruled_out": int((simulated <= spec.cutoff).sum()),
                "ruled_out_share": float(before - alive.mean()),
                "not_ruled_out_share": float(alive.mean()),
                "least_implausibility": float(np.min(simulated)),
            }
        )
    return Waves(pd.DataFrame(rows), pd.concat(points, ignore_index=True), emulators, not alive.any())


def not_ruled_out(emulators: list[list[Emulator]], unit: np.ndarray, observed: list[Observation], cutoff: float):
    """Whether each point of the unit cube survives every wave's emulators."""
    keep = np.ones(len(unit), dtype=bool)
    for wave_emulators in emulators:
        predicted = [e.predict(unit) for e in wave_emulators]
        scores = implausibility(
            np.column_stack([m for m, _ in predicted]), np.column_stack([v for _, v in predicted]), observed
        )
        keep &= scores <= cutoff
    return keep


# --- the calibration -------------------------------------------------------------------------


def calibrate(
    scenario: Scenario | str, options: ExperimentOptions, constraint: Constraint | None = None
) -> CalibrationResult:
    """Calibrate a scenario against its targets; write and return what was found.

    Args:
        scenario: A scenario with ``targets:`` and ``calibration:`` sections, or its file.
        options: Where and how the runs execute (folder, workers, scheduler, overrides, progress).
        constraint: The pattern checks (``sim.checks``): the calibrated point must hold every
            pattern ``calibration.patterns`` names.
    """
    from sim.experiments.abc_sampler import run_abc

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, allow_absolute_paths=options.allow_absolute_paths)
    if options.overrides:
        scenario = scenario.with_overrides(list(options.overrides))
    spec, fitted, _ = calibration_setup(scenario)
    if spec.patterns and constraint is None:
        raise ScenarioError(
            f"{scenario.source or 'the scenario'}: calibration.patterns: pattern claims are checked by bureausim "
            "calibrate (the command line) or sim.checks.calibration.run_calibration; this call gave no pattern checks",
            source=scenario.source,
        )
    design = calibration_design(scenario)
    notes: list[str] = []
    with Experiment(design, "calibrate", options) as experiment:
        runner = PointRunner(experiment, fitted, spec.replications, options.progress)
        screening, kept = screen(runner, spec, fitted, scenario.seed, notes)
        fixed = [name for name in spec.parameters if name not in kept]
        box = {name: spec.parameters[name] for name in kept}
        waves = history_match(runner, spec, fitted, box, scenario.seed)
        if waves.empty:
            notes.append(
                "History matching ruled out the whole box: no parameter point reproduces every fitted target within "
                "its observation error and discrepancy (least implausibility "
                f"{waves.points['implausibility'].min():.2f} > {spec.cutoff:g}). ABC-SMC was run over the whole box, "
                "so its posterior is the closest the model comes, not a match."
            )
        patterns = check_patterns(waves, box, fitted, spec, constraint)
        emulators = [] if waves.empty else waves.emulators
        posterior = run_abc(runner, spec, fitted, box, emulators, experiment.folder, scenario.seed, options.progress)
        weights = posterior["weight"].to_numpy(dtype=float)
        summary = weighted_summary(posterior, weights, box)
        order = highest_density(posterior, weights, box)
        calibrated, calibrated_by, chosen_patterns = choose_point(
            posterior, summary, order, box, emulators, fitted, spec, constraint, patterns
        )
        patterns = pd.concat([patterns, chosen_patterns], ignore_index=True)
        predictive = predictive_checks(experiment, scenario, posterior, weights, box, spec, options.progress)
        every = PointRunner(experiment, scenario.targets, CHOSEN_REPLICATIONS, options.progress)
        at_point = every.statistics([calibrated], [CHOSEN], label="calibrated point")
        at_calibrated = target_table(scenario.targets, at_point.iloc[0], spec.discrepancy)
        correlations = weighted_correlations(posterior, weights, kept)
        notes += identifiability_notes(summary, screening, correlations, spec.screen_threshold, fixed)
        effective = weights.sum() ** 2 / (weights**2).sum()
        notes.append(
            f"The last ABC-SMC population has {len(weights)} particles, an effective sample size of {effective:.0f} "
            "(their weights are uneven): quantiles and contraction rest on that many, so a larger "
            "calibration.population narrows their noise."
        )
        notes += unmet_notes(at_calibrated)
        result = CalibrationResult(
            experiment.folder,
            scenario,
            screening,
            kept,
            waves.table,
            waves.points,
            patterns,
            posterior,
            summary,
            predictive,
            calibrated,
            calibrated_by,
            at_calibrated,
            notes,
        )
        write_calibration(result)
        experiment.write_manifest(
            spec.replications,
            options.command,
            calibration={
                "parameters": kept,
                "fixed": fixed,
                "calibrated": calibrated,
                "calibrated_by": calibrated_by,
                "draws": spec.draws,
            },
        )
    return result


def check_patterns(
    waves: Waves,
    box: dict[str, tuple[float, float]],
    fitted: list[Target],
    spec: CalibrationSpec,
    constraint: Constraint | None,
) -> pd.DataFrame:
    """The pattern claims at the design points closest to the targets that no wave rules out.

    A design point counts if its own runs are within the cutoff and every wave's emulators leave
    it (a wave-1 point may be ruled out by a later wave). Returns the checks, closest point first.
    """
    kept = list(box)
    columns = ["where", *kept, "pattern", "holds"]
    if constraint is None or not spec.patterns:
        return pd.DataFrame(columns=columns)
    points = waves.points[waves.points["not_ruled_out"]]
    if len(points) and waves.emulators and not waves.empty:
        unit = box_to_unit(points[kept].to_numpy(dtype=float), box)
        points = points[not_ruled_out(waves.emulators, unit, observations(fitted, spec.discrepancy), spec.cutoff)]
    rows = []
    for _, row in points.nsmallest(spec.pattern_points, "implausibility").iterrows():
        world = typed_values({name: float(row[name]) for name in kept})
        where = f"design point wave {int(row['wave'])} point {int(row['point'])}"
        found = constraint(world)
        rows += [{"where": where, **world, "pattern": pattern, "holds": holds} for pattern, holds in found.items()]
    return pd.DataFrame(rows, columns=columns)


def choose_point(posterior, summary, order, box, emulators, fitted, spec, constraint, design_checks):
    """The calibrated point: the posterior mean if not ruled out and the patterns hold there, else the densest particle.

    Particles are tried in order of density (up to ``pattern_points`` + 1 of them) until the
    patterns hold; failing that, the point of all those checked (the design points of
    :func:`check_patterns`, closest to the targets first, then these candidates) at which the most
    patterns held: one where every pattern held if there is one, else one naming those that fail.
    Returns the point, how it was chosen, and the pattern checks made on the way.
    """
    names = list(box)
    mean = {name: float(v) for name, v in zip(summary["parameter"], summary["mean"], strict=True)}
    candidates = []
    unit = box_to_unit(np.array([[mean[n] for n in names]]), box)
    if not emulators or not_ruled_out(emulators, unit, observations(fitted, spec.discrepancy), spec.cutoff)[0]:
        candidates.append(("posterior mean", typed_values(mean)))
    for rank, index in enumerate(order[: spec.pattern_points + 1]):
        label = (
            "posterior mode (MAP: the particle of highest density)"
            if rank == 0
            else f"particle of density rank {rank + 1}"
        )
        candidates.append((label, typed_values({n: float(posterior[n].iloc[index]) for n in names})))
    checks = []
    for label, point in candidates:
        if constraint is None or not spec.patterns:
            return point, label, pd.DataFrame(columns=["where", *names, "pattern", "holds"])
        found = constraint(point)
        checks += [{"where": label, **point, "pattern": p, "holds": h} for p, h in found.items()]
        if all(found.values()):
            return point, f"{label}, where every pattern named holds", pd.DataFrame(checks)
    everywhere = pd.concat([design_checks, pd.DataFrame(checks)], ignore_index=True)
    label, point = most_patterns(everywhere, names)
    failing = everywhere[(everywhere["where"] == label) & ~everywhere["holds"].astype(bool)]
    if failing.empty:
        reason = "not ruled out, where every pattern named holds (they failed at the posterior's own candidates)"
    else:
        reason = (
            f"where the most patterns named hold (no point checked held every one; {', '.join(failing['pattern'])} "
            "fail there: see patterns.csv)"
        )
    return point, f"{label}, {reason}", pd.DataFrame(checks)


def most_patterns(checks: pd.DataFrame, names: list[str]) -> tuple[str, dict[str, float]]:
    """The checked point at which the most patterns held (the first so checked, on a tie), and its values."""
    held = checks.assign(holds=checks["holds"].astype(bool)).groupby("where", sort=False)["holds"].sum()
    label = str(held.idxmax())
    row = checks[checks["where"] == label].iloc[0]
    return label, typed_values({name: float(row[name]) for name in names})


def draw_indices(weights: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` particle indices resampled by weight, seeded: the posterior draws of checks and compare."""
    rng = np.random.default_rng([seed, 13])
    return rng.choice(len(weights), size=count, replace=True, p=weights / weights.sum())


def predictive_checks(experiment, scenario, posterior, weights, box, spec, progress) -> pd.DataFrame:
    """Posterior predictive checks of every target, held out or fitted, over ``calibration.draws`` draws."""
    names = list(box)
    indices = draw_indices(weights, spec.draws, scenario.seed)
    runner = PointRunner(experiment, scenario.targets, spec.replications, progress)
    points = [{n: float(posterior[n].iloc[i]) for n in names} for i in indices]
    seeds = [own_seeds(scenario.seed, DRAWS + d, spec.replications) for d in range(len(points))]
    stats = runner.statistics(points, [DRAWS + d for d in range(len(points))], "posterior draws", seeds)
    rows = []
    for target in scenario.targets:
        values = stats[target.name].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        # the draws' means carry their replicate noise already: their variance is Var(m(θ)) + E[σ²/R]
        spread = values.var(ddof=1) if len(values) > 1 else 0.0
        total = math.sqrt(spread + target.total_sd(spec.discrepancy) ** 2)
        mean = float(values.mean()) if len(values) else np.nan
        z = (target.observed - mean) / total if total else np.nan
        rows.append(
            {
                **observation_columns(target),
                "predictive_mean": mean,
                "draws_q05": float(np.quantile(values, 0.05)) if len(values) else np.nan,
                "draws_q95": float(np.quantile(values, 0.95)) if len(values) else np.nan,
                "predictive_sd": total,
                "z": z,
                "consistent": bool(abs(z) <= 2) if np.isfinite(z) else False,
            }
        )
    return pd.DataFrame(rows)


def own_seeds(seed: int, point: int, replications: int) -> list[int]:
    """Replication seeds of their own for one point (posterior draws and ABC candidates carry their noise)."""
    words = np.random.SeedSequence([seed, point]).generate_state(replications, dtype=np.uint64)
    return [int(w >> np.uint64(1)) for w in words]


def observation_columns(target: Target) -> dict[str, Any]:
    """The columns every table of targets starts with: what the target is and what was observed."""
    return {
        "target": target.name,
        "output": target.output,
        "held_out": target.held_out,
        "observed": target.observed,
        "observation_sd": target.observation_sd,
    }


def target_table(targets: list[Target], row: pd.Series, relative: float) -> pd.DataFrame:
    """Each target's value at one point beside its observation: met if within 1.96 total sds."""
    rows = []
    for target in targets:
        value = float(row[target.name])
        scale = target.total_sd(relative)
        rows.append(
            {
                **observation_columns(target),
                "discrepancy_sd": target.discrepancy_sd(relative),
                "model": value,
                "model_se": math.sqrt(float(row[f"{target.name}_var"])),
                "distance_sd": (value - target.observed) / scale,
                "met": bool(abs(value - target.observed) <= 1.96 * scale),
                "source": target.source,
            }
        )
    return pd.DataFrame(rows)


def unmet_notes(table: pd.DataFrame) -> list[str]:
    """A sentence for each fitted target the calibrated point does not meet."""
    return [
        f"Target `{row.target}` is not met at the calibrated point: the model gives {row.model:.3g} against "
        f"{row.observed:.3g} ({row.distance_sd:+.1f} total sds)."
        for row in table.itertuples()
        if not row.met and not row.held_out
    ]


def write_calibration(result: CalibrationResult) -> None:
    """The calibration's tables, figures and notes (README, *Reading a calibration*)."""
    folder = result.folder
    tables = {
        "screening.csv": result.screening,
        "waves.csv": result.waves,
        "wave_points.csv": result.design_points,
        "patterns.csv": result.patterns,
        "posterior.csv": result.posterior,
        "posterior_summary.csv": result.summary,
        "predictive_checks.csv": result.predictive,
        "at_calibrated.csv": result.at_calibrated,
    }
    for name, table in tables.items():
        write_text(folder / name, table.to_csv(index=False))
    write_text(folder / "calibrated.yaml", calibrated_yaml(result))
    write_text(folder / "identifiability.md", "\n".join(f"- {note}" for note in result.notes) + "\n")
    write_text(folder / "calibrated.json", json.dumps(result.calibrated, indent=2) + "\n")
    draw_calibration(result)


def draw_calibration(result: CalibrationResult) -> None:
    """The calibration's figures, beside its tables: screening, waves, posterior pairs, predictive checks."""
    from sim.analysis.calibration_plots import pair_plot, predictive_plot, screening_plot, waves_plot

    folder = result.folder
    if not result.screening.empty:
        screening_plot(result.screening, folder / "screening.png")
    waves_plot(result.waves, folder / "waves.png")
    pair_plot(result.posterior, result.summary, result.calibrated, folder / "posterior_pairs.png")
    predictive_plot(result.predictive, folder / "predictive_checks.png")


def read_calibration(folder: Path, scenario: Scenario, manifest: dict) -> CalibrationResult:
    """A finished calibration's folder read back (the tables :func:`write_calibration` wrote)."""

    def table(name: str) -> pd.DataFrame:
        path = folder / name
        return read_table(path) if path.stat().st_size > 1 else pd.DataFrame()  # an empty table is one newline

    notes = (folder / "identifiability.md").read_text(encoding="utf-8").splitlines()
    return CalibrationResult(
        folder,
        scenario,
        table("screening.csv"),
        list(manifest["calibration"]["parameters"]),
        table("waves.csv"),
        table("wave_points.csv"),
        table("patterns.csv"),
        table("posterior.csv"),
        table("posterior_summary.csv"),
        table("predictive_checks.csv"),
        json.loads((folder / "calibrated.json").read_text(encoding="utf-8")),
        str(manifest["calibration"]["calibrated_by"]),
        table("at_calibrated.csv"),
        [note.removeprefix("- ") for note in notes if note.strip()],
    )


def _number(value: float | int) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def calibrated_yaml(result: CalibrationResult) -> str:
    """The calibrated point as a ``parameters:`` section to paste into a scenario."""
    groups: dict[str, dict[str, float]] = {}
    for path, value in typed_values(result.calibrated).items():
        group, name = path.split(".", 1)
        groups.setdefault(group, {})[name] = value
    lines = [f"# {result.scenario.name}: the calibrated point ({result.calibrated_by})", "parameters:"]
    for group, values in groups.items():
        lines.append(f"  {group}:")
        lines += [
            f"    {name}: {value:.6g}" if isinstance(value, float) else f"    {name}: {value}"
            for name, value in values.items()
        ]
    return "\n".join(lines) + "\n"


def posterior_draws(folder: str | Path, count: int | None, seed: int) -> pd.DataFrame:
    """``count`` draws (default: the calibration's ``draws``) from a calibration folder's posterior, by weight.

    One row per draw: ``draw``, ``particle`` and the parameters by dotted path. Refuses a folder
    that is not a finished calibration.
    """
    folder = Path(folder)
    manifest_path, table = folder / "manifest.json", folder / "posterior.csv"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("kind") != "calibrate" or not table.is_file():
        raise ScenarioError(
            "is not the folder of a finished calibration (bureausim calibrate writes manifest.json and posterior.csv)",
            source=str(folder),
        )
    posterior = pd.read_csv(table)
    paths = list(manifest["calibration"]["parameters"])
    count = count if count is not None else int(manifest["calibration"]["draws"])
    if count < 2:
        raise ScenarioError(f"must be at least 2 (got {count})", source="--draws")
    indices = draw_indices(posterior["weight"].to_numpy(dtype=float), count, seed)
    draws = posterior.iloc[indices][paths].reset_index(drop=True)
    draws.insert(0, "particle", indices)
    draws.insert(0, "draw", range(count))
    return draws
