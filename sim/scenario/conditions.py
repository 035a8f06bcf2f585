"""Conditions on outcomes: ``goal_attainment >= 0.6``, or ``burden <= status_quo + 0.05``.

Satisficing thresholds and scenario-discovery questions are written as conditions; this
module reads them, and checks the outcome names they use.
"""

from __future__ import annotations

import math
import re
import typing

from sim.scenario.messages import did_you_mean
from sim.scenario.output_names import (
    CHOSEN_INFLATION,
    LEVEL_GAP_PREFIX,
    MODEL_OUTPUTS,
    TASK_OUTPUTS,
    TYPE_OUTPUTS,
    is_optional_output,
    split_task_output,
)
from sim.scenario.tasks import TASK_NAME

_CONDITION = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\[[A-Za-z_][A-Za-z0-9_]*\])?)\s*(>=|<=|>|<)\s*([^<>=\s].*?)\s*$"
)
_ARM_PLUS = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*(?:([+-])\s*(\S+))?$")


class Condition(typing.NamedTuple):
    """``OUTCOME OP VALUE``: an outcome compared with a number, or with another arm's value plus a margin."""

    outcome: str
    op: str
    value: float | str
    margin: float = 0.0

    def __str__(self) -> str:
        if isinstance(self.value, str) and self.margin:
            return f"{self.outcome} {self.op} {self.value} {'+' if self.margin > 0 else '-'} {abs(self.margin):g}"
        return f"{self.outcome} {self.op} {self.value}"


def parse_condition(text: str, arms: typing.Collection[str] = ()) -> Condition:
    """Read ``goal_attainment >= 0.6`` or, with ``arms``, ``goal_attainment <= status_quo + 0.05``.

    Raises:
        ValueError: with the allowed forms, when the text is not a condition.
    """
    match = _CONDITION.match(str(text))
    if match is None:
        raise ValueError(f"condition {text!r} is not of the form 'OUTCOME OP VALUE' with OP one of >=, <=, >, <")
    outcome, op, value = match.groups()
    check_outcome_name(outcome)
    number = None if value in arms else _finite(value, text)  # an arm named like a number is the arm
    if number is not None:
        return Condition(outcome, op, number)
    allowed = f"a number or an arm ({', '.join(arms)}) with an optional '+ margin'" if arms else "a number"
    named = _ARM_PLUS.match(value)
    if named is None or named.group(1) not in arms:
        near = did_you_mean(named.group(1), arms) if named else ""
        raise ValueError(f"condition {text!r}: {value!r} is not {allowed}{near}")
    arm, sign, amount = named.groups()
    margin = 0.0
    if sign is not None:
        margin = _finite(amount, text)
        if margin is None:
            raise ValueError(f"condition {text!r}: the margin {amount!r} is not a number")
        margin = margin if sign == "+" else -margin
    return Condition(outcome, op, arm, margin)


def _finite(text: str, condition: str) -> float | None:
    """The number ``text`` reads as, ``None`` if it is not one; refuses NaN and infinity."""
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        raise ValueError(f"condition {condition!r}: the value must be finite")
    return number


def check_outcome_name(name: str) -> str:
    """Refuse a name that is no model output.

    ``sanction_share_<level>`` and the task of ``<output>[<task>]`` are checked once the
    levels and tasks are known.
    """
    output, task = split_task_output(name)
    if task is not None:
        if output not in TASK_OUTPUTS or not re.match(TASK_NAME, task):
            raise ValueError(
                f"unknown per-task outcome {name!r}; write <output>[<task>] with one of {', '.join(TASK_OUTPUTS)}"
            )
        return name
    if name not in MODEL_OUTPUTS and not name.startswith("sanction_share_") and not is_optional_output(name):
        raise ValueError(
            f"unknown outcome {name!r}{did_you_mean(name, MODEL_OUTPUTS)}; "
            f"known: {', '.join(MODEL_OUTPUTS)}, sanction_share_<level>, and with the switches of ODD section 12 "
            f"{', '.join(TYPE_OUTPUTS)}, {LEVEL_GAP_PREFIX}<level>, {CHOSEN_INFLATION}"
        )
    return name


def number_condition(text: str) -> str:
    """A satisficing threshold: a condition with a number on its right."""
    parse_condition(text)
    return text
