"""Time-series plots of a run's outputs with 95% confidence bands, as PNG files.

Reads result tables only; never imports the model. Uses matplotlib's non-interactive Agg
backend, so it works on machines without a display.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from sim.outputs import STRATEGY_SHARES, sanction_share_name
from sim.stats import band


def figure_groups(level_names: list[str]) -> dict[str, tuple[str, list[str]]]:
    """The figures a run writes: file stem → (title, outputs drawn together)."""
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
    }


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
    _finish(fig, path)


def write_plots(steps: pd.DataFrame, level_names: list[str], folder: Path) -> list[Path]:
    """Write every figure of :func:`figure_groups` into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, (title, outputs) in figure_groups(level_names).items():
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
    colours = {"better": "tab:green", "worse": "tab:red", "no detectable difference": "tab:gray"}
    fig, axes = plt.subplots(
        1,
        max(1, len(outcomes)),
        figsize=(2.6 * max(1, len(outcomes)) + 1.5, 0.45 * len(arms) + 1.6),
        sharey=True,
        squeeze=False,
        constrained_layout=True,
    )
    for ax, outcome in zip(axes[0], outcomes, strict=False):
        rows = others[others["outcome"] == outcome].set_index("arm").loc[arms]
        y = range(len(arms))
        for position, (_, row) in zip(y, rows.iterrows(), strict=True):
            colour = colours.get(row["verdict"], "tab:blue")
            ax.plot([row["difference_low"], row["difference_high"]], [position, position], color=colour, linewidth=2)
            ax.plot(row["difference"], position, "o", color=colour)
        ax.axvline(0, color="black", linewidth=0.8)
        direction = rows["direction"].iloc[0]
        ax.set_title(f"{outcome}\n({'higher' if direction == 'maximize' else 'lower'} is better)", fontsize=8)
        ax.set_yticks(list(y), arms, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Difference from {reference} (paired, 95% CI)", fontsize=10)
    return _finish(fig, path)


def series_by_arm(steps: pd.DataFrame, output: str, path: Path | None = None):
    """One output over time, one line per arm with its 95% band over replications."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    for arm, group in steps.groupby("arm", sort=False):
        frame = band(group, output)
        (line,) = ax.plot(frame["period"], frame["mean"], label=arm, linewidth=1.6)
        ax.fill_between(
            frame["period"], frame["ci_low"], frame["ci_high"], color=line.get_color(), alpha=0.2, linewidth=0
        )
    ax.set_title(output)
    ax.set_xlabel("period")
    ax.set_ylabel("mean over replications (95% CI)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return _finish(fig, path)


def _finish(fig, path: Path | None):
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
