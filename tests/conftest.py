"""Shared fixtures: small scenarios and a helper to run replications of one arm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.runner import replication_seeds, run_one
from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def small(**sections) -> Scenario:
    """A scenario on a 117-official chain (1 → 4 → 16 → 96), defaults otherwise."""
    data = {"name": "small", "hierarchy": {"branching": [4, 4, 6]}, "steps": 10, "replications": 2}
    data.update(sections)
    return Scenario.model_validate(data)


def arm_window_means(
    scenario: Scenario, arm: str | None, outputs: list[str], *, replications: int, steps: int, window: slice
) -> dict[str, np.ndarray]:
    """Per replication, the mean of each output over ``window`` (periods, 1-based like the tables).

    Replication k uses the same seed in every arm (common random numbers), so arrays from two
    arms can be compared pair by pair.
    """
    values = {name: [] for name in outputs}
    for replication, seed in enumerate(replication_seeds(scenario.seed, replications)):
        steps_table = run_one(scenario, seed, arm=arm, replication=replication, steps=steps).steps
        selected = steps_table[(steps_table["period"] >= window.start) & (steps_table["period"] < window.stop)]
        for name in outputs:
            values[name].append(selected[name].mean())
    return {name: np.asarray(v) for name, v in values.items()}


@pytest.fixture
def small_scenario() -> Scenario:
    return small()


@pytest.fixture
def pattern():
    """Load a pattern scenario by file stem."""

    def load(stem: str) -> Scenario:
        return load_scenario(SCENARIOS / "patterns" / f"{stem}.yaml")

    return load
