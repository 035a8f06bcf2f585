"""How many runs one experiment may ask for, judged before anything is allocated or run.

A sweep grid multiplies its value lists, a sensitivity sample grows with the samples and the
uncertainties, a comparison with ``--precision`` may reach its replication cap: each is a
count known before a single point is built. An experiment over :data:`MAX_RUNS` is refused
with the count, and the time it would take, so that a typing slip (``--samples 100000``)
does not fill memory or occupy the machine for a year.
"""

from __future__ import annotations

from sim.errors import ScenarioError
from sim.scenario.schema import Scenario

MAX_RUNS = 10_000_000
"""Most runs (arms x points x replications) one results folder may hold."""

SECONDS_PER_PERIOD = 1.5e-3
SECONDS_PER_OFFICIAL_PERIOD = 6e-7
"""A run's cost on one core of the reference machine: about 1.5 ms a period plus 0.6 µs per official and period."""


def counted(number: int, noun: str) -> str:
    """``3 replications``, ``1 replication``: a count with its noun."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def run_seconds(scenario: Scenario) -> float | None:
    """About how long one run of ``scenario`` takes on one core (``None`` when its size is known only from a file)."""
    officials = scenario.hierarchy.officials
    if officials is None:
        return None
    return scenario.steps * (SECONDS_PER_PERIOD + SECONDS_PER_OFFICIAL_PERIOD * officials)


def duration_text(seconds: float) -> str:
    """A duration in the largest unit that keeps it readable (``3.2 hours``, ``41 days``, ``12 years``)."""
    for unit, size in (("years", 365.25 * 86_400), ("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} seconds" if seconds >= 1 else "under a second"


def check_run_count(
    runs: int, counted: str, scenario: Scenario, *, source: str | None, field: str | None = None
) -> None:
    """Refuse an experiment of more than :data:`MAX_RUNS` runs, saying how many and how long they would take.

    Args:
        runs: The number of runs the experiment would make.
        counted: How the count comes about (``"3 arms x 1,000 points x 10 replications"``).
        scenario: The experiment's scenario (for the time a run takes).
        source: The file or option to blame.
        field: The field to blame, if any.
    """
    if runs <= MAX_RUNS:
        return
    seconds = run_seconds(scenario)
    cost = f", about {duration_text(runs * seconds)} on one core" if seconds is not None else ""
    raise ScenarioError(
        f"{counted} is {runs:,} runs{cost}; at most {MAX_RUNS:,} are allowed in one folder",
        source=source,
        line=scenario.line_of(*field.split(".")) if field else None,
        field=field,
    )
