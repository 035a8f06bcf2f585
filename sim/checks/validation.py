"""The validation report: ``bureausim validation`` writes docs/VALIDATION.md and its figures.

Everything in the report is computed here, from the project's own scenarios
(``scenarios/patterns/``, ``scenarios/validation/`` and ``scenarios/calibration/china.yaml``):
the closed forms P1 and P2 over ranges of rates and depths; the pattern claims
(:mod:`sim.checks.patterns`, the same claims the test suite checks with fewer replications); the
calibration against numbers from the world (``bureausim calibrate``, with every pattern checked
at posterior draws); the share of a Latin hypercube of uncertain parameters in which each
pattern holds; and how the variability of the key outcomes settles with replications.
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.plots import finish, oversight_lines, styled, wrapped
from sim.analysis.sampling import latin_hypercube
from sim.analysis.statistics import describe, run_values
from sim.checks.calibration import patterns_at, run_calibration
from sim.checks.patterns import PATTERNS, ClaimResult, Pattern, evaluate, pattern_scenario
from sim.experiments.calibrate import CHOSEN_REPLICATIONS, CalibrationResult, draw_indices, target_table
from sim.experiments.executors import map_in_processes
from sim.model.bureau_model import BureauModel
from sim.model.run import replication_seeds, run_one
from sim.scenario.loader import load_scenario
from sim.scenario.output_labels import label
from sim.scenario.output_names import LEVEL_GAP_PREFIX
from sim.scenario.parameters import value_at
from sim.scenario.schema import Scenario, typed_values
from sim.storage.provenance import git_commit

CLOSED_FORM_STEMS = {"P1": "p1_escalation", "P2": "p2_control_loss"}

KEY_OUTCOMES = ("goal_attainment", "implementation_gap", "burden", "share_substantive", "wrongful_sanction_rate")

QUICK_CALIBRATION = (
    "steps=12",
    "burn_in=4",
    "hierarchy.branching=[2,2,2,2]",
    "calibration.screening=0",
    "calibration.waves=1",
    "calibration.points=6",
    "calibration.space_sample=200",
    "calibration.population=5",
    "calibration.generations=1",
    "calibration.draws=2",
    "calibration.pattern_points=1",
    "calibration.pattern_replications=2",
    "calibration.patterns=[P5]",
)
"""The shipped calibration made tiny, for the quick report (machinery, not the model)."""


@dataclass
class Settings:
    """How much work the report does; ``quick()`` is for the test suite."""

    pattern_replications: int = 20
    robustness_points: int = 300
    robustness_replications: int | None = None  # default: the robustness scenario's
    cv_replications: int | None = None  # default: the replications scenario's
    workers: int | None = None  # local processes for the robustness worlds and the calibration (None: every core)
    calibration_overrides: tuple[str, ...] = ()  # --set values for scenarios/calibration/china.yaml
    calibration_pattern_draws: int = 5  # posterior draws at which every pattern is checked
    calibration_pattern_replications: int = 6  # as many as the test suite's pattern checks
    closed_form_depths: tuple[int, ...] = (1, 2, 3, 4, 5, 6)

    @classmethod
    def quick(cls) -> Settings:
        """A few replications and points: checks the machinery, not the model."""
        return cls(
            pattern_replications=2,
            robustness_points=3,
            robustness_replications=1,
            cv_replications=4,
            closed_form_depths=(1, 3),
            calibration_pattern_replications=2,
            calibration_overrides=QUICK_CALIBRATION,
            workers=1,
            calibration_pattern_draws=1,
        )


@dataclass
class Report:
    """Every section's tables, for the Markdown writer (and for tests)."""

    closed_forms: pd.DataFrame = field(default_factory=pd.DataFrame)
    patterns: list[ClaimResult] = field(default_factory=list)
    calibration: CalibrationResult | None = None
    at_defaults: pd.DataFrame = field(default_factory=pd.DataFrame)  # each target at the code's defaults
    pattern_draws: pd.DataFrame = field(default_factory=pd.DataFrame)  # each pattern at posterior draws
    robustness: pd.DataFrame = field(default_factory=pd.DataFrame)
    failure_regions: pd.DataFrame = field(default_factory=pd.DataFrame)
    replications: pd.DataFrame = field(default_factory=pd.DataFrame)
    reports: pd.DataFrame = field(default_factory=pd.DataFrame)
    sanction_levels: pd.DataFrame = field(default_factory=pd.DataFrame)


# --- closed forms ----------------------------------------------------------------------------


def closed_forms(patterns_folder: Path, depths: tuple[int, ...]) -> pd.DataFrame:
    """P1 and P2 against (1 + e)^L and (1 − d)^L over rates and depths: the model's value and the formula's."""
    rows = []
    p1 = load_scenario(patterns_folder / "p1_escalation.yaml")
    p2 = load_scenario(patterns_folder / "p2_control_loss.yaml")
    for depth in depths:
        chain = [2] * depth
        for rate in (0.05, 0.1, 0.2, 0.3, 0.5):
            model = BureauModel(p1, seed=p1.seed, branching=chain, relay_escalation=rate)
            model.step()
            rows.append(("P1", rate, depth, model.outputs["escalation_at_bottom"], (1 + rate) ** depth))
        for rate in (0.02, 0.05, 0.1, 0.2, 0.3):
            model = BureauModel(p2, seed=p2.seed, branching=chain, relay_dilution=rate)
            model.step()
            rows.append(("P2", rate, depth, model.outputs["goal_attainment"], (1 - rate) ** depth))
    frame = pd.DataFrame(rows, columns=["pattern", "rate", "depth", "model", "closed_form"])
    frame["relative_deviation"] = (frame["model"] - frame["closed_form"]).abs() / frame["closed_form"]
    return frame


def plot_closed_forms(frame: pd.DataFrame, folder: Path) -> None:
    """One figure per closed form: model points on the formula's curves."""
    labels = {"P1": ("escalation_at_bottom", "(1 + e)^L", "e"), "P2": ("goal_attainment", "(1 − d)^L", "d")}
    for pattern, (output, formula, symbol) in labels.items():
        _closed_form(frame[frame["pattern"] == pattern], pattern, output, formula, symbol, folder)


@styled
def _closed_form(rows: pd.DataFrame, pattern: str, output: str, formula: str, symbol: str, folder: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for rate, group in rows.groupby("rate"):
        (line,) = ax.plot(group["depth"], group["closed_form"], linewidth=1, label=f"{symbol} = {rate:g}")
        ax.plot(group["depth"], group["model"], "o", color=line.get_color())
    ax.set_xlabel("relays L")
    ax.set_ylabel(label(output, unit=True))
    ax.set_title(f"{pattern}: model (points) against {formula} (lines)")
    ax.legend(fontsize=8)
    finish(fig, folder / f"{pattern.lower()}_closed_form.png")


# --- patterns --------------------------------------------------------------------------------


@styled
def plot_pattern(pattern: Pattern, results: list[ClaimResult], folder: Path) -> None:
    """The pattern's claims: each statistic with its 95% CI against its margin."""
    claims = [wrapped(r.claim, 60) for r in results]
    lines = sum(claim.count("\n") + 1 for claim in claims)
    fig, ax = plt.subplots(figsize=(8.5, 0.3 * lines + 0.35 * len(results) + 1.6), layout="constrained")
    for position, result in enumerate(results):
        colour = "#009E73" if result.holds else "#D55E00"
        ax.plot([result.ci_low, result.ci_high], [position, position], color=colour, linewidth=2)
        ax.plot(result.mean, position, "o", color=colour)
        ax.plot([result.margin] * 2, [position - 0.3, position + 0.3], color="black", linewidth=1)
    ax.set_yticks(range(len(results)), claims, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xlabel("mean paired difference (or level), 95% CI; black bar: margin to clear", fontsize=8)
    ax.set_title(textwrap.fill(f"{pattern.id}: {pattern.title}", 80), fontsize=9)
    ax.grid(axis="y", visible=False)
    finish(fig, folder / f"{pattern.id.lower()}.png")


OVERSIGHT_OUTCOMES = ("goal_attainment", "burden", "share_falsify")
"""What P7's curve draws against inspection intensity: the inverted U, the rising burden, the falling faking."""


def oversight_curve(scenario: Scenario, replications: int) -> pd.DataFrame:
    """P7's whole curve: per inspection rate of the scenario's sweep, each outcome's run value, mean and 95% CI.

    Common random numbers: replication *k* has the same seed at every rate.
    """
    seeds = replication_seeds(scenario.seed, replications)
    rows = []
    for rate in scenario.sweep.grid["accountability.inspection_rate"]:
        values = {name: [] for name in OVERSIGHT_OUTCOMES}
        for k, seed in enumerate(seeds):
            steps = run_one(
                scenario, seed, replication=k, overrides={"accountability.inspection_rate": rate}, agents=False
            ).steps
            found = run_values(steps, scenario.burn_in_periods)
            for name in OVERSIGHT_OUTCOMES:
                values[name].append(found[name])
        for name in OVERSIGHT_OUTCOMES:
            summary = describe(values[name])
            rows.append({"inspection_rate": rate, "outcome": name} | summary)
    return pd.DataFrame(rows)


# --- calibration -----------------------------------------------------------------------------


def calibration_section(
    path: Path, patterns_folder: Path, figures: Path, settings: Settings, say: Callable[[str], None]
) -> tuple[CalibrationResult, pd.DataFrame, pd.DataFrame]:
    """``bureausim calibrate`` on the shipped calibration, its targets at the code's defaults, patterns over draws.

    The calibration's own folder is temporary; its figures are copied into ``figures``.
    """
    scenario = load_scenario(path).with_overrides(list(settings.calibration_overrides))
    with tempfile.TemporaryDirectory() as folder:
        result = run_calibration(
            scenario,
            patterns_folder=patterns_folder,
            out=Path(folder) / "run",
            progress=False,
            workers=settings.workers,
        )
        for name in ("waves", "posterior_pairs", "predictive_checks", "screening"):
            if (result.folder / f"{name}.png").is_file():
                shutil.copyfile(result.folder / f"{name}.png", figures / f"calibration_{name}.png")
    say("calibration: targets at the code's defaults")
    at_defaults = targets_at_defaults(scenario)
    say("calibration: every pattern at posterior draws")
    return result, at_defaults, patterns_over_draws(result, patterns_folder, settings)


def targets_at_defaults(scenario: Scenario) -> pd.DataFrame:
    """Each target of the calibration at the scenario's own values (the code's defaults for what it calibrates)."""
    relative = scenario.calibration.discrepancy
    runs = {}
    for k, seed in enumerate(replication_seeds(scenario.seed, CHOSEN_REPLICATIONS)):
        for arm in sorted({t.arm or "" for t in scenario.targets}):
            runs[(arm, k)] = run_values(
                run_one(scenario, seed, arm=arm or None, replication=k, agents=False).steps, scenario.burn_in_periods
            )
    row = {}
    for target in scenario.targets:
        values = np.array([v[target.output] for (arm, _), v in runs.items() if arm == (target.arm or "")], dtype=float)
        values = values[np.isfinite(values)]
        row[target.name] = float(values.mean())
        row[f"{target.name}_var"] = float(values.var(ddof=1) / len(values)) if len(values) > 1 else 0.0
    return target_table(scenario.targets, pd.Series(row), relative)


def patterns_over_draws(result: CalibrationResult, patterns_folder: Path, settings: Settings) -> pd.DataFrame:
    """Whether each pattern (but the closed forms) holds at each of a few posterior draws."""
    names = [pattern.id for pattern in PATTERNS]
    check = patterns_at(names, patterns_folder, settings.calibration_pattern_replications)
    posterior = result.posterior
    indices = draw_indices(
        posterior["weight"].to_numpy(dtype=float), settings.calibration_pattern_draws, result.scenario.seed
    )
    rows = []
    for draw, index in enumerate(indices):
        point = typed_values({path: float(posterior[path].iloc[index]) for path in result.kept})
        rows += [{"draw": draw, "pattern": name, "holds": holds} for name, holds in check(point).items()]
    return pd.DataFrame(rows)


# --- robustness ------------------------------------------------------------------------------


def patterns_in_world(task: tuple[int, dict[str, float], Path, int]) -> list[dict]:
    """Whether each pattern holds in one sampled world: ``(point, world, patterns folder, replications)``."""
    index, world, patterns_folder, replications = task
    assignments = [f"parameters.{path}={value!r}" for path, value in world.items()]
    rows = []
    for pattern in PATTERNS:
        base = pattern_scenario(pattern, patterns_folder).with_overrides(assignments)
        results = evaluate(pattern, base, replications)
        rows.append({"point": index, **world, "pattern": pattern.id, "holds": all(r.mean > r.margin for r in results)})
    return rows


def robustness(
    scenario: Scenario,
    patterns_folder: Path,
    points: int,
    replications: int,
    say: Callable[[str], None],
    workers: int | None = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Where each pattern holds over a Latin hypercube of uncertain parameters.

    In every sampled world (the uncertain parameters set as the scenario's base values, each
    pattern's arms applied on top) a pattern holds when every claim's mean over the
    replications clears its margin. Returns one row per point and pattern, and per pattern the
    parameter whose values differ most between the worlds where it fails and where it holds.
    The worlds run on ``workers`` local processes; the rows are the same on any number.
    """
    names = list(scenario.uncertainties)
    low, high = np.array(list(scenario.uncertainties.values())).T
    sample = latin_hypercube(scenario.uncertainties, points, scenario.seed)
    worlds = [
        (index, dict(zip(names, values.tolist(), strict=True)), patterns_folder, replications)
        for index, values in enumerate(sample)
    ]
    rows = []
    for index, world_rows in enumerate(map_in_processes(patterns_in_world, worlds, workers)):
        if index % 10 == 0:
            say(f"robustness: world {index + 1} of {points}")
        rows += world_rows
    frame = pd.DataFrame(rows)
    regions = []
    for pattern, group in frame.groupby("pattern"):
        failing, holding = group[~group["holds"]], group[group["holds"]]
        if failing.empty or holding.empty:
            regions.append({"pattern": pattern, "parameter": "", "failing_mean": np.nan, "holding_mean": np.nan})
            continue
        spread = {
            name: (failing[name].mean() - holding[name].mean()) / (high[i] - low[i]) for i, name in enumerate(names)
        }
        name = max(spread, key=lambda n: abs(spread[n]))
        regions.append(
            {
                "pattern": pattern,
                "parameter": name,
                "failing_mean": failing[name].mean(),
                "holding_mean": holding[name].mean(),
            }
        )
    return frame, pd.DataFrame(regions)


@styled
def plot_robustness(frame: pd.DataFrame, folder: Path) -> None:
    """Share of sampled worlds in which each pattern holds."""
    shares = frame.groupby("pattern")["holds"].mean()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(shares) + 1.5), 3.2), layout="constrained")
    ax.bar(shares.index, shares.to_numpy(), color="#0072B2")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of sampled worlds")
    ax.set_title(f"Where each pattern holds ({frame['point'].nunique()} Latin hypercube points)")
    ax.grid(axis="x", visible=False)
    finish(fig, folder / "robustness.png")


# --- what the baseline's reports show ------------------------------------------------------

REPORT_OUTPUTS = ("goal_attainment", "reported_attainment", "implementation_gap")
"""What the top believes against what is done: the outputs the report rule changes (ODD 12.2)."""


def report_rules(scenario: Scenario, replications: int) -> pd.DataFrame:
    """The baseline under summed claims and under completion rates: one row per rule and output, over replications."""
    rows = []
    for rule in ("sum", "rate"):
        values = []
        for k, seed in enumerate(replication_seeds(scenario.seed, replications)):
            steps = run_one(scenario, seed, replication=k, overrides={"relay.report_rule": rule}, agents=False).steps
            values.append(run_values(steps, scenario.burn_in_periods))
        frame = pd.DataFrame(values)
        levels = [name for name in frame.columns if name.startswith(LEVEL_GAP_PREFIX)]
        for output in (*REPORT_OUTPUTS, *levels):
            rows.append({"rule": rule, "output": output, **describe(frame[output])})
    return pd.DataFrame(rows)


# --- where sanctions land: blame shifting and middle levels that decide ------------------------

BLAME_SHIFTS = (0.95, 0.8, 0.5)
"""Chances a sanction stays where it was found (the default, then more shifting up) for the sanction-shares table."""

MIDDLE_SETTINGS = {
    "fixed relays": {},
    "middle levels decide and are inspected": {"middle.relay_choice": True, "middle.inspection_rate": 0.3},
}
"""The first edition's fixed relays against middle levels that decide and are inspected (ODD 13.2)."""


def sanction_levels(scenario: Scenario, replications: int) -> pd.DataFrame:
    """Sanction shares by level on the baseline, per blame shift and middle-level setting, over replications."""
    rows = []
    seeds = replication_seeds(scenario.seed, replications)
    for blame in BLAME_SHIFTS:
        for setting, values in MIDDLE_SETTINGS.items():
            overrides = {"accountability.blame_shift": blame, **values}
            runs = pd.DataFrame(
                run_values(
                    run_one(scenario, seed, replication=k, overrides=overrides, agents=False).steps,
                    scenario.burn_in_periods,
                )
                for k, seed in enumerate(seeds)
            )
            for output in (name for name in runs.columns if name.startswith("sanction_share_")):
                rows.append({"blame_shift": blame, "setting": setting, "output": output, **describe(runs[output])})
    return pd.DataFrame(rows)


def _sanction_levels_section(table: pd.DataFrame) -> list[str]:
    """Where sanctions land, by level, as blame shifting and middle levels that decide move them (ODD 13.2)."""
    if table.empty:
        return []
    n = int(table["n"].iloc[0])
    levels = list(dict.fromkeys(table["output"]))
    out = [
        "## Where sanctions land: blame shifting and middle levels that decide",
        "",
        f"`scenarios/baseline.yaml` ({n} replications, run values after the burn-in), share of sanctions on each "
        "level, for three chances that a sanction stays where it was found (`accountability.blame_shift`; 0.95 is "
        "the default) and two settings of the middle levels: the first edition's fixed relays, whose middle "
        "levels are sanctioned only through blame shifting, and middle officials who choose how to relay and are "
        "inspected for their relay work (`middle.relay_choice`, `middle.inspection_rate` 0.3; ODD 13.2), whose "
        "share also depends on what they choose.",
        "",
        "| blame shift | middle levels | " + " | ".join(name.removeprefix("sanction_share_") for name in levels) + " |",
        "|---|---|" + "---|" * len(levels),
    ]
    for (blame, setting), group in table.groupby(["blame_shift", "setting"], sort=False):
        cells = [
            f"{row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
            for _, row in group.set_index("output").loc[levels].iterrows()
        ]
        out.append(f"| {blame} | {setting} | " + " | ".join(cells) + " |")
    grassroots = levels[-1]
    fixed = table[(table["setting"] == "fixed relays") & (table["output"] == grassroots)].set_index("blame_shift")
    deciding = table[(table["setting"] != "fixed relays") & (table["output"] == grassroots)].set_index("blame_shift")
    out += [
        "",
        f"With fixed relays the grassroots' share ({grassroots.removeprefix('sanction_share_')}) falls from "
        f"{fixed['mean'].iloc[0]:.3f} to {fixed['mean'].iloc[-1]:.3f} as more sanctions are shifted up: the blame-"
        "shift parameter echoed back. With middle levels that decide and are inspected it is "
        f"{deciding['mean'].iloc[0]:.3f} at the default blame shift: the middle levels' own relay work now "
        "draws sanctions of its own, whatever the blame shift.",
        "",
    ]
    return out


# --- replications ----------------------------------------------------------------------------


def replication_analysis(scenario: Scenario, replications: int) -> pd.DataFrame:
    """Per number of replications n and key outcome: the mean and the relative 95% CI half-width."""
    values = pd.DataFrame(
        run_values(run_one(scenario, seed, replication=k, agents=False).steps, scenario.burn_in_periods)
        for k, seed in enumerate(replication_seeds(scenario.seed, replications))
    )
    rows = []
    for n in range(2, replications + 1):
        for outcome in KEY_OUTCOMES:
            summary = describe(values[outcome].iloc[:n])
            half = (summary["ci_high"] - summary["ci_low"]) / 2
            cv = summary["sd"] / abs(summary["mean"]) if summary["mean"] else np.nan
            rows.append(
                {
                    "n": n,
                    "outcome": outcome,
                    "mean": summary["mean"],
                    "cv": cv,
                    "relative_half_width": half / abs(summary["mean"]),
                }
            )
    return pd.DataFrame(rows)


@styled
def plot_replications(frame: pd.DataFrame, folder: Path) -> None:
    """Relative CI half-width of each key outcome's mean against the number of replications."""
    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for outcome, group in frame.groupby("outcome"):
        ax.plot(group["n"], group["relative_half_width"], label=label(outcome))
    ax.set_xlabel("replications")
    ax.set_ylabel("95% CI half-width / mean")
    ax.set_yscale("log")
    ax.set_title("How precision settles with replications (baseline)")
    ax.grid(which="both")
    ax.legend(fontsize=8)
    finish(fig, folder / "replications.png")


# --- the report ------------------------------------------------------------------------------


def build_report(root: Path, figures: Path, settings: Settings, say: Callable[[str], None] = print) -> Report:
    """Run every section and draw its figures into ``figures``."""
    figures.mkdir(parents=True, exist_ok=True)
    patterns_folder, validation_folder = root / "patterns", root / "validation"
    report = Report()
    say("closed forms P1, P2")
    report.closed_forms = closed_forms(patterns_folder, settings.closed_form_depths)
    plot_closed_forms(report.closed_forms, figures)
    for pattern in PATTERNS:
        say(f"pattern {pattern.id}")
        results = evaluate(pattern, pattern_scenario(pattern, patterns_folder), settings.pattern_replications)
        plot_pattern(pattern, results, figures)
        if pattern.id == "P7":
            scenario = pattern_scenario(pattern, patterns_folder)
            oversight_lines(oversight_curve(scenario, settings.pattern_replications), figures / "p7_curve.png")
        report.patterns.extend(results)
    say("calibration (scenarios/calibration/china.yaml)")
    report.calibration, report.at_defaults, report.pattern_draws = calibration_section(
        root / "calibration" / "china.yaml", patterns_folder, figures, settings, say
    )
    say("robustness")
    sampled = load_scenario(validation_folder / "robustness.yaml")
    report.robustness, report.failure_regions = robustness(
        sampled,
        patterns_folder,
        settings.robustness_points,
        settings.robustness_replications or sampled.replications,
        say,
        settings.workers,
    )
    plot_robustness(report.robustness, figures)
    say("reports: summed claims against completion rates (baseline)")
    baseline = load_scenario(root / "baseline.yaml")
    report.reports = report_rules(baseline, settings.pattern_replications)
    say("sanction shares by level: blame shifting and middle levels that decide")
    report.sanction_levels = sanction_levels(baseline, settings.pattern_replications)
    say("replications")
    many = load_scenario(validation_folder / "replications.yaml")
    report.replications = replication_analysis(many, settings.cv_replications or many.replications)
    plot_replications(report.replications, figures)
    return report


def _calibration_section(report: Report, settings: Settings, figures_link: str) -> list[str]:
    """The calibration of ``scenarios/calibration/china.yaml`` (ODD 16): targets, waves, posterior, patterns."""
    result = report.calibration
    spec = result.scenario.calibration
    out = [
        "## Calibration",
        "",
        "`bureausim calibrate scenarios/calibration/china.yaml` (docs/ODD.md, section 16): the chain from the "
        "centre to the townships in months, with officials who differ, completion-rate reports, escalation by "
        "level and middle levels that decide, against the corrected numbers from the world. "
        f"Screening (Morris, {spec.screening} trajectories), {spec.waves} history-matching waves of {spec.points} "
        f"points ({spec.replications} replications each), ABC-SMC ({spec.population} particles, "
        f"{spec.generations} generations), {spec.draws} posterior draws for the predictive checks.",
        "",
        "| wave | points | ruled out | left after it | least implausibility |",
        "|---|---|---|---|---|",
        *(
            f"| {r.wave} | {r.points} | {r.ruled_out_share:.1%} | {r.not_ruled_out_share:.1%} | "
            f"{r.least_implausibility:.2f} |"
            for r in result.waves.itertuples()
        ),
        "",
        f"![waves]({figures_link}/calibration_waves.png)",
        "",
        f"The calibrated point is the {result.calibrated_by}.",
        "",
        "| parameter | prior | posterior mean [90%] | contraction | calibrated | the defaults' (china.yaml's own, "
        "else the code's) |",
        "|---|---|---|---|---|---|",
    ]
    own = result.scenario.resolved_parameters()
    for row in result.summary.itertuples():
        default = value_at(own, row.parameter)
        out.append(
            f"| `{row.parameter}` | [{row.prior_low:g}, {row.prior_high:g}] | {row.mean:.3g} [{row.q05:.3g}, "
            f"{row.q95:.3g}] | {row.contraction:.2f} | {result.calibrated[row.parameter]:.3g} | {default} |"
        )
    for path in result.scenario.calibration.parameters:
        if path not in result.kept:
            out.append(f"| `{path}` | screened out | | | | |")
    out += [
        "",
        f"![posterior]({figures_link}/calibration_posterior_pairs.png)",
        "",
        "Each target at the calibrated point and at the code's defaults (10 replications each; met: within "
        "1.96 total sds, observation and discrepancy), and by posterior prediction (consistent: |z| ≤ 2):",
        "",
        "| target | output | observed | at the calibrated point | at the defaults | predictive mean [90% of draws] |"
        " source |",
        "|---|---|---|---|---|---|---|",
    ]
    defaults_table = report.at_defaults.set_index("target")
    predictive = result.predictive.set_index("target")
    for row in result.at_calibrated.itertuples():
        at_default = defaults_table.loc[row.target]
        ppc = predictive.loc[row.target]
        name = f"{row.target} (held out)" if row.held_out else row.target
        out.append(
            f"| {name} | `{row.output}` | {row.observed:.3g} ± {row.observation_sd:.2g} | {row.model:.3g} "
            f"({'met' if row.met else 'not met'}) | {at_default['model']:.3g} "
            f"({'met' if at_default['met'] else 'not met'}) | {ppc['predictive_mean']:.3g} [{ppc['draws_q05']:.3g}, "
            f"{ppc['draws_q95']:.3g}] ({'consistent' if ppc['consistent'] else 'inconsistent'}) | {row.source} |"
        )
    out += ["", f"![predictive checks]({figures_link}/calibration_predictive_checks.png)", ""]
    out += ["What the targets pin down:", "", *(f"- {note}" for note in result.notes), ""]
    draws = report.pattern_draws
    if not draws.empty:
        share = draws.groupby("pattern", sort=False)["holds"].mean()
        count = int(draws["draw"].nunique())
        at_point = result.patterns.groupby(["where", "pattern"])["holds"].first() if len(result.patterns) else None
        out += [
            f"Patterns at {count} posterior draws ({settings.calibration_pattern_replications} replications each; "
            "each draw's values as the pattern scenario's own) and at the calibrated point (the calibration's own "
            f"constraint, {', '.join(spec.patterns) or 'none'}):",
            "",
            "| pattern | holds at the posterior draws | at the calibrated point |",
            "|---|---|---|",
        ]
        chosen = result.calibrated_by.split(",")[0]  # the label its pattern checks carry
        for pattern, value in share.items():
            here = ""
            if at_point is not None:
                found = [v for (where, p), v in at_point.items() if p == pattern and where == chosen]
                here = _verdict(bool(found[0])) if found else ""
            out.append(f"| {pattern} | {value:.0%} | {here} |")
        out.append("")
    return out


def _reports_section(table: pd.DataFrame) -> list[str]:
    """What the top believes under summed claims and under completion rates, on the baseline (ODD 12.2)."""
    if table.empty:
        return []
    n = int(table["n"].iloc[0])
    out = [
        "## What the top believes: summed claims against completion rates",
        "",
        f"`scenarios/baseline.yaml` ({n} replications, run values after the burn-in) under each report rule "
        "(`relay.report_rule`; ODD 12.2). Only what the top believes differs: no official reads reports, so "
        "every other output is the same number under both rules.",
        "",
        "| output | summed claims (`sum`) | completion rates (`rate`, the baseline's) |",
        "|---|---|---|",
    ]
    for output in dict.fromkeys(table["output"]):
        cells = []
        for rule in ("sum", "rate"):
            row = table[(table["rule"] == rule) & (table["output"] == output)]
            cells.append(
                "—"
                if row.empty
                else f"{row['mean'].iloc[0]:.3f} [{row['ci_low'].iloc[0]:.3f}, {row['ci_high'].iloc[0]:.3f}]"
            )
        out.append(f"| {output} | {cells[0]} | {cells[1]} |")
    gap = table[(table["rule"] == "rate") & (table["output"] == "implementation_gap")]["mean"].iloc[0]
    out += [
        "",
        f"Under summed claims the top believes the goal met: a falsifier's claim of its escalated target covers "
        f"other units' shortfalls. As rates the gap is {gap:.3f} of the intended output (target 0.1–0.3: "
        f"{_verdict(0.1 <= gap <= 0.3)}), and it narrows down the chain by the inflation each level adds.",
        "",
    ]
    return out


def write_markdown(report: Report, settings: Settings, figures_link: str = "figures") -> str:
    """The report as Markdown, every verdict computed from the report's tables."""
    commit = git_commit(short=True, mark_dirty=False) or "unknown"
    out = [
        "# Validation report",
        "",
        f"Generated by `bureausim validation` (`make validation`) on {datetime.now(UTC):%Y-%m-%d} at commit "
        f"`{commit}`, from `scenarios/patterns/` and `scenarios/validation/`. Every number below is computed by "
        "that command; none is typed in. The test suite checks the same pattern claims with fewer replications "
        "(`tests/test_patterns.py`).",
        "",
        "## Summary",
        "",
        "| item | statistic | verdict |",
        "|---|---|---|",
    ]
    closed = report.closed_forms
    for pattern in ("P1", "P2"):
        worst = closed[closed["pattern"] == pattern]["relative_deviation"].max()
        out.append(f"| {pattern} closed form | max relative deviation {worst:.1e} | {_verdict(worst < 1e-9)} |")
    for pattern in PATTERNS:
        results = [r for r in report.patterns if r.pattern == pattern.id]
        held = sum(r.holds for r in results)
        name = f"{pattern.id} {pattern.title.split(':')[0]}"
        out.append(f"| {name} | {held} of {len(results)} claims hold | {_verdict(held == len(results))} |")
    calibration = report.calibration
    fitted = calibration.at_calibrated[~calibration.at_calibrated["held_out"].astype(bool)]
    met = int(fitted["met"].sum())
    out.append(
        f"| calibration: fitted targets met at the calibrated point | {met} of {len(fitted)} | "
        f"{_verdict(met == len(fitted))} |"
    )
    defaults_met = report.at_defaults[~report.at_defaults["held_out"].astype(bool)]["met"]
    out.append(
        f"| calibration: fitted targets met at the code's defaults | {int(defaults_met.sum())} of "
        f"{len(defaults_met)} | {_verdict(bool(defaults_met.all()))} |"
    )
    shares = report.robustness.groupby("pattern")["holds"].mean()
    out.append(f"| robustness | patterns hold in {shares.min():.0%}–{shares.max():.0%} of sampled worlds | see below |")

    out += ["", "## Closed forms: P1 and P2", ""]
    for pattern, formula in (("P1", "(1 + e)^L"), ("P2", "(1 − d)^L (Williamson's control loss with α = 1 − d)")):
        rows = closed[closed["pattern"] == pattern]
        out += [
            f"**{pattern}** against {formula}, for rates {sorted(rows['rate'].unique().tolist())} and relays "
            f"{sorted(rows['depth'].unique().tolist())} "
            f"(scenario `scenarios/patterns/{CLOSED_FORM_STEMS[pattern]}.yaml`, "
            f"adaptation off, one period, exact): maximum relative deviation {rows['relative_deviation'].max():.1e}.",
            "",
            f"![{pattern}]({figures_link}/{pattern.lower()}_closed_form.png)",
            "",
        ]

    out += [f"## Patterns {PATTERNS[0].id}–{PATTERNS[-1].id}", ""]
    for pattern in PATTERNS:
        results = [r for r in report.patterns if r.pattern == pattern.id]
        out += [
            f"### {pattern.id}: {pattern.title}",
            "",
            f"Scenario `scenarios/patterns/{pattern.stem}.yaml`, {results[0].replications} replications with common "
            f"random numbers, {pattern.steps} periods; each replication's outputs averaged over the claim's window.",
            "",
            "| claim | mean | 95% CI | must exceed | verdict |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {r.claim} | {r.mean:+.4f} | [{r.ci_low:+.4f}, {r.ci_high:+.4f}] | {r.margin:g} | {_verdict(r.holds)} |"
            for r in results
        ]
        out += ["", f"![{pattern.id}]({figures_link}/{pattern.id.lower()}.png)", ""]
        if pattern.id == "P7":
            out += [
                "The whole curve, over the pattern scenario's sweep of inspection rates (mean and 95% CI "
                "over the same replications):",
                "",
                f"![P7 curve]({figures_link}/p7_curve.png)",
                "",
            ]

    out += _calibration_section(report, settings, figures_link)

    regions = report.failure_regions.set_index("pattern")
    out += [
        "## Robustness: where the patterns hold",
        "",
        f"{report.robustness['point'].nunique()} worlds sampled by Latin hypercube over "
        + ", ".join(f"`{c}`" for c in report.robustness.columns if "." in c)
        + " (`scenarios/validation/robustness.yaml`); in each, every pattern's arms run on top of the world's "
        "parameters and the pattern holds when every claim's mean clears its margin.",
        "",
        "| pattern | holds in | fails mostly where | mean there (failing / holding) |",
        "|---|---|---|---|",
    ]
    for pattern, share in shares.items():
        row = regions.loc[pattern]
        where = f"`{row['parameter']}`" if row["parameter"] else "(never fails)" if share == 1 else "(never holds)"
        means = f"{row['failing_mean']:.3g} / {row['holding_mean']:.3g}" if row["parameter"] else ""
        out.append(f"| {pattern} | {share:.0%} | {where} | {means} |")
    out += ["", f"![robustness]({figures_link}/robustness.png)", ""]
    out += _reports_section(report.reports)
    out += _sanction_levels_section(report.sanction_levels)

    table = report.replications
    out += [
        "## Replications",
        "",
        "Relative 95% CI half-width of the mean of each key outcome on the baseline "
        "(`scenarios/validation/replications.yaml`), by number of replications:",
        "",
        "| outcome | cv of one run | n = 6 | n = 10 | n = 20 | largest n |",
        "|---|---|---|---|---|---|",
    ]
    largest = int(table["n"].max())
    for outcome, group in table.groupby("outcome"):
        at = group.set_index("n")["relative_half_width"]
        cells = [f"{at.get(n, np.nan):.1%}" if n in at.index else "—" for n in (6, 10, 20)]
        out.append(
            f"| {outcome} | {group['cv'].iloc[-1]:.1%} | {' | '.join(cells)} | {at.loc[largest]:.1%} (n = {largest}) |"
        )
    out += [
        "",
        f"With {DEFAULT_REPLICATIONS} replications (the baseline's), the widest relative half-width among the key "
        f"outcomes is {_widest(table, DEFAULT_REPLICATIONS):.1%}; with 10 (the default for scenarios that set none) "
        f"{_widest(table, 10):.1%}. Comparisons between arms need fewer still, since common random numbers remove "
        "most of the variation between arms; `bureausim compare --precision H` adds replications until a stated "
        "precision is reached.",
        "",
        f"![replications]({figures_link}/replications.png)",
        "",
    ]
    return "\n".join(out)


DEFAULT_REPLICATIONS = 6


def _widest(table: pd.DataFrame, n: int) -> float:
    """The largest relative CI half-width among the key outcomes at ``n`` replications (NaN if not run)."""
    at = table[table["n"] == n]["relative_half_width"]
    return float(at.max()) if len(at) else float("nan")


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "holds" if ok else "**fails**"
