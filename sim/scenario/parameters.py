"""Model parameters: the typed, range-checked schema of every mechanism's constants.

Parameters are grouped by mechanism (``task``, ``relay``, ``execution``, ``accountability``,
``learning``, ``campaign``, ``portfolio``, ``middle``, ``time``, ``feedback``), matching the
sections of ``docs/ODD.md``. Each field carries its default, its allowed range and a one-line
meaning; ``bureausim describe`` prints them from here, so the documentation cannot drift from
the code.

A parameter is addressed by its dotted path (``relay.escalation``) in scenario files, arms,
uncertainties and ``--set``; as a keyword argument of :class:`sim.model.bureau_model.BureauModel` the dot
becomes an underscore (``relay_escalation``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

from sim.scenario.exact import ExactModel
from sim.scenario.strategies import Strategy
from sim.scenario.tasks import TaskSpec, check_portfolio


class _Group(ExactModel):
    """A parameter group: unknown keys are errors, values are checked on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Task(_Group):
    """The directive issued at the top (one standing directive per run)."""

    target: float = Field(1.0, gt=0, le=100, description="intended substantive output per grassroots unit (1 = full)")
    clarity: float = Field(1.0, ge=0, le=1, description="clarity of the directive as issued")
    resources: float = Field(
        1.0, ge=0, le=100, description="funding per unit, as a share of what the original target needs"
    )
    weight: float = Field(
        1.0, ge=0, le=10, description="political weight (势能): scales sanctions and escalation pressure"
    )
    risk: float = Field(
        0.05, ge=0, le=1, description="chance that an honest attempt fails for reasons outside the official's control"
    )
    paperwork: float = Field(
        0.05, ge=0, le=10, description="capacity the directive's own paperwork takes per principal"
    )


class Relay(_Group):
    """How each level passes the directive down (and reports up)."""

    escalation: float = Field(0.1, ge=0, le=5, description="per-relay target escalation e (层层加码)")
    escalation_pressure: float = Field(
        0.706552, ge=0, le=20, description="how much perceived sanction risk raises escalation (0 = fixed e)"
    )
    dilution: float = Field(0.109693, ge=0, le=1, description="share of clarity lost per relay (上下一般粗)")
    stripping: float = Field(0.1, ge=0, le=1, description="share of resources kept back per relay")
    funded_escalation: bool = Field(False, description="resources follow the escalated target (费随事转)")
    paperwork_per_relay: float = Field(
        0.04, ge=0, le=10, description="paperwork every relay adds per principal (文山会海)"
    )
    report_inflation: float = Field(
        0.02, ge=0, le=5, description="inflation each intermediate level adds to aggregated reports"
    )
    report_rule: Literal["sum", "rate"] = Field(
        "sum", description="reports carry absolute claims (sum) or completion rates (rate: 完成率, ODD 12.2)"
    )
    inflation_options: list[Annotated[float, Field(ge=0, le=5)]] | None = Field(
        None,
        min_length=1,
        max_length=8,
        description="inflations intermediate officials choose among by learning (null = report_inflation for all)",
    )
    escalation_by_level: list[Annotated[float, Field(ge=0, le=5)]] | None = Field(
        None,
        min_length=1,
        max_length=12,
        description="one escalation rate per relay from the top, replacing escalation (null = escalation everywhere)",
    )
    tournament_markup: float = Field(
        0.0, ge=0, le=5, description="markup growth with the log of competing subordinates (0 = none)"
    )
    exempt_relays: list[Annotated[int, Field(ge=0, le=50)]] = Field(
        [],
        max_length=12,
        description="relays (0 = the top's) that pass the directive on unchanged (explain's levels); [] = none",
    )


class Execution(_Group):
    """What grassroots officials can do and what they value."""

    capacity_mean: float = Field(
        1.5, gt=0, le=100, description="mean capacity per official (1 = what a clear, funded original target needs)"
    )
    capacity_sd: float = Field(0.2, ge=0, le=3, description="log-scale spread of capacity across officials")
    risk_aversion_mean: float = Field(
        1.0,
        ge=0,
        le=100,
        description="mean weight of a sanction in an official's payoff and in its escalation pressure",
    )
    risk_aversion_sd: float = Field(0.3, ge=0, le=3, description="log-scale spread of risk aversion")
    resource_dependence: float = Field(
        0.3, ge=0, le=1, description="productivity lost when the target is entirely unfunded"
    )
    innovation_gain: float = Field(
        1.15, ge=0, le=10, description="productivity of innovation, g in g (1 + c) / 2 against substantive work's c"
    )
    innovation_risk: float = Field(
        3.0, ge=0, le=100, description="failure risk of innovation as a multiple of the task risk"
    )
    failure_loss: float = Field(0.5, ge=0, le=1, description="share of output lost when a genuine attempt fails")
    formalism_output: float = Field(
        0.2, ge=0, le=1, description="real output of formalism relative to substantive work"
    )
    formalism_claim: float = Field(0.9, ge=0, le=1, description="share of the target formalism's traces claim")
    ban_output: float = Field(0.1, ge=0, le=100, description="real output a blanket ban delivers (absolute)")
    ban_harm: float = Field(0.5, ge=0, le=100, description="collateral harm per blanket ban (一刀切)")
    effort_cost: float = Field(0.6, ge=0, le=100, description="payoff cost of full effort")
    intrinsic_motivation: float = Field(
        1.31983, ge=0, le=100, description="payoff value of real output (public-service motivation)"
    )
    report_value: float = Field(0.5, ge=0, le=100, description="payoff value of reported success (career incentive)")
    motivated_share: float | None = Field(
        0.324611, ge=0, le=1, description="share of officials of the motivated type (null = no types, ODD 12.1)"
    )
    motivation_high: float = Field(
        1.5, ge=0, le=100, description="motivated type's factor on intrinsic_motivation (with motivated_share)"
    )
    motivation_low: float = Field(
        0.5, ge=0, le=100, description="unmotivated type's factor on intrinsic_motivation (with motivated_share)"
    )
    motivation_spread: float = Field(
        0.0, ge=0, le=3, description="log-scale spread of intrinsic motivation across officials (0 = none)"
    )
    fixed_strategy: Strategy | None = Field(
        None, description="force one strategy for everybody (analytical checks); null = learn"
    )
    ruled_out: list[Strategy] = Field(
        [],
        description="strategies nobody may choose (a mechanism switched off, as bureausim explain does); [] = none",
    )

    @property
    def heterogeneous(self) -> bool:
        """Whether officials differ in public-service motivation (ODD 12.1)."""
        return self.motivated_share is not None or self.motivation_spread > 0

    @field_validator("fixed_strategy", mode="before")
    @classmethod
    def _strategy_label(cls, value: Any) -> Any:
        """Accept a strategy by its label (``substantive``) as well as by its code."""
        return _strategy(value)

    @field_validator("ruled_out", mode="before")
    @classmethod
    def _strategy_labels(cls, value: Any) -> Any:
        """Accept strategies by label; refuse repeats and ruling every strategy out."""
        if not isinstance(value, list):
            return value
        strategies = [_strategy(item) for item in value]
        if len(set(strategies)) < len(strategies):
            raise ValueError("names a strategy twice")
        if len(set(strategies)) == len(Strategy):
            raise ValueError("rules out every strategy: at least one must remain")
        return strategies

    @model_validator(mode="after")
    def _fixed_is_allowed(self) -> Execution:
        if self.fixed_strategy is not None and self.fixed_strategy in self.ruled_out:
            raise ValueError(f"fixed_strategy {self.fixed_strategy.label} is ruled out by ruled_out")
        return self

    @field_serializer("fixed_strategy")
    def _write_label(self, value: Strategy | None) -> str | None:
        return None if value is None else value.label

    @field_serializer("ruled_out")
    def _write_labels(self, value: list[Strategy]) -> list[str]:
        return [strategy.label for strategy in value]


def _strategy(value: Any) -> Any:
    """A strategy given by its label (``substantive``) as the :class:`Strategy`; anything else unchanged."""
    if isinstance(value, str):
        labels = {s.label: s for s in Strategy}
        if value not in labels:
            raise ValueError(f"unknown strategy {value!r}; one of {', '.join(labels)}")
        return labels[value]
    return value


class Accountability(_Group):
    """Inspection, sanction and reward."""

    inspection_rate: float = Field(0.25, ge=0, le=50, description="expected inspections per principal per period")
    inspection_cap: int | None = Field(
        None, ge=0, le=1000, description="most inspections a unit hosts per period (null = no cap)"
    )
    onsite_share: float = Field(0.2, ge=0, le=1, description="share of inspections made on site rather than on paper")
    hosting_cost: float = Field(
        0.08,
        ge=0,
        le=10,
        description="capacity hosting one inspection or third-party evaluation takes (paid next period)",
    )
    detect_paper: float = Field(0.2, ge=0, le=1, description="chance a paper inspection detects falsification")
    detect_onsite: float = Field(0.9, ge=0, le=1, description="chance an on-site inspection detects falsification")
    third_party_rate: float = Field(
        0.0, ge=0, le=1, description="share of units evaluated on site by a third party each period"
    )
    shortfall_threshold: float = Field(
        0.7, ge=0, le=1, description="score below this share of the received target is a shortfall"
    )
    falsify_penalty: float = Field(3.0, ge=0, le=100, description="severity of a sanction for detected falsification")
    incident_visibility: float = Field(0.5, ge=0, le=1, description="chance an incident surfaces, inspected or not")
    excuse_genuine: float = Field(
        0.0, ge=0, le=1, description="chance a finding on a genuine attempt is excused (容错纠错)"
    )
    blame_shift: float = Field(
        0.988779, ge=0, le=1, description="chance a sanction stays where it was found instead of moving one level up"
    )
    precise: bool = Field(False, description="sanction the level where the failing decision was made")
    ranking_fraction: float = Field(
        0.0, ge=0, le=1, description="bottom share of each sibling group sanctioned by rank (排名约谈)"
    )
    reward: float = Field(0.1, ge=0, le=100, description="payoff of a reward for evaluated success")
    reward_threshold: float = Field(
        0.9, ge=0, le=1, description="score, as a share of the received target, that earns a reward"
    )
    statistical_discount: float = Field(
        0.0, ge=0, lt=1, description="share the top discounts reports by (statistical adjustment, ODD 12.2)"
    )
    report_audit_rate: float = Field(
        0.0, ge=0, le=1, description="chance an intermediate report is audited for inflation (with inflation_options)"
    )
    audit_rate: float = Field(
        0.0, ge=0, le=1, description="share of units whose record of audit_lag periods ago is audited (回头看)"
    )
    audit_lag: int = Field(12, ge=1, le=1000, description="periods back an audit of past records looks")


class Learning(_Group):
    """How officials adapt."""

    temperature: float = Field(
        0.25, ge=0, le=100, description="logit choice temperature (0 = always the best attraction)"
    )
    forgetting: float = Field(0.2, ge=0, le=1, description="share of every attraction forgotten each period (recency)")
    learning_rate: float = Field(
        1.0, ge=0, le=100, description="weight of this period's payoff in the chosen strategy's attraction"
    )
    initial_attraction: float = Field(
        0.5, ge=-100, le=100, description="initial attraction of substantive work (others start at 0)"
    )
    belief_rate: float = Field(
        0.2, ge=0, le=1, description="weight of this period's sanctions in beliefs about sanction risk"
    )
    peer_weight: float = Field(0.5, ge=0, le=1, description="weight of peers' sanctions (siblings) against one's own")


def check_window(start: int, end: int | None) -> None:
    """Refuse a campaign window that ends before it starts (the parameters' and the policy option's check)."""
    if end is not None and end <= start:
        raise ValueError(f"campaign end ({end}) must come after its start ({start})")


class Campaign(_Group):
    """A temporary inspection surge (运动式执行); off while ``start`` is null."""

    start: int | None = Field(None, ge=0, le=1_000_000, description="first period of the campaign (null = no campaign)")
    end: int | None = Field(None, ge=0, le=1_000_000, description="first period after the campaign")
    inspection_multiplier: float = Field(
        1.5, ge=0, le=100, description="inspection rate multiplier during the campaign"
    )
    onsite_share: float = Field(1.0, ge=0, le=1, description="on-site share of inspections during the campaign")
    notice: int = Field(
        0, ge=0, le=1_000_000, description="periods the campaign is announced before it starts (0 = unannounced)"
    )
    anticipation: float = Field(
        0.5, ge=0, le=1, description="chance a faking or shirking unit prepares for an announced campaign (迎检)"
    )

    @model_validator(mode="after")
    def _window(self) -> Campaign:
        if self.start is not None:
            check_window(self.start, self.end)
        return self

    def active(self, period: int) -> bool:
        """Whether ``period`` (counted from 1) lies in the window: start <= period < end (no end: to the end)."""
        return self.start is not None and self.start <= period and (self.end is None or period < self.end)

    def announced(self, period: int) -> bool:
        """Whether ``period`` lies in the notice before the campaign: start − notice <= period < start."""
        return self.start is not None and self.notice > 0 and self.start - self.notice <= period < self.start


class Portfolio(_Group):
    """How a township shares its capacity among many tasks (ODD section 11; read only with ``tasks:``)."""

    issuer_load: float = Field(
        0.03, ge=0, le=10, description="capacity each issuer's meetings and reporting take per period (with tasks:)"
    )
    allocation_temperature: float = Field(
        0.25, ge=0, le=100, description="logit temperature of the capacity split across tasks (0 = best tasks only)"
    )
    allocation_rate: float = Field(
        0.2, ge=0, le=1, description="weight of this period's sanctions on a task in its allocation attraction"
    )
    veto_penalty: float = Field(
        3.0, ge=1, le=100, description="severity multiplier of a finding on a veto task (一票否决)"
    )


class Middle(_Group):
    """Middle levels that decide how to relay, are inspected for it, and may shield (ODD section 13; off by default)."""

    relay_choice: bool = Field(
        False, description="officials above the grassroots choose to pass on, clarify or escalate (ODD 13.1)"
    )
    clarify_gain: float = Field(
        0.5, ge=0, le=1, description="share of the clarity a directive lacks that a clarification restores"
    )
    clarify_time: float = Field(0.3, ge=0, le=100, description="capacity one clarification of one task takes (细化)")
    escalate_margin: float = Field(
        0.140222, ge=0, le=5, description="safety margin an escalating official adds to its escalation rate"
    )
    capacity_factor: float = Field(
        1.0, ge=0, le=10, description="share of a middle office's capacity free for relay work"
    )
    paperwork: float = Field(
        0.5, ge=0, le=100, description="capacity a middle office's meetings and documents from above take per period"
    )
    inspection_rate: float = Field(
        0.119501, ge=0, le=1, description="chance per period that an official's relay work is inspected (ODD 13.2)"
    )
    detect_verbatim: float = Field(
        0.8, ge=0, le=1, description="chance an inspection of relay work finds a directive passed on verbatim"
    )
    territorial_responsibility: float = Field(
        0.5, ge=0, le=100, description="weight of its territory's sanctions in a middle official's payoff (属地管理)"
    )
    shielding: bool = Field(
        False, description="the grassroots' superiors choose to shield them: warn, settle quietly (ODD 13.3)"
    )
    warning_effect: float = Field(
        0.5, ge=0, le=1, description="share by which a warning lowers an inspection's chance to detect falsification"
    )
    settle_share: float = Field(
        0.5, ge=0, le=1, description="chance a shielding superior settles an inspection's or incident's finding quietly"
    )
    collusion_penalty: float = Field(
        3.0, ge=0, le=100, description="severity of the sanction on a shielding official found out"
    )
    skip_level_rate: float = Field(
        0.0, ge=0, le=1, description="chance per period of a level-skipping on-site inspection of a unit (直插)"
    )

    @property
    def deciding(self) -> bool:
        """Whether any official above the grassroots decides something (relays, shields) and learns from it."""
        return self.relay_choice or self.shielding


class Time(_Group):
    """How long a period lasts, and the period the other values are stated for (ODD section 14; off by default)."""

    period_months: float | None = Field(
        None, gt=0, le=120, description="months one period lasts (null: periods without a length, rates per period)"
    )
    rates_per_months: float = Field(
        3.0, gt=0, le=120, description="months of the period the other values are stated for (the defaults': 3)"
    )


class Feedback(_Group):
    """The top revising inspections and targets from what it believes (ODD section 15; off by default)."""

    every: int | None = Field(
        None, ge=1, le=100_000, description="periods per round of the top's revisions (null: no feedback)"
    )
    aspiration: float = Field(0.9, ge=0, le=1, description="the attainment the top wants to believe")
    inspection_response: float = Field(
        1.0, ge=0, le=100, description="how strongly the top's inspections follow its believed shortfall"
    )
    target_response: float = Field(
        0.0, ge=0, le=100, description="how strongly the top raises targets it believes met (the ratchet)"
    )
    max_factor: float = Field(10.0, ge=1, le=1000, description="bound on the revisions' factors, up and down")


class Parameters(_Group):
    """Every constant of the model, grouped by mechanism, and the task portfolio (``None``: one task)."""

    task: Task = Field(default_factory=Task, description="the directive")
    relay: Relay = Field(default_factory=Relay, description="top-down relay")
    execution: Execution = Field(default_factory=Execution, description="grassroots execution and preferences")
    accountability: Accountability = Field(default_factory=Accountability, description="inspection, sanction, reward")
    learning: Learning = Field(default_factory=Learning, description="adaptation")
    campaign: Campaign = Field(default_factory=Campaign, description="inspection campaign window")
    portfolio: Portfolio = Field(default_factory=Portfolio, description="capacity split across tasks (with tasks:)")
    middle: Middle = Field(default_factory=Middle, description="middle levels that decide (ODD section 13)")
    time: Time = Field(default_factory=Time, description="the length of a period (ODD section 14)")
    feedback: Feedback = Field(default_factory=Feedback, description="the top's revisions (ODD section 15)")
    tasks: list[TaskSpec] | None = Field(
        None,
        description="the task portfolio (a scenario's tasks: section; None: the one task of parameters.task)",
        json_schema_extra={"hidden": True},  # given at the top of a scenario, never under parameters:
    )

    @field_validator("tasks")
    @classmethod
    def _portfolio(cls, value: list[TaskSpec] | None) -> list[TaskSpec] | None:
        return None if value is None else check_portfolio(value)

    @model_validator(mode="after")
    def _task_values(self) -> Parameters:
        """Every task's own parameter values are valid where the scenario's are (type, range, a campaign window)."""
        for task in self.tasks or []:
            if "relay.escalation" in task.set and self.relay.escalation_by_level is not None:
                raise ValueError(
                    f"task {task.name}: set: relay.escalation would not be used: relay.escalation_by_level "
                    "gives the rate of every relay (ODD 12.5)"
                )
            groups: dict[str, dict[str, Any]] = {}
            for path, value in task.set.items():
                group, name = path.split(".")
                groups.setdefault(group, getattr(self, group).model_dump())[name] = value
            for group, data in groups.items():
                try:
                    type(getattr(self, group)).model_validate(data)
                except ValidationError as error:
                    detail = error.errors()[0]
                    where = ".".join(str(part) for part in detail["loc"]) or "window"
                    raise ValueError(f"task {task.name}: set: {group}.{where}: {detail['msg']}") from None
        return self


UNCALIBRATED: dict[str, float | None] = {
    "execution.intrinsic_motivation": 0.65,
    "execution.motivated_share": None,
    "accountability.blame_shift": 0.95,
    "middle.inspection_rate": 0.0,
    "middle.escalate_margin": 0.1,
    "relay.escalation_pressure": 1.0,
    "relay.dilution": 0.05,
}
"""The seven calibrated parameters' defaults before the second edition's calibration (docs/ODD.md, section 16).

The defaults are now the calibrated values; these are the first edition's, for a lean model to
compare with (the ``uncalibrated`` arm of ``scenarios/calibration/before_after.yaml``).
"""

GROUPS = tuple(name for name in Parameters.model_fields if name != "tasks")
"""The parameter groups, in schema order: every dotted path starts with one of them."""


def parameter_paths() -> dict[str, Any]:
    """Every parameter's dotted path mapped to its pydantic ``FieldInfo``, in schema order."""
    paths: dict[str, Any] = {}
    for group in GROUPS:
        for name, info in Parameters.model_fields[group].annotation.model_fields.items():
            paths[f"{group}.{name}"] = info
    return paths


def value_at(parameters: Parameters, path: str) -> Any:
    """A parameter's value at its dotted path (``relay.escalation``), or a task's field (``tasks.<task>.<field>``)."""
    if is_task_path(path):
        _, task, name = path.split(".")
        return next((getattr(t, name) for t in parameters.tasks or [] if t.name == task), None)
    group, name = path.split(".")
    return getattr(getattr(parameters, group), name)


def with_values(parameters: Parameters, values: dict[str, Any]) -> Parameters:
    """A copy of ``parameters`` with several values set by dotted path, validated together.

    Setting values together lets related fields change at once (a campaign's start and end).
    A path ``tasks.<task>.<field>`` sets one field of one task of the portfolio.

    Raises:
        pydantic.ValidationError: naming the field at fault.
        ValueError: for a task the portfolio does not have.
    """
    data = parameters.model_dump()
    for path, value in values.items():
        if path.startswith("tasks."):  # tasks.<task>.<field>: one field of one task of the portfolio
            _, task, name = path.split(".")
            named = [entry for entry in data["tasks"] or [] if entry["name"] == task]
            if not named:
                tasks = ", ".join(entry["name"] for entry in data["tasks"] or []) or "none"
                raise ValueError(f"{path}: the portfolio has no task {task!r}; its tasks: {tasks}")
            named[0][name] = value
            continue
        group, name = path.split(".")
        data[group][name] = value
    return Parameters.model_validate(data)


def is_task_path(path: str) -> bool:
    """Whether ``path`` names one field of one task, ``tasks.<task>.<field>`` (a field of the task schema)."""
    parts = path.split(".")
    return len(parts) == 3 and parts[0] == "tasks" and parts[2] in TaskSpec.model_fields and parts[2] != "name"
