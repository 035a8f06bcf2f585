"""Main effects and interactions of a 2^k factorial design, each with its paired CI over replications.

Every cell of the design is an arm, and replication *k* of every cell shares a seed (common
random numbers), so each replication gives one value of every contrast and the CI is that of
the mean contrast over replications, as for a paired difference. A term is a set *S* of
factors; its effect in replication *r* is

    effect_S = sum over cells of  sign_S(cell) × y(cell, r)  /  2^(k − |S|),

where sign_S(cell) is the product over the factors of *S* of +1 (on) or −1 (off). For one
factor this is its main effect: switching it on, averaged over the levels of the others. For
two it is the difference in differences: how much more the first does with the second on than
off (for k = 2, (y_AB − y_B) − (y_A − y_0)), averaged over any other factors; and so on.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.analysis.statistics import SIGNIFICANCE, adjusted_p_values, describe, paired_p_value, verdict

FACTORIAL_COLUMNS = [
    "outcome",
    "direction",
    "term",
    "order",
    "n",
    "effect",
    "effect_low",
    "effect_high",
    "p_value",
    "p_adjusted",
    "verdict",
]
"""The columns of ``factorial.csv`` (``p_adjusted`` only with an adjustment)."""


def factorial_effects(
    values: pd.DataFrame,
    cells: dict[str, frozenset[str]],
    factors: Sequence[str],
    outcomes: Sequence[tuple],
    *,
    adjust: str | None = None,
) -> pd.DataFrame:
    """Every main effect and interaction of every outcome, with its paired 95% CI and a verdict.

    Args:
        values: One row per run with ``arm``, ``replication`` and one column per outcome.
        cells: Each arm's factors switched on (every combination of ``factors`` once).
        factors: The factors, in order.
        outcomes: ``(name, direction, ...)`` tuples, as :func:`sim.analysis.statistics.paired_effects` takes.
        adjust: Adjust the p-values over every term × outcome (``holm`` or ``bh``).

    Returns:
        One row per outcome and term (main effects first, then two-way interactions, ...):
        ``term`` (factor names joined by `` x ``), ``order``, ``n`` (replications with every
        cell), ``effect`` with ``effect_low`` and ``effect_high``, ``p_value`` (one-sample t-test
        of the per-replication effects), ``p_adjusted`` (with ``adjust``) and ``verdict``:
        better / worse for a main effect, reinforcing / offsetting for an interaction (the
        factors together do more / less, in the outcome's direction, than each alone
        suggests), negligible when the CI lies inside ±min_effect, else no detectable effect.
    """
    k = len(factors)
    terms = [term for order in range(1, k + 1) for term in itertools.combinations(factors, order)]
    rows = []
    for name, direction, *rest in outcomes:
        smallest = rest[0] if rest else None
        table = values.pivot_table(index="replication", columns="arm", values=name, aggfunc="first")
        table = table.dropna()[list(cells)]  # replications with every cell, in the design's order
        for term in terms:
            signs = np.array([np.prod([1 if f in cells[arm] else -1 for f in term]) for arm in cells], dtype=float)
            contrast = table.to_numpy(dtype=float) @ signs / 2 ** (k - len(term))
            summary = describe(contrast)
            rows.append(
                {
                    "outcome": name,
                    "direction": direction,
                    "term": " x ".join(term),
                    "order": len(term),
                    "n": summary["n"],
                    "effect": summary["mean"],
                    "effect_low": summary["ci_low"],
                    "effect_high": summary["ci_high"],
                    "p_value": paired_p_value(summary["mean"], summary["sd"], summary["n"]),
                    "min_effect": smallest,
                }
            )
    frame = pd.DataFrame(rows)
    detected = (frame["effect_low"] > 0) | (frame["effect_high"] < 0)
    if adjust is not None:
        frame["p_adjusted"] = adjusted_p_values(frame["p_value"], frame["p_value"].notna(), adjust)
        detected = frame["p_adjusted"] < SIGNIFICANCE
    frame["verdict"] = [
        verdict(
            row.effect,
            row.effect_low,
            row.effect_high,
            row.direction,
            row.min_effect,
            bool(found),
            ("better", "worse") if row.order == 1 else ("reinforcing", "offsetting"),
            "no detectable effect",
        )
        for row, found in zip(frame.itertuples(), detected, strict=True)
    ]
    return frame[[column for column in FACTORIAL_COLUMNS if column in frame]]
