"""Hypothesis strategies for valid scenarios: hierarchies, parameters and policies."""

from __future__ import annotations

from hypothesis import strategies as st

from sim.policies import REGISTRY
from sim.scenario import Scenario

branching = st.lists(st.integers(1, 4), min_size=0, max_size=4)


@st.composite
def parameters(draw) -> dict:
    """Random values across the full range of the parameters that drive behaviour."""
    unit = st.floats(0, 1, allow_nan=False)
    return {
        "task": {"risk": draw(unit), "paperwork": draw(st.floats(0, 0.5)), "weight": draw(st.floats(0, 3))},
        "relay": {
            "escalation": draw(st.floats(0, 1)),
            "escalation_pressure": draw(st.floats(0, 5)),
            "dilution": draw(unit),
            "stripping": draw(unit),
            "report_inflation": draw(st.floats(0, 0.5)),
        },
        "execution": {
            "capacity_mean": draw(st.floats(0.01, 5)),
            "capacity_sd": draw(st.floats(0, 1)),
            "risk_aversion_sd": draw(st.floats(0, 1)),
        },
        "accountability": {
            "inspection_rate": draw(st.floats(0, 5)),
            "onsite_share": draw(unit),
            "incident_visibility": draw(unit),
            "blame_shift": draw(unit),
            "ranking_fraction": draw(unit),
        },
        "learning": {"temperature": draw(st.floats(0, 2)), "forgetting": draw(unit)},
    }


@st.composite
def scenarios(draw) -> Scenario:
    """A valid scenario of at most a few hundred officials."""
    data = {
        "name": "property",
        "seed": draw(st.integers(0, 2**32)),
        "hierarchy": {"branching": draw(branching), "extra_principals": draw(st.integers(0, 2))},
        "parameters": draw(parameters()),
        "policies": draw(st.lists(st.sampled_from(sorted(REGISTRY)), unique=True, max_size=4)),
    }
    return Scenario.model_validate(data)
