"""The task portfolio's schema: one entry per task of a scenario's ``tasks:`` section (ODD section 11).

A scenario without ``tasks:`` is the one-directive model; with it, every task names its
issuer (``territorial``, the 块 line, or a line department, 条) and may give any field of
``parameters.task``, which supplies the fields a task leaves out. Measurability, the veto
and the window exist only here.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from sim.scenario.exact import ExactModel

TERRITORIAL = "territorial"
"""The issuer whose tasks travel down the territorial (块) chain of the hierarchy."""

TASK_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""Task and issuer names: identifiers, so that ``goal_attainment[environment]`` reads unambiguously."""

MAX_TASKS = 32
"""Most tasks a portfolio may hold (the task axis of every grassroots array)."""

TASK_LEVEL_PATHS = (
    "relay.escalation",
    "relay.escalation_pressure",
    "relay.dilution",
    "relay.stripping",
    "relay.funded_escalation",
    "relay.paperwork_per_relay",
    "accountability.onsite_share",
    "accountability.detect_paper",
    "accountability.detect_onsite",
    "accountability.third_party_rate",
    "accountability.excuse_genuine",
    "accountability.reward",
    "accountability.reward_threshold",
    "accountability.shortfall_threshold",
    "accountability.falsify_penalty",
    "accountability.precise",
    "accountability.ranking_fraction",
    "accountability.inspection_cap",
    "campaign.start",
    "campaign.end",
    "campaign.inspection_multiplier",
    "campaign.onsite_share",
    "campaign.notice",
    "middle.skip_level_rate",
)
"""Parameters that may differ between tasks (a task's ``set:``, a reform's ``tasks:`` option; ODD section 11).

Every rule that reads them is elementwise over the task axis; the others (blame shifting,
incident visibility, hosting, learning, the officials) are shared."""


class TaskSpec(ExactModel):
    """One task of the portfolio; a field left out (null) is taken from ``parameters.task``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = Field(pattern=TASK_NAME, description="identifier of the task in outputs (goal_attainment[name])")
    issuer: str = Field(
        TERRITORIAL, pattern=TASK_NAME, description="territorial (块) or the name of a line department (条)"
    )
    target: float | None = Field(
        None, gt=0, le=100, description="intended output per grassroots unit (null: parameters.task.target)"
    )
    clarity: float | None = Field(None, ge=0, le=1, description="clarity as issued (null: parameters.task.clarity)")
    resources: float | None = Field(
        None, ge=0, le=100, description="funding, as a share of what the target needs (null: parameters.task.resources)"
    )
    weight: float | None = Field(
        None, ge=0, le=10, description="political weight (势能) (null: parameters.task.weight)"
    )
    risk: float | None = Field(
        None, ge=0, le=1, description="chance an honest attempt fails (null: parameters.task.risk)"
    )
    paperwork: float | None = Field(
        None, ge=0, le=10, description="the task's own paperwork per principal (null: parameters.task.paperwork)"
    )
    inspection_rate: float | None = Field(
        None, ge=0, le=50, description="inspections per principal per period (null: accountability.inspection_rate)"
    )
    measurability: float = Field(
        1.0, ge=0, le=1, description="share of real output a score can see (1 hard target, low soft target)"
    )
    veto: bool = Field(False, description="一票否决: findings are sanctioned veto_penalty times and void rewards")
    start: int | None = Field(None, ge=1, le=1_000_000, description="first period of the task (null: from the start)")
    end: int | None = Field(None, ge=2, le=1_000_000, description="first period after the task (null: to the end)")
    pushed_down: bool = Field(True, description="whether the task reaches the townships (false: kept above, 清单管理)")
    set: dict[str, Any] = Field(
        default_factory=dict, description="this task's own values of task-level parameters, by dotted path"
    )

    @field_validator("set")
    @classmethod
    def _task_level(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path in value:
            if path not in TASK_LEVEL_PATHS:
                raise ValueError(f"{path!r} cannot differ between tasks; a task may set {', '.join(TASK_LEVEL_PATHS)}")
        return value

    @model_validator(mode="after")
    def _window(self) -> TaskSpec:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"task {self.name}: end ({self.end}) must come after start ({self.start})")
        return self

    def active(self, period: int) -> bool:
        """Whether the task is in force in ``period`` (counted from 1): start <= period < end."""
        return (self.start is None or self.start <= period) and (self.end is None or period < self.end)


def check_portfolio(tasks: list[TaskSpec]) -> list[TaskSpec]:
    """A portfolio: 1 to :data:`MAX_TASKS` tasks with distinct names."""
    if not 1 <= len(tasks) <= MAX_TASKS:
        raise ValueError(f"give 1 to {MAX_TASKS} tasks (got {len(tasks)}); leave tasks out for the one-task model")
    names = [task.name for task in tasks]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"task names must be distinct: {', '.join(repeated)} more than once")
    return tasks


def issuers(tasks: list[TaskSpec]) -> list[str]:
    """The chains a portfolio uses: territorial first (the hierarchy's own), then departments as they appear."""
    found = [TERRITORIAL]
    for task in tasks:
        if task.issuer not in found:
            found.append(task.issuer)
    return found
