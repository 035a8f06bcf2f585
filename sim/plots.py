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
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(steps: pd.DataFrame, level_names: list[str], folder: Path) -> list[Path]:
    """Write every figure of :func:`figure_groups` into ``folder``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, (title, outputs) in figure_groups(level_names).items():
        path = folder / f"{stem}.png"
        plot_time_series(steps, outputs, title, path)
        paths.append(path)
    return paths
