"""Robust reform choice: every arm in every one of many uncertain futures.

:func:`robustness` draws futures from the scenario's ``uncertainties:`` by Latin hypercube,
runs every arm in every future for the scenario's replications with common random numbers
(the same futures, and the same seed for replication *k* everywhere), and judges the arms
across futures rather than at one point:

- the distribution of each outcome over futures (mean, 10th, 50th, 90th percentile);
- regret: in each future, an arm's shortfall from the best arm there, summarised per arm
  by its mean, 90th percentile and maximum (Savage's minimax regret);
- satisficing: the share of futures in which an arm meets the scenario's thresholds;
- a ranking of the arms by each of these criteria;
- scenario discovery (:mod:`sim.analysis.discovery`): where a condition on an arm holds.

A future's values replace the scenario's own parameter values; every arm's policies and
overrides then act on them, as they act on the scenario's values in ``compare``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Unpack

import numpy as np
import pandas as pd

from sim.analysis import discovery, style
from sim.analysis.discovery import Discovery
from sim.analysis.plots import outcome_ranges, regret_boxes
from sim.analysis.regret import (
    OPERATORS,
    distribution_table,
    future_values,
    rank_arms,
    regret_table,
    satisficing_table,
    summarise_regret,
)
from sim.analysis.sampling import latin_hypercube
from sim.atomic import write_table
from sim.errors import RunsFailed, ScenarioError
from sim.experiments.budget import check_run_count, counted
from sim.experiments.template import (
    Design,
    ExecutionKeywords,
    Experiment,
    ExperimentKind,
    ExperimentOptions,
    run_experiment,
)
from sim.scenario.conditions import parse_condition
from sim.scenario.loader import validate_scenario
from sim.scenario.schema import DEFAULT_MIN_DENSITY, Scenario, typed_values
from sim.storage.results_folder import read_table
from sim.storage.run_store import RunSpec, table_digest

MAX_FUTURES = 100_000
"""Most futures one analysis may draw."""


@dataclass
class RobustnessResult:
    """The outcome of a robustness analysis, read back from its results folder.

    Attributes:
        folder: The results folder.
        scenario: The scenario analysed.
        futures: One row per future: ``future`` and the value of every uncertain parameter.
        values: One row per arm and future: every output's mean over the replications.
        distribution: Per arm and outcome: mean, 10th, 50th and 90th percentile over futures.
        regret: Per future, arm and outcome: the arm's value, the best arm's value, the regret.
        regret_summary: Per arm and outcome: mean, 90th percentile and maximum regret.
        satisficing: Per arm: the share of futures meeting each threshold, and all of them.
        rankings: Per criterion and arm: the criterion's value and the arm's rank (1 is best).
        discoveries: The scenario's discovery questions, answered.
        runs: One row per finished run with every output's value.
        failures: Runs that failed and have not finished since, by key.
    """

    folder: Path
    scenario: Scenario
    futures: pd.DataFrame
    values: pd.DataFrame
    distribution: pd.DataFrame
    regret: pd.DataFrame
    regret_summary: pd.DataFrame
    satisficing: pd.DataFrame
    rankings: pd.DataFrame
    discoveries: list[Discovery] = field(default_factory=list)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    failures: dict = field(default_factory=dict)

    def discover(self, arm: str, when: str, min_density: float = DEFAULT_MIN_DENSITY) -> Discovery:
        """Where among the futures ``when`` holds for ``arm`` (e.g. ``"goal_attainment <= status_quo"``)."""
        return discover_condition(self.scenario, self.futures, self.values, arm, when, min_density)[0]

    def discover_boxes(
        self, arm: str, when: str, min_density: float = DEFAULT_MIN_DENSITY, boxes: int = 2
    ) -> list[Discovery]:
        """Up to ``boxes`` boxes where ``when`` holds for ``arm``, each among the futures the earlier ones leave."""
        return discover_condition(self.scenario, self.futures, self.values, arm, when, min_density, boxes)

    def plot_distribution(self, outcome: str = "goal_attainment", path: Path | None = None):
        """Each arm's outcome over the futures: 10th-90th percentile, median and mean."""
        return outcome_ranges(self.distribution, outcome, path)

    def plot_regret(self, outcome: str = "goal_attainment", path: Path | None = None):
        """Each arm's regret on the outcome across futures, with its maximum (not for ``direction: none``)."""
        if outcome not in set(self.regret["outcome"]):
            judged = ", ".join(dict.fromkeys(self.regret["outcome"]))
            raise ScenarioError(
                f"{outcome!r} has no regret (only outcomes with a direction do: {judged})", field="outcome"
            )
        return regret_boxes(self.regret, outcome, path)


def robustness(
    scenario: Scenario | str | Path,
    *,
    futures: int | None = None,
    discover: list[str] | None = None,
    **execution: Unpack[ExecutionKeywords],
) -> RobustnessResult:
    """Run every arm in every future and judge the arms across futures.

    Args:
        scenario: A scenario with ``arms:`` and ``uncertainties:``, or its path.
        futures: Futures to draw (default: the scenario's ``robustness.futures``).
        discover: Extra discovery questions, each ``"ARM: CONDITION"``.
        **execution: Where and how it runs, as for every experiment (``out``, ``workers``,
            ``scheduler``, ``retry_failed``, ``allow_other_code``, ``overrides``, ``progress``, ``command``): see
            :class:`sim.experiments.template.ExperimentOptions`.

    Returns:
        The tables, also written to ``out`` with their plots.
    """
    return run_experiment(RobustnessKind(futures, discover), scenario, ExperimentOptions(**execution))


@dataclass(frozen=True, kw_only=True)
class RobustnessDesign(Design):
    """Every arm in every future × replications: the futures drawn, each a set of the scenario's own values."""

    points_field: ClassVar[str] = "uncertainties"

    futures: pd.DataFrame

    def specs(self, replications: int) -> list[RunSpec]:
        """Replication *k* of every arm in every future, with the same seed everywhere."""
        seeds = self.seeds(replications)
        worlds = self.futures.drop(columns="future").to_dict("records")
        return [
            RunSpec(arm.name, future, k, seed, world=world)
            for arm in self.scenario.arms
            for future, world in enumerate(worlds)
            for k, seed in enumerate(seeds)
        ]


@dataclass(frozen=True)
class RobustnessKind(ExperimentKind):
    """``robustness``: every arm in many futures, judged by regret, satisficing and scenario discovery.

    Attributes:
        futures: Futures to draw (default: the scenario's ``robustness.futures``).
        discover: Extra discovery questions, each ``"ARM: CONDITION"``.
    """

    futures: int | None = None
    discover: list[str] | None = None
    name: ClassVar[str] = "robustness"

    @staticmethod
    def applies(scenario: Scenario) -> bool:
        """A scenario with two or more arms and uncertainties can be judged for robustness."""
        return len(scenario.arms) >= 2 and bool(scenario.uncertainties)

    def design(self, scenario: Scenario, options: ExperimentOptions) -> RobustnessDesign:
        """Refuse too few arms, no uncertainties, a bad number of futures or an invalid future; draw the futures."""
        _check_overrides(scenario, options.overrides)
        scenario = _with_questions(scenario, self.discover or [])
        if len(scenario.arms) < 2:
            raise ScenarioError("needs at least two arms to compare", source=scenario.source, field="arms")
        if not scenario.uncertainties:
            raise ScenarioError(
                "needs uncertain parameters to draw futures from", source=scenario.source, field="uncertainties"
            )
        count = scenario.robustness.futures if self.futures is None else self.futures
        if not 2 <= count <= MAX_FUTURES:
            raise ScenarioError(f"must be from 2 to {MAX_FUTURES:,}", source="--futures")
        check_run_count(
            count * len(scenario.arms) * scenario.replications,
            f"{count:,} futures x {len(scenario.arms)} arms x {counted(scenario.replications, 'replication')}",
            scenario,
            source="--futures" if self.futures is not None else scenario.source,
            field=None if self.futures is not None else "robustness.futures",
        )
        sample = draw_futures(scenario, count)
        return RobustnessDesign(
            scenario=scenario,
            replications=scenario.replications,
            identity={"futures": count, "sample": table_digest(sample)},
            conditions=_condition_outcomes(scenario),
            futures=sample,
        )

    def analyse(
        self, design: RobustnessDesign, runs: pd.DataFrame, replications: int, experiment: Experiment
    ) -> RobustnessResult:
        """Every table of the analysis; regret needs every arm in every future, so every run must have finished."""
        expected = len(design.futures) * len(design.scenario.arms) * replications
        if experiment.store.failures() or len(runs) < expected:
            raise RunsFailed(
                f"{expected - len(runs)} of {expected} runs did not finish, and regret needs every arm in every "
                f"future; see {experiment.folder / 'failures.jsonl'} and re-run with --retry-failed"
            )
        return judge_arms(experiment.folder, design.scenario, design.futures, runs)

    def write(self, design: RobustnessDesign, result: RobustnessResult) -> dict[str, Any]:
        """Every table as CSV and the plots as PNG."""
        write_outputs(result)
        return {"futures": len(design.futures)}

    @classmethod
    def draw(cls, result: RobustnessResult) -> None:
        """Every figure (:func:`draw_robustness`)."""
        draw_robustness(result)

    @classmethod
    def read(
        cls, folder: Path, scenario: Scenario, manifest: dict, runs: pd.DataFrame, failures: dict
    ) -> RobustnessResult:
        """The tables as written; discovery questions are answered again (fast)."""
        return read_robustness(folder, scenario, runs, failures)


def _check_overrides(scenario: Scenario, overrides: tuple[str, ...]) -> None:
    """Refuse a ``--set`` of an uncertain parameter: every future replaces its value."""
    for assignment in overrides:
        path = assignment.partition("=")[0].removeprefix("parameters.")
        if path in scenario.uncertainties:
            raise ScenarioError(
                f"{path} is uncertain in this scenario, so every future replaces its value; "
                "change its range under uncertainties: instead",
                source="--set",
                field=assignment.partition("=")[0],
            )


def _condition_outcomes(scenario: Scenario) -> dict[str, str]:
    """The outcome each threshold and discovery question names, by the field that names it."""
    arms = [arm.name for arm in scenario.arms]
    named = {
        f"robustness.satisficing.{index}": parse_condition(text).outcome
        for index, text in enumerate(scenario.robustness.satisficing)
    }
    for index, question in enumerate(scenario.robustness.discover):
        named[f"robustness.discover.{index}.when"] = parse_condition(question.when, arms).outcome
    return named


def _with_questions(scenario: Scenario, questions: list[str]) -> Scenario:
    """The scenario with ``--discover "ARM: CONDITION"`` questions added to its own."""
    if not questions:
        return scenario
    for text in questions:
        arm, sep, when = text.partition(":")
        if not sep:
            raise ScenarioError(
                "expected 'ARM: CONDITION', e.g. 'fault_tolerance: goal_attainment <= status_quo'",
                source="--discover",
                field=text,
            )
        data = scenario.model_dump(mode="json")
        data["robustness"]["discover"].append({"arm": arm.strip(), "when": when.strip()})
        try:
            scenario = validate_scenario(data, source="--discover", lines={}, origin=scenario.source)
        except ScenarioError as error:  # the scenario was valid, so the question just added is at fault
            raise ScenarioError(error.message, source="--discover", field=text) from None
    return scenario


def draw_futures(scenario: Scenario, count: int) -> pd.DataFrame:
    """``count`` futures by Latin hypercube over the uncertainties, seeded with the scenario's seed."""
    names = list(scenario.uncertainties)
    sample = latin_hypercube(scenario.uncertainties, count, scenario.seed)
    rows = [typed_values(dict(zip(names, row, strict=True))) for row in sample.tolist()]
    frame = pd.DataFrame(rows, columns=names)
    frame.insert(0, "future", np.arange(count))
    return frame


# --- the tables --------------------------------------------------------------------------------


def judge_arms(folder: Path, scenario: Scenario, futures: pd.DataFrame, runs: pd.DataFrame) -> RobustnessResult:
    """Every table of a robustness analysis, from its finished runs."""
    outcomes = [(o.name, o.direction) for o in scenario.outcomes]
    judged = [(name, direction) for name, direction in outcomes if direction != "none"]  # no regret without an aim
    arms = [arm.name for arm in scenario.arms]
    values = future_values(runs, arms)
    regret = regret_table(values, judged)
    summary = summarise_regret(regret)
    distribution = distribution_table(values, outcomes)
    conditions = scenario.robustness.satisficing
    satisficing = satisficing_table(values, conditions, arms)
    rankings = rank_arms(distribution, summary, satisficing, judged)
    discoveries = answer_questions(scenario, futures, values)
    return RobustnessResult(
        folder, scenario, futures, values, distribution, regret, summary, satisficing, rankings, discoveries, runs
    )


def answer_questions(scenario: Scenario, futures: pd.DataFrame, values: pd.DataFrame) -> list[Discovery]:
    """The boxes of every discovery question of the scenario, in order (a question's boxes one after another)."""
    return [
        found
        for q in scenario.robustness.discover
        for found in discover_condition(scenario, futures, values, q.arm, q.when, q.density, q.boxes)
    ]


def discover_condition(
    scenario: Scenario,
    futures: pd.DataFrame,
    values: pd.DataFrame,
    arm: str,
    when: str,
    min_density: float = DEFAULT_MIN_DENSITY,
    boxes: int = 1,
) -> list[Discovery]:
    """Scenario discovery of where ``when`` holds for ``arm`` among the futures: up to ``boxes`` boxes."""
    arms = [a.name for a in scenario.arms]
    if arm not in arms:
        raise ScenarioError(f"no arm named {arm!r}; arms: {', '.join(arms)}", source="discover")
    try:
        condition = parse_condition(when, arms)
    except ValueError as error:
        raise ScenarioError(str(error), source="discover") from None
    mine = values[values["arm"] == arm].set_index("future")[condition.outcome]
    if isinstance(condition.value, str):
        other = values[values["arm"] == condition.value].set_index("future")[condition.outcome] + condition.margin
    else:
        other = pd.Series(condition.value, index=mine.index)
    ordered = futures.set_index("future")
    cases = OPERATORS[condition.op](mine.loc[ordered.index], other.loc[ordered.index]).to_numpy()
    return discovery.discover_boxes(
        ordered.reset_index(drop=True), cases, label=f"{arm}: {condition}", min_density=min_density, boxes=boxes
    )


def read_robustness(folder: Path, scenario: Scenario, runs: pd.DataFrame, failures: dict) -> RobustnessResult:
    """A finished robustness folder's tables, read back; discovery questions are answered again (fast)."""
    futures = read_table(folder / "futures.csv")
    values = read_table(folder / "values.csv")
    regret = read_table(folder / "regret.csv")
    discoveries = answer_questions(scenario, futures, values)
    return RobustnessResult(
        folder,
        scenario,
        futures,
        values,
        read_table(folder / "distribution.csv"),
        regret,
        read_table(folder / "regret_summary.csv"),
        read_table(folder / "satisficing.csv"),
        read_table(folder / "rankings.csv"),
        discoveries,
        runs,
        failures,
    )


# --- writing -----------------------------------------------------------------------------------


def write_outputs(result: RobustnessResult) -> None:
    """The tables as CSV and the plots as PNG, into the results folder."""
    folder = result.folder
    write_table(result.futures, folder / "futures.csv")
    write_table(result.values, folder / "values.csv")
    write_table(result.distribution, folder / "distribution.csv")
    write_table(result.regret, folder / "regret.csv")
    write_table(result.regret_summary, folder / "regret_summary.csv")
    write_table(result.satisficing, folder / "satisficing.csv")
    write_table(result.rankings, folder / "rankings.csv")
    write_table(result.runs, folder / "runs.parquet")
    summaries, boxes, trajectories = [], [], []
    for found, question, _ in numbered_discoveries(result):
        labels = {"question": question, "box": found.number, "condition": found.label}
        summaries.append({"question": question} | found.stats)
        boxes.append(found.limits.assign(**labels).pipe(_question_first))
        trajectories.append(found.trajectory.assign(**labels).pipe(_question_first))
    discovery_files = {
        "discovery.csv": summaries,
        "discovery_boxes.csv": boxes,
        "discovery_trajectory.csv": trajectories,
    }
    for name, frames in discovery_files.items():
        path = folder / name
        if not frames:
            path.unlink(missing_ok=True)
        elif name == "discovery.csv":
            write_table(pd.DataFrame(frames), path)
        else:
            write_table(pd.concat(frames, ignore_index=True), path)
    draw_robustness(result)


def draw_robustness(result: RobustnessResult) -> None:
    """The plots: each outcome's distribution and regret, each discovery's trajectory and pairs."""
    plots = result.folder / "plots"
    plots.mkdir(exist_ok=True)
    for outcome in result.scenario.outcomes:
        result.plot_distribution(outcome.name, plots / f"distribution_{outcome.name}.png")
        if outcome.direction != "none":  # an outcome without a direction has no best arm, so no regret
            result.plot_regret(outcome.name, plots / f"regret_{outcome.name}.png")
    figures = {
        f"{stem}_{what}": found for found, _, stem in numbered_discoveries(result) for what in ("trajectory", "pairs")
    }
    for stale in plots.glob("discovery_*"):  # questions may have changed since the last analysis: any format
        if stale.stem not in figures:
            style.remove(stale)
    for name, found in figures.items():
        draw = found.plot_trajectory if name.endswith("_trajectory") else found.plot_pairs
        draw(plots / f"{name}.png")


def numbered_discoveries(result: RobustnessResult) -> Iterator[tuple[Discovery, int, str]]:
    """Each discovery box with its question's number (from 1) and its figures' stem (``discovery_2_box2``)."""
    question = 0
    for found in result.discoveries:
        question += found.number == 1  # a question's boxes follow it, numbered from 1
        yield found, question, f"discovery_{question}" + (f"_box{found.number}" if found.number > 1 else "")


def _question_first(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the question's number, the box's number and the condition as its first columns."""
    first = ["question", "box", "condition"]
    return frame[[*first, *[c for c in frame.columns if c not in first]]]
