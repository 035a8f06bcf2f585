"""The pattern claims as a calibration's constraint, and ``bureausim calibrate`` as a function.

A calibration (``sim.experiments.calibrate``) asks, at a parameter point, whether the patterns
its scenario names still hold; the claims live here, in the checks layer, so the experiments
layer receives them as a function (docs/ODD.md, section 16).
"""

from __future__ import annotations

from pathlib import Path

from sim.checks.patterns import PATTERNS, check_replications, evaluate, pattern_scenario
from sim.errors import ScenarioError
from sim.experiments.calibrate import CalibrationResult, Constraint, calibrate
from sim.experiments.template import ExecutionKeywords, ExperimentOptions
from sim.scenario.loader import load_scenario
from sim.scenario.schema import Scenario, typed_values


def default_patterns_folder(scenario: Scenario) -> Path | None:
    """``patterns/`` beside the scenario's folder (``scenarios/patterns`` for ``scenarios/calibration/china.yaml``)."""
    folder = scenario.folder
    return None if folder is None else folder.parent / "patterns"


def pattern_constraint(scenario: Scenario, patterns_folder: Path | None) -> Constraint | None:
    """A function telling whether each pattern the calibration names holds at a point; refuses unknown ones."""
    spec = scenario.calibration
    if spec is None or not spec.patterns:
        return None
    known = {pattern.id: pattern for pattern in PATTERNS}
    where = scenario.source or "the scenario"
    for index, name in enumerate(spec.patterns):
        if name not in known:
            raise ScenarioError(
                f"{where}: calibration.patterns.{index}: no pattern {name} (patterns: {', '.join(known)})",
                source=scenario.source,
                line=scenario.line_of("calibration", "patterns", index),
            )
    folder = patterns_folder or default_patterns_folder(scenario)
    if folder is None or not folder.is_dir():
        raise ScenarioError(
            f"{where}: calibration.patterns: the pattern scenarios are read from a patterns/ folder beside the "
            f"scenario's folder ({folder}), which does not exist; give it with --patterns FOLDER",
            source=scenario.source,
            line=scenario.line_of("calibration", "patterns"),
        )
    return patterns_at(spec.patterns, folder, spec.pattern_replications)


def patterns_at(names: list[str], folder: Path, replications: int) -> Constraint:
    """A function telling whether each named pattern holds with a point's values as the code's defaults.

    A point's value fills in a parameter the pattern scenario leaves to the defaults; one the
    scenario sets itself (P7h's motivated share, P1's escalation pressure) stays, so each pattern
    is shown in its own design, as it would be were the point the code's defaults; the pattern's
    arms act on top.
    """
    known = {pattern.id: pattern for pattern in PATTERNS}
    chosen = [known[name] for name in names]
    scenarios = {pattern.id: pattern_scenario(pattern, folder) for pattern in chosen}

    def holds(point: dict[str, float]) -> dict[str, bool]:
        found = {}
        for pattern in chosen:
            scenario = scenarios[pattern.id]
            assignments = [
                f"parameters.{path}={value!r}"
                for path, value in typed_values(point).items()
                if not scenario.sets_parameter(path)
            ]
            world = scenario.with_overrides(assignments) if assignments else scenario
            found[pattern.id] = all(
                claim.holds for claim in evaluate(pattern, world, check_replications(scenario, replications))
            )
        return found

    return holds


def run_calibration(
    scenario: Scenario | str, patterns_folder: Path | None = None, **execution: ExecutionKeywords
) -> CalibrationResult:
    """Calibrate a scenario against its ``targets:`` (``bureausim calibrate``); the patterns it names must hold.

    Args:
        scenario: A scenario with ``targets:`` and ``calibration:`` sections, or its file.
        patterns_folder: Where the pattern scenarios are (default: ``patterns/`` beside the scenario's folder).
        **execution: Where and how it runs, as for every experiment (``out``, ``workers``,
            ``scheduler``, ``overrides``, ``progress``, ``command``): see
            :class:`sim.experiments.template.ExperimentOptions`.
    """
    options = ExperimentOptions(**execution)
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, allow_absolute_paths=options.allow_absolute_paths)
    if options.overrides:
        scenario = scenario.with_overrides(list(options.overrides))
        options = ExperimentOptions(**{**execution, "overrides": ()})
    return calibrate(scenario, options, pattern_constraint(scenario, patterns_folder))
