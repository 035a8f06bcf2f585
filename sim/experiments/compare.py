"""Comparing reforms: every arm × replications with common random numbers, paired effects.

:func:`compare` runs the scenario's arms (replication *k* of every arm shares a seed), stores
runs as they finish, and summarises from disk: per outcome, each arm's mean with its 95% CI
and, against the reference arm, the paired difference with its CI, a standardised effect size
and a verdict. With ``precision``, it adds replications in rounds until every paired
difference is known to within that half-width, or the replication cap is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Unpack

import pandas as pd

from sim.analysis.factorial import factorial_effects
from sim.analysis.plots import forest_plot, series_by_arm
from sim.analysis.statistics import ADJUSTMENTS, paired_effects
from sim.atomic import write_table
from sim.errors import ScenarioError
from sim.experiments.budget import check_run_count, counted
from sim.experiments.template import (
    AnotherRound,
    Design,
    ExecutionKeywords,
    Experiment,
    ExperimentKind,
    ExperimentOptions,
    run_experiment,
)
from sim.scenario.schema import FACTORS_OFF, Scenario
from sim.storage.results_folder import read_table
from sim.storage.run_store import RunSpec, RunStore, table_digest

EFFECT_COLUMNS = [
    "arm",
    "outcome",
    "direction",
    "n",
    "mean",
    "ci_low",
    "ci_high",
    "difference",
    "difference_low",
    "difference_high",
    "cohens_d",
    "paired_dz",
    "p_value",
    "p_adjusted",
    "verdict",
]
"""The columns of ``effects.csv``, in order (``p_adjusted`` only with an adjustment)."""


@dataclass
class CompareResult:
    """The outcome of a comparison, read back from its results folder.

    Attributes:
        folder: The results folder.
        scenario: The scenario compared.
        effects: Per arm and outcome: means, CIs, paired differences, effect sizes, verdicts.
        runs: One row per finished run with every output's value.
        failures: Runs that failed and have not finished since, by key.
        stop_reason: Why adding replications stopped (with ``precision``), else ``None``.
        factorial: For a scenario with ``factors:``, every main effect and interaction per
            outcome with its paired CI (:func:`sim.analysis.factorial.factorial_effects`), else ``None``.
    """

    folder: Path
    scenario: Scenario
    effects: pd.DataFrame
    runs: pd.DataFrame
    failures: dict
    stop_reason: str | None = None
    factorial: pd.DataFrame | None = None

    @property
    def steps(self) -> pd.DataFrame:
        """Every finished run's steps table, read from disk (all at once: large for many runs)."""
        return RunStore(self.folder, self.scenario, "compare", readonly=True).steps()

    def bands(self, outputs: list[str] | None = None) -> pd.DataFrame:
        """Per arm (in scenario order), period and output: mean and 95% CI over the runs of ``effects``.

        Read part by part, so memory does not grow with the number of runs.
        """
        outputs = outputs or [o.name for o in self.scenario.outcomes]
        replications = int(self.runs["replication"].max()) + 1  # the runs the effects were computed from
        bands = RunStore(self.folder, self.scenario, "compare", readonly=True).bands(outputs, replications)
        order = {arm.name: position for position, arm in enumerate(self.scenario.arms)}
        return bands.sort_values(["arm", "output", "period"], key=lambda c: c.map(order) if c.name == "arm" else c)

    def plot_forest(self, path: Path | None = None):
        """Paired differences from the reference arm with 95% CIs, one panel per outcome."""
        return forest_plot(self.effects, self.scenario.reference_arm, path)

    def plot_series(self, outcomes: list[str] | None = None, path: Path | None = None):
        """Outcomes over time (default: the scenario's), one line per arm with its 95% band."""
        outcomes = outcomes or [o.name for o in self.scenario.outcomes]
        return series_by_arm(self.bands(outcomes), outcomes, path, self.scenario.burn_in_periods)


def compare(
    scenario: Scenario | str | Path,
    *,
    precision: float | None = None,
    max_replications: int | None = None,
    adjust: str | None = None,
    min_effect: float | None = None,
    posterior: str | Path | None = None,
    draws: int | None = None,
    **execution: Unpack[ExecutionKeywords],
) -> CompareResult:
    """Compare the scenario's arms over replications with common random numbers.

    Args:
        scenario: A scenario, or the path of a scenario file.
        precision: Add replications until every paired-difference CI half-width is at most this.
        max_replications: Cap on replications per arm with ``precision`` (default 10 × the scenario's).
        adjust: Adjust p-values over every arm × outcome, ``"holm"`` or ``"bh"`` (Benjamini–Hochberg).
        min_effect: Smallest difference of interest for the outcomes that do not set their own
            ``min_effect``: a difference whose CI lies within ±min_effect is *negligible*.
        posterior: A calibration's folder (``bureausim calibrate``): every arm is run at ``draws``
            posterior draws (each the scenario's own values, arms acting on top), with the same
            replication seeds in every arm and draw, so each effect carries parameter uncertainty.
        draws: Posterior draws (default: the calibration's ``draws``).
        **execution: Where and how it runs, as for every experiment (``out``, ``workers``,
            ``scheduler``, ``retry_failed``, ``allow_other_code``, ``overrides``, ``progress``, ``command``): see
            :class:`sim.experiments.template.ExperimentOptions`.

    Returns:
        The comparison's tables, also written to ``out``.
    """
    kind = CompareKind(precision, max_replications, adjust, min_effect, posterior, draws)
    return run_experiment(kind, scenario, ExperimentOptions(**execution))


@dataclass(frozen=True, kw_only=True)
class CompareDesign(Design):
    """Every arm × replications; with a precision, the replication cap that the rounds may reach."""

    cap: int
    worlds: tuple[dict[str, Any], ...] = ()
    points_field: ClassVar[str] = "posterior draws"

    def specs(self, replications: int) -> list[RunSpec]:
        """Replication *k* of every arm (at every posterior draw), with the same seed in every arm and draw."""
        seeds = self.seeds(replications)
        if not self.worlds:
            return [RunSpec(arm.name, 0, k, seeds[k]) for arm in self.scenario.arms for k in range(replications)]
        return [
            RunSpec(arm.name, draw, k, seeds[k], world=world)
            for arm in self.scenario.arms
            for draw, world in enumerate(self.worlds)
            for k in range(replications)
        ]

    def most_runs(self) -> int:
        """Every arm at the replication cap: what the rounds of ``--precision`` may reach."""
        return len(self.scenario.arms) * self.cap * max(len(self.worlds), 1)


@dataclass(frozen=True)
class CompareKind(ExperimentKind):
    """``compare``: paired effects of every arm against the reference arm.

    Attributes:
        precision: Add replications until every paired-difference CI half-width is at most this.
        max_replications: Cap on replications per arm with ``precision`` (default 10 × the scenario's).
        adjust: Adjust p-values over every arm × outcome (``holm`` or ``bh``); verdicts follow them.
        min_effect: Smallest difference of interest for outcomes without their own.
        posterior: A calibration's folder: run every arm at its posterior draws.
        draws: Posterior draws (default: the calibration's).
    """

    precision: float | None = None
    max_replications: int | None = None
    adjust: str | None = None
    min_effect: float | None = None
    posterior: str | Path | None = None
    draws: int | None = None
    name: ClassVar[str] = "compare"

    @staticmethod
    def applies(scenario: Scenario) -> bool:
        """A scenario with arms can be compared."""
        return bool(scenario.arms)

    def design(self, scenario: Scenario, options: ExperimentOptions) -> CompareDesign:
        """Refuse a scenario without arms, and a precision or cap that cannot be met."""
        if not scenario.arms:
            raise ScenarioError("has no arms to compare; add an arms: section", source=scenario.source, field="arms")
        check_judgement(self.adjust, self.min_effect)
        if self.precision is not None and not self.precision > 0:
            raise ScenarioError("must be positive", source="--precision")
        cap = self.max_replications or 10 * scenario.replications
        if cap < scenario.replications:
            raise ScenarioError(
                f"is below the scenario's {scenario.replications} replications", source="--max-replications"
            )
        most = cap if self.precision is not None else scenario.replications
        worlds: tuple[dict[str, Any], ...] = ()
        identity = None
        if self.posterior is not None:
            if self.precision is not None:
                raise ScenarioError(
                    "cannot be combined with --posterior (the draws set the runs)", source="--precision"
                )
            from sim.experiments.calibrate import posterior_draws
            from sim.scenario.schema import typed_values

            sample = posterior_draws(self.posterior, self.draws, scenario.seed)
            worlds = tuple(typed_values(row) for row in sample.drop(columns=["draw", "particle"]).to_dict("records"))
            identity = {"posterior_draws": len(worlds), "sample": table_digest(sample)}
        elif self.draws is not None:
            raise ScenarioError("needs --posterior FOLDER", source="--draws")
        check_run_count(
            len(scenario.arms) * most * max(len(worlds), 1),
            f"{len(scenario.arms)} arms x {counted(most, 'replication')}"
            + (f" x {counted(len(worlds), 'posterior draw')}" if worlds else ""),
            scenario,
            source="--max-replications" if self.precision is not None else scenario.source,
            field=None if self.precision is not None else "replications",
        )
        return CompareDesign(
            scenario=scenario, replications=scenario.replications, cap=most, worlds=worlds, identity=identity
        )

    def analyse(
        self, design: CompareDesign, runs: pd.DataFrame, replications: int, experiment: Experiment
    ) -> CompareResult | AnotherRound:
        """Paired effects; with a precision not yet reached (and the cap not hit), another, larger round."""
        scenario = design.scenario
        values = _in_arm_order(runs, scenario)
        outcomes = judged_outcomes(scenario, self.min_effect)
        if design.worlds:
            effects = posterior_effects(values, outcomes, scenario.reference_arm, replications, self.adjust)
        else:
            effects = paired_effects(values, outcomes, scenario.reference_arm, adjust=self.adjust)
        stop_reason = None
        if self.precision is not None:
            widest = _widest_half_width(effects)
            if widest <= self.precision:
                stop_reason = (
                    f"precision reached: widest CI half-width {widest:.4g} <= {self.precision} "
                    f"with {replications} replications"
                )
            elif replications >= design.cap:
                stop_reason = (
                    f"replication cap {design.cap} reached: widest CI half-width {widest:.4g} > {self.precision}"
                )
            else:
                return AnotherRound(_next_replications(replications, widest, self.precision, design.cap))
        failures = experiment.store.failures()
        effects = effects[[column for column in [*EFFECT_COLUMNS, *POSTERIOR_COLUMNS] if column in effects]]
        factorial = None
        if scenario.factors is not None:
            cells = {arm.name: frozenset(arm.name.split("-")) - {FACTORS_OFF} for arm in scenario.arms}
            factorial = factorial_effects(values, cells, list(scenario.factors), outcomes, adjust=self.adjust)
        return CompareResult(experiment.folder, scenario, effects, values, failures, stop_reason, factorial)

    def write(self, design: CompareDesign, result: CompareResult) -> dict[str, Any]:
        """``effects.csv``, ``runs.parquet`` and the forest and series plots."""
        folder = result.folder
        write_table(result.effects, folder / "effects.csv")
        if result.factorial is not None:
            write_table(result.factorial, folder / "factorial.csv")
        write_table(result.runs, folder / "runs.parquet")
        self.draw(result)
        return {
            "reference": design.scenario.reference_arm,
            "stop_reason": result.stop_reason,
            "adjust": self.adjust,
            "min_effect": self.min_effect,
            **({"posterior": str(self.posterior), "posterior_draws": len(design.worlds)} if design.worlds else {}),
        }

    @classmethod
    def draw(cls, result: CompareResult) -> None:
        """``plots/forest.png`` and ``plots/series.png``."""
        plots = result.folder / "plots"
        plots.mkdir(exist_ok=True)
        result.plot_forest(plots / "forest.png")
        result.plot_series(path=plots / "series.png")

    @classmethod
    def read(
        cls, folder: Path, scenario: Scenario, manifest: dict, runs: pd.DataFrame, failures: dict
    ) -> CompareResult:
        """The effects as written, and why adding replications stopped."""
        effects = read_table(folder / "effects.csv")
        factorial = read_table(folder / "factorial.csv") if scenario.factors is not None else None
        return CompareResult(folder, scenario, effects, runs, failures, manifest.get("stop_reason"), factorial)


POSTERIOR_COLUMNS = ["uncertainty", "draws", "draw_low", "draw_high"]
"""The columns ``effects.csv`` adds with ``--posterior``: what its CIs include, and the spread over draws."""


def posterior_effects(
    values: pd.DataFrame, outcomes: list[tuple], reference: str, replications: int, adjust: str | None
) -> pd.DataFrame:
    """Paired effects over every (posterior draw, replication) pair, and the effect's spread over the draws.

    Replication *k* of draw *d* is paired across arms (same parameters, same seed), so each
    pair's difference carries the draw's parameters as well as the replication's noise: the
    CI is that of the effect averaged over the posterior. ``draw_low`` / ``draw_high`` are the 5%
    and 95% quantiles over draws of each draw's mean difference: parameter uncertainty alone.
    """
    pooled = values.assign(replication=values["point"] * replications + values["replication"])
    effects = paired_effects(pooled, outcomes, reference, adjust=adjust)
    draws = int(values["point"].nunique())
    effects["uncertainty"] = f"replications and parameters ({draws} posterior draws)"
    effects["draws"] = draws
    names = [outcome[0] for outcome in outcomes]
    by_draw = values.groupby(["arm", "point"])[names].mean()
    for index, row in effects.iterrows():
        if row["arm"] == reference:
            continue
        difference = by_draw.loc[row["arm"], row["outcome"]] - by_draw.loc[reference, row["outcome"]]
        difference = difference.dropna()
        if len(difference):
            effects.loc[index, "draw_low"] = float(difference.quantile(0.05))
            effects.loc[index, "draw_high"] = float(difference.quantile(0.95))
    return effects


def check_judgement(adjust: str | None, min_effect: float | None) -> None:
    """Refuse an unknown ``--adjust`` method and a ``--min-effect`` that is not a positive number."""
    if adjust is not None and adjust not in ADJUSTMENTS:
        raise ScenarioError(
            f"{adjust!r} is not an adjustment; one of {', '.join(ADJUSTMENTS)} (Holm, Benjamini-Hochberg)",
            source="--adjust",
        )
    number = isinstance(min_effect, int | float) and not isinstance(min_effect, bool)
    if min_effect is not None and (not number or not math.isfinite(min_effect) or min_effect <= 0):
        raise ScenarioError(f"must be a positive number (got {min_effect!r})", source="--min-effect")


def judged_outcomes(scenario: Scenario, min_effect: float | None = None) -> list[tuple[str, str, float | None]]:
    """``(name, direction, min_effect)`` of every outcome; ``min_effect`` fills in for outcomes without their own."""
    return [(o.name, o.direction, o.min_effect if o.min_effect is not None else min_effect) for o in scenario.outcomes]


def _next_replications(replications: int, widest: float, precision: float, cap: int) -> int:
    """Replications for the next round: enough for the widest half-width to reach ``precision``, at most ``cap``."""
    if math.isinf(widest):  # a CI is not known yet (fewer than 2 pairs): double
        return min(cap, max(replications + 2, 2 * replications))
    needed = math.ceil(replications * min(widest / precision, cap) ** 2)  # capped, so squaring cannot overflow
    return min(cap, max(replications + 2, needed))


def _in_arm_order(values: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    if values.empty:
        return values
    order = {arm.name: position for position, arm in enumerate(scenario.arms)}
    return values.sort_values(
        ["arm", "replication"], key=lambda c: c.map(order) if c.name == "arm" else c, kind="stable"
    )


def _widest_half_width(effects: pd.DataFrame) -> float:
    others = effects[effects["verdict"] != "reference"]
    half = (others["difference_high"] - others["difference_low"]) / 2
    return float(half.max()) if half.notna().all() else math.inf
