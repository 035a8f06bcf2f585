"""The state engines work on: per-level arrays, the random draws of each phase, and the contract.

Three things live here, and the engines import them instead of the Mesa model:

- :data:`LEVEL_FIELDS`, the one list of per-official quantities (ODD section 2). A
  :class:`LevelState` holds one numpy array per field for every official on a level, and
  :class:`sim.model.agent_engine.Official` gets one attribute per field from the same list.
- :class:`ExecutionDraws` and :class:`AccountabilityDraws`, the random numbers of the two
  phases that need chance, one array per purpose. They are drawn in their fields' order,
  whole levels at once, before any official acts, so results do not depend on activation
  order; :meth:`at` gives one official's entries.
- :class:`ChainState`, a Protocol listing exactly what an engine may read and write.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Self

import numpy as np

from sim.scenario.strategies import N_STRATEGIES

if TYPE_CHECKING:
    from sim.model.hierarchy import Layout
    from sim.model.portfolio import TaskTable
    from sim.scenario.parameters import Parameters

FINDING_CHANNELS = 3
"""Findings a unit can produce per period before ranking: inspection, incident, third party."""


@dataclass(frozen=True)
class LevelField:
    """One per-official quantity: its name, numpy type, value before the first period, and meaning.

    ``per_task`` fields get a task axis (officials × tasks) in a portfolio (ODD section 11);
    ``portfolio`` fields exist only there; a field with a ``switch`` exists only when that switch
    of ODD section 12 is on (:func:`switches_on`), so that a model without it pays no memory for it.
    """

    name: str
    dtype: type
    initial: Any
    meaning: str
    per_task: bool = False
    portfolio: bool = False
    switch: str | None = None


LEVEL_FIELDS: tuple[LevelField, ...] = (
    LevelField("capacity", np.float64, 0.0, "capacity K (drawn at initialisation)"),
    LevelField("risk_aversion", np.float64, 0.0, "risk aversion ρ (drawn at initialisation)"),
    LevelField(
        "motivation",
        np.float64,
        0.0,
        "public-service motivation v_m (ODD 12.1; drawn at initialisation)",
        switch="differ",
    ),
    LevelField("belief", np.float64, 0.0, "believed chance of being sanctioned b"),
    LevelField("target_received", np.float64, 0.0, "target T received this period", per_task=True),
    LevelField("clarity_received", np.float64, 0.0, "clarity c received this period", per_task=True),
    LevelField("resources_received", np.float64, 0.0, "resources r received this period", per_task=True),
    LevelField("escalation_applied", np.float64, 0.0, "escalation e_j applied when relaying", per_task=True),
    LevelField("damage", np.float64, 0.0, "how much this official's relay made the task harder", per_task=True),
    LevelField("output", np.float64, 0.0, "real output y (grassroots)", per_task=True),
    LevelField("claim", np.float64, 0.0, "claimed output m (grassroots)", per_task=True),
    LevelField("report", np.float64, 0.0, "report sent up", per_task=True),
    LevelField("harm", np.float64, 0.0, "collateral harm H (grassroots)", per_task=True),
    LevelField("paperwork", np.float64, 0.0, "paperwork load π (grassroots)"),
    LevelField("hosting", np.float64, 0.0, "capacity spent hosting last period's inspections h"),
    LevelField("free", np.float64, 0.0, "free capacity F"),
    LevelField("capacity_used", np.float64, 0.0, "share of capacity used (NaN above the grassroots)"),
    LevelField("burden_share", np.float64, 0.0, "share of capacity taken by paperwork and hosting"),
    LevelField("severity_now", np.float64, 0.0, "severity of this period's sanctions S"),
    LevelField("reward_now", np.float64, 0.0, "this period's reward"),
    LevelField("strategy_code", np.int64, -1, "strategy chosen this period (-1: none)", per_task=True),
    LevelField("sanctions", np.int64, 0, "sanctions received so far"),
    LevelField("sanctions_now", np.int64, 0, "sanctions received this period"),
    LevelField("wrongful_now", np.int64, 0, "wrongful sanctions received this period"),
    LevelField("principals", np.int64, 0, "principals the unit answers to (grassroots)"),
    LevelField("failed", np.bool_, False, "whether this period's genuine attempt failed", per_task=True),
    LevelField("inflation_option", np.int8, -1, "inflation option chosen (ODD 12.3; -1: none)", True, switch="inflate"),
    LevelField("report_severity", np.float64, 0.0, "severity of report-audit sanctions", True, switch="inflate"),
    LevelField("audit_severity", np.float64, 0.0, "severity of a past period's audit", True, switch="audit"),
    LevelField("relay_option", np.int8, -1, "relay option chosen (ODD 13.1; -1: none)", True, switch="middle"),
    LevelField("relay_severity", np.float64, 0.0, "severity of relay-work findings (ODD 13.2)", True, switch="middle"),
    LevelField("relay_inspected", np.bool_, False, "whether its relay work was inspected", True, switch="middle"),
    LevelField("shield_option", np.int8, -1, "whether it shields its subordinates (ODD 13.3)", True, switch="shield"),
    LevelField(
        "shield_severity", np.float64, 0.0, "severity of sanctions for shielding found out", True, switch="shield"
    ),
    LevelField("capacity_share", np.float64, 0.0, "share σ of free capacity given to each task", True, True),
    LevelField("allocation", np.float64, 0.0, "allocation attraction B of each task", True, True),
    LevelField("task_severity", np.float64, 0.0, "severity of this period's sanctions on each task", True, True),
    LevelField("task_reward", np.float64, 0.0, "this period's reward for each task (after vetoes)", True, True),
)
"""Every per-official array of a level, in a fixed order (plus ``attractions``, one row per official)."""

PER_PERIOD = (
    "sanctions_now",
    "wrongful_now",
    "severity_now",
    "reward_now",
    "report_severity",
    "audit_severity",
    "relay_severity",
    "relay_inspected",
    "shield_severity",
)
"""Fields that count one period's events: set to zero at the start of every period."""

PORTFOLIO_PER_PERIOD = ("task_severity",)
"""A portfolio's per-task counts of one period's events, also set to zero every period."""


class LevelState:
    """The state of every official on one level, as numpy arrays (ODD section 2).

    One array per :data:`LEVEL_FIELDS` entry, plus ``attractions`` (officials × strategies).
    In a portfolio of ``tasks`` tasks, per-task fields are officials × tasks, the portfolio's
    own fields exist too, and ``attractions`` is officials × tasks × strategies.

    Args:
        size: Officials on the level.
        tasks: Tasks on the level's task axis (``None``: the one directive, no task axis).
    """

    def __init__(self, size: int, tasks: int | None = None, switches: frozenset[str] = frozenset()) -> None:
        self.tasks = tasks
        for field in LEVEL_FIELDS:
            if (field.portfolio and tasks is None) or (field.switch is not None and field.switch not in switches):
                continue
            shape = (size, tasks) if field.per_task and tasks is not None else size
            setattr(self, field.name, np.full(shape, field.initial, dtype=field.dtype))
        self.attractions = np.zeros((size, N_STRATEGIES) if tasks is None else (size, tasks, N_STRATEGIES))
        self.report_attractions: np.ndarray | None = None  # per official (and task) and inflation option (ODD 12.3)
        self.relay_attractions: np.ndarray | None = None  # per official (and task) and relay option (ODD 13.1)
        self.shifted_severity: np.ndarray | None = None  # per official (and task) and finding channel (ODD 13.1)
        self.shield_attractions: np.ndarray | None = None  # the grassroots' superiors': per task, not / shield (13.3)

    def start_period(self) -> None:
        """Zero the counts of one period's events (of the fields this level has)."""
        for name in PER_PERIOD if self.tasks is None else PER_PERIOD + PORTFOLIO_PER_PERIOD:
            if hasattr(self, name):
                getattr(self, name)[:] = 0
        if self.shifted_severity is not None:
            self.shifted_severity[:] = 0.0


def switches_on(p: Parameters) -> frozenset[str]:
    """The switches of ODD section 12 whose per-official fields a model with these parameters needs."""
    on = set()
    if p.execution.heterogeneous:
        on.add("differ")
    if p.relay.inflation_options is not None:
        on.add("inflate")
    if p.accountability.audit_rate > 0:
        on.add("audit")
    if p.middle.deciding:
        on.add("middle")
    if p.middle.shielding:
        on.add("shield")
    return frozenset(on)


def motivation_of(state: LevelState, p: Parameters):
    """The officials' public-service motivation: their own with officials who differ, else the scenario's v_m."""
    return state.motivation if hasattr(state, "motivation") else p.execution.intrinsic_motivation


class _Draws:
    """Random numbers of one phase: one array per field, drawn in field order."""

    @classmethod
    def draw(cls, rng: np.random.Generator, units: int, tasks: int | None = None, **columns: int) -> Self:
        """Draw every field for ``units`` units, in field order; a field with ``columns`` metadata has rows.

        Args:
            rng: The model's generator.
            units: Units the phase acts on (the grassroots).
            tasks: In a portfolio, the tasks: every field gets a task axis after the units'.
            **columns: Width of each field's rows, by the name its metadata gives.
        """
        values = {}
        for field in dataclasses.fields(cls):
            width = field.metadata.get("columns")
            shape = (units,) + (() if tasks is None else (tasks,)) + (() if width is None else (columns[width],))
            values[field.name] = rng.random(shape)
        return cls(**values)

    def at(self, index: int) -> Self:
        """One unit's entries (rows of the 2-D fields), as the agent engine reads them."""
        return type(self)(*(getattr(self, name)[index] for name in _field_names(type(self))))


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    """A draws class's field names, in order (looked up once per class: the agent engine asks per official)."""
    return tuple(field.name for field in dataclasses.fields(cls))


@dataclass(frozen=True)
class ExecutionDraws(_Draws):
    """The execute phase's uniforms: the strategy choice, then the risk of failing."""

    choice: np.ndarray
    risk: np.ndarray


@dataclass(frozen=True)
class _LevelDraws:
    """Uniforms of one level of one chain, one array per field of the same shape, drawn in field order."""

    @classmethod
    def draw(cls, rng: np.random.Generator, shape: tuple[int, ...]) -> Self:
        """Draw every field with this shape (officials, and tasks of the chain), in field order."""
        return cls(*(rng.random(shape) for _ in dataclasses.fields(cls)))


@dataclass(frozen=True)
class ReportDraws(_LevelDraws):
    """One level's uniforms of chosen inflation (ODD 12.3): the choice, then the report audit and its detection."""

    choice: np.ndarray
    audit: np.ndarray
    detect: np.ndarray


@dataclass(frozen=True)
class MiddleDraws(_LevelDraws):
    """One level's uniforms of middle levels that decide (ODD 13): the relay choice, its inspection, detection."""

    choice: np.ndarray
    inspect: np.ndarray
    detect: np.ndarray


@dataclass(frozen=True)
class ShieldDraws:
    """Uniforms of shielding and level-skipping inspections (ODD 13.3), drawn in field order.

    ``choice`` has one array per chain (its offices just above the grassroots, and tasks); the
    others are per grassroots unit (and task): the level-skipping inspection, its detection, and
    one settling uniform per finding channel a superior can settle (inspection, incident).
    """

    choice: list[np.ndarray]
    skip: np.ndarray
    skip_detect: np.ndarray
    settle: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, offices: list[tuple[int, ...]], units: tuple[int, ...]) -> ShieldDraws:
        """Draw the offices' choices chain by chain, then the units' fields."""
        choice = [rng.random(shape) for shape in offices]
        return cls(choice, rng.random(units), rng.random(units), rng.random((*units, SETTLED_CHANNELS)))


SETTLED_CHANNELS = 2
"""Finding channels a shielding superior can settle quietly: inspection and incident (not third parties)."""


@dataclass(frozen=True)
class AccountabilityDraws(_Draws):
    """The accountability phase's uniforms (ODD 7.4-7.5), in the order they are drawn."""

    inspect: np.ndarray = dataclasses.field(metadata={"columns": "slots"})  # one column per principal slot
    onsite: np.ndarray
    detect: np.ndarray
    visible: np.ndarray
    third_party: np.ndarray
    tp_detect: np.ndarray
    excuse: np.ndarray = dataclasses.field(metadata={"columns": "channels"})  # one column per finding channel
    blame: np.ndarray = dataclasses.field(metadata={"columns": "channels"})
    rank: np.ndarray


class ChainState(Protocol):
    """What an engine may read and write: nothing else of the model is its business.

    Attributes:
        p: The resolved parameters (read only).
        layout: The hierarchy's index arrays (read only).
        relays: Number of relays *L*; the grassroots are level *L*.
        levels: Per level, the :class:`LevelState` arrays (read and written).
        officials: Per level, the agents in state order (the agent engine calls their methods).
        execution_draws: This period's execute-phase draws (read only).
        accountability_draws: This period's accountability-phase draws (read only).
        tasks: The portfolio (:class:`sim.model.portfolio.TaskTable`), or ``None`` for one directive.
        active_tasks: In a portfolio, which tasks the townships work on this period (in force, pushed down).
        tasks_in_force: In a portfolio, which tasks are in force this period.
        chains: Per issuer (territorial first), its :class:`LevelState` per level above the grassroots.
        offices: Per issuer, its officials per level above the grassroots.
        report_draws: With chosen inflation (ODD 12.3), per issuer and level, that level's
            :class:`ReportDraws` (``None`` for the top, which reports to no one); else ``None``.
        audit_draws: With audits of past periods (ODD 12.4) due this period, the grassroots'
            (audited, detected) uniforms; else ``None``.
        history: With audits of past periods, the grassroots' strategy codes of the period
            ``accountability.audit_lag`` periods ago (``None`` before the record reaches back).
        middle_draws: With middle levels that decide (ODD 13), per issuer and level above the
            grassroots, that level's :class:`MiddleDraws`; else ``None``.
        shield_draws: With shielding or level-skipping inspections (ODD 13.3), this period's
            :class:`ShieldDraws`; else ``None``.
        announced: Whether a campaign is announced this period (in a portfolio, per task; ODD 14).
        anticipation_draws: While one is, the grassroots' uniforms of preparing for it; else ``None``.
    """

    p: Parameters
    layout: Layout
    relays: int
    levels: list[LevelState]
    officials: Sequence[Sequence[Any]]
    execution_draws: ExecutionDraws
    accountability_draws: AccountabilityDraws
    tasks: TaskTable | None
    active_tasks: np.ndarray | None
    tasks_in_force: np.ndarray | None
    chains: list[list[LevelState]]
    offices: Sequence[Sequence[Sequence[Any]]]
    report_draws: list[list[ReportDraws | None]] | None
    audit_draws: tuple[np.ndarray, np.ndarray] | None
    history: np.ndarray | None
    middle_draws: list[list[MiddleDraws]] | None
    shield_draws: ShieldDraws | None
    announced: bool | np.ndarray
    anticipation_draws: np.ndarray | None

    def inspection_intensity(self) -> tuple[float, float]:
        """Inspection rate per principal and on-site share this period."""
        ...

    def task_inspection_rates(self) -> np.ndarray:
        """In a portfolio, each task's inspection rate per principal this period."""
        ...

    def ranks_now(self) -> bool:
        """Whether superiors rank their subordinates this period (once per stated period, ODD section 14)."""
        ...

    def task_onsite_shares(self) -> np.ndarray:
        """In a portfolio, each task's on-site share of inspections this period."""
        ...
