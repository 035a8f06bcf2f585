"""Reform policies: named, documented, composable bundles of parameter changes.

A policy is declared once, with a one-line description, what it changes, and the options a
scenario may tune (a small pydantic model, so tuning is type- and range-checked like every
other input). Scenarios switch policies on by name, in order; each one is applied to the
parameters left by the previous one. ``bureausim describe`` prints this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, model_validator

from sim.scenario.exact import ExactModel
from sim.scenario.parameters import Parameters, check_window, parameter_paths, value_at, with_values
from sim.scenario.tasks import TASK_LEVEL_PATHS, TaskSpec


class Options(ExactModel):
    """Base of every policy's tunable options: unknown options are errors.

    Every policy may target some tasks of a portfolio only (``tasks``, ODD section 11).
    """

    model_config = ConfigDict(extra="forbid")

    tasks: list[str] | None = Field(
        None,
        min_length=1,
        description="with a portfolio: apply to these tasks only (null: the whole scenario, tasks' own values too)",
    )


@dataclass(frozen=True)
class Policy:
    """A reform: what it is, what it changes, and how.

    Attributes:
        name: Identifier used in scenario files.
        description: One line: the reform in the language of its users.
        changes: One line: the parameters or rules it changes.
        options: The pydantic model of its tunable options (all with defaults).
        apply: Changes a :class:`Parameters` in place, given validated options.
    """

    name: str
    description: str
    changes: str
    options: type[Options]
    apply: Callable[[Parameters, Any], None]

    def applied(self, parameters: Parameters, **options: Any) -> Parameters:
        """Return a copy of ``parameters`` with this policy applied.

        In a portfolio, the policy also acts on the tasks' own values of what it changes (a
        paperwork cut cuts a task's own paperwork too); with the ``tasks`` option it acts on
        those tasks' values only, and refuses to change anything every task shares.

        Raises:
            ValueError: for a ``tasks`` option without a portfolio, naming an unknown task, or
                on a policy that changes a shared parameter.
        """
        chosen = self.options(**options)
        if chosen.tasks is None:
            result = self._changed(parameters, chosen)
            if result.tasks is not None:
                result.tasks = [self._on_task(parameters, task, chosen, own_only=True) for task in result.tasks]
            return result
        if parameters.tasks is None:
            raise ValueError(f"{self.name}: the tasks option needs a portfolio (a tasks: section)")
        names = [task.name for task in parameters.tasks]
        unknown = [name for name in chosen.tasks if name not in names]
        if unknown:
            raise ValueError(f"{self.name}: tasks: no task named {', '.join(unknown)}; the tasks: {', '.join(names)}")
        result = parameters.model_copy(deep=True)
        changed = self._changed(parameters, chosen)
        result.tasks = [
            self._on_task(parameters, task, chosen, own_only=False) if task.name in chosen.tasks else original
            for task, original in zip(changed.tasks, parameters.tasks, strict=True)
        ]
        return Parameters.model_validate(result.model_dump())

    def _changed(self, parameters: Parameters, options: Options) -> Parameters:
        result = parameters.model_copy(deep=True)
        self.apply(result, options)
        return result

    def _on_task(self, parameters: Parameters, task: TaskSpec, options: Options, own_only: bool) -> TaskSpec:
        """The task after the policy has acted on its own values (all of them, or only those it sets itself)."""
        own = _own_parameters(parameters, task)
        after = self._changed(own, options)
        fields, values = {}, dict(task.set)
        for path in parameter_paths():
            old, new = value_at(own, path), value_at(after, path)
            if old == new:
                continue
            group, name = path.split(".")
            if group == "task":
                if not own_only or getattr(task, name) is not None:
                    fields[name] = new
            elif path in TASK_LEVEL_PATHS:
                if not own_only or path in task.set:
                    values[path] = new
            elif not own_only:
                raise ValueError(
                    f"{self.name} changes {path}, which every task shares, so it cannot target tasks"
                    + (
                        "; leave the option that changes it at a value that does not"
                        if len(type(options).model_fields) > 1
                        else ""
                    )
                )
        return task.model_copy(update={**fields, "set": values})


REGISTRY: dict[str, Policy] = {}


def policy(name: str, description: str, changes: str, options: type[Options] = Options):
    """Register the decorated function as the ``apply`` of a new policy."""

    def register(apply: Callable[[Parameters, Any], None]) -> Callable[[Parameters, Any], None]:
        REGISTRY[name] = Policy(name, description, changes, options, apply)
        return apply

    return register


class _Strength(Options):
    strength: float = Field(0.9, ge=0, le=1, description="chance a genuine attempt's finding is excused")


@policy(
    "fault_tolerance",
    "容错纠错: failures of genuine effort are excused; falsification never is.",
    "accountability.excuse_genuine = strength",
    _Strength,
)
def _fault_tolerance(p: Parameters, o: _Strength) -> None:
    p.accountability.excuse_genuine = o.strength


class _BurdenCut(Options):
    cut: float = Field(0.5, ge=0, le=1, description="share of paperwork removed")
    cap: int | None = Field(
        1, ge=0, le=1000, description="most inspections a unit hosts per period (per task in a portfolio; null: no cap)"
    )
    merge: list[list[str]] = Field(
        default_factory=list, description="with a portfolio: groups of tasks of one issuer merged into their first"
    )
    task_cap: int | None = Field(
        None, ge=1, le=32, description="with a portfolio: only this many tasks, the weightiest, reach the townships"
    )


@policy(
    "burden_reduction",
    "减负: caps on paperwork and on inspections per unit; with a portfolio, merged tasks and a task list (清单管理).",
    "task.paperwork and relay.paperwork_per_relay × (1 − cut); accountability.inspection_cap = cap; "
    "tasks merged; tasks beyond task_cap not pushed down",
    _BurdenCut,
)
def _burden_reduction(p: Parameters, o: _BurdenCut) -> None:
    p.task.paperwork *= 1 - o.cut
    p.relay.paperwork_per_relay *= 1 - o.cut
    p.accountability.inspection_cap = o.cap
    if (o.merge or o.task_cap is not None) and (p.tasks is None or o.tasks is not None):
        raise ValueError(
            "burden_reduction: merge and task_cap act on a whole portfolio: give a tasks: section, "
            "and no tasks option with them"
        )
    for group in o.merge:
        p.tasks = merged(p.tasks, group, p.task)
    if o.task_cap is not None:
        p.tasks = capped(p.tasks, o.task_cap, p.task)


def merged(tasks: list[TaskSpec], group: list[str], default: Any) -> list[TaskSpec]:
    """The portfolio with the tasks of ``group`` (one issuer, one window) merged into the first (ODD section 11).

    The merged task keeps the first task's name and other fields, with the sum of the targets,
    the largest weight, the target-weighted measurability and resources, and a veto if any had
    one; the others' paperwork is saved. ``default`` is ``parameters.task``, whose values a task
    without its own has.
    """
    names = [task.name for task in tasks]
    unknown = [name for name in group if name not in names]
    if len(group) < 2 or len(set(group)) < len(group) or unknown:
        raise ValueError(f"burden_reduction: merge: {group} must name two or more distinct tasks of the portfolio")
    parts = [tasks[names.index(name)] for name in group]
    if len({(t.issuer, t.start, t.end, t.pushed_down) for t in parts}) > 1:
        raise ValueError(f"burden_reduction: merge: {', '.join(group)} must share one issuer and one window")

    def own(task: TaskSpec, name: str) -> float:
        value = getattr(task, name)
        return getattr(default, name) if value is None else value

    targets = [own(t, "target") for t in parts]
    total = sum(targets)
    fields = {
        "target": total,
        "weight": max(own(t, "weight") for t in parts),
        "measurability": sum(t.measurability * x for t, x in zip(parts, targets, strict=True)) / total,
        "resources": sum(own(t, "resources") * x for t, x in zip(parts, targets, strict=True)) / total,
        "veto": any(t.veto for t in parts),
    }
    try:
        merged_task = TaskSpec.model_validate(parts[0].model_dump() | fields)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"])
        raise ValueError(
            f"burden_reduction: merge: {', '.join(group)}: the merged task's {where}: {detail['msg']}"
        ) from None
    return [merged_task if task.name == group[0] else task for task in tasks if task.name not in group[1:]]


def capped(tasks: list[TaskSpec], cap: int, default: Any) -> list[TaskSpec]:
    """The portfolio with only ``cap`` of its pushed-down tasks still pushed down: the weightiest, then the largest.

    Ties go to the first listed; windows are not looked at (the list is the whole portfolio's).
    ``default`` is ``parameters.task``, whose weight and target a task without its own has.
    """

    def rank(i: int) -> tuple[float, float, int]:
        task = tasks[i]
        weight = default.weight if task.weight is None else task.weight
        return -weight, -(default.target if task.target is None else task.target), i

    order = sorted((i for i, task in enumerate(tasks) if task.pushed_down), key=rank)
    kept = set(order[:cap])
    return [task.model_copy(update={"pushed_down": task.pushed_down and i in kept}) for i, task in enumerate(tasks)]


class _Share(Options):
    share: float = Field(0.8, ge=0, le=1, description="share of inspections made on site")


@policy(
    "onsite_inspection",
    "现场看实物、查实情: inspectors look at real output instead of reports and traces.",
    "accountability.onsite_share = share",
    _Share,
)
def _onsite_inspection(p: Parameters, o: _Share) -> None:
    p.accountability.onsite_share = o.share


@policy(
    "precise_accountability",
    "精准问责: sanction where the failing decision was made; no shifting of blame.",
    "accountability.precise = true",
)
def _precise_accountability(p: Parameters, o: Options) -> None:
    p.accountability.precise = True


@policy(
    "resources_follow_tasks",
    "费随事转: funding travels with the task and with every escalation of it.",
    "relay.stripping = 0; relay.funded_escalation = true",
)
def _resources_follow_tasks(p: Parameters, o: Options) -> None:
    p.relay.stripping = 0.0
    p.relay.funded_escalation = True


class _Clarity(Options):
    strength: float = Field(0.7, ge=0, le=1, description="share of per-relay dilution removed")


@policy(
    "clarify_directives",
    "明确化: directives are made specific at every relay, so less clarity is lost.",
    "relay.dilution × (1 − strength)",
    _Clarity,
)
def _clarify_directives(p: Parameters, o: _Clarity) -> None:
    p.relay.dilution *= 1 - o.strength


class _Fraction(Options):
    fraction: float = Field(
        0.1,
        ge=0,
        le=1,
        description="bottom share of each sibling group sanctioned (rounded down: none in small groups)",
    )


@policy(
    "ranking_accountability",
    "排名靠后约谈: the bottom fraction of each group of grassroots peers is sanctioned, however well it did.",
    "accountability.ranking_fraction = fraction",
    _Fraction,
)
def _ranking_accountability(p: Parameters, o: _Fraction) -> None:
    p.accountability.ranking_fraction = o.fraction


class _Rate(Options):
    rate: float = Field(0.2, ge=0, le=1, description="share of units evaluated each period")


@policy(
    "third_party_evaluation",
    "第三方评估: independent on-site scoring that ignores traces and cannot be blamed down.",
    "accountability.third_party_rate = rate",
    _Rate,
)
def _third_party_evaluation(p: Parameters, o: _Rate) -> None:
    p.accountability.third_party_rate = o.rate


class _SkipRate(Options):
    rate: float = Field(0.2, ge=0, le=1, description="share of grassroots units visited unannounced each period")


@policy(
    "level_skipping_inspection",
    "直插: unannounced on-site visits from above that skip the levels between, so nobody can warn or settle.",
    "middle.skip_level_rate = rate",
    _SkipRate,
)
def _level_skipping_inspection(p: Parameters, o: _SkipRate) -> None:
    p.middle.skip_level_rate = o.rate


class _Campaign(Options):
    start: int = Field(20, ge=0, le=1_000_000, description="first period of the campaign")
    end: int = Field(30, ge=0, le=1_000_000, description="first period after the campaign")
    multiplier: float = Field(1.5, ge=0, le=100, description="inspection rate multiplier")
    onsite_share: float = Field(1.0, ge=0, le=1, description="on-site share during the campaign")
    notice: int = Field(0, ge=0, le=1_000_000, description="periods it is announced before it starts (0: unannounced)")

    @model_validator(mode="after")
    def _window(self) -> _Campaign:
        check_window(self.start, self.end)
        return self


@policy(
    "campaign",
    "运动式执行: a temporary surge of (mostly on-site) inspection.",
    "campaign.start, campaign.end, campaign.inspection_multiplier = multiplier, campaign.onsite_share, campaign.notice",
    _Campaign,
)
def _campaign(p: Parameters, o: _Campaign) -> None:
    p.campaign.end = None  # so the window is valid at every assignment
    p.campaign.start = o.start
    p.campaign.end = o.end
    p.campaign.inspection_multiplier = o.multiplier
    p.campaign.onsite_share = o.onsite_share
    p.campaign.notice = o.notice


@policy(
    "veto_removal",
    "慎用一票否决: no task carries a one-vote veto (or the tasks named).",
    "tasks.veto = false (on every task, or on the tasks named)",
)
def _veto_removal(p: Parameters, o: Options) -> None:
    for task in p.tasks or []:
        if o.tasks is None or task.name in o.tasks:
            task.veto = False


class _Reward(Options):
    reward: float = Field(0.5, ge=0, le=100, description="payoff of a reward for evaluated success")


@policy(
    "positive_incentives",
    "奖优罚劣: evaluated success is rewarded.",
    "accountability.reward = reward",
    _Reward,
)
def _positive_incentives(p: Parameters, o: _Reward) -> None:
    p.accountability.reward = o.reward


def apply_policies(parameters: Parameters, policies: list[tuple[str, dict[str, Any]]]) -> Parameters:
    """Apply ``(name, options)`` pairs in order and return the resulting parameters."""
    for name, options in policies:
        parameters = REGISTRY[name].applied(parameters, **options)
    return parameters


def _own_parameters(parameters: Parameters, task: TaskSpec) -> Parameters:
    """The parameters as one task sees them: its own fields in ``task``, its own task-level values."""
    fields = {f"task.{name}": getattr(task, name) for name in type(parameters.task).model_fields}
    values = {path: value for path, value in fields.items() if value is not None} | task.set
    return with_values(parameters, values)
