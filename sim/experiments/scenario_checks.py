"""Every check of a scenario's runs, made before the first run of any command.

The scenario schema checks each value alone. What is known only once the hierarchy is built
(whether a graph file can be read, how many levels it has, which sanction-share outputs it
produces), what holds only for values together (a campaign window set by an arm, a sweep
point or a drawn sample point), and whether a run's targets stay within floating point (ODD
7.1) is checked here, for every distinct run configuration an experiment will run. So a
mistake is a user error before anything is written, and a run that fails later is a bug.
``bureausim validate`` calls the same checks as the commands do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.model.bounds import check_finite_targets, check_relay_levels
from sim.model.bureau_model import run_parameters
from sim.model.hierarchy import Layout, build_layout, level_names
from sim.model.run import in_world
from sim.scenario.messages import user_error
from sim.scenario.output_names import (
    is_optional_output,
    model_output_names,
    optional_output_names,
    optional_output_switch,
)
from sim.scenario.parameters import Parameters
from sim.scenario.schema import Scenario
from sim.storage.run_store import RunSpec


def check_hierarchy_source(scenario: Scenario) -> Layout:
    """Read and check a scenario's hierarchy (graph file or counts) and its level names, without running it."""
    layout, _ = build_layout(scenario.hierarchy, np.random.default_rng(scenario.seed), scenario.folder)
    level_names(scenario.hierarchy, layout.depth + 1, scenario.source, scenario.line_of("hierarchy", "levels"))
    return layout


_HINTS = {
    "sweep": "change the sweep's values so that every point is valid",
    "uncertainties": "narrow the ranges so that every combination is valid",
}


def check_runs(
    scenario: Scenario,
    specs: Iterable[RunSpec] = (),
    *,
    wanted: dict[str, str] | None = None,
    points_field: str = "sweep",
) -> None:
    """Refuse, before any run, a scenario whose runs could not all run or could not give finite outputs.

    The hierarchy is built once (refusing a bad graph file or level names); outcomes must be
    outputs of it; then every distinct configuration of ``specs`` (arm, point values, future)
    must resolve to valid parameters whose targets stay finite on this hierarchy.

    Args:
        scenario: The scenario the runs use.
        specs: The runs; without any, the scenario itself (no arm) and each of its arms.
        wanted: Outcome names by the field that names them (``outcomes.0``, ``robustness.satisficing.1``);
            without them, the scenario's outcomes.
        points_field: The scenario field the specs' point values come from, for messages.
    """
    layout = check_hierarchy_source(scenario)
    if wanted is None:
        wanted = {f"outcomes.{index}": outcome.name for index, outcome in enumerate(scenario.outcomes)}
    _check_outcomes(scenario, layout, wanted)
    configurations: dict[str, RunSpec] = {}
    for spec in specs or _plain_specs(scenario):
        key = json.dumps([spec.arm, spec.overrides, spec.world], sort_keys=True, default=str)  # values may be lists
        configurations.setdefault(key, spec)
    for spec in configurations.values():
        parameters, names = _check_configuration(scenario, layout, spec, points_field)
        _check_outcomes_of_run(scenario, spec, parameters, names, wanted, points_field)


def _check_outcomes_of_run(
    scenario: Scenario, spec: RunSpec, parameters: Parameters, names: list[str], wanted: dict[str, str], field_: str
) -> None:
    """Refuse an outcome one run would not produce: a level its hierarchy (a point's) lacks, a switch it has off."""
    produced = model_output_names(names, (), parameters)
    for field, name in wanted.items():
        missing_level = name.startswith("sanction_share_") and name not in produced
        if missing_level or (is_optional_output(name) and name not in produced):
            known = ", ".join(optional_output_names(parameters, names)) or "none"
            message = (
                f"{name} is not an output of this run: it exists only with {optional_output_switch(name)}; "
                f"this run's outputs of section 12: {known}"
            )
            if missing_level:
                message = _missing_level(name, produced)
            if spec.arm or spec.overrides or spec.world:
                raise _refusal(scenario, spec, field_, message, None, False)
            raise ScenarioError(message, source=scenario.source, line=scenario.line_of(*_path(field)), field=field)


def _missing_level(name: str, produced: list[str]) -> str:
    """Why a sanction share is no output: the levels the hierarchy has."""
    levels = ", ".join(output for output in produced if output.startswith("sanction_share_"))
    return f"{name} is not an output of this hierarchy, whose levels give {levels}"


def _plain_specs(scenario: Scenario) -> list[RunSpec]:
    """The scenario alone and under each of its arms, as runs to check."""
    return [RunSpec("", 0, 0, 0), *(RunSpec(arm.name, 0, 0, 0) for arm in scenario.arms)]


def _check_outcomes(scenario: Scenario, layout: Layout, wanted: dict[str, str]) -> None:
    """Refuse a sanction share of a level this hierarchy does not have (the schema accepts any level name)."""
    produced = model_output_names(level_names(scenario.hierarchy, layout.depth + 1))
    for field, name in wanted.items():
        if name.startswith("sanction_share_") and name not in produced:
            raise ScenarioError(
                _missing_level(name, produced),
                source=scenario.source,
                line=scenario.line_of(*_path(field)),
                field=field,
            )


def _check_configuration(
    scenario: Scenario, layout: Layout, spec: RunSpec, points_field: str
) -> tuple[Parameters, list[str]]:
    """One run configuration's parameters: valid together, and with finite targets on its hierarchy.

    ``layout`` is the scenario's hierarchy; a point that sets hierarchy values is checked on its own.
    Returns the parameters and the level names of the run's hierarchy.
    """
    try:
        moved, values = scenario.at_point(spec.overrides)
    except ValidationError as error:
        problem = user_error(error)
        raise _refusal(scenario, spec, points_field, problem.message, problem.field, True) from None
    except ScenarioError as error:
        raise _refusal(scenario, spec, points_field, error.message, None, True) from None
    if moved.hierarchy != scenario.hierarchy:
        try:
            layout = check_hierarchy_source(moved)
        except ScenarioError as error:
            raise _refusal(scenario, spec, points_field, error.message, None, False) from None
    try:
        parameters = run_parameters(in_world(moved, spec.world), spec.arm or None, values)
    except ValidationError as error:
        problem = user_error(error)
        raise _refusal(scenario, spec, points_field, problem.message, f"parameters.{problem.field}", True) from None
    except ScenarioError as error:
        raise _refusal(scenario, spec, points_field, error.message, error.field, True) from None
    try:
        check_relay_levels(parameters, layout.depth)
        check_finite_targets(parameters, layout.depth, layout.sizes[-1])
    except ScenarioError as error:
        raise _refusal(scenario, spec, points_field, error.message, error.field, False) from None
    return parameters, level_names(moved.hierarchy, layout.depth + 1)


def _refusal(
    scenario: Scenario, spec: RunSpec, points_field: str, message: str, field: str | None, invalid: bool
) -> ScenarioError:
    """The error for one configuration, naming the arm, point or future it belongs to and that field's line.

    ``invalid`` says whether the values are not valid together (else they are valid, but refused).
    """
    values = spec.overrides or spec.world
    arm = f" in arm {spec.arm}" if spec.arm and not (values and invalid and _invalid_alone(scenario, spec)) else ""
    if values:
        shown = ", ".join(f"{path}={_shown(value)}" for path, value in values.items())
        named = f"{'future' if spec.world else 'point'} {spec.point} ({shown}){arm}"
        detail = f"{field.removeprefix('parameters.')}: {message}" if field else message
        if invalid:
            message = f"{named} is not a valid set of parameters: {detail}; {_HINTS[points_field]}"
        else:
            message = f"{named}: {message}"
        field = points_field
    elif spec.arm:
        at = f"arms.{[arm.name for arm in scenario.arms].index(spec.arm)}.set"
        message = message if field == at else f"arm {spec.arm}: {message}"
        field = at
    return ScenarioError(message, source=scenario.source, line=scenario.line_of(*_path(field or "")), field=field)


def _invalid_alone(scenario: Scenario, spec: RunSpec) -> bool:
    """Whether a point's or future's values are invalid without any arm (so the arm need not be named)."""
    try:
        moved, values = scenario.at_point(spec.overrides)
        run_parameters(in_world(moved, spec.world), None, values)
    except (ValidationError, ScenarioError):
        return True
    return False


def _path(field: str) -> tuple[Any, ...]:
    """A dotted field as a path into the scenario file (list indices as integers)."""
    return tuple(int(part) if part.isdigit() else part for part in field.split("."))


def _shown(value: Any) -> str:
    """A point's value as the message shows it (floats to four significant digits)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
