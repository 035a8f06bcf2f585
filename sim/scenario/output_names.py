"""Names of the model's outputs: the fixed vocabulary of result files and reporters.

Model outputs are one value per period; ``sanction_share_<level>`` exists once per level of
the hierarchy, named by level. Agent outputs are one value per official per period.
"""

from __future__ import annotations

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


def model_output_names(level_names: list[str]) -> list[str]:
    """Every model output, in reporting order, for a hierarchy with these level names."""
    return [*MODEL_OUTPUTS[:-2], *(sanction_share_name(n) for n in level_names), *MODEL_OUTPUTS[-2:]]
