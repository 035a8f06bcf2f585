"""The figures of every results folder: time series, forest plots, sweeps, sensitivity, robustness, waterfalls.

Reads result tables only; never imports the model. Chooses no matplotlib backend (importing
it must not change a notebook's); the command line selects the non-interactive Agg backend.
Every figure is drawn in the house style and saved in the formats, size and language of
:mod:`sim.analysis.style`; outputs are labelled in words (:mod:`sim.scenario.output_labels`),
and figures with many arms or parameters grow rather than crowd their labels.
"""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis import style
from sim.analysis.statistics import band
from sim.scenario.output_labels import label, phrase
from sim.scenario.output_names import (
    STRATEGY_SHARES,
    direction_note,
    sanction_share_name,
    task_output_name,
    tasks_in,
)

BURN_IN_COLOUR = "#999999"


def styled(draw):
    """Draw the figure of ``draw`` in the house style (see :func:`sim.analysis.style.drawing`)."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with style.drawing():
            return draw(*args, **kwargs)

    return drawn


def words(name: str) -> str:
    """An output's label in the current language (other names: underscores become spaces)."""
    return label(name, style.language())


def say(text: str, **values) -> str:
    """A figure's fixed text in the current language, its ``{placeholders}`` filled (:func:`phrase`)."""
    return phrase(text, style.language(), **values)


def shown(name: str) -> str:
    """An identifier (an arm, a parameter path) as words: ``status_quo`` → ``status quo``."""
    return str(name).replace("_", " ")


def parameter_words(path: str) -> str:
    """A parameter's dotted path in words: ``accountability.inspection_rate`` → ``inspection rate (accountability)``."""
    if "." not in str(path):
        return shown(path)
    group, name = str(path).split(".", 1)
    return f"{shown(name)} ({shown(group)})"


def wrapped(text: str, width: int = 28) -> str:
    """``text`` broken into lines of at most ``width`` characters (for tick labels and titles)."""
    return "\n".join(textwrap.wrap(text, width)) or text


def figure_groups(level_names: list[str], tasks: list[str] = ()) -> dict[str, tuple[str, list[str]]]:
    """The figures a run writes: file stem → (title, outputs drawn together); a portfolio adds three per-task ones."""
    per_task = {
        "tasks_attainment": ("Goal attainment by task", "goal_attainment"),
        "tasks_capacity": ("Share of free capacity given to each task", "capacity_share"),
        "tasks_formalism": ("Formalism by task", "share_formalism"),
    }
    found = {stem: (title, [task_output_name(output, t) for t in tasks]) for stem, (title, output) in per_task.items()}
    return {
        "attainment": (
            "Goal versus reported attainment",
            ["goal_attainment", "reported_attainment", "implementation_gap"],
        ),
        "strategies": ("Strategy shares at the grassroots", list(STRATEGY_SHARES)),
        "burden": (
            "Burden, escalation and clarity at the grassroots",
            ["burden", "escalation_at_bottom", "clarity_at_bottom"],
        ),
        "sanctions": (
            "Where sanctions fall, and how many are wrongful",
            [*(sanction_share_name(n) for n in level_names), "wrongful_sanction_rate"],
        ),
        "harm": ("Collateral harm of blanket bans per grassroots unit", ["collateral_harm"]),
    } | (found if tasks else {})


@styled
def plot_time_series(steps: pd.DataFrame, outputs: list[str], title: str, path: Path, burn_in: int = 0) -> None:
    """Draw each output's mean over replications per period with its 95% band; shade the burn-in."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    for output in outputs:
        frame = band(steps, output)
        (line,) = ax.plot(frame["period"], frame["mean"], label=label(output, style.language(), unit=True))
        ax.fill_between(
            frame["period"], frame["ci_low"], frame["ci_high"], color=line.get_color(), alpha=0.2, linewidth=0
        )
    mark_burn_in(ax, burn_in)
    replications = steps["replication"].nunique()
    ax.set_title(wrapped(say(title), 44))
    ax.set_xlabel(phrase("period", style.language()))
    ax.set_ylabel(mean_label(replications))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    finish(fig, path)


def mean_label(replications: int) -> str:
    """The y-axis label of a time series: the mean over so many replications, with its 95% CI."""
    if style.language() == "zh":
        return f"{replications} 次重复的均值(95% 置信区间)"
    return f"mean over {replications} replication{'s' if replications > 1 else ''} (95% CI)"


def mark_burn_in(ax, burn_in: int) -> None:
    """Shade the burn-in periods (left out of run values) and say so."""
    if burn_in > 0:
        ax.axvspan(0.5, burn_in + 0.5, color=BURN_IN_COLOUR, alpha=0.12, linewidth=0)
        ax.axvline(burn_in + 0.5, color=BURN_IN_COLOUR, linewidth=0.8, linestyle="--")
        ax.annotate(
            phrase("burn-in", style.language()),
            (burn_in + 0.5, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3, -3),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=7,
            color="#666666",
        )


def write_plots(steps: pd.DataFrame, level_names: list[str], folder: Path, burn_in: int = 0) -> list[Path]:
    """Write every figure of :func:`figure_groups` into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, (title, outputs) in figure_groups(level_names, tasks_in(steps.columns)).items():
        path = folder / f"{stem}.png"
        plot_time_series(steps, outputs, title, path, burn_in)
        paths.append(path)
    return paths


@styled
def forest_plot(effects: pd.DataFrame, reference: str | None, path: Path | None = None):
    """Paired differences from the reference arm with 95% CIs: one panel per outcome, arms sorted.

    Arms are sorted by their difference on the first outcome (best at the top); the figure grows
    with the arms and the outcomes (at most three panels a row) and wraps long names, so no
    labels crowd. Returns the figure; with ``path`` it is also written there and closed.
    """
    others = effects[effects["verdict"] != "reference"]
    outcomes = list(dict.fromkeys(others["outcome"]))
    first = others[others["outcome"] == outcomes[0]] if outcomes else others
    sign = -1.0 if len(first) and first["direction"].iloc[0] == "minimize" else 1.0
    ranked = first.assign(_key=sign * first["difference"]).sort_values("_key", ascending=False, kind="stable")
    arms = list(ranked["arm"])
    arms += [arm for arm in dict.fromkeys(others["arm"]) if arm not in arms]
    colours = {"better": "#009E73", "worse": "#D55E00", "higher": "#0072B2", "lower": "#0072B2"}
    columns = max(1, min(3, len(outcomes)))
    lines = -(-max(1, len(outcomes)) // columns)
    names = [wrapped(shown(arm), 22) for arm in arms]
    label_width = 0.075 * max((len(line) for name in names for line in name.split("\n")), default=8) + 0.4
    width, height = 3.2 * columns + label_width, (0.34 * len(arms) + 1.3) * lines + 0.6
    fig, axes = plt.subplots(lines, columns, figsize=(width, height), sharey=True, squeeze=False, layout="constrained")
    for ax in list(axes.flat)[len(outcomes) :]:
        ax.set_visible(False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        rows = others[others["outcome"] == outcome].set_index("arm").loc[arms]
        y = range(len(arms))
        for position, (_, row) in zip(y, rows.iterrows(), strict=True):
            colour = colours.get(row["verdict"], "#777777")  # no detectable difference, negligible
            ax.plot([row["difference_low"], row["difference_high"]], [position, position], color=colour, linewidth=2)
            ax.plot(row["difference"], position, "o", color=colour)
        ax.axvline(0, color="black", linewidth=0.8)
        direction = rows["direction"].iloc[0]
        ax.set_title(f"{wrapped(words(outcome), 30)}\n({say(direction_note(direction))})", fontsize=8)
        ax.set_yticks(list(y), names)
        ax.set_ylim(len(arms) - 0.5, -0.5)
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.grid(axis="y", visible=False)
    fig.suptitle(say("Difference from {reference} (paired, 95% CI)", reference=shown(reference)), fontsize=10)
    return finish(fig, path)


@styled
def series_by_arm(bands: pd.DataFrame, outputs: list[str], path: Path | None = None, burn_in: int = 0):
    """Outputs over time, one panel per output, one line per arm (in the order of ``bands``) with its 95% band.

    Args:
        bands: Per arm, period and output: ``mean``, ``ci_low``, ``ci_high`` (see
            :func:`sim.analysis.statistics.streaming_bands`).
        outputs: The outputs to draw, one panel each.
        path: Where to write the figure (and close it), if given.
        burn_in: Periods of burn-in to shade.
    """
    columns = min(3, len(outputs))
    rows = -(-len(outputs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.1 * rows), squeeze=False, layout="constrained")
    arms = list(dict.fromkeys(bands["arm"]))
    looks = arm_looks(arms)
    shade = band_shade(len(arms))
    for ax, output in zip(axes.flat, outputs, strict=False):
        for arm in arms:
            frame = bands[(bands["arm"] == arm) & (bands["output"] == output)].sort_values("period")
            colour, dashes = looks[arm]
            ax.plot(frame["period"], frame["mean"], label=shown(arm), linewidth=1.4, color=colour, linestyle=dashes)
            ax.fill_between(frame["period"], frame["ci_low"], frame["ci_high"], color=colour, alpha=shade, linewidth=0)
        mark_burn_in(ax, burn_in)
        ax.set_title(wrapped(label(output, style.language(), unit=True), 40), fontsize=9)
        ax.set_xlabel(say("period"))
    for ax in list(axes.flat)[len(outputs) :]:
        ax.set_visible(False)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncols=min(4, len(arms)))
    fig.suptitle(say("mean over replications per period, 95% bands"), fontsize=10)
    return finish(fig, path, dpi=90)  # many panels: a lower resolution keeps the file and the time small


LINE_STYLES = ("-", "--", ":", "-.")
"""Line styles that tell apart arms sharing a colour: the palette's eight colours, then each again dashed, ..."""


def arm_looks(arms: list[str]) -> dict[str, tuple[str, str]]:
    """Each arm's colour and line style: no two arms look alike (up to 32 arms)."""
    palette = style.RC["axes.prop_cycle"].by_key()["color"]
    return {
        arm: (palette[k % len(palette)], LINE_STYLES[(k // len(palette)) % len(LINE_STYLES)])
        for k, arm in enumerate(arms)
    }


def band_shade(lines: int) -> float:
    """The opacity of 95% bands: fainter with more than four lines, so the lines stay readable."""
    return 0.2 if lines <= 4 else 0.07


def finish(fig, path: Path | None, dpi: int | None = None):
    """Return ``fig``; with ``path``, write it in the current style's formats (:func:`style.save`) and close it."""
    if path is not None:
        style.save(fig, path, dpi)
        plt.close(fig)
    return fig


@styled
def sweep_lines(rows: pd.DataFrame, x: str, outcome: str, path: Path | None = None):
    """An outcome's mean with 95% CI against one swept parameter (or the point number), a line per arm."""
    fig, ax = plt.subplots(figsize=(6.5, 4.0), layout="constrained")
    arms = list(dict.fromkeys(rows["arm"])) if "arm" in rows else [""]
    looks = arm_looks(arms)
    for arm in arms:
        line = (rows[rows["arm"] == arm] if "arm" in rows else rows).sort_values(x)
        colour, dashes = looks[arm]
        ax.plot(line[x], line["mean"], marker="o", linestyle=dashes, color=colour, label=shown(arm) or None)
        ax.fill_between(
            line[x], line["ci_low"], line["ci_high"], color=colour, alpha=band_shade(len(arms)), linewidth=0
        )
    ax.set_xlabel(say("point") if x == "point" else parameter_words(x))
    ax.set_ylabel(f"{label(outcome, style.language(), unit=True)}\n{say('(mean, 95% CI)')}")
    against = say("the sweep point") if x == "point" else parameter_words(x)
    ax.set_title(say("{outcome} against {x}", outcome=words(outcome), x=against))
    ax.xaxis.set_major_locator(plt.MaxNLocator(8))
    if any(arms):
        ax.legend()
    return finish(fig, path)


@styled
def sweep_heatmap(rows: pd.DataFrame, parameters: list[str], outcome: str, path: Path | None = None):
    """An outcome's mean over a two-parameter grid, a panel per arm on one colour scale."""
    arms = list(dict.fromkeys(rows["arm"])) if "arm" in rows else [""]
    fig, axes = plt.subplots(1, len(arms), figsize=(5.2 * len(arms) + 1.3, 4.8), layout="constrained", squeeze=False)
    low, high = rows["mean"].min(), rows["mean"].max()
    for ax, arm in zip(axes.flat, arms, strict=True):
        mine = rows[rows["arm"] == arm] if "arm" in rows else rows
        grid = mine.pivot_table(index=parameters[0], columns=parameters[1], values="mean")
        image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis", vmin=low, vmax=high)
        _sparse_ticks(ax.set_xticks, grid.columns, 8)
        _sparse_ticks(ax.set_yticks, grid.index, 12)
        ax.set_xlabel(parameter_words(parameters[1]))
        ax.set_ylabel(parameter_words(parameters[0]))
        ax.grid(visible=False)
        ax.set_title(
            f"{shown(arm)}: {words(outcome)}"
            if arm
            else say("{outcome} (mean over replications)", outcome=words(outcome))
        )
    fig.colorbar(image, ax=list(axes.flat), label=label(outcome, style.language(), unit=True))
    return finish(fig, path)


def _sparse_ticks(set_ticks, values, most: int) -> None:
    """Ticks at every value, or at evenly spaced ones when there are more than ``most``."""
    every = max(1, -(-len(values) // most))
    chosen = list(range(0, len(values), every))
    set_ticks(chosen, [f"{values[i]:g}" for i in chosen])


@styled
def sensitivity_bars(indices: pd.DataFrame, method: str, outcome: str, path: Path | None = None):
    """Sensitivity of one outcome: Morris μ* against σ (a point per parameter), or Sobol S1 and ST bars with CIs.

    In the Morris plane a parameter to the right matters; one high above the diagonal σ = μ*
    acts through interactions or non-linearly; near the origin it can be fixed.
    """
    if method == "morris":
        return _morris_plane(indices, outcome, path)
    indices = indices.sort_values("ST")
    fig, ax = plt.subplots(figsize=(7.0, 0.42 * len(indices) + 1.6), layout="constrained")
    height = 0.38
    for offset, (column, conf, name) in zip(
        (-height / 2, height / 2),
        [("S1", "S1_conf", say("S1 (first order)")), ("ST", "ST_conf", say("ST (total)"))],
        strict=True,
    ):
        positions = [i + offset for i in range(len(indices))]
        ax.barh(positions, indices[column], height=height, xerr=indices[conf], label=name, capsize=2)
    ax.set_yticks(range(len(indices)), [parameter_words(p) for p in indices["parameter"]])
    ax.set_xlabel(say("share of the output's variance"))
    ax.set_title(say("{outcome}: Sobol indices (95% CI)", outcome=words(outcome)))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    return finish(fig, path)


def _morris_plane(indices: pd.DataFrame, outcome: str, path: Path | None):
    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    ax.errorbar(
        indices["mu_star"],
        indices["sigma"],
        xerr=indices["mu_star_conf"],
        fmt="o",
        color="#0072B2",
        capsize=2,
        markersize=5,
        elinewidth=0.8,
    )
    reach = (indices["mu_star"] + indices["mu_star_conf"].fillna(0)).to_numpy(float)  # whiskers stay on the axes
    finite = np.concatenate([reach, indices["sigma"].to_numpy(float)])
    finite = finite[np.isfinite(finite)]
    top = float(max(finite.max(), 1e-12) if len(finite) else 1.0) * 1.1  # an output that never varies: NaN
    ax.plot([0, top], [0, top], color="#999999", linestyle=":", linewidth=1, label="σ = μ*")
    ranked = indices.sort_values("mu_star", ascending=False)
    for rank, row in enumerate(ranked.itertuples()):
        ax.annotate(
            parameter_words(str(row.parameter)),
            (row.mu_star, row.sigma),
            xytext=(4, 4 if rank % 2 else -9),
            textcoords="offset points",
            fontsize=7,
        )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(say("μ*: mean absolute elementary effect on {outcome} (95% CI)", outcome=words(outcome)))
    ax.set_ylabel(say("σ: spread of the elementary effects"))
    ax.set_title(say("{outcome}: Morris screening", outcome=words(outcome)))
    ax.legend(loc="upper left")
    return finish(fig, path)


@styled
def outcome_ranges(distribution: pd.DataFrame, outcome: str, path: Path | None = None):
    """Each arm's outcome over the futures: 10th to 90th percentile, median and mean."""
    rows = distribution[distribution["outcome"] == outcome].iloc[::-1]
    fig, ax = plt.subplots(figsize=(6.8, 0.38 * len(rows) + 1.5), layout="constrained")
    y = range(len(rows))
    ax.hlines(
        list(y), rows["p10"], rows["p90"], color="#0072B2", linewidth=3, alpha=0.5, label=say("10th-90th percentile")
    )
    ax.plot(rows["p50"], list(y), "|", color="#0072B2", markersize=14, markeredgewidth=2, label=say("median"))
    ax.plot(rows["mean"], list(y), "o", color="black", markersize=4, label=say("mean"))
    ax.set_yticks(list(y), [wrapped(shown(arm), 24) for arm in rows["arm"]])
    direction = rows["direction"].iloc[0] if len(rows) else "maximize"
    ax.set_xlabel(label(outcome, style.language(), unit=True))
    ax.set_title(
        say("{outcome} over the futures ({note})", outcome=words(outcome), note=say(direction_note(direction)))
    )
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish(fig, path)


@styled
def regret_boxes(regret: pd.DataFrame, outcome: str, path: Path | None = None):
    """Each arm's regret on one outcome across the futures, as a box plot with the maximum marked."""
    rows = regret[regret["outcome"] == outcome]
    arms = list(dict.fromkeys(rows["arm"]))[::-1]
    data = [rows.loc[rows["arm"] == arm, "regret"].to_numpy() for arm in arms]
    fig, ax = plt.subplots(figsize=(6.8, 0.38 * len(arms) + 1.5), layout="constrained")
    ax.boxplot(data, orientation="horizontal", whis=(10, 90), showfliers=False, widths=0.6)
    ax.plot(
        [d.max() if len(d) else float("nan") for d in data],
        range(1, len(arms) + 1),
        "x",
        color="#D55E00",
        label=say("maximum"),
    )
    ax.set_yticks(range(1, len(arms) + 1), [wrapped(shown(arm), 24) for arm in arms])
    ax.set_xlabel(say("regret: shortfall from the best arm in the same future\n({outcome})", outcome=words(outcome)))
    ax.set_title(say("Regret on {outcome} (box: quartiles; whiskers: 10th-90th percentile)", outcome=words(outcome)))
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return finish(fig, path)


@styled
def waterfall(parts: pd.DataFrame, title: str, path: Path | None = None, effect: bool = False):
    """A waterfall from the intended 1.0 to the realised attainment (or from no effect to a reform's), with CIs.

    ``parts`` is one arm's rows of ``shortfall.csv``, ``levels.csv`` or (with ``effect``)
    ``reform.csv`` (:mod:`sim.experiments.explain`): the rest, the contributions (largest first)
    and the total. Each bar spans the attainment before and after its part; its whisker is the
    part's 95% CI over replications.
    """
    rest = parts[~parts["part"].isin(["contribution", "total"])].iloc[0]
    contributions = parts[parts["part"] == "contribution"]
    contributions = contributions.reindex(contributions["mean"].abs().sort_values(ascending=False).index)
    total = parts[parts["part"] == "total"].iloc[0]
    sign = 1.0 if effect else -1.0  # a loss lowers attainment; an effect adds to the difference
    start = 0.0 if effect else 1.0
    steps = [rest, *[row for _, row in contributions.iterrows()]]
    names = [_part_words(row["name"], effect) for row in steps]
    fig, ax = plt.subplots(figsize=(7.2, 0.42 * (len(steps) + 2) + 1.2), layout="constrained")
    level = start
    ax.barh(0, start, color="#bbbbbb", height=0.6) if not effect else None
    for position, row in enumerate(steps, start=1):
        change = sign * row["mean"]
        colour = "#D55E00" if change < 0 else "#009E73"
        ax.barh(position, change, left=level, color=colour, height=0.6)
        low, high = sorted((sign * row["ci_low"], sign * row["ci_high"]))
        ax.plot([level + low, level + high], [position, position], color="black", linewidth=1)
        ax.annotate(
            "0.000" if abs(change) < 5e-4 else f"{change:+.3f}",
            (max(level, level + change, level + high), position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
        if position < len(steps):
            ax.plot([level + change] * 2, [position + 0.3, position + 0.7], color="#666666", linewidth=0.6)
        level += change
    end = len(steps) + 1
    final = sign * total["mean"] if effect else start - total["mean"]
    ax.barh(end, final, color="#0072B2", height=0.6)
    ax.annotate(
        f"{final:+.3f}" if effect else f"{final:.3f}",
        (max(final, 0), end),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        fontsize=7,
    )
    first = phrase("no effect" if effect else "intended (1.0)", style.language())
    last = phrase("the reform's effect" if effect else "realised attainment", style.language())
    ax.set_yticks(range(end + 1), [first, *[wrapped(n, 30) for n in names], last])
    ax.set_ylim(end + 0.6, -0.6)
    ax.axvline(start, color="black", linewidth=0.6)
    ax.grid(axis="y", visible=False)
    unit = "difference in goal attainment" if effect else "goal attainment"
    ax.set_xlabel(say(unit + " (bars: mean over {n} replications; whiskers: 95% CI)", n=int(total["n"])))
    ax.set_title(wrapped(title, 70))
    return finish(fig, path)


def _part_words(name: str, effect: bool) -> str:
    from sim.scenario.mechanisms import BY_NAME, title

    if name in BY_NAME:
        return title(name, style.language())
    fixed = {
        "unexplained": "lost with every mechanism off",
        "grassroots": "lost at the grassroots (intact directive)",
        "without mechanisms": "effect with every mechanism off",
    }
    return say(fixed[name]) if name in fixed else say("relay {name}", name=name)


@styled
def oversight_lines(curve: pd.DataFrame, path: Path | None = None):
    """P7's curve: goal attainment, burden and faking against inspection intensity, each with its 95% band.

    One panel per outcome on a shared, square-root-scaled axis of inspections (the curve's
    interesting part lies at low rates); the best rate for attainment is marked in each panel.
    """
    outcomes = list(dict.fromkeys(curve["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.4 * len(outcomes), 3.3), sharex=True, layout="constrained")
    axes = np.atleast_1d(axes)
    attainment = curve[curve["outcome"] == outcomes[0]]
    best = attainment.loc[attainment["mean"].idxmax(), "inspection_rate"]
    for ax, outcome in zip(axes, outcomes, strict=True):
        rows = curve[curve["outcome"] == outcome].sort_values("inspection_rate")
        ax.plot(rows["inspection_rate"], rows["mean"], "o-", markersize=3)
        ax.fill_between(rows["inspection_rate"], rows["ci_low"], rows["ci_high"], alpha=0.2, linewidth=0)
        ax.axvline(best, color="#999999", linestyle=":", linewidth=1)
        ax.set_xscale("function", functions=(np.sqrt, np.square))
        ticks = [t for t in (0, 0.1, 0.25, 0.5, 1, 2, 4, 8) if t <= rows["inspection_rate"].max() * 1.05]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_title(wrapped(label(outcome, style.language(), unit=True), 32))
        ax.set_xlabel(say("inspections per principal per period"))
    axes[0].set_ylabel(say("mean over replications (95% CI)"))
    fig.suptitle(
        say("Oversight has an interior optimum (dotted: the best rate for attainment, {best})", best=f"{best:g}"),
        fontsize=10,
    )
    return finish(fig, path)
