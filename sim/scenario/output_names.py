"""Names of the model's outputs: the fixed vocabulary of result files and reporters.

Model outputs are one value per period; ``sanction_share_<level>`` exists once per level of
the hierarchy, named by level. Agent outputs are one value per official per period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.scenario.strategies import Strategy

STRATEGY_SHARES = tuple(f"share_{s.label}" for s in Strategy)

MODEL_OUTPUTS = (
    "goal_attainment",
    "reported_attainment",
    "implementation_gap",
    *STRATEGY_SHARES,
    "escalation_at_bottom",
    "clarity_at_bottom",
    "burden",
    "wrongful_sanction_rate",
    "collateral_harm",
)
"""Model outputs that do not depend on the hierarchy's level names."""

TASK_OUTPUTS = (
    "goal_attainment",
    "reported_attainment",
    "implementation_gap",
    *STRATEGY_SHARES,
    "escalation_at_bottom",
    "clarity_at_bottom",
    "capacity_share",
    "sanction_severity",
)
"""Outputs a portfolio reports per task, as ``<output>[<task>]`` (ODD section 11)."""

MOTIVATION_TYPES = ("motivated", "unmotivated")
"""The two kinds of official the outputs by type distinguish (ODD 12.1)."""

TYPE_OUTPUTS = tuple(f"{share}_{kind}" for kind in MOTIVATION_TYPES for share in STRATEGY_SHARES) + tuple(
    f"sanction_rate_{kind}" for kind in MOTIVATION_TYPES
)
"""Outputs by type of official, with officials who differ (ODD 12.1)."""

CHOSEN_INFLATION = "report_inflation_chosen"
"""The mean inflation intermediate officials chose, with chosen inflation (ODD 12.3)."""

LEVEL_GAP_PREFIX = "implementation_gap_"
"""``implementation_gap_<level>``: what a level believes against what was done below it (ODD 12.2)."""

RELAY_OPTION_LABELS = ("pass_on", "clarify", "escalate")
"""The relay options middle officials choose among (ODD 13.1), in code order."""

MIDDLE_OUTPUTS = (*(f"relay_share_{label}" for label in RELAY_OPTION_LABELS), "middle_sanction_rate")
"""The shares of relay options chosen and the sanctions per inspection of relay work (ODD 13)."""

SHIELD_SHARE = "shield_share"
"""The share of the grassroots' superiors who shield them, with shielding (ODD 13.3)."""

ESCALATION_LEVEL_PREFIX = "escalation_at_"
"""``escalation_at_<level>``: a level's mean received target over the original, with escalation by level (ODD 12.5)."""

FEEDBACK_OUTPUTS = ("inspection_factor", "target_factor")
"""The top's revisions of inspection intensity and targets, with feedback (ODD section 15)."""

AGENT_OUTPUTS = (
    "level",
    "strategy",
    "capacity_used",
    "sanctions",
    "target_received",
    "clarity_received",
)

DIRECTIONS = {
    "goal_attainment": "maximize",
    "reported_attainment": "none",  # what the top believes: reported, not an aim
    "implementation_gap": "minimize",
    "burden": "minimize",
    "wrongful_sanction_rate": "minimize",
    "collateral_harm": "minimize",
    "share_substantive": "maximize",
}
"""Default direction of the outputs a scenario's ``outcomes`` lists by default."""


def direction_note(direction: str) -> str:
    """How an outcome is judged, in words: ``higher is better``, ``lower is better``, or neither."""
    return {"maximize": "higher is better", "minimize": "lower is better"}.get(direction, "reported, not judged")


def sanction_share_name(level_name: str) -> str:
    """The output name of the share of sanctions on one level."""
    return f"sanction_share_{level_name}"


def level_names_in(columns) -> list[str]:
    """The level names, top first, that a steps table's ``sanction_share_<level>`` columns name."""
    prefix = sanction_share_name("")
    return [str(column).removeprefix(prefix) for column in columns if str(column).startswith(prefix)]


def task_output_name(output: str, task: str) -> str:
    """The name of one task's value of a per-task output: ``goal_attainment[environment]``."""
    return f"{output}[{task}]"


def split_task_output(name: str) -> tuple[str, str | None]:
    """``("goal_attainment", "environment")`` for ``goal_attainment[environment]``; ``(name, None)`` otherwise."""
    if name.endswith("]") and "[" in name:
        output, task = name[:-1].split("[", 1)
        return output, task
    return name, None


def tasks_in(columns) -> list[str]:
    """The task names a table's ``<output>[<task>]`` columns name, in order of first appearance."""
    found: list[str] = []
    for column in columns:
        task = split_task_output(str(column))[1]
        if task is not None and task not in found:
            found.append(task)
    return found


def long_task_table(steps, keys=("arm", "replication", "seed", "period")):
    """A portfolio's per-task outputs as a long table: one row per key and task, one column per output.

    ``steps`` is a wide table with ``<output>[<task>]`` columns (a run's steps table); the
    result has the ``keys`` columns, ``task``, and :data:`TASK_OUTPUTS`.
    """
    keys = [key for key in keys if key in steps.columns]
    parts = []
    for order, task in enumerate(tasks_in(steps.columns)):
        part = steps[keys].reset_index(drop=True)
        part.insert(len(keys), "task", task)
        for output in TASK_OUTPUTS:
            part[output] = steps[task_output_name(output, task)].to_numpy()
        part["_row"] = np.arange(len(part)) * 1_000 + order  # each period's tasks together, in task order
        parts.append(part)
    return pd.concat(parts).sort_values("_row").drop(columns="_row").reset_index(drop=True)


def model_output_names(level_names: list[str], tasks: list[str] = (), parameters=None) -> list[str]:
    """Every model output, in reporting order, for a hierarchy with these level names and these tasks.

    With ``parameters``, the outputs of ODD section 12 their switches turn on come last.
    """
    per_task = [task_output_name(output, task) for task in tasks for output in TASK_OUTPUTS]
    optional = [] if parameters is None else optional_output_names(parameters, level_names)
    return [
        *MODEL_OUTPUTS[:-2],
        *(sanction_share_name(n) for n in level_names),
        *MODEL_OUTPUTS[-2:],
        *per_task,
        *optional,
    ]


def optional_output_names(parameters, level_names: list[str]) -> list[str]:
    """The outputs of ODD sections 12-13 that these parameters' switches turn on, in reporting order."""
    names: list[str] = []
    if parameters.execution.heterogeneous:
        names += TYPE_OUTPUTS
    if parameters.relay.report_rule == "rate":
        names += [f"{LEVEL_GAP_PREFIX}{name}" for name in level_names[:-1]]
    if parameters.relay.inflation_options is not None and len(level_names) > 2:  # someone between top and bottom
        names.append(CHOSEN_INFLATION)
    if parameters.relay.escalation_by_level is not None:
        names += [f"{ESCALATION_LEVEL_PREFIX}{name}" for name in level_names[1:-1]]
    if parameters.middle.relay_choice and len(level_names) > 1:  # someone who relays
        names += MIDDLE_OUTPUTS
    if parameters.middle.shielding and len(level_names) > 1:  # someone above the grassroots
        names.append(SHIELD_SHARE)
    if parameters.feedback.every is not None:
        names += FEEDBACK_OUTPUTS
    return names


def optional_output_switch(name: str) -> str:
    """The switch that turns an output of ODD section 12 on, in words."""
    if name in TYPE_OUTPUTS:
        return "execution.motivated_share or execution.motivation_spread (officials who differ)"
    if name == CHOSEN_INFLATION:
        return "relay.inflation_options (chosen inflation)"
    if name in FEEDBACK_OUTPUTS:
        return "feedback.every (feedback from the top)"
    if name == SHIELD_SHARE:
        return "middle.shielding (shielding by the grassroots' superiors), with a level above the grassroots"
    if name.startswith(ESCALATION_LEVEL_PREFIX):
        return "relay.escalation_by_level (escalation by level), for a level between the top and the grassroots"
    if name in MIDDLE_OUTPUTS:
        return "middle.relay_choice (middle levels that decide), with a level above the grassroots"
    return "relay.report_rule: rate, for a level above the grassroots (the gap by level)"


def is_optional_output(name: str) -> bool:
    """Whether ``name`` is an output of ODD sections 12-15 (which exists only with its switch on)."""
    return (
        name in TYPE_OUTPUTS
        or name in (CHOSEN_INFLATION, SHIELD_SHARE)
        or name in MIDDLE_OUTPUTS
        or name in FEEDBACK_OUTPUTS
        or name.startswith(LEVEL_GAP_PREFIX)
        or (name.startswith(ESCALATION_LEVEL_PREFIX) and split_task_output(name)[0] != "escalation_at_bottom")
    )


def output_columns(columns, level_names: list[str]) -> list[str]:
    """The model outputs among a steps table's ``columns``: the fixed ones, per task, and the switches' present."""
    optional = [str(column) for column in columns if is_optional_output(str(column))]
    return [*model_output_names(level_names, tasks_in(columns)), *optional]
