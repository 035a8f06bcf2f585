"""What the command line prints on the terminal: the tables that summarise a run or an experiment.

Results folders hold every table in full; these are the short views printed after a command
finishes (unless ``--quiet``), as rich tables or plain text wide enough not to wrap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiments.compare import CompareResult
    from sim.experiments.explain import ExplainResult
    from sim.experiments.robustness import RobustnessResult
    from sim.experiments.sensitivity import SensitivityResult
    from sim.experiments.sweep import SweepResult


def print_summary(scenario: Scenario, summary: pd.DataFrame, console: Console) -> None:
    """A run's outcomes: the mean of their run values (after the burn-in) and its 95% CI over the replications.

    Args:
        scenario: The scenario run.
        summary: Its ``summary.csv`` table (:func:`sim.analysis.statistics.summarise`).
        console: Where to print.
    """
    names = [o.name for o in scenario.outcomes]
    summary = summary.set_index("output").loc[[name for name in names if name in summary["output"].values]]
    summary = summary.reset_index()
    title = (
        f"{scenario.name}: mean after the first {scenario.burn_in_periods} periods, "
        f"{scenario.replications} replications"
    )
    table = Table(title=title)
    for column in ("outcome", "mean", "95% CI"):
        table.add_column(column, justify="left" if column == "outcome" else "right")
    for row in summary.itertuples():
        interval = "—" if row.replications < 2 else f"[{row.ci_low:.3f}, {row.ci_high:.3f}]"
        table.add_row(escape(row.output), f"{row.mean:.3f}", interval)
    console.print(table)


def print_result(kind: str, result: Any, console: Console) -> None:
    """The summary of an experiment of ``kind``: its effects, points, indices or judgement of the arms."""
    PRINTERS[kind](result, console)


def print_effects(result: CompareResult, console: Console) -> None:
    """A comparison: every arm's mean and its paired difference from the reference arm, with verdicts."""
    effects = result.effects
    over = ""
    if "uncertainty" in effects:
        over = f"; CIs include {effects['uncertainty'].iloc[0]}"
    table = Table(title=f"{result.scenario.name}: against {result.scenario.reference_arm} (paired, 95% CI{over})")
    for column in ("arm", "outcome", "mean [95% CI]", "difference [95% CI]", "Cohen's d", "verdict"):
        table.add_column(column)
    for row in effects.itertuples():
        if row.verdict == "reference":
            difference = effect = ""
        else:
            difference = f"{row.difference:+.3f} [{row.difference_low:+.3f}, {row.difference_high:+.3f}]"
            effect = f"{row.cohens_d:+.2f}"
        table.add_row(
            escape(row.arm),
            escape(row.outcome),
            f"{row.mean:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}]",
            difference,
            effect,
            row.verdict,
        )
    Console(file=console.file, width=max(console.width, 150)).print(table)
    if result.factorial is not None:
        factorial = Table(title=f"{result.scenario.name}: main effects and interactions (paired, 95% CI)")
        for column in ("outcome", "term", "effect [95% CI]", "verdict"):
            factorial.add_column(column)
        for row in result.factorial.itertuples():
            interval = f"{row.effect:+.3f} [{row.effect_low:+.3f}, {row.effect_high:+.3f}]"
            factorial.add_row(escape(row.outcome), escape(row.term), interval, row.verdict)
        Console(file=console.file, width=max(console.width, 120)).print(factorial)
    if result.stop_reason:
        console.print(result.stop_reason)


def print_sweep(result: SweepResult, console: Console) -> None:
    """A sweep: per point and outcome, the mean and 95% CI, with the point's parameter values."""
    _print_frame(result.table.merge(result.points, on="point"), console)


def print_indices(result: SensitivityResult, console: Console) -> None:
    """A sensitivity analysis: every outcome's indices per parameter."""
    _print_frame(result.indices, console)


def print_robustness(result: RobustnessResult, console: Console) -> None:
    """Per arm, for the first outcome: mean, maximum and 90th-percentile regret, satisficing; with ranks."""
    scenario = result.scenario
    first = scenario.outcomes[0].name
    criteria = {
        f"mean {first}": "mean",
        f"max regret {first}": "max regret",
        f"p90 regret {first}": "p90 regret",
        "satisficing (all thresholds)": "satisficing",
    }
    ranks = result.rankings.set_index(["criterion", "arm"])
    table = Table(
        title=f"{scenario.name}: {escape(first)} over {len(result.futures)} futures, "
        f"{scenario.replications} replications per arm and future (rank in brackets)"
    )
    table.add_column("arm")
    shown = [c for c in criteria if c in ranks.index.get_level_values("criterion")]
    for criterion in shown:
        table.add_column(escape(criteria[criterion]), justify="right")
    for arm in scenario.arms:
        cells = [f"{ranks.at[(c, arm.name), 'value']:.3f} ({ranks.at[(c, arm.name), 'rank']})" for c in shown]
        table.add_row(escape(arm.name), *cells)
    wide = Console(file=console.file, width=max(console.width, 120))
    wide.print(table)
    for found in result.discoveries:
        stats = found.stats
        line = f"discovery, {stats['condition']}: holds in {stats['cases']} of {stats['futures']} futures"
        if found.chosen is not None:
            line += f"; box coverage {stats['coverage']:.2f}, density {stats['density']:.2f}: {stats['restricted']}"
        wide.print(escape(line + (f" ({found.note})" if found.note else "")))


def _print_frame(table: pd.DataFrame, console: Console) -> None:
    """A table as plain text, four decimals, on a console wide enough not to wrap it."""
    text = table.to_string(index=False, float_format=lambda v: f"{v:.4f}")
    Console(file=console.file, width=max(console.width, 150)).print(escape(text))


def print_explanation(result: ExplainResult, console: Console) -> None:
    """Where the goal is lost: each arm's shortfall by mechanism and by level, and each reform's effect by mechanism."""
    for title, table in (
        ("shortfall of goal attainment by mechanism", result.shortfall),
        ("by level", result.levels),
        ("effect on goal attainment against the reference arm, by mechanism", result.reform),
    ):
        if table.empty:
            continue
        shown = Table(title=f"{result.scenario.name}: {title} (Shapley values, 95% CI over replications)")
        armed = bool(result.scenario.arms)
        for column in ("arm", "part", "mean", "95% CI")[0 if armed else 1 :]:
            shown.add_column(column, justify="right" if column in ("mean", "95% CI") else "left")
        for row in table.itertuples():
            interval = "—" if row.n < 2 else f"[{row.ci_low:+.3f}, {row.ci_high:+.3f}]"
            cells = [escape(str(row.name)), f"{row.mean:+.3f}", interval]
            shown.add_row(*([escape(str(row.arm))] if armed else []), *cells)
        console.print(shown)


PRINTERS = {
    "compare": print_effects,
    "explain": print_explanation,
    "sweep": print_sweep,
    "sensitivity": print_indices,
    "robustness": print_robustness,
}
"""The summary printer of every experiment kind, by name."""


def print_calibration(result, console: Console) -> None:
    """A calibration: the waves, the calibrated point and each target's value there, the predictive checks."""
    wide = Console(file=console.file, width=max(console.width, 130))
    waves = Table(title=f"{result.scenario.name}: history matching over {', '.join(result.kept)}")
    for column in ("wave", "points", "ruled out", "not ruled out after it", "least implausibility"):
        waves.add_column(column)
    for row in result.waves.itertuples():
        waves.add_row(
            str(row.wave),
            str(row.points),
            f"{row.ruled_out_share:.1%}",
            f"{row.not_ruled_out_share:.1%}",
            f"{row.least_implausibility:.2f}",
        )
    wide.print(waves)
    point = Table(title=f"calibrated point: {escape(result.calibrated_by)}")
    for column in ("parameter", "value", "posterior 90% interval", "contraction"):
        point.add_column(column)
    for row in result.summary.itertuples():
        point.add_row(
            escape(row.parameter),
            f"{result.calibrated[row.parameter]:.4g}",
            f"[{row.q05:.3g}, {row.q95:.3g}]",
            f"{row.contraction:.2f}",
        )
    wide.print(point)
    checks = Table(title="targets: at the calibrated point, and by posterior prediction")
    for column in ("target", "observed", "at the point", "met", "predictive mean [90% of draws]", "consistent"):
        checks.add_column(column)
    predictive = result.predictive.set_index("target")
    for row in result.at_calibrated.itertuples():
        ppc = predictive.loc[row.target]
        name = f"{row.target} (held out)" if row.held_out else row.target
        checks.add_row(
            escape(name),
            f"{row.observed:.3g} ± {row.observation_sd:.2g}",
            f"{row.model:.3g}",
            "yes" if row.met else "no",
            f"{ppc['predictive_mean']:.3g} [{ppc['draws_q05']:.3g}, {ppc['draws_q95']:.3g}]",
            "yes" if ppc["consistent"] else "no",
        )
    wide.print(checks)
    for note in result.notes:
        wide.print(f"- {escape(note)}")
