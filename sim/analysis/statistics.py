"""Summary statistics over replications: means with t-based 95% confidence intervals.

Reads result tables only; never imports the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.special import stdtr, stdtrit
from statsmodels.stats.multitest import multipletests

from sim.scenario.outcome_values import run_value

CONFIDENCE = 0.95


def half_width(sd, n, confidence: float = CONFIDENCE):
    """Half-width of the two-sided t confidence interval of a mean (NaN for n < 2)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, stdtrit(np.maximum(n - 1, 1), 0.5 + confidence / 2) * sd / np.sqrt(n), np.nan)


def describe(values) -> dict[str, float]:
    """Sample size, mean, standard deviation and 95% t interval of the mean.

    With fewer than two values the standard deviation and the interval are NaN: one run says
    nothing about variability.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    half = float(half_width(sd, n))
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


def summarise(steps: pd.DataFrame, outputs: list[str], burn_in: int) -> pd.DataFrame:
    """Per output: mean, sd and 95% CI over replications of its run value, and of its last period.

    A run's value of an output is its mean over the periods after ``burn_in``
    (:func:`run_values`), as in every experiment; the last period's value is summarised beside
    it, in columns named ``last_period_*``. With one replication, sd and the intervals are NaN:
    one run says nothing about variability.

    Args:
        steps: One row per replication × period with a ``replication`` and ``period`` column.
        outputs: The output columns to summarise.
        burn_in: Periods left out of each run's value.

    Returns:
        One row per output: ``output``, ``replications``, ``burn_in``, ``mean``, ``sd``,
        ``ci_low``, ``ci_high``, ``last_period_mean``, ``last_period_sd``,
        ``last_period_ci_low``, ``last_period_ci_high``.
    """
    runs = steps.groupby("replication", sort=True)[["period", *outputs]]
    values = pd.DataFrame([run_values(run, burn_in) for _, run in runs])
    last = steps[steps["period"] == steps["period"].max()].set_index("replication")[outputs]
    rows = []
    for output in outputs:
        value, final = describe(values[output]), describe(last[output])
        row = {"output": output, "replications": value.pop("n"), "burn_in": burn_in} | value
        rows.append(row | {f"last_period_{key}": final[key] for key in ("mean", "sd", "ci_low", "ci_high")})
    return pd.DataFrame(rows)


def band(steps: pd.DataFrame, output: str) -> pd.DataFrame:
    """Per period: mean of ``output`` over replications and its 95% CI (for time-series plots)."""
    frame = steps.groupby("period")[output].agg(["mean", "std", "count"]).reset_index()
    half = half_width(frame["std"].to_numpy(), frame["count"].to_numpy())
    frame["ci_low"] = frame["mean"] - half
    frame["ci_high"] = frame["mean"] + half
    return frame[["period", "mean", "ci_low", "ci_high"]]


def streaming_bands(batches: Iterable[pd.DataFrame], keys: list[str], outputs: list[str]) -> pd.DataFrame:
    """Per group of ``keys`` (an arm and a period, say) and output: the mean over rows and its 95% CI.

    The same figures as :func:`band`, from batches of rows read one at a time: counts, means and
    sums of squared deviations are merged batch by batch (Chan, Golub and LeVeque's pairwise
    update), so memory stays that of one batch and the groups, however many rows there are.

    Returns:
        One row per group and output: the keys, ``output``, ``n``, ``mean``, ``ci_low``, ``ci_high``.
    """
    count = mean = squares = None
    for batch in batches:
        grouped = batch.groupby(keys)[outputs]
        n = grouped.count()  # missing values are left out, as band() leaves them out
        m, q = grouped.mean().fillna(0.0), (grouped.var(ddof=0) * n).fillna(0.0)  # a group with no value weighs 0
        if count is None:
            count, mean, squares = n, m, q
            continue
        index = count.index.union(n.index)
        count, mean, squares, n, m, q = (
            frame.reindex(index, fill_value=0) for frame in (count, mean, squares, n, m, q)
        )
        merged = count + n
        delta = m - mean
        mean = mean + (delta * n / merged).fillna(0.0)
        squares = squares + q + (delta**2 * count * n / merged).fillna(0.0)
        count = merged
    if count is None:
        return pd.DataFrame(columns=[*keys, "output", "n", "mean", "ci_low", "ci_high"])
    rows = []
    for output in outputs:
        n = count[output].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(squares[output].to_numpy(dtype=float) / (n - 1))
        half = half_width(sd, n)
        frame = count.index.to_frame(index=False)
        frame["output"] = output
        frame["n"] = n.astype(int)
        frame["mean"] = np.where(n > 0, mean[output].to_numpy(dtype=float), np.nan)
        frame["ci_low"] = frame["mean"] - half
        frame["ci_high"] = frame["mean"] + half
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def run_values(steps: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """One run's value of every output: its mean over the periods after ``burn_in`` (:func:`run_value`)."""
    skip = {"arm", "point", "replication", "seed", "period"}
    after = steps.loc[steps["period"] > burn_in]
    return {name: run_value(after[name].to_numpy(dtype=float)) for name in steps.columns if name not in skip}


ADJUSTMENTS = {"holm": "holm", "bh": "fdr_bh"}
"""``--adjust`` methods: Holm's step-down (family-wise error) and Benjamini–Hochberg (false
discovery rate), by their names in ``statsmodels.stats.multitest.multipletests``."""

SIGNIFICANCE = 1 - CONFIDENCE
"""The level at which an adjusted p-value counts as a detectable difference (matching the 95% CIs)."""


def paired_effects(
    values: pd.DataFrame,
    outcomes: Sequence[tuple],
    reference: str,
    *,
    adjust: str | None = None,
) -> pd.DataFrame:
    """Each arm's mean and CI per outcome, and its paired difference from the reference arm.

    Replication *k* of every arm shares a seed, so differences are taken pair by pair
    (replications missing from either arm are left out of that pair's statistics).

    Args:
        values: One row per run with ``arm``, ``replication`` and one column per outcome.
        outcomes: ``(name, direction)`` or ``(name, direction, min_effect)`` tuples; direction
            ``maximize``, ``minimize`` or ``none`` (reported, never judged better or worse);
            ``min_effect`` the smallest difference of interest, or ``None``.
        reference: The arm the others are compared with.
        adjust: Adjust the p-values over every arm × outcome: ``holm`` or ``bh``
            (Benjamini–Hochberg); the verdicts then follow the adjusted p-values.

    Returns:
        One row per arm and outcome: ``n``, ``mean``, ``ci_low``, ``ci_high``, and for arms
        other than the reference ``difference`` (the raw mean paired difference) with its CI,
        ``cohens_d`` (the difference over the two arms' pooled standard deviation),
        ``paired_dz`` (the difference over the standard deviation of the differences: it
        grows without bound as common random numbers make pairs alike), ``p_value`` (paired
        t-test), ``p_adjusted`` (with ``adjust``) and ``verdict``. A difference of exactly zero
        has both effect sizes 0; a non-zero difference with no spread has infinite ones.
    """
    if adjust is not None and adjust not in ADJUSTMENTS:
        raise ValueError(f"unknown adjustment {adjust!r}; one of {', '.join(ADJUSTMENTS)}")
    rows = []
    arms = list(dict.fromkeys(values["arm"]))
    base = values[values["arm"] == reference].set_index("replication")
    for arm in arms:
        mine = values[values["arm"] == arm].set_index("replication")
        for name, direction, *rest in outcomes:
            summary = describe(mine[name])
            del summary["sd"]
            row = {"arm": arm, "outcome": name, "direction": direction} | summary
            if arm == reference:
                row |= dict.fromkeys(DIFFERENCE_COLUMNS, np.nan) | {"verdict": "reference", "min_effect": None}
            else:
                paired = mine[[name]].merge(
                    base[[name]], left_index=True, right_index=True, how="inner", suffixes=("", "_reference")
                )
                pairs = paired[name].to_numpy(dtype=float), paired[f"{name}_reference"].to_numpy(dtype=float)
                row |= _difference(*pairs) | {"min_effect": rest[0] if rest else None}
            rows.append(row)
    frame = pd.DataFrame(rows)
    judged = frame["verdict"] != "reference"
    significant = (frame["difference_low"] > 0) | (frame["difference_high"] < 0)
    if adjust is not None:
        frame.insert(
            frame.columns.get_loc("p_value") + 1, "p_adjusted", adjusted_p_values(frame["p_value"], judged, adjust)
        )
        significant = frame["p_adjusted"] < SIGNIFICANCE
    rows = zip(frame[judged].itertuples(), significant[judged], strict=True)
    frame.loc[judged, "verdict"] = [
        verdict(row.difference, row.difference_low, row.difference_high, row.direction, row.min_effect, bool(found))
        for row, found in rows
    ]
    return frame.drop(columns="min_effect")


def adjusted_p_values(p_values: pd.Series, family: pd.Series, adjust: str) -> pd.Series:
    """``p_values`` adjusted over the rows of ``family`` that have one (``holm`` or ``bh``); NaN elsewhere."""
    adjusted = pd.Series(np.nan, index=p_values.index)
    known = family & p_values.notna()
    if known.any():
        adjusted[known] = multipletests(p_values[known], method=ADJUSTMENTS[adjust])[1]
    return adjusted


DIFFERENCE_COLUMNS = ("difference", "difference_low", "difference_high", "cohens_d", "paired_dz", "p_value")


def _difference(arm: np.ndarray, reference: np.ndarray) -> dict[str, float | str]:
    """The paired difference of two arms' run values: mean and CI, both effect sizes, and the paired t-test's p."""
    diff = arm - reference
    summary = describe(diff)
    mean, sd, n = summary["mean"], summary["sd"], summary["n"]
    pooled = np.sqrt((np.var(arm, ddof=1) + np.var(reference, ddof=1)) / 2) if n > 1 else np.nan
    return {
        "difference": mean,
        "difference_low": summary["ci_low"],
        "difference_high": summary["ci_high"],
        "cohens_d": _standardised(mean, pooled),
        "paired_dz": _standardised(mean, sd),
        "p_value": paired_p_value(mean, sd, n),
        "verdict": "",
    }


def paired_p_value(mean: float, sd: float, n: int) -> float:
    """Two-sided p-value of a one-sample t-test that paired differences with this mean, sd and count have mean 0.

    Differences without spread leave no doubt: p is 1 if they are all 0, else 0. NaN for fewer than two.
    """
    if n < 2:
        return np.nan
    if sd > 0:
        return float(2 * stdtr(n - 1, -abs(mean) / (sd / np.sqrt(n))))
    return 1.0 if mean == 0 else 0.0


def _standardised(difference: float, spread: float) -> float:
    """``difference / spread``: 0 for no difference, ±inf for a difference without spread, NaN if unknown."""
    if np.isnan(difference) or np.isnan(spread):
        return np.nan
    if difference == 0:
        return 0.0
    return float(np.copysign(np.inf, difference)) if spread == 0 else float(difference / spread)


def verdict(
    effect: float,
    low: float,
    high: float,
    direction: str,
    min_effect: float | None,
    detected: bool,
    words: tuple[str, str] = ("better", "worse"),
    nothing: str = "no detectable difference",
) -> str:
    """*negligible* if the CI lies within ±min_effect; else, if detected, ``words`` (good, bad) by the direction.

    An outcome with ``direction: none`` is *higher* or *lower*; undetected, ``nothing``.
    """
    if min_effect is not None and not pd.isna(min_effect) and -min_effect < low and high < min_effect:
        return "negligible"
    if not detected:
        return nothing
    up = effect > 0
    if direction == "none":
        return "higher" if up else "lower"
    return words[0] if up == (direction == "maximize") else words[1]
