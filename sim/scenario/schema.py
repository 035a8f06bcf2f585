"""The typed schema of a scenario: what a scenario file may say, and what it means.

A scenario keeps apart what the policy question keeps apart (the XLRM vocabulary):
the hierarchy and constant ``parameters``; the reforms switched on (``policies``) or compared
(``arms``); the ``uncertainties`` (ranges, for sweeps and sensitivity analysis); and the
``outcomes`` with the direction in which they are better. Reading files, with the line of
every value, is :mod:`sim.scenario.loader`'s job.
"""

from __future__ import annotations

import itertools
import re
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AfterValidator, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from sim.errors import ScenarioError
from sim.scenario import outcome_values
from sim.scenario.conditions import check_outcome_name, number_condition, parse_condition
from sim.scenario.exact import ExactModel
from sim.scenario.messages import describe_error, did_you_mean, user_error
from sim.scenario.output_names import DIRECTIONS, split_task_output
from sim.scenario.parameters import Parameters, is_task_path, parameter_paths, value_at, with_values
from sim.scenario.policies import REGISTRY, apply_policies
from sim.scenario.targets import CalibrationSpec, Target, check_targets
from sim.scenario.tasks import TaskSpec, check_portfolio
from sim.scenario.yaml12 import load_value

DEFAULT_BRANCHING = (16, 8, 12)
"""The chain used when a scenario gives no hierarchy: one province, 1,681 officials."""

MAX_OFFICIALS = 2_000_000
"""Largest hierarchy a scenario may ask for, from any source (counts, branching or a graph file)."""

BYTES_PER_OFFICIAL = 1_600
"""Peak memory of a run per official, as measured at village level (benchmarks/results.md: 1.1 GB for 692k)."""


def officials_memory(count: int) -> str:
    """What a run of ``count`` officials needs in memory, in words (``about 3.2 GB``)."""
    return f"about {count * BYTES_PER_OFFICIAL / 1e9:,.1f} GB"


_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_-]*$"


class _Section(ExactModel):
    model_config = ConfigDict(extra="forbid")


class HierarchySpec(_Section):
    """The chain of command: give one of ``branching``, ``counts`` or ``file``."""

    branching: list[typing.Annotated[int, Field(ge=1, le=100_000)]] | None = Field(
        None, description="subordinates per official at each relay (default [16, 8, 12] when no source is given)"
    )
    counts: list[typing.Annotated[int, Field(ge=1, le=MAX_OFFICIALS)]] | None = Field(
        None, description="officials per level below the root, e.g. [31, 333, 2844, 38741]"
    )
    file: str | None = Field(None, description="GraphML or edge-list file (relative to the scenario)")
    spread: Literal["even", "random"] = Field("even", description="with counts: spread children evenly or at random")
    levels: list[str] | None = Field(None, description="level names from the top (default by depth)")
    extra_principals: int = Field(0, ge=0, le=20, description="line departments (条) per grassroots unit")

    @model_validator(mode="after")
    def _one_source(self) -> HierarchySpec:
        given = [k for k in ("branching", "counts", "file") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of branching, counts or file, not {' and '.join(given)}")
        sizes = self.branching_or_default if self.counts is None else self.counts
        total = self.officials
        if total is not None and total > MAX_OFFICIALS:
            raise ValueError(
                f"asks for {total:,} officials (a run would need {officials_memory(total)}); "
                f"at most {MAX_OFFICIALS:,} are allowed"
            )
        if self.levels is not None:
            for name in self.levels:
                if not re.match(_IDENTIFIER, name):
                    raise ValueError(f"level name {name!r} must be an identifier (letters, digits, _)")
            if len(set(self.levels)) != len(self.levels):
                raise ValueError("level names must be distinct")
            if self.file is None and len(self.levels) != len(sizes) + 1:
                raise ValueError(f"{len(self.levels)} level names for {len(sizes) + 1} levels")
        return self

    @property
    def officials(self) -> int | None:
        """How many officials a generated hierarchy has (``None`` for a graph file, known once read)."""
        if self.file is not None:
            return None
        if self.counts is not None:
            return 1 + sum(self.counts)
        total = width = 1
        for size in self.branching_or_default:
            width *= size
            total += width
        return total

    @property
    def branching_or_default(self) -> list[int]:
        """The branching factors, or the default chain when no hierarchy source is given."""
        if self.branching is not None:
            return list(self.branching)
        return list(DEFAULT_BRANCHING) if self.counts is None and self.file is None else []

    def file_in(self, folder: Path | None) -> Path | None:
        """The graph file's path, a relative ``file`` read from ``folder`` (the scenario's); ``None`` without one."""
        if self.file is None:
            return None
        path = Path(self.file)
        return folder / path if folder is not None and not path.is_absolute() else path


class PolicyChoice(_Section):
    """One policy switched on, with its options."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)


def parse_policies(value: Any) -> Any:
    """Accept ``[name, {name: {option: value}}, ...]`` and check names and options."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("must be a list of policy names (or {name: {option: value}} entries)")
    choices = []
    for index, entry in enumerate(value):
        if isinstance(entry, PolicyChoice):
            choices.append(entry)
            continue
        try:
            choices.append(_policy_choice(entry))
        except ValueError as error:  # "entry N: " lets the loader point at the entry's own line
            raise ValueError(f"entry {index}: {error}") from None
    return choices


def _policy_choice(entry: Any) -> PolicyChoice:
    """One entry of a policies list: a name, or ``{name: {option: value}}``."""
    if isinstance(entry, str):
        name, options = entry, {}
    elif isinstance(entry, dict) and set(entry) == {"name", "options"}:
        name, options = entry["name"], entry["options"] or {}  # the form model_dump writes
        if not isinstance(options, dict):
            raise ValueError(f"options of {name!r} must be a mapping of option: value")
    elif isinstance(entry, dict) and len(entry) == 1:
        name, options = next(iter(entry.items()))
        options = options or {}
        if not isinstance(options, dict):
            raise ValueError(f"options of {name!r} must be a mapping of option: value")
    else:
        raise ValueError("each policy is a name or a one-key mapping {name: {option: value}}")
    if not isinstance(name, str):
        raise ValueError(f"a policy's name must be text, not {name!r}")
    if not all(isinstance(option, str) for option in options):
        raise ValueError(f"option names of {name!r} must be text: {list(options)}")
    if name not in REGISTRY:
        raise ValueError(f"unknown policy {name!r}{did_you_mean(name, REGISTRY)}; known: {', '.join(REGISTRY)}")
    try:
        REGISTRY[name].options(**options)
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(p) for p in detail["loc"])
        raise ValueError(f"policy {name!r} option {where}: {describe_error(detail, REGISTRY[name].options)}") from None
    return PolicyChoice(name=name, options=options)


def _check_path(path: str) -> str:
    """A parameter's dotted path, or ``tasks.<task>.<field>`` (whether the task exists is the scenario's check)."""
    if is_task_path(path):
        return path
    paths = parameter_paths()
    if path.startswith("tasks."):
        fields = [name for name in TaskSpec.model_fields if name != "name"]
        raise ValueError(f"{path!r}: write tasks.<task>.<field>, a field of {', '.join(fields)}")
    if path not in paths:
        raise ValueError(f"unknown parameter {path!r}{parameter_suggestion(path)}")
    return path


HIERARCHY_POINT_FIELDS = ("branching", "counts", "spread", "levels", "extra_principals")
"""Hierarchy values a sweep point (``hierarchy.extra_principals``) or a ``BureauModel`` keyword may set."""
HIERARCHY_SOURCES = ("branching", "counts", "file")


def _check_point_path(path: str) -> str:
    """A sweep point's path: a parameter, ``hierarchy.<field>``, or ``policies.<policy>.<option>``."""
    parts = path.split(".")
    if parts[0] == "hierarchy":
        if len(parts) != 2 or parts[1] not in HIERARCHY_POINT_FIELDS:
            raise ValueError(
                f"unknown hierarchy value {path!r}{did_you_mean(parts[-1], list(HIERARCHY_POINT_FIELDS))}; "
                f"a point may set hierarchy.{', hierarchy.'.join(HIERARCHY_POINT_FIELDS)}"
            )
        return path
    if parts[0] == "policies":
        if len(parts) != 3 or parts[1] not in REGISTRY:
            name = parts[1] if len(parts) > 1 else ""
            raise ValueError(
                f"{path!r} is not a policy option; write policies.<policy>.<option>"
                f"{did_you_mean(name, list(REGISTRY))} (bureausim describe lists them)"
            )
        options = REGISTRY[parts[1]].options.model_fields
        if parts[2] not in options:
            raise ValueError(
                f"{parts[1]} has no option {parts[2]!r}{did_you_mean(parts[2], list(options))}; "
                f"its options: {', '.join(options) or 'none'}"
            )
        return path
    return _check_path(path)


def point_annotation(path: str) -> Any:
    """The type of the value at a parameter's or a policy option's path (``None`` for a hierarchy value)."""
    parts = path.split(".")
    if parts[0] == "hierarchy":
        return None
    if parts[0] == "policies":
        return REGISTRY[parts[1]].options.model_fields[parts[2]].annotation
    if parts[0] == "tasks":
        return TaskSpec.model_fields[parts[2]].annotation
    return parameter_paths()[path].annotation


def is_number_type(annotation: Any) -> bool:
    """Whether a field of this type holds a number (bool is not one)."""
    return bool({float, int} & {annotation, *typing.get_args(annotation)})


def typed_values(values: dict[str, float]) -> dict[str, float | int]:
    """Sampled values by dotted path (parameters or policy options), with those of whole-number fields rounded."""
    typed: dict[str, float | int] = {}
    for path, value in values.items():
        annotation = point_annotation(path)
        is_int = annotation is int or int in typing.get_args(annotation)
        typed[path] = round(value) if is_int else float(value)
    return typed


def _validated_point_value(path: str, value: Any) -> Any:
    """Check one sweep point value: a parameter's type and range, a hierarchy field's, or a policy option's."""
    parts = path.split(".")
    if parts[0] == "hierarchy":
        try:
            HierarchySpec.model_validate({parts[1]: value} | ({"branching": [1]} if parts[1] == "levels" else {}))
        except ValidationError as error:
            problem = error.errors()[0]
            if parts[1] != "levels":  # level names are checked against the hierarchy they name, at the run
                raise ValueError(f"{path}: {describe_error(problem, Scenario)}") from None
        return value
    if parts[0] == "policies":
        try:
            REGISTRY[parts[1]].options.model_validate({parts[2]: value})
        except ValidationError as error:
            raise ValueError(f"{path}: {describe_error(error.errors()[0], Scenario)}") from None
        return value
    return _validated_value(path, value)


def parameter_suggestion(path: str) -> str:
    """`` (did you mean 'relay.escalation'?)`` for a parameter path: a name in another group, or a close spelling."""
    paths = list(parameter_paths())
    name = path.rsplit(".", 1)[-1]
    same_name = [candidate for candidate in paths if candidate.rsplit(".", 1)[-1] == name]
    if len(same_name) == 1:
        return f" (did you mean {same_name[0]!r}?)"
    return did_you_mean(path, paths) or did_you_mean(name, [p.rsplit(".", 1)[-1] for p in paths]).replace(
        "did you mean '", "did you mean a parameter named '"
    )


class Arm(_Section):
    """A named bundle of policies and parameter overrides, for comparisons."""

    name: str = Field(pattern=_IDENTIFIER, description="identifier of the arm in results")
    description: str = Field("", description="what the arm represents")
    policies: list[PolicyChoice] = Field(default_factory=list, description="policies on top of the scenario's")
    set: dict[str, Any] = Field(default_factory=dict, description="parameter overrides by dotted path")

    _policies = field_validator("policies", mode="before")(parse_policies)

    @field_validator("set")
    @classmethod
    def _set_paths(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path, item in value.items():
            _check_path(path)
            _validated_value(path, item)
        return value


class Factor(_Section):
    """One factor of a factorial design: what switching it on does (policies and parameter overrides)."""

    description: str = Field("", description="what the factor represents")
    policies: list[PolicyChoice] = Field(default_factory=list, description="policies switched on at its high level")
    set: dict[str, Any] = Field(default_factory=dict, description="parameter overrides at its high level")

    _policies = field_validator("policies", mode="before")(parse_policies)
    _set_paths = field_validator("set")(Arm._set_paths.__func__)


FACTORS_OFF = "none"
"""The arm of a factorial design with every factor off: its reference."""


def factorial_arms(factors: dict[str, Factor]) -> list[Arm]:
    """Every cell of a 2^k design as an arm: ``none``, then one factor on, two, ... (in the factors' order).

    A cell's name joins the names of the factors on with ``-`` (``fault_tolerance-burden_reduction``);
    its policies and overrides are those of its factors, in order.
    """
    names = list(factors)
    cells = [combination for size in range(len(names) + 1) for combination in itertools.combinations(names, size)]
    arms = []
    for cell in cells:
        policies = [choice for name in cell for choice in factors[name].policies]
        overrides: dict[str, Any] = {}
        for name in cell:
            clash = sorted(set(overrides) & set(factors[name].set))
            if clash:
                raise ValueError(f"factors: {name} and an earlier factor both set {', '.join(clash)}")
            overrides |= factors[name].set
        arms.append(Arm(name="-".join(cell) or FACTORS_OFF, policies=policies, set=overrides))
    return arms


class Sweep(_Section):
    """Parameter points to run: every combination of a ``grid``, or ``zip`` lists taken in step."""

    grid: dict[str, list[Any]] | None = Field(None, description="values per parameter; every combination is a point")
    zip: dict[str, list[Any]] | None = Field(None, description="equally long value lists; the i-th values form point i")
    arms: list[str] | None = Field(
        None, description="arms to run every point in (default: every arm; [] for the scenario alone)"
    )

    @model_validator(mode="after")
    def _one_design(self) -> Sweep:
        if (self.grid is None) == (self.zip is None):
            raise ValueError("give either grid or zip")
        design = self.grid if self.grid is not None else self.zip
        if not design:
            raise ValueError("name at least one parameter")
        for path, values in design.items():
            _check_point_path(path)
            if not values:
                raise ValueError(f"{path}: give at least one value")
            for value in values:
                _validated_point_value(path, value)
        if self.zip is not None and len({len(v) for v in self.zip.values()}) > 1:
            raise ValueError("zip lists must be equally long")
        return self

    @property
    def paths(self) -> list[str]:
        """The swept paths, in order."""
        return list(self.grid if self.grid is not None else self.zip)

    def points(self) -> list[dict[str, Any]]:
        """The parameter values of every point, in order (the grid's last parameter varies fastest)."""
        if self.zip is not None:
            names = list(self.zip)
            return [dict(zip(names, values, strict=True)) for values in zip(*self.zip.values(), strict=True)]
        names = list(self.grid)
        return [dict(zip(names, values, strict=True)) for values in itertools.product(*self.grid.values())]


class Outcome(_Section):
    """An output the scenario's question is about, which way is better, and the smallest difference that matters.

    ``direction: none`` reports an output without judging it: ``reported_attainment`` is what
    the top believes, and a reform that deflates inflated reports is not worse for it.
    """

    name: str
    direction: Literal["maximize", "minimize", "none"] = Field(
        "maximize", description="which way is better; none: reported, never judged better or worse"
    )
    min_effect: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="smallest difference of interest: a difference whose CI lies within it is negligible",
    )


DEFAULT_MIN_DENSITY = 0.8
"""The least density of the box scenario discovery chooses, unless a question says otherwise."""


class DiscoveryQuestion(_Section):
    """A scenario discovery question: where, among the futures, does a condition hold for an arm."""

    arm: str = Field(description="the arm whose results are examined")
    when: str = Field(description="condition, e.g. 'goal_attainment <= status_quo' or 'burden > 0.4'")
    density: float = Field(DEFAULT_MIN_DENSITY, gt=0, le=1, description="least density of the chosen box")
    boxes: int = Field(1, ge=1, le=5, description="boxes to find, each among the futures the earlier ones leave")


class RobustnessSpec(_Section):
    """What ``bureausim robustness`` samples and reports."""

    futures: int = Field(100, ge=2, le=100_000, description="futures drawn from the uncertainties (Latin hypercube)")
    satisficing: list[typing.Annotated[str, AfterValidator(number_condition)]] = Field(
        default_factory=list, description="conditions an arm must meet in a future, e.g. 'goal_attainment >= 0.6'"
    )
    discover: list[DiscoveryQuestion] = Field(default_factory=list, description="scenario discovery questions")


def _default_outcomes() -> list[Outcome]:
    return [Outcome(name=name, direction=direction) for name, direction in DIRECTIONS.items()]


class Scenario(_Section):
    """A complete, validated scenario."""

    name: str = Field("scenario", pattern=_IDENTIFIER, description="identifier, used in output folder names")
    description: str = Field("", description="what the scenario shows")
    seed: int = Field(42, ge=0, le=2**63 - 1, description="master seed; replication seeds derive from it")
    steps: int = Field(60, ge=1, le=100_000, description="periods per replication")
    replications: int = Field(10, ge=1, le=100_000, description="independent replications")
    engine: Literal["vectorized", "agents"] = Field(
        "vectorized", description="run phases over whole levels (fast) or official by official (reference)"
    )
    hierarchy: HierarchySpec = Field(default_factory=HierarchySpec, description="the chain of command")
    parameters: Parameters = Field(default_factory=Parameters, description="model constants")
    tasks: list[TaskSpec] | None = Field(
        None, description="a portfolio of tasks from several issuers (ODD section 11); leave out for one task"
    )
    policies: list[PolicyChoice] = Field(default_factory=list, description="reforms switched on")
    arms: list[Arm] = Field(default_factory=list, description="named alternatives to compare")
    factors: dict[str, Factor] | None = Field(
        None, description="a 2^k factorial design: its arms are every combination of the factors on and off"
    )
    reference: str | None = Field(None, description="arm the others are compared with (default: the first)")
    burn_in: int | None = Field(
        None, ge=0, le=100_000, description="periods left out of each run's outcome values (default: a third)"
    )
    sweep: Sweep | None = Field(None, description="parameter points for bureausim sweep")
    uncertainties: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="ranges of uncertain parameters (or policy options) by dotted path"
    )
    outcomes: list[Outcome] = Field(default_factory=_default_outcomes, description="outputs of interest")
    robustness: RobustnessSpec = Field(
        default_factory=RobustnessSpec, description="futures, thresholds and questions for bureausim robustness"
    )
    targets: list[Target] = Field(
        default_factory=list, description="numbers from the world the model should reproduce (ODD section 16)"
    )
    calibration: CalibrationSpec | None = Field(
        None, description="the parameters bureausim calibrate may move, and its settings (ODD section 16)"
    )
    source: str | None = Field(None, exclude=True, description="the file this scenario was read from")
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)
    _absolute_paths_allowed: bool = PrivateAttr(default=False)

    def line_of(self, *path: Any) -> int | None:
        """The line of ``source`` that holds the value at ``path`` (or the nearest enclosing one), if known.

        Checks made after loading (a run's resolved parameters, a graph file's depth) name the
        line of the value they refuse with it.
        """
        return line_in(self._lines, path)

    def sets_parameter(self, path: str) -> bool:
        """Whether the scenario's file (or its overrides) gives the parameter at ``path`` a value of its own.

        ``relay.dilution`` is the scenario's own when its ``parameters:`` name it, even at the
        default value; otherwise the run takes the code's default. A calibration's pattern check
        fills in only what a pattern scenario leaves to the defaults (docs/ODD.md, section 16).
        """
        node: Any = self.parameters
        *groups, name = path.split(".")
        for group in groups:
            if group not in node.model_fields_set:
                return False
            node = getattr(node, group)
        return name in node.model_fields_set

    _policies = field_validator("policies", mode="before")(parse_policies)

    @field_validator("tasks")
    @classmethod
    def _portfolio(cls, value: list[TaskSpec] | None) -> list[TaskSpec] | None:
        return None if value is None else check_portfolio(value)

    @field_validator("parameters")
    @classmethod
    def _tasks_at_the_top(cls, value: Parameters) -> Parameters:
        if value.tasks is not None:
            raise ValueError("tasks: give the portfolio as a tasks: section at the top of the scenario")
        return value

    @field_validator("uncertainties")
    @classmethod
    def _ranges(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        return checked_ranges(value)

    @field_validator("calibration")
    @classmethod
    def _calibration_ranges(cls, value: CalibrationSpec | None) -> CalibrationSpec | None:
        if value is not None:
            checked_ranges(value.parameters, "calibration.parameters.")
            for path in value.parameters:
                if path.split(".", 1)[0] in ("policies", "tasks"):
                    raise ValueError(
                        f"calibration.parameters.{path}: a calibration moves model parameters only (group.name), "
                        "not a policy's option or a task's field"
                    )
        return value

    @model_validator(mode="after")
    def _targets(self) -> Scenario:
        check_targets(self.targets, [arm.name for arm in self.arms])
        return self

    @field_validator("arms")
    @classmethod
    def _distinct_arms(cls, value: list[Arm]) -> list[Arm]:
        names = [arm.name for arm in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"arm names must be distinct: {', '.join(duplicates)}")
        return value

    @model_validator(mode="after")
    def _factorial_arms(self) -> Scenario:
        """A factorial design's arms are its cells; arms given beside it must be exactly those (a saved scenario's)."""
        if self.factors is None:
            return self
        if not 2 <= len(self.factors) <= 6:
            raise ValueError(f"factors: give 2 to 6 factors (got {len(self.factors)}), for 4 to 64 cells")
        for name in self.factors:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or name == FACTORS_OFF:
                raise ValueError(f"factors: {name!r} must be an identifier without '-', and not {FACTORS_OFF!r}")
        cells = factorial_arms(self.factors)
        if not self.arms:
            self.arms = cells
        elif [arm.model_dump() for arm in self.arms] != [arm.model_dump() for arm in cells]:
            raise ValueError("arms: a factorial design makes its own arms (every cell of the factors); leave arms out")
        return self

    @model_validator(mode="after")
    def _reference_and_burn_in(self) -> Scenario:
        names = [arm.name for arm in self.arms]
        if self.reference is not None and self.reference not in names:
            raise ValueError(
                f"reference: {self.reference!r} is not an arm{did_you_mean(self.reference, names)}; "
                f"arms: {', '.join(names) or 'none'}"
            )
        if self.burn_in is not None and self.burn_in >= self.steps:
            raise ValueError(f"burn_in: {self.burn_in} periods must be shorter than the run ({self.steps} steps)")
        if self.sweep is not None:
            self._check_sweep_arms(names)
        tasks = [task.name for task in self.tasks or []]
        setting = [(f"arms.{i}.set", arm.set) for i, arm in enumerate(self.arms)]
        setting += [("sweep", dict.fromkeys(self.sweep.paths)) if self.sweep else ("sweep", {})]
        setting += [("uncertainties", self.uncertainties)]
        for where, values in setting:
            for path in values:
                task = path.split(".")[1] if is_task_path(path) else None
                if task is not None and task not in tasks:
                    raise ValueError(
                        f"{where}: {path} names no task of the scenario{did_you_mean(task, tasks)}; "
                        f"tasks: {', '.join(tasks) or 'none (give a tasks: section)'}"
                    )
        for index, task in enumerate(self.tasks or []):  # a task's own values, where the scenario's are checked
            if "relay.escalation" in task.set and self.parameters.relay.escalation_by_level is not None:
                raise ValueError(
                    f"tasks.{index}.set: relay.escalation would not be used: relay.escalation_by_level gives the "
                    "rate of every relay (ODD 12.5)"
                )
            for path, value in task.set.items():
                try:
                    _validated_value(path, value)
                except ValueError as error:
                    raise ValueError(f"tasks.{index}.set.{error}") from None
            try:
                with_values(Parameters(), task.set)
            except ValidationError as error:
                raise ValueError(f"tasks.{index}.set: {describe_error(error.errors()[0], Scenario)}") from None
        self._check_policies_apply()
        for index, outcome in enumerate(self.outcomes):
            task = split_task_output(outcome.name)[1]
            if task is not None and task not in tasks:
                raise ValueError(
                    f"outcomes.{index}.name: {outcome.name!r} names no task of the scenario"
                    f"{did_you_mean(task, tasks)}; "
                    f"tasks: {', '.join(tasks) or 'none (give a tasks: section)'}"
                )
        for index, question in enumerate(self.robustness.discover):
            # whole-scenario checks name their field first, so that the loader can point at its line
            if question.arm not in names:
                raise ValueError(
                    f"robustness.discover.{index}.arm: {question.arm!r} is not an arm"
                    f"{did_you_mean(question.arm, names)}; arms: {', '.join(names) or 'none'}"
                )
            try:
                parse_condition(question.when, names)
            except ValueError as error:
                raise ValueError(f"robustness.discover.{index}.when: {error}") from None
        return self

    def _check_policies_apply(self) -> None:
        """Every reform of the scenario and of each arm applies (on a portfolio: tasks named, shared values kept).

        Only the policies are applied here (an arm's ``set:`` is checked where it is resolved).
        """
        parameters = self.parameters.model_copy(deep=True)
        parameters.tasks = None if self.tasks is None else [task.model_copy() for task in self.tasks]
        scenario_level = _applied_one_by_one("policies", self.policies, parameters)
        settings = [(f"arms.{index}.set", arm.set) for index, arm in enumerate(self.arms)]
        self._check_tasks_left(scenario_level, "the scenario's policies", settings)
        for index, arm in enumerate(self.arms):  # an arm's policies apply after the scenario's
            applied = _applied_one_by_one(f"arms.{index}.policies", arm.policies, scenario_level)
            self._check_tasks_left(applied, f"arm {arm.name}'s policies", [(f"arms.{index}.set", arm.set)])

    def _check_tasks_left(self, parameters: Parameters, by: str, settings: list[tuple[str, dict]]) -> None:
        """Outcomes and settings name only tasks the policies leave (a merge removes the tasks merged in)."""
        if self.tasks is None:
            return
        left = {task.name for task in parameters.tasks}
        gone = sorted({task.name for task in self.tasks} - left)
        if not gone:
            return
        for index, outcome in enumerate(self.outcomes):
            task = split_task_output(outcome.name)[1]
            if task in gone:
                raise ValueError(f"outcomes.{index}.name: {outcome.name} names task {task}, which {by} merge away")
        for where, values in settings:
            for path in values:
                if is_task_path(path) and path.split(".")[1] in gone:
                    raise ValueError(f"{where}: {path} names task {path.split('.')[1]}, which {by} merge away")

    def _check_sweep_arms(self, names: list[str]) -> None:
        """``sweep.arms`` names arms; no swept arm sets a path the sweep varies (its setting would be lost)."""
        for index, name in enumerate(self.sweep.arms or []):
            if name not in names:
                raise ValueError(
                    f"sweep.arms.{index}: {name!r} is not an arm{did_you_mean(name, names)}; "
                    f"arms: {', '.join(names) or 'none'}"
                )
        hint = "list the arms to sweep in sweep.arms ([] for the scenario alone)"
        swept = self.swept_arms()
        parameters = [path for path in self.sweep.paths if path in parameter_paths()]
        plain = self.resolved_parameters() if parameters and swept else None
        for arm in swept:
            clash = sorted(set(arm.set) & set(self.sweep.paths))
            if clash:
                raise ValueError(
                    f"sweep: arm {arm.name} sets {', '.join(clash)}, which the sweep varies, so every point would "
                    f"replace the arm's value; {hint}"
                )
            if plain is not None:
                mine = self.resolved_parameters(arm.name)
                moved = [path for path in parameters if value_at(mine, path) != value_at(plain, path)]
                if moved:
                    raise ValueError(
                        f"sweep: arm {arm.name}'s policies set {', '.join(moved)}, which the sweep varies, so every "
                        f"point would undo them; {hint}"
                    )
        for path in self.sweep.paths:
            if not path.startswith("policies."):
                continue
            _, name, option = path.split(".")
            lists = [self.policies, *(arm.policies for arm in swept)]
            found = [choice for choices in lists for choice in choices if choice.name == name]
            if not found:
                raise ValueError(f"sweep: {path}: {name} is not switched on in the scenario or any arm the sweep runs")
            explicit = [
                arm.name for arm in swept for choice in arm.policies if choice.name == name and option in choice.options
            ]
            if explicit:
                raise ValueError(
                    f"sweep: arm {explicit[0]} sets {name}'s {option} itself, which the sweep varies, so every "
                    f"point would replace it; {hint}"
                )

    def swept_arms(self) -> list[Arm]:
        """The arms a sweep runs every point in: ``sweep.arms``, or every arm (none without a sweep)."""
        if self.sweep is None:
            return []
        if self.sweep.arms is None:
            return list(self.arms)
        return [arm for arm in self.arms if arm.name in self.sweep.arms]

    @property
    def folder(self) -> Path | None:
        """The folder of the file this scenario was read from (``None`` if it was not read from a file)."""
        return Path(self.source).parent if self.source else None

    @property
    def graph_file(self) -> Path | None:
        """The hierarchy's graph file, resolved from the scenario's folder; ``None`` for a generated hierarchy."""
        return self.hierarchy.file_in(self.folder)

    @property
    def burn_in_periods(self) -> int:
        """Periods left out of each run's outcome values: ``burn_in``, or a third of the run (see outcome_values)."""
        return outcome_values.burn_in_periods(self.burn_in, self.steps)

    @property
    def reference_arm(self) -> str | None:
        """The arm others are compared with: ``reference``, or the first arm."""
        return self.reference or (self.arms[0].name if self.arms else None)

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, value: list[Outcome]) -> list[Outcome]:
        names = [outcome.name for outcome in value]
        for name in names:
            check_outcome_name(name)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"outcomes must be distinct: {', '.join(repeated)} more than once")
        return value

    def at_point(self, values: dict[str, Any]) -> tuple[Scenario, dict[str, Any]]:
        """The scenario with a point's hierarchy values and policy options set, and the point's parameter values.

        A point names parameters by dotted path (applied by the run after the arm), hierarchy
        values as ``hierarchy.<field>`` (``branching``, ``counts`` and ``file`` replace one
        another) and policy options as ``policies.<policy>.<option>``, set wherever the policy
        is switched on: in the scenario's ``policies``, in every arm's and in every factor's
        (a factorial design's arms are then made again from its factors).

        Raises:
            ScenarioError: for a policy option of a policy switched on nowhere in the scenario.
            pydantic.ValidationError: for hierarchy values that are not valid together.
        """
        hierarchy = {path.split(".")[1]: value for path, value in values.items() if path.startswith("hierarchy.")}
        options = [[*path.split(".")[1:], value] for path, value in values.items() if path.startswith("policies.")]
        rest = {path: value for path, value in values.items() if not path.startswith(("hierarchy.", "policies."))}
        if not hierarchy and not options:
            return self, rest
        data = self.model_dump(mode="json", exclude={"source"})
        if hierarchy:
            if set(hierarchy) & set(HIERARCHY_SOURCES):
                data["hierarchy"] = {k: v for k, v in data["hierarchy"].items() if k not in HIERARCHY_SOURCES}
            data["hierarchy"] |= hierarchy
        data["sweep"] = None  # the scenario of one run: its sweep has been taken apart into points
        if data["factors"] is not None:  # a factorial design's arms are rebuilt from its factors
            data["arms"] = []
        factors = list((data["factors"] or {}).values())
        for name, option, value in options:
            lists = [data["policies"], *(arm["policies"] for arm in data["arms"]), *(f["policies"] for f in factors)]
            found = [choice for choices in lists for choice in choices if choice["name"] == name]
            if not found:
                raise ScenarioError(
                    f"policies.{name}.{option}: {name} is not switched on in the scenario or any arm, "
                    f"so its option cannot be set; add it to policies: or to an arm",
                    source=self.source,
                    field="sweep",
                )
            for choice in found:
                choice["options"] = choice["options"] | {option: value}
        for section in [data, *data["arms"], *factors]:  # as a scenario file writes them
            choices = section["policies"]
            section["policies"] = [{c["name"]: c["options"]} if c["options"] else c["name"] for c in choices]
        moved = Scenario.model_validate(data)
        moved.source, moved._lines = self.source, self._lines
        moved._absolute_paths_allowed = self._absolute_paths_allowed
        return moved, rest

    def resolved_parameters(self, arm: str | None = None) -> Parameters:
        """The parameters a run uses: the scenario's, its policies, then an arm's policies and overrides."""
        # a copy, so that neither the arm's overrides nor a caller's changes reach self.parameters
        parameters = self.parameters.model_copy(deep=True)
        if self.tasks is not None:
            parameters.tasks = [task.model_copy() for task in self.tasks]
        parameters = apply_policies(parameters, [(p.name, p.options) for p in self.policies])
        if arm is None:
            return parameters
        chosen = {a.name: a for a in self.arms}.get(arm)
        if chosen is None:
            raise ScenarioError(
                f"no arm named {arm!r}{did_you_mean(arm, [a.name for a in self.arms])}; "
                f"arms: {', '.join(a.name for a in self.arms) or 'none'}",
                source=self.source,
                field="arms",
            )
        parameters = apply_policies(parameters, [(p.name, p.options) for p in chosen.policies])
        try:
            return with_values(parameters, chosen.set)
        except ValidationError as error:
            index = self.arms.index(chosen)
            line = self.line_of("arms", index, "set")
            raise user_error(error, source=self.source, line=line, field=f"arms.{index}.set", root=Scenario) from None
        except ValueError as error:  # a task the portfolio does not have (any more)
            index = self.arms.index(chosen)
            line = self.line_of("arms", index, "set")
            raise ScenarioError(str(error), source=self.source, line=line, field=f"arms.{index}.set") from None

    def with_overrides(self, assignments: list[str]) -> Scenario:
        """Apply ``--set dotted.path=value`` assignments and validate the result.

        Values are read as YAML scalars or flow collections (``3``, ``0.2``, ``true``,
        ``[4, 4]``). Paths start at the top of the scenario (``steps``,
        ``parameters.relay.escalation``, ``hierarchy.branching``); a list entry is named by its
        index (``arms.1.name``, ``outcomes.0.direction``), and in a mapping keyed by parameter
        paths (``uncertainties``, an arm's ``set``, a sweep's ``grid`` or ``zip``) the rest of the
        path is the key (``uncertainties.relay.escalation=[0, 0.3]`` adds or replaces that range).
        A mapping value is merged into the mapping it replaces (``parameters.relay={escalation:
        0.3}`` changes only the escalation); an empty value is refused, never read as null.
        """
        data = self.model_dump(mode="json", exclude_none=False)
        for assignment in assignments:
            path, sep, text = assignment.partition("=")
            if not sep or not path:
                raise ScenarioError("expected dotted.path=value", source="--set", field=assignment)
            if not text.strip():
                raise ScenarioError(
                    "has an empty value; give one (null, explicitly, to clear an optional value)",
                    source="--set",
                    field=path,
                )
            try:
                value = load_value(text)
            except yaml.YAMLError:
                raise ScenarioError(f"cannot read value {text!r}", source="--set", field=path) from None
            _assign(data, path, value)
        from sim.scenario.loader import validate_scenario  # the loader builds on this schema

        return validate_scenario(
            data, source="--set", lines={}, origin=self.source, allow_absolute_paths=self._absolute_paths_allowed
        )


def checked_ranges(value: dict[str, tuple[float, float]], where: str = "") -> dict[str, tuple[float, float]]:
    """Refuse a range of a path that is not a numeric parameter (or policy option), or whose low is not below high."""
    for path, (low, high) in value.items():
        try:
            _check_point_path(path)
            if path.startswith("hierarchy."):
                raise ValueError(f"{path}: a hierarchy value cannot be given a range; sweep it with sweep: instead")
            if not is_number_type(point_annotation(path)):
                raise ValueError(f"{path} is not numeric and cannot be uncertain")
            if not low < high:
                raise ValueError(f"{path}: range [{low}, {high}] must have low < high")
            _validated_point_value(path, low)
            _validated_point_value(path, high)
        except ValueError as error:
            raise ValueError(f"{where}{error}") from None
    return value


def _applied_one_by_one(where: str, choices: list[PolicyChoice], parameters: Parameters) -> Parameters:
    """``parameters`` with the policies applied in order; a policy that cannot apply is refused by its index."""
    for index, choice in enumerate(choices):
        try:
            parameters = apply_policies(parameters, [(choice.name, choice.options)])
        except ValidationError as error:
            raise ValueError(f"{where}.{index}: {describe_error(error.errors()[0], Scenario)}") from None
        except ValueError as error:
            raise ValueError(f"{where}.{index}: {error}") from None
    return parameters


PATH_KEYED = ("uncertainties", "set", "grid", "zip")
"""Mappings whose keys are dotted parameter paths: in ``--set``, the rest of the path is one key."""


def _assign(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a ``--set`` path in a scenario's data (see :meth:`Scenario.with_overrides`)."""
    keys = path.split(".")
    if keys[0] not in data and keys[0] in Parameters.model_fields:
        keys = ["parameters", *keys]  # the parameters' own paths, as in set:, sweep: and uncertainties:
    node: Any = data
    depth = 0
    while True:
        key: Any = keys[depth]
        if isinstance(node, dict) and depth and keys[depth - 1] in PATH_KEYED:
            key, depth = ".".join(keys[depth:]), len(keys) - 1  # a parameter path, maybe not yet a key
        elif isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ScenarioError(
                    f"{'.'.join(keys[:depth]) or 'the scenario'} has {len(node)} entries, numbered from 0",
                    source="--set",
                    field=".".join(keys[: depth + 1]),
                )
            key = int(key)
        elif not isinstance(node, dict):
            raise ScenarioError(
                f"is a single value, with no {key!r} inside it", source="--set", field=".".join(keys[:depth])
            )
        elif key not in node:
            hint = did_you_mean(key, list(node))
            if keys[0] == "parameters" and not hint:  # a parameter's name, perhaps in another group
                hint = parameter_suggestion(".".join(keys[1:]))
            raise ScenarioError(f"unknown path{hint}", source="--set", field=".".join(keys[: depth + 1]))
        if depth == len(keys) - 1:
            break
        node = node[key]
        depth += 1
    old = node[key] if not isinstance(node, dict) or key in node else None
    node[key] = _merged(old, value)


def _merged(old: Any, new: Any) -> Any:
    """``new`` in place of ``old``; a mapping merged into a mapping, key by key, so unnamed keys keep their values."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {**old, **{key: _merged(old.get(key), value) for key, value in new.items()}}
    return new


def line_in(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    """The line of the value at ``path`` in a file's line map, or of the nearest enclosing value."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _validated_value(path: str, value: Any) -> Any:
    """Check one parameter value (or one task field's) against its field's type and range."""
    if is_task_path(path):
        _, task, name = path.split(".")
        try:
            TaskSpec.model_validate({"name": task, name: value})
        except ValidationError as error:
            raise ValueError(f"{path}: {describe_error(error.errors()[0], Scenario)}") from None
        return value
    try:
        with_values(Parameters(), {path: value})
    except ValidationError as error:
        raise ValueError(f"{path}: {describe_error(error.errors()[0], Scenario)}") from None
    return value
