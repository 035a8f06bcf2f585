"""Shared fixtures: small scenarios and a helper to run replications of one arm."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# isort: off
import kernels  # noqa: F401  (before numpy: the golden tables' SIMD kernels)

# isort: on
import numpy as np
import pandas as pd
import pytest

from sim.model.run import replication_seeds, run_one
from sim.scenario.loader import load_scenario
from sim.scenario.output_names import MOTIVATION_TYPES, TYPE_OUTPUTS
from sim.scenario.parameters import UNCALIBRATED
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium, which the browser tests drive with Playwright (``.ci/run`` installs it)."""


def small(**sections) -> Scenario:
    """A scenario on a 117-official chain (1 → 4 → 16 → 96), defaults otherwise."""
    data = {"name": "small", "hierarchy": {"branching": [4, 4, 6]}, "steps": 10, "replications": 2}
    data.update(sections)
    return Scenario.model_validate(data)


UNCALIBRATED_KEYWORDS = {path.replace(".", "_", 1): value for path, value in UNCALIBRATED.items()}
"""The seven calibrated parameters at their first-edition values, as keywords of ``BureauModel``."""


def not_finite_outputs(model) -> dict[str, float]:
    """A model's outputs that are not finite, but for those of a type no grassroots official has.

    With officials who differ, a type's outputs are NaN where the grassroots hold no official of
    that type (ODD 12.1: a share of nobody is undefined, not zero), as on a chain of one township.
    """
    empty = set()
    if model.p.execution.heterogeneous:
        types = zip(MOTIVATION_TYPES, (model.motivated, ~model.motivated), strict=True)
        empty = {kind for kind, members in types if not members.any()}
    undefined = {name for name in TYPE_OUTPUTS if name.rsplit("_", 1)[-1] in empty}
    return {name: v for name, v in model.outputs.items() if not np.isfinite(v) and name not in undefined}


def replication_tables(scenario: Scenario, arm: str | None, *, replications: int, steps: int) -> list[pd.DataFrame]:
    """The steps table of each replication of one arm.

    Replication k uses the same seed in every arm (common random numbers), so statistics from
    two arms can be compared pair by pair.
    """
    seeds = replication_seeds(scenario.seed, replications)
    return [run_one(scenario, seed, arm=arm, replication=k, steps=steps).steps for k, seed in enumerate(seeds)]


def window_means(tables: list[pd.DataFrame], outputs: list[str], window: slice) -> dict[str, np.ndarray]:
    """Per replication, the mean of each output over the periods in ``window`` (1-based)."""
    selected = [t[(t["period"] >= window.start) & (t["period"] < window.stop)] for t in tables]
    return {name: np.array([t[name].mean() for t in selected]) for name in outputs}


@pytest.fixture
def small_scenario() -> Scenario:
    return small()


@pytest.fixture
def pattern():
    """Load a pattern scenario by file stem."""

    def load(stem: str) -> Scenario:
        return load_scenario(SCENARIOS / "patterns" / f"{stem}.yaml")

    return load


def headless_chromium(playwright, profile: Path):
    """A headless Chromium context for a browser test; fails in CI and skips elsewhere when it is missing."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    flags = [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=flags, viewport={"width": 1400, "height": 1000}
    )
