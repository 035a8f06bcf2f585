"""Judging arms across many futures: the distribution of outcomes, regret, satisficing, rankings.

Every function here takes tables and returns tables: one row per arm and future with every
output's mean over the replications (:func:`future_values`) is what the others read. Regret
is Savage's: in each future, an arm's shortfall from the best arm there. Satisficing is the
share of futures in which an arm meets thresholds such as ``goal_attainment >= 0.6``.
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from sim.scenario.conditions import parse_condition

OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
"""The comparison each condition's operator names."""
PERCENTILES = (10, 50, 90)
"""The percentiles of an outcome over futures that the distribution table gives."""


def future_values(runs: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """One row per arm and future: every output's mean over the replications, arms in scenario order."""
    outputs = [c for c in runs.columns if c not in ("arm", "point", "replication", "seed")]
    values = runs.groupby(["arm", "point"], sort=False)[outputs].mean().reset_index()
    values = values.rename(columns={"point": "future"})
    values["arm"] = pd.Categorical(values["arm"], categories=arms, ordered=True)
    values = values.sort_values(["arm", "future"]).reset_index(drop=True)
    values["arm"] = values["arm"].astype(str)
    return values


def distribution_table(values: pd.DataFrame, outcomes: list[tuple[str, str]]) -> pd.DataFrame:
    """Per arm and outcome: the mean over futures and the 10th, 50th and 90th percentiles."""
    rows = []
    for arm, group in values.groupby("arm", sort=False):
        for name, direction in outcomes:
            column = group[name].to_numpy(dtype=float)
            p10, p50, p90 = np.percentile(column, PERCENTILES)
            rows.append(
                {"arm": arm, "outcome": name, "direction": direction, "futures": len(column), "mean": column.mean()}
                | {"p10": p10, "p50": p50, "p90": p90}
            )
    return pd.DataFrame(rows)


def regret_table(values: pd.DataFrame, outcomes: list[tuple[str, str]]) -> pd.DataFrame:
    """Per future, arm and outcome: the arm's value, the best value in that future, and the regret.

    Regret is the shortfall from the best arm in the same future, in the outcome's direction
    (the best value minus the arm's for an outcome to maximise, the reverse to minimise); it
    is 0 for the best arm and never negative.
    """
    frames = []
    for name, direction in outcomes:
        best = values.groupby("future")[name].transform("max" if direction == "maximize" else "min")
        shortfall = best - values[name] if direction == "maximize" else values[name] - best
        frames.append(
            pd.DataFrame(
                {
                    "future": values["future"],
                    "arm": values["arm"],
                    "outcome": name,
                    "value": values[name],
                    "best": best,
                    "regret": shortfall.clip(lower=0.0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def summarise_regret(regret: pd.DataFrame) -> pd.DataFrame:
    """Per arm and outcome: mean, 90th percentile and maximum regret over futures."""
    grouped = regret.groupby(["arm", "outcome"], sort=False)["regret"]
    return pd.DataFrame(
        {
            "mean_regret": grouped.mean(),
            "p90_regret": grouped.quantile(0.9),
            "max_regret": grouped.max(),
        }
    ).reset_index()


def satisficing_table(values: pd.DataFrame, conditions: list[str], arms: list[str]) -> pd.DataFrame:
    """Per arm: the share of futures in which each threshold holds, and all of them together."""
    rows = []
    for arm in arms:
        group = values[values["arm"] == arm]
        row: dict[str, object] = {"arm": arm, "futures": len(group)}
        every = np.ones(len(group), dtype=bool)
        for text in conditions:
            condition = parse_condition(text)
            met = OPERATORS[condition.op](group[condition.outcome].to_numpy(), condition.value)
            row[str(condition)] = met.mean()
            every &= met
        row["all"] = every.mean() if conditions else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def rank_arms(
    distribution: pd.DataFrame,
    regret_summary: pd.DataFrame,
    satisficing: pd.DataFrame,
    outcomes: list[tuple[str, str]],
) -> pd.DataFrame:
    """Every arm's rank under each criterion (1 is best; ties share the better rank)."""
    criteria = []
    for name, direction in outcomes:
        rows = distribution[distribution["outcome"] == name]
        criteria.append((f"mean {name}", rows["arm"], rows["mean"], direction == "maximize"))
    for name, _ in outcomes:
        rows = regret_summary[regret_summary["outcome"] == name]
        criteria.append((f"max regret {name}", rows["arm"], rows["max_regret"], False))
        criteria.append((f"p90 regret {name}", rows["arm"], rows["p90_regret"], False))
    if satisficing["all"].notna().all():
        criteria.append(("satisficing (all thresholds)", satisficing["arm"], satisficing["all"], True))
    frames = []
    for criterion, arms, value, higher_is_better in criteria:
        frame = pd.DataFrame({"criterion": criterion, "arm": arms.to_numpy(), "value": value.to_numpy()})
        frame["rank"] = frame["value"].rank(method="min", ascending=not higher_is_better).astype(int)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
