"""Time with a length (docs/ODD.md, section 14): time-dependent values converted to the model's period.

With ``time.period_months`` set, every other value is read as stated for a period of
``time.rates_per_months`` months and converted, by Δ = period_months / rates_per_months, to the
model's period before anything runs. This module holds the one table of what is converted and
how, and applies it to resolved parameters (and to a portfolio's own values of the same
parameters), so that both engines, every experiment and the checks run on the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.scenario.parameters import Parameters


def _chance(x: float | None, delta: float) -> float | None:
    """A chance per period compounded to the model's period: 1 − (1 − x)^Δ."""
    return None if x is None else 1.0 - (1.0 - x) ** delta


def _count(x: float | None, delta: float) -> float | None:
    """An expected count (or a flow) proportional to time: x Δ."""
    return None if x is None else x * delta


def _per_event(x: float, delta: float) -> float:
    """A cost or pressure per event, as a share of one period's: x / Δ."""
    return x / delta


def _duration(x: int | None, delta: float, least: int = 0) -> int | None:
    """A number of periods in the model's periods: round(x / Δ), at least ``least`` (none stays none)."""
    return None if x is None else max(least, round(x / delta))


def _position(x: int | None, delta: float) -> int | None:
    """The model period where stated period x begins: round((x − 1) / Δ) + 1, at least 1 (periods count from 1)."""
    return None if x is None else max(1, round((x - 1) / delta) + 1)


CONVERSIONS: dict[str, Callable] = {
    "accountability.third_party_rate": _chance,
    "accountability.report_audit_rate": _chance,
    "accountability.audit_rate": _chance,
    "middle.inspection_rate": _chance,
    "middle.skip_level_rate": _chance,
    "task.risk": _chance,
    "learning.forgetting": _chance,
    "learning.belief_rate": _chance,
    "portfolio.allocation_rate": _chance,
    "accountability.inspection_rate": _count,
    "execution.report_value": _count,
    "execution.intrinsic_motivation": _count,
    "execution.effort_cost": _count,
    "accountability.hosting_cost": _per_event,
    "relay.escalation_pressure": _per_event,
    "campaign.start": _position,
    "campaign.end": _position,
    "accountability.audit_lag": lambda x, delta: _duration(x, delta, least=1),
    "campaign.notice": _duration,
    "feedback.every": lambda x, delta: _duration(x, delta, least=1),
}
"""Every time-dependent parameter (ODD section 14) and its conversion to the model's period."""

TASK_FIELDS = {"risk": _chance, "inspection_rate": _count, "start": _position, "end": _position}
"""A task's own fields that are time-dependent, converted as their parameters are."""


def period_fraction(p: Parameters) -> float | None:
    """Δ, the model's period over the period the values are stated for; ``None`` without a length of time."""
    if p.time.period_months is None:
        return None
    return p.time.period_months / p.time.rates_per_months


def in_model_periods(p: Parameters) -> Parameters:
    """The parameters with every time-dependent value converted to the model's period (unchanged at Δ = 1 or off).

    The converted values are not checked against the ranges of scenario files again (a weekly
    period may take an inspection's cost past the range a user may write): they were checked as
    written, and the conversion keeps each one meaningful (a chance stays a chance).
    """
    delta = period_fraction(p)
    if delta is None or delta == 1.0:
        return p
    groups: dict[str, dict] = {}
    for path, convert in CONVERSIONS.items():
        group, name = path.split(".")
        groups.setdefault(group, {})[name] = convert(getattr(getattr(p, group), name), delta)
    _keep_window(groups["campaign"])
    update = {group: getattr(p, group).model_copy(update=values) for group, values in groups.items()}
    if p.tasks is not None:
        update["tasks"] = [_task_in_model_periods(task, delta) for task in p.tasks]
    return p.model_copy(update=update)


def _task_in_model_periods(task, delta: float):
    """A task with its own time-dependent values (fields and ``set:`` entries) converted."""
    values = {name: convert(getattr(task, name), delta) for name, convert in TASK_FIELDS.items()}
    values = {name: value for name, value in values.items() if value is not None}
    values["set"] = {
        path: CONVERSIONS[path](value, delta) if path in CONVERSIONS and value is not None else value
        for path, value in task.set.items()
    }
    _keep_window(values)
    if values.get("end") is not None:
        values["end"] = max(2, values["end"])  # a task's window ends after period 1 at the earliest
    _keep_window(values["set"], "campaign.start", "campaign.end")
    return task.model_copy(update=values)


def _keep_window(window: dict, start: str = "start", end: str = "end") -> None:
    """A window [start, end) that rounding would empty keeps one period."""
    first, after = window.get(start), window.get(end)
    if first is not None and after is not None and after <= first:
        window[end] = first + 1
