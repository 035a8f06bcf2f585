"""Time-series plots of a run's outputs with 95% confidence bands, as PNG files.

Reads result tables only; never imports the model. Chooses no matplotlib backend (importing
it must not change a notebook's); the command line selects the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.analysis.statistics import band
from sim.atomic import save_figure
from sim.scenario.output_names import (
    STRATEGY_SHARES,
    direction_note,
    sanction_share_name,
    task_output_name,
    tasks_in,
)


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


def plot_time_series(steps: pd.DataFrame, outputs: list[str], title: str, path: Path) -> None:
    """Draw each output's mean over replications per period with its 95% band."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    for output in outputs:
        frame = band(steps, output)
        (line,) = ax.plot(frame["period"], frame["mean"], label=output, linewidth=1.6)
        ax.fill_between(
            frame["period"], frame["ci_low"], frame["ci_high"], color=line.get_color(), alpha=0.2, linewidth=0
        )
    replications = steps["replication"].nunique()
    ax.set_title(title)
    ax.set_xlabel("period")
    ax.set_ylabel(f"mean over {replications} replication{'s' if replications > 1 else ''} (95% CI)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    finish(fig, path)


def write_plots(steps: pd.DataFrame, level_names: list[str], folder: Path) -> list[Path]:
    """Write every figure of :func:`figure_groups` into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, (title, outputs) in figure_groups(level_names, tasks_in(steps.columns)).items():
        path = folder / f"{stem}.png"
        plot_time_series(steps, outputs, title, path)
        paths.append(path)
    return paths


def forest_plot(effects: pd.DataFrame, reference: str | None, path: Path | None = None):
    """Paired differences from the reference arm with 95% CIs: one panel per outcome.

    Returns the figure; with ``path`` it is also written there (PNG) and closed.
    """
    others = effects[effects["verdict"] != "reference"]
    outcomes = list(dict.fromkeys(others["outcome"]))
    arms = list(dict.fromkeys(others["arm"]))
    colours = {"better": "tab:green", "worse": "tab:red", "higher": "tab:blue", "lower": "tab:blue"}
    columns = max(1, min(4, len(outcomes)))
    lines = -(-max(1, len(outcomes)) // columns)
    width, height = 3.0 * columns + 1.8, (0.35 * len(arms) + 1.2) * lines + 0.5
    fig, axes = plt.subplots(lines, columns, figsize=(width, height), sharey=True, squeeze=False)
    fig.subplots_adjust(
        left=1.8 / width, right=0.98, bottom=0.35 / height, top=1 - 0.55 / height, wspace=0.15, hspace=0.8
    )
    for ax in list(axes.flat)[len(outcomes) :]:
        ax.set_visible(False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        rows = others[others["outcome"] == outcome].set_index("arm").loc[arms]
        y = range(len(arms))
        for position, (_, row) in zip(y, rows.iterrows(), strict=True):
            colour = colours.get(row["verdict"], "tab:gray")  # no detectable difference, negligible
            ax.plot([row["difference_low"], row["difference_high"]], [position, position], color=colour, linewidth=2)
            ax.plot(row["difference"], position, "o", color=colour)
        ax.axvline(0, color="black", linewidth=0.8)
        direction = rows["direction"].iloc[0]
        ax.set_title(f"{outcome}\n({direction_note(direction)})", fontsize=8)
        ax.set_yticks(list(y), arms, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Difference from {reference} (paired, 95% CI)", fontsize=10)
    return finish(fig, path)


def series_by_arm(bands: pd.DataFrame, outputs: list[str], path: Path | None = None):
    """Outputs over time, one panel per output, one line per arm (in the order of ``bands``) with its 95% band.

    Args:
        bands: Per arm, period and output: ``mean``, ``ci_low``, ``ci_high`` (see
            :func:`sim.analysis.statistics.streaming_bands`).
        outputs: The outputs to draw, one panel each.
        path: Where to write the figure as PNG (and close it), if given.
    """
    columns = min(3, len(outputs))
    rows = -(-len(outputs) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.07, top=0.9, wspace=0.25, hspace=0.45)
    arms = list(dict.fromkeys(bands["arm"]))
    colours = dict(zip(arms, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 3, strict=False))
    for ax, output in zip(axes.flat, outputs, strict=False):
        for arm in arms:
            frame = bands[(bands["arm"] == arm) & (bands["output"] == output)].sort_values("period")
            ax.plot(frame["period"], frame["mean"], label=arm, linewidth=1.4, color=colours[arm])
            ax.fill_between(
                frame["period"], frame["ci_low"], frame["ci_high"], color=colours[arm], alpha=0.2, linewidth=0
            )
        ax.set_title(output, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(outputs) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle("mean over replications per period, 95% bands", fontsize=10)
    return finish(fig, path, dpi=90)


def finish(fig, path: Path | None, dpi: int = 110):
    """Return ``fig``; with ``path``, write it there as PNG first and close it."""
    if path is not None:
        save_figure(fig, path, dpi=dpi)
        plt.close(fig)
    return fig


def sweep_lines(rows: pd.DataFrame, x: str, outcome: str, path: Path | None = None):
    """An outcome's mean with 95% CI against one swept parameter (or the point number), a line per arm."""
    fig, ax = plt.subplots(figsize=(6.5, 4.0), constrained_layout=True)
    arms = list(dict.fromkeys(rows["arm"])) if "arm" in rows else [""]
    for arm in arms:
        line = (rows[rows["arm"] == arm] if "arm" in rows else rows).sort_values(x)
        ax.plot(line[x], line["mean"], "o-", linewidth=1.6, label=arm or None)
        ax.fill_between(line[x], line["ci_low"], line["ci_high"], alpha=0.2, linewidth=0)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{outcome} (mean, 95% CI)")
    ax.set_title(f"{outcome} against {x}")
    ax.grid(alpha=0.3)
    if any(arms):
        ax.legend(fontsize=8)
    return finish(fig, path)


def sweep_heatmap(rows: pd.DataFrame, parameters: list[str], outcome: str, path: Path | None = None):
    """An outcome's mean over a two-parameter grid, a panel per arm on one colour scale."""
    arms = list(dict.fromkeys(rows["arm"])) if "arm" in rows else [""]
    fig, axes = plt.subplots(1, len(arms), figsize=(5.2 * len(arms) + 1.3, 4.8), constrained_layout=True, squeeze=False)
    low, high = rows["mean"].min(), rows["mean"].max()
    for ax, arm in zip(axes.flat, arms, strict=True):
        mine = rows[rows["arm"] == arm] if "arm" in rows else rows
        grid = mine.pivot_table(index=parameters[0], columns=parameters[1], values="mean")
        image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis", vmin=low, vmax=high)
        ax.set_xticks(range(len(grid.columns)), [f"{v:g}" for v in grid.columns], fontsize=8)
        ax.set_yticks(range(len(grid.index)), [f"{v:g}" for v in grid.index], fontsize=8)
        ax.set_xlabel(parameters[1])
        ax.set_ylabel(parameters[0])
        ax.set_title(f"{arm}: {outcome}" if arm else f"{outcome} (mean over replications)", fontsize=9)
    fig.colorbar(image, ax=list(axes.flat))
    return finish(fig, path)


def sensitivity_bars(indices: pd.DataFrame, method: str, outcome: str, path: Path | None = None):
    """Sensitivity indices of one outcome: Morris mu* and sigma, or Sobol S1 and ST, with CIs."""
    if method == "morris":
        bars = [("mu_star", "mu_star_conf", "mu*"), ("sigma", None, "sigma")]
    else:
        bars = [("S1", "S1_conf", "S1"), ("ST", "ST_conf", "ST")]
    indices = indices.sort_values(bars[0][0])
    fig, ax = plt.subplots(figsize=(7.0, 0.45 * len(indices) + 1.6), constrained_layout=True)
    height = 0.38
    for offset, (column, conf, label) in zip((-height / 2, height / 2), bars, strict=True):
        positions = [i + offset for i in range(len(indices))]
        errors = indices[conf] if conf else None
        ax.barh(positions, indices[column], height=height, xerr=errors, label=label, capsize=2)
    ax.set_yticks(range(len(indices)), indices["parameter"], fontsize=8)
    ax.set_title(f"{outcome}: {'Morris screening' if method == 'morris' else 'Sobol indices'}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8)
    return finish(fig, path)


def outcome_ranges(distribution: pd.DataFrame, outcome: str, path: Path | None = None):
    """Each arm's outcome over the futures: 10th to 90th percentile, median and mean."""
    rows = distribution[distribution["outcome"] == outcome].iloc[::-1]
    fig, ax = plt.subplots(figsize=(6.8, 0.38 * len(rows) + 1.5), constrained_layout=True)
    y = range(len(rows))
    ax.hlines(list(y), rows["p10"], rows["p90"], color="tab:blue", linewidth=3, alpha=0.5, label="10th-90th percentile")
    ax.plot(rows["p50"], list(y), "|", color="tab:blue", markersize=14, markeredgewidth=2, label="median")
    ax.plot(rows["mean"], list(y), "o", color="black", markersize=4, label="mean")
    ax.set_yticks(list(y), rows["arm"], fontsize=8)
    direction = rows["direction"].iloc[0] if len(rows) else "maximize"
    ax.set_title(f"{outcome} over the futures ({direction_note(direction)})", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return finish(fig, path)


def regret_boxes(regret: pd.DataFrame, outcome: str, path: Path | None = None):
    """Each arm's regret on one outcome across the futures, as a box plot with the maximum marked."""
    rows = regret[regret["outcome"] == outcome]
    arms = list(dict.fromkeys(rows["arm"]))[::-1]
    data = [rows.loc[rows["arm"] == arm, "regret"].to_numpy() for arm in arms]
    fig, ax = plt.subplots(figsize=(6.8, 0.38 * len(arms) + 1.5), constrained_layout=True)
    ax.boxplot(data, orientation="horizontal", whis=(10, 90), showfliers=False, widths=0.6)
    ax.plot(
        [d.max() if len(d) else float("nan") for d in data],
        range(1, len(arms) + 1),
        "x",
        color="crimson",
        label="maximum",
    )
    ax.set_yticks(range(1, len(arms) + 1), arms, fontsize=8)
    ax.set_xlabel(f"regret: shortfall from the best arm in the same future ({outcome})")
    ax.set_title(f"Regret on {outcome} (box: quartiles; whiskers: 10th-90th percentile)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return finish(fig, path)
