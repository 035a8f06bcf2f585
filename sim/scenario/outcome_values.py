"""What an outcome's value in one run is: its mean over the periods after the burn-in.

One definition for every table and tool: ``bureausim run``'s summary, compare, sweep,
sensitivity, robustness, the ``run_value_*`` reporters that ``mesa.batch_run`` collects and
the EMA Workbench adapter all take a run's value of an output to be :func:`run_value` of the
periods after :func:`burn_in_periods`. The first periods are left out because officials start
from the same attractions and need time to learn (docs/ODD.md, section 7); the last period
alone is reported beside it where a table has room, under a name that says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RUN_VALUE_PREFIX = "run_value_"
"""Prefix of the model reporters holding a run's value of each outcome (``run_value_goal_attainment``)."""


def burn_in_periods(burn_in: int | None, steps: int) -> int:
    """Periods left out of a run's values: the scenario's ``burn_in``, or a third of the run's ``steps``."""
    return burn_in if burn_in is not None else steps // 3


def run_value(after_burn_in: Sequence[float] | np.ndarray) -> float:
    """A run's value of one output from its values in the periods after the burn-in, in order: their mean.

    Periods without a value (NaN: a task of a portfolio outside its window) are left out, so a
    campaign task's value is its mean while in force; NaN only if it never was.
    """
    values = np.asarray(after_burn_in, dtype=float)
    if not np.isnan(values).any():
        return float(np.mean(values))
    return float(np.mean(values[~np.isnan(values)])) if (~np.isnan(values)).any() else float("nan")
