"""Fuzzing the scenario loader: any YAML document either loads as a valid scenario or raises
the project's ScenarioError, never anything else; any valid scenario (of a size that runs in a
test) runs two periods with finite outputs.

CI runs a few hundred examples; ``FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` runs more.
"""

from __future__ import annotations

import math
import os

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import BureauModel, ScenarioError, parse_scenario

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))

keys = st.sampled_from(
    [
        "name",
        "steps",
        "replications",
        "seed",
        "hierarchy",
        "parameters",
        "policies",
        "arms",
        "uncertainties",
        "outcomes",
        "sweep",
        "branching",
        "counts",
        "relay",
        "escalation",
        "task",
        "campaign",
        "start",
        "end",
        "levels",
        "file",
        "burn_in",
        "reference",
        "engine",
        "x",
    ]
)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True), st.text(max_size=8)
)
documents = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)
texts = st.one_of(documents.map(yaml.safe_dump), st.text(max_size=300))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(texts)
def test_any_document_loads_or_raises_a_scenario_error_and_valid_ones_run(text):
    try:
        scenario = parse_scenario(text, "fuzz.yaml")
    except ScenarioError:
        return
    sizes = scenario.hierarchy.counts or scenario.hierarchy.branching_or_default
    if scenario.hierarchy.file is not None or sum(sizes) * max(sizes or [1]) > 5_000:
        return  # reading files and running large hierarchies are tested elsewhere
    try:
        model = BureauModel.from_scenario(scenario)
    except ScenarioError:
        return  # e.g. counts with fewer units than superiors: refused when the hierarchy is built
    for _ in range(2):
        model.step()
    assert all(math.isfinite(value) for value in model.outputs.values())
