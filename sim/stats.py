"""Summary statistics over replications: means with t-based 95% confidence intervals.

Reads result tables only; never imports the model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


def half_width(sd, n, confidence: float = CONFIDENCE):
    """Half-width of the two-sided t confidence interval of a mean (NaN for n < 2)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n), np.nan)


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
            n = len(values)
            mean = float(values.mean())
            sd = float(values.std(ddof=1)) if n > 1 else float("nan")
            half = float(half_width(sd, n))
            rows.append(
                {
                    "output": output,
                    "statistic": statistic,
                    "replications": n,
                    "mean": mean,
                    "sd": sd,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                }
            )
    return pd.DataFrame(rows)


def band(steps: pd.DataFrame, output: str) -> pd.DataFrame:
    """Per period: mean of ``output`` over replications and its 95% CI (for time-series plots)."""
    frame = steps.groupby("period")[output].agg(["mean", "std", "count"]).reset_index()
    half = half_width(frame["std"].to_numpy(), frame["count"].to_numpy())
    frame["ci_low"] = frame["mean"] - half
    frame["ci_high"] = frame["mean"] + half
    return frame[["period", "mean", "ci_low", "ci_high"]]
