"""Checks of a scenario that need its hierarchy built, made before anything runs.

The scenario schema checks each value alone; whether a graph file can be read, and which
levels (so which sanction-share outputs) a hierarchy has, is known only once the hierarchy is
built. Building it here turns such a mistake into a user error before any run, rather than
into runs that all fail.
"""

from __future__ import annotations

import numpy as np

from sim.errors import ScenarioError
from sim.model.hierarchy import build_layout, default_level_names
from sim.scenario.output_names import model_output_names
from sim.scenario.schema import Scenario


def check_hierarchy_source(scenario: Scenario) -> None:
    """Read and check a scenario's hierarchy (graph file or counts) without running it."""
    _build(scenario)


def check_outcomes(scenario: Scenario, wanted: dict[str, str]) -> None:
    """Refuse, before any run, a hierarchy that cannot be built, and outcomes it does not produce.

    A sanction share names a level (``sanction_share_village``); the scenario schema accepts
    any level name, and only the hierarchy says which levels exist. The hierarchy is built once
    here, which also refuses a bad graph file as a user mistake.

    Args:
        scenario: The experiment's scenario.
        wanted: Outcome names by the field that names them (``outcomes.0``, ``robustness.satisficing.1``).
    """
    layout, _ = _build(scenario)
    shares = {field: name for field, name in wanted.items() if name.startswith("sanction_share_")}
    produced = model_output_names(scenario.hierarchy.levels or default_level_names(layout.depth + 1))
    for field, name in shares.items():
        if name not in produced:
            levels = ", ".join(output for output in produced if output.startswith("sanction_share_"))
            raise ScenarioError(
                f"{name} is not an output of this hierarchy, whose levels give {levels}",
                source=scenario.source,
                field=field,
            )


def _build(scenario: Scenario) -> tuple:
    """The scenario's hierarchy, built as a run builds it (graph files are read relative to the scenario)."""
    return build_layout(scenario.hierarchy, np.random.default_rng(scenario.seed), scenario.folder)
