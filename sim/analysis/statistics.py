"""Summary statistics over replications: means with t-based 95% confidence intervals.

Reads result tables only; never imports the model.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.special import stdtrit

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


def summarise(steps: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Per output: mean, sd and 95% CI over replications, at the last period and over the run.

    With one replication, sd and the interval are NaN: one run says nothing about variability.

    Args:
        steps: One row per replication × period with a ``replication`` and ``period`` column.
        outputs: The output columns to summarise.

    Returns:
        One row per output and statistic (``final``: the last period; ``run_mean``: the mean
        over all periods of each replication).
    """
    last = steps[steps["period"] == steps["period"].max()].set_index("replication")[outputs]
    over_run = steps.groupby("replication")[outputs].mean()
    rows = []
    for output in outputs:
        for statistic, values in (("final", last[output]), ("run_mean", over_run[output])):
            summary = describe(values)
            rows.append({"output": output, "statistic": statistic, "replications": summary.pop("n")} | summary)
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
    """One run's value of every output: its mean over the periods after ``burn_in``."""
    skip = {"arm", "point", "replication", "seed", "period"}
    outputs = [name for name in steps.columns if name not in skip]
    means = steps.loc[steps["period"] > burn_in, outputs].to_numpy(dtype=float).mean(axis=0)
    return dict(zip(outputs, means.tolist(), strict=True))


def paired_effects(values: pd.DataFrame, outcomes: list[tuple[str, str]], reference: str) -> pd.DataFrame:
    """Each arm's mean and CI per outcome, and its paired difference from the reference arm.

    Replication *k* of every arm shares a seed, so differences are taken pair by pair
    (replications missing from either arm are left out of that pair's statistics).

    Args:
        values: One row per run with ``arm``, ``replication`` and one column per outcome.
        outcomes: ``(name, direction)`` pairs, direction ``maximize`` or ``minimize``.
        reference: The arm the others are compared with.

    Returns:
        One row per arm and outcome: ``n``, ``mean``, ``ci_low``, ``ci_high``, and for arms
        other than the reference ``difference``, ``difference_low``, ``difference_high``,
        ``effect_size`` (mean difference over the standard deviation of the differences) and
        ``verdict`` (better, worse, or no detectable difference).
    """
    rows = []
    arms = list(dict.fromkeys(values["arm"]))
    base = values[values["arm"] == reference].set_index("replication")
    for arm in arms:
        mine = values[values["arm"] == arm].set_index("replication")
        for name, direction in outcomes:
            summary = describe(mine[name])
            del summary["sd"]
            row = {"arm": arm, "outcome": name, "direction": direction} | summary
            if arm == reference:
                row |= {"difference": np.nan, "difference_low": np.nan, "difference_high": np.nan}
                row |= {"effect_size": np.nan, "verdict": "reference"}
            else:
                paired = mine[[name]].merge(
                    base[[name]], left_index=True, right_index=True, how="inner", suffixes=("", "_reference")
                )
                diff = (paired[name] - paired[f"{name}_reference"]).to_numpy(dtype=float)
                row |= _difference(diff, direction)
            rows.append(row)
    return pd.DataFrame(rows)


def _difference(diff: np.ndarray, direction: str) -> dict[str, float | str]:
    summary = describe(diff)
    mean, sd, low, high = summary["mean"], summary["sd"], summary["ci_low"], summary["ci_high"]
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = float(np.float64(mean) / sd)  # NaN when every difference is zero
    if not (low > 0 or high < 0):
        verdict = "no detectable difference"
    elif (low > 0) == (direction == "maximize"):
        verdict = "better"
    else:
        verdict = "worse"
    return {
        "difference": mean,
        "difference_low": low,
        "difference_high": high,
        "effect_size": effect,
        "verdict": verdict,
    }
