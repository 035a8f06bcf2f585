"""Scenario discovery: the boxes of the uncertainty space where a condition holds, with PRIM.

PRIM (the patient rule induction method, Friedman and Fisher 1999) peels the space of
futures one thin slice at a time, always removing the slice that most raises the share of
cases (futures where the condition holds) in what is left, then pastes back slices that do
not lower it. Each step of this *peeling trajectory* is a box with a coverage (share of all
cases inside it), a density (share of the box's futures that are cases) and a mass (share of
all futures inside it). The algorithm is the EMA Workbench's (``ema_workbench.analysis.prim``);
this module chooses a box on the trajectory, names its restrictions and draws it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis.plots import finish, parameter_words, say, shown, styled, wrapped
from sim.scenario.schema import DEFAULT_MIN_DENSITY

PEEL_ALPHA = 0.05
"""Share of the futures left peeled off at each step (the Workbench's default)."""
MASS_MIN = 0.05
"""Smallest share of all futures a box may hold."""


@dataclass
class Discovery:
    """Where a condition holds among the futures, as a box found by PRIM.

    Attributes:
        label: What was asked, e.g. ``fault_tolerance: goal_attainment <= status_quo``.
        futures: The uncertain parameters' values, one row per future.
        cases: Whether the condition holds in each future.
        min_density: The least density of the chosen box.
        trajectory: Per step of the peeling trajectory: ``step``, ``coverage``, ``density``,
            ``mass``, ``res_dim`` (restricted parameters), ``n`` and ``k`` (futures and cases in it).
        chosen: The step chosen: the highest coverage with density at least ``min_density``
            (of equals, the one with fewer restrictions, then the denser), or the densest step
            when none reaches it (``None`` when the condition holds in no future, or in every one).
        limits: Per uncertain parameter: its range in the chosen box and in all futures, whether
            the box restricts it, and PRIM's quasi-p-values of the restriction.
        note: Why no box was searched for, or that the chosen box misses ``min_density``.
        number: Which box this is, when several are found one after another (1 for the first).
            A later box is searched for among the futures outside the earlier ones: its density
            counts only those futures, and its pair plot draws only them.
    """

    label: str
    futures: pd.DataFrame
    cases: np.ndarray
    min_density: float
    trajectory: pd.DataFrame
    chosen: int | None
    limits: pd.DataFrame
    note: str = ""
    _box: object = field(default=None, repr=False)
    number: int = 1

    @property
    def searched(self) -> np.ndarray:
        """Which futures the box was searched among: all for the first box, those outside earlier boxes after."""
        if self._box is None:
            return np.ones(len(self.futures), dtype=bool)
        mask = np.zeros(len(self.futures), dtype=bool)
        mask[np.asarray(self._box.yi_initial)] = True
        return mask

    @property
    def stats(self) -> dict[str, float | int | str]:
        """One row for a summary table: cases, coverage, density, mass and the restricted parameters."""
        row: dict[str, float | int | str] = {
            "condition": self.label,
            "futures": len(self.cases),
            "cases": int(self.cases.sum()),
            "box": self.number,
        }
        if self.chosen is None:
            return row | {
                "step": np.nan,
                "coverage": np.nan,
                "density": np.nan,
                "mass": np.nan,
                "restricted": "",
                "note": self.note,
            }
        step = self.trajectory.iloc[self.chosen]
        restricted = self.limits[self.limits["restricted"]]
        described = "; ".join(
            f"{r.parameter} in [{r.lower:.4g}, {r.upper:.4g}]" for r in restricted.itertuples(index=False)
        )
        return row | {
            "step": int(self.chosen),
            "coverage": float(step["coverage"]),
            "density": float(step["density"]),
            "mass": float(step["mass"]),
            "restricted": described,
            "note": self.note,
        }

    def select(self, step: int) -> Discovery:
        """The same discovery with another step of the trajectory chosen (e.g. fewer restrictions, more coverage)."""
        if self._box is None:
            raise ValueError(f"no box was searched for: {self.note}")
        if not 0 <= step < len(self.trajectory):
            raise ValueError(f"step {step} is not on the trajectory (0 to {len(self.trajectory) - 1})")
        limits = _box_limits(self.futures, self._box, step)
        return replace(self, chosen=step, limits=limits, note=f"step {step} chosen by hand")

    @styled
    def plot_trajectory(self, path: Path | None = None):
        """Coverage against density along the peeling trajectory, coloured by restricted parameters."""
        fig, ax = plt.subplots(figsize=(6.2, 4.6), constrained_layout=True)
        points = ax.scatter(
            self.trajectory["coverage"],
            self.trajectory["density"],
            c=self.trajectory["res_dim"],
            cmap="viridis",
            vmin=0,
            vmax=max(1, int(self.trajectory["res_dim"].max())),
            s=22,
        )
        fig.colorbar(points, ax=ax, label=say("restricted parameters"))
        if self.chosen is not None:
            step = self.trajectory.iloc[self.chosen]
            ax.scatter(
                [step["coverage"]], [step["density"]], s=180, facecolors="none", edgecolors="crimson", linewidths=1.8
            )
            ax.annotate(
                f"chosen: step {self.chosen}",
                (step["coverage"], step["density"]),
                textcoords="offset points",
                xytext=(8, -14),
                color="crimson",
                fontsize=8,
            )
        ax.axhline(self.min_density, color="grey", linestyle=":", linewidth=1)
        ax.set_xlim(0, 1.05)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel(say("coverage (share of all cases in the box)"))
        ax.set_ylabel(say("density (share of the box that are cases)"))
        ax.set_title(say("PRIM peeling trajectory\n{label}", label=shown(self.label)), fontsize=10)
        ax.grid(alpha=0.3)
        return finish(fig, path)

    @styled
    def plot_pairs(self, path: Path | None = None):
        """The futures over every pair of the box's restricted parameters, cases marked, the box drawn."""
        restricted = list(self.limits.loc[self.limits["restricted"], "parameter"])
        others = [p for p in self.futures.columns if p not in restricted]
        searched = self.searched
        futures, cases = self.futures[searched], self.cases[searched]
        dims = (restricted + others)[: max(2, len(restricted))]
        count = len(dims)
        fig, axes = plt.subplots(count, count, figsize=(2.6 * count + 1, 2.6 * count), squeeze=False)
        limits = self.limits.set_index("parameter")
        for row, y in enumerate(dims):
            for column, x in enumerate(dims):
                ax = axes[row][column]
                if row == column:
                    bins = np.linspace(limits.at[x, "range_lower"], limits.at[x, "range_upper"], 16)
                    ax.hist(futures.loc[~cases, x], bins=bins, color="lightgrey", label=say("other futures"))
                    ax.hist(futures.loc[cases, x], bins=bins, color="crimson", alpha=0.7, label=say("cases"))
                    if self.chosen is not None:
                        ax.axvspan(limits.at[x, "lower"], limits.at[x, "upper"], color="royalblue", alpha=0.12)
                else:
                    ax.scatter(futures.loc[~cases, x], futures.loc[~cases, y], s=9, c="grey")
                    ax.scatter(futures.loc[cases, x], futures.loc[cases, y], s=9, c="crimson")
                    if self.chosen is not None:
                        ax.add_patch(
                            plt.Rectangle(
                                (limits.at[x, "lower"], limits.at[y, "lower"]),
                                limits.at[x, "upper"] - limits.at[x, "lower"],
                                limits.at[y, "upper"] - limits.at[y, "lower"],
                                fill=False,
                                edgecolor="royalblue",
                                linewidth=1.6,
                            )
                        )
                if row == count - 1:
                    ax.set_xlabel(wrapped(parameter_words(x), 24), fontsize=8)
                if column == 0:
                    ax.set_ylabel(wrapped(parameter_words(y), 24) if row else say("futures"), fontsize=8)
                ax.tick_params(labelsize=7)
        axes[0][0].legend(fontsize=7, loc="upper right")
        title = (
            say("Chosen box (blue) and cases (red)\n{label}", label=shown(self.label))
            if searched.all()
            else say(
                "Chosen box (blue) and cases (red), among the {count} futures outside earlier boxes\n{label}",
                count=int(searched.sum()),
                label=shown(self.label),
            )
        )
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        return finish(fig, path)


def discover(
    futures: pd.DataFrame,
    cases: np.ndarray | pd.Series,
    *,
    label: str = "",
    min_density: float = DEFAULT_MIN_DENSITY,
) -> Discovery:
    """Run PRIM on ``futures`` (one column per uncertain parameter) against the boolean ``cases``.

    Args:
        futures: The uncertain parameters' values, one row per future.
        cases: Whether the condition holds in each future (same order).
        label: What was asked, for tables and titles.
        min_density: The least density of the chosen box.

    Returns:
        The trajectory, the chosen box and its limits. When the condition holds in no future
        or in every one, no box is searched for and ``note`` says so.
    """
    return discover_boxes(futures, cases, label=label, min_density=min_density, boxes=1)[0]


def discover_boxes(
    futures: pd.DataFrame,
    cases: np.ndarray | pd.Series,
    *,
    label: str = "",
    min_density: float = DEFAULT_MIN_DENSITY,
    boxes: int = 1,
) -> list[Discovery]:
    """Up to ``boxes`` PRIM boxes, one after another (PRIM's covering approach).

    Each box after the first is searched for among the futures the boxes chosen before it
    leave out (the Workbench's default), so together they describe where the condition holds
    when one box is not enough. Coverage is always a share of all cases. The search stops early
    when the boxes chosen hold every case.
    """
    futures = futures.reset_index(drop=True)
    cases = np.asarray(cases, dtype=bool)
    if len(cases) != len(futures):
        raise ValueError(f"{len(cases)} case flags for {len(futures)} futures")
    if isinstance(boxes, bool) or not isinstance(boxes, int | np.integer) or boxes < 1:
        raise ValueError(f"boxes must be a whole number of at least 1, not {boxes!r}")
    count = int(cases.sum())
    if count == 0 or count == len(cases):
        note = "the condition holds in no future" if count == 0 else "the condition holds in every future"
        trajectory = pd.DataFrame(
            [{"step": 0, "coverage": float(count > 0), "density": count / len(cases), "mass": 1.0, "res_dim": 0}]
        )
        whole = _limits(futures, futures.min(), futures.max(), restricted=set())
        return [Discovery(label, futures, cases, min_density, trajectory, None, whole, note)]
    found = []
    for number, (box, trajectory, chosen, note) in enumerate(_find_boxes(futures, cases, min_density, boxes), 1):
        if number > 1:
            outside = f"searched among the {len(box.yi_initial)} futures outside boxes 1-{number - 1}"
            note = f"{outside}; {note}" if note else outside
        found.append(
            Discovery(
                label if number == 1 else f"{label} (box {number})",
                futures,
                cases,
                min_density,
                trajectory,
                chosen,
                _box_limits(futures, box, chosen),
                note,
                box,
                number,
            )
        )
    return found


def _choose(trajectory: pd.DataFrame, min_density: float) -> tuple[int, str]:
    """The step with the highest coverage among those dense enough (of equals, fewer restrictions, then denser)."""
    dense = trajectory[trajectory["density"] >= min_density]
    if dense.empty:
        return int(trajectory["density"].idxmax()), f"no box reaches density {min_density}; the densest is chosen"
    ranked = dense.sort_values(["coverage", "res_dim", "density"], ascending=[False, True, False], kind="stable")
    return int(ranked.index[0]), ""


def _box_limits(futures: pd.DataFrame, box, step: int) -> pd.DataFrame:
    """The limits of one step of a PRIM box's trajectory, with the quasi-p-values of its restrictions."""
    lims = box.box_lims[step]
    limits = _limits(futures, lims.iloc[0], lims.iloc[1], set(box.qp[step]))
    for parameter, (qp_lower, qp_upper) in box.qp[step].items():
        at = limits["parameter"] == parameter
        limits.loc[at, "qp_lower"] = np.nan if qp_lower == -1 else qp_lower
        limits.loc[at, "qp_upper"] = np.nan if qp_upper == -1 else qp_upper
    return limits


def _find_boxes(futures: pd.DataFrame, cases: np.ndarray, min_density: float, boxes: int) -> list[tuple]:
    """PRIM boxes from the Workbench (imported here: it is slow to import), each with its trajectory and chosen step."""
    with warnings.catch_warnings():
        # importing warns about optional parallel back-ends; searching uses pandas idioms newer pandas deprecates
        warnings.filterwarnings("ignore", category=UserWarning, module="ema_workbench")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="ema_workbench")
        warnings.filterwarnings("ignore", category=FutureWarning, module="ema_workbench")
        from ema_workbench.analysis import prim

        finder = prim.Prim(
            futures.astype({c: float for c in futures.columns if futures[c].dtype.kind != "i"}),
            cases.astype(int),
            # the threshold both marks the cases (y >= threshold, so y = 1) and is the least density PRIM
            # keeps its final box at: a tiny one keeps every trajectory, and the box is chosen from it below
            threshold=1e-9,
            peel_alpha=PEEL_ALPHA,
            paste_alpha=PEEL_ALPHA,
            mass_min=MASS_MIN,
        )
        found, covered = [], 0
        while len(found) < boxes and covered < cases.sum():
            box = finder.find_box()
            if box is None:  # no futures left
                break
            trajectory = box.peeling_trajectory.reset_index(drop=True)
            trajectory = trajectory.rename(columns={"id": "step"})
            trajectory = trajectory[["step", "coverage", "density", "mass", "res_dim", "n", "k"]]
            chosen, note = _choose(trajectory, min_density)
            box.select(chosen)  # the next box is searched for among the futures this one leaves out
            covered += int(trajectory.at[chosen, "k"])
            found.append((box, trajectory, chosen, note))
        return found


def _limits(futures: pd.DataFrame, lower: pd.Series, upper: pd.Series, restricted: set[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": list(futures.columns),
            "lower": [float(lower[c]) for c in futures.columns],
            "upper": [float(upper[c]) for c in futures.columns],
            "range_lower": [float(futures[c].min()) for c in futures.columns],
            "range_upper": [float(futures[c].max()) for c in futures.columns],
            "restricted": [c in restricted for c in futures.columns],
            "qp_lower": np.nan,
            "qp_upper": np.nan,
        }
    )
